"""Render `amber eval --json` output (one dataset or a suite) as the Markdown docs/quality.md shows.

    amber eval --dataset ../shared/datasets --dataset ~/.cache/amber/devsets/stdlib-code \
        --sweep --json > suite.json
    python benchmarks/eval_table.py suite.json [--detail]

The first table has one row per dataset: nDCG@10 of each mode, the better single signal and
hybrid's gain over it, then the mean; with `--sweep` a second one compares the fixed fusion
variants with hybrid on the same lists. `--detail` adds each dataset's metrics per mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SINGLE = ("bm25", "dense", "hybrid")


def summary_table(doc: dict[str, Any]) -> str:
    lines = [
        "| dataset | queries | documents | BM25 | dense | hybrid | better single | gain |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for d in doc["datasets"]:
        m, g = d["modes"], d.get("gain") or {}
        cells = " | ".join(f"{m[k]['ndcg@10']:.4f}" if k in m else "-" for k in SINGLE)
        gain = f"{g['gain']:+.4f}" if g else "-"
        lines.append(
            f"| {d['dataset']} | {d['queries']} | {d['documents']} | {cells} | "
            f"{g.get('better_single', '-')} | {gain} |"
        )
    s = doc["summary"]
    means = " | ".join(f"{s['mean'][k]:.4f}" if k in s["mean"] else "-" for k in SINGLE)
    mean_gain = f"{s['mean_gain']:+.4f}" if s.get("mean_gain") is not None else "-"
    lines.append(f"| mean | | | {means} | | {mean_gain} |")
    return "\n".join(lines)


def sweep_table(doc: dict[str, Any]) -> str | None:
    """nDCG@10 of each `--sweep` variant per dataset, beside hybrid, with the mean."""
    names = [n for n in doc["summary"]["mean"] if n not in SINGLE[:2]]
    if names == ["hybrid"] or not names:
        return None
    sets = [d["dataset"] for d in doc["datasets"]]
    lines = [
        "| fusion | " + " | ".join(sets) + " | mean |",
        "| --- | " + " | ".join("---:" for _ in sets) + " | ---: |",
    ]
    for name in names:
        label = f"hybrid ({doc['settings']['fusion']})" if name == "hybrid" else name
        cells = " | ".join(f"{d['modes'][name]['ndcg@10']:.4f}" for d in doc["datasets"])
        lines.append(f"| {label} | {cells} | {doc['summary']['mean'][name]:.4f} |")
    return "\n".join(lines)


def detail_table(d: dict[str, Any]) -> str:
    head = (
        f"{d['dataset']}: {d['queries']} queries, {d['documents']} documents, "
        f"median query {d['median_query_ms']} ms\n\n"
    )
    lines = [
        "| mode | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in d["modes"].items():
        lines.append(
            f"| {name} | {row['ndcg@10']:.4f} | {row['recall@10']:.4f} | "
            f"{row['recall@100']:.4f} | {row['mrr@10']:.4f} |"
        )
    return head + "\n".join(lines)


def render(doc: dict[str, Any], detail: bool = False) -> str:
    if "datasets" not in doc:  # a document from before suites: one dataset at the top level
        doc = {"datasets": [doc], "summary": {"mean": {}, "mean_gain": None}}
    parts = [summary_table(doc)]
    sweep = sweep_table(doc) if "settings" in doc else None
    if sweep:
        parts.append(sweep)
    if detail:
        parts.extend(detail_table(d) for d in doc["datasets"])
    return "\n\n".join(parts)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--detail", action="store_true", help="add each dataset's own table")
    args = parser.parse_args(argv)
    print(render(json.loads(args.result.read_text()), args.detail))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
