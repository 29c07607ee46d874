"""The process's shared builtin model: loaded once per cache folder, by whichever thread asks
first (the command, or the early load in `amber.early`)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

from amber.embedders.base import Embedder
from amber.settings import Settings

_models: dict[Path | None, Future[Embedder]] = {}
_models_lock = threading.Lock()


def builtin_future(cache_dir: Path | None) -> Future[Embedder]:
    """The process's one builtin model for this cache folder, loaded by the first caller; a
    caller arriving while another thread loads it waits for that load instead of repeating it.
    A failed load is handed to every waiter and forgotten, so a later call tries again."""
    with _models_lock:
        future = _models.get(cache_dir)
        if future is not None:
            return future
        future = _models[cache_dir] = Future()
    from amber.embedders.builtin import BuiltinEmbedder

    try:
        future.set_result(BuiltinEmbedder(cache_dir=cache_dir))
    except BaseException as exc:  # noqa: BLE001 - handed to every waiter by result()
        with _models_lock:
            del _models[cache_dir]
        future.set_exception(exc)
    return future


def builtin_model(cache_dir: Path | None = None) -> Embedder:
    """One builtin model per process; with a cache folder its optimized graph is reused."""
    return builtin_future(cache_dir).result()


def wants_builtin(settings: Settings) -> bool:
    """Whether this store will embed with the builtin model (read without the store's lock)."""
    if settings.qdrant_url:
        return False
    from amber.stores.edge import EdgeStore

    pinned = EdgeStore.peek_meta(settings.home / "edge").get("embedder") or {}
    return pinned.get("provider") == "builtin" or (not pinned and settings.embedder == "builtin")
