"""CLI commands for keeping data: export, import, and reindex into another embedder."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from amber.cli.options import Commands, JsonOpt, cli_settings, finish
from amber.errors import InvalidInput


def _write_private(path: Path, lines: Iterable[str]) -> int:
    """Write lines to `path` (mode 0600) through a partial file renamed when complete; returns
    how many lines were written. A failed export leaves no half-written file behind."""
    if path.is_dir():
        raise InvalidInput(f"--output {path} is a folder", hint="give a file name")
    partial = path.with_name(path.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from exc
    written = 0
    try:
        os.fchmod(fd, 0o600)  # an old partial file may have had wider permissions
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
                written += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


commands = Commands()


@commands()
def export(
    project: Annotated[
        str | None,
        typer.Option("--project", "-p", help="Only this project (default: every memory)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (mode 0600), not stdout."),
    ] = None,
    redact_: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Redact secrets on the way out, even those stored with --allow-secrets.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write every memory, history included, as JSON lines: a manifest line, then oldest first."""
    from amber.compose import session
    from amber.services import transfer

    scope = project.strip() if project is not None else None
    with session(cli_settings(), need_embedder=False) as rt:
        lines = transfer.export_lines(rt.memory(), rt.identity, scope, redact_secrets=redact_)
        if output is None:
            for line in lines:
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
            return
        written = _write_private(output, lines)
    finish({"status": "exported", "count": written - 1, "path": str(output)}, as_json)


@contextmanager
def _source(name: str, home: Path) -> Iterator[Path]:
    """The file to import; stdin (-) is spooled into a private file under AMBER_HOME, because
    import reads its input twice (check every line, then write)."""
    if name != "-":
        path = Path(name)
        if not path.is_file():
            raise InvalidInput(f"no file {name}", hint="pass a file from `amber export`, or -")
        yield path
        return
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    spool = home / f".import-{os.getpid()}.jsonl"
    fd = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield spool
    finally:
        spool.unlink(missing_ok=True)


@commands("import")
def import_(
    source: Annotated[str, typer.Argument(help="A file written by `amber export`, or - (stdin).")],
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Keep secrets in the file verbatim, on purpose.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import an export: memories already in the store are skipped, so importing twice is safe."""
    from amber.cli.progress import Progress
    from amber.compose import session
    from amber.services import transfer

    settings = cli_settings()
    with _source(source, settings.home) as path:
        plan = transfer.check_import(path, settings.max_content_bytes)
        with session(settings) as rt:
            memory = rt.memory()
            advance = Progress("importing", plan.count, "memories").advance if plan.count else None
            doc = transfer.import_file(memory, plan, allow_secrets=allow_secrets, advance=advance)
            doc["degraded"] = memory.degraded
    finish(doc, as_json)


def reindex_to(name: str, as_json: bool) -> None:
    """`amber reindex --embedder NAME`: called by the `reindex` command in cli.py."""
    from amber.cli.progress import Progress
    from amber.compose import session
    from amber.services import transfer

    def meter(total: int) -> transfer.Advance:
        return Progress("reindexing", total, "memories").advance

    # AMBER_EMBEDDER may already name the target; the pinned store must still open.
    settings = cli_settings().model_copy(update={"embedder": "auto"})
    with session(settings, need_embedder=False) as rt:
        doc = transfer.reindex(rt, name.strip().lower(), meter=meter)
    finish(doc, as_json)
