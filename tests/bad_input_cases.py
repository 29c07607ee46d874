"""The bad-input matrix: command lines that must each end in exit 2 with a message saying what
is allowed, the store unchanged. Used by tests/test_bad_input.py and printed with its counts by
benchmarks/bad_input.py. Paths are relative to the folder the calls run in, which `prepare`
fills with the files some rows read."""

from __future__ import annotations

import json
from pathlib import Path

BAD = "caf\udce9"  # what Python makes of argv bytes that are not UTF-8 (surrogateescape)
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # shape of a GitHub token, not a real one

CASES: list[tuple[str, list[str], str]] = [
    # (kind, argv, a phrase the message or hint must contain)
    ("empty content", ["store", "--content", ""], "empty"),
    ("blank content", ["store", "--content", "   \n\t "], "empty"),
    ("invisible content", ["store", "--content", "\u200b\u200c\u2060\ufeff"], "invisible"),
    ("oversized content", ["store", "--content", "x" * 70_000], "over the limit"),
    ("NUL in content", ["store", "--content", "nul \x00 byte"], "control characters"),
    ("bell in content", ["store", "--content", "bell \x07"], "control characters"),
    ("colour codes in content", ["store", "--content", "\x1b[31mFAILED\x1b[0m test_x"],
     "NO_COLOR=1"),
    ("colour codes in a query", ["retrieve", "--query", "why \x1b[1mbold\x1b[0m"], "NO_COLOR=1"),
    ("unknown type", ["store", "--content", "fine", "--type", "bogus"], "allowed: decision"),
    ("two types", ["store", "--content", "fine", "--type", "decision,code"], "exactly one"),
    ("empty type", ["store", "--content", "fine", "--type", ""], "allowed: decision"),
    ("1000 tags", ["store", "--content", "fine", "--tags", *[f"t{i}" for i in range(1000)]],
     "limit is 64"),
    ("long tag", ["store", "--content", "fine", "--tags", "x" * 200], "limit is 64"),
    ("control tag", ["store", "--content", "fine", "--tags", "a\x01b"], "control"),
    ("zero-width tag", ["store", "--content", "fine", "--tags", "ok", "ops\u200b"],
     "tag 2 holds U+200B"),
    ("bidi override in an agent", ["store", "--content", "fine", "--agent", "bot\u202etxt"],
     "U+202E"),
    ("isolate in a key", ["store", "--content", "fine", "--key", "\u2066deploy\u2069"],
     "U+2066"),
    ("BOM in a project", ["store", "--content", "fine", "--project", "\ufeffshop"], "U+FEFF"),
    ("joiner in a search agent", ["retrieve", "--query", "ok", "--agent", "a\u200db"],
     "U+200D"),
    ("secret in a tag", ["store", "--content", "fine", "--tags", TOKEN], "credential"),
    ("secret in a project", ["store", "--content", "fine", "--project", TOKEN], "credential"),
    ("secret in a key", ["store", "--content", "fine", "--key", f"deploy-{TOKEN}"],
     "credential"),
    ("secret in an agent", ["store", "--content", "fine", "--agent", TOKEN], "credential"),
    ("long project", ["store", "--content", "fine", "--project", "p" * 100_000], "limit is 200"),
    ("long key", ["store", "--content", "fine", "--key", "k" * 100_000], "limit is 200"),
    ("long agent", ["store", "--content", "fine", "--agent", "a" * 100_000], "limit is 200"),
    ("newline in project", ["store", "--content", "fine", "--project", "a\nb"], "one line"),
    ("negative days", ["store", "--content", "fine", "--expire-days", "-1"], "days"),
    ("infinite days", ["store", "--content", "fine", "--expire-days", "inf"], "days"),
    ("huge days", ["store", "--content", "fine", "--expire-days", "1e306"], "days"),
    ("infinite TTL", ["cache-store", "--query", "q", "--response", "r", "--ttl-days", "inf"],
     "days"),
    ("no content", ["store"], "no content"),
    ("two contents", ["store", "--content", "a", "--content-file", "/nonexistent"], "not both"),
    ("missing file", ["store", "--content-file", "/nonexistent/file.txt"], "cannot read"),
    ("endless file", ["store", "--content-file", "/dev/zero"], "more than"),
    ("huge file", ["store", "--content-file", "big.txt"], "more than"),
    ("non-UTF-8 file", ["store", "--content-file", "latin1.txt"], "UTF-8"),
    ("non-UTF-8 content", ["store", "--content", f"{BAD} au lait"], "not valid text"),
    ("non-UTF-8 tag", ["store", "--content", "fine", "--tags", BAD], "not valid text"),
    ("non-UTF-8 project", ["store", "--content", "fine", "--project", BAD], "not valid text"),
    ("non-UTF-8 key", ["store", "--content", "fine", "--key", BAD], "not valid text"),
    ("non-UTF-8 agent", ["store", "--content", "fine", "--agent", BAD], "not valid text"),
    ("non-UTF-8 query", ["auto", "--query", f"{BAD} menu"], "not valid text"),
    ("non-UTF-8 search", ["retrieve", "--query", BAD], "not valid text"),
    ("non-UTF-8 cache query", ["cache-store", "--query", BAD, "--response", "r"],
     "not valid text"),
    ("non-UTF-8 task", ["route", "--task", BAD], "not valid text"),
    ("non-UTF-8 feedback", ["skills", "feedback", "--skill", "python-patterns", "--task", BAD,
     "--outcome", "success"], "not valid text"),
    ("empty query", ["auto", "--query", ""], "empty"),
    ("huge query", ["auto", "--query", "q" * 1_000_000], "over the limit"),
    ("top-k 0", ["auto", "--query", "ok", "--top-k", "0"], "top_k"),
    ("top-k huge", ["auto", "--query", "ok", "--top-k", "100000000000000000000"], "top_k"),
    ("unknown query type", ["auto", "--query", "ok", "--type", "nope"], "allowed: decision"),
    ("bad date", ["auto", "--query", "ok", "--since", "last blue moon"], "not a date"),
    ("since after until", ["list", "--since", "2026-02-01", "--until", "2026-01-01"],
     "swap the two"),
    ("ages since after until", ["auto", "--query", "ok", "--since", "1d", "--until", "2d"],
     "not before until"),
    ("since equal to until", ["retrieve", "--query", "ok", "--since", "2026-01-01T10:00",
     "--until", "2026-01-01T10:00"], "not before until"),
    ("both weights zero", ["retrieve", "--query", "ok", "--vector-weight", "0", "--text-weight",
     "0"], "ranks nothing"),
    ("the same age twice", ["list", "--since", "1h", "--until", "1h"], "not before until"),
    ("empty since", ["list", "--since", ""], "since is empty"),
    ("M for minutes or months", ["list", "--since", "1M"], "ambiguous: write 1mo"),
    ("unknown mode", ["retrieve", "--query", "ok", "--mode", "psychic"], "allowed: hybrid"),
    ("why-not a non-id", ["retrieve", "--query", "ok", "--why-not", "nonexistent-id"],
     "not a memory id"),
    ("empty cache query", ["cache-store", "--query", "", "--response", "r"], "empty"),
    ("empty response", ["cache-store", "--query", "q", "--response", ""], "empty"),
    ("not an id", ["get", "not-an-id"], "not a memory id"),
    ("forget nothing", ["forget"], "say what to forget"),
    ("forget all unasked", ["forget", "--all"], "--yes"),
    ("limit 0", ["list", "--limit", "0"], "limit"),
    ("limit huge", ["list", "--limit", "100000000000000000000"], "limit"),
    ("missing dataset", ["eval", "--dataset", "/nonexistent"], "/nonexistent"),
    ("bad outcome", ["skills", "feedback", "--skill", "python-patterns", "--task", "t",
     "--outcome", "?"], "success, failure"),
    ("reindex what", ["reindex"], "--pending"),
    ("reindex where", ["reindex", "--embedder", "word2vec"], "builtin"),
    ("import huge line", ["import", "huge-line.jsonl"], "bytes"),
    ("import infinite time", ["import", "infinite.jsonl"], "finite"),
    ("import 10000 tags", ["import", "many-tags.jsonl"], "limit is 64"),
    ("import missing", ["import", "nowhere.jsonl"], "no file"),
    ("import a device", ["import", "/dev/zero"], "not a regular file"),
    ("import a folder", ["import", "."], "not a regular file"),
    ("knowledge folder missing", ["knowledge-sync", "--dir", "no-such-folder"], "no folder"),
    ("unknown command", ["no-such-command"], "No such command"),
]  # fmt: skip

SETTINGS: list[tuple[str, str]] = [
    ("AMBER_BUDGET_TOKENS", "lots"),
    ("AMBER_LOCK_TIMEOUT", "-5"),
    ("AMBER_EMBEDDER", "gpt"),
    ("AMBER_FUSION", "vibes"),
    ("AMBER_DENSE_FLOOR", "2"),
    ("QDRANT_URL", "ftp://qdrant.internal:6333"),
    ("QDRANT_URL", "file:///var/lib/qdrant"),
    ("QDRANT_URL", "http://[::1"),
    ("QDRANT_URL", "::::"),
    ("OLLAMA_HOST", "gopher://ollama:11434"),
    ("OLLAMA_HOST", "http://localhost:port"),
    ("AMBER_DAEMON", "sometimes"),
]


def _memory_line(**changes: object) -> str:
    memory = {
        "id": "00000000-0000-4000-8000-000000000001",
        "content": "an imported memory",
        "type": "decision",
        "created_at": "2026-01-01T00:00:00+00:00",
        "created_ts": 1767225600.0,
    }
    memory.update(changes)
    return json.dumps(memory)


def prepare(folder: Path, max_bytes: int = 64_000) -> None:
    """The files the rows above read."""
    manifest = json.dumps({"manifest": {"schema": "amber/1", "count": 1}})
    (folder / "big.txt").write_text("y" * (max_bytes * 20))
    (folder / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    huge = _memory_line(content="z" * (max_bytes * 7))
    (folder / "huge-line.jsonl").write_text(f"{manifest}\n{huge}\n")
    # json.dumps writes an infinite float as Infinity; an exporter of another make wrote 1e999
    endless = _memory_line(expires_ts=1.0).replace(
        '"created_ts": 1767225600.0', '"created_ts": 1e999'
    )
    (folder / "infinite.jsonl").write_text(f"{manifest}\n{endless}\n")
    tags = _memory_line(tags=[f"t{i}" for i in range(10_000)])
    (folder / "many-tags.jsonl").write_text(f"{manifest}\n{tags}\n")
