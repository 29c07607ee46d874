"""One contract for both Store backends: the embedded edge shard and the qdrant-client server."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amber.stores.base import CollectionSpec, Hit, PointIn, Store, Where
from amber.stores.bm25 import Bm25Encoder
from amber.stores.edge import EdgeStore
from amber.stores.server import ServerStore

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

DIM = 4
INDEXES = (("project", "keyword"), ("tags", "keyword"), ("n", "integer"), ("ts", "float"))
SPEC = CollectionSpec("things", DIM, INDEXES + (("flag", "bool"),))
BM25 = Bm25Encoder()


def pid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"amber-test/{name}"))


# Every text shares the word "memory" so that a query for it reaches every document.
DOCS = {
    "a": (
        "postgres connection pooling memory in python",
        [1.0, 0.0, 0.0, 0.0],
        {"project": "alpha", "n": 1, "tags": ["python", "db"], "ts": 10.0, "flag": True},
    ),
    "b": (
        "python packaging memory with pyproject files",
        [0.0, 1.0, 0.0, 0.0],
        {"project": "beta", "n": 2, "tags": ["python"], "ts": 20.0, "flag": False},
    ),
    "c": (
        "rust database driver memory and connection errors",
        [0.0, 0.0, 1.0, 0.0],
        {"project": "alpha", "n": 3, "tags": ["rust", "db"], "ts": 30.0, "flag": False},
    ),
    "d": (
        "kubernetes deployment memory limits for containers",
        [0.0, 0.0, 0.0, 1.0],
        {"project": "gamma", "n": 2, "tags": [], "ts": 40.0, "flag": False},
    ),
}


@pytest.fixture(params=["edge", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store
    if request.param == "edge":
        opened = EdgeStore(tmp_path / "edge", lock_timeout=1.0)
    else:
        opened = ServerStore(":memory:")
    yield opened
    opened.close()


def point(name: str, dense: bool = True) -> PointIn:
    text, vector, payload = DOCS[name]
    return PointIn(
        pid(name),
        {"text": text, **payload},
        dense=vector if dense else None,
        sparse=BM25.document(text),
    )


@pytest.fixture
def filled(store: Store) -> Store:
    store.ensure(SPEC)
    store.upsert(SPEC.name, [point(n) for n in DOCS])
    return store


def names(hits: list[Hit]) -> list[str]:
    by_id = {pid(n): n for n in DOCS} | {pid("e"): "e"}
    return [by_id[h.id] for h in hits]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


# -- collections ---------------------------------------------------------------------------------
def test_ensure_is_idempotent_and_drop_removes(store: Store) -> None:
    assert not store.exists(SPEC.name)
    store.ensure(SPEC)
    assert store.exists(SPEC.name)
    store.upsert(SPEC.name, [point("a")])
    store.ensure(SPEC)
    assert store.count(SPEC.name, Where()) == 1
    store.drop(SPEC.name)
    assert not store.exists(SPEC.name)
    store.ensure(SPEC)
    assert store.count(SPEC.name, Where()) == 0


def test_collections_are_separate(store: Store) -> None:
    other = CollectionSpec("others", DIM, INDEXES)
    store.ensure(SPEC)
    store.ensure(other)
    store.upsert(SPEC.name, [point("a"), point("b")])
    store.upsert(other.name, [point("c")])
    assert store.count(SPEC.name, Where()) == 2
    assert names(store.scroll(other.name, Where(), 10)) == ["c"]
    store.drop(other.name)
    assert store.exists(SPEC.name) and not store.exists(other.name)


# -- writes and reads ----------------------------------------------------------------------------
def test_upsert_and_get_roundtrip_payload(store: Store) -> None:
    store.ensure(SPEC)
    payload = {
        "text": "naïve café — 東京",
        "n": 7,
        "ts": 1.5,
        "flag": True,
        "tags": ["x", "y"],
        "nested": {"provider": "builtin", "dim": 384},
        "none": None,
    }
    store.upsert(SPEC.name, [PointIn(pid("a"), payload, dense=[1.0, 0.0, 0.0, 0.0])])
    [hit] = store.get(SPEC.name, [pid("a")])
    assert hit.id == pid("a")
    assert hit.payload == payload
    assert isinstance(hit.payload["n"], int)
    assert store.get(SPEC.name, [pid("missing")]) == []
    assert store.get(SPEC.name, []) == []


def test_dense_vectors_of_points(store: Store) -> None:
    """The second stage of search reads the stored vectors of the fused head; a point stored
    without one (its embedding pending) and an unknown id are left out."""
    store.ensure(SPEC)
    store.upsert(SPEC.name, [point("a"), point("b"), point("c", dense=False)])
    found = store.dense_vectors(SPEC.name, [pid("a"), pid("b"), pid("c"), pid("e")])
    assert sorted(found) == sorted([pid("a"), pid("b")])
    for name in ("a", "b"):
        assert cosine(found[pid(name)], DOCS[name][1]) == pytest.approx(1.0, abs=1e-6)
    assert store.dense_vectors(SPEC.name, []) == {}


def test_get_several_ids(filled: Store) -> None:
    hits = filled.get(SPEC.name, [pid("a"), pid("c"), pid("missing")])
    assert sorted(names(hits)) == ["a", "c"]
    assert {h.payload["project"] for h in hits} == {"alpha"}


def test_upsert_same_id_twice_is_idempotent(filled: Store) -> None:
    before = filled.count(SPEC.name, Where())
    again = point("a")
    again.payload["project"] = "delta"
    filled.upsert(SPEC.name, [again])
    filled.upsert(SPEC.name, [again])
    assert filled.count(SPEC.name, Where()) == before == len(DOCS)
    [hit] = filled.get(SPEC.name, [pid("a")])
    assert hit.payload["project"] == "delta"


def test_point_without_dense_is_found_by_sparse_only(filled: Store) -> None:
    text = "zeppelin hangar memory"
    late = PointIn(pid("e"), {"text": text, "project": "alpha"}, sparse=BM25.document(text))
    filled.upsert(SPEC.name, [late])
    assert filled.count(SPEC.name, Where()) == len(DOCS) + 1
    dense = filled.search_dense(SPEC.name, [1.0, 1.0, 1.0, 1.0], Where(), 10)
    assert "e" not in names(dense) and len(dense) == len(DOCS)
    sparse = filled.search_sparse(SPEC.name, BM25.query("zeppelin"), Where(), 10)
    assert names(sparse) == ["e"]
    [hit] = filled.get(SPEC.name, [pid("e")])
    assert hit.payload["text"] == text


def test_set_payload_updates_and_keeps_other_fields(filled: Store) -> None:
    filled.set_payload(SPEC.name, [pid("a"), pid("b")], {"tags": ["merged"], "extra": 1})
    for hit in filled.get(SPEC.name, [pid("a"), pid("b")]):
        assert hit.payload["tags"] == ["merged"]
        assert hit.payload["extra"] == 1
        assert hit.payload["text"] == DOCS[names([hit])[0]][0]
    assert filled.count(SPEC.name, Where(equals={"tags": "merged"})) == 2
    assert filled.get(SPEC.name, [pid("c")])[0].payload["tags"] == ["rust", "db"]


def test_delete_removes(filled: Store) -> None:
    filled.delete(SPEC.name, [pid("a"), pid("c")])
    assert filled.get(SPEC.name, [pid("a"), pid("c")]) == []
    assert filled.count(SPEC.name, Where()) == 2
    assert sorted(names(filled.scroll(SPEC.name, Where(), 10))) == ["b", "d"]
    hits = filled.search_sparse(SPEC.name, BM25.query("connection"), Where(), 10)
    assert hits == []
    filled.delete(SPEC.name, [])
    assert filled.count(SPEC.name, Where()) == 2


# -- ranking -------------------------------------------------------------------------------------
def test_dense_search_ranks_by_cosine(filled: Store) -> None:
    query = [3.0, 2.0, 1.0, 0.5]
    hits = filled.search_dense(SPEC.name, query, Where(), 10)
    assert names(hits) == ["a", "b", "c", "d"]
    for hit in hits:
        assert hit.score == pytest.approx(cosine(query, DOCS[names([hit])[0]][1]), abs=1e-4)
        assert hit.payload["text"] == DOCS[names([hit])[0]][0]
    assert names(filled.search_dense(SPEC.name, [0.0, 0.0, 0.2, 1.0], Where(), 2)) == ["d", "c"]


def test_sparse_search_ranks_doc_with_query_terms_first(filled: Store) -> None:
    hits = filled.search_sparse(SPEC.name, BM25.query("postgres pooling"), Where(), 10)
    assert names(hits) == ["a"]
    assert hits[0].score > 0 and hits[0].payload["project"] == "alpha"
    hits = filled.search_sparse(SPEC.name, BM25.query("rust connection memory"), Where(), 10)
    assert names(hits)[0] == "c"
    assert names(hits)[1] == "a"  # shares "connection" besides "memory"
    assert len(hits) == len(DOCS)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_sparse_search_applies_idf(store: Store) -> None:
    """A rare term outweighs a common one repeated: only true when the IDF modifier is on."""
    store.ensure(SPEC)
    texts = {
        "a": "memory memory memory memory notes",
        "b": "zebra notes",
        "c": "memory cache",
        "d": "memory index",
    }
    store.upsert(
        SPEC.name, [PointIn(pid(k), {"text": t}, sparse=BM25.document(t)) for k, t in texts.items()]
    )
    hits = store.search_sparse(SPEC.name, BM25.query("memory zebra"), Where(), 10)
    assert names(hits)[0] == "b"
    assert hits[0].score > 2 * hits[1].score


def test_empty_sparse_query_returns_nothing(filled: Store) -> None:
    empty = BM25.query("the and of")
    assert empty.indices == []
    assert filled.search_sparse(SPEC.name, empty, Where(), 10) == []


# -- filters -------------------------------------------------------------------------------------
WHERE_CASES = [
    ("none", Where(), {"a", "b", "c", "d"}),
    ("equals-str", Where(equals={"project": "alpha"}), {"a", "c"}),
    ("equals-int", Where(equals={"n": 2}), {"b", "d"}),
    ("equals-in-list", Where(equals={"tags": "db"}), {"a", "c"}),
    ("any_of", Where(any_of={"tags": ["rust", "python"]}), {"a", "b", "c"}),
    ("any_of-project", Where(any_of={"project": ["beta", "gamma"]}), {"b", "d"}),
    ("all_of", Where(all_of={"tags": ["python", "db"]}), {"a"}),
    ("none_of", Where(none_of={"tags": ["python"]}), {"c", "d"}),
    ("greater", Where(greater={"ts": 20.0}), {"c", "d"}),
    ("less_equal", Where(less_equal={"ts": 20.0}), {"a", "b"}),
    (
        "combined",
        Where(equals={"project": "alpha"}, greater={"ts": 10.0}, none_of={"tags": ["python"]}),
        {"c"},
    ),
    ("range-both", Where(greater={"ts": 10.0}, less_equal={"ts": 30.0}), {"b", "c"}),
]


@pytest.mark.parametrize(
    ("where", "expected"), [c[1:] for c in WHERE_CASES], ids=[c[0] for c in WHERE_CASES]
)
def test_where_filters_every_read(filled: Store, where: Where, expected: set[str]) -> None:
    dense = filled.search_dense(SPEC.name, [1.0, 1.0, 1.0, 1.0], where, 10)
    assert set(names(dense)) == expected
    sparse = filled.search_sparse(SPEC.name, BM25.query("memory"), where, 10)
    assert set(names(sparse)) == expected
    scrolled = filled.scroll(SPEC.name, where, 10)
    assert sorted(names(scrolled)) == sorted(expected)
    assert filled.count(SPEC.name, where) == len(expected)
    newest = filled.scroll(SPEC.name, where, 10, newest_first="ts")
    assert names(newest) == sorted(expected, key=lambda n: -DOCS[n][2]["ts"])


# -- scroll --------------------------------------------------------------------------------------
def test_scroll_newest_first_orders_by_float_desc(filled: Store) -> None:
    assert names(filled.scroll(SPEC.name, Where(), 10, newest_first="ts")) == ["d", "c", "b", "a"]
    assert names(filled.scroll(SPEC.name, Where(), 2, newest_first="ts")) == ["d", "c"]
    alpha = Where(equals={"project": "alpha"})
    assert names(filled.scroll(SPEC.name, alpha, 10, newest_first="ts")) == ["c", "a"]


def test_scroll_respects_limit_and_pages(store: Store) -> None:
    store.ensure(SPEC)
    many = [PointIn(pid(f"p{i}"), {"i": i, "ts": float(i)}) for i in range(1205)]
    store.upsert(SPEC.name, many)
    assert len(store.scroll(SPEC.name, Where(), 3)) == 3
    everything = store.scroll(SPEC.name, Where(), 5000)
    assert len(everything) == 1205
    assert len({h.id for h in everything}) == 1205
    assert len(store.scroll(SPEC.name, Where(greater={"ts": 99.0}), 1100)) == 1100
    assert store.count(SPEC.name, Where(less_equal={"ts": 99.0})) == 100


# -- store metadata ------------------------------------------------------------------------------
def test_meta_roundtrip(store: Store) -> None:
    assert store.read_meta() == {}
    meta = {"schema": "1", "embedder": {"provider": "builtin", "dim": 384}, "created_at": "x"}
    store.write_meta(meta)
    assert store.read_meta() == meta
    store.write_meta({"schema": "2"})
    assert store.read_meta() == {"schema": "2"}


def test_meta_does_not_show_up_as_a_collection_of_points(store: Store) -> None:
    store.write_meta({"schema": "1"})
    store.ensure(SPEC)
    assert store.count(SPEC.name, Where()) == 0
    assert not store.exists("things-else")


def test_optimize_keeps_every_point(filled: Store) -> None:
    before = filled.count(SPEC.name, Where())
    report = filled.optimize(SPEC.name)
    assert report["points"] == before == filled.count(SPEC.name, Where())
    assert report["segments"] >= 1
