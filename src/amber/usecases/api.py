"""The one way in: `call(ctx, name, args)` validates the arguments with the operation's input
model and runs it; `Amber` wraps that as a Python API; `exit_code` says what a document means
for a process (the CLI, the shims and the daemon all use it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amber import SCHEMA_VERSION
from amber.compose import FreshRuntimes, Runtimes
from amber.errors import InvalidInput
from amber.inputs import parse
from amber.settings import Settings, load_settings
from amber.usecases.registry import OPERATIONS, Context, Document

# Operations whose empty answer is "nothing found" (exit 1).
_FOUND = {
    "auto": lambda d: d.get("status") != "no_match",
    "retrieve": lambda d: d.get("status") != "no_match",
    "list": lambda d: bool(d.get("memories")),
    "forget": lambda d: d.get("count", 0) > 0,
    "skills-list": lambda d: bool(d.get("skills")),
    "route": lambda d: d["skill"]["name"] is not None or d["auto"]["status"] != "no_match",
}


def call(ctx: Context, name: str, args: Mapping[str, Any]) -> Document:
    """Run one operation; its document carries `schema` first."""
    operation = OPERATIONS.get(name)
    if operation is None:
        raise InvalidInput(
            f"unknown operation {name!r}", hint=f"one of: {', '.join(sorted(OPERATIONS))}"
        )
    if not isinstance(args, Mapping):
        raise InvalidInput(f"the arguments of {name} must be an object")
    inp = parse(operation.model, dict(args), ctx.settings.max_content_bytes)
    return {"schema": SCHEMA_VERSION, **operation.handler(ctx, inp)}


def exit_code(name: str, doc: Document) -> int:
    """0 answered, 1 nothing found, 2 invalid (a skill file), 3 a backend not ready."""
    if name == "health" and not doc.get("ready", True):
        return 3
    if name == "skills-validate" and doc.get("status") == "invalid":
        return 2
    found = _FOUND.get(name)
    return 0 if found is None or found(doc) else 1


class Amber:
    """amber from Python: every operation the CLI and the MCP server offer, as methods.

        from amber import Amber
        amber = Amber()                      # settings from the environment, like the CLI
        amber.store("Use arq for jobs", type="decision", tags=["python-patterns"])
        hits = amber.auto("add background jobs")["context_chunks"]

    Errors are amber's own (amber.errors: InvalidInput, BackendUnavailable, ...), each with a
    message and a hint. Each call opens the store and closes it again, so other processes can
    take turns with it; while a daemon serves the store, use the CLI or MCP instead.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        cwd: Path | None = None,
        runtimes: Runtimes | None = None,
    ) -> None:
        self.context = Context(
            settings or load_settings(), cwd or Path.cwd(), runtimes or FreshRuntimes()
        )

    def call(self, name: str, **args: Any) -> Document:
        return call(self.context, name, args)

    def auto(self, query: str, **args: Any) -> Document:
        return self.call("auto", query=query, **args)

    def store(self, content: str, **args: Any) -> Document:
        return self.call("store", content=content, **args)

    def retrieve(self, query: str, **args: Any) -> Document:
        return self.call("retrieve", query=query, **args)

    def cache_store(self, query: str, response: str, **args: Any) -> Document:
        return self.call("cache-store", query=query, response=response, **args)

    def forget(self, *ids: str, **args: Any) -> Document:
        return self.call("forget", ids=list(ids), **args)

    def list(self, **args: Any) -> Document:
        return self.call("list", **args)

    def get(self, memory_id: str) -> Document:
        return self.call("get", id=memory_id)

    def route(self, task: str, **args: Any) -> Document:
        return self.call("route", task=task, **args)

    def health(self) -> Document:
        return self.call("health")
