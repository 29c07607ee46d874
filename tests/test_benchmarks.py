"""The latency benchmark runs end to end from a checkout (tiny sizes: a smoke run, no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, clean_env


def test_latency_benchmark_measures_both_stacks_and_judges_the_targets(
    tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "samples.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "latency.py"), "--sizes", "120"]
        + ["--queries", "3", "--fresh", "1", "--optimize", "--json", str(out)],
        cwd=tmp_path,
        env=dict(clean_env(home), HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    for line in (
        "warm auto, cache miss",
        "agent call via daemon: store",
        "peak RSS, daemon",
        "agent call breakdown: interpreter start",
        "agent's auto through the warm daemon, p50 at 10k",
    ):
        assert line in proc.stdout
    assert "bulk import, slowest size" in proc.stdout
    assert "not run (add 10000 to --sizes)" in proc.stdout
    result = json.loads(out.read_text())["120"]
    assert len(result["amber"]["auto_miss_ms"]) == 3 and len(result["usual"]["store_ms"]) == 3
    assert result["amber"]["peak_rss_mib"] > 50 and result["daemon"]["rss"] > 50
    assert result["optimize"]["warm"]["auto_miss_ms"]
    assert not list(tmp_path.glob("amber-bench-*")), "the benchmark left its stores behind"
