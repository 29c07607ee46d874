"""The Store protocol both backends implement, with the plain data types it speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

DENSE = "dense"
SPARSE = "bm25"


@dataclass(frozen=True)
class Sparse:
    indices: list[int]
    values: list[float]


@dataclass
class PointIn:
    id: str
    payload: dict[str, Any]
    dense: list[float] | None = None
    sparse: Sparse | None = None


@dataclass
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


@dataclass
class Where:
    """A conjunction of payload conditions, translated by each backend into its own filter."""

    # No booleans: qdrant-edge 0.9 matches MatchValue(True) as the integer 1. Use keywords.
    equals: dict[str, str | int] = field(default_factory=dict)
    any_of: dict[str, list[str]] = field(default_factory=dict)
    all_of: dict[str, list[str]] = field(default_factory=dict)
    none_of: dict[str, list[str]] = field(default_factory=dict)
    greater: dict[str, float] = field(default_factory=dict)
    less_equal: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CollectionSpec:
    """A collection: dense vector size and the payload indexes to create (field -> kind)."""

    name: str
    dim: int
    indexes: tuple[tuple[str, str], ...] = ()  # kind: keyword | float | integer | bool


def optimize_report(changed: bool, info: Any) -> dict[str, Any]:
    """What `optimize` says of a collection; both engines' info objects share these names."""
    return {
        "changed": changed,
        "segments": info.segments_count,
        "points": info.points_count,
        "indexed_vectors": info.indexed_vectors_count,
    }


class Store(Protocol):
    """Points with a named dense vector and a named IDF sparse vector, in named collections."""

    location: str

    def ensure(self, spec: CollectionSpec) -> None: ...
    def exists(self, name: str) -> bool: ...
    def drop(self, name: str) -> None: ...
    def upsert(self, name: str, points: list[PointIn]) -> None: ...
    def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None: ...
    def delete(self, name: str, ids: list[str]) -> None: ...
    def get(self, name: str, ids: list[str]) -> list[Hit]: ...
    def dense_vectors(self, name: str, ids: list[str]) -> dict[str, list[float]]: ...
    # `fields`: the payload fields to return (None: all of them); a search that only ranks
    # ids asks for fewer, which the engine decodes faster.
    def search_dense(
        self,
        name: str,
        vector: list[float],
        where: Where,
        limit: int,
        fields: tuple[str, ...] | None = None,
    ) -> list[Hit]: ...
    def search_sparse(
        self,
        name: str,
        vector: Sparse,
        where: Where,
        limit: int,
        fields: tuple[str, ...] | None = None,
    ) -> list[Hit]: ...
    def scroll(
        self, name: str, where: Where, limit: int, newest_first: str | None = None
    ) -> list[Hit]: ...
    def count(self, name: str, where: Where) -> int: ...
    def read_meta(self) -> dict[str, Any]: ...
    def write_meta(self, meta: dict[str, Any]) -> None: ...
    def size_bytes(self) -> int | None: ...
    def optimize(self, name: str) -> dict[str, Any]: ...
    def close(self) -> None: ...
