"""CLI maintenance commands: health, reindex, optimize, eval, serve and version."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from amber import SCHEMA_VERSION, __version__
from amber.cli.options import Commands, JsonOpt, cli_settings, finish
from amber.cli.render import emit, wants_json
from amber.errors import BackendUnavailable, InvalidInput
from amber.services import catalog

commands = Commands()


@commands()
def health(as_json: JsonOpt = False) -> None:
    """Store path and size, embedder identity, counts, Ollama reachability, schema version."""
    from amber.compose import session
    from amber.embedders.ollama import ollama_available

    settings = cli_settings()
    with session(settings, need_embedder=False) as rt:
        counts = catalog.stats(rt.memory())
        size = rt.store.size_bytes()
        doc = {
            "status": "ok",
            "version": __version__,
            "store_schema": rt.meta.get("schema"),
            "backend": "server" if settings.qdrant_url else "embedded",
            "store": rt.store.location,
            "size_bytes": size,
            "embedder": rt.identity.as_dict(),
            "counts": counts,
        }
    reachable, reason = ollama_available(settings.ollama_host, settings.ollama_model, 2.0)
    doc["ollama"] = {
        "host": settings.ollama_host,
        "model": settings.ollama_model,
        "reachable": reachable,
        "detail": reason,
    }
    finish(doc, as_json)


@commands()
def reindex(
    pending: Annotated[
        bool, typer.Option("--pending", help="Embed memories stored while the embedder was down.")
    ] = False,
    embedder: Annotated[
        str | None,
        typer.Option(
            "--embedder",
            help="Move every memory to this embedder (builtin or ollama): a new collection, "
            "switched to only when complete.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Maintenance on the vectors: fill pending ones, or move to another embedder."""
    from amber.compose import session

    if embedder is not None:
        if pending:
            raise InvalidInput("give --pending or --embedder NAME, not both")
        from amber.cli.data import reindex_to

        reindex_to(embedder, as_json)
        return
    if not pending:
        raise InvalidInput("say what to reindex: --pending, or --embedder NAME")
    with session(cli_settings()) as rt:
        memory = rt.memory()
        if memory.embedder is None:
            raise BackendUnavailable(
                f"the embedder {rt.identity.provider}/{rt.identity.model} is unavailable: "
                f"{rt.embedder_problem}",
                hint="start it (ollama serve), then run `amber reindex --pending` again",
            )
        filled = catalog.fill_pending(memory, limit=10_000_000)
        doc = {
            "status": "ok",
            "filled": filled,
            "pending": catalog.stats(memory)["pending_embedding"],
        }
    finish(doc, as_json)


@commands()
def optimize(as_json: JsonOpt = False) -> None:
    """Maintenance: merge segments and build the HNSW index of the embedded store.

    Worth it for a daemon on a large store; fresh processes start slower (docs/scaling.md)."""
    from amber.cli.progress import Progress
    from amber.compose import session

    with session(cli_settings(), need_embedder=False) as rt:
        memory = rt.memory()
        names = [n for n in (memory.collection, memory.cache.collection) if rt.store.exists(n)]
        bar = Progress("optimizing", len(names), "collections")
        collections = {}
        for name in names:
            started = time.perf_counter()
            collections[name] = rt.store.optimize(name)
            collections[name]["seconds"] = round(time.perf_counter() - started, 2)
            bar.advance()
    finish({"status": "ok", "collections": collections}, as_json)


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


@commands()
def serve(
    idle_timeout: Annotated[
        float, typer.Option("--idle-timeout", min=1, help="Stop after this many idle seconds.")
    ] = 900.0,
) -> None:
    """The warm path: keep the store and model loaded and answer forwarded CLI calls.

    While it runs, every `amber …` and `execution/*.py` call for the same AMBER_HOME is
    answered by it (same output and exit code). AMBER_DAEMON=auto starts one on first use;
    AMBER_DAEMON=off never forwards.
    """
    from amber.daemon.server import serve as serve_forever

    raise typer.Exit(serve_forever(idle_timeout))


@commands()
def version() -> None:
    """Print amber's version."""
    typer.echo(__version__)
