"""Measure where the "memory match" floors belong: a dense cosine floor and a BM25 term-share floor.

    python benchmarks/calibrate.py CORPUS_DIR OTHER_DIR [--limit-queries N]

CORPUS_DIR and OTHER_DIR are BEIR folders. The corpus of the first is indexed; its own queries
give the scores of the relevant memory (should match) and of the best memory when the relevant
one is left out (same topic, answer absent); the other folder's queries are off-topic (should
not match). Prints percentiles of each signal and, for candidate floors, the share of relevant
memories kept and of off-topic queries refused. Uses the builtin embedder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from amber.compose import scratch_memory
from amber.services import evaluation
from amber.settings import load_settings
from amber.stores.base import Where


def coverage(memory, query: str, content: str) -> float:
    terms = set(memory.bm25.query(query).indices)
    if not terms:
        return 0.0
    return len(terms & set(memory.bm25.document(content).indices)) / len(terms)


def pct(values: list[float]) -> str:
    qs = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
    return " ".join(f"p{p * 5}={qs[p - 1]:.3f}" for p in (1, 2, 4, 10, 16, 19))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--limit-queries", type=int, default=300)
    args = parser.parse_args(argv)
    settings = load_settings(embedder="builtin")
    data = evaluation.load_beir(args.corpus, "test", args.limit_queries)
    other = evaluation.load_beir(args.other, "test", args.limit_queries)
    folder = evaluation.scratch_dir(settings.home)
    memory, store = scratch_memory(settings, folder)
    try:
        found, _ = evaluation.collect(memory, data)
        text = data.corpus
        pos_d, pos_b, near_d, near_b, off_d, off_b = [], [], [], [], [], []
        for qid, (dense, sparse) in found.items():
            rel = data.qrels[qid]
            query = data.queries[qid]
            hits = [s for d, s in dense if d in rel]
            pos_d.append(hits[0] if hits else 0.0)
            pos_b.append(max(coverage(memory, query, text[d]) for d in rel))
            others = [s for d, s in dense if d not in rel]
            near_d.append(others[0] if others else 0.0)
            best = next((d for d, _ in sparse if d not in rel), None)
            near_b.append(coverage(memory, query, text[best]) if best else 0.0)
        by_id = {evaluation.memory_id("", t): t for t in text.values()}
        for query in other.queries.values():
            dense, sparse = memory.hybrid.candidates(query, Where(), 1)
            off_d.append(dense[0][1] if dense else 0.0)
            off_b.append(coverage(memory, query, by_id[sparse[0][0]]) if sparse else 0.0)
    finally:
        store.close()
        evaluation.remove_scratch(folder)
    print(f"corpus {data.name}, {len(found)} queries; off-topic queries from {other.name}")
    for label, values in (
        ("dense relevant", pos_d),
        ("dense best-other", near_d),
        ("dense off-topic", off_d),
        ("bm25 share relevant", pos_b),
        ("bm25 share best-other", near_b),
        ("bm25 share off-topic", off_b),
    ):
        print(f"{label:<24} {pct(values)}")
    print("\nfloors (dense / bm25 share): a memory matches when either floor is met")
    print(f"{'dense':>6} {'bm25':>5} {'relevant kept':>14} {'off-topic refused':>18}")
    pos, off = list(zip(pos_d, pos_b, strict=True)), list(zip(off_d, off_b, strict=True))
    for floor_d in (0.30, 0.35, 0.40, 0.45, 0.50):
        for floor_b in (0.5, 0.67, 0.75, 1.01):
            kept = sum(d >= floor_d or b >= floor_b for d, b in pos) / len(pos)
            refused = sum(d < floor_d and b < floor_b for d, b in off) / len(off)
            print(f"{floor_d:>6.2f} {floor_b:>5.2f} {kept:>14.1%} {refused:>18.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
