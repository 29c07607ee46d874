"""The agent-contract command lines (DESIGN.md §1), run verbatim from another folder."""

from __future__ import annotations

DECISIONS = [
    (
        "We chose FastAPI with BackgroundTasks for sending emails; Celery was overkill here",
        ["python-patterns", "fastapi", "background-jobs"],
    ),
    (
        "Tests that touch the filesystem use the pytest tmp_path fixture instead of tempfile",
        ["python-patterns", "testing"],
    ),
    (
        "Database connection pool: SQLAlchemy pool_size=10 and max_overflow=20 for the API workers",
        ["python-patterns", "database"],
    ),
]


def test_store_three_then_auto_finds_the_right_one(agent) -> None:
    ids = []
    for content, tags in DECISIONS:
        res = agent("store", "--content", content, "--type", "decision", "--tags", *tags)
        assert res.code == 0, res.stderr
        assert res.doc["status"] == "stored"
        ids.append(res.doc["id"])
    res = agent("auto", "--query", "how big should the SQLAlchemy connection pool be")
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["status"] == "memory_match" and doc["source"] == "memory"
    assert doc["context_chunks"][0]["id"] == ids[2]
    for field in (
        "cache_hit",
        "cached_response",
        "cache_score",
        "context_chunks",
        "total_chunks",
        "search_type",
        "schema",
        "status",
        "skill",
        "degraded",
        "tokens",
        "timing_ms",
    ):
        assert field in doc, field
    chunk = doc["context_chunks"][0]
    for field in (
        "id",
        "content",
        "type",
        "tags",
        "project",
        "created_at",
        "score",
        "dense",
        "bm25",
    ):
        assert field in chunk, field
    assert chunk["tags"] == ["python-patterns", "database"]
    assert chunk["dense"]["rank"] == 1


def test_unrelated_query_is_no_match_exit_1(agent) -> None:
    for content, tags in DECISIONS:
        assert agent("store", "--content", content, "--type", "decision", "--tags", *tags).code == 0
    res = agent("auto", "--query", "plan a wedding menu for eighty guests")
    assert res.code == 1
    assert res.doc["status"] == "no_match" and res.doc["context_chunks"] == []


def test_bogus_type_exits_2_naming_allowed_types(agent) -> None:
    res = agent("store", "--content", "x", "--type", "bogus", "--tags", "a")
    assert res.code == 2
    err = res.error
    assert err["error"] == "invalid_input"
    for allowed in ("decision", "code", "error", "conversation", "technical", "knowledge"):
        assert allowed in err["message"]
    assert "Traceback" not in res.stderr


def test_content_from_stdin_and_usage_errors_are_json(agent) -> None:
    res = agent(
        "store",
        "--content",
        "-",
        "--type",
        "code",
        "--tags",
        "stdin",
        stdin=b"def handler(): return 42  # stored from stdin",
    )
    assert res.code == 0 and res.doc["status"] == "stored"
    res = agent("auto")
    assert res.code == 2
    assert res.error["error"] == "usage"
    res = agent("store", "--content", "-", stdin=b"\xff\xfe broken")
    assert res.code == 2 and "UTF-8" in res.error["message"]
