"""CLI maintenance commands: health, reindex, optimize, serve and version."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from amber import __version__
from amber.cli.options import Commands, JsonOpt, cli_settings, finish
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
