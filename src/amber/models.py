"""Data shapes shared by services and front ends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field

NEVER = 1.0e12  # expires_ts of a memory that never expires (a number keeps range filters simple)


def iso_time(stamp: float) -> str:
    """Epoch seconds as the ISO 8601 UTC time a memory's created_at holds."""
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat()


class MemoryType(str, Enum):
    decision = "decision"
    code = "code"
    error = "error"
    conversation = "conversation"
    technical = "technical"
    knowledge = "knowledge"


MEMORY_TYPES = tuple(t.value for t in MemoryType)


class Memory(BaseModel):
    """One stored memory, as its first point's payload describes it."""

    id: str
    content: str
    type: MemoryType = MemoryType.knowledge
    tags: list[str] = Field(default_factory=list)
    project: str = ""
    agent: str = ""
    key: str = ""
    created_at: str
    created_ts: float
    expires_ts: float = NEVER
    # Keywords rather than booleans: qdrant-edge 0.9 cannot match boolean payload values.
    state: Literal["active", "superseded"] = "active"
    superseded_by: str = ""
    supersedes: str = ""
    embedding: Literal["done", "pending"] = "done"
    redactions: int = 0

    def public(self) -> dict[str, Any]:
        """The memory as `list` and `get` show it: times as ISO 8601, and whether it has
        expired (an expired memory keeps its state; search leaves it out)."""
        data = self.model_dump(mode="json", exclude={"created_ts", "expires_ts"})
        never = self.expires_ts >= NEVER
        stamp = None if never else datetime.fromtimestamp(self.expires_ts, timezone.utc)
        data["expires_at"] = None if stamp is None else stamp.isoformat()
        data["expired"] = not never and self.expires_ts <= time.time()
        return data


@dataclass
class SignalScore:
    rank: int | None = None
    score: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"rank": self.rank, "score": self.score}


@dataclass
class ScoredMemory:
    memory: Memory
    score: float
    dense: SignalScore = field(default_factory=SignalScore)
    bm25: SignalScore = field(default_factory=SignalScore)
    tokens: int = 0
    matched_chunk: int | None = None  # the chunk the dense list matched, when it did
    excerpt: tuple[int, int] | None = None  # characters of the content given, when not all

    def chunk(self) -> dict[str, Any]:
        m = self.memory
        cut = self.excerpt
        return {
            "id": m.id,
            "content": m.content if cut is None else m.content[cut[0] : cut[1]],
            "type": m.type.value,
            "tags": m.tags,
            "project": m.project or None,
            "agent": m.agent or None,
            "created_at": m.created_at,
            "score": round(self.score, 6),
            "dense": self.dense.as_dict(),
            "bm25": self.bm25.as_dict(),
            "tokens": self.tokens,
            "excerpt": None
            if cut is None
            else {"start": cut[0], "end": cut[1], "of_chars": len(m.content)},
        }
