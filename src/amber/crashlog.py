"""The crash log: an unexpected exception's traceback goes to $AMBER_HOME/amber.log, never to
the agent that made the call; writing it can fail without raising."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


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


def internal_error(home: Path | None, what: str) -> dict[str, Any]:
    """The error document for the exception being handled (exit 4), its traceback logged
    where that is possible. Never raises: the last line of defence must not fail itself."""
    exc = sys.exc_info()[1]
    doc: dict[str, Any] = {
        "error": "internal_error",
        "message": f"{type(exc).__name__}: {exc}" if exc else what,
        "log": None,
    }
    if home is None:
        doc["hint"] = "the data folder is unknown (a bad setting?); nothing was logged"
        return doc
    try:
        doc["log"] = str(append_traceback(home, what))
    except OSError as log_error:
        doc["hint"] = f"the traceback could not be written to {home}: {log_error.strerror}"
    else:
        doc["hint"] = "the traceback is in the log file; please report it"
    return doc
