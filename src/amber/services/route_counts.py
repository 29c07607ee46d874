"""How often each skill was routed: counted in memory, written beside the store."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from amber import paths


class RouteCounter:
    """How often each skill was routed, in a small JSON file beside the store (for example
    `$AMBER_HOME/skill-routes.json`). `add` counts in memory; `flush` merges the counts into
    the file and replaces it atomically: the runtime flushes when it closes, and the daemon
    after each answer is sent, so the write is off the call's path. With a server store two
    processes flushing at the same moment can lose one increment, which a counter can
    afford; a daemon killed between an answer and its flush loses that call's count."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()  # the daemon's threads count and flush in turn

    def _stored(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        routed = data.get("routed") if isinstance(data, dict) else None
        if not isinstance(routed, dict):
            return {}
        return {str(k): int(v) for k, v in routed.items() if isinstance(v, int)}

    def _merged(self) -> dict[str, int]:
        """The file's counts plus the ones kept in memory (the caller holds the lock)."""
        counts = self._stored()
        for name, n in self._pending.items():
            counts[name] = counts.get(name, 0) + n
        return counts

    def counts(self) -> dict[str, int]:
        """Routes per skill name, the ones not flushed yet included; "" counts the tasks that
        fit no skill."""
        with self._lock:
            return self._merged()

    def add(self, skill: str | None) -> None:
        with self._lock:
            self._pending[skill or ""] = self._pending.get(skill or "", 0) + 1

    def flush(self) -> None:
        """Write the counts kept in memory (nothing to do when there are none)."""
        with self._lock:
            if not self._pending:
                return
            counts = self._merged()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"routed": counts}, sort_keys=True)
            paths.replace_private(str(self.path), text.encode("utf-8"))
            self._pending.clear()
