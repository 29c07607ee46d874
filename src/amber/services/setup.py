"""`amber init`: plan, write and undo what makes an agent's project use this amber installation
(the stdlib shims, amber's skills, the MCP server and the hooks in each host's config), with a
record of what was written in PROJECT/.amber/init.json so that `--remove` undoes exactly that."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from amber import host_toml
from amber import hosts as hostdata
from amber.errors import InvalidInput, NotFound
from amber.project import find_repository
from amber.services.init_files import (
    MANIFEST,
    MANIFEST_SCHEMA,
    Installation,
    Plan,
    desired_files,
    inside,
    missing_dirs,
    project_root,
    read,
    read_manifest,
    sha,
)

NOTES = {
    "codex": "Codex reads .codex/config.toml and .codex/hooks.json only in a project you trust",
    "cursor": "Cursor has no hook that adds context to a prompt: there, recall is the MCP tool "
    "memory_auto or the shim",
}


def _plan_files(plan: Plan, wanted: dict, old: dict, force: bool) -> dict:
    records = dict(old)
    conflicts = []
    for rel, (kind, data, users) in wanted.items():
        current, record = read(inside(plan.root, rel)), old.get(rel)
        previous = record["previous"] if record else None
        if current == data:
            plan.add(rel, kind, "unchanged", hosts=users)
            continue
        if current is not None and not (record and sha(current) == record["sha256"]):
            if not force:
                conflicts.append(rel)
                continue
            previous = base64.b64encode(current).decode()
        action = "create" if current is None else "update"
        plan.add(rel, kind, action, data, hosts=users)
        records[rel] = {"sha256": sha(data), "previous": previous}
    if conflicts:
        raise InvalidInput(
            f"amber init would replace files that hold other content: {', '.join(conflicts)}",
            hint="move them away, or pass --force to replace them (--remove puts them back)",
        )
    return records


def _merge(fmt: str, text: str, entries: tuple, old: list, rel: str) -> tuple[str, list, list]:
    if fmt == "toml":
        merged_text, records = host_toml.toml_merge(text, entries, old, rel)
        return merged_text, records, []
    doc = hostdata.parse_json(text, rel)
    merged, records, created = hostdata.json_merge(doc, entries, old, rel)
    return (text if merged == doc and text else hostdata.dump_json(merged, text)), records, created


def _plan_configs(plan: Plan, inst: Installation, hosts: list[str], hooks: bool, old: dict) -> dict:
    grouped: dict[str, tuple[str, list[str], list[hostdata.Entry]]] = {}
    server = [*inst.amber, "mcp"]
    prompt, stop = (inst.hook("prompt"), inst.hook("stop")) if hooks else (None, None)
    for host in hosts:
        for target in hostdata.config_targets(host, server, prompt, stop):
            fmt, users, entries = grouped.setdefault(target.path, (target.fmt, [], []))
            users.append(host)
            entries.extend(target.entries)
    records = dict(old)
    for rel, (fmt, users, entries) in grouped.items():
        raw, record = read(inside(plan.root, rel)), old.get(rel)
        text = decode(raw, rel)
        new_text, owned, created = _merge(
            fmt, text, tuple(entries), record["records"] if record else [], rel
        )
        data, keys = new_text.encode("utf-8"), [entry.key for entry in entries]
        if raw == data:
            plan.add(rel, "config", "unchanged", hosts=users, keys=keys)
            continue
        plan.add(rel, "config", "create" if raw is None else "merge", data, hosts=users, keys=keys)
        original = base64.b64encode(raw).decode() if raw is not None else None
        records[rel] = {
            "format": fmt,
            "created": record["created"] if record else raw is None,
            "original": record["original"] if record else original,
            "sha256": sha(data),
            "records": owned,
            "containers": (record["containers"] if record else []) + created,
        }
    return records


def decode(raw: bytes | None, rel: str) -> str:
    try:
        return raw.decode("utf-8") if raw is not None else ""
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{rel} is not UTF-8 text; amber init will not touch it") from exc


def init_project(
    project: Path,
    hosts: list[str],
    hooks: bool = True,
    dry_run: bool = False,
    force: bool = False,
    inst: Installation | None = None,
) -> dict[str, Any]:
    """Write (or, dry, only plan) amber into the project; every run after the first that finds
    everything in place changes nothing and says "unchanged" for each item."""
    plan = Plan(project_root(project))
    inst = inst or Installation.current()
    old = read_manifest(plan.root)
    wanted, problems = desired_files(inst, hosts)
    files = _plan_files(plan, wanted, old.get("files", {}), force)
    configs = _plan_configs(plan, inst, hosts, hooks, old.get("configs", {}))
    installation = {"python": inst.python, "src": inst.src, "amber": list(inst.amber)}
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "installation": installation,
        "hosts": sorted(set(old.get("hosts", [])) | set(hosts)),
        "files": files,
        "configs": configs,
        "dirs": list(old.get("dirs", [])),
    }
    plan.dirs = missing_dirs(plan.root, [path for path, _, _ in plan.writes])
    manifest["dirs"] += [
        d
        for d in missing_dirs(plan.root, [inside(plan.root, MANIFEST)]) + plan.dirs
        if d not in manifest["dirs"]
    ]
    if manifest != old:
        data = (json.dumps(manifest, indent=2) + "\n").encode()
        plan.add(MANIFEST, "manifest", "update" if old else "create", data)
        plan.writes.insert(0, plan.writes.pop())  # the record first: --remove finds what followed
        plan.dirs = missing_dirs(plan.root, [path for path, _, _ in plan.writes])
    if not dry_run:
        apply(plan)
    status = "unchanged" if not plan.writes else "planned" if dry_run else "initialized"
    return {
        "status": status,
        "project": str(plan.root),
        "hosts": hosts,
        "hooks": hooks,
        "dry_run": dry_run,
        "changes": plan.changes
        + [{"path": d, "kind": "folder", "action": "create"} for d in plan.dirs],
        "server": [*inst.amber, "mcp"],
        "manifest": MANIFEST,
        "notes": [NOTES[h] for h in hosts if h in NOTES] + _scope_note(plan.root) + problems,
    }


def _scope_note(root: Path) -> list[str]:
    """Outside a git repository memories have no project scope: say so where it is decided."""
    if find_repository(root) is not None:
        return []
    return [
        f"{root} is not in a git repository, so memories stored from it go to the shared "
        "scope that every project reads; run `git init` there, or pass --project NAME"
    ]


def apply(plan: Plan) -> None:
    try:
        for rel in plan.dirs:
            folder = plan.root / rel
            folder.mkdir(exist_ok=True)
            folder.chmod(0o755)
        for path, data, mode in plan.writes:
            if data is None:
                path.unlink(missing_ok=True)
                continue
            keep = path.stat().st_mode & 0o777 if path.exists() else mode
            temporary = path.with_name(f".{path.name}.amber-tmp")
            temporary.write_bytes(data)
            temporary.chmod(keep)
            os.replace(temporary, path)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write {exc.filename}: {exc.strerror}", hint="check the project's permissions"
        ) from exc


def remove_project(project: Path, dry_run: bool = False) -> dict[str, Any]:
    """Undo an init: files still as init wrote them are deleted (or what they replaced is put
    back), amber's keys leave merged configs, and what was changed since is left, and said."""
    plan = Plan(project_root(project))
    manifest = read_manifest(plan.root)
    if not manifest:
        raise NotFound(f"amber init left no record here ({MANIFEST})", hint="nothing to remove")
    for rel, record in manifest.get("files", {}).items():
        _undo(plan, rel, "file", record, None)
    for rel, record in manifest.get("configs", {}).items():
        _undo(plan, rel, "config", record, record)
    plan.add(MANIFEST, "manifest", "delete")
    if not dry_run:
        apply(plan)
        for rel in sorted(manifest.get("dirs", []), key=lambda d: d.count("/"), reverse=True):
            folder = plan.root / rel
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                plan.changes.append({"path": rel, "kind": "folder", "action": "delete"})
    kept = [c["path"] for c in plan.changes if c["action"] == "kept"]
    return {
        "status": "planned" if dry_run else "removed",
        "project": str(plan.root),
        "dry_run": dry_run,
        "changes": plan.changes,
        "kept": kept,
    }


def _undo(plan: Plan, rel: str, kind: str, record: dict, config: dict | None) -> None:
    current = read(inside(plan.root, rel))
    if current is None:
        plan.add(rel, kind, "gone")
        return
    previous = record.get("original") if config else record.get("previous")
    if sha(current) == record["sha256"]:
        restored = base64.b64decode(previous) if previous is not None else None
        plan.add(rel, kind, "delete" if restored is None else "restore", restored)
        return
    if config is None:
        plan.add(rel, kind, "kept", reason="changed since amber init wrote it")
        return
    text = decode(current, rel)
    if config["format"] == "toml":
        new_text, left = host_toml.toml_unmerge(text, config["records"], rel)
    else:
        doc = hostdata.parse_json(text, rel)
        undone, left = hostdata.json_unmerge(doc, config["records"], config["containers"])
        new_text = text if undone == doc else hostdata.dump_json(undone, text)
        new_text = "" if undone == {} and config["created"] else new_text
    if new_text == text:
        plan.add(rel, kind, "kept", reason="amber's entries were changed since init", left=left)
    elif not new_text.strip() and config["created"]:
        plan.add(rel, kind, "delete", left=left)
    else:
        plan.add(rel, kind, "unmerge", new_text.encode("utf-8"), left=left)
