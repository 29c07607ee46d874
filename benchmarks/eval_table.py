"""Render `amber eval --json` output as the Markdown table README shows.

amber eval --dataset ../shared/datasets/scifact --sweep --json > scifact.json
python benchmarks/eval_table.py scifact.json [--rows bm25,dense,hybrid,...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_ROWS = [
    "bm25",
    "dense",
    "hybrid",
    "rrf k=60 w=1:1",
    "rrf k=10 w=1:2",
    "rrf k=10 w=2:1",
    "dbsf w=1:1",
    "zscore depth=10",
    "zscore depth=30",
]


def render(doc: dict, rows: list[str]) -> str:
    head = (
        f"{doc['dataset']} ({doc['split']}): {doc['queries']} queries, {doc['documents']} "
        f"documents, embedder {doc['embedder']['model']}, median query "
        f"{doc['median_query_ms']} ms\n\n"
    )
    lines = [
        "| mode | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in rows:
        row = doc["modes"].get(name)
        if row is None:
            continue
        label = "hybrid (default: zscore depth=20)" if name == "hybrid" else name
        lines.append(
            f"| {label} | {row['ndcg@10']:.4f} | {row['recall@10']:.4f} | "
            f"{row['recall@100']:.4f} | {row['mrr@10']:.4f} |"
        )
    return head + "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--rows", default=",".join(DEFAULT_ROWS))
    args = parser.parse_args(argv)
    print(render(json.loads(args.result.read_text()), args.rows.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
