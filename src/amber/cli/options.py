"""What the command modules share: the option types, the command registry, reading content,
and `invoke`: one operation of the use-case layer, rendered, its exit code raised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from amber import text as textops
from amber.checks import AGES
from amber.cli import invocation
from amber.cli.progress import Progress
from amber.cli.render import emit
from amber.errors import InvalidInput
from amber.models import MEMORY_TYPES
from amber.settings import Settings
from amber.usecases import Context, call, exit_code

Command = Callable[..., Any]


class Commands:
    """The commands one module defines; the CLI package adds every module's to its app in one
    place (`amber.cli`), so no command module imports the app back."""

    def __init__(self) -> None:
        self.entries: list[tuple[str | None, str, Command]] = []

    def __call__(self, name: str | None = None, example: str = "") -> Callable[[Command], Command]:
        def register(fn: Command) -> Command:
            self.entries.append((name, example, fn))
            return fn

        return register

    def attach(self, app: typer.Typer) -> None:
        for name, example, fn in self.entries:
            epilog = f"Example:  {example}" if example else None
            app.command(name, epilog=epilog)(fn)


def context() -> Context:
    """The use-case context of this invocation: settings, folder, runtimes, progress."""
    call_of = invocation.current()
    return Context(call_of.settings(), call_of.cwd, call_of.runtimes, progress_bar)


def cli_settings() -> Settings:
    return invocation.current().settings()


def progress_bar(label: str, total: int, unit: str) -> Callable[[int], None]:
    return Progress(label, total, unit).advance


def invoke(name: str, args: dict[str, Any], as_json: bool, view: str | None = None) -> None:
    """Run an operation with the arguments the options gave (None: not given), print its
    document, and exit with what it means (0 answered, 1 nothing found, ...)."""
    doc = call(context(), name, clean(args))
    emit(doc, as_json, view or name)
    code = exit_code(name, doc)
    if code:
        raise typer.Exit(code)


def clean(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments that were given (None means not given)."""
    return {key: value for key, value in args.items() if value is not None}


def locals_of(values: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A command's parameters as operation arguments: `type_` and `as_json` are the CLI's own."""
    skip = {"as_json", "type_", *drop}
    return {key: value for key, value in values.items() if key not in skip}


def resolve(path: str | Path) -> Path:
    """A path the caller gave, relative to the caller's working folder."""
    return invocation.current().cwd / Path(path).expanduser()


def read_content(content: str | None, content_file: Path | None, what: str = "content") -> str:
    """--content TEXT, --content - (stdin) or --content-file PATH, read to at most the content
    limit plus one byte (so /dev/zero or a huge file is refused, never read whole)."""
    if content is not None and content_file is not None:
        raise InvalidInput(f"give --{what} or --{what}-file, not both")
    limit = cli_settings().max_content_bytes
    if content_file is not None:
        path = resolve(content_file)
        try:
            with path.open("rb") as handle:
                raw = handle.read(limit + 1)
        except OSError as exc:
            raise InvalidInput(
                f"cannot read {content_file}: {exc.strerror}",
                hint=f"pass the path of a readable file as --{what}-file",
            ) from exc
        return decode(raw, str(content_file), limit)
    if content is None:
        raise InvalidInput(
            f"no {what}: pass --{what} TEXT, --{what} - (stdin) or --{what}-file PATH"
        )
    if content == "-":
        return decode(invocation.current().read_stdin(limit + 1), "stdin", limit)
    return content


def decode(raw: bytes, where: str, limit: int) -> str:
    """Bytes read as UTF-8 text, without the byte order mark Windows editors and PowerShell put
    first (it is not part of the text, and would be stored and embedded as if it were)."""
    if len(raw) > limit:
        raise InvalidInput(
            f"{where} holds more than {limit} bytes, the content limit",
            hint="split it, or raise AMBER_MAX_CONTENT_BYTES",
        )
    try:
        return textops.utf8(raw)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where} is not valid UTF-8 (byte {exc.start})", hint="convert the text to UTF-8 first"
        ) from exc


JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document even on a terminal.")
]
ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help='Project scope. Default: the enclosing git repository; "" = shared by all.',
    ),
]
AllProjectsOpt = Annotated[bool, typer.Option("--all-projects", help="Every project.")]
TagsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tags", "-t", help="Tags, space- or comma-separated, or the flag repeated: -t db,sql."
    ),
]
TypeOpt = Annotated[
    list[str] | None,
    typer.Option("--type", help=f"Only these types: {', '.join(MEMORY_TYPES)}."),
]
AgentOpt = Annotated[
    str | None,
    typer.Option("--agent", help="Agent name, recorded or filtered. Default: $AMBER_AGENT."),
]
TopKOpt = Annotated[int, typer.Option("--top-k", "-k", help="How many memories at most (1-100).")]
WingOpt = Annotated[str | None, typer.Option("--wing", help="A scope, stored as tag wing:NAME.")]
RoomOpt = Annotated[str | None, typer.Option("--room", help="A scope, stored as tag room:NAME.")]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help=f"Only memories from this time: 2026-11-01, or an age: {AGES} (m is minutes).",
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Only memories up to this time (same forms).")
]
VectorWeightOpt = Annotated[
    float | None, typer.Option("--vector-weight", help="Fusion weight of the dense signal.")
]
TextWeightOpt = Annotated[
    float | None, typer.Option("--text-weight", help="Fusion weight of the BM25 signal.")
]
