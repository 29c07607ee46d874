"""A folder of documents kept as `knowledge` memories (the replaced CLI's `knowledge-sync`).

Each Markdown or text file is cut at its headings (and long sections at paragraphs) into
chunks that fit one memory; chunk i of a file is stored under the key `kb:<path>#<i>`, so an
unchanged chunk is a duplicate (content hash: nothing re-embedded), an edited one supersedes
its earlier version, and chunks past a shortened file's end are forgotten. `reset` also
forgets what came from files that are gone.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amber import text as textops
from amber.models import MemoryType
from amber.services import catalog, history
from amber.services.memory import MemoryService
from amber.stores.base import Where

SUFFIXES = (".md", ".markdown", ".txt", ".rst")
MAX_FILE_BYTES = 4 * 1024 * 1024
KEY_PREFIX = "kb:"
TAG = "knowledge-sync"
_HEADING = re.compile(r"^#{1,6}\s+\S")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Report:
    files: int = 0
    stored: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


def documents(folder: Path) -> Iterator[Path]:
    """Regular files with a known suffix under `folder`, sorted, hidden folders skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.lower().endswith(SUFFIXES) and path.is_file() and not path.is_symlink():
                yield path


def sections(text: str) -> list[str]:
    """The text cut before each Markdown heading; text before the first heading is one part."""
    parts: list[list[str]] = [[]]
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and _HEADING.match(line) and any(s.strip() for s in parts[-1]):
            parts.append([])
        parts[-1].append(line)
    return ["\n".join(p).strip() for p in parts if "\n".join(p).strip()]


def pieces(section: str, limit: int) -> list[str]:
    """A section cut at paragraph breaks (then hard) so each piece is at most `limit` bytes."""
    if len(section.encode()) <= limit:
        return [section]
    out: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", section):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        while len(paragraph.encode()) > limit:
            cut = paragraph.encode()[:limit].decode("utf-8", "ignore")
            out.append(cut)
            paragraph = paragraph[len(cut) :]
        current = paragraph
    if current.strip():
        out.append(current)
    return out


def chunks(relative: str, text: str, limit: int) -> list[str]:
    """The memories one file becomes, each starting with the file's path for context."""
    clean = _CONTROL.sub(" ", text.replace("\r\n", "\n"))
    head = f"{relative}\n\n"
    room = max(256, limit - len(head.encode()) - 16)
    return [head + piece for section in sections(clean) for piece in pieces(section, room)]


def key_of(relative: str, index: int) -> str:
    name = relative if len(relative) <= 160 else hashlib.sha256(relative.encode()).hexdigest()[:24]
    return f"{KEY_PREFIX}{name}#{index}"


def _synced_keys(memory: MemoryService, project: str) -> dict[str, str]:
    """key -> memory id of the active memories an earlier sync made in this project."""
    where = Where(equals={"project": project, "state": "active", "chunk": 0, "type": "knowledge"})
    where.all_of["tags"] = [TAG]
    hits = memory.store.scroll(memory.collection, where, 1_000_000)
    return {h.payload["key"]: h.id for h in hits if str(h.payload.get("key", "")).startswith("kb:")}


def sync(
    memory: MemoryService,
    folder: Path,
    project: str,
    reset: bool,
    limit: int,
    advance: Callable[[int], None],
) -> dict[str, Any]:
    report = Report()
    before = _synced_keys(memory, project)
    kept: set[str] = set()
    files = list(documents(folder))
    for path in files:
        relative = path.relative_to(folder).as_posix()
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:
                raise ValueError(f"over {MAX_FILE_BYTES} bytes")
            text = textops.utf8(raw)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            report.errors.append(f"{relative}: {getattr(exc, 'strerror', None) or exc}")
            advance(1)
            continue
        report.files += 1
        parts = chunks(relative, text, limit)
        for index, part in enumerate(parts):
            key = key_of(relative, index)
            kept.add(key)
            doc = memory.store_memory(
                part, MemoryType.knowledge, [TAG], project, key=key, allow_secrets=False
            )
            if doc["status"] == "duplicate":
                report.unchanged += 1
            else:
                report.stored += 1
        advance(1)
    prefixes = {key_of(p.relative_to(folder).as_posix(), 0)[:-1] for p in files}
    doomed = [
        mem_id
        for key, mem_id in before.items()
        if key not in kept and (reset or key.rsplit("#", 1)[0] + "#" in prefixes)
    ]
    report.removed = len(doomed)
    if doomed:  # a section that is gone takes its earlier versions with it
        catalog.forget_memories(memory, history.with_history(memory, doomed))
    return {
        "status": "synced",
        "synced": report.stored,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "files": report.files,
        "errors": report.errors,
        "message": f"{report.files} files: {report.stored} chunks stored, {report.unchanged} "
        f"unchanged, {report.removed} removed",
    }
