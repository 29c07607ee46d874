"""Rank fusion of the dense and BM25 candidate lists: RRF, DBSF and a per-query adaptive blend."""

from __future__ import annotations

import math
from collections.abc import Sequence

Ranked = Sequence[tuple[str, float]]  # (id, score), best first


def rrf(
    lists: Sequence[Ranked], k: int = 60, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Reciprocal rank fusion: sum of weight / (k + rank), rank counted from 1."""
    weights = weights or [1.0] * len(lists)
    fused: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, (item, _score) in enumerate(ranked, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def _dbsf_normalise(ranked: Ranked) -> dict[str, float]:
    scores = [s for _, s in ranked]
    if not scores:
        return {}
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    if std == 0:
        return {item: 1.0 for item, _ in ranked}
    low, high = mean - 3 * std, mean + 3 * std
    return {item: min(1.0, max(0.0, (s - low) / (high - low))) for item, s in ranked}


def dbsf(lists: Sequence[Ranked], weights: Sequence[float] | None = None) -> dict[str, float]:
    """Distribution-based score fusion: each list scaled by mean +/- 3 sigma, then summed."""
    weights = weights or [1.0] * len(lists)
    fused: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for item, value in _dbsf_normalise(ranked).items():
            fused[item] = fused.get(item, 0.0) + weight * value
    return fused


def top_gap(ranked: Ranked, depth: int = 10) -> float:
    """How far the best score stands above the rest of the head of a list, in its own spread."""
    scores = [s for _, s in ranked[:depth]]
    if len(scores) < 3:
        return 0.0
    rest = scores[1:]
    mean = sum(rest) / len(rest)
    std = math.sqrt(sum((s - mean) ** 2 for s in rest) / len(rest)) or 1e-9
    return (scores[0] - mean) / std


def adaptive(dense: Ranked, bm25: Ranked, k: int = 60) -> dict[str, float]:
    """RRF weighted per query: the list whose leader stands out more counts for more."""
    gd, gb = max(top_gap(dense), 0.0), max(top_gap(bm25), 0.0)
    total = gd + gb
    if total == 0:
        return rrf([dense, bm25], k)
    wd = 0.5 + (gd / total - 0.5)
    return rrf([dense, bm25], k, [2 * wd, 2 * (1 - wd)])


def fuse(
    method: str, dense: Ranked, bm25: Ranked, *, k: int, weights: tuple[float, float]
) -> list[tuple[str, float]]:
    """Fuse two lists and return (id, fused score), best first."""
    if method == "rrf":
        fused = rrf([dense, bm25], k, weights)
    elif method == "dbsf":
        fused = dbsf([dense, bm25], weights)
    elif method == "adaptive":
        fused = adaptive(dense, bm25, k)
    else:
        raise ValueError(f"unknown fusion method {method!r}")
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
