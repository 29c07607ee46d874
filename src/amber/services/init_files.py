"""What `amber init` writes and reads, kept inside the project: the installation it points a
project at, the plan of changes, the shim filled in with this installation's paths, amber's own
skill files, and PROJECT/.amber/init.json."""

from __future__ import annotations

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
from amber.errors import AmberError, InvalidInput
from amber.skills import validate_paths

MANIFEST = ".amber/init.json"
MANIFEST_SCHEMA = "amber-init/1"
SHIMS = ("execution/memory_manager.py", "execution/orchestrator.py")


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
