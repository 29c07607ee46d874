"""Commands that keep data: export, import, reindex, knowledge-sync, bm25-sync."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from amber.cli import invocation
from amber.cli.options import Commands, JsonOpt, ProjectOpt, context, invoke, resolve
from amber.usecases.data import ExportIn, export_lines

commands = Commands()


@commands("export", example="amber export --output backup.jsonl")
def export(
    project: Annotated[
        str | None,
        typer.Option("--project", "-p", help="Only this project. Default: every memory."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (mode 0600), not stdout."),
    ] = None,
    redact_: Annotated[
        bool,
        typer.Option("--redact", help="Redact secrets, even those stored with --allow-secrets."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write every memory, history included, as JSON lines: a manifest line, then oldest first."""
    if output is not None:
        invoke("export", {"project": project, "output": str(output), "redact": redact_}, as_json)
        return
    from amber.inputs import parse

    inp = parse(ExportIn, {"project": project, "redact": redact_})
    for line in export_lines(context(), inp):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def spooled_stdin(home: Path) -> Iterator[Path]:
    """stdin copied into a private file under AMBER_HOME: import reads its input twice (check
    every line, then write)."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    spool = home / f".import-{os.getpid()}-{id(home):x}.jsonl"
    fd = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            call_of = invocation.current()
            stream = call_of.stdin if call_of.stdin is not None else sys.stdin.buffer
            shutil.copyfileobj(stream, handle)
        yield spool
    finally:
        spool.unlink(missing_ok=True)


@commands("import", example="amber import backup.jsonl")
def import_(
    source: Annotated[str, typer.Argument(help="A file written by `amber export`, or - (stdin).")],
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Keep secrets in the file verbatim, on purpose.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import an export, all or nothing: memories already stored are skipped, so importing
    twice is safe."""
    if source != "-":
        invoke("import", {"path": str(resolve(source)), "allow_secrets": allow_secrets}, as_json)
        return
    with spooled_stdin(invocation.current().settings().home) as path:
        invoke("import", {"path": str(path), "allow_secrets": allow_secrets}, as_json)


@commands("reindex", example="amber reindex --pending")
def reindex(
    pending: Annotated[
        bool, typer.Option("--pending", help="Embed memories stored while the embedder was down.")
    ] = False,
    embedder: Annotated[
        str | None,
        typer.Option(
            "--embedder",
            help="Move every memory to this embedder (builtin or ollama): a new collection, "
            "switched to only when complete.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Maintenance on the vectors: fill pending ones, or move to another embedder."""
    invoke("reindex", {"pending": pending, "embedder": embedder}, as_json)


@commands("knowledge-sync", example="amber knowledge-sync --dir docs/ --reset")
def knowledge_sync(
    dir_: Annotated[
        Path,
        typer.Option("--dir", help="A folder of Markdown and text files, read recursively."),
    ] = Path("knowledge"),
    project: ProjectOpt = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Also forget what came from files that are gone.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Keep a folder of documents as `knowledge` memories: chunked by section, unchanged
    chunks skipped (content hashes), edited ones superseded."""
    invoke(
        "knowledge-sync", {"dir": str(resolve(dir_)), "project": project, "reset": reset}, as_json
    )


@commands("bm25-sync", example="amber bm25-sync")
def bm25_sync(as_json: JsonOpt = False) -> None:
    """Kept for the replaced CLI: BM25 lives inside the store, so there is nothing to sync."""
    invoke("bm25-sync", {}, as_json)
