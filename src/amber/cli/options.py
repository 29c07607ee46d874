"""Options and helpers shared by the command modules: parse, scope, read input, finish."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from amber import SCHEMA_VERSION
from amber.cli.render import emit
from amber.errors import InvalidInput
from amber.models import MEMORY_TYPES
from amber.project import git_project
from amber.settings import Settings, load_settings

Command = Callable[..., Any]


class Commands:
    """The commands one module defines; the CLI package adds every module's to its app in one
    place (`amber.cli`), so no command module imports the app back."""

    def __init__(self) -> None:
        self.entries: list[tuple[str | None, Command]] = []

    def __call__(
        self, name: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Command) -> Command:
            self.entries.append((name, fn))
            return fn

        return register

    def attach(self, app: typer.Typer) -> None:
        for name, fn in self.entries:
            app.command(name)(fn)


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


def cli_settings() -> Settings:
    return load_settings()


def project_scope(explicit: str | None) -> str:
    return explicit.strip() if explicit is not None else git_project(Path.cwd())


def types(values: list[str] | None) -> list[str]:
    out = []
    for raw in values or []:
        for value in raw.split(","):
            value = value.strip().lower()
            if value not in MEMORY_TYPES:
                raise InvalidInput(f"unknown --type {value!r}; allowed: {', '.join(MEMORY_TYPES)}")
            out.append(value)
    return out


def read_content(content: str | None, content_file: Path | None) -> str:
    if content is not None and content_file is not None:
        raise InvalidInput("give --content or --content-file, not both")
    if content_file is not None:
        try:
            raw = content_file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {content_file}: {exc.strerror}") from exc
        return decode(raw, str(content_file))
    if content is None:
        raise InvalidInput("no content: pass --content TEXT, --content - (stdin) or --content-file")
    if content == "-":
        return decode(sys.stdin.buffer.read(), "stdin")
    return content


def decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where} is not valid UTF-8 (byte {exc.start})", hint="convert the text to UTF-8 first"
        ) from exc


def finish(doc: dict[str, Any], as_json: bool, found: bool = True) -> None:
    emit({"schema": SCHEMA_VERSION, **doc}, as_json)
    if not found:
        raise typer.Exit(1)
