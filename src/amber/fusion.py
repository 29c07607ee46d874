"""Rank fusion of the dense and BM25 candidate lists: RRF, DBSF, per-query z-scores, and the
adaptive z-score fusion whose weights follow the evidence of each query."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

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


@dataclass(frozen=True)
class AdaptiveParams:
    """Constants of the adaptive fusion, fitted leave-one-dataset-out over the dev sets
    (benchmarks/fusion_lodo.py) together with the hubness correction of the dense list;
    these are the fit on all of them."""

    depth: int = 20  # each list's head that is standardised
    prose_dense: float = 0.3  # dense weight when the candidates read as prose
    code_dense: float = 0.95  # dense weight when they read as code
    code_share: float = 0.1  # candidates' code share from which they read as code
    identifier_shift: float = 0.3  # less dense weight when the query names identifiers
    coverage: float = 1.0  # z units per share of query terms fewer than the best candidate's


@dataclass(frozen=True)
class Evidence:
    """What adaptive fusion knows about one query besides the two lists: the code share of
    the leading candidates, whether the query names identifiers, and for each candidate the
    share of the query's BM25 terms it contains (absent: unknown, treated as the best)."""

    code_share: float = 0.0
    identifiers: bool = False
    coverage: Mapping[str, float] = field(default_factory=dict)


def dense_weight(evidence: Evidence, params: AdaptiveParams) -> float:
    """The dense list's share of the blend: from prose to code by the candidates' code share,
    less when the query names identifiers (exact names are BM25's strength)."""
    ramp = min(1.0, evidence.code_share / params.code_share) if params.code_share > 0 else 1.0
    weight = params.prose_dense + (params.code_dense - params.prose_dense) * ramp
    weight -= params.identifier_shift if evidence.identifiers else 0.0
    return min(1.0, max(0.0, weight))


def head_z(ranked: Ranked, depth: int) -> tuple[dict[str, float], float]:
    """z-scores of a list's head, and the floor (its lowest) that items outside it take."""
    z = _standardise(ranked, depth) if ranked else {}
    return z, min(z.values(), default=0.0)


def adaptive(
    dense: Ranked,
    bm25: Ranked,
    evidence: Evidence,
    params: AdaptiveParams | None = None,
    weights: tuple[float, float] = (1.0, 1.0),
) -> dict[str, float]:
    """w * z_dense + (1 - w) * z_bm25 - coverage * (best coverage - own coverage) over the
    union of both heads, w from `dense_weight` (then scaled by `weights`, 1:1 leaves it).
    An item missing from a head takes that list's floor; items below both heads keep their
    RRF order after them. A list with fewer than three candidates has no spread: RRF with
    the same weights ranks both then."""
    p = params or AdaptiveParams()
    w = dense_weight(evidence, p)
    wd, wb = w * weights[0], (1.0 - w) * weights[1]
    total = wd + wb
    wd, wb = (wd / total, wb / total) if total > 0 else (0.5, 0.5)
    if not dense or not bm25:
        return rrf([dense, bm25], 60, [wd, wb])
    if len(dense) < 3 or len(bm25) < 3:
        return rrf([dense, bm25], 60, [wd, wb])
    (zd, floor_d), (zb, floor_b) = head_z(dense, p.depth), head_z(bm25, p.depth)
    items = list(dict.fromkeys([*zd, *zb]))
    best = max((evidence.coverage.get(i, 0.0) for i in items), default=0.0)
    fused = {
        item: wd * zd.get(item, floor_d)
        + wb * zb.get(item, floor_b)
        - p.coverage * (best - evidence.coverage.get(item, best))
        for item in items
    }
    tail = {i: s for i, s in rrf([dense, bm25], 60, [wd, wb]).items() if i not in fused}
    if tail:
        base = min(fused.values()) - 1.0
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
    evidence: Evidence | None = None,
    params: AdaptiveParams | None = None,
) -> list[tuple[str, float]]:
    """Fuse two lists and return (id, fused score), best first."""
    if method == "adaptive":
        p = params or AdaptiveParams(depth=depth)
        fused = adaptive(dense, bm25, evidence or Evidence(), p, weights)
    elif method == "rrf":
        fused = rrf([dense, bm25], k, weights)
    elif method == "dbsf":
        fused = dbsf([dense, bm25], weights)
    elif method == "zscore":
        fused = zscore([dense, bm25], depth, weights)
    else:
        raise ValueError(f"unknown fusion method {method!r}")
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class FeedbackParams:
    """The second stage: the fused head rescored by its similarity to an expanded query (the
    query's vector and its leaders' mean, in proportion). Fitted leave-one-dataset-out after
    the adaptive constants (benchmarks/fusion_lodo.py); these are the fit on every set."""

    head: int = 30  # leading fused candidates that are rescored
    leaders: int = 1  # of them, those whose mean vector expands the query
    weight: float = 0.5  # z units of similarity added to each candidate's fused z-score
    query_share: float = 0.25  # the query's share of the expanded query


def _z(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def feedback(
    fused: Ranked,
    vectors: Mapping[str, Sequence[float]],
    query: Sequence[float],
    params: FeedbackParams | None = None,
) -> list[tuple[str, float]]:
    """Rescore the fused head: each candidate's z-score among the head plus `weight` times
    the z-score of its cosine to `query_share * query + (1 - query_share) * mean(leaders)`
    (pseudo-relevance feedback: memories like the ones fusion put first move up). A candidate
    without a vector takes the head's mean similarity; the tail keeps its order below. With
    fewer than three candidates, or no leader's vector, the list is returned as it is."""
    p = params or FeedbackParams()
    head = list(fused[: p.head])
    at = {i: n for n, i in enumerate(i for i, _ in head if i in vectors)}  # rows of `rows`
    leading = [at[i] for i, _ in head[: p.leaders] if i in at]
    if len(head) < 3 or p.weight == 0 or not leading:
        return list(fused)
    rows = np.array([vectors[i] for i in at], dtype=np.float64)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    leaders = rows[leading].mean(axis=0)
    q = np.asarray(query, dtype=np.float64)
    q = q / (np.linalg.norm(q) or 1.0)
    cos = rows @ (p.query_share * q + (1 - p.query_share) * leaders)
    typical = float(cos.mean())
    similarity = _z(np.array([cos[at[i]] if i in at else typical for i, _ in head]))
    fused_z = _z(np.array([s for _, s in head], dtype=np.float64))
    rescored = [
        (item, float(z + p.weight * sim))
        for (item, _), z, sim in zip(head, fused_z, similarity, strict=True)
    ]
    rescored.sort(key=lambda kv: (-kv[1], kv[0]))
    floor = rescored[-1][1] - 1.0
    return rescored + [(item, floor - n) for n, (item, _) in enumerate(fused[p.head :])]
