"""The console script and `python -m amber`: hand the call to the store's daemon (starting it
when the command needs the store), else run the CLI in this process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from amber.daemon import client, protocol, starter


def _forwarded(argv: list[str]) -> int | None:
    """The exit code of the call the daemon answered, or None to run it here."""
    env = os.environ
    if env.get("AMBER_DAEMON", "auto") == "off" or not argv or argv[0] in protocol.LONG_RUNNING:
        return None
    if protocol.asks_help(argv) or env.get("AMBER_DAEMON", "auto") != "auto":
        return None  # help is answered here, a bad AMBER_DAEMON is reported by the settings
    start = argv[0] in client.STORE_COMMANDS
    idle = env.get("AMBER_DAEMON_IDLE", "900")
    try:
        return starter.forward(argv, env, start, sys.executable, idle)
    except client.DaemonError as exc:
        error = {"error": "backend_unavailable", "message": exc.message, "hint": exc.hint}
        sys.stderr.write(json.dumps(error) + "\n")
        return 3


def main() -> None:
    argv = sys.argv[1:]
    code = _forwarded(argv)
    if code is not None:
        sys.exit(code)
    try:
        from amber.cli import main as cli_main
        from amber.embedders import preload
    except ImportError as exc:  # an interpreter without amber's dependencies
        error = {
            "error": "backend_unavailable",
            "message": f"{sys.executable} cannot import {exc.name}, which amber needs",
            "hint": "use amber's own environment: run `python3 install.py` in the amber "
            "checkout, then call its execution/ scripts or .venv/bin/amber",
        }
        sys.stderr.write(json.dumps(error) + "\n")
        sys.exit(3)
    preload.start(argv, _locate)
    try:
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
