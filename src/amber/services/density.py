"""Hubness correction of the dense signal: some memories (short chat turns, boilerplate
snippets) sit in crowded parts of the embedding space and come up for every query. Each
memory records its density, the mean cosine to its K nearest other memories, when it is
written; search scores dense candidates by cosine - lambda * density (docs/quality.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from amber.stores.base import Store, Where

K = 40  # neighbours a density is the mean over (fitted leave-one-dataset-out with lambda)
FIELD = "density"  # the payload field of a memory's first point

Ranked = Sequence[tuple[str, float]]


def measure(
    store: Store, collection: str, vector: list[float], exclude: str | None = None
) -> float | None:
    """Mean cosine of `vector` to its K nearest memories in the collection (best chunk per
    memory, `exclude` left out), or None while the collection holds fewer than K others."""
    best: dict[str, float] = {}
    for hit in store.search_dense(collection, vector, Where(), K * 3 + 1, ("memory_id",)):
        mid = str(hit.payload.get("memory_id", hit.id))
        if mid != exclude:
            best[mid] = max(best.get(mid, -1.0), hit.score)
    if len(best) < K:
        return None
    top = sorted(best.values(), reverse=True)[:K]
    return round(sum(top) / K, 6)


def measure_together(chunks: Sequence[np.ndarray], block: int = 256) -> list[float | None]:
    """The density of each of a group of memories written into an empty collection, given
    each one's chunk vectors (an array, a row per chunk): the mean cosine of its first chunk
    to the K nearest others (best chunk each), as `measure` gives, by blocks of matrix
    products rather than one search per memory (a bulk ingest of 100k memories: about a
    minute instead of most of an hour)."""
    count = len(chunks)
    if count - 1 < K:
        return [None] * count
    sizes = np.array([len(c) for c in chunks])
    flat = np.concatenate(chunks).astype(np.float32)
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    single = bool((sizes == 1).all())
    out: list[float | None] = []
    for lo in range(0, count, block):
        rows = np.arange(lo, min(lo + block, count))
        sims = flat[starts[rows]] @ flat.T  # each memory's first chunk against every chunk
        if not single:
            sims = np.maximum.reduceat(sims, starts, axis=1)  # best chunk per memory
        sims[np.arange(len(rows)), rows] = -np.inf  # not its own neighbour
        top = np.partition(sims, count - K, axis=1)[:, count - K :]
        out.extend(round(float(v), 6) for v in top.mean(axis=1))
    return out


def correct(dense: Ranked, densities: Mapping[str, float | None], lam: float) -> list:
    """The dense list rescored by cosine - lam * density, best first. A memory without a
    density (written before densities, imported, or while the store was small) takes the
    mean of the candidates that have one; with none known the list is left as it is."""
    known = [d for m, _ in dense if (d := densities.get(m)) is not None]
    if lam == 0 or not known:
        return list(dense)
    typical = sum(known) / len(known)
    scored = []
    for mid, score in dense:
        density = densities.get(mid)
        scored.append((mid, score - lam * (typical if density is None else density)))
    return sorted(scored, key=lambda kv: -kv[1])
