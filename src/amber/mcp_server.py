"""MCP server: amber's memory, cache and skill tools for agents, over stdio or streamable HTTP."""

from __future__ import annotations

import functools
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from amber import SCHEMA_VERSION, __version__
from amber.compose import Runtime, session
from amber.crashlog import append_traceback
from amber.errors import AmberError
from amber.layout import MAX_QUERY_CHARS, Filters
from amber.models import MemoryType
from amber.project import git_project
from amber.services import catalog
from amber.services.context import PENDING_PER_CALL
from amber.settings import Settings
from amber.text import normalise_tags

log = logging.getLogger("amber.mcp")

DEFAULT_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# The JSON-schema types of the tool arguments (MCP clients show these to the model).
MemoryTypeName = Literal["decision", "code", "error", "conversation", "technical", "knowledge"]
Text = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
Project = Annotated[
    str | None,
    Field(
        description="Project scope. Omit for the git repository the server runs in; "
        '"" means memories shared by every project.'
    ),
]
TopK = Annotated[int, Field(ge=1, le=100, description="How many memories at most.")]
Tags = Annotated[
    list[str] | None,
    Field(description='Tags, e.g. ["python-patterns", "fastapi"]; trimmed and lower-cased.'),
]

INSTRUCTIONS = (
    "amber is the shared memory of every agent working on this code. Before a task, call "
    "memory_auto with a one-line summary of it: reuse its cached_response when cache_hit is "
    "true, read its context_chunks (what earlier agents decided), and if it names a skill, "
    "read it with skill_get. After the task, call memory_store with what was decided or "
    "solved and why, typed and tagged, so the next agent does not redo it."
)


def _doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The document the CLI prints for the same command."""
    return {"schema": SCHEMA_VERSION, **doc}


def _error_result(payload: dict[str, Any]) -> CallToolResult:
    text = json.dumps(payload, ensure_ascii=False)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=payload, is_error=True
    )


def _log_crash(home: Path) -> Path | None:
    """Append the traceback to the log file in the data folder; the caller never sees it."""
    try:
        return append_traceback(home, "mcp tool error")
    except OSError:
        log.exception("could not write %s/amber.log", home)
        return None


class AmberTools:
    """The services behind the tools: one store session per call, one call at a time.

    The embedded store admits one process at a time; opening it per call (and not holding it
    between calls) lets the agents' own CLI calls in other processes take turns with us.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    @contextmanager
    def runtime(self, need_embedder: bool = True) -> Iterator[Runtime]:
        with self._lock, session(self.settings, need_embedder) as rt:
            yield rt

    def guarded(self, fn: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
        """Turn amber's errors into tool errors (isError) carrying the message and the fix."""

        @functools.wraps(fn)
        def call(**kwargs: Any) -> Any:
            try:
                return _doc(fn(**kwargs))
            except AmberError as exc:
                return _error_result(exc.to_dict())
            except Exception as exc:  # noqa: BLE001 - keep serving: log it, report it as a tool error
                path = _log_crash(self.settings.home)
                return _error_result(
                    {
                        "error": "internal_error",
                        "message": f"{type(exc).__name__}: {exc}",
                        "log": str(path) if path else None,
                    }
                )

        return call


def _scope(project: str | None) -> str:
    return project.strip() if project is not None else git_project(Path.cwd())


def build_server(settings: Settings, log_level: str = "WARNING") -> MCPServer:
    """The MCP server with amber's seven tools, each calling the services the CLI calls."""
    tools = AmberTools(settings)
    server: MCPServer = MCPServer(
        "amber", version=__version__, instructions=INSTRUCTIONS, log_level=log_level
    )

    def tool(title: str, read_only: bool, destructive: bool, idempotent: bool) -> Callable:
        hints = ToolAnnotations(
            title=title,
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=idempotent,
            open_world_hint=False,
        )

        def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            described = " ".join((fn.__doc__ or "").split())  # one paragraph, no indentation
            server.add_tool(
                tools.guarded(fn), title=title, description=described, annotations=hints
            )
            return fn

        return register

    @tool("Recall before a task", read_only=True, destructive=False, idempotent=True)
    def memory_auto(
        query: Annotated[Text, Field(description="A one-line summary of the task at hand.")],
        project: Project = None,
        top_k: TopK = 5,
        budget_tokens: Annotated[
            int | None, Field(ge=1, description="Token budget for the memories (default 2000).")
        ] = None,
        exclude_agent: Annotated[
            str | None, Field(description="Skip memories stored by this agent (e.g. yourself).")
        ] = None,
    ) -> dict[str, Any]:
        """Call this FIRST, before starting any task: it returns a cached answer to the same
        question when one exists (cache_hit, cached_response), otherwise the memories earlier
        agents stored that bear on the task (context_chunks, best first), and the skill the task
        belongs to (skill; read it with skill_get). status is cache_hit, memory_match or
        no_match."""
        scope = _scope(project)
        filters = Filters(project=scope, exclude_agent=exclude_agent or None)
        with tools.runtime() as rt:
            doc = rt.auto(query, filters, top_k, budget_tokens, scope)
        return doc

    @tool("Remember a decision", read_only=False, destructive=False, idempotent=True)
    def memory_store(
        content: Annotated[
            str,
            Field(
                min_length=1,
                description="What was decided or solved, and why, in a few sentences. "
                "Secrets are redacted before anything is written.",
            ),
        ],
        type: Annotated[MemoryTypeName, Field(description="Kind of memory.")] = "decision",
        tags: Tags = None,
        project: Project = None,
        key: Annotated[
            str | None,
            Field(
                description="A stable name for this decision; storing under the same key "
                "again supersedes the earlier memory (kept as history)."
            ),
        ] = None,
        expire_days: Annotated[
            float | None, Field(gt=0, description="Forget it after this many days.")
        ] = None,
        agent: Annotated[str | None, Field(description="Your agent name, recorded.")] = None,
    ) -> dict[str, Any]:
        """Call this AFTER finishing a task: keep what was decided or solved (with tags such as
        the skill used and the topic) so every later agent finds it with memory_auto. Storing
        the same content again is harmless (status duplicate, tags merged); the result names
        near duplicates and the earlier memory a key supersedes."""
        with tools.runtime() as rt:
            memory = rt.memory()
            doc = memory.store_memory(
                content,
                MemoryType(type),
                normalise_tags(tags),
                _scope(project),
                agent=agent or settings.agent or "",
                key=(key or "").strip(),
                expire_days=expire_days,
            )
            doc["degraded"] = memory.degraded
            doc["filled_pending"] = catalog.fill_pending(memory, limit=PENDING_PER_CALL)
        return doc

    @tool("Search memories", read_only=True, destructive=False, idempotent=True)
    def memory_search(
        query: Annotated[Text, Field(description="What to look for.")],
        top_k: TopK = 5,
        type: Annotated[MemoryTypeName | None, Field(description="Only this kind.")] = None,
        tags: Tags = None,
        project: Project = None,
        all_projects: Annotated[bool, Field(description="Search every project.")] = False,
        mode: Annotated[
            Literal["hybrid", "dense", "bm25"], Field(description="Which signals rank.")
        ] = "hybrid",
    ) -> dict[str, Any]:
        """Search stored memories (no cache, no skill), best first, with per-signal ranks and
        scores (dense, bm25) explaining each result. Use it to look something up by topic or
        tag, or to find the id of a memory to forget; before a task, prefer memory_auto."""
        filters = Filters(
            project=None if all_projects else _scope(project),
            types=[type] if type else [],
            tags=normalise_tags(tags),
        )
        with tools.runtime() as rt:
            memory = rt.memory()
            results = memory.search(query, filters, top_k, mode=mode)
            cfg = memory.config
            return {
                "status": "ok" if results else "no_match",
                "results": [r.chunk() for r in results],
                "total": len(results),
                "search_type": mode,
                "degraded": memory.degraded,
                "fusion": {
                    "method": cfg.fusion,
                    "depth": cfg.fusion_depth,
                    "k": cfg.rrf_k,
                    "weights": list(cfg.weights),
                },
            }

    @tool("Forget memories", read_only=False, destructive=True, idempotent=True)
    def memory_forget(
        ids: Annotated[
            list[str],
            Field(min_length=1, description="Ids of the memories to delete (from results)."),
        ],
    ) -> dict[str, Any]:
        """Permanently delete memories by id, e.g. a decision that turned out wrong or a memory
        that leaked something private. Every id is checked first: if one is unknown nothing is
        deleted. To replace a decision rather than delete it, store the new one with the same
        key instead."""
        targets = sorted({i.strip() for i in ids})
        with tools.runtime(need_embedder=False) as rt:
            memory = rt.memory()
            for target in targets:
                catalog.get_memory(memory, target)
            count = catalog.forget_memories(memory, targets)
        return {"status": "forgotten", "count": count, "ids": targets}

    @tool("Cache an answer", read_only=False, destructive=False, idempotent=True)
    def cache_store(
        query: Annotated[Text, Field(description="The question, as an agent would ask it.")],
        response: Annotated[str, Field(min_length=1, description="The answer to reuse.")],
        project: Project = None,
        ttl_days: Annotated[
            float | None, Field(gt=0, description="Keep it this many days (default 7).")
        ] = None,
    ) -> dict[str, Any]:
        """Keep a reusable answer to a question: memory_auto then returns it (cache_hit) for
        questions with the same meaning. Guards refuse near misses (negation, other numbers,
        names or quoted strings), and storing a related memory invalidates it."""
        from amber.layout import validate_text
        from amber.redact import redact

        validate_text(query, "query", MAX_QUERY_CHARS)
        validate_text(response, "response", settings.max_content_bytes)
        cleaned, asked = redact(response), redact(query)
        with tools.runtime() as rt:
            memory = rt.memory()
            vector = memory.embed_query(asked.text)
            doc = memory.cache.put(asked.text, cleaned.text, _scope(project), vector, ttl_days)
            doc.update(
                status="stored", redactions=cleaned.count + asked.count, degraded=memory.degraded
            )
        return doc

    @tool("Route a task to a skill", read_only=True, destructive=False, idempotent=True)
    def skill_route(
        task: Annotated[Text, Field(description="What you are about to do.")],
        project: Project = None,
        top_k: TopK = 5,
        budget_tokens: Annotated[
            int, Field(ge=1, description="Tokens for the whole assembled context.")
        ] = 8000,
    ) -> dict[str, Any]:
        """Pick the skill a task belongs to (with confidence and alternatives; name null when
        none fits) and assemble the context to work from: the skill's instructions plus what
        earlier agents decided (context), within a token budget. Use it to start a task in one
        call; memory_auto is lighter when you only need the memories."""
        scope = _scope(project)
        with tools.runtime() as rt:
            doc = rt.route(task, scope, top_k, budget_tokens)
        return doc

    @tool("Read a skill", read_only=True, destructive=False, idempotent=True)
    def skill_get(
        name: Annotated[
            str, Field(min_length=1, description='Skill name, e.g. "python-patterns".')
        ],
    ) -> dict[str, Any]:
        """Read a skill's instructions (body, Markdown) and front matter. Call it with the skill
        memory_auto or skill_route named, and follow the instructions for the task."""
        from amber.skills import SkillRegistry, default_skill_dirs

        registry = SkillRegistry.load(default_skill_dirs(None, settings.skills_path))
        return registry.get(name.strip()).document()

    return server


def serve(settings: Settings, port: int | None = None, host: str = DEFAULT_HOST) -> None:
    """Serve until the client hangs up (stdio) or the process is stopped (HTTP).

    stdio: stdout carries only the protocol; logs go to stderr. HTTP: streamable HTTP at
    http://HOST:PORT/mcp, loopback only unless another host is given.
    """
    if port is None:
        build_server(settings).run("stdio")
        return
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"amber MCP server: streamable HTTP at http://{shown}:{port}/mcp\n")
    if host not in LOOPBACK:
        sys.stderr.write(
            f"warning: {host} is reachable from other machines and the server has no "
            "authentication: anyone who reaches it can read and change the memories\n"
        )
    build_server(settings, log_level="INFO").run("streamable-http", host=host, port=port)


if __name__ == "__main__":  # `python -m amber.mcp_server [--http PORT] [--host HOST]`
    import amber.cli.mcp  # noqa: F401 - registers `amber mcp`
    from amber.cli import run

    sys.exit(run(["mcp", *sys.argv[1:]]))
