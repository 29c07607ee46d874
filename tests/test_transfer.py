"""Keeping data: export, import, reindex into another embedder, forget --all.

Through the in-process CLI on the real engine and builtin embedder; the Ollama side is the
local stand-in server of tests/fake_ollama.py.
"""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path

import pytest
from fake_ollama import FakeOllama

from amber.compose import FreshRuntimes, Runtime
from amber.embedders.choice import choose_embedder
from amber.models import Memory
from amber.services import reindex as moving
from amber.services import transfer
from amber.settings import load_settings

SECRET = "password: hunter2-very-secret"


def ok(res) -> dict:
    assert res.code == 0, res.stderr
    return res.doc


def seed(cli) -> dict[str, str]:
    """A store with two projects, project-less memories, a supersede chain and an expired one."""
    ids = {}
    ids["old"] = ok(
        cli("store", "--content", "HTTP timeout is 30 s", "--key", "timeout", "-p", "api")
    )["id"]
    ids["new"] = ok(
        cli("store", "--content", "HTTP timeout is 10 s now", "--key", "timeout", "-p", "api")
    )["id"]
    ids["web"] = ok(
        cli(
            "store", "--content", "Use htmx for the admin pages", "--tags", "ui", "web", "-p", "web"
        )
    )["id"]
    ids["free"] = ok(
        cli("store", "--content", "Prefer ruff over flake8", "--type", "code", "--tags", "lint")
    )["id"]
    ids["brief"] = ok(
        cli("store", "--content", "Freeze deploys this week", "--expire-days", "0.0001")
    )["id"]
    return ids


def everything(cli) -> dict[str, dict]:
    res = cli("list", "--all-projects", "--history", "--limit", "1000")
    if res.code == 1:
        return {}
    return {m["id"]: m for m in ok(res)["memories"]}


def export_file(cli, path: Path, *extra: str) -> list[dict]:
    ok(cli("export", "--output", str(path), *extra))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def use_home(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("AMBER_HOME", str(path))


# -- export / import -----------------------------------------------------------------------------
def test_export_writes_manifest_then_every_memory_oldest_first(cli) -> None:
    ids = seed(cli)
    res = cli("export")
    assert res.code == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    manifest = lines[0]["manifest"]
    assert manifest["schema"] == "amber/1" and manifest["project"] is None
    assert manifest["embedder"] == ok(cli("health"))["embedder"]
    assert manifest["count"] == len(lines) - 1 == 5
    rows = lines[1:]
    assert {r["id"] for r in rows} == set(ids.values())  # superseded and expired ones too
    stamps = [r["created_ts"] for r in rows]
    assert stamps == sorted(stamps)
    fields = set(Memory.model_fields)
    assert all(set(r) == fields for r in rows)


def test_roundtrip_into_a_fresh_home(cli, tmp_path: Path, monkeypatch) -> None:
    ids = seed(cli)
    before = everything(cli)
    dump = tmp_path / "backup.jsonl"
    original = export_file(cli, dump)
    use_home(monkeypatch, tmp_path / "fresh")
    doc = ok(cli("import", str(dump)))
    assert doc["status"] == "imported"
    assert (doc["imported"], doc["skipped"], doc["pending_embedding"]) == (5, 0, 0)
    assert everything(cli) == before  # ids, contents, tags, types, states, keys, times
    shown = ok(cli("get", ids["new"]))
    assert [h["id"] for h in shown["history"]] == [ids["old"]]
    assert shown["history"][0]["state"] == "superseded"
    assert shown["history"][0]["superseded_by"] == ids["new"]
    again = export_file(cli, tmp_path / "again.jsonl")
    assert again[1:] == original[1:]
    found = ok(cli("retrieve", "--query", "admin pages with htmx", "--all-projects"))
    assert found["results"][0]["id"] == ids["web"]  # re-embedded: dense and BM25 both work
    hits = ok(cli("auto", "--query", "what is the HTTP timeout", "-p", "api"))["context_chunks"]
    assert ids["new"] in [c["id"] for c in hits] and ids["old"] not in [c["id"] for c in hits]


def test_import_twice_changes_nothing(cli, tmp_path: Path, monkeypatch) -> None:
    seed(cli)
    dump = tmp_path / "backup.jsonl"
    export_file(cli, dump)
    use_home(monkeypatch, tmp_path / "fresh")
    ok(cli("import", str(dump)))
    first = everything(cli)
    doc = ok(cli("import", str(dump)))
    assert (doc["imported"], doc["skipped"]) == (0, 5)
    assert everything(cli) == first
    doc = ok(cli("import", str(dump)))  # into the store it came from, too
    assert doc["skipped"] == 5


def test_import_from_stdin(cli, tmp_path: Path, monkeypatch) -> None:
    seed(cli)
    data = cli("export").stdout.encode("utf-8")
    use_home(monkeypatch, tmp_path / "fresh")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert ok(cli("import", "-"))["imported"] == 5
    assert len(everything(cli)) == 5
    assert not list((tmp_path / "fresh").glob(".import-*"))  # the spool file is gone


def _garble(lines: list[str], how: str) -> tuple[list[str], str]:
    """A broken copy of an export and the words the error must contain."""
    lines = list(lines)
    if how == "json":
        lines[2] = lines[2][:40]
        return lines, "line 3"
    if how == "field":
        row = json.loads(lines[3])
        row["type"] = "gossip"
        lines[3] = json.dumps(row)
        return lines, "line 4: type"
    if how == "id":
        row = json.loads(lines[2])
        row["id"] = "../../etc/passwd"
        lines[2] = json.dumps(row)
        return lines, "line 3: id"
    if how.startswith("time-"):
        row = json.loads(lines[2])
        if how == "time-escape":
            row["created_at"] = "\x1b[2J\x1b[31mhacked"
        elif how == "time-words":
            row["created_at"] = "last tuesday"
        elif how == "time-mismatch":
            row["created_ts"] -= 86_400 * 365
        elif how == "time-future":
            row["created_at"], row["created_ts"] = "9999-12-31T00:00:00+00:00", 253402214400.0
        else:
            row["expires_ts"] = row["created_ts"] - 60
        lines[2] = json.dumps(row)
        return lines, "line 3: "
    if how.startswith("history-"):
        rows = [json.loads(line) for line in lines[1:]]
        old = next(i for i, r in enumerate(rows) if r["state"] == "superseded")
        if how == "history-dangling":
            rows[old]["superseded_by"] = "00000000-0000-4000-8000-000000000999"
        else:  # its successor superseded by it: a loop
            new = next(i for i, r in enumerate(rows) if r["id"] == rows[old]["superseded_by"])
            rows[new] |= {"state": "superseded", "superseded_by": rows[old]["id"]}
        lines = [lines[0], *(json.dumps(r) for r in rows)]
        return lines, "not in the file" if how == "history-dangling" else "in a loop"
    if how == "no-manifest":
        return lines[1:], "line 1"
    if how == "manifest-garbled":
        lines[0] = "{manifest"
        return lines, "line 1"
    if how == "truncated":
        return lines[:-1], "promises 5 memories"
    if how == "repeated":
        return [*lines[:-1], lines[1]], "line 6: repeats memory"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        *("json", "field", "id", "no-manifest", "manifest-garbled", "truncated", "repeated"),
        *("time-escape", "time-words", "time-mismatch", "time-future", "time-expiry"),
        *("history-dangling", "history-loop"),
    ],
)
def test_bad_input_leaves_the_store_unchanged(cli, tmp_path: Path, monkeypatch, how) -> None:
    seed(cli)
    lines = cli("export").stdout.splitlines()
    broken, words = _garble(lines, how)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(broken) + "\n", encoding="utf-8")
    use_home(monkeypatch, tmp_path / "fresh")
    ok(cli("store", "--content", "already here before the import"))
    before = everything(cli)
    res = cli("import", str(bad))
    assert res.code == 2
    assert words in res.error["message"], res.error
    assert "\x1b" not in res.stdout + res.stderr  # a bad value is shown escaped
    assert "nothing was imported" in res.error["hint"]
    assert everything(cli) == before


def test_import_refuses_a_missing_or_empty_file(cli, tmp_path: Path) -> None:
    res = cli("import", str(tmp_path / "nope.jsonl"))
    assert res.code == 2 and "no file" in res.error["message"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    res = cli("import", str(empty))
    assert res.code == 2 and res.error["message"].startswith("line 1")


def test_export_project_filter(cli) -> None:
    ids = seed(cli)
    lines = [json.loads(line) for line in ok_out(cli("export", "--project", "api"))]
    assert lines[0]["manifest"]["project"] == "api"
    assert lines[0]["manifest"]["count"] == 2
    assert {r["id"] for r in lines[1:]} == {ids["old"], ids["new"]}
    lines = [json.loads(line) for line in ok_out(cli("export", "--project", ""))]
    assert {r["id"] for r in lines[1:]} == {ids["free"], ids["brief"]}  # project-less only


def ok_out(res) -> list[str]:
    assert res.code == 0, res.stderr
    return res.stdout.splitlines()


def test_export_output_file_is_private(cli, tmp_path: Path) -> None:
    seed(cli)
    target = tmp_path / "backup.jsonl"
    target.write_text("old contents", encoding="utf-8")
    target.chmod(0o644)
    doc = ok(cli("export", "--output", str(target)))
    assert doc == {"schema": "amber/1", "status": "exported", "count": 5, "path": str(target)}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_text(encoding="utf-8").splitlines()) == 6
    assert not target.with_name("backup.jsonl.partial").exists()
    res = cli("export", "--output", str(tmp_path))
    assert res.code == 2 and "folder" in res.error["message"]


def test_secrets_export_as_stored_unless_redact(cli, tmp_path: Path, monkeypatch) -> None:
    kept = ok(cli("store", "--content", f"db login {SECRET}", "--allow-secrets"))
    assert kept["redactions"] == 0
    plain = export_file(cli, tmp_path / "plain.jsonl")
    assert SECRET in plain[1]["content"]
    redacted = export_file(cli, tmp_path / "redacted.jsonl", "--redact")
    assert redacted[0]["manifest"]["redacted"] is True
    assert "hunter2" not in (tmp_path / "redacted.jsonl").read_text(encoding="utf-8")
    assert redacted[1]["redactions"] == 1 and redacted[1]["id"] == kept["id"]
    # importing redacts like `store` does, unless --allow-secrets says keep them on purpose
    use_home(monkeypatch, tmp_path / "redacting")
    doc = ok(cli("import", str(tmp_path / "plain.jsonl")))
    assert doc["redactions"] == 1
    assert "hunter2" not in ok(cli("get", kept["id"]))["memory"]["content"]
    use_home(monkeypatch, tmp_path / "verbatim")
    doc = ok(cli("import", str(tmp_path / "plain.jsonl"), "--allow-secrets"))
    assert doc["redactions"] == 0
    assert SECRET in ok(cli("get", kept["id"]))["memory"]["content"]


def test_export_pages_through_ties_oldest_first(cli, monkeypatch) -> None:
    """Paging by created_ts must neither lose nor repeat memories that share a timestamp."""
    ok(cli("store", "--content", "pins the store"))
    monkeypatch.setattr(transfer, "PAGE", 3)
    with FreshRuntimes().use(load_settings(), need_embedder=False) as rt:
        memory = rt.memory()
        made = []
        for index in range(11):
            stamp = 1000.0 + index // 4  # four memories per timestamp
            item = Memory(
                id=f"00000000-0000-4000-8000-{index:012d}",
                content=f"tied memory number {index}",
                created_at="1970-01-01T00:16:40+00:00",
                created_ts=stamp,
            )
            memory.write(item, [item.content], None)
            made.append((stamp, item.id))
        lines = [json.loads(line) for line in transfer.export_lines(memory, rt.identity)]
    rows = lines[1:]
    assert lines[0]["manifest"]["count"] == len(rows) == 12
    assert [(r["created_ts"], r["id"]) for r in rows[:11]] == sorted(made)


def test_import_with_the_embedder_down_keeps_memories_pending(
    cli, tmp_path: Path, monkeypatch
) -> None:
    seed(cli)
    dump = tmp_path / "backup.jsonl"
    export_file(cli, dump)
    with FakeOllama(models=["nomic-embed-text:latest"], dim=768) as fake:
        use_home(monkeypatch, tmp_path / "ollama-home")
        monkeypatch.setenv("AMBER_EMBEDDER", "ollama")
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        monkeypatch.setenv("AMBER_OLLAMA_TIMEOUT", "1")
        monkeypatch.setenv("AMBER_EMBED_BACKOFF", "0")  # the server comes back at once
        ok(cli("store", "--content", "pins the store to ollama"))
        fake.mode = "fail"
        doc = ok(cli("import", str(dump)))
        assert (doc["imported"], doc["pending_embedding"]) == (5, 5)
        assert doc["degraded"] and doc["degraded"][0]["signal"] == "dense"
        found = ok(cli("retrieve", "--query", "htmx admin pages", "--all-projects"))
        assert found["search_type"] == "bm25" and found["results"]  # BM25 still finds it
        fake.mode = "ok"
        assert ok(cli("reindex", "--pending"))["pending"] == 0


# -- forget --all --------------------------------------------------------------------------------
def test_forget_all_needs_yes(cli) -> None:
    seed(cli)
    res = cli("forget", "--all")
    assert res.code == 2 and "--yes" in res.error["message"]
    assert len(everything(cli)) == 5
    assert ok(cli("forget", "--all", "--yes"))["count"] == 5
    assert everything(cli) == {}


# -- reindex into another embedder ---------------------------------------------------------------
@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    with FakeOllama(models=["nomic-embed-text:latest"], dim=768) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        monkeypatch.setenv("AMBER_OLLAMA_TIMEOUT", "1")
        yield server


def reindex_service(target: str, **kwargs) -> dict:
    """The reindex service as the reindex operation calls it, with a progress meter."""
    settings = load_settings(embedder="auto")
    with FreshRuntimes().use(settings, need_embedder=False) as rt:
        embedder = choose_embedder(settings, target)

        def destination(identity, new):
            return Runtime(settings, rt.store, identity, new, None, rt.meta).memory(settings)

        return moving.reindex(
            rt.memory(settings), rt.store, rt.meta, rt.identity, embedder, destination, **kwargs
        )


def collections(home: Path) -> set[str]:
    return {p.name for p in (home / "edge" / "collections").iterdir()}


def test_reindex_switches_pin_and_keeps_every_memory(cli, fake, home, monkeypatch) -> None:
    ids = seed(cli)
    before = everything(cli)
    moved = []
    doc = reindex_service("ollama", meter=lambda total: moved.append)
    assert doc["status"] == "reindexed" and doc["memories"] == 5 and sum(moved) == 5
    assert doc["from"]["provider"] == "builtin" and doc["to"]["provider"] == "ollama"
    monkeypatch.setenv("AMBER_EMBEDDER", "auto")
    health = ok(cli("health"))
    assert health["embedder"]["provider"] == "ollama" and health["embedder"]["dim"] == 768
    assert health["counts"]["pending_embedding"] == 0
    assert everything(cli) == before
    assert collections(home) == {"memories-ollama-nomic-embed-text-768"}
    sent = {text for body in fake.bodies("/api/embed") for text in body["input"]}
    assert "search_document: Use htmx for the admin pages" in sent
    assert [h["id"] for h in ok(cli("get", ids["new"]))["history"]] == [ids["old"]]
    found = ok(cli("retrieve", "--query", "Use htmx for the admin pages", "--mode", "dense",
                   "--all-projects"))  # fmt: skip
    assert found["results"][0]["id"] == ids["web"]
    with pytest.raises(Exception, match="already pinned"):
        reindex_service("ollama")


def test_reindex_failing_midway_leaves_old_pin_and_memories(cli, fake, home, monkeypatch) -> None:
    seed(cli)
    before, pinned = everything(cli), ok(cli("health"))["embedder"]
    record = fake.record

    def fail_third_embed(entry) -> None:  # the probe, one batch, then the server breaks
        record(entry)
        if len(fake.bodies("/api/embed")) >= 3:
            fake.mode = "fail"

    monkeypatch.setattr(fake, "record", fail_third_embed)
    with pytest.raises(Exception, match="failed"):
        reindex_service("ollama", batch=2)
    assert ok(cli("health"))["embedder"] == pinned
    assert everything(cli) == before
    assert collections(home) == {"memories-builtin-all-minilm-l6-v2-int8-384"}
    hits = ok(cli("retrieve", "-q", "admin pages htmx", "--all-projects", "--explain"))["results"]
    assert hits and hits[0]["dense"]["rank"] is not None  # the old vectors still serve
    fake.mode = "ok"
    monkeypatch.setattr(fake, "record", record)
    assert reindex_service("ollama", batch=2)["memories"] == 5  # nothing left in the way


def test_reindex_refuses_unknown_and_same_embedder(cli) -> None:
    seed(cli)
    unknown = cli("reindex", "--embedder", "word2vec")
    assert unknown.code == 2 and "builtin" in unknown.error["message"]
    with pytest.raises(Exception, match="already pinned"):
        reindex_service("builtin")


def test_cli_reindex_to_ollama(cli, fake, home, monkeypatch) -> None:
    seed(cli)
    before = everything(cli)
    doc = ok(cli("reindex", "--embedder", "ollama"))
    assert doc["status"] == "reindexed" and doc["memories"] == 5
    monkeypatch.setenv("AMBER_EMBEDDER", "ollama")
    assert ok(cli("health"))["embedder"]["provider"] == "ollama"
    assert everything(cli) == before
    res = cli("reindex", "--embedder", "ollama")
    assert res.code == 2 and "already pinned" in res.error["message"]


def test_cli_reindex_to_a_missing_model_changes_nothing(cli, fake, home, monkeypatch) -> None:
    seed(cli)
    before, pinned = everything(cli), ok(cli("health"))["embedder"]
    monkeypatch.setenv("AMBER_OLLAMA_MODEL", "no-such-model")
    res = cli("reindex", "--embedder", "ollama")
    assert res.code == 3 and "no-such-model" in res.error["message"]
    assert ok(cli("health"))["embedder"] == pinned
    assert everything(cli) == before
    assert collections(home) == {"memories-builtin-all-minilm-l6-v2-int8-384"}


def test_import_is_all_or_nothing_when_a_write_fails(cli, tmp_path: Path, monkeypatch) -> None:
    """A line that passes every check can still fail to be written (a full disk, a killed
    engine): the memories this import already wrote are deleted again."""
    seed(cli)
    dump = tmp_path / "backup.jsonl"
    export_file(cli, dump)
    use_home(monkeypatch, tmp_path / "fresh-home")
    ok(cli("store", "--content", "was here before the import"))
    from amber.services.memory import MemoryService

    real, calls = MemoryService.write, []

    def failing(self, memory, chunks, vectors):
        calls.append(memory.id)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(self, memory, chunks, vectors)

    monkeypatch.setattr(MemoryService, "write", failing)
    res = cli("import", str(dump))
    assert res.code == 4 and "No space left" in res.error["message"]
    monkeypatch.setattr(MemoryService, "write", real)
    left = everything(cli)
    assert [m["content"] for m in left.values()] == ["was here before the import"]
    assert ok(cli("import", str(dump)))["imported"] == 5, "a retry imports everything"


def test_a_byte_order_mark_is_not_part_of_what_is_imported(
    cli, tmp_path: Path, monkeypatch
) -> None:
    """A file saved by a Windows editor begins with U+FEFF; it is not JSON."""
    seed(cli)
    dump = tmp_path / "backup.jsonl"
    export_file(cli, dump)
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + dump.read_bytes())
    use_home(monkeypatch, tmp_path / "fresh")
    assert ok(cli("import", str(marked)))["imported"] == 5
