"""Where the match floor belongs: answers kept for real questions, nothing for off-topic ones.

    python benchmarks/floor.py DIR=OFF_TOPIC_DIR [DIR=OFF_TOPIC_DIR ...] [--queries 300]

`auto` and `retrieve` hand an agent only memories that pass the match floor: a dense cosine
floor, or enough of the query's BM25 terms in the memory. Too strict and a paraphrased
question gets nothing; too loose and an off-topic task gets noise. For each dataset (its
cached evaluation index, `amber eval` builds it) this runs the real search without the floor
and records, for every result in the top 10, its cosine, its rank in each list and its share of
the query's terms, for the set's own questions and for the questions of OFF_TOPIC_DIR (a set
of another domain: off-topic there). Each candidate rule is then scored per set: questions
whose relevant memory passes (kept) and off-topic questions for which nothing passes
(refused). The rule's constant is chosen leave-one-dataset-out (best sum of kept and refused
on the other sets), so each set's row is held out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from amber.compose import scratch_memory
from amber.services import evaluation, signals
from amber.services.eval_index import open_index
from amber.services.layout import Filters
from amber.settings import load_settings

TOP = 10
# cosine, dense rank, bm25 rank (0: absent), share of the query's terms, relevant
Hit = tuple[float, int, int, float, bool]
Rule = Callable[[Hit, float], bool]

FLOOR_DENSE, FLOOR_SHARE = 0.40, 0.5  # today's defaults


def base(h: Hit) -> bool:
    return h[0] >= FLOOR_DENSE or h[3] >= FLOOR_SHARE


RULES: dict[str, tuple[Rule, list[float]]] = {
    "no floor (the most that can be kept)": (lambda h, t: True, [0.0]),
    "today's floor": (lambda h, t: base(h), [0.0]),
    "dense floor lowered to t": (lambda h, t: h[0] >= t or h[3] >= FLOOR_SHARE, [0.30, 0.33, 0.36]),
    "or both lists' first, cosine >= t": (
        lambda h, t: base(h) or (h[1] == 1 and h[2] == 1 and h[0] >= t),
        [0.15, 0.20, 0.25, 0.30],
    ),
    "or dense first with a shared term, cosine >= t": (
        lambda h, t: base(h) or (h[1] == 1 and h[3] > 0 and h[0] >= t),
        [0.20, 0.25, 0.30, 0.35],
    ),
}


def hits(memory, data, queries: dict[str, str], relevant: dict[str, set[str]]) -> list[list[Hit]]:
    """The top-10 results without the floor, one list per query, with what the rules read."""
    by_memory = evaluation.doc_ids(data)
    out = []
    for qid, text in queries.items():
        terms = set(memory.bm25.query(text).indices)
        rows = []
        for item in memory.hybrid.search(text, Filters(), TOP, apply_floor=False):
            held = signals.terms_of(item.memory.id, item.memory.content, memory.bm25)
            share = len(terms & held) / len(terms) if terms else 0.0
            rows.append((
                item.dense.score if item.dense.score is not None else -1.0,
                item.dense.rank or 0,
                item.bm25.rank or 0,
                share,
                by_memory.get(item.memory.id) in relevant.get(qid, set()),
            ))  # fmt: skip
        out.append(rows)
    return out


def judge(rule: Rule, t: float, own: list[list[Hit]], off: list[list[Hit]]) -> tuple[float, float]:
    kept = sum(any(h[4] and rule(h, t) for h in rows) for rows in own) / max(len(own), 1)
    refused = sum(not any(rule(h, t) for h in rows) for rows in off) / max(len(off), 1)
    return kept, refused


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="DIR=OFF_TOPIC_DIR, BEIR folders")
    parser.add_argument("--queries", type=int, default=300, help="questions per set, each way")
    parser.add_argument("--json", type=Path, help="also write the per-set figures here")
    args = parser.parse_args(argv)
    settings = load_settings(embedder="builtin")
    lists: dict[str, tuple[list[list[Hit]], list[list[Hit]]]] = {}
    for pair in args.pairs:
        own_dir, _, off_dir = pair.partition("=")
        if not off_dir:
            parser.error(f"{pair}: say which set is off-topic for it, as DIR=OFF_TOPIC_DIR")
        data = evaluation.load_beir(Path(own_dir), "test", args.queries)
        other = evaluation.load_beir(Path(off_dir), "test", args.queries)
        print(f"  {data.name}: its questions, then {other.name}'s...", flush=True)
        index = open_index(
            lambda path: scratch_memory(settings, path), settings.home / "eval-index", data
        )
        try:
            relevant = {q: set(r) for q, r in data.qrels.items()}
            reachable = [q for q in data.queries if q in relevant]
            own = hits(index.memory, data, {q: data.queries[q] for q in reachable}, relevant)
            off = hits(index.memory, data, other.queries, {})
        finally:
            index.close()
        lists[data.name] = (own, off)
    report: dict[str, dict] = {}
    names = list(lists)
    print(f"\nrelevant answer kept / off-topic question refused, top {TOP}, held out per set")
    print(f"  {'rule':<48} " + " ".join(f"{n[:14]:>15}" for n in names) + f" {'mean':>15}")
    for label, (rule, grid) in RULES.items():
        cells, report[label] = [], {}
        for name in names:
            rest = [n for n in names if n != name]

            def fit(t: float, rest: list[str] = rest, rule: Rule = rule) -> float:
                return sum(sum(judge(rule, t, *lists[n])) for n in rest)

            t = max(grid, key=fit)
            kept, refused = judge(rule, t, *lists[name])
            cells.append((kept, refused))
            report[label][name] = {"t": t, "kept": kept, "refused": refused}
        mk = sum(c[0] for c in cells) / len(cells)
        mr = sum(c[1] for c in cells) / len(cells)
        report[label]["mean"] = {"kept": mk, "refused": mr}
        row = " ".join(f"{k:>7.1%}/{r:<7.1%}" for k, r in cells)
        print(f"  {label:<48} {row} {mk:>7.1%}/{mr:<7.1%}")
        chosen = {n: report[label][n]["t"] for n in names}
        if len(grid) > 1:
            print(f"  {'':<48} t chosen: {chosen}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
