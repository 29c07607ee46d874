"""The two stacks the latency benchmark compares, each measured in a process of its own.

    python benchmarks/stacks.py amber|usual DIR --size N --queries Q [--phase build|measure]

Prints one JSON document: bulk import rate, warm query and write latencies (every sample, in
ms), their breakdown, and the process's peak RSS. `benchmarks/latency.py` runs these workers,
so each stack's peak memory is its own, and adds the fresh-process measurements.

- amber: the real CLI commands (`auto`, `cache-store`, `store`) run in-process with the warm
  runtime the daemon keeps (`WarmRuntime`), on the embedded store; bulk import is the service
  `amber import` uses. `--phase measure` reopens an existing store without importing.
- usual: what mem0, mcp-server-qdrant and LangChain's ensemble retriever set up by default:
  qdrant-client local mode (`QdrantClient(path=...)`) for dense search, rank-bm25 (BM25Okapi)
  over every memory, RRF (k=60) over the two top-50 lists; the same builtin embedder. A write
  embeds and upserts one memory and rebuilds BM25Okapi, which cannot add documents.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

SUBJECTS = [
    "the API",
    "the worker",
    "the scheduler",
    "the billing service",
    "the web app",
    "the mobile backend",
    "the ETL job",
    "the auth service",
    "the search index",
    "the notification service",
    "the admin panel",
    "the data pipeline",
]
VERBS = [
    "uses",
    "moved to",
    "caches with",
    "retries through",
    "logs via",
    "deploys with",
    "validates input with",
    "stores sessions in",
    "queues jobs on",
    "rate-limits with",
]
OBJECTS = [
    "Redis",
    "PostgreSQL",
    "Celery",
    "arq",
    "structlog",
    "Docker Compose",
    "Pydantic v2",
    "SQLAlchemy 2",
    "Kafka",
    "S3",
    "nginx",
    "Kubernetes",
    "FastAPI BackgroundTasks",
    "Django ORM",
    "pytest fixtures",
    "OpenTelemetry",
    "Sentry",
    "a token bucket",
]
REASONS = [
    "because latency dropped",
    "after the outage review",
    "to cut costs",
    "since the team knows it",
    "for simpler deploys",
    "to remove a dependency",
    "as the load tests showed",
    "to match the other services",
]


def memories(n: int, seed: int = 7) -> list[str]:
    """N short, deterministic decision memories."""
    rng = random.Random(seed)
    return [
        f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(REASONS)} (decision {i})"
        for i in range(n)
    ]


def workload(n: int, count: int) -> tuple[list[str], list[str], list[str]]:
    """The memories, the queries (the first six words of random memories) and new writes."""
    texts = memories(n)
    rng = random.Random(n)
    queries = [" ".join(rng.choice(texts).split()[:6]) for _ in range(count)]
    writes = [f"Benchmark write {i}: {q} {rng.choice(REASONS)}" for i, q in enumerate(queries)]
    return texts, queries, writes


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# -- amber -------------------------------------------------------------------------------------
def _cli(run: Any, argv: list[str]) -> tuple[float, dict[str, Any]]:
    """One CLI call as the daemon makes it: output captured, exit code checked."""
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = run(argv)
    took = ms_since(started)
    if code not in (0, 1):
        raise SystemExit(f"amber {argv[0]} exited {code}")
    return took, json.loads(out.getvalue())


def amber(folder: Path, size: int, count: int, phase: str) -> dict[str, Any]:
    os.environ.update(
        AMBER_HOME=str(folder),
        AMBER_DAEMON="off",
        AMBER_EMBEDDER="builtin",
        OLLAMA_HOST="http://127.0.0.1:9",
    )
    from amber.cli import run as run_cli
    from amber.cli.invocation import Invocation
    from amber.compose import WarmRuntime
    from amber.settings import load_settings

    texts, queries, writes = workload(size, count)
    warm = WarmRuntime(load_settings())  # what the daemon keeps open
    call_of = Invocation(env=dict(os.environ), cwd=Path.cwd(), runtimes=warm)

    def run(argv: list[str]) -> int:
        return run_cli(argv, call_of)

    result: dict[str, Any] = {}
    if phase == "build":
        started = time.perf_counter()
        warm.runtime.memory().ingest([(t, {"project": ""}) for t in texts])
        result["import_per_s"] = size / (time.perf_counter() - started)
    for q in ["warm-up query about the worker", *queries[:4]]:
        _cli(run, ["auto", "--query", q])
    miss, parts = [], {"embed": [], "search": [], "route": []}
    for q in queries:
        took, doc = _cli(run, ["auto", "--query", q])
        miss.append(took)
        for key in parts:
            parts[key].append(doc["timing_ms"][key])
    result.update(auto_miss_ms=miss, auto_miss_parts_ms=parts)
    if phase == "build":
        cached = queries[0]
        _cli(run, ["cache-store", "--query", cached, "--response", "cached answer"])
        result["auto_hit_ms"] = [_cli(run, ["auto", "--query", cached])[0] for _ in queries]
        result["store_ms"] = [
            _cli(run, ["store", "--content", w, "--type", "decision", "--tags", "bench"])[0]
            for w in writes
        ]
    warm.close()
    result["peak_rss_mib"] = peak_rss_mib()
    return result


# -- the usual stack ---------------------------------------------------------------------------
def tokens(text: str) -> list[str]:
    return text.lower().split()


def usual(folder: Path, size: int, count: int) -> dict[str, Any]:
    import numpy as np
    from qdrant_client import QdrantClient, models
    from rank_bm25 import BM25Okapi

    from amber.embedders.builtin import BuiltinEmbedder

    texts, queries, writes = workload(size, count)
    embedder = BuiltinEmbedder()
    client = QdrantClient(path=str(folder))
    client.create_collection(
        "m", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    started = time.perf_counter()
    for start in range(0, size, 256):
        batch = texts[start : start + 256]
        vectors = embedder.embed_documents(batch)
        client.upsert(
            "m",
            [
                models.PointStruct(id=start + i, vector=v.tolist(), payload={"text": t})
                for i, (t, v) in enumerate(zip(batch, vectors, strict=True))
            ],
        )
    corpus = [tokens(t) for t in texts]
    bm25 = BM25Okapi(corpus)
    import_per_s = size / (time.perf_counter() - started)

    parts: dict[str, list[float]] = {"embed": [], "dense": [], "bm25": [], "fuse": []}

    def query(q: str) -> list[str]:
        t0 = time.perf_counter()
        vector = embedder.embed_query(q).tolist()
        t1 = time.perf_counter()
        dense = client.query_points("m", query=vector, limit=50, with_payload=True).points
        t2 = time.perf_counter()
        scores = bm25.get_scores(tokens(q))
        top = np.argsort(-scores)[:50]
        t3 = time.perf_counter()
        fused: dict[int, float] = {}
        for ranked in ([int(p.id) for p in dense], [int(i) for i in top]):
            for rank, item in enumerate(ranked, 1):
                fused[item] = fused.get(item, 0.0) + 1 / (60 + rank)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:5]
        answer = [texts[i] for i in best]
        t4 = time.perf_counter()
        for key, a, b in (("embed", t0, t1), ("dense", t1, t2), ("bm25", t2, t3), ("fuse", t3, t4)):
            parts[key].append((b - a) * 1000)
        return answer

    query("warm-up query about the worker")
    for key in parts:
        parts[key].clear()
    miss = []
    for q in queries:
        started = time.perf_counter()
        query(q)
        miss.append(ms_since(started))

    def write(text: str, point_id: int) -> None:
        nonlocal bm25
        vector = embedder.embed_query(text).tolist()
        client.upsert("m", [models.PointStruct(id=point_id, vector=vector, payload={"text": text})])
        texts.append(text)
        corpus.append(tokens(text))
        bm25 = BM25Okapi(corpus)

    store = []
    for i, w in enumerate(writes):
        started = time.perf_counter()
        write(w, size + i)
        store.append(ms_since(started))
    client.close()
    return {
        "import_per_s": import_per_s,
        "auto_miss_ms": miss,
        "auto_miss_parts_ms": parts,
        "store_ms": store,
        "peak_rss_mib": peak_rss_mib(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", choices=["amber", "usual"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--phase", choices=["build", "measure"], default="build")
    args = parser.parse_args(argv)
    if args.stack == "amber":
        result = amber(args.folder, args.size, args.queries, args.phase)
    else:
        result = usual(args.folder, args.size, args.queries)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
