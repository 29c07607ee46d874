"""Time-aware search on a dialogue set whose turns carry dates: nDCG@10 of the temporal
questions against the others, with each time feature off and on.

    python benchmarks/temporal.py /work/shared/datasets/locomo-turns [--json out.json]
    python benchmarks/temporal.py /work/shared/datasets/locomo-turns --cost

`--cost` measures instead what the time features and the density add to the calls an agent
makes: the median of `store` (MemoryService.store_memory) with and without measuring the new
memory's density, on a scratch store filled with the set's first 2,000 turns, and the median
of the search behind `auto` (MemoryService.search, the query already embedded) with the
hubness correction and the query dates each off and on.

The corpus is indexed as `amber eval` indexes it (each turn dated by its session's
`metadata.date_time`, the index cached in $AMBER_HOME/eval-index); each question is asked at
the end of its conversation. Rows: hybrid with neither feature, with the dates a question
names (soft boosts of several strengths; "filter" puts the span first), with the recency
prior, and with both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from amber.cli.progress import Progress
from amber.compose import scratch_memory
from amber.services import evaluation, temporal
from amber.services.eval_index import open_index
from amber.settings import load_settings

FILTER = 1e6  # a boost no fused score difference overcomes: the span first, the rest after
DATES = [(b, s) for b in (0.5, 1.0, 2.0, FILTER) for s in (0.0, 7.0, 30.0)]
RECENCY = [(w, h) for w in (0.25, 0.5, 1.0) for h in (30.0, 180.0)]


def _progress(label: str, total: int, unit: str) -> Any:
    return Progress(label, total, unit).advance


def _median_ms(call: Any, items: list[Any]) -> float:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def cost(data: evaluation.Dataset, settings: Any, home: Path) -> dict[str, Any]:
    """Medians (ms) of store with and without the density, and of search per feature."""
    from amber.models import MemoryType
    from amber.services import density
    from amber.services.layout import Filters

    folder = evaluation.scratch_dir(home)
    memory, store = scratch_memory(settings, folder)
    out: dict[str, Any] = {}
    try:
        turns = list(data.corpus.values())
        memory.ingest([(t, {}) for t in turns[:2000]], _progress("filling", 2000, "turns"))
        fresh = iter(f"{t} (note {i})" for i, t in enumerate(turns[2000:2400]))

        def keep(_: int) -> None:
            memory.store_memory(next(fresh), MemoryType.conversation, [], "")

        measure = density.measure
        out["store_with_density_ms"] = _median_ms(keep, list(range(100)))
        density.measure = lambda *a, **k: None  # type: ignore[assignment]
        try:
            out["store_without_density_ms"] = _median_ms(keep, list(range(100)))
        finally:
            density.measure = measure  # type: ignore[assignment]
        vector = memory.embed_texts([turns[0]])
        assert vector is not None
        out["density_measure_ms"] = _median_ms(
            lambda _: density.measure(store, memory.collection, vector[0]), list(range(100))
        )
        questions = list(data.queries.values())[:300]
        vectors = {q: memory.embed_query(q) for q in questions}
        dated = [q for q in questions if temporal.resolve(q, time.time() + 1e9) is not None]
        base = memory.config
        for label, change, asked in (
            ("search_plain_ms", {"hubness": 0.0, "query_dates": False}, questions),
            ("search_hubness_ms", {"hubness": base.hubness, "query_dates": False}, questions),
            ("search_dates_on_undated_ms", {"hubness": 0.0, "query_dates": True}, questions),
            ("search_dates_on_dated_ms", {"hubness": 0.0, "query_dates": True}, dated),
            ("search_dates_off_dated_ms", {"hubness": 0.0, "query_dates": False}, dated),
            (
                "search_recency_on_ms",
                {"hubness": 0.0, "query_dates": False, "recency": 0.5},
                questions,
            ),
        ):
            memory.config = replace(base, **change)
            out[label] = _median_ms(
                lambda q: memory.hybrid.search(q, Filters(), 5, vector=vectors[q]), asked
            )
        memory.config = base
        out["dated_questions"] = len(dated)
    finally:
        store.close()
        evaluation.remove_scratch(folder)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--cost", action="store_true", help="measure latency instead")
    args = parser.parse_args(argv)
    settings = load_settings(embedder="builtin")
    data = evaluation.load_beir(args.dataset)
    if args.cost:
        doc = cost(data, settings, settings.home)
        print(json.dumps(doc, indent=2))
        if args.json:
            args.json.write_text(json.dumps(doc, indent=2) + "\n")
        return 0
    index = open_index(
        lambda p: scratch_memory(settings, p), settings.home / "eval-index", data, True, _progress
    )
    try:
        memory = index.memory
        found, _ = evaluation.search_all(memory, data, memory.config.candidates, _progress)
        by_memory = evaluation.doc_ids(data)
        spans = {q: temporal.resolve(t, data.asked[q]) for q, t in data.queries.items()}
        base = replace(memory.config, query_dates=False, recency=0.0)

        def run(label: str, **change: Any) -> dict[str, Any]:
            memory.config = replace(base, **change)
            started = time.perf_counter()
            ranked = {
                q: [
                    by_memory[m]
                    for m, _ in memory.hybrid.combine(d, b, data.queries[q], data.asked[q])
                ]
                for q, (d, b) in found.items()
            }
            ms = (time.perf_counter() - started) * 1000 / len(found)
            cats = evaluation.by_category({"hybrid": ranked}, data)
            dated = [q for q in found if spans[q] is not None]
            row = {
                "variant": label,
                "all": evaluation.score(ranked, data.qrels)["ndcg@10"],
                "temporal": cats["temporal"]["hybrid"],
                "other": cats["other than temporal"]["hybrid"],
                "dated": evaluation.score({q: ranked[q] for q in dated}, data.qrels)["ndcg@10"],
                "ms_per_query": round(ms, 2),
                "change": {k: v for k, v in change.items()},
            }
            sys.stderr.write(f"{label}: {row}\n")
            return row

        rows = [run("neither"), run("neither, hubness off", hubness=0.0)]
        shipped = {"query_dates": True, "date_boost": 2.0, "date_slack_days": 7.0}
        rows.append(run("dates as shipped, hubness off", hubness=0.0, **shipped))
        rows.append(
            run(
                "dates as shipped + recency 0.25, half-life 180 d",
                recency=0.25,
                recency_half_life_days=180.0,
                **shipped,
            )
        )
        for boost, slack in DATES:
            name = "filter" if boost == FILTER else f"boost {boost:g}"
            rows.append(
                run(
                    f"dates, {name}, slack {slack:g} d",
                    query_dates=True,
                    date_boost=boost,
                    date_slack_days=slack,
                )
            )
        for weight, half in RECENCY:
            rows.append(
                run(
                    f"recency {weight:g}, half-life {half:g} d",
                    recency=weight,
                    recency_half_life_days=half,
                )
            )
        memory.config = base
    finally:
        index.close()
    cats = {c: sum(1 for q in data.queries if data.categories.get(q) == c) for c in ("temporal",)}
    dated = sum(1 for s in spans.values() if s is not None)
    print(
        f"{data.name}: {len(data.queries)} questions, {cats['temporal']} temporal, "
        f"{dated} name a date amber resolves\n"
    )
    print("| variant | all | temporal | other | questions naming a date | ms/query |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['variant']} | {r['all']:.4f} | {r['temporal']:.4f} | {r['other']:.4f} | "
            f"{r['dated']:.4f} | {r['ms_per_query']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"dataset": data.name, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
