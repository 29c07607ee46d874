"""Codex's config.toml: parsed with the standard library's reader, amber's tables added and
taken out again as text, so that everything else in the file stays byte for byte."""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any

from amber.errors import AmberError, BackendUnavailable, InvalidInput
from amber.hosts import ABSENT, Entry, unmatched

_HEADER = re.compile(r"^[ \t]*\[\[?[ \t]*([^\]]+?)[ \t]*\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)


def _tomllib() -> ModuleType:
    try:
        import tomllib
    except ModuleNotFoundError as exc:  # Python 3.10: no TOML reader in the standard library
        raise BackendUnavailable(
            "reading Codex's config.toml needs Python 3.11 or later",
            hint="install amber with Python 3.11+, or leave Codex out: --host claude,cursor,gemini",
        ) from exc
    return tomllib


def parse_toml(text: str, where: str) -> dict[str, Any]:
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            f"{where} is not valid TOML ({exc}); amber init will not overwrite it",
            hint=f"fix or move {where}, then run amber init again",
        ) from exc


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def toml_table(path: tuple[str, ...], value: dict[str, Any]) -> str:
    lines = [f"[{'.'.join(path)}]"] + [f"{key} = {_toml_value(v)}" for key, v in value.items()]
    return "\n".join(lines) + "\n"


def _span(text: str, name: str) -> tuple[int, int] | None:
    """Where the table `[name]` and its sub-tables are written, as character offsets."""
    headers = [(m.start(), re.sub(r"\s", "", m.group(1))) for m in _HEADER.finditer(text)]
    for index, (start, header) in enumerate(headers):
        if header == name:
            end = next(
                (s for s, h in headers[index + 1 :] if not h.startswith(name + ".")), len(text)
            )
            return start, end
    return None


def _lookup(doc: dict[str, Any], path: list[str]) -> Any:
    node: Any = doc
    for key in path:
        node = node.get(key, ABSENT) if isinstance(node, dict) else ABSENT
    return node


def toml_merge(
    text: str, entries: tuple[Entry, ...], old: list[dict[str, Any]], where: str
) -> tuple[str, list[dict[str, Any]]]:
    """`text` with amber's tables written in (other lines kept as they are) and the records."""
    records = []
    for entry in entries:
        earlier = next((r for r in old if r["path"] == list(entry.path)), None)
        current = _lookup(parse_toml(text, where), list(entry.path))
        if current == entry.value and earlier is None:
            continue
        block, name = toml_table(entry.path, entry.value), ".".join(entry.path)
        span = _span(text, name)
        if current != ABSENT and span is None:
            raise InvalidInput(
                f"{where} defines {name} in a form amber cannot edit (inline or dotted keys)",
                hint=f"write it as a [{name}] table or remove it, then run amber init again",
            )
        if span is not None:
            previous = earlier["previous"] if earlier else text[span[0] : span[1]]
            text = text[: span[0]] + block + ("\n" if span[1] < len(text) else "") + text[span[1] :]
        else:
            previous = earlier["previous"] if earlier else None
            text = (
                text
                + ("\n" if text and not text.endswith("\n") else "")
                + ("\n" if text.strip() else "")
                + block
            )
        try:
            written = _lookup(_tomllib().loads(text), list(entry.path))
        except _tomllib().TOMLDecodeError as exc:
            raise InvalidInput(
                f"{where}: a [{name}] table cannot be added to it ({exc})",
                hint=f"define {name} as a table in {where} by hand",
            ) from exc
        if written != entry.value:
            raise AmberError(f"{where}: the [{name}] table amber wrote does not read back")
        records.append(
            {"op": "set", "path": list(entry.path), "value": entry.value, "previous": previous}
        )
    return text, records + unmatched(old, entries)


def toml_unmerge(text: str, records: list[dict[str, Any]], where: str) -> tuple[str, list[str]]:
    left = []
    for record in records:
        name = ".".join(record["path"])
        span = _span(text, name)
        if span is None or _lookup(parse_toml(text, where), record["path"]) != record["value"]:
            left.append(name)
            continue
        text = text[: span[0]] + (record["previous"] or "") + text[span[1] :]
    return (text.rstrip() + "\n" if text.strip() else ""), left
