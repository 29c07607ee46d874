"""`amber init`: plan, write and undo what makes an agent's project use this amber installation
(the stdlib shims, amber's skills, the MCP server and the hooks in each host's config), with a
record of what was written in PROJECT/.amber/init.json so that `--remove` undoes exactly that."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amber import hosts as hostdata
from amber.errors import AmberError, InvalidInput, NotFound
from amber.skills import validate_paths

MANIFEST = ".amber/init.json"
MANIFEST_SCHEMA = "amber-init/1"
SHIMS = ("execution/memory_manager.py", "execution/orchestrator.py")
NOTES = {
    "codex": "Codex reads .codex/config.toml and .codex/hooks.json only in a project you trust",
    "cursor": "Cursor has no hook that adds context to a prompt: there, recall is the MCP tool "
    "memory_auto or the shim",
}


@dataclass(frozen=True)
class Installation:
    """The amber that `init` points a project at: its interpreter, source folder and CLI."""

    python: str
    src: str
    amber: tuple[str, ...]

    @classmethod
    def current(cls) -> Installation:
        import amber

        script = Path(sys.executable).parent / "amber"
        found = script.is_file() and os.access(script, os.X_OK)
        argv = (str(script),) if found else (sys.executable, "-m", "amber")
        return cls(sys.executable, str(Path(amber.__file__).parent.parent), argv)

    def hook(self, event: str) -> str:
        return shlex.join([*self.amber, "hook", event])


@dataclass
class Plan:
    root: Path
    changes: list[dict[str, Any]] = field(default_factory=list)
    writes: list[tuple[Path, bytes | None, int]] = field(default_factory=list)  # None: delete
    dirs: list[str] = field(default_factory=list)  # folders to create, parents first

    def add(self, rel: str, kind: str, action: str, data: bytes | None = None, **info: Any) -> None:
        self.changes.append({"path": rel, "kind": kind, "action": action, **info})
        if action not in ("unchanged", "kept", "gone"):
            mode = 0o755 if kind == "shim" else 0o644
            self.writes.append((inside(self.root, rel), data, mode))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inside(root: Path, rel: str) -> Path:
    """PROJECT/rel with links followed; refused when that leads outside the project."""
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise InvalidInput(
            f"{rel} leads outside {root} (a symbolic link?); amber init writes only inside it",
            hint=f"remove or repoint the link at {rel}",
        )
    return path


def read(path: Path) -> bytes | None:
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder where amber init needs a file", hint="move it")
    try:
        return path.read_bytes() if path.exists() else None
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {path}: {exc.strerror}", hint="check its permissions"
        ) from exc


def project_root(project: Path) -> Path:
    if not project.is_dir():
        problem = "is not a folder" if project.exists() else "does not exist"
        raise InvalidInput(f"project folder {project} {problem}", hint="pass an existing folder")
    return project.resolve()


def read_manifest(root: Path) -> dict[str, Any]:
    raw = read(inside(root, MANIFEST))
    if raw is None:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(
            f"{MANIFEST} is not valid JSON ({exc})", hint=f"restore or delete {root / MANIFEST}"
        ) from exc
    if not isinstance(doc, dict) or doc.get("schema") != MANIFEST_SCHEMA:
        raise InvalidInput(f"{MANIFEST} is not an amber init record", hint="restore or delete it")
    return doc


def shim(inst: Installation) -> bytes:
    text = (Path(__file__).resolve().parents[1] / "data" / "shim.py").read_text(encoding="utf-8")
    for name, value in (("AMBER_PYTHON", inst.python), ("AMBER_SRC", inst.src)):
        line = f"{name} = {value!r}"
        text, count = re.subn(rf"^{name} = None\b", lambda _, line=line: line, text, flags=re.M)
        if count != 1:
            raise AmberError(f"the shim template has no single `{name} = None` line")
    return text.encode("utf-8")


def skill_files() -> tuple[dict[str, bytes], list[str]]:
    """amber's own skills (every skill folder of the checkout's skills/, as the registry finds
    them) as {"<name>/<file>": bytes}, regular files only; and the problems found."""
    files: dict[str, bytes] = {}
    problems: list[str] = []
    import amber

    folder = Path(amber.__file__).resolve().parents[2] / "skills"  # the checkout's skills/
    if folder.is_dir():
        skills, found = validate_paths([folder])
        problems += [f"amber skill skipped: {problem}" for problem in found]
        for skill in skills:
            base = skill.path.parent
            for path in sorted(base.rglob("*")):
                rel = path.relative_to(base)
                hidden = any(p.startswith(".") or p == "__pycache__" for p in rel.parts)
                if path.is_file() and not path.is_symlink() and not hidden:
                    files[f"{skill.name}/{rel.as_posix()}"] = path.read_bytes()
    return files, problems


def desired_files(inst: Installation, hosts: list[str]) -> tuple[dict[str, Any], list[str]]:
    """{relative path: (kind, content, hosts)} of every file init writes; and skill problems."""
    code = shim(inst)
    wanted: dict[str, Any] = {rel: ("shim", code, hosts) for rel in SHIMS}
    skills, problems = skill_files()
    for folder in dict.fromkeys(hostdata.SKILL_INSTALL_DIR[h] for h in hosts):
        users = [h for h in hosts if hostdata.SKILL_INSTALL_DIR[h] == folder]
        for rel, data in skills.items():
            wanted[f"{folder}/{rel}"] = ("skill", data, users)
    return wanted, problems


def missing_dirs(root: Path, paths: list[Path]) -> list[str]:
    """The folders under root that writing these paths needs and that do not exist, parents
    first."""
    found: list[str] = []
    for path in paths:
        for parent in reversed(path.parents):
            if parent.is_relative_to(root) and parent != root and not parent.exists():
                rel = parent.relative_to(root).as_posix()
                found += [] if rel in found else [rel]
    return found


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
        merged_text, records = hostdata.toml_merge(text, entries, old, rel)
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
        "notes": [NOTES[h] for h in hosts if h in NOTES] + problems,
    }


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
        new_text, left = hostdata.toml_unmerge(text, config["records"], rel)
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
