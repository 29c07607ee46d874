"""Where each agent host reads a project's skills, MCP servers and hooks, and how amber's
entries are merged into those config files and taken out again. Data and pure functions only:
reading and writing files is `amber.services.setup`'s job. Sources: docs/hosts.md."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from amber.errors import InvalidInput

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

ABSENT = "__absent__"  # marks "the key did not exist" in a record's `previous`


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
            current = parent.get(last, ABSENT)
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
    return doc, records + unmatched(old, entries), created


def unmatched(old: list[dict[str, Any]], entries: tuple[Entry, ...]) -> list[dict[str, Any]]:
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
            if not isinstance(node, dict) or node.get(last, ABSENT) != record["value"]:
                left.append(name)
            elif record["previous"] == ABSENT:
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
