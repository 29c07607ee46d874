"""The server store: a Qdrant server or cluster through qdrant-client, same schema as the edge."""

from __future__ import annotations

import math
import uuid
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from qdrant_client import QdrantClient, models
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from amber.errors import BackendUnavailable
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
from amber.urls import mask_url

T = TypeVar("T")

META_COLLECTION = "amber-meta"
META_ID = "5a1c0f3e-6d2b-4c8e-9f47-0a3b2c1d4e5f"
_BATCH = 256
_START_HINT = "start it: docker compose up -d qdrant, or unset QDRANT_URL to use the embedded store"
_KEY_HINT = "the server rejected the API key: check QDRANT_API_KEY"

_INDEX_KINDS = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "float": models.PayloadSchemaType.FLOAT,
    "integer": models.PayloadSchemaType.INTEGER,
    "bool": models.PayloadSchemaType.BOOL,
}


def _pid(value: str) -> str:
    return str(uuid.UUID(value))


def _field(key: str, **kwargs: Any) -> models.FieldCondition:
    return models.FieldCondition(key=key, **kwargs)


def _condition(where: Where) -> models.Filter | None:
    must: list[Any] = []
    must_not: list[Any] = []
    for key, value in where.equals.items():
        must.append(_field(key, match=models.MatchValue(value=value)))
    for key, values in where.any_of.items():
        must.append(_field(key, match=models.MatchAny(any=list(values))))
    for key, values in where.all_of.items():
        must.extend(_field(key, match=models.MatchValue(value=v)) for v in values)
    for key, values in where.none_of.items():
        must_not.append(_field(key, match=models.MatchAny(any=list(values))))
    for key, bound in where.greater.items():
        must.append(_field(key, range=models.Range(gt=bound)))
    for key, bound in where.less_equal.items():
        must.append(_field(key, range=models.Range(lte=bound)))
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not or None)


def _hit(point: Any, score: float = 0.0) -> Hit:
    return Hit(id=str(point.id), score=float(score), payload=dict(point.payload or {}))


class ServerStore:
    """A Qdrant server or cluster; every write waits until it is applied."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        shard_number: int = 1,
        replication_factor: int = 1,
        client: QdrantClient | None = None,
    ) -> None:
        self.location = mask_url(url)  # what errors and health show: never a credential
        self._api_key = api_key
        self._shard_number = shard_number
        self._replication_factor = replication_factor
        self._ready: set[str] = set()
        if client is not None:
            self._client = client
        elif url == ":memory:":
            self._client = QdrantClient(location=":memory:")
        else:
            with warnings.catch_warnings():
                # Plain http to a local server is the docker-compose setup; not worth a stderr line.
                warnings.filterwarnings("ignore", message="Api key is used with an insecure")
                self._client = QdrantClient(
                    url=url,
                    api_key=api_key,
                    timeout=max(1, math.ceil(timeout)),
                    check_compatibility=False,
                )
        try:
            self._call(self._client.get_collections)
        except BackendUnavailable:
            self._client.close()
            raise

    # -- error translation -------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        server = f"the Qdrant server at {self.location}"
        try:
            return fn(*args, **kwargs)
        except ResponseHandlingException as exc:  # qdrant-client wraps transport errors in it
            source = getattr(exc, "source", exc)
            reason = self._scrub((str(source) or type(source).__name__).splitlines()[0][:200])
            raise BackendUnavailable(
                f"{server} is unavailable: {reason}", hint=_START_HINT
            ) from exc
        except ResourceExhaustedResponse as exc:
            hint = f"retry after {exc.retry_after_s}s"
            raise BackendUnavailable(f"{server} is overloaded (429)", hint=hint) from exc
        except UnexpectedResponse as exc:
            status = exc.status_code or 0
            if status in (401, 403):  # `from None`: the response body may echo the key back
                raise BackendUnavailable(
                    f"{server} answered {status}: {_KEY_HINT}", hint=_KEY_HINT
                ) from None
            if status >= 500:
                hint = f"check the server's logs and health: curl {self.location}/readyz"
                raise BackendUnavailable(
                    f"{server} failed with status {status}", hint=hint
                ) from exc
            raise

    # -- collections -------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return name in self._ready or self._call(self._client.collection_exists, name)

    def _create(self, name: str, **kwargs: Any) -> None:
        try:
            self._call(self._client.create_collection, name, **kwargs)
        except UnexpectedResponse as exc:
            if exc.status_code != 409:  # 409: another process created it first
                raise

    def ensure(self, spec: CollectionSpec) -> None:
        if self.exists(spec.name):
            self._ready.add(spec.name)
            return
        self._create(
            spec.name,
            vectors_config={
                DENSE: models.VectorParams(size=spec.dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            shard_number=self._shard_number,
            replication_factor=self._replication_factor,
        )
        for field, kind in spec.indexes:
            schema = _INDEX_KINDS[kind]
            self._call(self._client.create_payload_index, spec.name, field, schema, wait=True)
        self._ready.add(spec.name)

    def drop(self, name: str) -> None:
        self._ready.discard(name)
        self._call(self._client.delete_collection, name)

    # -- writes ------------------------------------------------------------------------------
    def upsert(self, name: str, points: list[PointIn]) -> None:
        built = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense is not None:
                vector[DENSE] = list(p.dense)
            if p.sparse is not None:
                vector[SPARSE] = models.SparseVector(
                    indices=list(p.sparse.indices), values=list(p.sparse.values)
                )
            built.append(models.PointStruct(id=_pid(p.id), vector=vector, payload=p.payload))
        for start in range(0, len(built), _BATCH):
            batch = built[start : start + _BATCH]
            self._call(self._client.upsert, name, points=batch, wait=True)

    def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None:
        if ids:
            points = [_pid(i) for i in ids]
            self._call(self._client.set_payload, name, payload=payload, points=points, wait=True)

    def delete(self, name: str, ids: list[str]) -> None:
        if ids:
            selector = models.PointIdsList(points=[_pid(i) for i in ids])
            self._call(self._client.delete, name, points_selector=selector, wait=True)

    # -- reads -------------------------------------------------------------------------------
    def get(self, name: str, ids: list[str]) -> list[Hit]:
        if not ids:
            return []
        records = self._call(
            self._client.retrieve, name, ids=[_pid(i) for i in ids], with_payload=True
        )
        return [_hit(r) for r in records]

    def dense_vectors(self, name: str, ids: list[str]) -> dict[str, list[float]]:
        """The dense vectors of the points `ids` (a memory's id is its first point's)."""
        if not ids:
            return {}
        records = self._call(
            self._client.retrieve,
            name,
            ids=[_pid(i) for i in ids],
            with_payload=False,
            with_vectors=[DENSE],
        )
        out = {}
        for r in records:
            vector = r.vector.get(DENSE) if isinstance(r.vector, dict) else None
            if vector is not None:
                out[str(r.id)] = list(vector)
        return out

    def _query(
        self,
        name: str,
        query: Any,
        using: str,
        where: Where,
        limit: int,
        fields: tuple[str, ...] | None,
    ) -> list[Hit]:
        response = self._call(
            self._client.query_points,
            name,
            query=query,
            using=using,
            query_filter=_condition(where),
            limit=limit,
            with_payload=True if fields is None else list(fields),
        )
        return [_hit(p, p.score) for p in response.points]

    def search_dense(
        self,
        name: str,
        vector: list[float],
        where: Where,
        limit: int,
        fields: tuple[str, ...] | None = None,
    ) -> list[Hit]:
        return self._query(name, list(vector), DENSE, where, limit, fields)

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
        query = models.SparseVector(indices=list(vector.indices), values=list(vector.values))
        return self._query(name, query, SPARSE, where, limit, fields)

    def scroll(
        self, name: str, where: Where, limit: int, newest_first: str | None = None
    ) -> list[Hit]:
        order = None
        if newest_first:
            order = models.OrderBy(key=newest_first, direction=models.Direction.DESC)
        page = limit if order else 1000
        hits: list[Hit] = []
        offset = None
        while len(hits) < limit:
            records, offset = self._call(
                self._client.scroll,
                name,
                scroll_filter=_condition(where),
                limit=min(page, limit - len(hits)),
                offset=offset,
                with_payload=True,
                order_by=order,
            )
            hits.extend(_hit(r) for r in records)
            if offset is None or order is not None:  # ordered scrolls answer in one page
                break
        return hits

    def count(self, name: str, where: Where) -> int:
        result = self._call(self._client.count, name, count_filter=_condition(where), exact=True)
        return int(result.count)

    # -- store metadata ------------------------------------------------------------------------
    def read_meta(self) -> dict[str, Any]:
        if not self.exists(META_COLLECTION):
            return {}
        records = self._call(self._client.retrieve, META_COLLECTION, ids=[META_ID])
        return dict(records[0].payload or {}) if records else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        if not self.exists(META_COLLECTION):
            # A vector-less collection: it only holds the one metadata point.
            self._create(META_COLLECTION, vectors_config={})
            self._ready.add(META_COLLECTION)
        point = models.PointStruct(id=META_ID, vector={}, payload=dict(meta))
        self._call(self._client.upsert, META_COLLECTION, points=[point], wait=True)

    def size_bytes(self) -> int | None:
        return None

    def optimize(self, name: str) -> dict[str, Any]:
        """A Qdrant server runs its optimizers by itself; report what it has indexed."""
        return optimize_report(False, self._call(self._client.get_collection, name))

    def close(self) -> None:
        self._client.close()
