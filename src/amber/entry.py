"""The console script: forward the call to a running daemon, else run the CLI in-process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from amber.daemon.client import IN_PROCESS, forward, start_daemon


def main() -> None:
    argv = sys.argv[1:]
    env = dict(os.environ)
    mode = env.get("AMBER_DAEMON", "")
    if not (argv[:1] and argv[0] in IN_PROCESS) and mode != "off":
        code = forward(argv, env)
        if code is not None:
            sys.exit(code)
        if mode == "auto" and argv and not argv[0].startswith("-"):
            start_daemon(env)
    from amber.embedders import preload

    preload.start(argv, _locate)
    try:
        from amber.cli import main as cli_main

        cli_main()
    finally:
        preload.finish()


def _locate() -> tuple[Path, str | None, str, Path] | None:
    """Where the store is and which embedder it wants, for the early model load."""
    from amber.errors import InvalidInput
    from amber.settings import load_settings

    try:
        settings = load_settings()
    except InvalidInput:
        return None  # the command reads the same environment next and reports the variable
    return settings.home, settings.qdrant_url, settings.embedder, settings.cache_dir
