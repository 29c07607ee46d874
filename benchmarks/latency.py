"""amber against the usual stack: `auto` and `store` latency, bulk import, peak memory.

    python benchmarks/latency.py [--sizes 1000,10000] [--queries 30] [--fresh 5] [--optimize]

For each size N, on the same N short synthetic memories and the same queries:
- warm, in a worker process per stack (`benchmarks/stacks.py`): bulk import (embedding
  included), `auto` with a cache miss and a cache hit, `store`, and the worker's peak RSS;
- fresh process, the way an agent without a daemon calls it: `python -m amber auto|store`
  with AMBER_DAEMON=off, and the usual stack's script (open the local store, rebuild BM25
  from its payloads, load the model, answer) -- wall time and the child's peak RSS. The usual
  stack loads the model from amber's cached optimized graph too, so its start is not slowed
  by a step amber skips (its real-world loaders, e.g. sentence-transformers, are slower);
- the agent's call with the daemon running: `python3 execution/memory_manager.py auto|store`
  in a fresh process, forwarded to `amber serve` (its breakdown: interpreter start, shim +
  client + socket, the daemon's work); from --index-threshold points up (default: that of
  AMBER_INDEX_THRESHOLD) the daemon builds the HNSW index in the background as it starts, so
  calls are timed during the build, and the rest once it is done;
- with --optimize: `amber optimize` (timed), then warm and fresh `auto` again.
Prints medians (p50) and ratios (usual stack / amber), then each target (issues 5 and 10) with the
measured value, and for a target missed the breakdown that explains it. The targets are
judged on 2 cores with the builtin embedder; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stacks import workload

from amber.settings import Settings

HERE = Path(__file__).resolve().parent
SHIM = HERE.parent / "execution" / "memory_manager.py"

FRESH_USUAL_AUTO = """
import sys
import numpy as np
from qdrant_client import QdrantClient
from rank_bm25 import BM25Okapi
from amber.embedders.builtin import BuiltinEmbedder
from amber.settings import load_settings
client = QdrantClient(path=sys.argv[1])
texts, offset = [], None
while True:
    batch, offset = client.scroll("m", limit=2048, offset=offset, with_payload=True)
    texts += [p.payload["text"] for p in batch]
    if offset is None:
        break
bm25 = BM25Okapi([t.lower().split() for t in texts])
embedder = BuiltinEmbedder(cache_dir=load_settings().cache_dir)  # amber's optimized graph
dense = client.query_points("m", query=embedder.embed_query(sys.argv[2]).tolist(), limit=50)
top = np.argsort(-bm25.get_scores(sys.argv[2].lower().split()))[:50]
"""

FRESH_USUAL_STORE = """
import sys
from qdrant_client import QdrantClient, models
from amber.embedders.builtin import BuiltinEmbedder
from amber.settings import load_settings
client = QdrantClient(path=sys.argv[1])
vector = BuiltinEmbedder(cache_dir=load_settings().cache_dir).embed_query(sys.argv[2]).tolist()
new_id = client.count("m").count + 10**9
client.upsert("m", [models.PointStruct(id=new_id, vector=vector, payload={"text": sys.argv[2]})])
"""


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def timed_child(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall ms and peak RSS (MiB) of one child process, which must exit 0 or 1."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:4])} ... exited {proc.returncode}:\n{err}")
    return wall, usage.ru_maxrss / 1024


def fresh(argvs: list[list[str]], env: dict[str, str], cwd: Path) -> dict[str, float]:
    runs = [timed_child(argv, env, cwd) for argv in argvs]
    return {"ms": p50([w for w, _ in runs]), "rss": max(r for _, r in runs)}


def worker(stack: str, folder: Path, size: int, queries: int, phase: str, cwd: Path) -> dict:
    argv = [sys.executable, str(HERE / "stacks.py"), stack, str(folder), "--size", str(size)]
    argv += ["--queries", str(queries), "--phase", phase]
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the {stack} worker failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout))


class Daemon:
    """`amber serve` on one store for the duration of a `with` block; records its peak RSS."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd, self.peak_rss = env, cwd, 0.0
        self.log = cwd / f"daemon-{os.getpid()}-{time.monotonic_ns()}.log"

    def __enter__(self) -> Daemon:
        from amber.daemon.client import live_socket

        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "amber", "serve", "--idle-timeout", "900"],
                env=self.env,
                cwd=self.cwd,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 120
        while live_socket(self.env) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("amber serve did not start")
            time.sleep(0.05)
        return self

    def index_building(self, wait: float = 10.0) -> bool:
        """Whether the daemon started a background HNSW build (it checks as it starts)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if "index: building" in self.log.read_text(errors="replace"):
                return True
            time.sleep(0.2)
        return False

    def index_built(self, timeout: float) -> float:
        """Wait for the background HNSW build to end; the seconds the daemon reported."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "index: the build failed" in text:
                raise SystemExit(f"the daemon's index build failed: see {self.log}")
            found = re.search(r"index: \d+ of \d+ vectors indexed in ([0-9.]+) s", text)
            if found:
                return float(found.group(1))
            time.sleep(1)
        raise SystemExit(f"the background index build took over {timeout:.0f} s: see {self.log}")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        _pid, _status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = 0
        self.peak_rss = usage.ru_maxrss / 1024


def measure_size(root: Path, size: int, args: argparse.Namespace) -> dict[str, Any]:
    _texts, queries, writes = workload(size, args.queries)
    home, usual_dir = root / f"amber-{size}", root / f"usual-{size}"
    print(f"\n== {size:,} memories: building both stores (embedding included)...", flush=True)
    a = worker("amber", home, size, args.queries, "build", root)
    u = worker("usual", usual_dir, size, args.queries, "build", root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMBER_", "QDRANT_"))}
    env.update(AMBER_HOME=str(home), AMBER_EMBEDDER="builtin", OLLAMA_HOST="http://127.0.0.1:9")
    env["AMBER_INDEX_THRESHOLD"] = str(args.index_threshold)
    off = dict(env, AMBER_DAEMON="off")
    amber_cmd = [sys.executable, "-m", "amber"]
    picks = [queries[1 + i % (len(queries) - 1)] for i in range(args.fresh)]
    cached = queries[0]
    out: dict[str, Any] = {"amber": a, "usual": u}
    print("   fresh processes...", flush=True)
    out["fresh"] = {
        "amber auto": fresh([[*amber_cmd, "auto", "--query", q] for q in picks], off, root),
        "amber auto hit": fresh([[*amber_cmd, "auto", "--query", cached]] * args.fresh, off, root),
        "amber store": fresh(
            [
                [*amber_cmd, "store", "--content", w, "--type", "decision"]
                for w in writes[: args.fresh]
            ],
            off,
            root,
        ),
        "usual auto": fresh(
            [[sys.executable, "-c", FRESH_USUAL_AUTO, str(usual_dir), q] for q in picks], env, root
        ),
        "usual store": fresh(
            [
                [sys.executable, "-c", FRESH_USUAL_STORE, str(usual_dir), w]
                for w in writes[-args.fresh :]
            ],
            env,
            root,
        ),
    }
    print("   agent calls through the daemon...", flush=True)
    shim = [sys.executable, str(SHIM)]
    agent = [AGENT_PYTHON, str(SHIM)]  # the python3 an agent calls (Debian's, when present)
    with Daemon(env, root) as daemon:
        timed_child([*shim, "auto", "--query", "warm-up query about the worker"], env, root)
        during: dict[str, Any] = {}
        if size >= args.index_threshold and daemon.index_building():
            during = fresh([[*agent, "auto", "--query", q] for q in picks], env, root)
            during["build_s"] = daemon.index_built(timeout=1800)
        out["daemon"] = {
            "during build": during,
            "auto": fresh([[*shim, "auto", "--query", q] for q in picks], env, root),
            "agent auto": fresh([[*agent, "auto", "--query", q] for q in picks], env, root),
            "breakdown": breakdown(agent, picks, env, root),
            "auto hit": fresh([[*shim, "auto", "--query", cached]] * args.fresh, env, root),
            "store": fresh(
                [
                    [*shim, "store", "--content", f"{w} via daemon", "--type", "decision"]
                    for w in writes[: args.fresh]
                ],
                env,
                root,
            ),
        }
    out["daemon"]["rss"] = daemon.peak_rss
    if args.optimize:
        # Before and after are both measured by a worker that opens the store from disk, as the
        # daemon does; the build worker's numbers come from the process that just wrote it.
        print("   amber optimize...", flush=True)
        before = worker("amber", home, size, args.queries, "measure", root)
        wall, rss = timed_child([*amber_cmd, "optimize"], off, root)
        out["optimize"] = {
            "seconds": wall / 1000,
            "rss": rss,
            "warm before": before,
            "warm": worker("amber", home, size, args.queries, "measure", root),
            "fresh auto": fresh([[*amber_cmd, "auto", "--query", q] for q in picks], off, root),
        }
    return out


INDEX_THRESHOLD = int(Settings.model_fields["index_threshold"].default)
AGENT_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def breakdown(agent: list[str], picks: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Where an agent's forwarded `auto` spends its time: the interpreter starting, the shim
    and client (a forwarded `version`, which the daemon answers without work, minus the
    start), and the daemon's own work (the document's timing_ms total)."""
    start = [timed_child([AGENT_PYTHON, "-I", "-c", "pass"], env, cwd)[0] for _ in picks]
    noop = [timed_child([*agent, "version"], env, cwd)[0] for _ in picks]
    work = []
    for q in picks:
        proc = subprocess.run(
            [*agent, "auto", "--query", q], env=env, cwd=cwd, capture_output=True, check=True
        )
        work.append(json.loads(proc.stdout)["timing_ms"]["total"])
    return {
        "interpreter_ms": p50(start),
        "shim_client_socket_ms": p50(noop) - p50(start),
        "daemon_work_ms": p50(work),
    }


def row(label: str, amber: str, usual: str = "", ratio: str = "") -> None:
    print(f"  {label:<34} {amber:>12} {usual:>12} {ratio:>8}")


def ms(value: float) -> str:
    return f"{value:,.1f} ms"


def ratio(usual: float, amber: float) -> str:
    return f"{usual / amber:.1f}x"


def report(size: int, r: dict[str, Any]) -> None:
    a, u, f, d = r["amber"], r["usual"], r["fresh"], r["daemon"]
    am, um = p50(a["auto_miss_ms"]), p50(u["auto_miss_ms"])
    print(f"\n== {size:,} memories: p50 of each")
    row("", "amber", "usual stack", "ratio")
    row("bulk import, memories/s", f"{a['import_per_s']:,.0f}", f"{u['import_per_s']:,.0f}")
    row("warm auto, cache miss", ms(am), ms(um), ratio(um, am))
    row("warm auto, cache hit", ms(p50(a["auto_hit_ms"])), "(no cache)")
    row(
        "warm store",
        ms(p50(a["store_ms"])),
        ms(p50(u["store_ms"])),
        ratio(p50(u["store_ms"]), p50(a["store_ms"])),
    )
    row(
        "fresh-process auto",
        ms(f["amber auto"]["ms"]),
        ms(f["usual auto"]["ms"]),
        ratio(f["usual auto"]["ms"], f["amber auto"]["ms"]),
    )
    row("fresh-process auto, cache hit", ms(f["amber auto hit"]["ms"]), "(no cache)")
    row(
        "fresh-process store",
        ms(f["amber store"]["ms"]),
        ms(f["usual store"]["ms"]),
        ratio(f["usual store"]["ms"], f["amber store"]["ms"]),
    )
    row(
        "agent call via daemon: auto",
        ms(d["auto"]["ms"]),
        ms(f["usual auto"]["ms"]),
        ratio(f["usual auto"]["ms"], d["auto"]["ms"]),
    )
    row(f"agent call via daemon: auto, {AGENT_PYTHON}", ms(d["agent auto"]["ms"]))
    b = d["breakdown"]
    print(
        f"  agent call breakdown: interpreter start {b['interpreter_ms']:.1f}, shim + client + "
        f"socket {b['shim_client_socket_ms']:.1f}, daemon work {b['daemon_work_ms']:.1f} ms"
    )
    if d.get("during build"):
        row("agent call during the index build", ms(d["during build"]["ms"]))
        print(f"  background HNSW build (the daemon's log): {d['during build']['build_s']:.1f} s")
    row("agent call via daemon: auto hit", ms(d["auto hit"]["ms"]))
    row(
        "agent call via daemon: store",
        ms(d["store"]["ms"]),
        ms(f["usual store"]["ms"]),
        ratio(f["usual store"]["ms"], d["store"]["ms"]),
    )
    row("peak RSS, warm worker", f"{a['peak_rss_mib']:,.0f} MiB", f"{u['peak_rss_mib']:,.0f} MiB")
    row(
        "peak RSS, fresh auto",
        f"{f['amber auto']['rss']:,.0f} MiB",
        f"{f['usual auto']['rss']:,.0f} MiB",
    )
    row("peak RSS, daemon", f"{d['rss']:,.0f} MiB")
    row("peak RSS, forwarding client", f"{d['auto']['rss']:,.0f} MiB")
    parts = {k: p50(v) for k, v in a["auto_miss_parts_ms"].items()}
    uparts = {k: p50(v) for k, v in u["auto_miss_parts_ms"].items()}
    print(
        "  warm auto breakdown, amber: "
        + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
        + f", CLI parse/route/render {am - sum(parts.values()):.1f} ms"
    )
    print(
        "  warm query breakdown, usual: "
        + ", ".join(f"{k} {v:.1f}" for k, v in uparts.items())
        + " ms"
    )
    if "optimize" in r:
        o = r["optimize"]
        print(f"  amber optimize: {o['seconds']:.1f} s, peak RSS {o['rss']:,.0f} MiB")
        row("", "before", "after")
        row(
            "warm auto (store opened from disk)",
            ms(p50(o["warm before"]["auto_miss_ms"])),
            ms(p50(o["warm"]["auto_miss_ms"])),
        )
        row("fresh-process auto", ms(f["amber auto"]["ms"]), ms(o["fresh auto"]["ms"]))


def targets(results: dict[int, dict[str, Any]]) -> None:
    print("\n== targets (this run)")

    def check(label: str, size: int, value: Any, goal: str, met: Any) -> None:
        if size not in results:
            print(f"  {label:<58} not run (add {size} to --sizes)")
            return
        print(f"  {label:<58} {value:>10}  {'met' if met else 'NOT MET'}   (target {goal})")

    r10, r100 = results.get(10000), results.get(100000)
    warm = lambda r: p50(r["amber"]["auto_miss_ms"])  # noqa: E731
    check("warm auto p50 at 10k", 10000, r10 and ms(warm(r10)), "<= 50 ms", r10 and warm(r10) <= 50)
    check(
        "warm auto p50 at 100k",
        100000,
        r100 and ms(warm(r100)),
        "<= 100 ms",
        r100 and warm(r100) <= 100,
    )
    agent = lambda r: r["daemon"]["agent auto"]["ms"]  # noqa: E731
    check(
        "agent's auto through the warm daemon, p50 at 10k",
        10000,
        r10 and ms(agent(r10)),
        "<= 30 ms",
        r10 and agent(r10) <= 30,
    )
    check(
        "agent's auto through the warm daemon, p50 at 100k",
        100000,
        r100 and ms(agent(r100)),
        "<= 40 ms",
        r100 and agent(r100) <= 40,
    )
    fresh10 = r10 and r10["fresh"]["amber auto"]["ms"]
    check(
        "fresh-process auto at 10k", 10000, r10 and ms(fresh10), "<= 800 ms", r10 and fresh10 <= 800
    )
    if r10:
        usual_warm, usual_fresh = (
            p50(r10["usual"]["auto_miss_ms"]),
            r10["fresh"]["usual auto"]["ms"],
        )
        for label, ours, theirs in (
            ("vs usual stack at 10k, warm auto (in-process, both)", warm(r10), usual_warm),
            (
                "vs usual stack at 10k, agent call (daemon / fresh script)",
                r10["daemon"]["auto"]["ms"],
                usual_fresh,
            ),
            ("vs usual stack at 10k, fresh process (both)", fresh10, usual_fresh),
        ):
            check(label, 10000, ratio(theirs, ours), ">= 10x", theirs / ours >= 10)
    slowest = min(r["amber"]["import_per_s"] for r in results.values())
    print(
        f"  {'bulk import, slowest size':<58} {slowest:>7,.0f}/s  "
        f"{'met' if slowest >= 150 else 'NOT MET'}   (target >= 150/s)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated memory counts")
    parser.add_argument("--queries", type=int, default=30, help="warm samples per measurement")
    parser.add_argument("--fresh", type=int, default=5, help="fresh processes per measurement")
    parser.add_argument("--optimize", action="store_true", help="also measure after optimize")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    parser.add_argument(
        "--index-threshold",
        type=int,
        default=INDEX_THRESHOLD,
        help="points from which the daemon builds the HNSW index (AMBER_INDEX_THRESHOLD)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    root = Path(tempfile.mkdtemp(prefix="amber-bench-", dir=Path.home()))
    results: dict[int, dict[str, Any]] = {}
    try:
        for size in sizes:
            results[size] = measure_size(root, size, args)
            report(size, results[size])
    finally:
        shutil.rmtree(root)
    targets(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
