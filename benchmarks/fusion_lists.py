"""Each dev set's dense and BM25 candidate lists, searched once and kept in the cache folder.

The index comes from `amber eval`'s cache ($AMBER_HOME/eval-index, keyed by corpus, embedder
and BM25 settings); the lists (top 100 of each signal, with scores) are written to
$AMBER_CACHE_DIR/fusion-lists/<index key>-<queries hash>.json.gz, so fitting fusion offline
never searches twice. Used by benchmarks/fusion_lodo.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from amber.cli.progress import Progress
from amber.compose import scratch_memory
from amber.services import evaluation
from amber.services.eval_index import open_index
from amber.settings import Settings

DEPTH = 100
LISTS = "opening-ties"  # how the lists score (search._by_memory) and order ties (by id)
NEIGHBOURS = 100  # nearest memories kept per memory, for the density of any k up to this
Ranked = list[tuple[str, float]]


@dataclass
class Lists:
    """One dataset's queries and lists, by memory id, with the documents behind the ids."""

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    found: dict[str, tuple[Ranked, Ranked]]
    content: dict[str, str]  # memory id -> text
    doc_of: dict[str, str]  # memory id -> document id
    search_depth: int  # how deep the real search's lists are (hybrid fuses these)
    # memory id -> cosines to its nearest other memories, best first (NEIGHBOURS of them)
    neighbours: dict[str, np.ndarray] = field(default_factory=dict)
    # memory id -> its opening chunk's vector; query id -> the query's vector (unit length)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)


def _pairs(rows: list[list]) -> Ranked:
    return [(str(i), float(s)) for i, s in rows]


def _progress(label: str, total: int, unit: str) -> Callable[[int], None]:
    return Progress(label, total, unit).advance


def load_lists(folder: Path, settings: Settings, split: str = "test") -> Lists:
    data = evaluation.load_beir(folder, split)
    queries_hash = hashlib.sha256(json.dumps(data.queries, sort_keys=True).encode()).hexdigest()
    index = open_index(
        lambda path: scratch_memory(settings, path),
        settings.home / "eval-index",
        data,
        True,
        _progress,
    )
    try:
        depth = index.memory.config.candidates
        name = f"{index.key}-{LISTS}-{queries_hash[:12]}.json.gz"
        cache = settings.cache_dir / "fusion-lists" / name
        if cache.is_file():
            with gzip.open(cache, "rt", encoding="utf-8") as handle:
                stored = json.load(handle)
            found = {q: (_pairs(d), _pairs(b)) for q, (d, b) in stored.items()}
        else:
            raw, _ = evaluation.search_all(index.memory, data, DEPTH, _progress)
            found = {q: (list(d), list(b)) for q, (d, b) in raw.items()}
            cache.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(cache, "wt", encoding="utf-8") as handle:
                json.dump(found, handle)
        near = settings.cache_dir / "fusion-lists" / f"{index.key}-neighbours.npz"
        if not near.is_file():
            ids, cosines = _neighbours(index.store, index.memory.collection)
            np.savez_compressed(near, ids=np.array(ids), cosines=cosines)
        stored = np.load(near)
        neighbours = dict(zip(stored["ids"].tolist(), stored["cosines"], strict=True))
        vectors = _cached_vectors(
            settings.cache_dir / "fusion-lists" / f"{index.key}-vectors.npz",
            lambda: _openings(index.store, index.memory.collection),
        )
        query_vectors = _cached_vectors(
            settings.cache_dir / "fusion-lists" / f"{index.key}-queries-{queries_hash[:12]}.npz",
            lambda: _embedded(index.memory, data.queries),
        )
    finally:
        index.close()
    doc_of = evaluation.doc_ids(data)
    content = {m: data.corpus[d] for m, d in doc_of.items()}
    return Lists(
        data.name,
        data.queries,
        data.qrels,
        found,
        content,
        doc_of,
        depth,
        neighbours,
        vectors,
        query_vectors,
    )


def _cached_vectors(
    path: Path, compute: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    if not path.is_file():
        found = compute()
        np.savez_compressed(path, ids=np.array(list(found)), vectors=np.stack(list(found.values())))
    stored = np.load(path)
    return dict(zip(stored["ids"].tolist(), stored["vectors"], strict=True))


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _embedded(memory: object, queries: dict[str, str]) -> dict[str, np.ndarray]:
    """Each query's vector as the search embeds it (MemoryService.embed_query)."""
    out = {}
    for qid, text in queries.items():
        vector = memory.embed_query(text)  # type: ignore[attr-defined]
        if vector is not None:
            out[qid] = _unit(np.asarray(vector, dtype=np.float32))
    return out


def _openings(store: object, collection: str) -> dict[str, np.ndarray]:
    """Each memory's opening-chunk vector (the point `Store.dense_vectors` returns for it)."""
    return {mid: _unit(v) for mid, v in zip(*_scrolled(store, collection, 0), strict=True)}


def _neighbours(store: object, collection: str) -> tuple[list[str], np.ndarray]:
    """Each memory's cosines to its NEIGHBOURS nearest other memories (its first chunk against
    every chunk of the others, best chunk per memory), exactly, from the stored vectors. The
    embedded engine is read directly (research code; the Store protocol returns no vectors)."""
    rows = _records(store, collection)
    owners = [str(r.payload["memory_id"]) for r in rows]
    vectors = _unit(np.array([r.vector["dense"] for r in rows], dtype=np.float32))
    first = {
        o: i for i, (o, r) in enumerate(zip(owners, rows, strict=True)) if r.payload["chunk"] == 0
    }
    ids = sorted(first)
    column = {m: i for i, m in enumerate(ids)}
    owner_col = np.array([column[o] for o in owners])
    order = np.argsort(owner_col, kind="stable")  # chunks grouped by memory, memories in id order
    bounds = np.r_[0, np.flatnonzero(np.diff(owner_col[order])) + 1]
    chunks = vectors[order].T
    queries = vectors[[first[m] for m in ids]]
    out = np.zeros((len(ids), NEIGHBOURS), dtype=np.float32)
    for start in range(0, len(ids), 256):
        best = np.maximum.reduceat(queries[start : start + 256] @ chunks, bounds, axis=1)
        rows_here = np.arange(best.shape[0])
        best[rows_here, start + rows_here] = -2.0  # not its own neighbour
        top = -np.sort(-best, axis=1)[:, :NEIGHBOURS]
        out[start : start + best.shape[0], : top.shape[1]] = top
    return ids, out


def _records(store: object, collection: str) -> list:
    """Every point with its payload and vector, from the embedded engine directly (research
    code; the Store protocol returns no payloads with vectors)."""
    import qdrant_edge as qe

    shard = store._shard(collection)  # type: ignore[attr-defined]
    rows, offset = [], None
    while True:
        records, offset = shard.scroll(
            qe.ScrollRequest(offset=offset, limit=1000, with_payload=True, with_vector=True)
        )
        rows.extend(records)
        if offset is None:
            return rows


def _scrolled(store: object, collection: str, chunk: int) -> tuple[list[str], np.ndarray]:
    rows = [r for r in _records(store, collection) if r.payload["chunk"] == chunk]
    ids = [str(r.payload["memory_id"]) for r in rows]
    return ids, np.array([r.vector["dense"] for r in rows], dtype=np.float32)


if __name__ == "__main__":
    from amber.settings import load_settings

    for path in evaluation.dataset_folders([Path(p) for p in sys.argv[1:]]):
        lists = load_lists(path, load_settings(embedder="builtin"))
        sys.stderr.write(f"{lists.name}: {len(lists.found)} queries\n")
