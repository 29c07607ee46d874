"""`amber eval`: retrieval quality on a BEIR-format folder, per mode, from a throwaway store."""

from __future__ import annotations

import json
import math
import shutil
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber.cli.progress import Progress
from amber.errors import InvalidInput
from amber.layout import memory_id
from amber.services.memory import MemoryService
from amber.stores.base import Where
from amber.text import estimate_tokens

Ranking = list[str]


@dataclass
class Dataset:
    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InvalidInput(
            f"{path} is missing",
            hint="a BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv",
        )
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"{path}:{number} is not JSON: {exc.msg}") from exc
    return rows


def load_beir(folder: Path, split: str = "test", limit_queries: int | None = None) -> Dataset:
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise InvalidInput(f"{qrels_path} is missing", hint="pick a split that exists: --split")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0] == "query-id":
                continue
            if int(parts[2]) > 0:
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    corpus = {}
    for row in _jsonl(folder / "corpus.jsonl"):
        title, body = (row.get("title") or "").strip(), (row.get("text") or "").strip()
        corpus[str(row["_id"])] = f"{title}\n{body}" if title else body
    queries = {
        str(r["_id"]): r["text"] for r in _jsonl(folder / "queries.jsonl") if str(r["_id"]) in qrels
    }
    if limit_queries:
        queries = dict(list(queries.items())[:limit_queries])
    return Dataset(folder.name, corpus, queries, qrels)


def ndcg_at(ranking: Ranking, rels: dict[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: Ranking, rels: dict[str, int], k: int) -> float:
    return len(set(ranking[:k]) & set(rels)) / len(rels) if rels else 0.0


def mrr_at(ranking: Ranking, rels: dict[str, int], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranking[:k]) if d in rels), 0.0)


def score(rankings: dict[str, Ranking], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    rows = [
        (
            ndcg_at(r, qrels[q]),
            recall_at(r, qrels[q], 10),
            recall_at(r, qrels[q], 100),
            mrr_at(r, qrels[q]),
        )
        for q, r in rankings.items()
    ]
    names = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
    return {n: round(statistics.fmean(v[i] for v in rows), 4) for i, n in enumerate(names)}


Candidates = dict[str, tuple[list[tuple[str, float]], list[tuple[str, float]]]]


def collect(memory: MemoryService, data: Dataset, depth: int = 100) -> tuple[Candidates, float]:
    """Index the corpus, then gather each query's dense and BM25 lists (doc ids) once."""
    by_memory = {memory_id("", text): doc for doc, text in data.corpus.items()}
    items = [(text, {"key": doc}) for doc, text in data.corpus.items()]
    bar = Progress(f"indexing {data.name}", len(items), "docs")
    memory.ingest(items, bar.advance)
    bar = Progress("searching", len(data.queries), "queries")
    found: Candidates = {}
    latencies = []
    for qid, text in data.queries.items():
        started = time.perf_counter()
        dense, sparse = memory.candidates(text, Where(), depth)
        latencies.append(time.perf_counter() - started)
        found[qid] = ([(by_memory[m], s) for m, s in dense], [(by_memory[m], s) for m, s in sparse])
        bar.advance()
    return found, statistics.median(latencies) * 1000


def evaluate(
    memory: MemoryService,
    data: Dataset,
    modes: list[str],
    fusers: dict[str, Callable[[list, list], list]] | None = None,
) -> dict[str, Any]:
    if modes == ["bm25"] and not fusers:
        memory.embedder = None  # BM25 alone needs no vectors: skip the slow part
    found, latency = collect(memory, data)
    result: dict[str, Any] = {}
    for mode in modes:
        if mode == "dense":
            rankings = {q: [d for d, _ in dense] for q, (dense, _) in found.items()}
        elif mode == "bm25":
            rankings = {q: [d for d, _ in sparse] for q, (_, sparse) in found.items()}
        else:
            rankings = {
                q: [d for d, _ in memory.combine(dense, sparse)]
                for q, (dense, sparse) in found.items()
            }
        result[mode] = score(rankings, data.qrels)
        result[mode]["context_tokens@5"] = context_tokens(rankings, data.corpus, 5)
    for name, fuser in (fusers or {}).items():
        rankings = {q: [d for d, _ in fuser(dense, sparse)] for q, (dense, sparse) in found.items()}
        result[name] = score(rankings, data.qrels)
    return {"modes": result, "median_query_ms": round(latency, 2)}


def context_tokens(rankings: dict[str, Ranking], corpus: dict[str, str], k: int) -> float:
    """Mean estimated tokens an agent would read if handed each query's top k documents."""
    per_query = [
        sum(estimate_tokens(corpus[d]) for d in ranked[:k]) for ranked in rankings.values()
    ]
    return round(statistics.fmean(per_query), 1) if per_query else 0.0


def scratch_dir(home: Path) -> Path:
    """A throwaway store folder under the data folder (never the system temp dir)."""
    path = home / "eval" / uuid.uuid4().hex[:12]
    path.mkdir(parents=True, mode=0o700)
    return path


def remove_scratch(path: Path) -> None:
    shutil.rmtree(path)


def sweep_fusers() -> dict[str, Callable[[list, list], list]]:
    """Fusion variants tried by `amber eval --sweep`: RRF constants and weights, DBSF, z-score."""
    from amber.fusion import fuse

    variants: dict[str, Callable[[list, list], list]] = {}
    for k in (10, 30, 60, 100):
        for wd, wb in ((1.0, 1.0), (1.5, 1.0), (1.0, 1.5), (2.0, 1.0), (1.0, 2.0)):
            variants[f"rrf k={k} w={wd:g}:{wb:g}"] = lambda d, b, k=k, w=(wd, wb): fuse(
                "rrf", d, b, k=k, weights=w
            )
    for wd, wb in ((1.0, 1.0), (1.5, 1.0), (1.0, 1.5)):
        variants[f"dbsf w={wd:g}:{wb:g}"] = lambda d, b, w=(wd, wb): fuse(
            "dbsf", d, b, k=60, weights=w
        )
    for depth in (10, 20, 30, 50):
        variants[f"zscore depth={depth}"] = lambda d, b, n=depth: fuse("zscore", d, b, depth=n)
    return variants
