"""`amber eval` end to end on a tiny BEIR folder, and the metrics against hand-computed values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from amber.services.evaluation import load_beir, mrr_at, ndcg_at, recall_at

TOPICS = {
    "d1": "Vaccines train the immune system to recognise a virus before an infection happens.",
    "d2": "The Python GIL lets one thread run bytecode at a time inside a CPython process.",
    "d3": "Photosynthesis converts sunlight, water and carbon dioxide into glucose and oxygen.",
    "d4": "PostgreSQL uses multiversion concurrency control so readers do not block writers.",
    "d5": "The mitochondria produce most of the chemical energy a cell needs, as ATP.",
    "d6": "Rust's borrow checker enforces that references never outlive the data they point to.",
}
QUERIES = {
    "q1": ("how do vaccines protect against viruses", "d1"),
    "q2": ("why can only one Python thread execute at once", "d2"),
    "q3": ("how do plants turn light into sugar", "d3"),
    "q4": ("do readers block writers in postgres", "d4"),
    "q5": ("which organelle makes ATP energy", "d5"),
    "q6": ("what does the borrow checker guarantee about references", "d6"),
}


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as f:
        for doc, text in TOPICS.items():
            f.write(json.dumps({"_id": doc, "title": "", "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        for qid, (text, _) in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with (root / "qrels" / "test.tsv").open("w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, (_, doc) in QUERIES.items():
            f.write(f"{qid}\t{doc}\t1\n")
    return root


def test_metrics_match_hand_computed_values() -> None:
    rels = {"a": 1, "b": 1}
    ranking = ["x", "a", "y", "b"]
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(ranking, rels) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert recall_at(ranking, rels, 2) == 0.5 and recall_at(ranking, rels, 10) == 1.0
    assert mrr_at(ranking, rels) == 0.5
    assert mrr_at(["x", "y"], rels) == 0.0


def test_load_beir_keeps_judged_queries(beir: Path) -> None:
    data = load_beir(beir, "test")
    assert len(data.corpus) == 6 and set(data.queries) == set(QUERIES)
    assert data.qrels["q3"] == {"d3": 1}


def test_eval_json_reports_every_mode(cli, beir: Path) -> None:
    res = cli("eval", "--dataset", str(beir), "--json")
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["dataset"] == "tiny" and doc["embedder"]["provider"] == "builtin"
    assert set(doc["modes"]) == {"bm25", "dense", "hybrid"}
    for row in doc["modes"].values():
        assert set(row) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "context_tokens@5"}
    # Five of six short documents: about 5 x 20 estimated tokens each.
    assert 60 < doc["modes"]["dense"]["context_tokens@5"] < 140
    # Dense ranks every one of six documents; BM25 misses q3, which shares no term with d3.
    assert doc["modes"]["dense"]["recall@100"] == 1.0
    assert doc["modes"]["bm25"]["recall@100"] == pytest.approx(5 / 6, abs=1e-3)
    assert doc["modes"]["dense"]["ndcg@10"] >= 0.9  # paraphrased queries: dense ranks them first
    assert "indexing tiny" in res.stderr  # progress is reported on stderr


def test_eval_rejects_missing_split(cli, beir: Path) -> None:
    res = cli("eval", "--dataset", str(beir), "--split", "dev")
    assert res.code == 2 and "dev.tsv" in res.error["message"]
