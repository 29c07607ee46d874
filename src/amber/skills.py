"""SKILL.md files: parse and validate their front matter, and keep a registry of skills by name."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from amber import text as textops
from amber.errors import InvalidInput, NotFound
from amber.sections import headings as _headings
from amber.skill_dirs import (
    AMBER_SKILLS_DIR,
    PROJECT_SKILL_DIRS,
    SKILL_FILE,
    USER_SKILL_DIRS,
    SkillSource,
    as_sources,
    default_skill_dirs,
    read_regular,
    skill_files_stamp,
)

__all__ = [  # the folder constants and default_skill_dirs are re-exported for callers
    "AMBER_SKILLS_DIR",
    "PROJECT_SKILL_DIRS",
    "USER_SKILL_DIRS",
    "Skill",
    "SkillCopy",
    "SkillProblem",
    "SkillRegistry",
    "SKILL_FILE",
    "SkillSource",
    "default_skill_dirs",
    "load_skill",
    "skill_files_stamp",
    "validate_paths",
]

MAX_BYTES = 256 * 1024
MAX_NAME = 64
MAX_DESCRIPTION = 1024

_NAME_CHARS = re.compile(r"[a-z0-9-]+")
_TOOL = re.compile(r"[^\s,()]+(?:\([^)]*\))?")  # "Read", "Bash(git add:*)"


@dataclass(frozen=True)
class SkillProblem:
    """Why one skill file (or folder) could not be loaded; `line` is 1-based within the file."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.message}"


class Skill(BaseModel):
    """A valid skill: its front matter fields, where it lives, and its Markdown body."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    allowed_tools: list[str] = Field(default_factory=list)
    path: Path
    body: str
    headings: list[str] = Field(default_factory=list)
    origin: str = ""  # which kind of folder it was found in: see `default_skill_dirs`

    def document(self) -> dict[str, Any]:
        """What `skills show` and the MCP tool `skill_get` return for the skill."""
        return {
            "name": self.name,
            "description": self.description,
            "path": str(self.path),
            "origin": self.origin,
            "allowed_tools": self.allowed_tools,
            "headings": self.headings,
            "body": self.body,
        }


class _FrontMatter(BaseModel):
    """The fields amber reads from front matter; other keys are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str
    description: str
    allowed_tools: list[str] = Field(default_factory=list, alias="allowed-tools")

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str, info: ValidationInfo) -> str:
        if not name:
            raise ValueError("name must not be empty")
        if len(name) > MAX_NAME:
            raise ValueError(f"name is {len(name)} characters; the limit is {MAX_NAME}")
        if not _NAME_CHARS.fullmatch(name):
            raise ValueError(f"name {name!r} must be lowercase letters, digits and hyphens")
        if name.startswith("-") or name.endswith("-"):
            raise ValueError(f"name {name!r} must not start or end with a hyphen")
        if "--" in name:
            raise ValueError(f"name {name!r} must not contain consecutive hyphens")
        folder = (info.context or {}).get("folder")
        if folder is not None and name != folder:
            raise ValueError(f"name {name!r} does not match its folder {folder!r}")
        return name

    @field_validator("description")
    @classmethod
    def _check_description(cls, description: str) -> str:
        if not description.strip():
            raise ValueError("description must not be empty")
        if len(description) > MAX_DESCRIPTION:
            raise ValueError(
                f"description is {len(description)} characters; the limit is {MAX_DESCRIPTION}"
            )
        return description

    @field_validator("allowed_tools", mode="before")
    @classmethod
    def _split_tools(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return _TOOL.findall(value)
        if not isinstance(value, list):
            raise ValueError("allowed-tools must be a list or a comma-separated string")
        return value


def _field_problem(error: ErrorDetails) -> str:
    """One pydantic error as a sentence about the front matter field it concerns."""
    loc = error["loc"]
    name = str(loc[0]) if loc else "front matter"
    kind = error["type"]
    if kind == "missing":
        return f"missing required field {name!r}"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "string_type" and len(loc) > 1:
        return f"{name} item {int(loc[1]) + 1} must be a string"
    if kind == "string_type":
        return f"{name} must be a string, not {type(error['input']).__name__}"
    return f"{name}: {error['msg']}"


def _load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The front matter's node tree (for key line numbers) and its Python value, in one pass."""
    loader = yaml.SafeLoader(text)  # may itself raise: it rejects non-printable characters
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _parse(path: Path, origin: str = "") -> tuple[Skill | None, list[SkillProblem]]:
    """Read and validate one SKILL.md; either a skill or the problems that prevent it."""

    def fail(line: int | None, message: str) -> tuple[None, list[SkillProblem]]:
        return None, [SkillProblem(path, line, message)]

    raw = read_regular(path, MAX_BYTES)
    if isinstance(raw, str):
        return fail(None, raw)
    try:
        text = textops.utf8(raw)
    except UnicodeDecodeError as exc:
        return fail(None, f"not UTF-8 (byte {exc.start})")

    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return fail(1, "no front matter: the file must start with a '---' line")
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if close is None:
        return fail(1, "front matter is not closed: no '---' line after line 1")

    front_text = "\n".join(lines[1:close]) + "\n"
    try:
        node, data = _load_yaml(front_text)
    except yaml.reader.ReaderError as exc:
        line = front_text.count("\n", 0, exc.position) + 2
        message = f"{exc.reason}: U+{exc.character:04X} (line {line})"
        return fail(line, f"front matter is not valid YAML: {message}")
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else None  # 0-based, after '---'
        message = f"{exc.problem or exc}" + (f" (line {line})" if line else "")
        if exc.context and exc.context_mark and exc.context_mark.line + 2 != line:
            message += f"; {exc.context} on line {exc.context_mark.line + 2}"
        return fail(line, f"front matter is not valid YAML: {message}")
    except yaml.YAMLError as exc:
        return fail(None, f"front matter is not valid YAML: {exc}")
    except RecursionError:
        return fail(2, "front matter is nested too deeply")
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        return fail(2, f"front matter must be a mapping of 'key: value' lines, not {kind}")

    key_lines: dict[str, int] = {}
    problems: list[SkillProblem] = []
    for key_node, _ in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key in key_lines:
            problems.append(
                SkillProblem(path, key_node.start_mark.line + 2, f"duplicate field {key!r}")
            )
        elif key is not None:
            key_lines[key] = key_node.start_mark.line + 2
    fields = {key: value for key, value in data.items() if isinstance(key, str)}
    try:
        front = _FrontMatter.model_validate(fields, context={"folder": path.parent.name})
    except ValidationError as exc:
        for error in exc.errors():
            line = key_lines.get(str(error["loc"][0]), 1) if error["loc"] else 1
            problems.append(SkillProblem(path, line, _field_problem(error)))
    if problems:
        return None, problems

    body = "\n".join(lines[close + 1 :])
    fields = front.model_dump()
    return Skill(**fields, path=path, body=body, headings=_headings(body), origin=origin), []


def load_skill(path: Path) -> Skill:
    """The skill in one SKILL.md file; InvalidInput says where and what is wrong otherwise."""
    skill, problems = _parse(path)
    if skill is None:
        raise InvalidInput(
            "; ".join(str(problem) for problem in problems),
            hint="see the Agent Skills format: front matter with name and description",
        )
    return skill


@dataclass(frozen=True)
class SkillCopy:
    """A copy of a skill that an earlier folder's skill of the same name shadows."""

    path: Path
    origin: str


def _skill_files(path: Path) -> list[Path]:
    """A file as given; a skill folder's SKILL.md (whatever kind of file it is, so that a
    FIFO is reported, not skipped); else the SKILL.md of each subfolder."""
    if not path.is_dir():
        return [path]
    if os.path.lexists(path / SKILL_FILE):
        return [path / SKILL_FILE]
    return sorted(path.glob(f"*/{SKILL_FILE}"))


def validate_paths(paths: Iterable[Path | SkillSource]) -> tuple[list[Skill], list[SkillProblem]]:
    """Check SKILL.md files, skill folders or folders of skill folders (`amber skills validate`)."""
    skills: list[Skill] = []
    problems: list[SkillProblem] = []
    for path, origin in as_sources(paths):
        if not path.exists():
            problems.append(SkillProblem(path, None, "no such file or directory"))
            continue
        files = _skill_files(path)
        if not files:
            problems.append(SkillProblem(path, None, f"no {SKILL_FILE} found here"))
        for file in files:
            if file.name != SKILL_FILE:
                problems.append(
                    SkillProblem(file, None, f"a skill file must be named {SKILL_FILE}")
                )
                continue
            skill, found = _parse(file, origin)
            skills.extend([skill] if skill is not None else [])
            problems.extend(found)
    return skills, problems


@dataclass
class SkillRegistry:
    """Valid skills by name (each knows its origin), the copies they shadow, and the problems
    of those that could not be loaded."""

    skills: dict[str, Skill] = field(default_factory=dict)
    problems: list[SkillProblem] = field(default_factory=list)
    shadowed: dict[str, list[SkillCopy]] = field(default_factory=dict)

    @classmethod
    def load(cls, dirs: Iterable[Path | SkillSource]) -> SkillRegistry:
        """Load `<dir>/*/SKILL.md` for each dir in order; for a name defined twice the first
        one wins and the later copies are recorded as shadowed. A folder named twice (or
        through a symlink) is read once; a missing folder is a problem only when it was
        named explicitly (AMBER_SKILLS_PATH or a path)."""
        registry = cls()
        seen: set[Path] = set()
        for folder, origin in as_sources(dirs):
            if folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            if not folder.is_dir():
                if origin in ("AMBER_SKILLS_PATH", "path"):
                    problem = SkillProblem(folder, None, "skill folder does not exist")
                    registry.problems.append(problem)
                continue
            for file in sorted(folder.glob(f"*/{SKILL_FILE}")):
                skill, problems = _parse(file, origin)
                registry.problems.extend(problems)
                if skill is None:
                    continue
                if skill.name in registry.skills:
                    copies = registry.shadowed.setdefault(skill.name, [])
                    copies.append(SkillCopy(file, origin))
                    continue
                registry.skills[skill.name] = skill
        return registry

    def names(self) -> list[str]:
        return sorted(self.skills)

    def get(self, name: str) -> Skill:
        skill = self.skills.get(name)
        if skill is None:
            available = ", ".join(self.names()) or "none are loaded"
            raise NotFound(f"no skill named {name!r}", hint=f"available skills: {available}")
        return skill

    def listing(self) -> list[dict[str, Any]]:
        """What `skills list` shows per skill: where it came from and which copies it hides."""
        return [
            {
                "name": s.name,
                "description": s.description,
                "path": str(s.path),
                "origin": s.origin,
                "allowed_tools": s.allowed_tools,
                "shadowed": [
                    {"path": str(c.path), "origin": c.origin} for c in self.shadowed.get(name, [])
                ],
            }
            for name, s in sorted(self.skills.items())
        ]
