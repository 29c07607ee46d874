"""SKILL.md parsing, validation messages, the registry and where it looks, skill folders that
cannot hang or leak, sections, and the skills amber ships."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import amber
from amber.errors import InvalidInput, NotFound
from amber.redact import redact
from amber.sections import find_section, opening, parse_sections, subtree
from amber.skills import (
    MAX_BYTES,
    PROJECT_SKILL_DIRS,
    USER_SKILL_DIRS,
    Skill,
    SkillCopy,
    SkillProblem,
    SkillRegistry,
    SkillSource,
    default_skill_dirs,
    load_skill,
    skill_files_stamp,
    validate_paths,
)

ROOT = Path(__file__).resolve().parent.parent
PYTHON_PATTERNS = ROOT / "skills" / "python-patterns" / "SKILL.md"
GOOD = "name: {folder}\ndescription: Does one thing; use it when that thing is needed.\n"


def write_skill(root: Path, folder: str, front: str | None = None, body: str = "# Title\n") -> Path:
    """A SKILL.md under root/folder whose front matter is `front` (default: a valid one)."""
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = GOOD.format(folder=folder) if front is None else front
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return path


def only_problem(path: Path) -> SkillProblem:
    skills, problems = validate_paths([path])
    assert skills == []
    assert len(problems) == 1, problems
    assert problems[0].path == path
    return problems[0]


LONG_NAME = "a" * 65
MALFORMED = [
    # (folder, front matter, line, message)
    ("demo", "description: Does things.\n", 1, "missing required field 'name'"),
    ("demo", "name: demo\n", 1, "missing required field 'description'"),
    ("bar", "name: foo\ndescription: x\n", 2, "name 'foo' does not match its folder 'bar'"),
    (
        "Python_Patterns",
        "description: x\nname: Python_Patterns\n",
        3,
        "name 'Python_Patterns' must be lowercase letters, digits and hyphens",
    ),
    (
        "-demo",
        "name: '-demo'\ndescription: x\n",
        2,
        "name '-demo' must not start or end with a hyphen",
    ),
    ("a--b", "name: a--b\ndescription: x\n", 2, "name 'a--b' must not contain consecutive hyphens"),
    (
        LONG_NAME,
        f"name: {LONG_NAME}\ndescription: x\n",
        2,
        "name is 65 characters; the limit is 64",
    ),
    ("123", "name: 123\ndescription: x\n", 2, "name must be a string, not int"),
    (
        "demo",
        "name: demo\nlicense: MIT\ndescription: " + "x" * 1100 + "\n",
        4,
        "description is 1100 characters; the limit is 1024",
    ),
    ("demo", "name: demo\ndescription: '  '\n", 3, "description must not be empty"),
    (
        "demo",
        "name: demo\ndescription: x\nallowed-tools: [Read, 3]\n",
        4,
        "allowed-tools item 2 must be a string",
    ),
    (
        "demo",
        "name: demo\ndescription: x\nallowed-tools: {read: yes}\n",
        4,
        "allowed-tools must be a list or a comma-separated string",
    ),
    ("demo", GOOD.format(folder="demo") + "name: demo\n", 4, "duplicate field 'name'"),
    (
        "demo",
        "name: demo\nlicense: MIT\ndescription: broken: here\n",
        4,
        "front matter is not valid YAML: mapping values are not allowed here (line 4)",
    ),
    (
        "demo",
        "name: demo\ndescription: 'never closed\nlicense: MIT\n",
        5,
        "front matter is not valid YAML: found unexpected end of stream (line 5); "
        "while scanning a quoted scalar on line 3",
    ),
    (
        "demo",
        "name: demo\ndescription: a bell \x07 rings\n",
        3,
        "front matter is not valid YAML: special characters are not allowed: U+0007 (line 3)",
    ),
    (
        "demo",
        "- name\n- description\n",
        2,
        "front matter must be a mapping of 'key: value' lines, not a list",
    ),
    (
        "demo",
        "just some words\n",
        2,
        "front matter must be a mapping of 'key: value' lines, not a str",
    ),
    ("demo", "", 2, "front matter must be a mapping of 'key: value' lines, not empty"),
]


@pytest.mark.parametrize(("folder", "front", "line", "message"), MALFORMED)
def test_malformed_front_matter_is_reported_precisely(
    tmp_path: Path, folder: str, front: str, line: int, message: str
) -> None:
    path = write_skill(tmp_path, folder, front)
    problem = only_problem(path)
    assert (problem.line, problem.message) == (line, message)


def test_load_skill_raises_invalid_input_with_path_and_line(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "bar", "name: foo\ndescription: x\n")
    with pytest.raises(InvalidInput) as caught:
        load_skill(path)
    assert caught.value.message == f"{path}:2: name 'foo' does not match its folder 'bar'"
    assert caught.value.exit_code == 2


def test_file_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "SKILL.md"
    path.parent.mkdir()
    path.write_text("# Demo\n\nname: demo\n", encoding="utf-8")
    problem = only_problem(path)
    assert (problem.line, problem.message) == (
        1,
        "no front matter: the file must start with a '---' line",
    )


def test_unterminated_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "SKILL.md"
    path.parent.mkdir()
    path.write_text("---\nname: demo\ndescription: x\n# Demo\n", encoding="utf-8")
    problem = only_problem(path)
    assert (problem.line, problem.message) == (
        1,
        "front matter is not closed: no '---' line after line 1",
    )


def test_not_utf8_reports_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "SKILL.md"
    path.parent.mkdir()
    data = b"---\nname: demo\ndescription: caf\xe9\n---\n"
    path.write_bytes(data)
    problem = only_problem(path)
    assert data.index(b"\xe9") == 31
    assert (problem.line, problem.message) == (None, "not UTF-8 (byte 31)")
    assert str(problem) == f"{path}: not UTF-8 (byte 31)"


def test_huge_file_is_rejected_by_size(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "demo", body="x" * 300_000)
    size = path.stat().st_size
    assert size > MAX_BYTES == 262_144
    problem = only_problem(path)
    assert (problem.line, problem.message) == (None, f"file is {size} bytes; the limit is 262144")


def test_file_just_under_the_limit_loads(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "demo")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("y" * (MAX_BYTES - path.stat().st_size))
    assert path.stat().st_size == MAX_BYTES
    assert load_skill(path).name == "demo"


def test_deeply_nested_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    front = GOOD.format(folder="demo") + "deep: " + "[" * 20_000 + "]" * 20_000 + "\n"
    problem = only_problem(write_skill(tmp_path, "demo", front))
    assert problem.message == "front matter is nested too deeply"


@pytest.mark.parametrize(
    ("value", "tools"),
    [
        ("\n  - Read\n  - Grep\n", ["Read", "Grep"]),
        (" [Read, Write]\n", ["Read", "Write"]),
        (" Read, Write, Edit\n", ["Read", "Write", "Edit"]),
        (" Bash(git add:*) Read\n", ["Bash(git add:*)", "Read"]),
        ("\n", []),
    ],
)
def test_allowed_tools_list_or_string(tmp_path: Path, value: str, tools: list[str]) -> None:
    path = write_skill(tmp_path, "demo", GOOD.format(folder="demo") + f"allowed-tools:{value}")
    assert load_skill(path).allowed_tools == tools


def test_allowed_tools_is_optional(tmp_path: Path) -> None:
    assert load_skill(write_skill(tmp_path, "demo")).allowed_tools == []


def test_unknown_keys_are_accepted_and_ignored(tmp_path: Path) -> None:
    front = GOOD.format(folder="demo") + "license: MIT\nmetadata:\n  owner: platform\n"
    skill = load_skill(write_skill(tmp_path, "demo", front, body="Body text.\n"))
    assert skill.name == "demo"
    assert skill.description == "Does one thing; use it when that thing is needed."
    assert skill.body == "Body text.\n"
    assert not hasattr(skill, "license")


def test_headings_skip_code_blocks_and_closing_hashes(tmp_path: Path) -> None:
    body = (
        "# Demo\n"
        "text with a #hashtag\n"
        "```python\n# a comment, not a heading\n```\n"
        "## Second ##\n"
        "~~~~\n```\n# still code\n~~~~\n"
        "   ### Indented three\n"
        "    # four spaces is code\n"
        "####### seven is text\n"
        "### C#\n"
    )
    skill = load_skill(write_skill(tmp_path, "demo", body=body))
    assert skill.headings == ["Demo", "Second", "Indented three", "C#"]


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "SKILL.md"
    path.parent.mkdir()
    text = "---\r\nname: demo\r\ndescription: x\r\n---\r\n# Demo\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    skill = load_skill(path)
    assert (skill.name, skill.description, skill.headings) == ("demo", "x", ["Demo"])


def test_the_python_patterns_skill_loads() -> None:
    registry = SkillRegistry.load(default_skill_dirs(None, None))
    assert registry.problems == []
    skill = registry.get("python-patterns")
    assert skill.path == PYTHON_PATTERNS
    assert skill.allowed_tools == ["Read", "Write", "Edit", "Glob", "Grep"]
    assert "Use it when" in skill.description
    assert "1. Framework selection: FastAPI, Django or Flask" in skill.headings
    assert "amber integration" in skill.headings


def test_invalid_skill_does_not_stop_the_others(tmp_path: Path) -> None:
    write_skill(tmp_path, "alpha")
    bad = write_skill(tmp_path, "broken", "name: broken\n")
    write_skill(tmp_path, "gamma")
    (tmp_path / "no-skill-here").mkdir()
    registry = SkillRegistry.load([tmp_path])
    assert sorted(registry.skills) == ["alpha", "gamma"]
    assert registry.problems == [SkillProblem(bad, 1, "missing required field 'description'")]
    assert isinstance(registry.get("alpha"), Skill)


def test_duplicate_name_in_a_later_dir_is_shadowed_and_first_wins(tmp_path: Path) -> None:
    first = write_skill(tmp_path / "one", "demo", body="# First\n")
    second = write_skill(tmp_path / "two", "demo", body="# Second\n")
    sources = [SkillSource(tmp_path / "one", "project"), SkillSource(tmp_path / "two", "user")]
    registry = SkillRegistry.load(sources)
    assert registry.get("demo").path == first
    assert registry.get("demo").headings == ["First"]
    assert registry.get("demo").origin == "project"
    assert registry.problems == []  # a shadowed copy is normal, not a problem
    assert registry.shadowed == {"demo": [SkillCopy(second, "user")]}
    (listed,) = registry.listing()
    assert (listed["name"], listed["origin"], listed["path"]) == ("demo", "project", str(first))
    assert listed["shadowed"] == [{"path": str(second), "origin": "user"}]


def test_same_dir_twice_is_loaded_once(tmp_path: Path) -> None:
    write_skill(tmp_path, "demo")
    registry = SkillRegistry.load([tmp_path, tmp_path / "demo" / ".."])
    assert (list(registry.skills), registry.problems) == (["demo"], [])


def test_missing_skill_dir_is_reported(tmp_path: Path) -> None:
    registry = SkillRegistry.load([tmp_path / "absent"])
    assert registry.problems == [
        SkillProblem(tmp_path / "absent", None, "skill folder does not exist")
    ]


def test_get_of_a_missing_name_lists_the_available_ones(tmp_path: Path) -> None:
    write_skill(tmp_path, "beta")
    write_skill(tmp_path, "alpha")
    registry = SkillRegistry.load([tmp_path])
    with pytest.raises(NotFound) as caught:
        registry.get("gamma")
    assert caught.value.message == "no skill named 'gamma'"
    assert caught.value.hint == "available skills: alpha, beta"
    with pytest.raises(NotFound) as empty:
        SkillRegistry().get("gamma")
    assert empty.value.hint == "available skills: none are loaded"


def test_validate_paths_accepts_files_and_folders(tmp_path: Path) -> None:
    one = write_skill(tmp_path / "set", "one")
    two = write_skill(tmp_path / "set", "two")
    single = write_skill(tmp_path, "single")
    other = tmp_path / "single" / "README.md"
    other.write_text("# not a skill\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    paths = [tmp_path / "set", single, one.parent, tmp_path / "absent", tmp_path / "empty", other]
    skills, problems = validate_paths(paths)
    assert [skill.path for skill in skills] == [one, two, single, one]
    assert problems == [
        SkillProblem(tmp_path / "absent", None, "no such file or directory"),
        SkillProblem(tmp_path / "empty", None, "no SKILL.md found here"),
        SkillProblem(other, None, "a skill file must be named SKILL.md"),
    ]


def test_default_skill_dirs_order_and_origins(tmp_path: Path) -> None:
    project, home, own = tmp_path / "repo", tmp_path / "home", tmp_path / "own"
    for folder in (
        project / ".agents/skills",
        project / ".claude/skills",
        project / ".github/skills",
        home / ".claude/skills",
        home / ".codex/skills",
        own,
    ):
        folder.mkdir(parents=True)
    extra = os.pathsep.join(["", str(tmp_path / "a"), " ", "~/mine"])
    assert default_skill_dirs(project, extra, home, own) == [
        SkillSource(tmp_path / "a", "AMBER_SKILLS_PATH"),  # listed even though it is missing
        SkillSource(home / "mine", "AMBER_SKILLS_PATH"),  # "~/" is the home given, not $HOME
        SkillSource(project / ".claude/skills", "project"),
        SkillSource(project / ".agents/skills", "project"),
        SkillSource(project / ".github/skills", "project"),
        SkillSource(home / ".claude/skills", "user"),
        SkillSource(home / ".codex/skills", "user"),
        SkillSource(own, "amber"),
    ]
    assert default_skill_dirs(None, None, None, None) == []
    package_root = Path(amber.__file__).resolve().parents[2]
    assert default_skill_dirs(None, "") == [SkillSource(package_root / "skills", "amber")]
    assert package_root / "skills" == ROOT / "skills"
    assert PROJECT_SKILL_DIRS[:2] == (".claude/skills", ".agents/skills")
    assert {".claude/skills", ".agents/skills", ".codex/skills"} <= set(USER_SKILL_DIRS)


def test_the_first_folder_with_a_name_wins_across_hosts(tmp_path: Path) -> None:
    project, home = tmp_path / "repo", tmp_path / "home"
    agents = write_skill(project / ".agents/skills", "demo", body="# From agents\n")
    claude = write_skill(project / ".claude/skills", "demo", body="# From claude\n")
    user = write_skill(home / ".claude/skills", "demo", body="# From the user\n")
    write_skill(home / ".claude/skills", "personal")
    registry = SkillRegistry.load(default_skill_dirs(project, None, home, None))
    assert registry.get("demo").path == claude
    assert registry.get("personal").origin == "user"
    assert registry.shadowed["demo"] == [SkillCopy(agents, "project"), SkillCopy(user, "user")]


def test_host_folders_agree_with_amber_init() -> None:
    """`amber init` installs into folders this registry reads (amber.hosts, when present)."""
    hosts = pytest.importorskip("amber.hosts")
    assert set(hosts.PROJECT_SKILL_FOLDERS) <= set(PROJECT_SKILL_DIRS)


def returns_within(seconds: float, call: Callable[[], Any]) -> Any:
    """call() in a daemon thread; fails (instead of hanging the suite) if it blocks."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds} s"
    return result[0]


def test_a_fifo_named_skill_md_is_refused_without_blocking(tmp_path: Path) -> None:
    write_skill(tmp_path, "alpha")
    fifo = tmp_path / "pipe" / "SKILL.md"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    registry = returns_within(3, lambda: SkillRegistry.load([tmp_path]))
    assert list(registry.skills) == ["alpha"]
    assert registry.problems == [SkillProblem(fifo, None, "is a FIFO, not a regular file; refused")]
    skills, problems = returns_within(3, lambda: validate_paths([tmp_path / "pipe"]))
    assert skills == [] and problems[0].message == "is a FIFO, not a regular file; refused"
    assert returns_within(3, lambda: skill_files_stamp([tmp_path]))


def test_a_symlink_to_stdin_is_refused_without_blocking(tmp_path: Path) -> None:
    link = tmp_path / "stdin" / "SKILL.md"
    link.parent.mkdir()
    link.symlink_to("/dev/stdin")
    registry = returns_within(3, lambda: SkillRegistry.load([tmp_path]))
    (problem,) = registry.problems
    assert problem.path == link and "outside its skill folder" in problem.message
    assert problem.message.endswith("; refused")


def test_a_symlink_leaving_the_skill_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "notes.md"
    secret.parent.mkdir()
    secret.write_text(f"---\n{GOOD.format(folder='leak')}---\nprivate\n", encoding="utf-8")
    link = tmp_path / "skills" / "leak" / "SKILL.md"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    registry = SkillRegistry.load([tmp_path / "skills"])
    assert registry.skills == {}
    target, folder = secret.resolve(), link.parent.resolve()
    assert registry.problems == [
        SkillProblem(
            link, None, f"is a symlink to {target}, outside its skill folder {folder}; refused"
        )
    ]
    with pytest.raises(InvalidInput, match="outside its skill folder"):
        load_skill(link)


def test_symlinks_that_stay_inside_are_followed(tmp_path: Path) -> None:
    """A SKILL.md linking to a file in its own folder, and a linked skill folder (how people
    share one skill between hosts), both load."""
    real = tmp_path / "store" / "shared"
    real.mkdir(parents=True)
    (real / "v2.md").write_text(f"---\n{GOOD.format(folder='shared')}---\nbody\n")
    (real / "SKILL.md").symlink_to("v2.md")
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "shared").symlink_to(real, target_is_directory=True)
    registry = SkillRegistry.load([tmp_path / "skills"])
    assert registry.problems == []
    assert registry.get("shared").body == "body\n"


def test_a_folder_named_skill_md_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "odd" / "SKILL.md").mkdir(parents=True)
    registry = SkillRegistry.load([tmp_path])
    assert registry.problems == [
        SkillProblem(
            tmp_path / "odd" / "SKILL.md", None, "is a folder, not a regular file; refused"
        )
    ]


FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)


def code_blocks(markdown: str) -> list[str]:
    return [match.group(2) for match in FENCE.finditer(markdown)]


@pytest.mark.parametrize("name", ["python-patterns", "python-testing", "git-workflow"])
def test_redactor_finds_no_secret_in_the_skill_code_blocks(name: str) -> None:
    blocks = code_blocks((ROOT / "skills" / name / "SKILL.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    assert any("memory_manager.py" in block for block in blocks)
    findings = {block[:60]: redact(block).kinds for block in blocks if redact(block).count}
    assert findings == {}


@pytest.mark.parametrize("name", ["python-testing", "git-workflow"])
def test_the_other_shipped_skills_have_many_sections(name: str) -> None:
    skill = load_skill(ROOT / "skills" / name / "SKILL.md")
    sections = [s for s in parse_sections(skill.body) if s.level and not s.is_empty()]
    assert len(sections) >= 8
    assert "amber integration" in skill.headings
    assert "Use it when" in skill.description or "Use it" in skill.description


BODY = """Lead-in text.

# Guide

Intro under the title.

## How to use this skill

Read this first.

## 1. Setup

```bash
# not a heading: a comment in a fenced block
pip install thing
```

### Details ###

More.

## 2. Use

~~~
## still code
~~~
"""


def test_sections_keep_code_blocks_whole_and_carry_their_paths() -> None:
    sections = parse_sections(BODY)
    titles = [s.title for s in sections]
    assert titles == [
        "",
        "Guide",
        "Guide › How to use this skill",
        "Guide › 1. Setup",
        "Guide › 1. Setup › Details",
        "Guide › 2. Use",
    ]
    setup = sections[3]
    assert "```bash\n# not a heading: a comment in a fenced block\npip install thing\n```" in (
        setup.text
    )
    assert sections[5].body.strip() == "~~~\n## still code\n~~~"
    assert [s.title for s in opening(sections)] == titles[:3]
    assert [s.heading for s in subtree(sections, 3)] == ["1. Setup", "Details"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("1. Setup", "1. Setup"),
        ("setup", "1. Setup"),
        ("1", "1. Setup"),
        ("§2", "2. Use"),
        ("2. use", "2. Use"),
        ("Setup › Details", "Details"),
        ("guide > 1. setup > details", "Details"),
        ("Guide / 2", "2. Use"),
        ("det", "Details"),
        ("nothing like it", None),
        ("", None),
    ],
)
def test_find_section_is_tolerant_to_case_numbering_and_paths(
    query: str, found: str | None
) -> None:
    sections = parse_sections(BODY)
    index = find_section(sections, query)
    assert (None if index is None else sections[index].heading) == found


def test_code_block_check_would_catch_a_secret() -> None:
    token = "ghp_" + "Ab1" * 12
    markdown = f"text\n\n```bash\nexport GITHUB_TOKEN={token}\n```\n"
    (block,) = code_blocks(markdown)
    assert redact(block).count == 1
