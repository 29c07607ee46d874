"""The process's one builtin model: loaded once per cache folder by whichever thread asks first,
and, in a fresh process, started early so the session builds while the CLI imports.

Creating the onnxruntime session (about 0.15 s) runs in native code without the GIL, so it can
overlap with importing the CLI (about 0.2 s) on a second core. Imports hold the GIL: the main
thread waits while the early thread imports what the model needs, then both go on. The thread
only fills the shared model cache; the command reaches the model through that cache, waits
there if the load still runs, and reports a failed load itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from amber.embedders.base import Embedder
from amber.stores import meta

# Commands whose first real step is embedding a text with the store's model.
MODEL_COMMANDS = frozenset({"auto", "store", "retrieve", "cache-store", "route"})

_models: dict[Path | None, Future[Embedder]] = {}
_models_lock = threading.Lock()
_thread: threading.Thread | None = None


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


def wants_builtin(home: Path, qdrant_url: str | None, embedder: str) -> bool:
    """Whether this store will embed with the builtin model (read without the store's lock)."""
    if qdrant_url:
        return False
    pinned = meta.peek(home / "edge").get("embedder") or {}
    return pinned.get("provider") == "builtin" or (not pinned and embedder == "builtin")


# Where the store is and which model it wants: (home, qdrant_url, embedder setting, cache_dir),
# or None when the settings are invalid (the command reads them again and reports it).
Locate = Callable[[], "tuple[Path, str | None, str, Path] | None"]


def _preload(imported: threading.Event, locate: Locate) -> None:
    try:
        where = locate()
        if where is None or not wants_builtin(*where[:3]):
            return
        try:
            import amber.embedders.builtin  # noqa: F401 - before the main thread resumes
        except ImportError:
            return  # the command imports it again when it needs the model, and reports it
    finally:
        imported.set()
    builtin_future(where[3])


def start(argv: list[str], locate: Locate) -> None:
    """Start the early load when the command will need the model."""
    global _thread
    if not argv or argv[0] not in MODEL_COMMANDS or any(a in ("-h", "--help") for a in argv):
        return
    imported = threading.Event()
    _thread = threading.Thread(
        target=_preload, args=(imported, locate), name="amber-model-preload", daemon=True
    )
    _thread.start()
    imported.wait()


def finish() -> None:
    """Wait for the early load before the interpreter exits: a thread still inside native
    model-loading code must not meet interpreter shutdown (a command that fails fast)."""
    if _thread is not None:
        _thread.join()
