"""The HNSW index of a large collection is built in another process while calls go on."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import numpy as np

from amber.stores.base import CollectionSpec, PointIn, Sparse, Where
from amber.stores.edge import EdgeStore
from amber.stores.rebuild import BackgroundIndexer, read_record, write_record

DIM = 384
POINTS = 15_000  # 23 MB of vectors: over the engine's own indexing threshold


def fill(store: EdgeStore, count: int, rng: np.random.Generator) -> None:
    """Points like memories: a dense vector and a BM25 one (whose inverted index the engine
    counts among its indexed vectors from the first write)."""
    for _ in range(0, count, 1000):
        store.upsert(
            "c",
            [
                PointIn(
                    str(uuid.uuid4()),
                    {"k": 1},
                    dense=rng.standard_normal(DIM).tolist(),
                    sparse=Sparse(sorted(rng.choice(5000, 3, replace=False).tolist()), [1.0] * 3),
                )
                for _ in range(1000)
            ],
        )


def test_rebuild_keeps_writes_made_meanwhile_and_never_stops_reads(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    store = EdgeStore(tmp_path / "edge", 5.0)
    store.ensure(CollectionSpec("c", DIM))
    fill(store, POINTS, rng)
    assert store.indexed("c")[1] == 0
    lock = threading.Lock()
    notes: list[str] = []
    indexer = BackgroundIndexer(lambda: (store, "c", lock), 1000, notes.append)
    assert indexer.due()
    done, reads, errors, written = threading.Event(), [], [], []

    def traffic() -> None:
        while not done.is_set():
            try:
                query = rng.standard_normal(DIM).tolist()
                reads.append(len(store.search_dense("c", query, Where(), 5)))
                point = str(uuid.uuid4())
                with lock:
                    store.upsert("c", [PointIn(point, {"k": 2}, dense=query)])
                written.append(point)
            except Exception as exc:  # noqa: BLE001 - recorded and asserted on below
                errors.append(repr(exc))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        assert indexer.rebuild(), notes
    finally:
        done.set()
        worker.join()
    assert not errors and len(reads) > 10 and all(n == 5 for n in reads)
    points, indexed = store.indexed("c")
    assert points == POINTS + len(written) and indexed >= POINTS
    assert len(store.get("c", written)) == len(written), "writes made during the build are kept"
    assert notes[0].startswith("index: building") and "indexed" in notes[-1]
    replayed = store.replayed["c"]
    assert 0 < replayed <= len(written), "the writes made during the build were replayed"
    record = store.build_record("c")
    built, recorded = read_record(record) or (0, 0)
    assert recorded == replayed and POINTS < built <= points  # taken as the copy took over
    # the writes replayed are outside the index: a tenth of the collection asks for a build
    assert indexer.due() == (replayed >= 0.1 * built)
    fresh = BackgroundIndexer(lambda: (store, "c", lock), 1000, notes.append)
    write_record(record, points, 0)
    assert not fresh.due(), "a new daemon does not build again what the last one built"
    write_record(record, points, points // 5)  # the replay moved a fifth out of the index
    assert fresh.due()
    write_record(record, points // 2, 0)  # the collection doubled since the build
    assert fresh.due()
    record.write_text("{not json")  # unreadable: the engine's count decides
    assert fresh.due() == (indexed < 0.9 * points)
    store.close()
    reopened = EdgeStore(tmp_path / "edge", 5.0)  # the pointer file names the rebuilt copy
    assert reopened.indexed("c") == (points, indexed)
    reopened.drop("c")
    assert not record.exists(), "dropping a collection drops its record"
    reopened.close()
