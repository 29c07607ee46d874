"""Memory service: store, hybrid search, auto (cache then memory), list, get, forget."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from amber import text as textops
from amber.cache import ResponseCache
from amber.embedders.base import Embedder
from amber.errors import BackendUnavailable, InvalidInput, NotFound
from amber.fusion import fuse
from amber.models import NEVER, Memory, MemoryType, ScoredMemory, SignalScore
from amber.redact import redact
from amber.sparse import Bm25Encoder
from amber.stores.base import CollectionSpec, PointIn, Store, Where

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
MAX_QUERY_CHARS = 8000


@dataclass
class RetrievalConfig:
    fusion: str = "rrf"
    rrf_k: int = 60
    weights: tuple[float, float] = (1.0, 1.0)
    dense_floor: float = 0.45
    bm25_floor: float = 0.5
    candidates: int = 50
    max_content_bytes: int = 64_000
    near_duplicate: float = 0.95
    invalidate: float = 0.55


@dataclass
class Filters:
    project: str | None = None  # None: every project; "": project-less only
    include_projectless: bool = True
    types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    agent: str | None = None
    exclude_agent: str | None = None
    include_history: bool = False

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
        if not self.include_history:
            where.equals["state"] = "active"
            where.greater["expires_ts"] = time.time()
        return where


def memory_id(project: str, content: str) -> str:
    digest = hashlib.sha256(f"{project}\x00{' '.join(content.split())}".encode()).hexdigest()
    return str(uuid.uuid5(_NS, digest))


def chunk_id(mem_id: str, index: int) -> str:
    return mem_id if index == 0 else str(uuid.uuid5(uuid.UUID(mem_id), str(index)))


def validate_text(value: str, what: str, limit: int) -> str:
    if not value or not value.strip():
        raise InvalidInput(f"{what} is empty", hint=f"pass some text as {what}")
    bad = [c for c in value if ord(c) < 32 and c not in "\n\r\t"]
    if bad:
        raise InvalidInput(
            f"{what} contains control characters (first: {ord(bad[0]):#04x})",
            hint="strip NUL and other control bytes before passing text to amber",
        )
    size = len(value.encode("utf-8"))
    if size > limit:
        raise InvalidInput(
            f"{what} is {size} bytes, over the limit of {limit}",
            hint="split it, or raise AMBER_MAX_CONTENT_BYTES",
        )
    return value


class MemoryService:
    def __init__(
        self,
        store: Store,
        collection: str,
        dim: int,
        embedder: Embedder | None,
        embedder_problem: str | None,
        bm25: Bm25Encoder,
        cache: ResponseCache,
        config: RetrievalConfig,
    ) -> None:
        self.store, self.collection, self.dim = store, collection, dim
        self.embedder, self.embedder_problem = embedder, embedder_problem
        self.bm25, self.cache, self.config = bm25, cache, config
        self.degraded: list[dict[str, str]] = []
        if embedder is None and embedder_problem:
            self.degraded.append({"signal": "dense", "reason": embedder_problem})
        store.ensure(CollectionSpec(collection, dim, MEMORY_INDEXES))

    # -- embedding -------------------------------------------------------------------------
    def _embed(self, texts: list[str], query: bool = False) -> list[list[float]] | None:
        """Vectors, or None when the embedder is unavailable (recorded under degraded)."""
        if self.embedder is None:
            return None
        try:
            if query:
                return [self.embedder.embed_query(texts[0]).tolist()]
            return [v.tolist() for v in self.embedder.embed_documents(texts)]
        except BackendUnavailable as exc:
            self.embedder = None
            self.degraded.append({"signal": "dense", "reason": exc.message})
            return None

    def embed_query(self, query: str) -> list[float] | None:
        vectors = self._embed([query], query=True)
        return vectors[0] if vectors else None

    # -- store -----------------------------------------------------------------------------
    def store_memory(
        self,
        content: str,
        mtype: MemoryType,
        tags: list[str],
        project: str,
        agent: str = "",
        key: str = "",
        expire_days: float | None = None,
        allow_secrets: bool = False,
    ) -> dict[str, Any]:
        validate_text(content, "content", self.config.max_content_bytes)
        redactions = 0
        if not allow_secrets:
            cleaned = redact(content)
            content, redactions = cleaned.text, cleaned.count
        mem_id = memory_id(project, content)
        existing = self.store.get(self.collection, [mem_id])
        if existing:
            merged = sorted(set(existing[0].payload.get("tags", [])) | set(tags))
            ids = [chunk_id(mem_id, i) for i in range(existing[0].payload.get("chunks", 1))]
            self.store.set_payload(self.collection, ids, {"tags": merged})
            return {"status": "duplicate", "id": mem_id, "redactions": redactions}
        chunks = textops.chunk_words(content, *self._window())
        vectors = self._embed(chunks)
        now = time.time()
        memory = Memory(
            id=mem_id,
            content=content,
            type=mtype,
            tags=tags,
            project=project,
            agent=agent,
            key=key,
            created_at=datetime.fromtimestamp(now, timezone.utc).isoformat(),
            created_ts=now,
            expires_ts=now + expire_days * 86400 if expire_days else NEVER,
            embedding="pending" if vectors is None else "done",
            redactions=redactions,
        )
        near = self._near_duplicates(vectors[0], project) if vectors else []
        previous = self._active_with_key(key, project) if key else []
        if previous:
            memory.supersedes = previous[0]
        self._write(memory, chunks, vectors)
        for old in previous:
            self._mark_superseded(old, mem_id)
        invalidated = (
            self.cache.invalidate_near(vectors[0], project, self.config.invalidate)
            if vectors
            else []
        )
        return {
            "status": "stored",
            "id": mem_id,
            "chunks": len(chunks),
            "redactions": redactions,
            "near_duplicates": near,
            "supersedes": previous,
            "pending_embedding": vectors is None,
            "invalidated_cache": len(invalidated),
        }

    def _window(self) -> tuple[int, int]:
        words = self.embedder.window_words if self.embedder else 160
        return words, max(1, words // 5)

    def _write(self, memory: Memory, chunks: list[str], vectors: list[list[float]] | None) -> None:
        base = memory.model_dump(mode="json")
        filters = {
            k: base[k]
            for k in (
                "project",
                "type",
                "tags",
                "agent",
                "key",
                "created_ts",
                "expires_ts",
                "state",
                "embedding",
            )
        }
        points = []
        for index, chunk in enumerate(chunks):
            payload = dict(base, chunks=len(chunks)) if index == 0 else dict(filters, text=chunk)
            payload.update(memory_id=memory.id, chunk=index)
            points.append(
                PointIn(
                    id=chunk_id(memory.id, index),
                    payload=payload,
                    dense=vectors[index] if vectors else None,
                    sparse=self.bm25.document(memory.content) if index == 0 else None,
                )
            )
        self.store.upsert(self.collection, points)

    def _ids_of(self, mem_id: str) -> list[str]:
        found = self.store.get(self.collection, [mem_id])
        count = found[0].payload.get("chunks", 1) if found else 1
        return [chunk_id(mem_id, i) for i in range(count)]

    def _mark_superseded(self, old_id: str, new_id: str) -> None:
        self.store.set_payload(
            self.collection, self._ids_of(old_id), {"state": "superseded", "superseded_by": new_id}
        )

    def _active_with_key(self, key: str, project: str) -> list[str]:
        where = Where(equals={"key": key, "project": project, "state": "active", "chunk": 0})
        return [h.id for h in self.store.scroll(self.collection, where, 100)]

    def _near_duplicates(self, vector: list[float], project: str) -> list[dict[str, Any]]:
        where = Filters(project=project).where()
        hits = self.store.search_dense(self.collection, vector, where, 3)
        return [
            {"id": h.payload["memory_id"], "score": round(h.score, 4)}
            for h in hits
            if h.score >= self.config.near_duplicate
        ]

    # -- search ----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        filters: Filters,
        top_k: int,
        mode: str = "hybrid",
        vector: list[float] | None = None,
        apply_floor: bool = True,
    ) -> list[ScoredMemory]:
        validate_text(query, "query", MAX_QUERY_CHARS)
        where, n = filters.where(), self.config.candidates
        dense: list[tuple[str, float]] = []
        if mode in ("hybrid", "dense"):
            vector = vector if vector is not None else self.embed_query(query)
            if vector is not None:
                best: dict[str, float] = {}
                for hit in self.store.search_dense(self.collection, vector, where, n * 2):
                    mid = hit.payload["memory_id"]
                    best[mid] = max(best.get(mid, -1.0), hit.score)
                dense = sorted(best.items(), key=lambda kv: -kv[1])[:n]
        sparse: list[tuple[str, float]] = []
        if mode in ("hybrid", "bm25"):
            hits = self.store.search_sparse(self.collection, self.bm25.query(query), where, n)
            sparse = [(h.payload["memory_id"], h.score) for h in hits]
        if mode == "dense" or not sparse:
            fused = dense
        elif not dense:
            fused = sparse
        else:
            fused = fuse(
                self.config.fusion, dense, sparse, k=self.config.rrf_k, weights=self.config.weights
            )
        ranks = {
            name: {mid: (r, s) for r, (mid, s) in enumerate(lst, 1)}
            for name, lst in (("dense", dense), ("bm25", sparse))
        }
        payloads = {
            h.id: h.payload
            for h in self.store.get(self.collection, [m for m, _ in fused[: top_k * 4]])
        }
        results: list[ScoredMemory] = []
        for mid, score in fused:
            if len(results) >= top_k:
                break
            if mid not in payloads:
                continue
            memory = Memory.model_validate(payloads[mid])
            d, b = ranks["dense"].get(mid), ranks["bm25"].get(mid)
            item = ScoredMemory(
                memory,
                score,
                SignalScore(*d) if d else SignalScore(),
                SignalScore(*b) if b else SignalScore(),
                textops.estimate_tokens(memory.content),
            )
            if apply_floor and not self._evidence(query, item):
                continue
            results.append(item)
        return results

    def _evidence(self, query: str, item: ScoredMemory) -> bool:
        """A calibrated dense similarity floor, or enough of the query's terms in the memory."""
        if item.dense.score is not None and item.dense.score >= self.config.dense_floor:
            return True
        terms = set(self.bm25.query(query).indices)
        if not terms:
            return False
        present = terms & set(self.bm25.document(item.memory.content).indices)
        return len(present) / len(terms) >= self.config.bm25_floor

    # -- auto ------------------------------------------------------------------------------
    def auto(
        self, query: str, filters: Filters, top_k: int, budget_tokens: int, project: str
    ) -> dict[str, Any]:
        """Cache first, then hybrid memory search; the document agents read (DESIGN.md §1)."""
        started = time.perf_counter()
        validate_text(query, "query", MAX_QUERY_CHARS)
        vector = self.embed_query(query)
        embedded = time.perf_counter()
        found = self.cache.lookup(query, project, vector)
        looked = time.perf_counter()
        doc: dict[str, Any] = {
            "cache_hit": False,
            "cached_response": None,
            "cache_score": None,
            "context_chunks": [],
            "total_chunks": 0,
        }
        if hasattr(found, "response"):
            doc.update(
                status="cache_hit",
                source="cache",
                cache_hit=True,
                cached_response=found.response,
                cache_score=round(found.score, 4),
                cached_query=found.query,
                search_type="cache",
                tokens=textops.estimate_tokens(found.response),
            )
        else:
            doc["cache_score"] = None if found.best_score is None else round(found.best_score, 4)
            if found.objection:
                doc["cache_objection"] = found.objection
            results = self.search(query, filters, top_k, vector=vector)
            packed, used = pack(results, budget_tokens)
            doc.update(
                status="memory_match" if packed else "no_match",
                source="memory" if packed else "none",
                context_chunks=[r.chunk() for r in packed],
                total_chunks=len(packed),
                search_type="hybrid" if vector is not None else "bm25",
                tokens=used,
            )
        done = time.perf_counter()
        doc["timing_ms"] = {
            "embed": round((embedded - started) * 1000, 2),
            "cache": round((looked - embedded) * 1000, 2),
            "search": round((done - looked) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        }
        return doc

    # -- catalogue -------------------------------------------------------------------------
    def list(self, filters: Filters, limit: int) -> list[Memory]:
        where = filters.where()
        where.equals["chunk"] = 0
        hits = self.store.scroll(self.collection, where, limit, newest_first="created_ts")
        return [Memory.model_validate(h.payload) for h in hits]

    def get(self, mem_id: str) -> dict[str, Any]:
        try:
            uuid.UUID(mem_id)
        except ValueError as exc:
            raise InvalidInput(
                f"{mem_id!r} is not a memory id", hint="ids look like 3f2b…; see `amber list`"
            ) from exc
        found = self.store.get(self.collection, [mem_id])
        if not found:
            raise NotFound(f"no memory with id {mem_id}", hint="see `amber list`")
        memory = Memory.model_validate(found[0].payload)
        history = []
        previous = memory.supersedes
        while previous and len(history) < 50:
            older = self.store.get(self.collection, [previous])
            if not older:
                break
            history.append(Memory.model_validate(older[0].payload).public())
            previous = older[0].payload.get("supersedes", "")
        return {"memory": memory.public(), "history": history}

    def forget(self, ids: list[str]) -> int:
        doomed: list[str] = []
        for mem_id in ids:
            doomed.extend(self._ids_of(mem_id))
        self.store.delete(self.collection, doomed)
        return len(ids)

    def matching_ids(self, filters: Filters, limit: int = 1_000_000) -> list[str]:
        where = filters.where()
        where.equals["chunk"] = 0
        return [h.id for h in self.store.scroll(self.collection, where, limit)]

    def stats(self) -> dict[str, int]:
        first = Where(equals={"chunk": 0})
        return {
            "memories": self.store.count(self.collection, first),
            "active": self.store.count(
                self.collection, Where(equals={"chunk": 0, "state": "active"})
            ),
            "pending_embedding": self.store.count(
                self.collection, Where(equals={"chunk": 0, "embedding": "pending"})
            ),
            "cache_entries": self.cache.count(),
        }

    def fill_pending(self, limit: int = 10_000) -> int:
        """Embed memories stored while the embedder was down; returns how many were filled."""
        if self.embedder is None:
            return 0
        where = Where(equals={"chunk": 0, "embedding": "pending"})
        filled = 0
        for hit in self.store.scroll(self.collection, where, limit):
            memory = Memory.model_validate(hit.payload)
            chunks = textops.chunk_words(memory.content, *self._window())
            vectors = self._embed(chunks)
            if vectors is None:
                break
            self._write(memory.model_copy(update={"embedding": "done"}), chunks, vectors)
            filled += 1
        return filled


def pack(results: list[ScoredMemory], budget: int) -> tuple[list[ScoredMemory], int]:
    """Keep results, best first, while their estimated tokens fit the budget."""
    kept: list[ScoredMemory] = []
    used = 0
    for item in results:
        if used + item.tokens <= budget:
            kept.append(item)
            used += item.tokens
    if not kept and results:
        first = results[0]
        cut = first.memory.content[: budget * 4]
        first.memory = first.memory.model_copy(update={"content": cut})
        first.tokens = textops.estimate_tokens(cut)
        kept, used = [first], first.tokens
    return kept, used
