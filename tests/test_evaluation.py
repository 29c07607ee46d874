"""`amber eval` end to end on tiny BEIR folders (one, a suite, the cached index), and the
metrics and the suite summary against hand-computed values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from amber.cli.evaluate import render_table
from amber.services.evaluation import gain, load_beir, mrr_at, ndcg_at, recall_at, summarise

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


CODE = {
    "c1": "def retry(fn, times=3):\n    for attempt in range(times):\n        try:\n"
    "            return fn()\n        except OSError:\n            time.sleep(2 ** attempt)",
    "c2": "with open(path, encoding='utf-8') as handle:\n    rows = list(csv.reader(handle))",
    "c3": "parser = argparse.ArgumentParser()\n"
    "parser.add_argument('--verbose', action='store_true')",
    "c4": "sorted(items, key=lambda item: item[1], reverse=True)",
}
CODE_QUERIES = {
    "k1": ("call a function again with exponential backoff when it fails", "c1"),
    "k2": ("read a comma separated file into a list of rows", "c2"),
    "k3": ("add a command line flag that turns on verbose output", "c3"),
    "k4": ("order pairs by their second element, largest first", "c4"),
}


def write_beir(root: Path, corpus: dict[str, str], queries: dict[str, tuple[str, str]]) -> Path:
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as f:
        for doc, text in corpus.items():
            f.write(json.dumps({"_id": doc, "title": "", "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        for qid, (text, _) in queries.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with (root / "qrels" / "test.tsv").open("w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, (_, doc) in queries.items():
            f.write(f"{qid}\t{doc}\t1\n")
    return root


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "tiny", TOPICS, QUERIES)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A folder holding two datasets: prose and code."""
    write_beir(tmp_path / "suite" / "prose", TOPICS, QUERIES)
    write_beir(tmp_path / "suite" / "code", CODE, CODE_QUERIES)
    return tmp_path / "suite"


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
    assert res.doc["embedder"]["provider"] == "builtin"
    [doc] = res.doc["datasets"]
    assert doc["dataset"] == "tiny" and doc["queries"] == 6 and doc["documents"] == 6
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


def test_gain_and_summary_against_hand_computed_values() -> None:
    a = {"bm25": {"ndcg@10": 0.5}, "dense": {"ndcg@10": 0.3}, "hybrid": {"ndcg@10": 0.56}}
    b = {"bm25": {"ndcg@10": 0.2}, "dense": {"ndcg@10": 0.6}, "hybrid": {"ndcg@10": 0.58}}
    assert gain(a) == {"better_single": "bm25", "gain": 0.06}
    assert gain(b) == {"better_single": "dense", "gain": -0.02}
    assert gain({"dense": {"ndcg@10": 0.6}}) is None  # hybrid alone cannot be judged
    summary = summarise([{"modes": a, "gain": gain(a)}, {"modes": b, "gain": gain(b)}])
    assert summary["mean"] == {"bm25": 0.35, "dense": 0.45, "hybrid": 0.57}
    assert summary["mean_gain"] == pytest.approx(0.02) and summary["worst_gain"] == -0.02


def test_a_folder_of_datasets_is_one_suite_with_one_table(cli, suite: Path) -> None:
    res = cli("eval", "--dataset", str(suite), "--json")
    assert res.code == 0, res.stderr
    doc = res.doc
    assert [d["dataset"] for d in doc["datasets"]] == ["code", "prose"]  # sorted by folder
    for d in doc["datasets"]:
        modes = d["modes"]
        better = max(modes["bm25"]["ndcg@10"], modes["dense"]["ndcg@10"])
        assert d["gain"]["gain"] == pytest.approx(modes["hybrid"]["ndcg@10"] - better, abs=1e-4)
    gains = [d["gain"]["gain"] for d in doc["datasets"]]
    assert doc["summary"]["mean_gain"] == pytest.approx(sum(gains) / 2, abs=1e-4)
    assert "[1/2] code" in res.stderr and "[2/2] prose" in res.stderr
    table = render_table(doc).splitlines()
    assert table[1].split()[:6] == ["dataset", "queries", "docs", "bm25", "dense", "hybrid"]
    assert table[2].split()[0] == "code" and table[3].split()[0] == "prose"
    assert (
        table[4].split()[0] == "mean"
        and table[4].split()[-1] == f"{doc['summary']['mean_gain']:+.4f}"
    )
    # Naming the two folders one by one gives the same suite.
    again = cli("eval", "--dataset", str(suite / "code"), "--dataset", str(suite / "prose"))
    assert [d["modes"] for d in again.doc["datasets"]] == [d["modes"] for d in doc["datasets"]]


def test_eval_refuses_a_folder_without_datasets(cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = cli("eval", "--dataset", str(tmp_path / "empty"))
    assert res.code == 2 and "BEIR" in res.error["message"]
    res = cli("eval", "--dataset", str(tmp_path / "nowhere"))
    assert res.code == 2 and "nowhere" in res.error["message"]


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts the builtin model embeds as documents (queries are not counted)."""
    from amber.embedders.builtin import BuiltinEmbedder

    counted: list[int] = []
    real = BuiltinEmbedder.embed_documents

    def counting(self: BuiltinEmbedder, texts: list[str]) -> Any:
        counted.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(BuiltinEmbedder, "embed_documents", counting)
    return counted


def test_a_rerun_searches_the_cached_index_without_embedding(
    cli, beir: Path, home: Path, embedded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cli("eval", "--dataset", str(beir), "--json")
    assert sum(embedded) == len(TOPICS) and not first.doc["datasets"][0]["index"]["reused"]
    embedded.clear()
    second = cli("eval", "--dataset", str(beir), "--sweep", "--json")
    assert embedded == [] and second.doc["datasets"][0]["index"]["reused"]
    assert "indexing tiny" not in second.stderr
    modes = second.doc["datasets"][0]["modes"]
    assert {k: modes[k] for k in first.doc["datasets"][0]["modes"]} == first.doc["datasets"][0][
        "modes"
    ]
    key = first.doc["datasets"][0]["index"]["key"]
    assert (home / "eval-index" / key).is_dir()  # under the data folder, not the temp dir
    assert not list((home / "eval-index").glob(".build-*"))
    # Other BM25 settings are another index; --rebuild builds one again.
    monkeypatch.setenv("AMBER_BM25_AVG_LEN", "20")
    third = cli("eval", "--dataset", str(beir), "--json")
    assert third.doc["datasets"][0]["index"]["key"] != key and sum(embedded) == len(TOPICS)
    embedded.clear()
    cli("eval", "--dataset", str(beir), "--rebuild", "--json")
    assert sum(embedded) == len(TOPICS)


def test_bm25_only_needs_no_vectors(cli, beir: Path, embedded: list[int]) -> None:
    res = cli("eval", "--dataset", str(beir), "--mode", "bm25", "--json")
    assert res.code == 0 and embedded == []
    assert set(res.doc["datasets"][0]["modes"]) == {"bm25"}
    assert res.doc["datasets"][0]["gain"] is None


def test_lodo_script_prints_the_table_with_targets_and_verdicts(
    suite: Path, home: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT, clean_env

    out = tmp_path / "lodo.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fusion_lodo.py"), str(suite)]
        + ["--json", str(out)],
        cwd=tmp_path,
        env=dict(clean_env(home), HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Leave-one-dataset-out" in proc.stdout and "| mean gain |" in proc.stdout
    doc = json.loads(out.read_text())
    assert [r["dataset"] for r in doc["lodo"]] == ["code", "prose"]
    for r in doc["lodo"]:
        best = max(r["bm25"], r["dense"])
        assert r["gain"] == pytest.approx(r["new_hybrid"] - best)
        assert r["verdict"] in ("meets", "holds, short of +0.01", "LOSES")
    assert set(doc["fitted"]) == set(doc["shipped"])
    assert set(doc["fitted_feedback"]) == set(doc["shipped_feedback"]) >= {"weight", "leaders"}
    assert all(r["first_stage"] > 0 and "weight" in r["feedback"] for r in doc["lodo"])
    assert list((home / "eval-index").iterdir())  # the script searched amber eval's indexes


CHAT = {  # two conversations, each turn dated by its session like locomo-turns
    "a|1": ("a", "1:56 pm on 8 May, 2023", "Caroline: I went to a support group yesterday."),
    "a|2": ("a", "7:00 pm on 25 May, 2023", "Caroline: I painted the lake at sunrise."),
    "a|3": ("a", "1:14 pm on 9 June, 2023", "Caroline: The charity race raised a lot."),
    "b|1": ("b", "10:00 am on 2 January, 2022", "Nate: I won my first gaming tournament."),
    "b|2": ("b", "4:30 pm on 20 March, 2022", "Nate: My screenplay got a reading."),
}
CHAT_QUESTIONS = {
    "a|q1": ("When did Caroline go to the support group?", "a|1", "temporal"),
    "a|q2": ("What did Caroline paint in May 2023?", "a|2", "single_hop"),
    "b|q1": ("What did Nate win?", "b|1", "single_hop"),
}


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    root = tmp_path / "chat"
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as f:
        for doc, (sample, when, text) in CHAT.items():
            meta = {"sample_id": sample, "date_time": when}
            f.write(json.dumps({"_id": doc, "text": text, "metadata": meta}) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        for qid, (text, _, category) in CHAT_QUESTIONS.items():
            meta = {"sample_id": qid.split("|")[0], "category_name": category}
            f.write(json.dumps({"_id": qid, "text": text, "metadata": meta}) + "\n")
    with (root / "qrels" / "test.tsv").open("w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, (_, doc, _) in CHAT_QUESTIONS.items():
            f.write(f"{qid}\t{doc}\t1\n")
    return root


def test_documents_carry_their_own_time_and_questions_their_category(chat: Path) -> None:
    from amber.services.temporal import parse_stamp

    data = load_beir(chat)
    assert data.times["a|1"] == parse_stamp("1:56 pm on 8 May, 2023")
    assert data.categories == {"a|q1": "temporal", "a|q2": "single_hop", "b|q1": "single_hop"}
    # Each question is asked when its own conversation ends.
    assert data.asked["a|q2"] == data.times["a|3"] and data.asked["b|q1"] == data.times["b|2"]
    assert load_beir(write_beir(chat.parent / "plain", TOPICS, QUERIES)).times == {}


def test_eval_dates_the_memories_and_reports_temporal_questions_apart(
    cli, chat: Path, home: Path
) -> None:
    res = cli("eval", "--dataset", str(chat), "--json")
    assert res.code == 0, res.stderr
    [doc] = res.doc["datasets"]
    cats = doc["categories"]
    assert cats["temporal"]["queries"] == 1 and cats["other than temporal"]["queries"] == 2
    assert set(cats["temporal"]) == {"queries", "bm25", "dense", "hybrid"}
    assert "temporal" in render_table(res.doc)
    from amber.compose import scratch_memory
    from amber.settings import load_settings
    from amber.stores.base import Where

    folder = home / "eval-index" / doc["index"]["key"]
    memory, store = scratch_memory(load_settings(home=home, embedder="builtin"), folder)
    try:
        stamps = sorted(
            h.payload["created_ts"] for h in store.scroll(memory.collection, Where(), 10)
        )
    finally:
        store.close()
    assert stamps == sorted(load_beir(chat).times.values())  # what search sees as their time
