"""Output: one JSON document on stdout for agents and scripts (stdout not a terminal, or
--json), a readable view for a person at a terminal; errors are JSON on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def wants_json(flag: bool) -> bool:
    return flag or not sys.stdout.isatty()


def _write(stream: Any, text: str) -> None:
    """Write text that may hold lone surrogates (argv bytes that were not UTF-8) without
    failing: they are shown as backslash escapes."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, default=str)


def emit(doc: dict[str, Any], as_json: bool, view: str = "") -> None:
    if wants_json(as_json):
        _write(sys.stdout, dumps(doc) + "\n")
        return
    from amber.cli.views import show

    show(doc, view)


def emit_error(payload: dict[str, Any]) -> None:
    _write(sys.stderr, dumps(payload) + "\n")
