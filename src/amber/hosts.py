"""Where each agent host reads a project's skills, MCP servers and hooks, and how amber's
entries are merged into those config files and taken out again. Data and pure functions only:
reading and writing files is `amber.services.setup`'s job. Sources: docs/hosts.md."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from amber.errors import AmberError, BackendUnavailable, InvalidInput

HOSTS = ("claude", "codex", "cursor", "gemini")

# The project folders each host reads skills from (`<folder>/<name>/SKILL.md`), its own first.
PROJECT_SKILL_DIRS: dict[str, tuple[str, ...]] = {
    "claude": (".claude/skills",),
    "codex": (".agents/skills",),
    "cursor": (".cursor/skills", ".agents/skills", ".claude/skills", ".codex/skills"),
    "gemini": (".gemini/skills", ".agents/skills"),
}
# Every project skill folder any host reads, once each: what a skill registry should search.
PROJECT_SKILL_FOLDERS: tuple[str, ...] = tuple(
    dict.fromkeys(folder for host in HOSTS for folder in PROJECT_SKILL_DIRS[host])
)
# Where `amber init` puts amber's skills for a host: one folder each host reads, shared where
# hosts share one, so that no host sees the same skill twice from init alone.
SKILL_INSTALL_DIR: dict[str, str] = {
    "claude": ".claude/skills",
    "codex": ".agents/skills",
    "cursor": ".agents/skills",
    "gemini": ".agents/skills",
}
SERVER_NAME = "amber"


@dataclass(frozen=True)
class Entry:
    """One thing amber puts into a config file: `set` a key path to a value (JSON object key or
    TOML table), or `append` a value to the list at a key path (a hook group)."""

    op: str
    path: tuple[str, ...]
    value: Any

    @property
    def key(self) -> str:
        return ".".join(self.path) + ("[+]" if self.op == "append" else "")


@dataclass(frozen=True)
class ConfigTarget:
    host: str
    path: str  # relative to the project
    fmt: str  # "json" or "toml"
    entries: tuple[Entry, ...]


def config_targets(
    host: str, server: list[str], prompt_hook: str | None, stop_hook: str | None
) -> list[ConfigTarget]:
    """The config files `amber init` merges into for a host. `server` is the MCP server's argv;
    the hooks are shell command lines, None when hooks are not wanted."""
    stdio = {"command": server[0], "args": server[1:]}
    servers = ("mcpServers", SERVER_NAME)

    def command(line: str, **extra: Any) -> dict[str, Any]:
        return {"hooks": [{"type": "command", "command": line, **extra}]}

    if host == "claude":
        targets = [
            ConfigTarget(
                host, ".mcp.json", "json", (Entry("set", servers, {"type": "stdio", **stdio}),)
            )
        ]
        if prompt_hook and stop_hook:
            hooks = (
                Entry("append", ("hooks", "UserPromptSubmit"), command(prompt_hook, timeout=30)),
                Entry("append", ("hooks", "Stop"), command(stop_hook, timeout=10)),
            )
            targets.append(ConfigTarget(host, ".claude/settings.json", "json", hooks))
        return targets
    if host == "codex":
        table = Entry("set", ("mcp_servers", SERVER_NAME), stdio)
        targets = [ConfigTarget(host, ".codex/config.toml", "toml", (table,))]
        if prompt_hook and stop_hook:
            hooks = (
                Entry("append", ("hooks", "UserPromptSubmit"), command(prompt_hook)),
                Entry("append", ("hooks", "Stop"), command(stop_hook)),
            )
            targets.append(ConfigTarget(host, ".codex/hooks.json", "json", hooks))
        return targets
    if host == "cursor":  # its beforeSubmitPrompt hook cannot add context: no hooks
        return [ConfigTarget(host, ".cursor/mcp.json", "json", (Entry("set", servers, stdio),))]
    if host == "gemini":
        entries = [Entry("set", servers, stdio)]
        if prompt_hook:
            recall = command(prompt_hook, name="amber-recall", timeout=30000)
            entries.append(Entry("append", ("hooks", "BeforeAgent"), recall))
        return [ConfigTarget(host, ".gemini/settings.json", "json", tuple(entries))]
    raise InvalidInput(f"unknown host {host!r}", hint=f"one of: {', '.join(HOSTS)}, or all")


# --- JSON ----------------------------------------------------------------------------------

_ABSENT = "__absent__"  # marks "the key did not exist" in a record's `previous`


def parse_json(text: str, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise InvalidInput(
            f"{where} is not valid JSON ({exc}); amber init will not overwrite it",
            hint=f"fix or move {where}, then run amber init again",
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidInput(f"{where} must hold a JSON object", hint=f"fix or move {where}")
    return doc


def dump_json(doc: dict[str, Any], like: str = "") -> str:
    """The document as text, indented like the file it came from (`like`), else by 2."""
    found = re.search(r"^([ \t]+)\S", like, re.MULTILINE)
    indent: int | str = 2 if not found else "\t" if "\t" in found.group(1) else len(found.group(1))
    return json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"


def _container(doc: dict[str, Any], path: tuple[str, ...], where: str, created: list) -> dict:
    node = doc
    for depth, key in enumerate(path):
        if key not in node:
            node[key] = {}
            created.append(list(path[: depth + 1]))
        node = node[key]
        if not isinstance(node, dict):
            raise InvalidInput(
                f"{where}: {'.'.join(path[: depth + 1])} is not an object",
                hint=f"fix {where} by hand, then run amber init again",
            )
    return node


def json_merge(
    doc: dict[str, Any], entries: tuple[Entry, ...], old: list[dict[str, Any]], where: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[list[str]]]:
    """`doc` with amber's entries in; the records of what amber owns there and the containers
    it created. `old` are the records of an earlier init (kept, or replaced when they differ)."""
    doc = copy.deepcopy(doc)
    records: list[dict[str, Any]] = []
    created: list[list[str]] = []
    for entry in entries:
        earlier = next(
            (r for r in old if r["op"] == entry.op and r["path"] == list(entry.path)), None
        )
        parent = _container(doc, entry.path[:-1], where, created)
        last = entry.path[-1]
        if entry.op == "set":
            current = parent.get(last, _ABSENT)
            if current == entry.value and earlier is None:
                continue  # it was there before amber: not amber's to remove
            previous = earlier["previous"] if earlier else copy.deepcopy(current)
            parent[last] = copy.deepcopy(entry.value)
            records.append(
                {"op": "set", "path": list(entry.path), "value": entry.value, "previous": previous}
            )
            continue
        if last not in parent:
            parent[last] = []
            created.append(list(entry.path))
        items = parent[last]
        if not isinstance(items, list):
            raise InvalidInput(
                f"{where}: {entry.key[:-3]} is not a list", hint=f"fix {where} by hand"
            )
        if earlier is not None and earlier["value"] != entry.value and earlier["value"] in items:
            items.remove(earlier["value"])
        if entry.value in items and earlier is None:
            continue
        if entry.value not in items:
            items.append(copy.deepcopy(entry.value))
        records.append({"op": "append", "path": list(entry.path), "value": entry.value})
    return doc, records + _unmatched(old, entries), created


def _unmatched(old: list[dict[str, Any]], entries: tuple[Entry, ...]) -> list[dict[str, Any]]:
    """Records of an earlier init that this run does not touch (say hooks, now --no-hooks):
    still amber's, so still removed by --remove."""
    wanted = {(entry.op, entry.path) for entry in entries}
    return [r for r in old if (r["op"], tuple(r["path"])) not in wanted]


def json_unmerge(
    doc: dict[str, Any], records: list[dict[str, Any]], created: list[list[str]]
) -> tuple[dict[str, Any], list[str]]:
    """`doc` without amber's records (earlier values put back, containers amber created and left
    empty dropped); and the keys left alone because they were changed after init."""
    doc = copy.deepcopy(doc)
    left: list[str] = []
    for record in records:
        *parents, last = record["path"]
        node: Any = doc
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        name = ".".join(record["path"])
        if record["op"] == "set":
            if not isinstance(node, dict) or node.get(last, _ABSENT) != record["value"]:
                left.append(name)
            elif record["previous"] == _ABSENT:
                del node[last]
            else:
                node[last] = record["previous"]
        elif (
            isinstance(node, dict)
            and isinstance(node.get(last), list)
            and record["value"] in node[last]
        ):
            node[last].remove(record["value"])
            if not node[last] and list(record["path"]) in created:
                del node[last]
        else:
            left.append(name + "[+]")
    for path in sorted(created, key=len, reverse=True):
        node = doc
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and node.get(path[-1]) in ({}, []):
            del node[path[-1]]
    return doc, left


# --- TOML ----------------------------------------------------------------------------------

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
        node = node.get(key, _ABSENT) if isinstance(node, dict) else _ABSENT
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
        if current != _ABSENT and span is None:
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
    return text, records + _unmatched(old, entries)


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
