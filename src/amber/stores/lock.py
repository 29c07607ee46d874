"""An exclusive lock file with a bounded wait, so CLI calls queue for the embedded engine."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from amber.errors import StoreLocked


class FileLock:
    """flock() on a file; the kernel drops it when the holder dies, so a killed process frees it."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreLocked(
                        f"the store at {self.path.parent} stayed busy for {self.timeout:g} s",
                        hint="another amber process holds it; retry, raise AMBER_LOCK_TIMEOUT, "
                        "or run `amber serve` so agents share one warm process",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.02)  # short polls: waiters are served sooner
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
