"""Output: one JSON document on stdout for agents and scripts (stdout not a terminal, or
--json), a readable view for a person at a terminal; errors are JSON on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from amber.errors import BackendUnavailable


def wants_json(flag: bool) -> bool:
    return flag or sys.stdout is None or not sys.stdout.isatty()


def _write(stream: Any, text: str) -> None:
    """Write text that may hold lone surrogates (argv bytes that were not UTF-8) without
    failing: they are shown as backslash escapes."""
    try:
        try:
            stream.write(text)
        except UnicodeEncodeError:
            stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
        stream.flush()
    except OSError as exc:  # a full disk or a closed pipe behind the stream
        raise BackendUnavailable(
            f"the answer could not be written: {exc.strerror or exc}",
            hint="check where the output goes (a full disk, a closed pipe)",
        ) from exc


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, default=str)


def emit(doc: dict[str, Any], as_json: bool, view: str = "") -> None:
    if sys.stdout is None:  # the caller closed stdout: the exit code is all it gets
        return
    if wants_json(as_json):
        _write(sys.stdout, dumps(doc) + "\n")
        return
    from amber.cli.views import show

    show(doc, view)


def emit_error(payload: dict[str, Any]) -> bool:
    """The error as JSON on stderr; False when even stderr cannot take it (the exit code is
    then all the caller gets: the last line of defence must not raise)."""
    if sys.stderr is None:
        return False
    try:
        _write(sys.stderr, dumps(payload) + "\n")
    except BackendUnavailable:
        return False
    return True
