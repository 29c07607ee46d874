"""Hubness correction of the dense signal: some memories (short chat turns, boilerplate
snippets) sit in crowded parts of the embedding space and come up for every query. Each
memory records its density, the mean cosine to its K nearest other memories, when it is
written; search scores dense candidates by cosine - lambda * density (docs/quality.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    for hit in store.search_dense(collection, vector, Where(), K * 3 + 1):
        mid = str(hit.payload.get("memory_id", hit.id))
        if mid != exclude:
            best[mid] = max(best.get(mid, -1.0), hit.score)
    if len(best) < K:
        return None
    top = sorted(best.values(), reverse=True)[:K]
    return round(sum(top) / K, 6)


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
