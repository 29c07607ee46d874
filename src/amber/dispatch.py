"""Where an operation runs for a long-lived front end (the MCP server, `run`): in the store's
daemon when one serves it (AMBER_DAEMON=auto starts one), else in this process. Both give the
same document; an error the daemon reports is raised here as the same kind of AmberError."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amber.compose import FreshRuntimes
from amber.daemon import client, starter
from amber.errors import BackendUnavailable, Reported
from amber.settings import Settings
from amber.usecases import Context, call

Document = dict[str, Any]


class Gateway:
    def __init__(self, env: Mapping[str, str], cwd: Path, settings: Settings) -> None:
        self.env, self.cwd, self.settings = dict(env), cwd, settings

    def _daemon(self) -> Path | None:
        if self.settings.daemon == "off":
            return None
        try:
            return starter.ensure(self.env, sys.executable, f"{self.settings.daemon_idle:g}")
        except client.DaemonError as exc:
            raise BackendUnavailable(exc.message, hint=exc.hint) from None

    def call(self, name: str, args: Mapping[str, Any]) -> Document:
        path = self._daemon()
        if path is None:
            return call(Context(self.settings, self.cwd, FreshRuntimes()), name, args)
        try:
            answer = client.call(self.env, path, name, args, self.cwd)
        except client.Unreachable:  # it stopped between the check and the call: once more
            path = self._daemon()
            if path is None:
                return call(Context(self.settings, self.cwd, FreshRuntimes()), name, args)
            answer = client.call(self.env, path, name, args, self.cwd)
        except client.DaemonError as exc:
            raise BackendUnavailable(exc.message, hint=exc.hint) from None
        if "doc" in answer:
            return dict(answer["doc"])
        error = answer.get("error") or {}
        raise Reported(
            str(error.get("error", "internal_error")),
            int(answer.get("code", 4)),
            str(error.get("message", "the daemon reported an error")),
            error.get("hint"),
        )
