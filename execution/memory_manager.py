#!/usr/bin/env python3
"""amber's front door for agents: `python3 execution/memory_manager.py auto --query "..."`.

It works with whatever python3 the agent calls, from any folder. Standard library only until
it knows it runs in amber's own environment: it first hands the call to a running amber daemon
(a standard-library client), and otherwise re-executes itself with the interpreter amber was
installed into. When that interpreter cannot be found it prints one JSON error naming the fix
and exits 3; it never shows a traceback.

`amber init` writes this file into an agent's project with the two paths below filled in;
in amber's own checkout they stay None and are found beside it (.venv, or .amber-python).
"""

import os
import sys

AMBER_PYTHON = None  # the interpreter amber is installed in
AMBER_SRC = None  # the folder that holds amber's package (for the standard-library client)
HOP = "AMBER_SHIM_HOP"  # set on the re-executed process: never re-execute twice


def _fail(code, kind, message, hint):
    import json

    sys.stderr.write(json.dumps({"error": kind, "message": message, "hint": hint}) + "\n")
    sys.exit(code)


def _checkout():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _source_folder():
    if AMBER_SRC:
        return AMBER_SRC
    candidate = os.path.join(_checkout(), "src")
    return candidate if os.path.isfile(os.path.join(candidate, "amber", "__init__.py")) else None


def _interpreter():
    """amber's interpreter: $AMBER_PYTHON, the one recorded at init, or the checkout's venv."""
    found = [os.environ.get("AMBER_PYTHON"), AMBER_PYTHON]
    record = os.path.join(_checkout(), ".amber-python")
    if os.path.isfile(record):
        with open(record, encoding="utf-8") as handle:
            found.append(handle.read().strip())
    found.append(os.path.join(_checkout(), ".venv", "bin", "python"))
    for path in found:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _is_amber_environment(python):
    """True when this process already runs amber's interpreter (the same installation prefix:
    comparing executables would not do, a venv's python links to the system one)."""
    if not python:
        return False
    home = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    return os.path.realpath(sys.prefix) == os.path.realpath(home)


def _run_here(src):
    """Run amber in this process; exit 3 with JSON when this interpreter lacks amber."""
    if src and src not in sys.path:
        sys.path.insert(0, src)
    try:
        from amber.entry import main as amber_main
    except ImportError as exc:
        _fail(
            3,
            "backend_unavailable",
            f"{sys.executable} cannot import {exc.name}, which amber needs",
            "in the amber checkout run `python3 install.py`, then `.venv/bin/amber init "
            "YOUR_PROJECT`, or set AMBER_PYTHON to the python that has amber installed",
        )
    amber_main()


def _forward(argv, src):
    """The exit code of the call answered by a running daemon, or None to go on."""
    if src is None or sys.version_info < (3, 8):
        return None
    if src not in sys.path:
        sys.path.insert(0, src)
    try:
        from amber.daemon.client import forward_call
    except ImportError:
        return None  # an amber too old for this shim: the full path below reports problems
    return forward_call(argv)


def main():
    argv = sys.argv[1:]
    src = _source_folder()
    python = _interpreter()
    if os.environ.get(HOP) or _is_amber_environment(python):
        _run_here(src)
        return
    code = _forward(argv, src)
    if code is not None:
        sys.exit(code)
    if python is None:
        _run_here(src)  # amber may be installed into this very interpreter
        return
    os.environ[HOP] = "1"
    try:
        # -E: the caller's PYTHONPATH (a project's own modules: a yaml.py, a numpy folder)
        # must not shadow amber's dependencies
        os.execv(python, [python, "-E", os.path.abspath(__file__)] + argv)
    except OSError as exc:
        _fail(
            3,
            "backend_unavailable",
            f"cannot start amber's interpreter {python}: {exc.strerror}",
            "reinstall it: python3 install.py in the amber checkout, or set AMBER_PYTHON",
        )


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:  # noqa: BLE001 - the front door never shows a traceback
        _fail(4, "internal_error", f"{type(exc).__name__}: {exc}", "report this to amber")
