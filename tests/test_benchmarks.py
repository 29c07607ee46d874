"""The latency benchmark runs end to end from a checkout (tiny sizes: a smoke run, no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, clean_env


def bench(tmp_path: Path, home: Path, script: str, *args: str) -> str:
    """A benchmark script's output, run from a scratch folder with a scratch HOME."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=tmp_path,
        env=dict(clean_env(home), HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_latency_benchmark_measures_both_stacks_and_judges_the_targets(
    tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "samples.json"
    flags = ("--sizes", "120", "--queries", "3", "--fresh", "1", "--optimize", "--json", str(out))
    stdout = bench(tmp_path, home, "latency.py", *flags)
    for line in (
        "warm auto, cache miss",
        "agent call via daemon: store",
        "peak RSS, daemon",
        "agent call breakdown: interpreter start",
        "agent's auto through the warm daemon, p50 at 10k",
    ):
        assert line in stdout
    assert "bulk import, slowest size" in stdout
    assert "not run (add 10000 to --sizes)" in stdout
    result = json.loads(out.read_text())["120"]
    assert len(result["amber"]["auto_miss_ms"]) == 3 and len(result["usual"]["store_ms"]) == 3
    assert result["amber"]["peak_rss_mib"] > 50 and result["daemon"]["rss"] > 50
    assert result["optimize"]["warm"]["auto_miss_ms"]
    assert not list(tmp_path.glob("amber-bench-*")), "the benchmark left its stores behind"


def test_index_payoff_benchmark_compares_scan_and_index(tmp_path: Path, home: Path) -> None:
    keep = str(tmp_path / "store")
    stdout = bench(
        tmp_path, home, "index_payoff.py", "--size", "200", "--queries", "4", "--keep", keep
    )
    assert "200 memories, 4 queries" in stdout
    for line in ("HNSW build", "dense candidates (100)", "hybrid search of auto", "top 50"):
        assert line in stdout
    assert (tmp_path / "store" / "edge").is_dir()  # kept for a rerun


def _lodo():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import fusion_lodo
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return fusion_lodo


def test_the_lodo_fit_prefers_a_plateau_to_a_lone_spike_and_weighs_the_worst_set() -> None:
    import numpy as np

    lodo = _lodo()
    grid = lodo.candidates(20)
    cover = len(lodo.GRID["coverage"])

    def point(**values: float) -> int:
        return next(
            n for n, p in enumerate(grid) if all(getattr(p, k) == v for k, v in values.items())
        )

    gains = {name: np.full((len(lodo.HUB), len(grid), cover), -0.05) for name in "ab"}
    for n, p in enumerate(grid):  # both sets gain +0.02 on a wide plateau
        if 0.35 <= p.prose_dense <= 0.45 and p.code_dense >= 0.7:
            for g in gains.values():
                g[1, n, 1:4] = 0.02
    spike = point(code_share=0.25, identifier_shift=0.2, prose_dense=0.6, code_dense=0.6)
    gains["a"][3, spike, 3] = gains["b"][3, spike, 3] = 0.03  # higher, but alone
    hub, chosen = lodo.fit(gains, grid)
    assert hub == lodo.HUB[1] and chosen.prose_dense == 0.4 and chosen.coverage == 1.0
    assert 0.7 < chosen.code_dense < 0.95  # inside the plateau, not on its edge

    # one set far ahead where the other loses: the soft minimum follows the loser
    lopsided = {name: np.full((len(lodo.HUB), len(grid), cover), 0.0) for name in "ab"}
    lopsided["a"][0, 0, :] = lopsided["a"][0, 1, :] = 0.2
    lopsided["b"][0, 0, :] = lopsided["b"][0, 1, :] = -0.01
    hub, chosen = lodo.fit(lopsided, grid)
    assert hub != lodo.HUB[0] or chosen not in (grid[0], grid[1])
    # where both gain alike, the better point wins
    lopsided["b"][0, 0, :] = lopsided["b"][0, 1, :] = 0.2
    hub, chosen = lodo.fit(lopsided, grid)
    assert hub == lodo.HUB[0] and (chosen.code_share, chosen.prose_dense) == (
        grid[0].code_share,
        grid[0].prose_dense,
    )


def test_the_second_stage_fit_follows_the_training_sets_and_may_turn_it_off() -> None:
    import numpy as np

    lodo = _lodo()
    shape = [len(v) for v in lodo.FEEDBACK.values()]
    w = lodo.FEEDBACK["weight"]
    helps = {name: np.zeros(shape) for name in "ab"}
    for g in helps.values():
        g[0, w.index(0.5) :, 1:3] = 0.01  # leaders 1, weight 0.5 and up, query share 0.25-0.5
    chosen = lodo.fit_feedback(helps)
    assert chosen.leaders == 1 and chosen.weight >= 0.5 and chosen.query_share in (0.25, 0.5)
    hurts = {name: np.zeros(shape) for name in "ab"}
    for g in hurts.values():
        g[:, 1:, :] = -0.01  # every weight above 0 loses
    hurts["a"][0, 1, 0] = 0.05  # one set's lone spike does not turn it on
    assert lodo.fit_feedback(hurts).weight == 0.0


def test_opening_cost_benchmark_times_both_dense_lists(tmp_path: Path, home: Path) -> None:
    data = tmp_path / "tiny"
    (data / "qrels").mkdir(parents=True)
    long = " ".join(
        f"Line {i} of the deploy runbook names step {i} and its owner." for i in range(60)
    )
    docs = {"d1": long + " Roll back with the previous image tag.", "d2": "Deploys run at noon."}
    with (data / "corpus.jsonl").open("w") as out:
        for doc, text in docs.items():
            out.write(json.dumps({"_id": doc, "title": "", "text": text}) + "\n")
    with (data / "queries.jsonl").open("w") as out:
        for qid, text in {
            "q1": "how do we roll back a deploy",
            "q2": "when do deploys run",
        }.items():
            out.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (data / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    stdout = bench(tmp_path, home, "opening_cost.py", str(data))
    name, old_ms, new_ms, ratio, extra = next(
        line.split() for line in stdout.splitlines() if line.startswith("tiny")
    )
    assert float(old_ms) > 0 and float(new_ms) > 0 and float(ratio) > 0
    assert extra == "0%", stdout  # a corpus this small puts every opening among the hits


def test_feedback_cost_benchmark_times_fusion_with_and_without_the_second_stage(
    tmp_path: Path, home: Path
) -> None:
    data = tmp_path / "tiny"
    (data / "qrels").mkdir(parents=True)
    docs = {
        f"d{i}": f"Deploy note {i}: the staging deploy {i} rolled back at step {i}."
        for i in range(8)
    }
    with (data / "corpus.jsonl").open("w") as out:
        for doc, text in docs.items():
            out.write(json.dumps({"_id": doc, "title": "", "text": text}) + "\n")
    with (data / "queries.jsonl").open("w") as out:
        out.write(json.dumps({"_id": "q1", "text": "why did the staging deploy roll back"}) + "\n")
    (data / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n")
    stdout = bench(tmp_path, home, "feedback_cost.py", str(data))
    _name, off_ms, on_ms, ratio = next(
        line.split() for line in stdout.splitlines() if line.startswith("tiny")
    )
    assert float(off_ms) > 0 and float(on_ms) > 0 and float(ratio) > 0
