"""What scoring a memory by its best and its opening chunk costs the dense candidate list.

    python benchmarks/opening_cost.py DATASET_DIR [DATASET_DIR ...] [--queries 200]

The dense list scores a memory of many chunks by the mean of its best chunk's cosine and its
opening chunk's (`HybridSearch._by_memory`); openings that are not among the hits take one
more search, narrowed to them. On each set's cached evaluation index (`amber eval` builds
it), the same queries run, interleaved, through the shipped list and through a baseline that
keeps the best chunk's cosine alone (what amber did before). Prints the median milliseconds
of each and their ratio, and how often the extra search ran (each query is searched once to
warm the pages both read, then by the two in alternating order). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from cached_indexes import each_index

from amber.services.search import RANKED, HybridSearch, Ranked
from amber.settings import load_settings
from amber.stores.base import Hit, Where


class BestChunkOnly(HybridSearch):
    """The baseline: a memory's dense score is its best chunk's cosine."""

    def _by_memory(self, hits: list[Hit], vector: list[float], where: Where) -> Ranked:
        best: dict[str, float] = {}
        for hit in hits:
            mid = hit.payload["memory_id"]
            best[mid] = max(best.get(mid, -2.0), hit.score)
        return sorted(best.items(), key=lambda kv: -kv[1])


def dense_ms(search: HybridSearch, vector: list[float], depth: int) -> tuple[float, bool]:
    """Milliseconds for the dense list, and whether some opening was not among the hits."""
    started = time.perf_counter()
    hits = search.store.search_dense(search.collection, vector, Where(), depth * 2, RANKED)
    search._by_memory(hits, vector, Where())
    took = (time.perf_counter() - started) * 1000
    owners = {h.payload["memory_id"] for h in hits}
    return took, owners != {h.payload["memory_id"] for h in hits if h.payload["chunk"] == 0}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    settings = load_settings(embedder="builtin")
    head = ("set", "best chunk ms", "with opening ms", "ratio", "extra search")
    print(f"{head[0]:<16} {head[1]:>14} {head[2]:>16} {head[3]:>6} {head[4]:>13}")
    for data, index in each_index(args.datasets, settings, args.queries):
        shipped = index.memory.hybrid
        baseline = BestChunkOnly(
            shipped.store, shipped.collection, shipped.bm25, shipped.config, shipped.embed_query
        )
        depth = shipped.config.candidates
        old, new, extra = [], [], 0
        for turn, text in enumerate(data.queries.values()):
            vector = index.memory.embedder.embed_query(text).tolist()
            dense_ms(shipped, vector, depth)  # warm: both then read the same pages
            pair = [(baseline, old), (shipped, new)]
            for search, times in pair if turn % 2 else pair[::-1]:  # neither always first
                took, searched = dense_ms(search, vector, depth)
                times.append(took)
            extra += searched
        a, b = statistics.median(old), statistics.median(new)
        print(
            f"{data.name:<16} {a:>14.2f} {b:>16.2f} {b / a:>6.2f} "
            f"{extra / len(data.queries):>12.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
