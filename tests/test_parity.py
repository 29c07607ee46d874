"""One use-case layer: the CLI and the MCP server answer the same call with the same document
(only rendering differs), good calls and bad ones alike; and no input, however malformed,
escapes the input models as anything but an InvalidInput."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import mcp_tools
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amber.dispatch import Gateway
from amber.errors import InvalidInput
from amber.inputs import parse
from amber.mcp_server import BY_NAME, Tools
from amber.settings import load_settings
from amber.usecases import OPERATIONS

POOL = "Database connection pool: SQLAlchemy pool_size=10 and max_overflow=20 for the workers"
JOBS = "We chose FastAPI with BackgroundTasks for sending emails; Celery was overkill here"

# (CLI argv, MCP tool, tool arguments): the same request through both front ends.
CALLS: list[tuple[list[str], str, dict[str, Any]]] = [
    (["store", "--content", POOL, "--tags", "python-patterns", "database"], "memory_store",
     {"content": POOL, "tags": "python-patterns database"}),
    (["store", "--content", JOBS, "--type", "decision", "--tags", "jobs,email"], "memory_store",
     {"content": JOBS, "type": "decision", "tags": ["jobs", "email"]}),
    (["store", "--content", POOL, "--tags", "extra"], "memory_store",
     {"content": POOL, "tags": ["extra"]}),
    (["auto", "--query", "how big should the SQLAlchemy connection pool be"], "memory_auto",
     {"query": "how big should the SQLAlchemy connection pool be"}),
    (["auto", "--query", "plan a wedding menu for eighty guests"], "memory_auto",
     {"query": "plan a wedding menu for eighty guests"}),
    (["retrieve", "--query", "connection pool", "--explain"], "memory_search",
     {"query": "connection pool", "explain": True}),
    (["retrieve", "--query", "emails", "--tags", "jobs", "--mode", "bm25"], "memory_search",
     {"query": "emails", "tags": "jobs", "mode": "bm25"}),
    (["list", "--limit", "5"], "memory_list", {"limit": 5}),
    (["cache-store", "--query", "how do we send emails", "--response", "BackgroundTasks"],
     "cache_store", {"query": "how do we send emails", "response": "BackgroundTasks"}),
    (["auto", "--query", "How do we send emails?"], "memory_auto",
     {"query": "How do we send emails?"}),
    (["route", "--task", "design a FastAPI service with background jobs"], "skill_route",
     {"task": "design a FastAPI service with background jobs"}),
    (["skills", "show", "python-patterns"], "skill_get", {"name": "python-patterns"}),
    (["skills", "show", "python-patterns", "--section", "fastapi"], "skill_get",
     {"name": "python-patterns", "section": "fastapi"}),
    # bad input: the rows of tests/test_bad_input.py that MCP can express
    (["store", "--content", ""], "memory_store", {"content": ""}),
    (["store", "--content", "   \n\t "], "memory_store", {"content": "   \n\t "}),
    (["store", "--content", "\u200b\u200d"], "memory_store", {"content": "\u200b\u200d"}),
    (["store", "--content", "x" * 70_000], "memory_store", {"content": "x" * 70_000}),
    (["store", "--content", "nul \x00 byte"], "memory_store", {"content": "nul \x00 byte"}),
    (["store", "--content", "fine", "--type", "bogus"], "memory_store",
     {"content": "fine", "type": "bogus"}),
    (["store", "--content", "fine", "--tags", *[f"t{i}" for i in range(100)]], "memory_store",
     {"content": "fine", "tags": [f"t{i}" for i in range(100)]}),
    (["store", "--content", "fine", "--tags", "x" * 200], "memory_store",
     {"content": "fine", "tags": ["x" * 200]}),
    (["store", "--content", "fine", "--tags", "a\x01b"], "memory_store",
     {"content": "fine", "tags": ["a\x01b"]}),
    (["store", "--content", "fine", "--tags", "ops\u200b"], "memory_store",
     {"content": "fine", "tags": ["ops\u200b"]}),
    (["store", "--content", "fine", "--agent", "bot\u202e"], "memory_store",
     {"content": "fine", "agent": "bot\u202e"}),
    (["store", "--content", "fine", "--expire-days", "-1"], "memory_store",
     {"content": "fine", "expire_days": -1}),
    (["store", "--content", "fine", "--expire-days", "inf"], "memory_store",
     {"content": "fine", "expire_days": float("inf")}),
    (["store", "--content", "fine", "--project", "a\nb"], "memory_store",
     {"content": "fine", "project": "a\nb"}),
    (["store", "--content", "fine", "--key", "k" * 500], "memory_store",
     {"content": "fine", "key": "k" * 500}),
    (["auto", "--query", ""], "memory_auto", {"query": ""}),
    (["auto", "--query", "ok", "--top-k", "0"], "memory_auto", {"query": "ok", "top_k": 0}),
    (["auto", "--query", "ok", "--type", "nope"], "memory_auto", {"query": "ok", "types": "nope"}),
    (["retrieve", "--query", "ok", "--mode", "psychic"], "memory_search",
     {"query": "ok", "mode": "psychic"}),
    (["retrieve", "--query", "ok", "--since", "2026-02-01", "--until", "2026-01-01"],
     "memory_search", {"query": "ok", "since": "2026-02-01", "until": "2026-01-01"}),
    (["cache-store", "--query", "", "--response", "r"], "cache_store",
     {"query": "", "response": "r"}),
    (["cache-store", "--query", "q", "--response", "r", "--ttl-days", "inf"], "cache_store",
     {"query": "q", "response": "r", "ttl_days": float("inf")}),
    (["get", "not-an-id"], "memory_get", {"id": "not-an-id"}),
    (["list", "--limit", "100000000000000000000"], "memory_list",
     {"limit": 100000000000000000000}),
    (["skills", "show", "no-such-skill"], "skill_get", {"name": "no-such-skill"}),
]  # fmt: skip

VOLATILE = {"timing_ms", "created_at", "timestamp", "log", "cutoff_date", "expires_at"}


def stable(value: Any) -> Any:
    """The document without what differs between two runs of the same call (times)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def cli_answer(cli, argv: list[str]) -> tuple[bool, dict]:
    res = cli(*argv)
    if res.stdout.strip():
        return False, res.doc
    return True, res.error  # an error is JSON on stderr (exit 1 for not found, 2, 3, 4)


def test_cli_and_mcp_answer_every_call_with_the_same_document(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = Path.cwd()  # the cli fixture's working folder
    cli_answers = [cli_answer(cli, argv) for argv, _tool, _args in CALLS]
    monkeypatch.setenv("AMBER_HOME", str(tmp_path / "mcp-home"))
    import os

    env = dict(os.environ)
    tools = Tools(Gateway(env, work, load_settings(env)), tmp_path / "mcp-home")
    for (argv, tool, args), (cli_error, cli_doc) in zip(CALLS, cli_answers, strict=True):
        result = tools.run(tool, args)
        mcp_doc = result.structured_content
        assert result.is_error == cli_error, (argv, cli_doc, mcp_doc)
        assert stable(mcp_doc) == stable(cli_doc), argv[:3]
        assert json.loads(result.content[0].text) == mcp_doc


def test_mcp_refuses_unknown_arguments_like_a_bad_flag(cli) -> None:
    result = mcp_tools().run("memory_store", {"content": "fine", "colour": "blue"})
    assert result.is_error and result.structured_content["error"] == "invalid_input"
    assert "colour" in result.structured_content["message"]
    assert cli("list").code == 1, "nothing was stored"


def test_mcp_refuses_a_time_range_that_ends_before_it_starts(cli) -> None:
    result = mcp_tools().run("memory_list", {"since": "2026-02-01", "until": "2026-01-01"})
    assert result.is_error and result.structured_content["error"] == "invalid_input"
    assert "not before until" in result.structured_content["message"]


def test_mcp_refuses_true_and_false_where_a_number_is_asked(cli) -> None:
    """JSON true is not 1: `top_k: true` was read as one memory. Numbers still pass, and so do
    digit strings some clients send."""
    tools = mcp_tools()
    for tool, args in [
        ("memory_auto", {"query": "x", "top_k": True}),
        ("memory_auto", {"query": "x", "budget_tokens": False, "threshold": True}),
        ("memory_search", {"query": "x", "threshold": False, "vector_weight": True}),
        ("memory_list", {"limit": True}),
        ("skill_route", {"task": "add a job queue", "budget_tokens": True}),
    ]:
        result = tools.run(tool, args)
        assert result.is_error, (tool, args)
        assert "must be a number, not" in result.structured_content["message"], (tool, args)
    assert cli("store", "--content", "Jobs run on arq with Redis").code == 0
    for top_k in (1, "1"):
        found = tools.run("memory_search", {"query": "jobs on arq", "top_k": top_k})
        assert not found.is_error and len(found.structured_content["results"]) == 1


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_arguments_are_accepted_or_refused_as_invalid_input(name: str, data) -> None:
    model = OPERATIONS[name].model
    fields = list(model.model_fields)
    keys = (
        data.draw(st.lists(st.sampled_from([*fields, "unknown_field"]), max_size=5))
        if fields
        else []
    )
    args = {key: data.draw(JSONISH) for key in keys}
    try:
        parse(model, args)
    except InvalidInput as exc:
        assert exc.message and exc.exit_code == 2


def test_every_tool_names_an_operation() -> None:
    assert all(spec.operation in OPERATIONS for spec in BY_NAME.values())
