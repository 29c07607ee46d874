"""`amber eval`: retrieval quality on BEIR-format datasets, measured on a throwaway store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amber import SCHEMA_VERSION
from amber.cli.options import Commands, JsonOpt, cli_settings
from amber.cli.render import emit, wants_json
from amber.errors import InvalidInput

commands = Commands()


@commands("eval")
def eval_(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."
        ),
    ],
    split: Annotated[str, typer.Option("--split")] = "test",
    mode: Annotated[str, typer.Option("--mode", help="dense, bm25, hybrid or all.")] = "all",
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep", help="Also try RRF constants and weights, DBSF and z-score depths."
        ),
    ] = False,
    limit_queries: Annotated[int | None, typer.Option("--limit-queries", min=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure retrieval quality (nDCG@10, Recall@10/100, MRR@10) on a throwaway store."""
    from amber.compose import scratch_memory
    from amber.services import evaluation

    modes = ["bm25", "dense", "hybrid"] if mode == "all" else [mode]
    if any(m not in ("bm25", "dense", "hybrid") for m in modes):
        raise InvalidInput(f"unknown --mode {mode!r}; allowed: dense, bm25, hybrid, all")
    settings = cli_settings()
    data = evaluation.load_beir(dataset, split, limit_queries)
    folder = evaluation.scratch_dir(settings.home)
    try:
        memory, scratch = scratch_memory(settings, folder)
        try:
            fusers = evaluation.sweep_fusers() if sweep else None
            report = evaluation.evaluate(memory, data, modes, fusers)
        finally:
            scratch.close()
    finally:
        evaluation.remove_scratch(folder)
    doc = {
        "dataset": data.name,
        "split": split,
        "queries": len(data.queries),
        "documents": len(data.corpus),
        **report,
        "embedder": memory.embedder.identity.as_dict() if memory.embedder else None,
        "settings": {
            "fusion": settings.fusion,
            "fusion_depth": settings.fusion_depth,
            "rrf_k": settings.rrf_k,
            "weights": [settings.dense_weight, settings.bm25_weight],
            "bm25_avg_len": settings.bm25_avg_len,
        },
    }
    if wants_json(as_json):
        emit({"schema": SCHEMA_VERSION, **doc}, True)
        return
    typer.echo(
        f"{data.name} ({split}): {len(data.queries)} queries, {len(data.corpus)} docs, "
        f"median query {report['median_query_ms']} ms"
    )
    typer.echo(f"{'mode':<24} {'nDCG@10':>8} {'R@10':>8} {'R@100':>8} {'MRR@10':>8} {'ctx@5':>7}")
    for name, row in report["modes"].items():
        typer.echo(
            f"{name:<24} {row['ndcg@10']:>8.4f} {row['recall@10']:>8.4f} "
            f"{row['recall@100']:>8.4f} {row['mrr@10']:>8.4f} {row.get('context_tokens@5', 0):>7}"
        )
