"""Does the HNSW index pay off at a given store size? The same store searched by scan and by
index, in one warm process, as the daemon searches it.

    python benchmarks/index_payoff.py --size 10000 [--queries 60] [--keep DIR]

Builds a store of SIZE memories with `stacks.py` (or reuses `--keep DIR` when it holds one),
copies it, runs the engine's optimizer on the copy (the HNSW index the daemon builds past
`AMBER_INDEX_THRESHOLD`), then times on both, alternating, the dense candidate search and the
whole hybrid search of `auto` (with a pause between queries, as agents' calls come). Prints
the medians, their ratio, how long the build took, and how much of the exact dense top 10 and
top 50 the index finds. The baseline (the scan) runs in the same script, on the same queries.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stacks import workload

from amber.compose import WarmRuntime
from amber.services.layout import Filters
from amber.services.search import RANKED
from amber.settings import load_settings

HERE = Path(__file__).resolve().parent
PAUSE = 0.03  # seconds between two queries: calls arrive spaced, not back to back


def build(folder: Path, size: int) -> None:
    if (folder / "edge").is_dir():
        return
    argv = [sys.executable, str(HERE / "stacks.py"), "amber", str(folder), "--size", str(size)]
    subprocess.run([*argv, "--queries", "3", "--phase", "build"], check=True, capture_output=True)


def optimize(source: Path, target: Path) -> float:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("daemon.*"))
    env = {"AMBER_HOME": str(target), "AMBER_DAEMON": "off", "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "amber", "optimize"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="memories in the store")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="build the scanned store here and keep it")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="amber-payoff-"))
    try:
        scanned = args.keep or scratch / "scan"
        print(f"building {args.size:,} memories...", flush=True)
        build(scanned, args.size)
        build_s = optimize(scanned, scratch / "index")
        _texts, queries, _writes = workload(args.size, args.queries)
        filters = Filters(project="", exclude_tags=["amber:feedback"])
        where = filters.where()
        stores = {}
        for name, home in (("scan", scanned), ("index", scratch / "index")):
            settings = load_settings({"AMBER_HOME": str(home), "HOME": str(Path.home())})
            warm = WarmRuntime(settings)
            stores[name] = (warm, warm.runtime.memory(settings))
        times: dict[str, dict[str, list[float]]] = {n: {"dense": [], "hybrid": []} for n in stores}
        found: dict[str, list[list[str]]] = {n: [] for n in stores}
        for q in queries:
            for name, (_warm, memory) in stores.items():
                vector = memory.embed_query(q)
                time.sleep(PAUSE)
                started = time.perf_counter()
                hits = memory.store.search_dense(memory.collection, vector, where, 100, RANKED)
                times[name]["dense"].append((time.perf_counter() - started) * 1000)
                found[name].append(list(dict.fromkeys(h.payload["memory_id"] for h in hits)))
                time.sleep(PAUSE)
                started = time.perf_counter()
                memory.hybrid.search(q, filters, 5, vector=vector)
                times[name]["hybrid"].append((time.perf_counter() - started) * 1000)
        for warm, _memory in stores.values():
            warm.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{args.size:,} memories, {len(queries)} queries, p50 in a warm process")
    print(f"  HNSW build (amber optimize on a copy): {build_s:.1f} s")
    for part in ("dense", "hybrid"):
        scan = statistics.median(times["scan"][part])
        index = statistics.median(times["index"][part])
        label = "dense candidates (100)" if part == "dense" else "hybrid search of auto"
        print(f"  {label:<24} scan {scan:6.2f} ms   index {index:6.2f} ms   {scan / index:.2f}x")
    for k in (10, 50):
        shares = [
            len(set(a[:k]) & set(b[:k])) / max(1, len(a[:k]))
            for a, b in zip(found["scan"], found["index"], strict=True)
        ]
        print(f"  exact dense top {k} the index finds: {statistics.mean(shares):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
