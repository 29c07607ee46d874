"""The embedded store's metadata file (schema, pinned embedder): read without the engine or its
lock, replaced atomically on write."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

META_FILE = "meta.json"


def peek(root: Path) -> dict[str, Any]:
    """The metadata without taking the store's lock (writes replace the file atomically), so a
    caller can load the pinned embedder before queueing for the store. {} when absent or
    unreadable; the store itself reports a damaged file when it opens."""
    try:
        return dict(json.loads((root / META_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def read(root: Path) -> dict[str, Any] | None:
    """The metadata, {} when there is none yet; raises ValueError when the file is damaged."""
    path = root / META_FILE
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write(root: Path, meta: dict[str, Any]) -> None:
    path = root / META_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
