"""Memory service: embedding, writing memories (duplicates, supersession, density) and the
hybrid search over them (services/search.py)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from amber import text as textops
from amber.embedders.base import Embedder
from amber.errors import BackendUnavailable
from amber.models import NEVER, Memory, MemoryType, iso_time
from amber.redact import redact
from amber.services import density, history
from amber.services.cache import ResponseCache
from amber.services.layout import MEMORY_INDEXES, Filters, chunk_id, memory_id
from amber.services.search import HybridSearch, RetrievalConfig
from amber.stores.base import CollectionSpec, PointIn, Store, Where
from amber.stores.bm25 import Bm25Encoder

FILTER_FIELDS = (
    "project",
    "type",
    "tags",
    "agent",
    "key",
    "created_ts",
    "expires_ts",
    "state",
    "embedding",
)  # copied onto every chunk so filters see every chunk


def document_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """The embedder's vectors of texts to store, but a text it cannot read (emoji, one long
    token, an unknown script) gets a direction drawn from its own hash instead: pooled unknown
    pieces put all such texts on one vector, which any other unreadable text matched at cosine
    near 1, while a random direction lies far from every text (cosine about 0 +- 0.05 in 384
    dimensions), so such a memory is found by its words only."""
    vectors = embedder.embed_documents(texts)
    for row, text in enumerate(texts):
        if not embedder.reads(text):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            draw = np.random.default_rng(seed).standard_normal(vectors.shape[1])
            vectors[row] = (draw / np.linalg.norm(draw)).astype(vectors.dtype)
    return vectors


UNREADABLE = (
    "the query holds too little the embedder can read (symbols, emoji, one letter, an unknown "
    "script): dense similarity was skipped"
)


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
        write_lock: threading.Lock | None = None,
    ) -> None:
        self.store, self.collection, self.dim = store, collection, dim
        self.write_lock = write_lock or threading.Lock()  # shared by every writer of the store
        self.embedder, self.embedder_problem = embedder, embedder_problem
        self.bm25, self.cache = bm25, cache
        self.degraded: list[dict[str, str]] = []
        self._last_query: tuple[str, list[float]] | None = None
        if embedder is None and embedder_problem:
            self.degraded.append({"signal": "dense", "reason": embedder_problem})
        store.ensure(CollectionSpec(collection, dim, MEMORY_INDEXES))
        self.hybrid = HybridSearch(store, collection, bm25, config, self.embed_query)

    @property
    def config(self) -> RetrievalConfig:
        """One configuration for writing and searching (search holds it)."""
        return self.hybrid.config

    @config.setter
    def config(self, value: RetrievalConfig) -> None:
        self.hybrid.config = value

    # -- embedding -------------------------------------------------------------------------
    def embed_texts(self, texts: list[str], query: bool = False) -> list[list[float]] | None:
        """Vectors, or None when the embedder is unavailable (recorded under degraded)."""
        if self.embedder is None:
            return None
        try:
            if query:
                return [self.embedder.embed_query(texts[0]).tolist()]
            return [v.tolist() for v in document_vectors(self.embedder, texts)]
        except BackendUnavailable as exc:
            self.embedder = None
            self.degraded.append({"signal": "dense", "reason": exc.message})
            return None

    def embed_query(self, query: str) -> list[float] | None:
        """The query's vector (None when the embedder is down or cannot read the query); the
        last one is kept, so the cache lookup, the memory search, the feedback search and the
        router of one `auto` embed the task once."""
        if self._last_query is not None and self._last_query[0] == query:
            return self._last_query[1]
        if self.embedder is not None and not self.embedder.reads(query):
            skipped = {"signal": "dense", "reason": UNREADABLE}
            if skipped not in self.degraded:
                self.degraded.append(skipped)
            return None
        vectors = self.embed_texts([query], query=True)
        if not vectors:
            return None
        self._last_query = (query, vectors[0])
        return vectors[0]

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
        identity: str | None = None,
    ) -> dict[str, Any]:
        """Keep one memory (content already validated). Embedding happens before the write
        lock is taken, so a slow embedder never holds up other writers. The id comes from the
        project and the content, so storing the same text again merges into it; `identity`
        names what the id comes from instead (a record that must stay apart from a memory of
        the same text)."""
        redactions = 0
        if not allow_secrets:
            cleaned = redact(content)
            content, redactions = cleaned.text, cleaned.count
        mem_id = memory_id(project, content if identity is None else identity)
        if self.store.get(self.collection, [mem_id]):
            with self.write_lock:
                return self._duplicate(mem_id, tags, project, key, redactions)
        chunks = textops.chunk_words(content, *self.window())
        vectors = self.embed_texts(chunks)
        now = time.time()
        memory = Memory(
            id=mem_id,
            content=content,
            type=mtype,
            tags=tags,
            project=project,
            agent=agent,
            key=key,
            created_at=iso_time(now),
            created_ts=now,
            expires_ts=now + expire_days * 86400 if expire_days else NEVER,
            embedding="pending" if vectors is None else "done",
            redactions=redactions,
        )
        with self.write_lock:
            if self.store.get(self.collection, [mem_id]):  # another agent stored it meanwhile
                return self._duplicate(mem_id, tags, project, key, redactions)
            near = self._near_duplicates(vectors[0], project) if vectors else []
            crowd = density.measure(self.store, self.collection, vectors[0]) if vectors else None
            previous = self._active_with_key(key, project) if key else []
            if previous:
                memory.supersedes = previous[0]
            self.write(memory, chunks, vectors, {density.FIELD: crowd} if crowd else None)
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
            "type": memory.type.value,
            "tags": memory.tags,
            "chunks": len(chunks),
            "redactions": redactions,
            "near_duplicates": near,
            "supersedes": previous,
            "restored": [],  # (a new memory brings no other version back)
            "pending_embedding": vectors is None,
            "invalidated_cache": len(invalidated),
        }

    def _duplicate(
        self, mem_id: str, tags: list[str], project: str, key: str, redactions: int
    ) -> dict[str, Any]:
        """Storing what is already stored: merge the tags, finish a supersession a killed
        `store --key` may have left undone, or make the memory the current version of `key`:
        an old version stored again (`restored`), or one stored without that key before. It
        leaves the place it had in a history and heads this key's. Called with the write lock
        held."""
        existing = self.store.get(self.collection, [mem_id])[0].payload
        merged = sorted(set(existing.get("tags", [])) | set(tags))
        ids = self.ids_of(mem_id)
        restored = bool(key) and existing.get("state") == "superseded"
        moved = restored or bool(key) and existing.get("key", "") != key
        # moved from another key's head: that key's previous version is current again
        brought_back = history.take_out(self, [mem_id]) if moved else []
        stale = [old for old in self._active_with_key(key, project) if old != mem_id] if key else []
        for old in stale:
            self._mark_superseded(old, mem_id)
        update: dict[str, Any] = {"tags": merged}
        if moved:  # the current version now, so dated now (a --since window finds it)
            now = time.time()
            update |= {
                "key": key,
                "state": "active",
                "superseded_by": "",
                "supersedes": stale[0] if stale else "",
                "created_ts": now,
                "created_at": iso_time(now),
            }
        self.store.set_payload(self.collection, ids, update)
        return {
            "status": "restored" if restored else "duplicate",
            "restored": brought_back,
            "id": mem_id,
            "type": existing.get("type"),
            "tags": merged,
            "redactions": redactions,
            "supersedes": stale,
        }

    def ingest(
        self,
        items: list[tuple[str, dict[str, Any]]],
        progress: Callable[[int], None] | None = None,
        batch: int = 64,
    ) -> int:
        """Bulk write of (content, fields) pairs, already validated: embeds in batches, no
        duplicate, supersede or cache checks; a `created_ts` among the fields dates the
        memory. Once all are written each one's density is measured against the whole
        collection. Returns how many memories were written."""
        written = 0
        alone = self.store.count(self.collection, Where()) == 0  # densities from these alone
        embedded: dict[str, np.ndarray] = {}  # memory id -> its chunks' vectors (float32)
        for start in range(0, len(items), batch):
            group = items[start : start + batch]
            memories, chunk_lists = [], []
            for content, given in group:
                fields = dict(given)
                stamp = float(fields.pop("created_ts", None) or time.time())
                memories.append(
                    Memory(
                        id=memory_id(fields.get("project", ""), content),
                        content=content,
                        created_at=iso_time(stamp),
                        created_ts=stamp,
                        **fields,
                    )
                )
                chunk_lists.append(textops.chunk_words(content, *self.window()))
            flat = [c for chunks in chunk_lists for c in chunks]
            vectors = self.embed_texts(flat)
            offset, points = 0, []
            for memory, chunks in zip(memories, chunk_lists, strict=True):
                own = vectors[offset : offset + len(chunks)] if vectors else None
                offset += len(chunks)
                if own is None:
                    memory.embedding = "pending"
                else:
                    embedded[memory.id] = np.asarray(own, dtype=np.float32)
                points.extend(self._points(memory, chunks, own))
            with self.write_lock:
                self.store.upsert(self.collection, points)
            written += len(group)
            if progress:
                progress(len(group))
        self.record_densities(embedded, alone)
        return written

    def record_densities(
        self, embedded: Mapping[str, Any], alone: bool, searches: int | None = None
    ) -> int:
        """Each written memory's density, given its chunks' vectors: for memories written into
        an empty collection computed from their own vectors together, else one search each
        against the collection, at most `searches` of them (a search over a large unindexed
        store takes tens of ms). Bulk ingest, import and reindex all end with this. Returns
        how many memories got a density; the others are scored neutral, as before."""
        embedded = {k: np.asarray(v, dtype=np.float32) for k, v in embedded.items()}
        if alone:
            crowds = density.measure_together(list(embedded.values()))
        else:
            chosen = list(embedded.items())[:searches]
            crowds = [
                density.measure(self.store, self.collection, own[0].tolist(), exclude=mem_id)
                for mem_id, own in chosen
            ]
        measured = 0
        for mem_id, crowd in zip(embedded, crowds, strict=False):
            if crowd is not None:
                measured += 1
                with self.write_lock:
                    self.store.set_payload(self.collection, [mem_id], {density.FIELD: crowd})
        return measured

    def window(self) -> tuple[int, int]:
        words = self.embedder.window_words if self.embedder else 160
        return words, max(1, words // 5)

    def write(
        self,
        memory: Memory,
        chunks: list[str],
        vectors: list[list[float]] | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.store.upsert(self.collection, self._points(memory, chunks, vectors, extra))

    def _points(
        self,
        memory: Memory,
        chunks: list[str],
        vectors: list[list[float]] | None,
        extra: dict[str, Any] | None = None,
    ) -> list[PointIn]:
        """Chunk 0 carries the memory (and `extra`, such as its density) and the BM25 vector
        of all of it; every chunk a dense one."""
        base = memory.model_dump(mode="json")
        filters = {k: base[k] for k in FILTER_FIELDS}
        points = []
        for index, chunk in enumerate(chunks):
            head = dict(base, chunks=len(chunks), **(extra or {}))
            payload = head if index == 0 else dict(filters, text=chunk)
            payload.update(memory_id=memory.id, chunk=index)
            points.append(
                PointIn(
                    id=chunk_id(memory.id, index),
                    payload=payload,
                    dense=vectors[index] if vectors else None,
                    sparse=self.bm25.document(memory.content) if index == 0 else None,
                )
            )
        return points

    def ids_of(self, mem_id: str) -> list[str]:
        found = self.store.get(self.collection, [mem_id])
        count = found[0].payload.get("chunks", 1) if found else 1
        return [chunk_id(mem_id, i) for i in range(count)]

    def _mark_superseded(self, old_id: str, new_id: str) -> None:
        self.store.set_payload(
            self.collection, self.ids_of(old_id), {"state": "superseded", "superseded_by": new_id}
        )

    def _active_with_key(self, key: str, project: str) -> list[str]:
        where = Where(equals={"key": key, "project": project, "state": "active", "chunk": 0})
        return [h.id for h in self.store.scroll(self.collection, where, 100)]

    def _near_duplicates(self, vector: list[float], project: str) -> list[dict[str, Any]]:
        where = Filters(project=project).where()
        hits = self.store.search_dense(self.collection, vector, where, 3, ("memory_id",))
        return [
            {"id": h.payload["memory_id"], "score": round(h.score, 4)}
            for h in hits
            if h.score >= self.config.near_duplicate
        ]
