"""The amber command line: parse, call services, render JSON or text, map errors to exit codes."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.exceptions import TyperException

from amber import SCHEMA_VERSION, catalog
from amber.crashlog import append_traceback
from amber.errors import AmberError, InvalidInput
from amber.models import MEMORY_TYPES, MemoryType
from amber.project import git_project
from amber.render import emit, emit_error
from amber.schema import validate_tags
from amber.settings import Settings, load_settings
from amber.text import normalise_tags

app = typer.Typer(
    name="amber",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Local-first memory for AI coding agents. Before a task: `amber auto --query ...`; "
    "after it: `amber store --content ... --type decision --tags ...`.\n\n"
    "Exit codes: 0 answered, 1 nothing found, 2 invalid input, 3 backend unavailable, "
    "4 internal error.",
)

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document even on a terminal.")
]
ProjectOpt = Annotated[
    str | None,
    typer.Option("--project", "-p", help="Project scope (default: the enclosing git repository)."),
]
TagsOpt = Annotated[
    list[str] | None,
    typer.Option("--tags", "-t", help="Tags: space- or comma-separated, or repeat the flag."),
]
TypeOpt = Annotated[
    list[str] | None, typer.Option("--type", help=f"Memory type: {', '.join(MEMORY_TYPES)}.")
]
AgentOpt = Annotated[
    str | None, typer.Option("--agent", help="Agent name recorded or filtered (env AMBER_AGENT).")
]


def _settings() -> Settings:
    return load_settings()


def _project(explicit: str | None) -> str:
    return explicit.strip() if explicit is not None else git_project(Path.cwd())


def _types(values: list[str] | None) -> list[str]:
    out = []
    for raw in values or []:
        for value in raw.split(","):
            value = value.strip().lower()
            if value not in MEMORY_TYPES:
                raise InvalidInput(f"unknown --type {value!r}; allowed: {', '.join(MEMORY_TYPES)}")
            out.append(value)
    return out


def _read_content(content: str | None, content_file: Path | None) -> str:
    if content is not None and content_file is not None:
        raise InvalidInput("give --content or --content-file, not both")
    if content_file is not None:
        try:
            raw = content_file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {content_file}: {exc.strerror}") from exc
        return _decode(raw, str(content_file))
    if content is None:
        raise InvalidInput("no content: pass --content TEXT, --content - (stdin) or --content-file")
    if content == "-":
        return _decode(sys.stdin.buffer.read(), "stdin")
    return content


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where} is not valid UTF-8 (byte {exc.start})", hint="convert the text to UTF-8 first"
        ) from exc


def _finish(doc: dict[str, Any], as_json: bool, found: bool = True) -> None:
    emit({"schema": SCHEMA_VERSION, **doc}, as_json)
    if not found:
        raise typer.Exit(1)


@app.command()
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
    from amber.schema import Filters

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
    _finish(doc, as_json, found=doc["status"] != "no_match")


@app.command()
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
    from amber.bundle import PENDING_PER_CALL
    from amber.compose import session

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
    _finish(doc, as_json)


@app.command()
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
    from amber.schema import Filters

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
    _finish(doc, as_json, found=bool(results))


@app.command("cache-store")
def cache_store(
    query: Annotated[str, typer.Option("--query", "-q")],
    response: Annotated[str, typer.Option("--response", "-r", help="The answer; - reads stdin.")],
    project: ProjectOpt = None,
    ttl_days: Annotated[float | None, typer.Option("--ttl-days", min=0.0001)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Keep a reusable answer for a query (served by `auto` to queries with the same meaning)."""
    from amber.compose import session
    from amber.schema import MAX_QUERY_CHARS, validate_text

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
    _finish(doc, as_json)


@app.command("list")
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
    from amber.schema import Filters

    filters = Filters(
        project=None if all_projects else _project(project),
        types=_types(type_),
        tags=normalise_tags(tags),
        agent=agent,
        include_history=history,
    )
    with session(_settings(), need_embedder=False) as rt:
        memories = [m.public() for m in catalog.list_memories(rt.memory(), filters, limit)]
    _finish({"memories": memories, "total": len(memories)}, as_json, found=bool(memories))


@app.command()
def get(
    memory_id: Annotated[str, typer.Argument(help="The memory id.")], as_json: JsonOpt = False
) -> None:
    """Show one memory and the history it supersedes."""
    from amber.compose import session

    with session(_settings(), need_embedder=False) as rt:
        doc = catalog.get_memory(rt.memory(), memory_id.strip())
    _finish(doc, as_json)


@app.command()
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
    from amber.schema import Filters

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
    _finish({"status": "forgotten", "count": count}, as_json, found=count > 0)


_NARGS_OPTIONS = {"--tags", "-t"}


def expand_nargs(argv: list[str]) -> list[str]:
    """`--tags a b c` (argparse nargs="+") becomes `--tags a --tags b --tags c` for click."""
    out: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        out.append(token)
        index += 1
        if token in _NARGS_OPTIONS:
            first = True
            while index < len(argv) and (first or not argv[index].startswith("-")):
                if not first:
                    out.append(token)
                out.append(argv[index])
                index += 1
                first = False
    return out


def _log_crash() -> Path | None:
    """Write the traceback to the log file in the data folder; never show it to the caller."""
    try:
        home = load_settings().home
    except AmberError:
        return None
    return append_traceback(home, "internal error")


@functools.cache
def _click_command() -> Any:
    """The click command tree; typer rebuilds it from every signature on each call (about 30
    ms), which the daemon would pay on every forwarded call."""
    return typer.main.get_command(app)


def run(argv: list[str]) -> int:
    """Run the CLI on argv and return the exit code (the daemon and tests call this too)."""
    os.umask(0o077)  # everything amber (and the embedded engine) writes is private: 0600 / 0700
    command = _click_command()
    try:
        result = command.main(args=expand_nargs(argv), prog_name="amber", standalone_mode=False)
    except AmberError as exc:
        emit_error(exc.to_dict())
        return exc.exit_code
    except typer.Abort:
        emit_error({"error": "aborted", "message": "nothing was changed"})
        return 2
    except TyperException as exc:
        emit_error(
            {
                "error": "usage",
                "message": exc.format_message(),
                "hint": "see `amber --help` or `amber COMMAND --help`",
            }
        )
        return 2
    except KeyboardInterrupt:
        emit_error({"error": "interrupted", "message": "stopped by the user"})
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: log, report, exit 4
        path = _log_crash()
        emit_error(
            {
                "error": "internal_error",
                "message": f"{type(exc).__name__}: {exc}",
                "log": str(path) if path else None,
            }
        )
        return 4
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


# Command groups that live in their own modules register themselves on `app`.
import amber.cli_admin  # noqa: E402, F401
import amber.cli_data  # noqa: E402, F401
import amber.cli_mcp  # noqa: E402, F401
import amber.cli_run  # noqa: E402, F401
import amber.cli_skills  # noqa: E402, F401
