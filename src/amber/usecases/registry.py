"""The table of operations: each one's name, input model and function, filled by the modules
that define them (`@operation(...)`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber.compose import Runtimes
from amber.inputs import Input
from amber.project import default_scope, find_repository
from amber.settings import Settings

Document = dict[str, Any]
Advance = Callable[[int], None]  # called with how many more items are done
ProgressFactory = Callable[[str, int, str], Advance]  # (label, total, unit) -> advance


def no_progress(_label: str, _total: int, _unit: str) -> Advance:
    return lambda _count: None


@dataclass(frozen=True)
class Context:
    """What a call brings besides its arguments: its settings, its working folder (for the
    default project scope) and where its runtime comes from."""

    settings: Settings
    cwd: Path
    runtimes: Runtimes
    progress: ProgressFactory = no_progress

    def scope(self, project: str | None) -> str:
        """The project an explicit --project names, else the repository the call runs in."""
        return project if project is not None else default_scope(self.cwd)

    def project_root(self) -> Path | None:
        repo = find_repository(self.cwd)
        return repo.root if repo else None


Handler = Callable[[Context, Any], Document]


@dataclass(frozen=True)
class Operation:
    name: str
    model: type[Input]
    handler: Handler
    summary: str
    writes: bool  # changes the store (MCP annotates it; read-only ones are safe to retry)


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, model: type[Input], writes: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        summary = " ".join((handler.__doc__ or "").split())
        OPERATIONS[name] = Operation(name, model, handler, summary, writes)
        return handler

    return register
