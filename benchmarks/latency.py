"""auto / store latency and bulk import, amber against the usual stack, on the same data.

    python benchmarks/latency.py [--sizes 1000,10000] [--queries 50] [--fresh 5]

For each size N it builds N short synthetic memories (deterministic), embeds them once with
the builtin embedder, and measures in this process:
- amber: bulk import (memories/s, embedding included), warm `auto` (cache miss and cache hit)
  and warm `store`, through the real services on an embedded store;
- the usual stack, as mem0, mcp-server-qdrant and LangChain's ensemble retriever set it up by
  default: qdrant-client local mode (QdrantClient(path=...)) for dense search plus rank-bm25
  (BM25Okapi) over every memory, fused with RRF; same vectors, same queries;
- fresh process: `python -m amber auto` (AMBER_DAEMON=off) against the N-memory store, and the
  usual stack's fresh start (open the local store, rebuild BM25 from its payloads, load the
  model, answer one query).
Prints medians and ratios; peak RSS of this process at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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
    rng = random.Random(seed)
    return [
        f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(REASONS)} (decision {i})"
        for i in range(n)
    ]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def bench_amber(home: Path, texts: list[str], queries: list[str], embedder) -> dict[str, float]:
    from amber.compose import Runtime
    from amber.recall import auto
    from amber.schema import Filters
    from amber.settings import Settings
    from amber.stores.edge import EdgeStore

    store = EdgeStore(home / "edge", 30.0)
    runtime = Runtime(Settings(home=home), store, embedder.identity, embedder, None)
    store.write_meta({"schema": "amber/1", "embedder": embedder.identity.as_dict()})
    memory = runtime.memory()
    started = time.perf_counter()
    memory.ingest([(t, {"project": ""}) for t in texts])
    import_rate = len(texts) / (time.perf_counter() - started)
    filters = Filters(project="")
    miss = [timed(auto, memory, q, filters, 5, 2000, "") for q in queries]
    memory.cache.put(queries[0], "cached answer", "", memory.embed_query(queries[0]))
    hit = [timed(auto, memory, queries[0], filters, 5, 2000, "") for _ in queries]
    from amber.models import MemoryType

    writes = [
        timed(memory.store_memory, f"benchmark write {i} {q}", MemoryType.decision, [], "")
        for i, q in enumerate(queries)
    ]
    store.close()
    return {
        "import/s": import_rate,
        "auto miss ms": median_ms(miss),
        "auto hit ms": median_ms(hit),
        "store ms": median_ms(writes),
    }


def bench_usual(
    path: Path, texts: list[str], vectors: np.ndarray, queries: list[str], embedder
) -> dict[str, float]:
    from qdrant_client import QdrantClient, models
    from rank_bm25 import BM25Okapi

    client = QdrantClient(path=str(path))
    client.create_collection(
        "m",
        vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE),
    )
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        client.upsert(
            "m",
            [
                models.PointStruct(id=i, vector=vectors[i].tolist(), payload={"text": texts[i]})
                for i in range(start, min(start + 256, len(texts)))
            ],
        )
    bm25 = BM25Okapi([t.lower().split() for t in texts])
    import_rate = len(texts) / (time.perf_counter() - started)

    def query(q: str) -> list[int]:
        dense = client.query_points("m", query=embedder.embed_query(q).tolist(), limit=50).points
        scores = bm25.get_scores(q.lower().split())
        top = np.argsort(-scores)[:50]
        fused: dict[int, float] = {}
        for ranked in ([p.id for p in dense], [int(i) for i in top]):
            for rank, item in enumerate(ranked, 1):
                fused[item] = fused.get(item, 0.0) + 1 / (60 + rank)
        return sorted(fused, key=fused.get, reverse=True)[:5]

    samples = [timed(query, q) for q in queries]
    client.close()
    return {"import/s (vectors given)": import_rate, "auto ms": median_ms(samples)}


FRESH_USUAL = """
import sys, time
t = time.perf_counter()
from qdrant_client import QdrantClient
from rank_bm25 import BM25Okapi
from amber.embedders.builtin import BuiltinEmbedder
client = QdrantClient(path=sys.argv[1])
points, offset, texts = [], None, []
while True:
    batch, offset = client.scroll("m", limit=2048, offset=offset, with_payload=True)
    texts += [p.payload["text"] for p in batch]
    if offset is None:
        break
bm25 = BM25Okapi([x.lower().split() for x in texts])
embedder = BuiltinEmbedder()
client.query_points("m", query=embedder.embed_query(sys.argv[2]).tolist(), limit=50)
bm25.get_scores(sys.argv[2].lower().split())
"""


def fresh(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
    return median_ms(samples)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--fresh", type=int, default=5)
    args = parser.parse_args(argv)
    from amber.embedders.builtin import BuiltinEmbedder

    embedder = BuiltinEmbedder()
    root = Path(tempfile.mkdtemp(prefix="amber-bench-", dir=Path.home()))
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            texts = memories(size)
            rng = random.Random(size)
            queries = [" ".join(rng.choice(texts).split()[:6]) for _ in range(args.queries)]
            home = root / f"amber-{size}"
            amber = bench_amber(home, texts, queries, embedder)
            vectors = embedder.embed_documents(texts)
            usual = bench_usual(root / f"usual-{size}", texts, vectors, queries, embedder)
            env = dict(
                os.environ,
                AMBER_HOME=str(home),
                AMBER_DAEMON="off",
                AMBER_EMBEDDER="builtin",
                OLLAMA_HOST="http://127.0.0.1:9",
            )
            amber_fresh = fresh(
                [sys.executable, "-m", "amber", "auto", "--query", queries[1]], env, args.fresh
            )
            usual_fresh = fresh(
                [sys.executable, "-c", FRESH_USUAL, str(root / f"usual-{size}"), queries[1]],
                env,
                args.fresh,
            )
            print(f"\n== {size} memories, {args.queries} queries")
            print(f"amber bulk import          {amber['import/s']:8.0f} memories/s (embedded)")
            print(f"amber warm auto, miss      {amber['auto miss ms']:8.1f} ms")
            print(f"amber warm auto, cache hit {amber['auto hit ms']:8.1f} ms")
            print(f"amber warm store           {amber['store ms']:8.1f} ms")
            print(
                f"usual stack warm query     {usual['auto ms']:8.1f} ms   "
                f"ratio {usual['auto ms'] / amber['auto miss ms']:.1f}x"
            )
            print(f"amber fresh-process auto   {amber_fresh:8.1f} ms")
            print(
                f"usual stack fresh process  {usual_fresh:8.1f} ms   "
                f"ratio {usual_fresh / amber_fresh:.1f}x"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS of this process: {peak:.0f} MiB")
    finally:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
