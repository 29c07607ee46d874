"""Wall-clock timing of a call's parts, for the `timing_ms` an answer carries."""

from __future__ import annotations

import time


class Clock:
    """Marks the end of each named part; `report()` gives each part and the total in ms."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self._parts: dict[str, float] = {}

    def mark(self, part: str) -> None:
        now = time.perf_counter()
        self._parts[part] = self._parts.get(part, 0.0) + (now - self._last)
        self._last = now

    def report(self) -> dict[str, float]:
        total = time.perf_counter() - self._start
        out = {name: round(seconds * 1000, 2) for name, seconds in self._parts.items()}
        out["total"] = round(total * 1000, 2)
        return out
