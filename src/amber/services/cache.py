"""The response cache: reuse an answer only for a query with the same meaning, unguarded."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

from amber.guards import objection
from amber.stores.base import CollectionSpec, PointIn, Store, Where

_NS = uuid.UUID("0b6f1c55-7a52-4c3e-9d0f-3c1a8e2f6a10")
CACHE_INDEXES = (("project", "keyword"), ("expires_ts", "float"), ("created_ts", "float"))


def normalise_query(text: str) -> str:
    return " ".join(text.lower().split())


def cache_id(project: str, query: str) -> str:
    digest = hashlib.sha256(f"{project}\x00{normalise_query(query)}".encode()).hexdigest()
    return str(uuid.uuid5(_NS, digest))


@dataclass
class CacheHit:
    id: str
    query: str
    response: str
    score: float


@dataclass
class CacheMiss:
    best_score: float | None
    objection: str | None


class ResponseCache:
    def __init__(self, store: Store, collection: str, dim: int, threshold: float, ttl_days: float):
        self.store = store
        self.collection = collection
        self.dim = dim
        self.threshold = threshold
        self.ttl_days = ttl_days

    def ensure(self) -> None:
        self.store.ensure(CollectionSpec(self.collection, self.dim, CACHE_INDEXES))

    def _live(self, project: str) -> Where:
        return Where(any_of={"project": [project, ""]}, greater={"expires_ts": time.time()})

    def put(
        self,
        query: str,
        response: str,
        project: str,
        vector: list[float] | None,
        ttl_days: float | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        self.ensure()
        now = time.time()
        ttl = (ttl_days if ttl_days is not None else self.ttl_days) * 86400
        point_id = cache_id(project, query)
        payload = {
            "query": query,
            "response": response,
            "project": project,
            "created_ts": now,
            "expires_ts": now + ttl,
            "embedded": vector is not None,
            "model": model or "",
        }
        self.store.upsert(self.collection, [PointIn(point_id, payload, dense=vector)])
        return {"id": point_id, "expires_ts": payload["expires_ts"]}

    def lookup(self, query: str, project: str, vector: list[float] | None) -> CacheHit | CacheMiss:
        if not self.store.exists(self.collection):
            return CacheMiss(None, None)
        self.ensure()
        exact = self.store.get(self.collection, [cache_id(project, query)])
        now = time.time()
        for hit in exact:
            if hit.payload.get("expires_ts", 0) > now:
                return CacheHit(hit.id, hit.payload["query"], hit.payload["response"], 1.0)
        if vector is None:
            return CacheMiss(None, None)
        best = self.store.search_dense(self.collection, vector, self._live(project), 3)
        if not best:
            return CacheMiss(None, None)
        reason = None
        for hit in best:
            if hit.score < self.threshold:
                break
            reason = objection(hit.payload["query"], query)
            if reason is None:
                return CacheHit(hit.id, hit.payload["query"], hit.payload["response"], hit.score)
        return CacheMiss(best[0].score, reason)

    def invalidate_near(self, vector: list[float], project: str, threshold: float) -> list[str]:
        """Drop cached answers whose query is about what a newly stored memory says."""
        if not self.store.exists(self.collection):
            return []
        self.ensure()
        where = Where(any_of={"project": [project, ""]} if project else {})
        near = [
            h.id
            for h in self.store.search_dense(self.collection, vector, where, 50, ("query",))
            if h.score >= threshold
        ]
        self.store.delete(self.collection, near)
        return near

    def count(self) -> int:
        if not self.store.exists(self.collection):
            return 0
        self.ensure()
        return self.store.count(self.collection, Where(greater={"expires_ts": time.time()}))

    def clear(self, project: str | None, before_ts: float | None) -> int:
        """Delete the entries of one project scope (None: every project), all of them or those
        created before `before_ts`; returns how many were deleted."""
        if not self.store.exists(self.collection):
            return 0
        self.ensure()
        where = Where(any_of={"project": [project]} if project is not None else {})
        if before_ts is not None:
            where.less_equal["created_ts"] = before_ts
        doomed = [h.id for h in self.store.scroll(self.collection, where, 1_000_000)]
        self.store.delete(self.collection, doomed)
        return len(doomed)
