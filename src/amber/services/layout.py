"""How memories are laid out in a collection: ids, payload indexes, filters, input checks."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field

from amber import checks
from amber.errors import InvalidInput
from amber.stores.base import Where

_NS = uuid.UUID("7d7c2f5e-3b1a-4f4e-8a59-2d8e6b1c9a01")
MEMORY_INDEXES = (
    ("project", "keyword"),
    ("type", "keyword"),
    ("tags", "keyword"),
    ("agent", "keyword"),
    ("key", "keyword"),
    ("memory_id", "keyword"),
    ("created_ts", "float"),
    ("expires_ts", "float"),
    ("state", "keyword"),
    ("chunk", "integer"),
    ("embedding", "keyword"),
)
MAX_QUERY_CHARS = checks.MAX_QUERY_CHARS
MAX_TAGS = 64
MAX_TAG_CHARS = 64


@dataclass
class Filters:
    project: str | None = None  # None: every project; "": project-less only
    include_projectless: bool = True
    types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    agent: str | None = None
    exclude_agent: str | None = None
    exclude_tags: list[str] = field(default_factory=list)
    include_history: bool = False
    since: float | None = None  # created_ts bounds, epoch seconds
    until: float | None = None

    def where(self) -> Where:
        where = Where()
        if self.project is not None:
            projects = [self.project, ""] if self.include_projectless else [self.project]
            where.any_of["project"] = sorted(set(projects))
        if self.types:
            where.any_of["type"] = self.types
        if self.tags:
            where.all_of["tags"] = self.tags
        if self.agent:
            where.equals["agent"] = self.agent
        if self.exclude_agent:
            where.none_of["agent"] = [self.exclude_agent]
        if self.exclude_tags:
            where.none_of["tags"] = self.exclude_tags
        if not self.include_history:
            where.equals["state"] = "active"
            where.greater["expires_ts"] = time.time()
        if self.since is not None:
            where.greater["created_ts"] = self.since
        if self.until is not None:
            where.less_equal["created_ts"] = self.until
        return where

    def refusals(self, payload: dict, now: float | None = None) -> list[str]:
        """Why a memory's payload does not pass these filters (nothing when it does): the
        same conditions as `where`, said in words, for `retrieve --why-not`."""
        now = time.time() if now is None else now
        out: list[str] = []
        project = payload.get("project", "")
        if self.project is not None:
            allowed = {self.project, ""} if self.include_projectless else {self.project}
            if project not in allowed:
                out.append(f"scope: it is in project {project!r}, the search in {self.project!r}")
        if self.types and payload.get("type") not in self.types:
            out.append(f"type: it is {payload.get('type')!r}, the search wants {self.types}")
        missing = [t for t in self.tags if t not in payload.get("tags", [])]
        if missing:
            out.append(f"tags: it lacks {missing}")
        if self.agent and payload.get("agent") != self.agent:
            out.append(f"agent: it is {payload.get('agent')!r}, the search wants {self.agent!r}")
        if self.exclude_agent and payload.get("agent") == self.exclude_agent:
            out.append(f"agent: {self.exclude_agent!r} is excluded")
        if set(self.exclude_tags) & set(payload.get("tags", [])):
            out.append(f"tags: it carries an excluded tag {sorted(self.exclude_tags)}")
        if not self.include_history and payload.get("state") == "superseded":
            out.append(f"superseded by {payload.get('superseded_by') or 'a newer memory'}")
        if not self.include_history and float(payload.get("expires_ts", 1e12)) <= now:
            out.append("expired")
        created = float(payload.get("created_ts", 0))
        if self.since is not None and created <= self.since:
            out.append("time: stored before --since")
        if self.until is not None and created > self.until:
            out.append("time: stored after --until")
        return out


def memory_id(project: str, content: str) -> str:
    digest = hashlib.sha256(f"{project}\x00{' '.join(content.split())}".encode()).hexdigest()
    return str(uuid.uuid5(_NS, digest))


def chunk_id(mem_id: str, index: int) -> str:
    return mem_id if index == 0 else str(uuid.uuid5(uuid.UUID(mem_id), str(index)))


def validate_text(value: str, what: str, limit: int) -> str:
    if not value or not value.strip():
        raise InvalidInput(f"{what} is empty", hint=f"pass some text as {what}")
    problem = checks.control_problem(value, what)
    if problem:
        raise InvalidInput(problem)
    size = len(value.encode("utf-8"))
    if size > limit:
        raise InvalidInput(
            f"{what} is {size} bytes, over the limit of {limit}",
            hint="split it, or raise AMBER_MAX_CONTENT_BYTES",
        )
    return value


def validate_query(query: str) -> str:
    """A query of at most MAX_QUERY_CHARS characters (whatever their bytes: a question in
    Chinese is three a character), then free text like any other."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"query is {len(query)} characters, over the limit of {MAX_QUERY_CHARS}",
            hint=f"{checks.SUMMARISE}; the limit is fixed",
        )
    return validate_text(query, "query", MAX_QUERY_CHARS * 4)


def validate_tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise InvalidInput(
            f"{len(tags)} tags given; the limit is {MAX_TAGS}",
            hint="keep the few tags that name the skill and the topic",
        )
    long = [t for t in tags if len(t) > MAX_TAG_CHARS]
    if long:
        raise InvalidInput(
            f"tag {long[0][:20]!r}… is {len(long[0])} characters; the limit is {MAX_TAG_CHARS}"
        )
    bad = [t for t in tags if any(ord(c) < 32 for c in t)]
    if bad:
        raise InvalidInput(f"tag {bad[0]!r} contains control characters")
    return tags
