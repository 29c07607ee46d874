"""Memory commands: auto, store, retrieve, cache-store, cache-clear, list, get, forget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amber.cli import invocation
from amber.cli.options import (
    AgentOpt,
    AllProjectsOpt,
    Commands,
    JsonOpt,
    ProjectOpt,
    RoomOpt,
    SinceOpt,
    TagsOpt,
    TextWeightOpt,
    TopKOpt,
    TypeOpt,
    UntilOpt,
    VectorWeightOpt,
    WingOpt,
    clean,
    context,
    invoke,
    locals_of,
    read_content,
)
from amber.errors import InvalidInput
from amber.models import MEMORY_TYPES
from amber.usecases import call

commands = Commands()

QueryOpt = Annotated[str, typer.Option("--query", "-q", help="The task summary or question.")]


@commands("auto", example='amber auto --query "add background jobs to the FastAPI service"')
def auto(
    query: QueryOpt,
    project: ProjectOpt = None,
    top_k: TopKOpt = 5,
    budget_tokens: Annotated[
        int | None,
        typer.Option("--budget-tokens", help="Tokens for the memories. Default: 2000."),
    ] = None,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    agent: AgentOpt = None,
    exclude_agent: Annotated[
        str | None, typer.Option("--exclude-agent", help="Skip this agent's memories.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Cache similarity a hit needs. Default: 0.92."),
    ] = None,
    vector_weight: VectorWeightOpt = None,
    text_weight: TextWeightOpt = None,
    wing: WingOpt = None,
    room: RoomOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Before a task: a cached answer if one fits, else the memories that bear on it, and the
    skill the task belongs to. Exit 0 answered, 1 nothing found."""
    invoke("auto", {**locals_of(locals()), "types": type_}, as_json)


@commands(
    "store",
    example='amber store --content "Use arq on Redis for jobs" --type decision '
    "--tags python-patterns jobs",
)
def store(
    content: Annotated[
        str | None,
        typer.Option("--content", "-c", help="What was decided or solved; - reads stdin."),
    ] = None,
    content_file: Annotated[
        Path | None, typer.Option("--content-file", help="Read the content from this file.")
    ] = None,
    type_: Annotated[
        str, typer.Option("--type", help=f"One of: {', '.join(MEMORY_TYPES)}.")
    ] = "decision",
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    agent: AgentOpt = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="A stable name: storing it again supersedes the earlier one."),
    ] = None,
    expire_days: Annotated[
        float | None, typer.Option("--expire-days", help="Forget it after this many days.")
    ] = None,
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Store secrets verbatim, on purpose.")
    ] = False,
    wing: WingOpt = None,
    room: RoomOpt = None,
    resolve_contradictions: Annotated[
        bool,
        typer.Option(
            "--resolve-contradictions", help="Replaced CLI's flag: report close memories."
        ),
    ] = False,
    compress_aaak: Annotated[
        bool, typer.Option("--compress-aaak", help="Replaced CLI's flag; amber keeps full text.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """After a task: keep what was decided, typed and tagged, for every later agent."""
    text = read_content(content, content_file)
    args = locals_of(locals(), drop=("content_file", "text"))
    invoke("store", {**args, "content": text, "type": type_}, as_json)


@commands("retrieve", example='amber retrieve --query "connection pool size" --explain')
def retrieve(
    query: QueryOpt,
    top_k: TopKOpt = 5,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    all_projects: AllProjectsOpt = False,
    agent: AgentOpt = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or bm25.")] = "hybrid",
    explain: Annotated[
        bool, typer.Option("--explain", help="Show each signal's rank and score.")
    ] = False,
    why_not: Annotated[
        str | None, typer.Option("--why-not", help="Say what kept this memory id out.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Dense similarity a match needs. Default: 0.40."),
    ] = None,
    budget_tokens: Annotated[
        int | None,
        typer.Option(
            "--budget-tokens",
            help="Keep the results within this many tokens, long ones as excerpts (as auto "
            "does). Default: no limit.",
        ),
    ] = None,
    vector_weight: VectorWeightOpt = None,
    text_weight: TextWeightOpt = None,
    wing: WingOpt = None,
    room: RoomOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search memories (no cache), best first; --explain shows why each ranked where it did."""
    invoke("retrieve", {**locals_of(locals()), "types": type_}, as_json)


@commands(
    "cache-store",
    example='amber cache-store --query "how do we run jobs" --response "arq on Redis"',
)
def cache_store(
    query: QueryOpt,
    response: Annotated[str, typer.Option("--response", "-r", help="The answer; - reads stdin.")],
    project: ProjectOpt = None,
    ttl_days: Annotated[
        float | None, typer.Option("--ttl-days", help="Keep it this long. Default: 7.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Who answered (recorded).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Keep a reusable answer: `auto` serves it to later queries with the same meaning."""
    answer = read_content(response, None, "response")
    invoke("cache-store", {**locals_of(locals(), drop=("answer",)), "response": answer}, as_json)


@commands("cache-clear", example="amber cache-clear --older-than 7")
def cache_clear(
    older_than: Annotated[
        float | None,
        typer.Option("--older-than", metavar="DAYS", help="Only entries older than this."),
    ] = None,
    project: ProjectOpt = None,
    all_projects: AllProjectsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Drop cached answers of this project (memories are untouched)."""
    args = locals_of(locals(), drop=("older_than",))
    invoke("cache-clear", {**args, "older_than_days": older_than}, as_json)


@commands("list", example="amber list --type decision --limit 10")
def list_(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many at most.")] = 20,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    all_projects: AllProjectsOpt = False,
    agent: AgentOpt = None,
    history: Annotated[
        bool, typer.Option("--history", help="Include superseded and expired memories.")
    ] = False,
    wing: WingOpt = None,
    room: RoomOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List memories, newest first."""
    invoke("list", {**locals_of(locals()), "types": type_}, as_json)


@commands("get", example="amber get 3f2b9c1a-…")
def get(
    memory_id: Annotated[str, typer.Argument(help="The memory id.")], as_json: JsonOpt = False
) -> None:
    """Show one memory and the history it supersedes."""
    invoke("get", {"id": memory_id}, as_json)


@commands("forget", example="amber forget --tags old-topic --yes")
def forget(
    ids: Annotated[list[str] | None, typer.Argument(help="Memory ids to delete.")] = None,
    type_: TypeOpt = None,
    tags: TagsOpt = None,
    project: ProjectOpt = None,
    agent: AgentOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Every memory in the store.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete memories by id or by filter (asks first unless --yes)."""
    args = {
        "ids": ids or [],
        "types": type_,
        "tags": tags,
        "project": project,
        "agent": agent,
        "all": all_,
    }
    if not yes:
        planned = call(context(), "forget", {**clean(args), "dry_run": True})
        count = planned["count"]
        what = f"{count} {'memory' if count == 1 else 'memories'}"
        if not invocation.current().stdin_is_tty():
            raise InvalidInput(f"this would forget {what}; pass --yes to confirm")
        typer.confirm(f"Forget {what}?", abort=True)
    invoke("forget", args, as_json)
