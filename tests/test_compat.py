"""The replaced CLI's command lines (../shared/reference/replaced-cli.md), each one verbatim:
it works as that CLI documents, with the output keys hooks written for it read. README's
compatibility table lists the same rows."""

from __future__ import annotations

from pathlib import Path

import pytest

ROWS: list[tuple[str, list[str], list[str]]] = [
    ("auto", ["auto", "--query", "which queue runs background jobs"], ["source", "cache_hit",
     "cached_response", "cache_score", "context_chunks", "total_chunks",
     "tokens_saved_estimate", "search_type"]),
    ("auto --project", ["auto", "--query", "background jobs queue", "--project", "myapp"],
     ["context_chunks"]),
    ("auto --wing --room", ["auto", "--query", "background jobs queue", "--project", "myapp",
     "--wing", "backend", "--room", "jobs"], ["context_chunks"]),
    ("auto --threshold", ["auto", "--query", "background jobs queue", "--project", "myapp",
     "--threshold", "0.9"], ["cache_score"]),
    ("auto weights", ["auto", "--query", "background jobs queue", "--project", "myapp",
     "--vector-weight", "0.7", "--text-weight", "0.3"], ["context_chunks"]),
    ("store", ["store", "--content", "Chose arq on Redis for background jobs in myapp",
     "--type", "decision", "--tags", "python-patterns", "jobs"],
     ["status", "point_id", "type", "token_count", "bm25_indexed"]),
    ("store --project --tags", ["store", "--content", "Use pytest-xdist for the slow suite",
     "--type", "technical", "--project", "myapp", "--tags", "relevant-tag1", "relevant-tag2"],
     ["point_id"]),
    ("store --expire-days", ["store", "--content", "The staging database is down this week",
     "--type", "error", "--expire-days", "7"], ["point_id"]),
    ("store --wing --room", ["store", "--content", "Jobs retry three times with backoff",
     "--type", "decision", "--project", "myapp", "--wing", "backend", "--room", "jobs"],
     ["point_id"]),
    ("store --compress-aaak", ["store", "--content", "Logs go to journald, not files",
     "--type", "technical", "--compress-aaak"], ["point_id", "notes"]),
    ("store --resolve-contradictions", ["store", "--content", "Chose arq on Redis for "
     "background jobs, not Celery", "--type", "decision", "--resolve-contradictions"],
     ["point_id", "notes", "near_duplicates"]),
    ("retrieve --top-k", ["retrieve", "--query", "background jobs", "--top-k", "5"],
     ["chunks", "total_chunks", "total_tokens_estimate", "query", "search_type"]),
    ("retrieve --type --threshold --project", ["retrieve", "--type", "knowledge", "--top-k",
     "3", "--threshold", "0.45", "--project", "myapp", "--query", "deploy checklist"],
     ["chunks", "total_chunks"]),
    ("retrieve weights", ["retrieve", "--query", "background jobs", "--vector-weight", "0.7",
     "--text-weight", "0.3"], ["chunks"]),
    ("cache-store", ["cache-store", "--query", "how do we run background jobs", "--response",
     "arq on Redis"], ["status", "point_id", "token_count"]),
    ("cache-store --model", ["cache-store", "--query", "which python version", "--response",
     "3.11", "--model", "agent"], ["status", "point_id"]),
    ("list", ["list"], ["memories", "count", "has_more"]),
    ("list --type --project --limit", ["list", "--type", "decision", "--project", "myapp",
     "--limit", "20"], ["memories", "count", "has_more"]),
    ("health", ["health"], ["qdrant", "embeddings", "collections", "missing_collections",
     "bm25", "ready"]),
    ("cache-clear", ["cache-clear"], ["status", "older_than_days", "cutoff_date"]),
    ("cache-clear --older-than", ["cache-clear", "--older-than", "7"],
     ["status", "older_than_days", "cutoff_date"]),
    ("bm25-sync", ["bm25-sync"], ["status", "indexed", "skipped", "errors", "total"]),
    ("knowledge-sync", ["knowledge-sync", "--project", "myapp"],
     ["status", "synced", "files", "errors", "message"]),
    ("knowledge-sync --dir --reset", ["knowledge-sync", "--project", "myapp", "--dir",
     "docs", "--reset"], ["status", "synced", "files", "errors", "message"]),
]  # fmt: skip


@pytest.fixture
def project(cli, tmp_path: Path):
    """The in-process CLI in a project with a knowledge/ and a docs/ folder and some memories."""
    work = tmp_path / "work"
    (work / "knowledge").mkdir()
    (work / "knowledge" / "deploy.md").write_text(
        "# Deploy checklist\n\nRun migrations first.\n\n## Rollback\n\nKeep the last image.\n"
    )
    (work / "docs").mkdir()
    (work / "docs" / "notes.txt").write_text("Background jobs run on arq workers.\n")
    for content, project in (
        ("Background jobs run on arq with Redis as the queue", "myapp"),
        ("The background jobs queue is arq, tagged for the jobs room", "myapp"),
    ):
        args = ["store", "--content", content, "--type", "decision", "--project", project]
        assert cli(*args, "--wing", "backend", "--room", "jobs").code == 0
    return cli


@pytest.mark.parametrize(("row", "argv", "keys"), ROWS, ids=[r[0] for r in ROWS])
def test_every_command_line_of_the_replaced_cli(project, row, argv, keys) -> None:
    res = project(*argv)
    assert res.code in (0, 1), (row, res.code, res.stderr)
    doc = res.doc
    for key in keys:
        assert key in doc, (row, key, sorted(doc))
    if row.startswith(("auto --wing", "auto --project")):
        assert doc["context_chunks"], "the scoped memories are found"
    if row == "health":
        assert doc["ready"] is True


def test_knowledge_sync_is_idempotent_and_reset_forgets_gone_files(project, tmp_path: Path) -> None:
    first = project("knowledge-sync", "--project", "myapp").doc
    assert first["files"] == 1 and first["synced"] == 2
    again = project("knowledge-sync", "--project", "myapp").doc
    assert again["synced"] == 0 and again["unchanged"] == 2
    deploy = tmp_path / "work" / "knowledge" / "deploy.md"
    deploy.write_text("# Deploy checklist\n\nRun migrations first, then warm the cache.\n")
    edited = project("knowledge-sync", "--project", "myapp").doc
    assert (edited["synced"], edited["removed"]) == (1, 1), "the rollback chunk is gone"
    found = project("retrieve", "--query", "warm the cache after migrations", "--project", "myapp")
    assert "warm the cache" in found.doc["chunks"][0]["content"]
    deploy.unlink()
    kept = project("knowledge-sync", "--project", "myapp").doc
    assert kept["removed"] == 0, "without --reset a gone file's memories stay"
    reset = project("knowledge-sync", "--project", "myapp", "--reset").doc
    assert reset["removed"] == 1
    left = project("list", "--project", "myapp", "--limit", "100").doc["memories"]
    assert [m for m in left if m["type"] == "knowledge"] == [], "no earlier version comes back"


def test_cache_clear_older_than_keeps_fresh_entries(project) -> None:
    assert project("cache-store", "--query", "how are jobs run", "--response", "arq").code == 0
    kept = project("cache-clear", "--older-than", "7").doc
    assert kept["count"] == 0 and kept["cutoff_date"]
    cleared = project("cache-clear").doc
    assert cleared["count"] == 1
    assert project("auto", "--query", "how are jobs run").doc["cache_hit"] is False


def test_wing_and_room_scope_the_search(project) -> None:
    inside = project("retrieve", "--query", "arq queue", "--project", "myapp", "--room", "jobs")
    outside = project("retrieve", "--query", "arq queue", "--project", "myapp", "--room", "web")
    assert inside.doc["total_chunks"] == 2 and outside.code == 1


def test_knowledge_sync_reads_a_file_that_begins_with_a_byte_order_mark(project, tmp_path) -> None:
    notes = tmp_path / "work" / "knowledge" / "windows.md"
    notes.write_bytes("\ufeff# Windows notes\n\nLine endings are LF in the repo.\n".encode())
    assert project("knowledge-sync", "--project", "myapp").doc["errors"] == []
    found = project("retrieve", "--query", "line endings in the repo", "--project", "myapp").doc
    assert found["chunks"][0]["content"].startswith("windows.md\n\n# Windows notes")
