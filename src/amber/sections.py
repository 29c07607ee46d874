"""Markdown skill bodies as sections: ATX headings with their own text, fenced code kept whole."""

from __future__ import annotations

import re
from dataclasses import dataclass

PATH_SEPARATOR = " › "

_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
_NUMBERING = re.compile(r"^(?:§\s*)?\d+(?:\.\d+)*[.):]?\s+")
_PATH_SPLIT = re.compile(r"\s*(?:›|>|/)\s*")
_PREAMBLE = re.compile(
    r"\b(how to (use|work with|read|apply)|using this skill|when to use|start here|"
    r"read (this )?first|overview|quick ?start|at a glance)\b",
    re.I,
)


@dataclass(frozen=True)
class Section:
    """One heading and the text under it up to the next heading of any level.

    `path` holds the headings from the top of the document down to this one; the text before
    the first heading is a section with an empty path. `text` starts with the heading line.
    """

    path: tuple[str, ...]
    level: int  # 1-6 for a heading, 0 for the text before the first heading
    text: str
    line: int  # 1-based line of the heading within the body

    @property
    def heading(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def title(self) -> str:
        return PATH_SEPARATOR.join(self.path)

    @property
    def body(self) -> str:
        """The section's own text without its heading line."""
        if not self.level:
            return self.text
        return self.text.split("\n", 1)[1] if "\n" in self.text else ""

    def is_empty(self) -> bool:
        return not self.body.strip()


def _heading(line: str) -> tuple[int, str] | None:
    match = _HEADING.fullmatch(line.rstrip("\r"))
    if match is None:
        return None
    text = _CLOSING_HASHES.sub("", match.group(2) or "").strip()
    return (len(match.group(1)), text) if text else None


def parse_sections(body: str) -> list[Section]:
    """The body's sections in document order (code fences never end a section)."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    level, start, fence = 0, 1, ""

    def close() -> None:
        text = "\n".join(lines).strip("\n")
        if level or text.strip():
            sections.append(Section(tuple(h for _, h in stack), level, text, start))

    for number, line in enumerate(body.split("\n"), start=1):
        marker = _FENCE.match(line)
        if fence:  # inside a code block: only a bare fence at least as long closes it
            if marker and marker.group(1).startswith(fence) and not line[marker.end() :].strip():
                fence = ""
        elif marker:
            fence = marker.group(1)
        elif found := _heading(line):
            close()
            level, text = found
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            lines, start = [], number
        lines.append(line)
    close()
    return sections


def headings(body: str) -> list[str]:
    """ATX headings outside fenced code blocks, without their # markers."""
    return [s.heading for s in parse_sections(body) if s.level]


def opening(sections: list[Section]) -> list[Section]:
    """The guidance to read before any section: the text before the first heading, the
    document's title section (a lone level-1 heading and its own text), and a first section
    that says how to use the skill."""
    head = list(sections[:1] if sections and sections[0].level == 0 else [])
    rest = sections[len(head) :]
    if rest and rest[0].level == 1 and sum(s.level == 1 for s in sections) == 1:
        head.append(rest[0])
        rest = rest[1:]
    if rest and _PREAMBLE.search(rest[0].heading):
        head.append(rest[0])
    return head


def subtree(sections: list[Section], index: int) -> list[Section]:
    """A section and every section nested under it."""
    top = sections[index]
    found = [top]
    for section in sections[index + 1 :]:
        if not top.level or section.level <= top.level:
            break
        found.append(section)
    return found


def normalise_heading(text: str) -> str:
    """Heading text for matching: no numbering, Markdown marks or case, single spaces."""
    text = re.sub(r"[`*_]", "", text).strip() + " "
    return " ".join(_NUMBERING.sub("", text).casefold().split())


def _numbering(text: str) -> str:
    found = _NUMBERING.match(text.strip().lstrip("§").strip() + " ")
    return found.group(0).strip().rstrip(".):") if found else ""


def _match(part: str, heading: str) -> int:
    """How well one part of a query names a heading: 3 the same text, 2 the same number (and
    the text so far), 1 the start of the text, 0 not at all."""
    query, text = normalise_heading(part), normalise_heading(heading)
    number = _numbering(part)
    if query and query == text:
        return 3
    if number and number == _numbering(heading) and text.startswith(query):
        return 2
    return 1 if query and text.startswith(query) else 0


def find_section(sections: list[Section], query: str) -> int | None:
    """Index of the section a person means by `query`: a heading path ("A › B", "A > B" or
    "A / B", its last parts enough) or one heading, each part matched without regard to case
    or numbering: the same text first, then the same number, then the start of the text.
    The first section in document order wins a tie; None when nothing matches."""
    parts = [p for p in _PATH_SPLIT.split(query.strip()) if p.strip()]
    best: tuple[int, int] | None = None
    for index, section in enumerate(sections):
        if not section.level or not parts or len(section.path) < len(parts):
            continue
        tail = section.path[-len(parts) :]
        tier = min(_match(p, h) for p, h in zip(parts, tail, strict=True))
        if tier and (best is None or tier > best[0]):
            best = (tier, index)
    return None if best is None else best[1]
