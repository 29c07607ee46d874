"""Fresh processes: build the embedding model's session while the CLI's modules import.

Creating the onnxruntime session (about 0.15 s) runs in native code without the GIL, so it can
overlap with importing the CLI (about 0.2 s) on a second core. Imports, though, hold the GIL:
the main thread waits while this thread imports what the model needs, then both go on. The
thread only fills the shared model cache in `amber.model_cache`; the command reaches the model
through that cache, waits there if the load still runs, and reports a failed load itself.
"""

from __future__ import annotations

import threading

# Commands whose first real step is embedding a text with the store's model.
MODEL_COMMANDS = frozenset({"auto", "store", "search", "cache-store", "route"})

_thread: threading.Thread | None = None


def _preload(imported: threading.Event) -> None:
    try:
        from amber.errors import InvalidInput
        from amber.model_cache import builtin_future, wants_builtin
        from amber.settings import load_settings

        try:
            settings = load_settings()
        except InvalidInput:
            return  # the command reads the same environment next and reports the bad variable
        if not wants_builtin(settings):
            return
        try:
            import amber.embedders.builtin  # noqa: F401 - before the main thread resumes
        except ImportError:
            return  # the command imports it again when it needs the model, and reports it
    finally:
        imported.set()
    builtin_future(settings.cache_dir)


def start(argv: list[str]) -> None:
    """Start the early load when the command will need the model."""
    global _thread
    if not argv or argv[0] not in MODEL_COMMANDS or any(a in ("-h", "--help") for a in argv):
        return
    imported = threading.Event()
    _thread = threading.Thread(
        target=_preload, args=(imported,), name="amber-model-preload", daemon=True
    )
    _thread.start()
    imported.wait()


def finish() -> None:
    """Wait for the early load before the interpreter exits: a thread still inside native
    model-loading code must not meet interpreter shutdown (a command that fails fast)."""
    if _thread is not None:
        _thread.join()
