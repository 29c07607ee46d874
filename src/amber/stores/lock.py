"""An exclusive lock file with a bounded wait, so CLI calls queue for the embedded engine."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from amber.errors import StoreLocked


class FileLock:
    """flock() on a file; the kernel drops it when the holder dies, so a killed process frees it."""

    def __init__(self, path: Path, timeout: float, holder: str = "process") -> None:
        self.path = path
        self.timeout = timeout
        self.holder = holder  # "daemon" when the store's owner holds it for its whole life
        self._fd: int | None = None

    def _served(self) -> int | None:
        """The pid of a live daemon that holds the lock, else None."""
        try:
            pid_text, _, holder = self.path.read_text(encoding="utf-8").strip().partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            return None  # no record (yet) or a half-written one: wait like for anyone
        if holder != "daemon":
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid  # alive, another user's (only possible with a shared folder)
        return pid

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                daemon = self._served()
                if daemon is not None:
                    os.close(fd)
                    raise StoreLocked(
                        f"the store at {self.path.parent} is served by its daemon (pid "
                        f"{daemon}), the one process that opens it; this call runs on its own "
                        "(AMBER_DAEMON=off)",
                        hint="unset AMBER_DAEMON to go through the daemon, or stop it: "
                        "amber serve --stop",
                    ) from None
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
            os.write(fd, f"{os.getpid()} {self.holder}\n".encode())
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
