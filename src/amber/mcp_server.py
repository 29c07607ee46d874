"""MCP server: amber's operations as MCP tools, over stdio or streamable HTTP.

Each tool is an operation of the use-case layer: its input schema is the operation's input
model, its arguments are validated by that model (unknown arguments refused), its result is the
document the CLI prints for the same call, and its errors are the CLI's JSON errors. Calls go
to the store's daemon when one serves it (amber.dispatch), so `amber mcp` and the agents' CLI
calls share one owner of the store.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp.server.lowlevel import Server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    TextContent,
    Tool,
    ToolAnnotations,
)
from pydantic import Field

from amber import __version__
from amber.crashlog import internal_error
from amber.dispatch import Gateway
from amber.errors import AmberError, InvalidInput
from amber.inputs import (
    AutoIn,
    CacheStoreIn,
    GetIn,
    Input,
    ListIn,
    MemoryTypeName,
    RetrieveIn,
    RouteIn,
    StoreIn,
)
from amber.usecases.routing import SkillShowIn

log = logging.getLogger("amber.mcp")

INSTRUCTIONS = (
    "amber is the shared memory of every agent working on this code. Before a task, call "
    "memory_auto with a one-line summary of it: reuse its cached_response when cache_hit is "
    "true, read its context_chunks (what earlier agents decided), and if it names a skill, "
    "read it with skill_get. After the task, call memory_store with what was decided or "
    "solved and why, typed and tagged, so the next agent does not redo it."
)


class ForgetIdsIn(Input):
    """MCP clients forget by id only: no filters, no `all`."""

    ids: list[str] = Field(min_length=1, max_length=1000, description="Ids from results.")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    operation: str
    model: type[Input]
    title: str
    read_only: bool
    destructive: bool
    description: str
    withheld: tuple[str, ...] = ()  # the operation's fields a model may not set


# A model must not be able to store a secret verbatim for every later agent to read: keeping
# one on purpose is for a person at the CLI (`store --allow-secrets`).
PEOPLE_ONLY = ("allow_secrets",)


TOOLS = [
    ToolSpec(
        "memory_auto",
        "auto",
        AutoIn,
        "Recall before a task",
        True,
        False,
        "Call this FIRST, before starting any task: it returns a cached answer to the same "
        "question when one exists (cache_hit, cached_response), otherwise the memories earlier "
        "agents stored that bear on the task (context_chunks, best first), and the skill the "
        "task belongs to (skill; read it with skill_get). status is cache_hit, memory_match or "
        "no_match.",
    ),
    ToolSpec(
        "memory_store",
        "store",
        StoreIn,
        "Remember a decision",
        False,
        False,
        "Call this AFTER finishing a task: keep what was decided or solved, and why (with tags "
        "such as the skill used and the topic) so every later agent finds it with memory_auto. "
        "Storing the same content again is harmless (status duplicate, tags merged); a key "
        "supersedes the earlier memory with that key. Secrets are redacted first.",
        PEOPLE_ONLY,
    ),
    ToolSpec(
        "memory_search",
        "retrieve",
        RetrieveIn,
        "Search memories",
        True,
        False,
        "Search stored memories (no cache, no skill), best first; with explain, each result "
        "carries its rank and score per signal (dense, bm25). Use it to look something up by "
        "topic or tag, or to find the id of a memory to forget; before a task, prefer "
        "memory_auto.",
    ),
    ToolSpec(
        "memory_list",
        "list",
        ListIn,
        "List memories",
        True,
        False,
        "List memories, newest first, filtered by project, type, tags, agent or time.",
    ),
    ToolSpec(
        "memory_get",
        "get",
        GetIn,
        "Read one memory",
        True,
        False,
        "One memory by id, with the history of earlier memories it superseded.",
    ),
    ToolSpec(
        "memory_forget",
        "forget",
        ForgetIdsIn,
        "Forget memories",
        False,
        True,
        "Permanently delete memories by id, e.g. a decision that turned out wrong or a memory "
        "that leaked something private. Every id is checked first: if one is unknown nothing "
        "is deleted. To replace a decision rather than delete it, store the new one with the "
        "same key instead.",
    ),
    ToolSpec(
        "cache_store",
        "cache-store",
        CacheStoreIn,
        "Cache an answer",
        False,
        False,
        "Keep a reusable answer to a question: memory_auto then returns it (cache_hit) for "
        "questions with the same meaning. Guards refuse near misses (negation, other numbers, "
        "names or quoted strings), and storing a related memory invalidates it.",
    ),
    ToolSpec(
        "skill_route",
        "route",
        RouteIn,
        "Route a task to a skill",
        True,
        False,
        "Pick the skill a task belongs to (with confidence and alternatives; name null when "
        "none fits) and assemble the context to work from: the parts of the skill that bear on "
        "the task plus what earlier agents decided, within a token budget.",
    ),
    ToolSpec(
        "skill_get",
        "skills-show",
        SkillShowIn,
        "Read a skill",
        True,
        False,
        "Read a skill's instructions (Markdown) and front matter, or one section of it. Call it "
        "with the skill memory_auto or skill_route named.",
    ),
]
BY_NAME = {spec.name: spec for spec in TOOLS}


# Every tool answers with the document the CLI prints for the same call: `schema` first.
OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"schema": {"type": "string"}},
    "additionalProperties": True,
}


def _schema(spec: ToolSpec) -> dict[str, Any]:
    schema = spec.model.model_json_schema()
    for name in spec.withheld:
        schema.get("properties", {}).pop(name, None)
    return schema


def _tool(spec: ToolSpec) -> Tool:
    return Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=_schema(spec),
        output_schema=OUTPUT_SCHEMA,
        annotations=ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )


def _result(doc: dict[str, Any], error: bool) -> CallToolResult:
    text = json.dumps(doc, ensure_ascii=False, default=str)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=doc, is_error=error
    )


class Tools:
    """Runs tool calls through the gateway, one at a time when they run in this process."""

    def __init__(self, gateway: Gateway, home: Path) -> None:
        self.gateway, self.home = gateway, home
        self._local = threading.Lock()

    def run(self, name: str, arguments: dict[str, Any] | None) -> CallToolResult:
        spec = BY_NAME.get(name)
        if spec is None:
            error = {"error": "invalid_input", "message": f"unknown tool {name!r}"}
            error["hint"] = f"one of: {', '.join(BY_NAME)}"
            return _result(error, True)
        try:
            from amber.inputs import parse

            args = dict(arguments or {})
            for name in spec.withheld:
                if name in args:
                    raise InvalidInput(
                        f"{name} is not offered to MCP clients",
                        hint="secrets are redacted for every later agent; a person can keep "
                        "one verbatim with `amber store --allow-secrets`",
                    )
            parse(spec.model, args, 1 << 62)  # unknown or malformed arguments: refused here
            with self._local:
                return _result(self.gateway.call(spec.operation, args), False)
        except AmberError as exc:
            return _result(exc.to_dict(), True)
        except Exception:  # noqa: BLE001 - keep serving: log it, report it as a tool error
            return _result(internal_error(self.home, f"mcp tool {name}"), True)


def build_server(tools: Tools) -> Server[Any]:
    async def list_tools(_ctx: Any, _params: Any) -> ListToolsResult:
        return ListToolsResult(tools=[_tool(spec) for spec in TOOLS])

    async def call_tool(_ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        return await anyio.to_thread.run_sync(tools.run, params.name, params.arguments)

    return Server(
        "amber",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


__all__ = ["TOOLS", "MemoryTypeName", "Tools", "build_server"]
