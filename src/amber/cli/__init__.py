"""The amber command line: the app, its commands gathered in one place, errors to exit codes."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import typer
from typer.exceptions import TyperException

from amber.cli import admin, data, evaluate, mcp, memory, skills, task
from amber.cli.render import emit_error
from amber.crashlog import append_traceback
from amber.errors import AmberError
from amber.settings import load_settings

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

for module in (memory, data, admin, evaluate, skills, task, mcp):
    module.commands.attach(app)
app.add_typer(skills.skills_app, name="skills")


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
