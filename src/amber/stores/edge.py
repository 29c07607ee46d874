"""The embedded store: one qdrant-edge shard per collection under the data folder, behind a lock."""

from __future__ import annotations

import functools
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from amber.errors import StoreCorrupt
from amber.stores import meta
from amber.stores.base import (
    DENSE,
    SPARSE,
    CollectionSpec,
    Hit,
    PointIn,
    Sparse,
    Where,
    optimize_report,
)
from amber.stores.lock import FileLock

_INDEX_KINDS = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "float": qe.PayloadSchemaType.Float,
    "integer": qe.PayloadSchemaType.Integer,
    "bool": qe.PayloadSchemaType.Bool,
}


def _pid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def _condition(where: Where) -> qe.Filter | None:
    must: list[Any] = []
    must_not: list[Any] = []
    for key, value in where.equals.items():
        must.append(qe.FieldCondition(key, match=qe.MatchValue(value)))
    for key, values in where.any_of.items():
        must.append(qe.FieldCondition(key, match=qe.MatchAny(list(values))))
    for key, values in where.all_of.items():
        must.extend(qe.FieldCondition(key, match=qe.MatchValue(v)) for v in values)
    for key, values in where.none_of.items():
        must_not.append(qe.FieldCondition(key, match=qe.MatchAny(list(values))))
    for key, bound in where.greater.items():
        must.append(qe.FieldCondition(key, range=qe.RangeFloat(gt=bound)))
    for key, bound in where.less_equal.items():
        must.append(qe.FieldCondition(key, range=qe.RangeFloat(lte=bound)))
    if not must and not must_not:
        return None
    return qe.Filter(must=must or None, must_not=must_not or None)


_REPAIR = (
    "copy the folder aside, then try `amber export > backup.jsonl`; or move the folder away "
    "and `amber import` a recent export into a fresh store"
)


def _engine_failure(exc: BaseException, where: str) -> StoreCorrupt | None:
    """The engine reports damage as a bare Exception (or a Rust panic): translate those only."""
    if type(exc) is Exception or type(exc).__name__ == "PanicException":
        return StoreCorrupt(f"the embedded store at {where} failed: {exc}", hint=_REPAIR)
    return None


class _Guarded:
    """Wraps a shard so every engine call turns damage into StoreCorrupt (exit 3)."""

    def __init__(self, shard: qe.EdgeShard, where: str) -> None:
        self._shard, self._where = shard, where

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._shard, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except BaseException as exc:
                failure = _engine_failure(exc, self._where)
                if failure is None:
                    raise
                raise failure from exc

        return call


@functools.lru_cache(maxsize=16)
def _bm25_model(k: float, b: float, avg_len: float) -> Any:
    return qe.Bm25(qe.Bm25Config(k=k, b=b, avg_len=avg_len, language="english"))


def bm25_vector(text: str, query: bool, k: float, b: float, avg_len: float) -> Sparse:
    """The engine's English BM25 (stemming, stop-words) sparse vector of one text; both store
    backends use it, so the terms a query and a document share are the same everywhere."""
    model = _bm25_model(k, b, avg_len)
    vec = model.embed_query(text) if query else model.embed_document(text)
    return Sparse(list(vec.indices), list(vec.values))


def _hit(point: Any, score: float = 0.0) -> Hit:
    return Hit(id=str(point.id), score=float(score), payload=dict(point.payload or {}))


class EdgeStore:
    """Embedded Qdrant engine; holds the folder's lock from open to close (WAL on)."""

    def __init__(self, root: Path, lock_timeout: float, holder: str = "process") -> None:
        self.root = root
        self.location = str(root)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(root, 0o700)
        self._lock = FileLock(root / ".lock", lock_timeout, holder)
        self._lock.acquire()
        self._shards: dict[str, Any] = {}
        # The daemon's threads share one store: a shard is loaded (or created) by one of them.
        self._opening = threading.RLock()
        self.journals: dict[str, list[tuple[Any, int]]] = {}  # writes made while a rebuild runs
        self.replayed: dict[str, int] = {}  # points the last rebuild's journal wrote again

    # -- collections -------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        """A collection's folder: `collections/<name>`, or the generation its pointer file
        names once it was rebuilt in the background (amber.stores.rebuild)."""
        base = self.root / "collections"
        pointer = base / f"{name}.generation"
        if pointer.exists():
            return base / f"{name}@{pointer.read_text(encoding='utf-8').strip()}"
        return base / name

    def exists(self, name: str) -> bool:
        path = self._dir(name)
        return name in self._shards or (path.is_dir() and any(path.iterdir()))

    def ensure(self, spec: CollectionSpec) -> None:
        if spec.name in self._shards:
            return
        with self._opening:
            if spec.name not in self._shards:
                self._ensure(spec)

    def _ensure(self, spec: CollectionSpec) -> None:
        path = self._dir(spec.name)
        if self.exists(spec.name):
            shard = self._shards[spec.name] = self._load(path)
            # A process killed while creating the collection can leave indexes missing.
            present = set(shard.info().payload_schema)
            for field, kind in spec.indexes:
                if field not in present:
                    shard.update(qe.UpdateOperation.create_field_index(field, _INDEX_KINDS[kind]))
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=spec.dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            wal_enabled=True,
        )
        shard = _Guarded(qe.EdgeShard.create(str(path), config), str(path))
        for field, kind in spec.indexes:
            shard.update(qe.UpdateOperation.create_field_index(field, _INDEX_KINDS[kind]))
        self._shards[spec.name] = shard

    def _load(self, path: Path) -> Any:
        try:
            return _Guarded(qe.EdgeShard.load(str(path)), str(path))
        except BaseException as exc:
            failure = _engine_failure(exc, str(path))
            if failure is None:
                raise
            raise failure from exc

    def _shard(self, name: str) -> Any:
        shard = self._shards.get(name)
        if shard is not None:
            return shard
        with self._opening:
            shard = self._shards.get(name)
            if shard is None:
                if not self.exists(name):
                    raise KeyError(name)
                shard = self._shards[name] = self._load(self._dir(name))
            return shard

    def drop(self, name: str) -> None:
        with self._opening:
            self._drop(name)

    def _drop(self, name: str) -> None:
        shard = self._shards.pop(name, None)
        if shard is not None:
            shard.close()
        if self._dir(name).exists():
            shutil.rmtree(self._dir(name))
        (self.root / "collections" / f"{name}.generation").unlink(missing_ok=True)
        self.build_record(name).unlink(missing_ok=True)

    # -- a rebuild in another process (amber.stores.rebuild) ------------------------------------
    def folder(self, name: str) -> Path:
        return self._dir(name)

    @staticmethod
    def optimize_folder(folder: Path) -> None:
        """In another process: run the optimizers on a copy (segments merged, HNSW built)."""
        shard = qe.EdgeShard.load(str(folder))
        try:
            shard.optimize()
        finally:
            shard.close()

    def begin_copy(self, name: str, generation: int) -> Path:
        """A copy of the collection for another process to rebuild; from now on the writes to
        it are journaled. The caller holds the runtime's write lock (no write is half done)."""
        shard = self._shard(name)
        shard.flush()
        target = self.root / "collections" / f"{name}@{generation}"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self._dir(name), target)
        self.journals[name] = []
        return target

    def adopt(self, name: str, folder: Path, generation: int) -> Any:
        """The rebuilt copy takes over: the journaled writes are applied to it, the pointer
        file names it, readers see it from now on. Returns the old shard, for the caller to
        close once reads in flight are done. The caller holds the runtime's write lock."""
        journal = self.journals.pop(name, [])
        fresh = self._load(folder)
        for operation, _touched in journal:
            fresh.update(operation)
        fresh.flush()
        self.replayed[name] = sum(touched for _operation, touched in journal)
        pointer = self.root / "collections" / f"{name}.generation"
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(str(generation), encoding="utf-8")
        os.replace(tmp, pointer)
        with self._opening:
            old = self._shards.get(name)
            self._shards[name] = fresh
        return old

    def build_record(self, name: str) -> Path:
        """Where the background indexer keeps what its last build of a collection left."""
        return self.root / "collections" / f"{name}.index.json"

    def abandon(self, name: str, folder: Path) -> None:
        """A rebuild that failed: stop journaling and remove its copy."""
        self.journals.pop(name, None)
        if folder.exists():
            shutil.rmtree(folder)

    # -- writes ------------------------------------------------------------------------------
    def upsert(self, name: str, points: list[PointIn]) -> None:
        if not points:
            return
        built = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense is not None:
                vector[DENSE] = list(p.dense)
            if p.sparse is not None:
                vector[SPARSE] = qe.SparseVector(p.sparse.indices, p.sparse.values)
            built.append(qe.Point(_pid(p.id), vector, p.payload))
        self._apply(name, qe.UpdateOperation.upsert_points(built), len(built))

    def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None:
        if ids:
            operation = qe.UpdateOperation.set_payload([_pid(i) for i in ids], payload)
            self._apply(name, operation, len(ids))

    def delete(self, name: str, ids: list[str]) -> None:
        if ids:
            self._apply(name, qe.UpdateOperation.delete_points([_pid(i) for i in ids]), len(ids))

    def _apply(self, name: str, operation: Any, touched: int) -> None:
        """One write of `touched` points; while the collection is rebuilt elsewhere it is also
        kept, to be applied to the rebuilt copy before that copy takes over."""
        self._shard(name).update(operation)
        journal = self.journals.get(name)
        if journal is not None:
            journal.append((operation, touched))

    # -- reads -------------------------------------------------------------------------------
    def get(self, name: str, ids: list[str]) -> list[Hit]:
        if not ids:
            return []
        return [_hit(r) for r in self._shard(name).retrieve([_pid(i) for i in ids], True, False)]

    def dense_vectors(self, name: str, ids: list[str]) -> dict[str, list[float]]:
        """The dense vectors of the points `ids` (a memory's id is its first point's)."""
        if not ids:
            return {}
        found = self._shard(name).retrieve([_pid(i) for i in ids], False, True)
        return {str(r.id): list(r.vector[DENSE]) for r in found if DENSE in (r.vector or {})}

    def _query(
        self, name: str, query: Any, where: Where, limit: int, fields: tuple[str, ...] | None
    ) -> list[Hit]:
        payload = True if fields is None else qe.PayloadSelector.Include(list(fields))
        request = qe.QueryRequest(
            limit=limit, query=query, filter=_condition(where), with_payload=payload
        )
        return [_hit(p, p.score) for p in self._shard(name).query(request)]

    def search_dense(
        self,
        name: str,
        vector: list[float],
        where: Where,
        limit: int,
        fields: tuple[str, ...] | None = None,
    ) -> list[Hit]:
        nearest = qe.Query.Nearest(list(vector), using=DENSE)
        return self._query(name, nearest, where, limit, fields)

    def search_sparse(
        self,
        name: str,
        vector: Sparse,
        where: Where,
        limit: int,
        fields: tuple[str, ...] | None = None,
    ) -> list[Hit]:
        if not vector.indices:
            return []
        sparse = qe.SparseVector(vector.indices, vector.values)
        return self._query(name, qe.Query.Nearest(sparse, using=SPARSE), where, limit, fields)

    def scroll(
        self, name: str, where: Where, limit: int, newest_first: str | None = None
    ) -> list[Hit]:
        shard = self._shard(name)
        if newest_first:
            order = qe.OrderBy(newest_first, qe.Direction.Desc)
            request = qe.ScrollRequest(
                limit=limit, filter=_condition(where), with_payload=True, order_by=order
            )
            return [_hit(r) for r in shard.scroll(request)[0]]
        hits: list[Hit] = []
        offset = None
        while len(hits) < limit:
            request = qe.ScrollRequest(
                offset=offset,
                limit=min(1000, limit - len(hits)),
                filter=_condition(where),
                with_payload=True,
            )
            records, offset = shard.scroll(request)
            hits.extend(_hit(r) for r in records)
            if offset is None:
                break
        return hits

    def count(self, name: str, where: Where) -> int:
        return int(self._shard(name).count(qe.CountRequest(filter=_condition(where), exact=True)))

    # -- store metadata ------------------------------------------------------------------------
    def read_meta(self) -> dict[str, Any]:
        try:
            return meta.read(self.root) or {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise StoreCorrupt(
                f"the store metadata {self.root / meta.META_FILE} is damaged: {exc}", hint=_REPAIR
            ) from exc

    def write_meta(self, data: dict[str, Any]) -> None:
        meta.write(self.root, data)

    def size_bytes(self) -> int | None:
        """Disk actually used: the engine preallocates sparse files, whose apparent size
        (st_size) is hundreds of times what they hold."""
        return sum(f.stat().st_blocks * 512 for f in self.root.rglob("*") if f.is_file())

    def indexed(self, name: str) -> tuple[int, int]:
        """(points, dense vectors in the HNSW index) of a collection. The engine's count also
        holds every sparse vector (an inverted index is always built), so those are taken off."""
        shard = self._shard(name)
        info = shard.info()
        has_sparse = qe.Filter(must=[qe.HasVectorCondition(SPARSE)])
        sparse = int(shard.count(qe.CountRequest(filter=has_sparse, exact=True)))
        return int(info.points_count), max(int(info.indexed_vectors_count or 0) - sparse, 0)

    def optimize(self, name: str) -> dict[str, Any]:
        """Run the engine's optimizers (segment merging, HNSW building) until nothing is left."""
        shard = self._shard(name)
        changed = bool(shard.optimize())
        return optimize_report(changed, shard.info())

    def close(self) -> None:
        for shard in self._shards.values():
            shard.close()
        self._shards.clear()
        self._lock.release()
