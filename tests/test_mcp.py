"""The MCP server, run as a subprocess and driven by the `mcp` SDK's own client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, get_args

import anyio
import pytest
from conftest import clean_env
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from amber.mcp_server import MemoryTypeName
from amber.models import MEMORY_TYPES

SERVER = ["-m", "amber", "mcp"]
TOOLS = {
    "memory_auto",
    "memory_store",
    "memory_search",
    "memory_list",
    "memory_get",
    "memory_forget",
    "cache_store",
    "skill_route",
    "skill_get",
}
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

Client = ClientSession
Scenario = Callable[[ClientSession], Awaitable[None]]


def drive(tmp_path: Path, home: Path, scenario: Scenario) -> None:
    """Start the server over stdio in a git checkout named `shop` and run `scenario` on it."""
    checkout = tmp_path / "shop"
    (checkout / ".git").mkdir(parents=True, exist_ok=True)
    params = StdioServerParameters(
        command=sys.executable, args=SERVER, env=clean_env(home), cwd=str(checkout)
    )
    errlog = tmp_path / "server-stderr.log"

    async def main() -> None:
        with errlog.open("w") as err:
            async with (
                stdio_client(params, errlog=err) as (read, write),
                ClientSession(read, write, read_timeout_seconds=120) as client,
            ):
                init = await client.initialize()
                assert init.server_info.name == "amber"
                await scenario(client)

    try:
        anyio.run(main)
    except BaseException:
        print("server stderr:\n" + errlog.read_text())  # shown by pytest on failure
        raise


async def ok(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content[0].text
    doc = result.structured_content
    assert doc is not None and doc["schema"] == "amber/1"
    assert json.loads(result.content[0].text) == doc  # the text block carries the same JSON
    return doc


async def fails(client: Client, tool: str, args: dict[str, Any]) -> str:
    """The text of the error a bad call gets: an isError result or a protocol error."""
    try:
        result = await client.call_tool(tool, args)
    except MCPError as exc:
        return exc.error.message
    assert result.is_error, f"{tool}({args}) should have failed"
    return result.content[0].text


def test_memory_type_schema_matches_the_models() -> None:
    assert get_args(MemoryTypeName) == MEMORY_TYPES


def test_tools_are_listed_with_schemas_and_annotations(tmp_path: Path, home: Path) -> None:
    async def scenario(client: Client) -> None:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert set(listed) == TOOLS
        required = {
            "memory_auto": ["query"],
            "memory_store": ["content"],
            "memory_search": ["query"],
            "memory_forget": ["ids"],
            "cache_store": ["query", "response"],
            "skill_route": ["task"],
            "skill_get": ["name"],
        }
        for name, fields in required.items():
            tool = listed[name]
            assert sorted(tool.input_schema["required"]) == sorted(fields), name
            assert len(tool.description or "") > 80, name
            assert tool.output_schema and tool.output_schema["type"] == "object"
        store_props = listed["memory_store"].input_schema["properties"]
        assert store_props["type"]["enum"] == list(MEMORY_TYPES)
        assert store_props["type"]["default"] == "decision"
        assert listed["memory_auto"].input_schema["properties"]["top_k"]["maximum"] == 100
        for name in ("memory_auto", "memory_search", "skill_route", "skill_get"):
            assert listed[name].annotations.read_only_hint is True, name
        for name in ("memory_store", "cache_store"):
            hints = listed[name].annotations
            assert hints.read_only_hint is False and hints.destructive_hint is False, name
            assert hints.idempotent_hint is True, name
        forget = listed["memory_forget"].annotations
        assert forget.read_only_hint is False and forget.destructive_hint is True
        assert "before" in listed["memory_auto"].description.lower()
        assert "after" in listed["memory_store"].description.lower()

    drive(tmp_path, home, scenario)


def test_store_recall_search_cache_route_and_forget(tmp_path: Path, home: Path) -> None:
    async def scenario(client: Client) -> None:
        ids = []
        for content, tags in DECISIONS:
            doc = await ok(client, "memory_store", content=content, type="decision", tags=tags)
            assert doc["status"] == "stored" and doc["redactions"] == 0
            ids.append(doc["id"])
        again = await ok(client, "memory_store", content=DECISIONS[0][0], tags=["extra"])
        assert again == {**again, "status": "duplicate", "id": ids[0]}  # idempotent

        auto = await ok(
            client, "memory_auto", query="how big should the SQLAlchemy connection pool be"
        )
        assert auto["status"] == "memory_match" and auto["source"] == "memory"
        assert auto["cache_hit"] is False and auto["project"].startswith("shop#")
        top = auto["context_chunks"][0]
        assert top["id"] == ids[2] and top["content"] == DECISIONS[2][0]
        assert top["project"] == auto["project"] and top["tags"] == ["python-patterns", "database"]
        for field in ("skill", "degraded", "tokens", "timing_ms", "total_chunks", "search_type"):
            assert field in auto, field

        found = await ok(
            client,
            "memory_search",
            query="filesystem tests with the tmp_path fixture",
            tags=["Testing"],
            explain=True,
        )
        assert found["status"] == "ok" and [r["id"] for r in found["results"]] == [ids[1]]
        hit = found["results"][0]
        assert hit["dense"]["rank"] == 1 and hit["bm25"]["rank"] == 1
        assert hit["dense"]["score"] > 0 and found["fusion"]["method"]
        assert (await ok(client, "memory_search", query="pool", project="elsewhere"))[
            "results"
        ] == []

        stored = await ok(
            client,
            "cache_store",
            query="how do I enable two factor authentication in the admin",
            response="Settings > Security > Enable 2FA",
        )
        assert stored["status"] == "stored"
        cached = await ok(
            client, "memory_auto", query="How do I enable two-factor authentication in the admin?"
        )
        assert cached["cache_hit"] is True and cached["source"] == "cache"
        assert cached["cached_response"] == "Settings > Security > Enable 2FA"

        route = await ok(
            client, "skill_route", task="design a FastAPI service with background jobs"
        )
        assert route["skill"]["name"] == "python-patterns"
        assert route["context"].startswith("# Skill: python-patterns")
        assert ids[0] in [c["id"] for c in route["auto"]["context_chunks"]]

        skill = await ok(client, "skill_get", name="python-patterns")
        assert skill["name"] == "python-patterns" and "# Python Patterns" in skill["body"]
        assert "FastAPI" in skill["description"]

        gone = await ok(client, "memory_forget", ids=[ids[1]])
        assert gone == {**gone, "status": "forgotten", "count": 1, "ids": [ids[1]]}
        after = await ok(
            client, "memory_search", query="filesystem tests with the tmp_path fixture"
        )
        assert ids[1] not in [r["id"] for r in after["results"]]
        missing = json.loads(await fails(client, "memory_forget", {"ids": [ids[1]]}))
        assert missing["error"] == "not_found" and ids[1] in missing["message"]

    drive(tmp_path, home, scenario)


def test_malformed_calls_are_errors_and_the_server_keeps_serving(
    tmp_path: Path, home: Path
) -> None:
    async def scenario(client: Client) -> None:
        assert "query" in await fails(client, "memory_auto", {})
        assert "top_k" in await fails(client, "memory_auto", {"query": "x", "top_k": "many"})
        assert "top_k" in await fails(client, "memory_search", {"query": "x", "top_k": 0})
        bogus = await fails(client, "memory_store", {"content": "x", "type": "bogus"})
        assert all(name in bogus for name in MEMORY_TYPES), bogus
        assert "content" in await fails(client, "memory_store", {"content": ""})
        assert "tags" in await fails(client, "memory_store", {"content": "x", "tags": 42})
        blank = json.loads(await fails(client, "memory_store", {"content": "   \n "}))
        assert blank["error"] == "invalid_input" and blank["hint"]
        nul = json.loads(await fails(client, "memory_store", {"content": "a\x00b"}))
        assert "control characters" in nul["message"]
        unknown = json.loads(await fails(client, "skill_get", {"name": "no-such-skill"}))
        assert unknown["error"] == "not_found" and "python-patterns" in unknown["hint"]
        not_id = json.loads(await fails(client, "memory_forget", {"ids": ["not-an-id"]}))
        assert not_id["error"] == "invalid_input"
        assert "ids" in await fails(client, "memory_forget", {"ids": []})
        assert "memory_explode" in await fails(client, "memory_explode", {"query": "x"})

        # still serving: a normal store and search work after all of that
        doc = await ok(client, "memory_store", content=DECISIONS[2][0], tags=DECISIONS[2][1])
        assert doc["status"] == "stored"
        found = await ok(client, "memory_search", query="SQLAlchemy connection pool size")
        assert found["results"][0]["id"] == doc["id"]

    drive(tmp_path, home, scenario)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(proc: subprocess.Popen, port: int, errlog: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, errlog.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no listener on 127.0.0.1:{port}\n{errlog.read_text()}")


def test_http_transport_serves_on_loopback(tmp_path: Path, home: Path) -> None:
    port = _free_port()
    errlog = tmp_path / "server-stderr.log"
    with errlog.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, *SERVER, "--http", str(port)],
            env=clean_env(home),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )
    try:
        _wait_listening(proc, port, errlog)

        async def main() -> None:
            async with (
                streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write),
                ClientSession(read, write, read_timeout_seconds=60) as client,
            ):
                await client.initialize()
                assert {t.name for t in (await client.list_tools()).tools} == TOOLS
                skill = await ok(client, "skill_get", name="python-patterns")
                assert skill["name"] == "python-patterns"

        anyio.run(main)
        if sys.platform.startswith("linux"):  # all of 127/8 is local: only 127.0.0.1 is bound
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.2", port), timeout=2).close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = errlog.read_text()
    assert f"http://127.0.0.1:{port}/mcp" in log, log
    assert "Traceback" not in log, log


def test_cli_flags(cli) -> None:
    res = cli("mcp", "--host", "0.0.0.0")
    assert res.code == 2 and res.error["error"] == "invalid_input" and "--http" in res.error["hint"]
    assert cli("mcp", "--http", "0").code == 2
    assert cli("mcp", "--http", "many").code == 2


def test_a_port_already_taken_is_a_clear_error(cli) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        res = cli("mcp", "--http", str(port))
    assert res.code == 2 and res.error["error"] == "invalid_input", res.error
    assert f"127.0.0.1:{port}" in res.error["message"] and "--http PORT" in res.error["hint"]


def test_a_host_that_does_not_resolve_or_is_not_here_says_so(cli) -> None:
    unknown = cli("mcp", "--http", "18767", "--host", "nosuchhost.invalid", "--allow-remote")
    assert unknown.code == 2 and "does not resolve" in unknown.error["message"], unknown.error
    absent = cli("mcp", "--http", "18767", "--host", "192.0.2.1", "--allow-remote")
    assert absent.code == 2 and "not an address of this machine" in absent.error["hint"]
