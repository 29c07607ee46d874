"""The amber command line: the app, its commands gathered in one place, errors to exit codes."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import replace
from typing import Annotated, Any

import click
import typer
from typer.exceptions import TyperException

from amber import __version__
from amber.cli import admin, data, evaluate, hook, init, invocation, mcp, memory, skills, task
from amber.cli.invocation import Invocation
from amber.cli.render import emit_error
from amber.crashlog import internal_error
from amber.daemon.client import unwritable
from amber.errors import AmberError
from amber.redact import redact
from amber.settings import documented


def _environment_help() -> str:
    lines = [f"  {name:<31} {default:<23} {what}" for name, default, what in documented()]
    return "\b\nEnvironment (variable, default, what it changes):\n" + "\n".join(lines)


app = typer.Typer(
    name="amber",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Local-first memory for AI coding agents.\n\n"
    'Before a task:  amber auto --query "add background jobs to the API"\n\n'
    'After it:       amber store --content "Use arq on Redis" --type decision '
    "--tags python-patterns jobs\n\n"
    "Exit codes: 0 answered, 1 nothing found, 2 invalid input, 3 a backend unavailable, "
    "4 internal error. stdout is one JSON document when it is not a terminal (or --json).",
    epilog=_environment_help(),
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print amber's version.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


skills_app = typer.Typer(
    help="SKILL.md skills: list, show, validate, and teach the router.",
    epilog="Example:  amber skills show python-patterns",
)
skills.skills.attach(skills_app)
app.add_typer(skills_app, name="skills")
for module in (memory, data, admin, evaluate, skills, task, mcp, init, hook):
    module.commands.attach(app)


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
            if index < len(argv) and argv[index].startswith("--"):
                raise click.exceptions.UsageError(
                    f"{token} got no value: {argv[index]} follows it (to tag a memory "
                    f"{argv[index]!r}, write {token}={argv[index]})"
                )
            first = True
            while index < len(argv) and (first or not argv[index].startswith("-")):
                if not first:
                    out.append(token)
                out.append(argv[index])
                index += 1
                first = False
    return out


@functools.cache
def _click_command() -> Any:
    """The click command tree; typer rebuilds it from every signature on each call (about 30
    ms), which the daemon would pay on every forwarded call."""
    return typer.main.get_command(app)


def _home() -> Any:
    try:
        return invocation.current().settings().home
    except AmberError:
        return None


def run(argv: list[str], call_of: Invocation | None = None) -> int:
    """Run the CLI on argv and return the exit code (the daemon and tests call this too)."""
    try:
        call = call_of or invocation.of_this_process()
    except AmberError as exc:  # the working folder is gone
        emit_error(exc.to_dict())
        return exc.exit_code
    token = invocation.use(call if call.cli is not None else replace(call, cli=run))
    try:
        return _run(argv)
    finally:
        invocation.reset(token)


def _usage_hint(argv: list[str], exc: Exception) -> str:
    known = argv[:1] and argv[0] in _click_command().commands
    see = f"see `amber {argv[0]} --help`" if known else "see `amber --help` for the commands"
    option = getattr(exc, "option_name", None)  # click's NoSuchOption (or typer's copy of it)
    value = _dash_value(argv, option) if isinstance(option, str) else None
    if value is None:
        return see
    token, owner = value
    return (
        f"{token!r} was read as an option; if it is a value, join it to its option: "
        f"{owner}={token}; or {see}"
    )


def _dash_value(argv: list[str], option: str) -> tuple[str, str] | None:
    """The argument starting with a single '-' that click took for the unknown `option` (it
    reads `-dash` as `-d`), and the long name of the tags option it follows (it takes values
    until the next option); None when it follows no tags option, or names a real option."""
    command = _click_command().commands.get(argv[0]) if argv else None
    params = [p for p in (command.params if command is not None else []) if p.opts]
    if option.startswith("--") or any(option in p.opts for p in params):
        return None
    tags = [p for p in params if p.multiple and _NARGS_OPTIONS & set(p.opts)]  # free values
    lists = {name: max(p.opts, key=len) for p in tags for name in p.opts}
    for i, token in enumerate(argv):
        if token.startswith(option) and not token.startswith("--"):
            before = next((t for t in reversed(argv[1:i]) if t.startswith("-")), "")
            owner = lists.get(before)
            return (token, owner) if owner else None
    return None


def _prog() -> str:
    """The name usage lines show: `amber`, or `python3 execution/memory_manager.py` when an
    agent's script was called (relative to the current folder when inside it)."""
    called = sys.argv[0] if sys.argv and sys.argv[0] else "amber"
    if not called.endswith(".py") or os.path.basename(called) == "__main__.py":
        return "amber"  # the console script, python -m amber
    relative = os.path.relpath(called)
    return f"python3 {called if relative.startswith('..') else relative}"


def _run(argv: list[str]) -> int:
    os.umask(0o077)  # everything amber (and the embedded engine) writes is private: 0600 / 0700
    try:
        command = _click_command()
        result = command.main(args=expand_nargs(argv), prog_name=_prog(), standalone_mode=False)
    except AmberError as exc:
        emit_error(exc.to_dict())
        return exc.exit_code
    except (typer.Abort, click.exceptions.Abort):
        emit_error({"error": "aborted", "message": "nothing was changed"})
        return 2
    except (TyperException, click.exceptions.ClickException) as exc:
        emit_error(
            {
                "error": "usage",
                "message": redact(exc.format_message()).text,  # it may quote a bad value
                "hint": _usage_hint(argv, exc),
            }
        )
        return 2
    except KeyboardInterrupt:
        emit_error({"error": "interrupted", "message": "stopped by the user"})
        return 130
    except Exception:  # noqa: BLE001 - the last line of defence: log, report, exit 4
        emit_error(internal_error(_home(), "internal error"))
        return 4
    return result if isinstance(result, int) else 0


def main() -> None:
    code = run(sys.argv[1:])
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:  # a full disk or a closed pipe behind stdout
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more can reach the caller
        emit_error(unwritable(exc))
        code = 3
    sys.exit(code)
