"""Keeping and looking after the store: health, export, import, reindex, optimize, bm25-sync."""

from __future__ import annotations

import time
from collections.abc import Iterator

from amber import SCHEMA_VERSION, __version__
from amber.compose import Runtime
from amber.embedders.base import Embedder, EmbedderIdentity
from amber.embedders.choice import choose_embedder
from amber.errors import BackendUnavailable, InvalidInput
from amber.inputs import EmbedderName, Empty, Input, Project
from amber.services import catalog, transfer
from amber.services import reindex as reindex_service
from amber.services.memory import MemoryService
from amber.stores.base import Where
from amber.urls import mask_url
from amber.usecases.registry import Context, Document, operation


@operation("health", Empty)
def health(ctx: Context, _inp: Empty) -> Document:
    """Store path and disk use, embedder identity, counts, Ollama reachability, schema; `ready`
    says whether memories can be stored and searched with every signal."""
    from amber.embedders.ollama import ollama_available

    settings = ctx.settings
    with ctx.runtimes.use(settings, need_embedder=False) as rt:
        memory = rt.memory(settings)
        counts = catalog.stats(memory)
        doc: Document = {
            "status": "ok",
            "version": __version__,
            "schema": SCHEMA_VERSION,
            "store_schema": rt.meta.get("schema"),
            "backend": "server" if settings.qdrant_url else "embedded",
            "store": mask_url(rt.store.location),
            "size_bytes": rt.store.size_bytes(),
            "embedder": rt.identity.as_dict(),
            "counts": counts,
            "qdrant": True,
        }
        names = (memory.collection, memory.cache.collection)
        present = {n: rt.store.exists(n) for n in names}  # the cache's appears at its first entry
        doc["collections"] = [n for n in names if present[n]]
        doc["missing_collections"] = [n for n in names if not present[n]]
    reachable, reason = ollama_available(settings.ollama_host, settings.ollama_model, 2.0)
    doc["ollama"] = {
        "host": mask_url(settings.ollama_host),
        "model": settings.ollama_model,
        "reachable": reachable,
        "detail": mask_url(reason),
    }
    needs_ollama = doc["embedder"]["provider"] == "ollama"
    doc["embeddings"] = reachable or not needs_ollama
    doc["bm25"] = True
    doc["ready"] = bool(doc["embeddings"])
    if not doc["ready"]:
        doc["status"] = "degraded"
    return doc


class ExportIn(Input):
    project: Project = None
    redact: bool = False


def export_lines(ctx: Context, inp: ExportIn) -> Iterator[str]:
    """The export as JSON lines (a manifest, then every memory oldest first); the CLI streams
    these to stdout or a file."""
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        yield from transfer.export_lines(
            rt.memory(ctx.settings), rt.identity, inp.project, redact_secrets=inp.redact
        )


class ExportFileIn(ExportIn):
    output: str


@operation("export", ExportFileIn)
def export(ctx: Context, inp: ExportFileIn) -> Document:
    """Write every memory, history included, as JSON lines to a file (mode 0600)."""
    path = ctx.cwd / inp.output
    written = transfer.write_private(path, export_lines(ctx, inp))
    return {"status": "exported", "count": written - 1, "path": str(path)}


class ImportIn(Input):
    path: str
    allow_secrets: bool = False


@operation("import", ImportIn, writes=True)
def import_(ctx: Context, inp: ImportIn) -> Document:
    """Import an export: every line is checked first, memories already stored are skipped,
    and a failure while writing undoes what this import wrote (all or nothing)."""
    settings = ctx.settings
    path = ctx.cwd / inp.path
    if not path.exists():
        raise InvalidInput(f"no file {inp.path}", hint="pass a file from `amber export`, or -")
    if not path.is_file():
        raise InvalidInput(
            f"{inp.path} is not a regular file", hint="pass a file from `amber export`, or -"
        )
    plan = transfer.check_import(path, settings.max_content_bytes)
    with ctx.runtimes.use(settings) as rt:
        memory = rt.memory(settings)
        advance = ctx.progress("importing", plan.count, "memories") if plan.count else None
        doc = transfer.import_file(memory, plan, inp.allow_secrets, advance=advance)
        doc["degraded"] = memory.degraded
    return doc


class ReindexIn(Input):
    pending: bool = False
    embedder: EmbedderName = None


@operation("reindex", ReindexIn, writes=True)
def reindex(ctx: Context, inp: ReindexIn) -> Document:
    """Embed memories stored while the embedder was down (pending), or move every memory to
    another embedder: a new collection, switched to only when complete."""
    if inp.pending == (inp.embedder is not None):
        raise InvalidInput(
            "say what to reindex: --pending, or --embedder NAME (not both)",
            hint="amber reindex --pending | amber reindex --embedder builtin",
        )
    if inp.embedder is not None:
        return _move(ctx, inp.embedder)
    with ctx.runtimes.use(ctx.settings) as rt:
        memory = rt.memory(ctx.settings)
        if memory.embedder is not None:
            filled = catalog.fill_pending(memory, limit=10_000_000)
        if memory.embedder is None:  # unavailable from the start, or failed while filling
            reason = memory.degraded[-1]["reason"] if memory.degraded else rt.embedder_problem
            raise BackendUnavailable(
                f"the embedder {rt.identity.provider}/{rt.identity.model} is unavailable: {reason}",
                hint="start it (ollama serve), then run `amber reindex --pending` again",
            )
        pending = catalog.stats(memory)["pending_embedding"]
        return {"status": "ok", "filled": filled, "pending": pending}


def _move(ctx: Context, target: str) -> Document:
    # AMBER_EMBEDDER may already name the target; the pinned store must still open.
    settings = ctx.settings.model_copy(update={"embedder": "auto"})
    with ctx.runtimes.use(settings, need_embedder=False) as rt:
        embedder = choose_embedder(settings, target)

        def destination(identity: EmbedderIdentity, new: Embedder) -> MemoryService:
            return Runtime(settings, rt.store, identity, new, None, rt.meta).memory(settings)

        with rt.write_lock:
            doc = reindex_service.reindex(
                rt.memory(settings),
                rt.store,
                rt.meta,
                rt.identity,
                embedder,
                destination,
                meter=lambda total: ctx.progress("reindexing", total, "memories"),
            )
    ctx.runtimes.refresh()  # the daemon reopens the store with the new pin
    return doc


@operation("optimize", Empty, writes=True)
def optimize(ctx: Context, _inp: Empty) -> Document:
    """Merge segments and build the HNSW index of the embedded store (docs/scaling.md)."""
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        memory = rt.memory(ctx.settings)
        names = [n for n in (memory.collection, memory.cache.collection) if rt.store.exists(n)]
        advance = ctx.progress("optimizing", len(names), "collections")
        collections = {}
        for name in names:
            started = time.perf_counter()
            collections[name] = rt.store.optimize(name)
            collections[name]["seconds"] = round(time.perf_counter() - started, 2)
            advance(1)
    return {"status": "ok", "collections": collections}


@operation("bm25-sync", Empty)
def bm25_sync(ctx: Context, _inp: Empty) -> Document:
    """Kept for the replaced CLI: BM25 lives inside the store (a sparse vector written with each
    memory), so there is nothing to rebuild; reports how many memories it covers."""
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        memory = rt.memory(ctx.settings)
        total = rt.store.count(memory.collection, Where(equals={"chunk": 0}))
    return {
        "status": "synced",
        "indexed": total,
        "skipped": 0,
        "errors": 0,
        "total": total,
        "message": "BM25 is computed with every write and kept in the store: nothing to sync",
    }


class KnowledgeIn(Input):
    dir: str = "knowledge"
    project: Project = None
    reset: bool = False


@operation("knowledge-sync", KnowledgeIn, writes=True)
def knowledge_sync(ctx: Context, inp: KnowledgeIn) -> Document:
    """Keep a folder of Markdown and text files as `knowledge` memories: chunked at headings,
    unchanged chunks skipped, edited ones superseded; `reset` forgets files that are gone."""
    from amber.services import knowledge

    folder = (ctx.cwd / inp.dir).resolve()
    if not folder.is_dir():
        raise InvalidInput(
            f"no folder {inp.dir}", hint="pass --dir with a folder of .md, .txt or .rst files"
        )
    total = sum(1 for _ in knowledge.documents(folder))
    with ctx.runtimes.use(ctx.settings) as rt:
        memory = rt.memory(ctx.settings)
        doc = knowledge.sync(
            memory,
            folder,
            ctx.scope(inp.project),
            inp.reset,
            ctx.settings.max_content_bytes,
            ctx.progress("syncing", total, "files"),
        )
        doc["degraded"] = memory.degraded
    return doc
