"""`amber eval`: retrieval quality on BEIR-format folders, per mode, from a cached index."""

from __future__ import annotations

import json
import math
import shutil
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amber.errors import InvalidInput
from amber.services.layout import memory_id
from amber.services.memory import MemoryService
from amber.stores.base import Where
from amber.text import estimate_tokens

Ranking = list[str]
Ranked = list[tuple[str, float]]
Advance = Callable[[int], None]
ProgressFactory = Callable[[str, int, str], Advance]  # (label, total, unit) -> advance(n)
MODES = ("bm25", "dense", "hybrid")


@dataclass
class Dataset:
    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    times: dict[str, float] = field(default_factory=dict)  # document -> its time (epoch s)
    categories: dict[str, str] = field(default_factory=dict)  # query -> its category
    asked: dict[str, float] = field(default_factory=dict)  # query -> when it is asked


def _when(row: dict[str, Any]) -> float | None:
    """A row's `metadata.date_time` as epoch seconds (LoCoMo's "1:56 pm on 8 May, 2023", or
    ISO), UTC; None when it has none."""
    from amber.services.temporal import parse_stamp

    value = (row.get("metadata") or {}).get("date_time")
    return parse_stamp(value) if isinstance(value, str) else None


def _asked_at(
    rows: list[dict[str, Any]], times: dict[str, float], docs: list[dict[str, Any]]
) -> dict[str, float]:
    """When each query is asked: its own `metadata.date_time`, else the latest time of the
    documents of its `metadata.sample_id` (a conversation is questioned after it ends), else
    the latest time of the corpus."""
    if not times:
        return {}
    latest: dict[str, float] = {}
    for doc in docs:
        sample, stamp = (doc.get("metadata") or {}).get("sample_id"), times.get(str(doc["_id"]))
        if sample is not None and stamp is not None:
            latest[sample] = max(latest.get(sample, stamp), stamp)
    overall = max(times.values())
    out = {}
    for row in rows:
        meta = row.get("metadata") or {}
        out[str(row["_id"])] = _when(row) or latest.get(meta.get("sample_id"), overall)
    return out


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
    corpus, times = {}, {}
    docs = _jsonl(folder / "corpus.jsonl")
    for row in docs:
        title, body = (row.get("title") or "").strip(), (row.get("text") or "").strip()
        corpus[str(row["_id"])] = f"{title}\n{body}" if title else body
        stamp = _when(row)
        if stamp is not None:
            times[str(row["_id"])] = stamp
    rows = [r for r in _jsonl(folder / "queries.jsonl") if str(r["_id"]) in qrels]
    if limit_queries:
        rows = rows[:limit_queries]
    queries = {str(r["_id"]): r["text"] for r in rows}
    categories = {
        str(r["_id"]): str(meta["category_name"])
        for r in rows
        if "category_name" in (meta := r.get("metadata") or {})
    }
    asked = _asked_at(rows, times, docs)
    return Dataset(folder.resolve().name, corpus, queries, qrels, times, categories, asked)


def dataset_folders(paths: list[Path]) -> list[Path]:
    """Each path is a BEIR folder, or a folder of them (every subfolder with a corpus.jsonl)."""
    found: list[Path] = []
    for path in paths:
        if (path / "corpus.jsonl").is_file():
            found.append(path)
            continue
        inner = (
            sorted(p for p in path.iterdir() if (p / "corpus.jsonl").is_file())
            if path.is_dir()
            else []
        )
        if not inner:
            raise InvalidInput(
                f"{path} is neither a BEIR folder nor a folder of them",
                hint="a BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv",
            )
        found.extend(inner)
    return found


# -- metrics -----------------------------------------------------------------------------------
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


def context_tokens(rankings: dict[str, Ranking], corpus: dict[str, str], k: int) -> float:
    """Mean estimated tokens an agent would read if handed each query's top k documents."""
    per_query = [
        sum(estimate_tokens(corpus[d]) for d in ranked[:k]) for ranked in rankings.values()
    ]
    return round(statistics.fmean(per_query), 1) if per_query else 0.0


def index_corpus(memory: MemoryService, data: Dataset, progress: ProgressFactory | None) -> None:
    """Write every document of the corpus as a memory (project-less, keyed by its id, dated
    by its own time when the dataset gives one)."""
    items: list[tuple[str, dict[str, Any]]] = []
    for doc, text in data.corpus.items():
        fields: dict[str, Any] = {"key": doc}
        if doc in data.times:
            fields["created_ts"] = data.times[doc]
        items.append((text, fields))
    advance = progress(f"indexing {data.name}", len(items), "docs") if progress else None
    memory.ingest(items, advance)


def scratch_dir(home: Path) -> Path:
    """A throwaway store folder under the data folder (never the system temp dir)."""
    path = home / "eval" / uuid.uuid4().hex[:12]
    path.mkdir(parents=True, mode=0o700)
    return path


def remove_scratch(path: Path) -> None:
    shutil.rmtree(path)


# -- searching and scoring ---------------------------------------------------------------------
Found = dict[str, tuple[Ranked, Ranked]]  # query id -> (dense, bm25), memory ids
Candidates = Found  # the same shape, with document ids


def search_all(
    memory: MemoryService, data: Dataset, depth: int = 100, progress: ProgressFactory | None = None
) -> tuple[Found, float]:
    """Each query's dense and BM25 lists (memory ids), and the median milliseconds per query."""
    advance = progress("searching", len(data.queries), "queries") if progress else None
    found: Found = {}
    latencies = []
    for qid, text in data.queries.items():
        started = time.perf_counter()
        found[qid] = memory.hybrid.candidates(text, Where(), depth)
        latencies.append(time.perf_counter() - started)
        if advance:
            advance(1)
    return found, statistics.median(latencies) * 1000 if latencies else 0.0


def doc_ids(data: Dataset) -> dict[str, str]:
    return {memory_id("", text): doc for doc, text in data.corpus.items()}


def collect(
    memory: MemoryService, data: Dataset, depth: int = 100, progress: ProgressFactory | None = None
) -> tuple[Candidates, float]:
    """Index the corpus into `memory`, then gather each query's lists with document ids."""
    index_corpus(memory, data, progress)
    found, latency = search_all(memory, data, depth, progress)
    by_memory = doc_ids(data)
    return {
        q: ([(by_memory[m], s) for m, s in d], [(by_memory[m], s) for m, s in b])
        for q, (d, b) in found.items()
    }, latency


def evaluate_index(
    memory: MemoryService,
    data: Dataset,
    modes: list[str],
    fusers: dict[str, Callable[[Ranked, Ranked], Ranked]] | None = None,
    progress: ProgressFactory | None = None,
) -> dict[str, Any]:
    """Score each mode on an index of `data`; hybrid runs the search's own `combine`, on lists
    as deep as the search's own, each query asked at its own time when the dataset has one.
    A dataset whose queries carry categories is also scored per category."""
    found, latency = search_all(memory, data, 100, progress)
    by_memory = doc_ids(data)
    depth = memory.config.candidates
    result: dict[str, Any] = {}
    per_mode: dict[str, dict[str, Ranking]] = {}
    for mode in modes:
        rankings: dict[str, Ranking] = {}
        for qid, (dense, sparse) in found.items():
            if mode == "dense":
                ranked = dense
            elif mode == "bm25":
                ranked = sparse
            else:
                asked = data.asked.get(qid)
                ranked = memory.hybrid.combine(
                    dense[:depth], sparse[:depth], data.queries[qid], asked
                )
            rankings[qid] = [by_memory[m] for m, _ in ranked]
        per_mode[mode] = rankings
        result[mode] = score(rankings, data.qrels)
        result[mode]["context_tokens@5"] = context_tokens(rankings, data.corpus, 5)
    for name, fuser in (fusers or {}).items():
        rankings = {
            q: [by_memory[m] for m, _ in fuser(d[:depth], b[:depth])] for q, (d, b) in found.items()
        }
        result[name] = score(rankings, data.qrels)
    report: dict[str, Any] = {"modes": result, "median_query_ms": round(latency, 2)}
    if data.categories:
        report["categories"] = by_category(per_mode, data)
    return report


def by_category(per_mode: dict[str, dict[str, Ranking]], data: Dataset) -> dict[str, Any]:
    """nDCG@10 per mode for each query category, and for "temporal" against all the rest."""
    groups: dict[str, list[str]] = {}
    for qid in data.queries:
        groups.setdefault(data.categories.get(qid, "none"), []).append(qid)
    if "temporal" in groups:
        groups["other than temporal"] = [q for q in data.queries if q not in groups["temporal"]]
    out: dict[str, Any] = {}
    for name, qids in sorted(groups.items()):
        out[name] = {"queries": len(qids)}
        for mode, rankings in per_mode.items():
            out[name][mode] = score({q: rankings[q] for q in qids}, data.qrels)["ndcg@10"]
    return out


def sweep_fusers() -> dict[str, Callable[[Ranked, Ranked], Ranked]]:
    """Fixed fusion variants tried by `amber eval --sweep`: RRF constants and weights, DBSF and
    z-score weights, computed on the same candidate lists as the default."""
    from amber.fusion import fuse

    variants: dict[str, Callable[[Ranked, Ranked], Ranked]] = {}
    for k in (10, 60):
        for wd, wb in ((1.0, 1.0), (2.0, 1.0), (1.0, 2.0)):
            variants[f"rrf k={k} w={wd:g}:{wb:g}"] = lambda d, b, k=k, w=(wd, wb): fuse(
                "rrf", d, b, k=k, weights=w
            )
    variants["dbsf w=1:1"] = lambda d, b: fuse("dbsf", d, b)
    for wd, wb in ((1.0, 1.0), (3.0, 1.0), (1.0, 2.0)):
        variants[f"zscore w={wd:g}:{wb:g}"] = lambda d, b, w=(wd, wb): fuse(
            "zscore", d, b, weights=w
        )
    return variants


def gain(modes: dict[str, dict[str, float]], metric: str = "ndcg@10") -> dict[str, Any] | None:
    """Hybrid against the better of the two single signals, or None without all three."""
    if not all(m in modes for m in MODES):
        return None
    better = "dense" if modes["dense"][metric] >= modes["bm25"][metric] else "bm25"
    return {
        "better_single": better,
        "gain": round(modes["hybrid"][metric] - modes[better][metric], 4),
    }


def summarise(reports: list[dict[str, Any]], metric: str = "ndcg@10") -> dict[str, Any]:
    """The suite's mean per mode and mean gain of hybrid over each set's better single signal."""
    names = [n for n in reports[0]["modes"] if all(n in r["modes"] for r in reports)]
    means = {n: round(statistics.fmean(r["modes"][n][metric] for r in reports), 4) for n in names}
    gains = [r["gain"]["gain"] for r in reports if r.get("gain")]
    return {
        "metric": metric,
        "mean": means,
        "mean_gain": round(statistics.fmean(gains), 4) if gains else None,
        "worst_gain": min(gains) if gains else None,
    }
