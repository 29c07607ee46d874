"""A small progress display on stderr: a live bar on a terminal, a line per tenth elsewhere."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, unit: str = "items") -> None:
        self.label, self.total, self.unit = label, max(total, 1), unit
        self.done = 0
        self.started = time.perf_counter()
        self._tty = sys.stderr.isatty()
        self._last_tenth = -1

    def advance(self, count: int = 1) -> None:
        self.done += count
        fraction = min(self.done / self.total, 1.0)
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        if self._tty:
            bar = "#" * int(fraction * 30)
            sys.stderr.write(
                f"\r{self.label} [{bar:<30}] {self.done}/{self.total} {rate:,.0f} {self.unit}/s"
            )
            if self.done >= self.total:
                sys.stderr.write("\n")
        elif int(fraction * 10) > self._last_tenth:
            self._last_tenth = int(fraction * 10)
            sys.stderr.write(
                f"{self.label}: {self.done}/{self.total} "
                f"({fraction:.0%}, {rate:,.0f} {self.unit}/s)\n"
            )
        sys.stderr.flush()
