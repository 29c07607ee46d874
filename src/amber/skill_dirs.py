"""Skill folders on disk: where they are looked for, what is in them, and reading files safely."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

SKILL_FILE = "SKILL.md"

# Where the hosts keep skills (docs/skills.md cites each host's documentation). Project folders
# are relative to the project's root, user folders to the home folder; earlier ones win.
PROJECT_SKILL_DIRS = (
    ".claude/skills",  # Claude Code (also read by Copilot and Cursor)
    ".agents/skills",  # the cross-vendor folder: Codex, Gemini CLI, Copilot, Cursor
    ".github/skills",  # GitHub Copilot
    ".cursor/skills",  # Cursor
    ".gemini/skills",  # Gemini CLI
    ".codex/skills",  # Cursor's Codex compatibility folder
)
USER_SKILL_DIRS = (
    ".claude/skills",  # Claude Code, Copilot, Cursor
    ".agents/skills",  # Codex, Gemini CLI, Copilot
    ".codex/skills",  # Codex (earlier releases), Cursor
    ".copilot/skills",  # GitHub Copilot
    ".cursor/skills",  # Cursor
    ".gemini/skills",  # Gemini CLI
)
AMBER_SKILLS_DIR = Path(__file__).resolve().parents[2] / "skills"  # amber's own, in a checkout


class SkillSource(NamedTuple):
    """A folder of skill folders and its origin: "AMBER_SKILLS_PATH", "project", "user",
    "amber", or "path" for a folder named directly."""

    folder: Path
    origin: str


def as_sources(dirs: Iterable[Path | SkillSource]) -> list[SkillSource]:
    """Folders as sources; a bare path has the origin "path"."""
    return [d if isinstance(d, SkillSource) else SkillSource(Path(d), "path") for d in dirs]


def _expand(entry: str, home: Path | None) -> Path:
    if home is not None and (entry == "~" or entry.startswith("~/")):
        return home / entry[2:]
    return Path(entry)


def default_skill_dirs(
    project_root: Path | None = None,
    extra: str | None = None,
    home: Path | None = None,
    own: Path | None = AMBER_SKILLS_DIR,
) -> list[SkillSource]:
    """Where skills are looked for, in order; the first skill of a name wins:

    1. each os.pathsep-separated entry of `extra` (the AMBER_SKILLS_PATH value; "~/" is
       `home`), whether it exists or not, so a wrong entry is reported;
    2. the project's host folders, PROJECT_SKILL_DIRS under `project_root`;
    3. the user's host folders, USER_SKILL_DIRS under `home`;
    4. amber's own skills, `own`.
    Host and own folders are listed only when they exist. None skips a group.
    """
    sources = [
        SkillSource(_expand(entry.strip(), home), "AMBER_SKILLS_PATH")
        for entry in (extra or "").split(os.pathsep)
        if entry.strip()
    ]
    for base, names, origin in (
        (project_root, PROJECT_SKILL_DIRS, "project"),
        (home, USER_SKILL_DIRS, "user"),
    ):
        if base is not None:
            sources += [SkillSource(base / n, origin) for n in names if (base / n).is_dir()]
    if own is not None and own.is_dir():
        sources.append(SkillSource(own, "amber"))
    return sources


def skill_files_stamp(dirs: Iterable[Path | SkillSource]) -> tuple[tuple[str, int, int], ...]:
    """Path, mtime and size of every SKILL.md that `SkillRegistry.load` would read: when this is
    unchanged, a loaded registry (and the router built on it) is still current."""
    sources = as_sources(dirs)
    stamp = []
    for folder, _ in sources:
        for file in sorted(folder.glob(f"*/{SKILL_FILE}")) if folder.is_dir() else []:
            try:
                info = os.stat(file)  # stat only: never opens, so a FIFO cannot block it
            except OSError:
                stamp.append((str(file), -1, -1))
                continue
            stamp.append((str(file), info.st_mtime_ns, info.st_size))
    return (*((f"{d}|{o}", -1, -1) for d, o in sources), *stamp)


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device", stat.S_ISDIR: "a folder"}
    kinds |= {stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


def read_regular(path: Path, limit: int) -> bytes | str:
    """The first `limit` + 1 bytes of a regular file inside its skill folder, or why not.

    Checked before opening (a FIFO or a terminal would block a read) and again on the open
    descriptor, which is opened non-blocking: nothing here can hang on a special file. A
    symlink is followed only when its target stays inside the skill's own folder."""
    folder = Path(os.path.realpath(path.parent))
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(folder):
                return f"is a symlink to {target}, outside its skill folder {folder}; refused"
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            return f"is {_file_kind(mode)}, not a regular file; refused"
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return f"is {_file_kind(info.st_mode)}, not a regular file; refused"
            raw = handle.read(limit + 1)  # one byte past the limit, never a huge file
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    size = max(len(raw), info.st_size)
    return raw if size <= limit else f"file is {size} bytes; the limit is {limit}"
