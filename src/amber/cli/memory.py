"""Memory commands: auto, store, retrieve, cache-store, list, get, forget."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from amber.cli.options import (
    AgentOpt,
    Commands,
    JsonOpt,
    ProjectOpt,
    TagsOpt,
    TypeOpt,
    finish,
)
from amber.cli.options import (
    cli_settings as _settings,
)
from amber.cli.options import (
    project_scope as _project,
)
from amber.cli.options import (
    read_content as _read_content,
)
from amber.cli.options import (
    types as _types,
)
from amber.errors import InvalidInput
from amber.layout import validate_tags
from amber.models import MEMORY_TYPES, MemoryType
from amber.services import catalog
from amber.text import normalise_tags

commands = Commands()


@commands()
def auto(
    query: Annotated[str, typer.Option("--query", "-q", help="The task summary.")],
    project: ProjectOpt = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 5,
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1)] = None,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    agent: AgentOpt = None,
    exclude_agent: Annotated[
        str | None, typer.Option("--exclude-agent", help="Skip this agent's memories.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Before a task: a cached answer if one fits, else the memories that bear on it."""
    from amber.compose import session
    from amber.layout import Filters

    settings = _settings()
    scope = _project(project)
    filters = Filters(
        project=scope,
        types=_types(type_),
        tags=normalise_tags(tags),
        agent=agent,
        exclude_agent=exclude_agent,
    )
    with session(settings) as rt:
        doc = rt.auto(query, filters, top_k, budget_tokens, scope)
    finish(doc, as_json, found=doc["status"] != "no_match")


@commands()
def store(
    content: Annotated[
        str | None,
        typer.Option("--content", "-c", help="What was decided or solved; - reads stdin."),
    ] = None,
    content_file: Annotated[Path | None, typer.Option("--content-file")] = None,
    type_: Annotated[
        str, typer.Option("--type", help=f"One of: {', '.join(MEMORY_TYPES)}.")
    ] = "decision",
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    agent: AgentOpt = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Supersede the earlier memory with this key.")
    ] = None,
    expire_days: Annotated[float | None, typer.Option("--expire-days", min=0.0001)] = None,
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Store secrets verbatim, on purpose.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """After a task: keep what was decided, with tags, for every later agent."""
    from amber.compose import session
    from amber.services.context import PENDING_PER_CALL

    settings = _settings()
    types = _types([type_])
    if len(types) != 1:
        raise InvalidInput(
            "store takes exactly one --type", hint=f"one of: {', '.join(MEMORY_TYPES)}"
        )
    mtype = types[0]
    text = _read_content(content, content_file)
    with session(settings) as rt:
        memory = rt.memory()
        doc = memory.store_memory(
            text,
            MemoryType(mtype),
            validate_tags(normalise_tags(tags)),
            _project(project),
            agent=agent or settings.agent or "",
            key=(key or "").strip(),
            expire_days=expire_days,
            allow_secrets=allow_secrets,
        )
        doc["degraded"] = memory.degraded
        doc["filled_pending"] = catalog.fill_pending(memory, limit=PENDING_PER_CALL)
    finish(doc, as_json)


@commands()
def retrieve(
    query: Annotated[str, typer.Option("--query", "-q")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 5,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    all_projects: Annotated[bool, typer.Option("--all-projects")] = False,
    agent: AgentOpt = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or bm25.")] = "hybrid",
    explain: Annotated[
        bool, typer.Option("--explain", help="Show per-signal ranks and scores.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search memories (no cache), best first."""
    from amber.compose import session
    from amber.layout import Filters

    if mode not in ("hybrid", "dense", "bm25"):
        raise InvalidInput(f"unknown --mode {mode!r}; allowed: hybrid, dense, bm25")
    filters = Filters(
        project=None if all_projects else _project(project),
        types=_types(type_),
        tags=normalise_tags(tags),
        agent=agent,
    )
    with session(_settings()) as rt:
        memory = rt.memory()
        results = memory.search(query, filters, top_k, mode=mode)
        chunks = [r.chunk() for r in results]
        if not explain:
            for chunk in chunks:
                chunk.pop("dense"), chunk.pop("bm25")
        doc = {
            "status": "ok" if results else "no_match",
            "results": chunks,
            "total": len(chunks),
            "search_type": mode,
            "degraded": memory.degraded,
        }
        if explain:
            doc["fusion"] = {
                "method": memory.config.fusion,
                "depth": memory.config.fusion_depth,
                "k": memory.config.rrf_k,
                "weights": list(memory.config.weights),
            }
    finish(doc, as_json, found=bool(results))


@commands("cache-store")
def cache_store(
    query: Annotated[str, typer.Option("--query", "-q")],
    response: Annotated[str, typer.Option("--response", "-r", help="The answer; - reads stdin.")],
    project: ProjectOpt = None,
    ttl_days: Annotated[float | None, typer.Option("--ttl-days", min=0.0001)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Keep a reusable answer for a query (served by `auto` to queries with the same meaning)."""
    from amber.compose import session
    from amber.layout import MAX_QUERY_CHARS, validate_text

    settings = _settings()
    answer = _read_content(response, None)
    validate_text(query, "query", MAX_QUERY_CHARS)
    validate_text(answer, "response", settings.max_content_bytes)
    from amber.redact import redact

    cleaned, asked = redact(answer), redact(query)
    with session(settings) as rt:
        memory = rt.memory()
        doc = memory.cache.put(
            asked.text, cleaned.text, _project(project), memory.embed_query(asked.text), ttl_days
        )
        doc.update(
            status="stored", redactions=cleaned.count + asked.count, degraded=memory.degraded
        )
    finish(doc, as_json)


@commands("list")
def list_(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 20,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    all_projects: Annotated[bool, typer.Option("--all-projects")] = False,
    agent: AgentOpt = None,
    history: Annotated[
        bool, typer.Option("--history", help="Include superseded and expired memories.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List memories, newest first."""
    from amber.compose import session
    from amber.layout import Filters

    filters = Filters(
        project=None if all_projects else _project(project),
        types=_types(type_),
        tags=normalise_tags(tags),
        agent=agent,
        include_history=history,
    )
    with session(_settings(), need_embedder=False) as rt:
        memories = [m.public() for m in catalog.list_memories(rt.memory(), filters, limit)]
    finish({"memories": memories, "total": len(memories)}, as_json, found=bool(memories))


@commands()
def get(
    memory_id: Annotated[str, typer.Argument(help="The memory id.")], as_json: JsonOpt = False
) -> None:
    """Show one memory and the history it supersedes."""
    from amber.compose import session

    with session(_settings(), need_embedder=False) as rt:
        doc = catalog.get_memory(rt.memory(), memory_id.strip())
    finish(doc, as_json)


@commands()
def forget(
    ids: Annotated[list[str] | None, typer.Argument(help="Memory ids to delete.")] = None,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    project: Annotated[str | None, typer.Option("--project", "-p")] = None,
    agent: AgentOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Every memory in the store.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete memories by id or by filter (asks first unless --yes)."""
    from amber.compose import session
    from amber.layout import Filters

    has_filter = bool(type_ or tags or project is not None or agent)
    if not ids and not has_filter and not all_:
        raise InvalidInput(
            "say what to forget: ids, a filter (--type/--tags/--project/--agent) or --all"
        )
    with session(_settings(), need_embedder=False) as rt:
        memory = rt.memory()
        targets = list(ids or [])
        if has_filter or all_:
            filters = Filters(
                project=project,
                include_projectless=False,
                types=_types(type_),
                tags=normalise_tags(tags),
                agent=agent,
                include_history=True,
            )
            targets += catalog.matching_ids(memory, filters)
        for target in ids or []:
            catalog.get_memory(
                memory, target
            )  # unknown ids are reported before anything is deleted
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput(
                    f"this would forget {len(targets)} memories; pass --yes to confirm"
                )
            typer.confirm(f"Forget {len(targets)} memories?", abort=True)
        count = catalog.forget_memories(memory, sorted(set(targets)))
    finish({"status": "forgotten", "count": count}, as_json, found=count > 0)
