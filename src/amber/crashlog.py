"""The crash log: an unexpected exception's traceback goes to $AMBER_HOME/amber.log, never to
the agent that made the call."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path


def append_traceback(home: Path, what: str) -> Path:
    """Append the exception being handled, under a timestamped header naming `what` failed.
    Raises OSError when the data folder cannot be written."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / "amber.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()} {what}\n")
        out.write(traceback.format_exc())
    return path
