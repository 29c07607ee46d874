"""Fusion functions on hand-made candidate lists."""

from __future__ import annotations

import statistics

import pytest

from amber.fusion import dbsf, fuse, rrf, zscore


def test_rrf_sums_reciprocal_ranks_with_weights() -> None:
    fused = rrf([[("a", 9.0), ("b", 1.0)], [("b", 5.0)]], k=10, weights=[1.0, 2.0])
    assert fused["a"] == pytest.approx(1 / 11)
    assert fused["b"] == pytest.approx(1 / 12 + 2 / 11)


def standardise(ranked: list[tuple[str, float]]) -> dict[str, float]:
    scores = [s for _, s in ranked]
    mean, std = statistics.fmean(scores), statistics.pstdev(scores)
    return {item: (s - mean) / std for item, s in ranked}


def test_zscore_missing_item_takes_the_lists_floor() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.4), ("d", 0.3)]
    bm25 = [("b", 10.0), ("c", 2.0), ("e", 1.0)]
    fused = zscore([dense, bm25], depth=20)
    assert set(fused) == {"a", "b", "c", "d", "e"}
    z_dense, z_bm25 = standardise(dense), standardise(bm25)
    # "a" is missing from BM25 and "e" from dense: each gets that list's lowest z-score.
    assert fused["a"] == pytest.approx(z_dense["a"] + min(z_bm25.values()))
    assert fused["e"] == pytest.approx(min(z_dense.values()) + z_bm25["e"])
    assert fused["b"] == pytest.approx(z_dense["b"] + z_bm25["b"])
    assert fused["b"] > fused["a"]  # strong in both lists beats a lone dense leader


def test_zscore_lets_the_standout_signal_decide() -> None:
    names = [f"m{i}" for i in range(20)]
    # Dense scores fall evenly (no item stands out); BM25 has one outlier far above a tight pack.
    dense = [(name, 0.60 - i * 0.01) for i, name in enumerate(names)]
    bm25_order = names[9:10] + names[:9] + names[10:]  # m9 leads BM25, m0 is 10th there
    bm25 = [(name, 20.0 if i == 0 else 3.0 - i * 0.01) for i, name in enumerate(bm25_order)]
    ranked = [item for item, _ in fuse("zscore", dense, bm25)]
    assert ranked[0] == "m9"
    # Equal-weight RRF cannot tell them apart: m0 is (1st, 2nd) and m9 (10th, 1st) there.
    by_rrf = [item for item, _ in fuse("rrf", dense, bm25)]
    assert by_rrf[0] == "m0"


def test_zscore_falls_back_to_rrf_without_a_spread() -> None:
    dense = [("a", 0.9), ("b", 0.2)]
    bm25 = [("b", 3.0), ("c", 1.0), ("d", 0.5)]
    assert zscore([dense, bm25]) == rrf([dense, bm25], 60)


def test_dbsf_clips_to_three_sigma() -> None:
    fused = dbsf([[("a", 1.0), ("b", 0.0)]])
    assert 0.0 <= fused["b"] < fused["a"] <= 1.0


def test_fuse_rejects_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse("median", [], [])


def test_zscore_keeps_candidates_below_the_head() -> None:
    dense = [(f"d{i}", 1.0 - i / 100) for i in range(40)]
    bm25 = [(f"b{i}", 10.0 - i / 10) for i in range(40)]
    ranked = [item for item, _ in fuse("zscore", dense, bm25, depth=20)]
    assert len(ranked) == 80
    head = set(ranked[:40])
    assert head == {f"d{i}" for i in range(20)} | {f"b{i}" for i in range(20)}
    assert ranked.index("d20") < ranked.index("d39")  # the tail keeps its order
