"""Keeping data: export a store as JSON lines, import it back, reindex into another embedder.

The file format is one manifest line, then one memory per line (the `Memory` model as JSON),
oldest first, history included. Only stdlib `json` reads and writes it.
"""

from __future__ import annotations

import copy
import json
import math
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from amber import SCHEMA_VERSION, __version__, checks
from amber import text as textops
from amber.embedders.base import EmbedderIdentity
from amber.errors import InvalidInput
from amber.models import Memory
from amber.redact import redact
from amber.services.layout import Filters
from amber.services.memory import MemoryService
from amber.stores.base import Where

PAGE = 256  # memories per ordered scroll page and per fetch
# An import into a store that already holds memories measures densities one search each: at
# most this many (about a minute at 10k stored memories), the rest are scored neutral.
DENSITY_SEARCHES = 10_000
BATCH = 64  # memories per embedding batch

Advance = Callable[[int], None]  # called with how many more memories are done
Meter = Callable[[int], Advance]  # given the total, returns the function that advances


# -- reading a store, oldest first ---------------------------------------------------------------
def memory_ids(memory: MemoryService, where: Where) -> list[str]:
    """Ids of the memories under `where`, oldest first (ties by id).

    Walks newest-first ordered scroll pages with a `created_ts` cursor (ids already seen at the
    cursor's timestamp are excluded), keeping only (created_ts, id): a big store is never held
    whole, and the count is known before the first memory is written.
    """
    found: list[tuple[float, str]] = []
    cursor: float | None = None
    tied: list[str] = []
    while True:
        page = copy.deepcopy(where)
        page.equals["chunk"] = 0
        if cursor is not None:
            page.less_equal["created_ts"] = min(cursor, page.less_equal.get("created_ts", cursor))
            page.none_of["memory_id"] = list(tied)
        hits = memory.store.scroll(memory.collection, page, PAGE, newest_first="created_ts")
        if not hits:
            break
        stamps = [(float(h.payload["created_ts"]), h.id) for h in hits]
        found.extend(stamps)
        last = stamps[-1][0]
        tied = (tied if cursor == last else []) + [i for ts, i in stamps if ts == last]
        cursor = last
        if len(hits) < PAGE:
            break
    found.sort()
    return [mem_id for _, mem_id in found]


def iter_memories(memory: MemoryService, ids: list[str]) -> Iterator[Memory]:
    """The memories with these ids, in this order, fetched a page at a time."""
    for start in range(0, len(ids), PAGE):
        wanted = ids[start : start + PAGE]
        hits = {h.id: h.payload for h in memory.store.get(memory.collection, wanted)}
        for mem_id in wanted:
            if mem_id in hits:  # forgotten since the ids were listed (server stores only)
                yield Memory.model_validate(hits[mem_id])


# -- export --------------------------------------------------------------------------------------
def export_lines(
    memory: MemoryService,
    identity: EmbedderIdentity,
    project: str | None = None,
    redact_secrets: bool = False,
) -> Iterator[str]:
    """The manifest line, then every memory (superseded and expired ones too), oldest first.

    Content is exported as stored; `redact_secrets` also redacts memories that were stored with
    --allow-secrets. `project` None exports every project; "" only project-less memories.
    """
    filters = Filters(project=project, include_projectless=False, include_history=True)
    ids = memory_ids(memory, filters.where())
    manifest = {
        "schema": SCHEMA_VERSION,
        "amber_version": __version__,
        "embedder": identity.as_dict(),
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "count": len(ids),
        "project": project,
        "redacted": redact_secrets,
    }
    yield json.dumps({"manifest": manifest}, ensure_ascii=False)
    for item in iter_memories(memory, ids):
        if redact_secrets:
            item = _redacted(item)[0]
        yield json.dumps(item.model_dump(mode="json"), ensure_ascii=False)


def _redacted(item: Memory) -> tuple[Memory, int]:
    cleaned = redact(item.content)
    if cleaned.text == item.content:  # placeholders match again: count only real changes
        return item, 0
    update = {"content": cleaned.text, "redactions": item.redactions + cleaned.count}
    return item.model_copy(update=update), cleaned.count


def write_private(path: Path, lines: Iterable[str]) -> int:
    """Write lines to `path` (mode 0600) through a partial file renamed when complete; returns
    how many lines were written. A failed export leaves no half-written file behind."""
    if path.is_dir():
        raise InvalidInput(f"--output {path} is a folder", hint="give a file name")
    partial = path.with_name(path.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from exc
    written = 0
    try:
        os.fchmod(fd, 0o600)  # an old partial file may have had wider permissions
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
                written += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


# -- import: check every line first, then write --------------------------------------------------
@dataclass
class ImportPlan:
    path: Path
    manifest: dict[str, Any]
    count: int
    max_bytes: int


def _bad(number: int, problem: str) -> InvalidInput:
    return InvalidInput(
        f"line {number}: {problem}",
        hint="nothing was imported; fix or remove that line (files come from `amber export`)",
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def line_limit(max_bytes: int) -> int:
    """The longest line an import reads: a memory of the largest content, JSON-escaped (up to
    six bytes per character), with room for its other fields."""
    return max_bytes * 6 + 64 * 1024


def _lines(path: Path, limit: int) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line, each read to at most `limit` bytes (a
    longer line is refused without being held whole); invalid UTF-8 names its line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(limit + 1), b""), 1):
            if len(raw) > limit:
                raise _bad(number, f"the line is over {limit} bytes, more than any memory takes")
            try:
                text = textops.utf8(raw) if number == 1 else raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _bad(number, f"not valid UTF-8 (byte {exc.start})") from exc
            if text.strip():
                yield number, text


def _parse(number: int, text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise _bad(number, f"not valid JSON ({exc})") from exc


def _memory(number: int, text: str, max_bytes: int) -> Memory:
    doc = _parse(number, text)
    if not isinstance(doc, dict) or "manifest" in doc:
        raise _bad(number, "expected one memory as a JSON object")
    try:
        item = Memory.model_validate(doc)
        item = _normalised(item, max_bytes)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "memory"
        raise _bad(number, f"{where}: {first['msg']}") from exc
    except ValueError as exc:
        raise _bad(number, str(exc)) from exc
    for name in ("id", "supersedes", "superseded_by"):
        value = getattr(item, name)
        if name != "id" and not value:
            continue
        try:
            canonical = str(uuid.UUID(value)) == value
        except ValueError:
            canonical = False
        if not canonical:
            raise _bad(number, f"{name} {value!r} is not a memory id")
    return item


def _normalised(item: Memory, max_bytes: int) -> Memory:
    """The memory as `store` would have written it: the write path's own checks on content,
    names, tags and times (ValueError names the problem)."""
    checks.text(item.content, "content", max_bytes)
    for stamp in ("created_ts", "expires_ts"):
        if not math.isfinite(getattr(item, stamp)) or getattr(item, stamp) < 0:
            raise ValueError(f"{stamp} must be a finite time, not {getattr(item, stamp)!r}")
    _check_times(item)
    return item.model_copy(
        update={
            "tags": checks.tags(item.tags),
            "project": checks.name(item.project, "project"),
            "agent": checks.name(item.agent, "agent"),
            "key": checks.name(item.key, "key"),
        }
    )


# How far ahead of this machine's clock a memory may have been made (another machine's clock).
CLOCK_SKEW = 86_400.0


def _check_times(item: Memory) -> None:
    """created_at is the ISO 8601 form of created_ts (as `store` writes both), the memory was
    not made in the future, and it does not expire before it was made."""
    shown = repr(item.created_at[:40])
    try:
        made = datetime.fromisoformat(item.created_at)
    except ValueError:
        made = None
    if made is None or made.tzinfo is None:
        raise ValueError(
            f"created_at {shown} is not an ISO 8601 time with a zone "
            "(as export writes it: 2026-12-01T09:30:00.123456+00:00)"
        )
    if abs(made.timestamp() - item.created_ts) > 1.0:
        raise ValueError(
            f"created_at {shown} and created_ts {item.created_ts!r} name different times"
        )
    if item.created_ts > datetime.now(timezone.utc).timestamp() + CLOCK_SKEW:
        raise ValueError(f"created_at {shown} is in the future")
    if item.expires_ts < item.created_ts:
        raise ValueError(f"expires_ts {item.expires_ts!r} is before the memory was made")


def _memories(path: Path, max_bytes: int) -> Iterator[tuple[int, Memory]]:
    lines = _lines(path, line_limit(max_bytes))
    next(lines, None)  # the manifest, checked by check_import
    for number, text in lines:
        yield number, _memory(number, text, max_bytes)


def check_import(path: Path, max_bytes: int) -> ImportPlan:
    """Read the whole file once and refuse it, naming the line, unless every line is valid."""
    first = next(_lines(path, line_limit(max_bytes)), None)
    if first is None:
        raise _bad(1, "the file is empty; expected the manifest line of `amber export`")
    number, text = first
    doc = _parse(number, text)
    manifest = doc.get("manifest") if isinstance(doc, dict) else None
    if not isinstance(manifest, dict):
        raise _bad(number, 'expected the manifest {"manifest": {...}} that `amber export` writes')
    if manifest.get("schema") != SCHEMA_VERSION:
        raise _bad(
            number,
            f"unsupported schema {manifest.get('schema')!r}; this amber reads {SCHEMA_VERSION}",
        )
    expected = manifest.get("count")
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
        raise _bad(number, "the manifest has no valid count")
    seen: dict[str, int] = {}
    newer: dict[str, str] = {}  # superseded id -> the id that superseded it
    for number, item in _memories(path, max_bytes):
        if item.id in seen:
            raise _bad(number, f"repeats memory {item.id} of line {seen[item.id]}")
        seen[item.id] = number
        if item.state == "superseded":
            newer[item.id] = item.superseded_by
    _check_histories(seen, newer)
    if len(seen) != expected:
        raise InvalidInput(
            f"the manifest promises {expected} memories but the file holds {len(seen)}",
            hint="nothing was imported; the file is truncated or edited: export it again",
        )
    return ImportPlan(path, manifest, len(seen), max_bytes)


def _check_histories(lines: dict[str, int], newer: dict[str, str]) -> None:
    """Every superseded memory leads, through the versions that superseded it, to a current
    one in the file: a link to nothing or a loop would hide the whole history for good."""
    reaches_current: set[str] = set()
    for start in newer:
        path: list[str] = []
        step, on_path = start, set()
        while step in newer and step not in reaches_current:
            if step in on_path:
                raise _bad(lines[start], f"memory {start} is superseded in a loop")
            path.append(step)
            on_path.add(step)
            step = newer[step]
            if step not in lines:
                raise _bad(
                    lines[path[-1]],
                    f"memory {path[-1]} is superseded by {step or 'nothing'!r}, "
                    "which is not in the file",
                )
        reaches_current.update(path)


def import_file(
    memory: MemoryService,
    plan: ImportPlan,
    allow_secrets: bool = False,
    advance: Advance | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    """Write the memories of a checked file that the store lacks, keeping ids, times, states,
    keys and supersession; re-embedded in batches, or left pending when the embedder is down.
    All or nothing: if a write fails, the memories this import wrote are deleted again."""
    totals = {"imported": 0, "skipped": 0, "pending_embedding": 0, "redactions": 0}
    group: list[Memory] = []
    written: list[str] = []
    embedded: dict[str, list[list[float]]] = {}  # for the densities, measured once all are in
    alone = memory.store.count(memory.collection, Where()) == 0

    def flush() -> None:
        existing = {h.id for h in memory.store.get(memory.collection, [m.id for m in group])}
        fresh: list[Memory] = []
        for item in group:
            if item.id in existing:
                continue
            if not allow_secrets:
                item, count = _redacted(item)
                totals["redactions"] += count
            fresh.append(item)
        chunk_lists = [textops.chunk_words(m.content, *memory.window()) for m in fresh]
        flat = [c for chunks in chunk_lists for c in chunks]
        vectors = memory.embed_texts(flat) if flat else None
        offset = 0
        for item, chunks in zip(fresh, chunk_lists, strict=True):
            own = vectors[offset : offset + len(chunks)] if vectors else None
            offset += len(chunks)
            item = item.model_copy(update={"embedding": "pending" if own is None else "done"})
            with memory.write_lock:
                written.append(item.id)
                memory.write(item, chunks, own)
            if own is not None:
                embedded[item.id] = own
            totals["pending_embedding"] += own is None
        totals["imported"] += len(fresh)
        totals["skipped"] += len(group) - len(fresh)
        if advance:
            advance(len(group))
        group.clear()

    try:
        for _number, item in _memories(plan.path, plan.max_bytes):
            group.append(item)
            if len(group) >= batch:
                flush()
        if group:
            flush()
        totals["densities"] = memory.record_densities(embedded, alone, DENSITY_SEARCHES)
    except BaseException:
        forget_written(memory, written)
        raise
    return {"status": "imported", **totals}


def forget_written(memory: MemoryService, ids: list[str]) -> None:
    """Undo a partial import: delete every point of the memories it wrote."""
    with memory.write_lock:
        doomed = [point for mem_id in ids for point in memory.ids_of(mem_id)]
        memory.store.delete(memory.collection, doomed)
