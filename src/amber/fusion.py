"""Rank fusion of the dense and BM25 candidate lists: RRF, DBSF and per-query z-scores."""

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


def _standardise(ranked: Ranked, depth: int) -> dict[str, float]:
    head = ranked[:depth]
    scores = [s for _, s in head]
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores)) or 1.0
    return {item: (s - mean) / std for item, s in head}


def zscore(
    lists: Sequence[Ranked], depth: int = 20, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Sum of per-list z-scores over each list's head; an item missing from a list gets that
    list's lowest z-score. Each query's lists are standardised by their own spread, so the
    signal whose leaders stand out for this query carries more weight, with no constants tuned
    per corpus. Lists with fewer than three candidates give no spread: RRF ranks those.
    """
    weights = weights or [1.0] * len(lists)
    if any(0 < len(ranked) < 3 for ranked in lists):
        return rrf(lists, 60, weights)
    normalised = [_standardise(ranked, depth) for ranked in lists if ranked]
    items = {item for z in normalised for item in z}
    fused = dict.fromkeys(items, 0.0)
    for z, weight in zip(
        normalised, [w for r, w in zip(lists, weights, strict=True) if r], strict=True
    ):
        floor = min(z.values())
        for item in items:
            fused[item] += weight * z.get(item, floor)
    # Candidates below every list's head keep their RRF order, after the z-scored head.
    tail = {item: score for item, score in rrf(lists, 60, weights).items() if item not in fused}
    if tail:
        base = min(fused.values(), default=0.0) - 1.0
        fused.update({item: base + score for item, score in tail.items()})
    return fused


def fuse(
    method: str,
    dense: Ranked,
    bm25: Ranked,
    *,
    k: int = 60,
    weights: tuple[float, float] = (1.0, 1.0),
    depth: int = 20,
) -> list[tuple[str, float]]:
    """Fuse two lists and return (id, fused score), best first."""
    if method == "rrf":
        fused = rrf([dense, bm25], k, weights)
    elif method == "dbsf":
        fused = dbsf([dense, bm25], weights)
    elif method == "zscore":
        fused = zscore([dense, bm25], depth, weights)
    else:
        raise ValueError(f"unknown fusion method {method!r}")
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
