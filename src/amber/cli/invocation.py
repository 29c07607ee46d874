"""The call a command runs for: its environment, working folder, input and where its runtime
comes from. A process sets one for itself; the daemon sets one per request, per thread, so
concurrent requests never see each other's environment or folder."""

from __future__ import annotations

import contextvars
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from amber.compose import FreshRuntimes, Runtimes
from amber.errors import InvalidInput
from amber.settings import Settings, load_settings

CliRunner = Callable[[list[str], "Invocation"], int]


@dataclass(frozen=True)
class Invocation:
    env: Mapping[str, str]
    cwd: Path
    runtimes: Runtimes = field(default_factory=FreshRuntimes)
    stdin: BinaryIO | None = None  # None: this process's stdin
    stdin_tty: bool | None = None  # None: ask this process's stdin
    columns: int | None = None  # the caller's terminal width, when it is one
    # The whole CLI as a function (argv, invocation) -> exit code, given by `amber.cli.run` so
    # that `amber serve` can hand it to the daemon without importing the CLI back.
    cli: CliRunner | None = None

    def settings(self) -> Settings:
        return load_settings(self.env)

    def read_stdin(self, limit: int) -> bytes:
        """At most `limit` bytes of the caller's stdin (a longer input is refused by the caller
        on seeing limit bytes; nothing unbounded is ever read)."""
        if self.stdin is None and sys.stdin is None:
            raise InvalidInput("stdin is closed", hint="pipe the text in, or pass it as --content")
        try:
            stream = self.stdin if self.stdin is not None else sys.stdin.buffer
            return stream.read(limit)
        except (OSError, ValueError) as exc:  # a closed or unreadable descriptor
            raise InvalidInput(
                f"stdin could not be read ({exc})",
                hint="pipe the text in, or pass it as --content (- reads stdin)",
            ) from exc

    def stdin_is_tty(self) -> bool:
        if self.stdin_tty is not None:
            return self.stdin_tty
        return sys.stdin is not None and sys.stdin.isatty()


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "amber_invocation", default=None
)


def of_this_process() -> Invocation:
    """An invocation from this process's own environment and working folder."""
    try:
        cwd = Path.cwd()
    except FileNotFoundError:
        raise InvalidInput(
            "the working folder no longer exists", hint="cd into an existing folder"
        ) from None
    return Invocation(env=dict(os.environ), cwd=cwd)


def current() -> Invocation:
    """This call's invocation (set by `amber.cli.run`), else one of this process."""
    found = _current.get()
    return of_this_process() if found is None else found


def use(invocation: Invocation) -> contextvars.Token[Invocation | None]:
    return _current.set(invocation)


def reset(token: contextvars.Token[Invocation | None]) -> None:
    _current.reset(token)
