"""What the second stage after fusion (`fusion.feedback`) costs a search.

    python benchmarks/feedback_cost.py DATASET_DIR [DATASET_DIR ...] [--queries 200]

On each set's cached evaluation index (`amber eval` builds it), each query's candidate lists
are gathered once; then `HybridSearch.combine` fuses them with the second stage off (the
baseline, what amber did before) and on (the shipped default), in alternating order. The
second stage reads the fused head's 30 stored vectors and rescores them; the query's vector
is the one the candidates embedded (MemoryService keeps it). Prints the median milliseconds
of each and their ratio. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from cached_indexes import each_index

from amber.settings import load_settings
from amber.stores.base import Where


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    settings = load_settings(embedder="builtin")
    print(f"{'set':<16} {'fusion ms':>10} {'+ second stage ms':>18} {'ratio':>6}")
    for data, index in each_index(args.datasets, settings, args.queries):
        search, weight = index.memory.hybrid, index.memory.hybrid.config.feedback
        off, on = [], []
        for turn, text in enumerate(data.queries.values()):
            dense, sparse = search.candidates(text, Where(), search.config.candidates)
            search.combine(dense, sparse, text)  # warm: both then read the same pages
            pair = [(0.0, off), (weight, on)]
            for value, times in pair if turn % 2 else pair[::-1]:  # neither always first
                search.config.feedback = value
                started = time.perf_counter()
                search.combine(dense, sparse, text)
                times.append((time.perf_counter() - started) * 1000)
        search.config.feedback = weight
        base, new = statistics.median(off), statistics.median(on)
        print(f"{data.name:<16} {base:>10.2f} {new:>18.2f} {new / base:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
