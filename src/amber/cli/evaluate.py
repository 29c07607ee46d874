"""`amber eval`: retrieval quality on a suite of BEIR-format datasets, from cached indexes."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from amber import SCHEMA_VERSION
from amber.cli.options import Commands, JsonOpt, cli_settings
from amber.cli.progress import Progress
from amber.cli.render import emit, wants_json
from amber.errors import InvalidInput
from amber.fusion import AdaptiveParams, FeedbackParams

commands = Commands()
FUSIONS = ("adaptive", "zscore", "rrf", "dbsf")


def _progress(label: str, total: int, unit: str) -> Any:
    return Progress(label, total, unit).advance


@commands("eval", example="amber eval --dataset ../shared/datasets --limit-queries 100")
def eval_(
    dataset: Annotated[
        list[Path],
        typer.Option(
            "--dataset",
            help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), or a folder of "
            "them; repeat for a suite.",
        ),
    ],
    split: Annotated[
        str, typer.Option("--split", help="Which qrels/<SPLIT>.tsv holds the judgements.")
    ] = "test",
    mode: Annotated[str, typer.Option("--mode", help="dense, bm25, hybrid or all.")] = "all",
    sweep: Annotated[
        bool,
        typer.Option("--sweep", help="Also score fixed RRF, DBSF and z-score variants."),
    ] = False,
    limit_queries: Annotated[
        int | None,
        typer.Option(
            "--limit-queries",
            min=1,
            help="Score only the first N queries of each set, for a quick look (the index "
            "still holds the whole corpus).",
        ),
    ] = None,
    fusion: Annotated[
        str | None,
        typer.Option("--fusion", help="Fuse hybrid with this method instead of the setting."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Build each index again instead of reusing it.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure retrieval quality (nDCG@10, Recall@10/100, MRR@10) per dataset and mode.

    Each dataset's index is kept under $AMBER_HOME/eval-index, keyed by the corpus, the
    embedder and the BM25 settings, so a rerun searches it instead of embedding again."""
    from amber.compose import scratch_memory
    from amber.services import evaluation
    from amber.services.eval_index import open_index

    asked = mode.strip().lower()  # any case, like every other choice (--mode DENSE)
    modes = list(evaluation.MODES) if asked == "all" else [asked]
    if any(m not in evaluation.MODES for m in modes):
        raise InvalidInput(f"unknown --mode {mode!r}; allowed: dense, bm25, hybrid, all")
    fused = fusion.strip().lower() if fusion is not None else None
    if fused is not None and fused not in FUSIONS:
        raise InvalidInput(f"unknown --fusion {fusion!r}; allowed: {', '.join(FUSIONS)}")
    settings = cli_settings()
    method = fused or settings.fusion
    folders = evaluation.dataset_folders(dataset)
    fusers = evaluation.sweep_fusers() if sweep else None
    dense = modes != ["bm25"] or bool(fusers)
    reports: list[dict[str, Any]] = []
    identity = None
    for number, folder in enumerate(folders, 1):
        data = evaluation.load_beir(folder, split, limit_queries)
        sys.stderr.write(f"[{number}/{len(folders)}] {data.name}\n")
        index = open_index(
            lambda path: scratch_memory(settings, path),
            settings.home / "eval-index",
            data,
            dense,
            _progress,
            rebuild,
        )
        try:
            index.memory.config.fusion = method
            report = evaluation.evaluate_index(index.memory, data, modes, fusers, _progress)
            if index.memory.embedder is not None:
                identity = index.memory.embedder.identity.as_dict()
        finally:
            index.close()
        reports.append(
            {
                "dataset": data.name,
                "queries": len(data.queries),
                "documents": len(data.corpus),
                **report,
                "gain": evaluation.gain(report["modes"]),
                "index": {"key": index.key, "reused": index.reused},
            }
        )
    doc = {
        "split": split,
        "datasets": reports,
        "summary": evaluation.summarise(reports),
        "embedder": identity,
        "settings": {
            "fusion": method,
            "fusion_depth": settings.fusion_depth,
            "rrf_k": settings.rrf_k,
            "weights": [settings.dense_weight, settings.bm25_weight],
            "bm25_avg_len": settings.bm25_avg_len,
            "adaptive": asdict(AdaptiveParams(depth=settings.fusion_depth)),
            "hubness": settings.hubness,
            "feedback": asdict(FeedbackParams(weight=settings.feedback)),
            "query_dates": settings.query_dates,
            "recency": settings.recency,
        },
    }
    if wants_json(as_json):
        emit({"schema": SCHEMA_VERSION, **doc}, True)
        return
    typer.echo(render_table(doc))


def render_table(doc: dict[str, Any]) -> str:
    """One row per dataset: nDCG@10 per mode, the better single signal and hybrid's gain."""
    reports, summary = doc["datasets"], doc["summary"]
    modes = [m for m in ("bm25", "dense", "hybrid") if m in summary["mean"]]
    embedder = (doc.get("embedder") or {}).get("model", "none")
    lines = [
        f"nDCG@10, split {doc['split']}, embedder {embedder}, fusion {doc['settings']['fusion']}"
    ]
    lines.append(
        f"{'dataset':<20} {'queries':>7} {'docs':>6} "
        + " ".join(f"{m:>7}" for m in modes)
        + f" {'better':>7} {'gain':>7} {'ms/q':>6}"
    )
    for r in reports:
        g = r.get("gain") or {}
        lines.append(
            f"{r['dataset']:<20} {r['queries']:>7} {r['documents']:>6} "
            + " ".join(f"{r['modes'][m]['ndcg@10']:>7.4f}" for m in modes)
            + f" {g.get('better_single', '-'):>7} "
            + (f"{g['gain']:>+7.4f}" if g else f"{'-':>7}")
            + f" {r['median_query_ms']:>6.1f}"
        )
    mean_gain = summary.get("mean_gain")
    lines.append(
        f"{'mean':<20} {'':>7} {'':>6} "
        + " ".join(f"{summary['mean'][m]:>7.4f}" for m in modes)
        + f" {'':>7} "
        + (f"{mean_gain:>+7.4f}" if mean_gain is not None else f"{'-':>7}")
    )
    for r in reports:  # a set whose questions carry categories: temporal against the rest
        cats = r.get("categories") or {}
        for name in ("temporal", "other than temporal"):
            if name in cats:
                cells = " ".join(f"{cats[name][m]:>7.4f}" for m in modes if m in cats[name])
                label = f"  {name}"[:20]
                lines.append(f"{label:<20} {cats[name]['queries']:>7} {'':>6} {cells}")
    extra = [n for n in summary["mean"] if n not in ("bm25", "dense", "hybrid")]
    if extra:
        names = [r["dataset"][:12] for r in reports]
        lines.append("")
        lines.append(f"{'variant':<20} " + " ".join(f"{n:>12}" for n in names) + f" {'mean':>7}")
        for name in extra:
            cells = " ".join(f"{r['modes'][name]['ndcg@10']:>12.4f}" for r in reports)
            lines.append(f"{name:<20} {cells} {summary['mean'][name]:>7.4f}")
    return "\n".join(lines)
