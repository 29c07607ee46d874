"""Memory operations: auto, store, retrieve, cache-store, cache-clear, list, get, forget."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from amber import text as textops
from amber.errors import InvalidInput
from amber.inputs import (
    AutoIn,
    CacheClearIn,
    CacheStoreIn,
    Filters,
    ForgetIn,
    GetIn,
    ListIn,
    RetrieveIn,
    StoreIn,
)
from amber.models import MemoryType
from amber.redact import redact
from amber.services import catalog
from amber.services.explain import why_not
from amber.services.layout import Filters as Where
from amber.services.memory import MemoryService
from amber.services.recall import chunk, focus, pack, recall
from amber.services.router import FEEDBACK_TAG
from amber.settings import Settings
from amber.timing import Clock
from amber.usecases.registry import Context, Document, operation
from amber.usecases.routing import skill_summary

PENDING_PER_CALL = 16  # memories stored during an embedder outage, embedded by later calls


def iso(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC, for people and agents alike (never a raw epoch)."""
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()


def scope_tags(tags: list[str], wing: str | None, room: str | None) -> list[str]:
    """The replaced CLI's --wing/--room scoping, as amber tags (`wing:NAME`, `room:NAME`)."""
    extra = [f"wing:{wing.lower()}"] if wing else []
    extra += [f"room:{room.lower()}"] if room else []
    return [*tags, *(t for t in extra if t not in tags)]


def where(ctx: Context, inp: Filters, project: str | None, **more: Any) -> Where:
    return Where(
        project=project,
        types=inp.types,
        tags=scope_tags(inp.tags, inp.wing, inp.room),
        agent=inp.agent,
        since=inp.since,
        until=inp.until,
        **more,
    )


def searched_where(ctx: Context, inp: Filters, project: str | None, **more: Any) -> Where:
    """`where` for a search: routing votes (`skills feedback`) are records for the router, not
    knowledge, so they stay out unless the caller asks for their tag."""
    votes = [] if FEEDBACK_TAG in inp.tags else [FEEDBACK_TAG]
    return where(ctx, inp, project, exclude_tags=votes, **more)


def tuned(settings: Settings, **changes: float | None) -> Settings:
    """This call's settings with the per-call knobs it was given (None: keep the setting)."""
    given = {name: value for name, value in changes.items() if value is not None}
    return settings.model_copy(update=given) if given else settings


@operation("auto", AutoIn)
def auto(ctx: Context, inp: AutoIn) -> Document:
    """Before a task: a cached answer to the same question, else the memories that bear on
    it (best first, within a token budget), and the skill the task belongs to."""
    clock = Clock()
    settings = tuned(
        ctx.settings,
        cache_threshold=inp.threshold,
        dense_weight=inp.vector_weight,
        bm25_weight=inp.text_weight,
    )
    scope = ctx.scope(inp.project)
    filters = searched_where(ctx, inp, scope, exclude_agent=inp.exclude_agent)
    budget = inp.budget_tokens or settings.budget_tokens
    skills = ctx.runtimes.skills(settings, ctx.project_root())
    clock.mark("skills")
    query = redact(inp.query).text  # as memories and cached questions were kept: redacted
    with ctx.runtimes.use(settings) as rt:
        memory = rt.memory(settings)
        vector = memory.embed_query(query)
        clock.mark("embed")
        doc = recall(memory, query, vector, filters, inp.top_k, budget, scope)
        clock.mark("search")
        doc["skill"] = skill_summary(ctx, rt, skills, memory, query)
        clock.mark("route")
        doc["filled_pending"] = catalog.fill_pending(memory, limit=PENDING_PER_CALL)
        clock.mark("fill_pending")
        doc.update(project=scope or None, degraded=memory.degraded)
    doc["tokens_saved_estimate"] = doc["tokens"] if doc["cache_hit"] else 0
    doc["timing_ms"] = clock.report()
    return doc


@operation("store", StoreIn, writes=True)
def store(ctx: Context, inp: StoreIn) -> Document:
    """After a task: keep what was decided or solved, typed and tagged, for every later agent.
    Storing the same content again is harmless (duplicate, tags merged); a key supersedes."""
    settings = ctx.settings
    tags = scope_tags(inp.tags, inp.wing, inp.room)
    with ctx.runtimes.use(settings) as rt:
        memory = rt.memory(settings)
        doc = memory.store_memory(
            inp.content,
            MemoryType(inp.type),
            tags,
            ctx.scope(inp.project),
            agent=inp.agent or settings.agent or "",
            key=inp.key or "",
            expire_days=inp.expire_days,
            allow_secrets=inp.allow_secrets,
        )
        doc["degraded"] = memory.degraded
        doc["filled_pending"] = catalog.fill_pending(memory, limit=PENDING_PER_CALL)
    doc.update(
        point_id=doc["id"],
        token_count=textops.estimate_tokens(inp.content),
        bm25_indexed=True,
    )
    notes = []
    if doc["type"] != inp.type:
        notes.append(
            f"this content was already stored as type {doc['type']!r}, which it keeps (tags "
            f"merged); to change the type, forget it (amber forget {doc['id']} --yes) and "
            "store it again"
        )
    if inp.resolve_contradictions:
        notes.append(
            "resolve_contradictions: amber does not guess which memory a new one contradicts; "
            "near_duplicates lists the close ones, and --key NAME supersedes an earlier decision"
        )
    if inp.compress_aaak:
        notes.append("compress_aaak: amber keeps the full text; nothing was compressed")
    if notes:
        doc["notes"] = notes
    return doc


@operation("retrieve", RetrieveIn)
def retrieve(ctx: Context, inp: RetrieveIn) -> Document:
    """Search memories (no cache, no skill), best first, with per-signal ranks and scores."""
    settings = tuned(
        ctx.settings,
        dense_floor=inp.threshold,
        dense_weight=inp.vector_weight,
        bm25_weight=inp.text_weight,
    )
    project = None if inp.all_projects else ctx.scope(inp.project)
    with ctx.runtimes.use(settings) as rt:
        memory = rt.memory(settings)
        results = memory.hybrid.search(
            inp.query, searched_where(ctx, inp, project), inp.top_k, mode=inp.mode
        )
        if inp.budget_tokens is not None:
            results, _ = pack(results, inp.budget_tokens, focus(memory, inp.query))
        chunks = [chunk(r) for r in results]
        if not inp.explain:  # per-signal ranks are for --explain; the scores stay (compat keys)
            for item in chunks:
                item.pop("dense"), item.pop("bm25")
        doc: Document = {
            "status": "ok" if results else "no_match",
            "query": redact(inp.query).text,  # echoed, so a pasted secret is not repeated
            "results": chunks,
            "total": len(chunks),
            "chunks": chunks,
            "total_chunks": len(chunks),
            "total_tokens_estimate": sum(c["tokens"] for c in chunks),
            "search_type": searched(memory, inp.query, inp.mode),
            "degraded": memory.degraded,
        }
        if inp.explain:
            doc["fusion"] = fusion_settings(memory)
        if inp.why_not:
            vector = memory.embed_query(inp.query)
            doc["why_not"] = why_not(
                memory,
                inp.query,
                vector,
                searched_where(ctx, inp, project),
                inp.top_k,
                inp.why_not,
                inp.mode,
            )
            said = doc["why_not"]
            shown = {c["id"] for c in chunks}
            if said["reason"] == "recalled" and inp.why_not not in shown:  # packed out
                said.update(
                    reason="over_budget",
                    detail=f"it ranks {said['rank']}, but the results before it fill "
                    f"--budget-tokens {inp.budget_tokens}",
                )
    return doc


def searched(memory: MemoryService, query: str, mode: str) -> str:
    """The search that ran: without a vector for the query (the embedder is down or cannot
    read it; `degraded` says which) hybrid is BM25 alone and dense is nothing."""
    if mode != "bm25" and memory.embed_query(query) is None:
        return "bm25" if mode == "hybrid" else "none"
    return mode


def fusion_settings(memory: MemoryService) -> Document:
    cfg = memory.config
    return {
        "method": cfg.fusion,
        "depth": cfg.fusion_depth,
        "k": cfg.rrf_k,
        "weights": list(cfg.weights),
    }


@operation("cache-store", CacheStoreIn, writes=True)
def cache_store(ctx: Context, inp: CacheStoreIn) -> Document:
    """Keep a reusable answer to a question: auto then returns it for questions with the same
    meaning, unless a guard objects (negation, other numbers, names or quoted strings)."""
    cleaned, asked = redact(inp.response), redact(inp.query)
    with ctx.runtimes.use(ctx.settings) as rt:
        memory = rt.memory(ctx.settings)
        vector = memory.embed_query(asked.text)
        with memory.write_lock:
            doc = memory.cache.put(
                asked.text, cleaned.text, ctx.scope(inp.project), vector, inp.ttl_days, inp.model
            )
        doc.update(degraded=memory.degraded)
    return {
        "status": "stored",
        "id": doc["id"],
        "point_id": doc["id"],
        "expires_at": iso(doc["expires_ts"]),
        "token_count": textops.estimate_tokens(cleaned.text),
        "redactions": cleaned.count + asked.count,
        "degraded": doc["degraded"],
    }


@operation("cache-clear", CacheClearIn, writes=True)
def cache_clear(ctx: Context, inp: CacheClearIn) -> Document:
    """Drop cached answers of this project (or of every project), all or those older than
    some days; memories are untouched."""
    scope = None if inp.all_projects else ctx.scope(inp.project)
    cutoff = None
    if inp.older_than_days is not None:
        cutoff = datetime.now(timezone.utc).timestamp() - inp.older_than_days * 86400
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        memory = rt.memory(ctx.settings)
        with memory.write_lock:
            count = memory.cache.clear(scope, cutoff)
    return {
        "status": "cleared",
        "count": count,
        "project": scope,
        "older_than_days": inp.older_than_days,
        "cutoff_date": iso(cutoff),
    }


@operation("list", ListIn)
def list_memories(ctx: Context, inp: ListIn) -> Document:
    """Memories, newest first, with a preview of each."""
    project = None if inp.all_projects else ctx.scope(inp.project)
    filters = where(ctx, inp, project, include_history=inp.history)
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        memory = rt.memory(ctx.settings)
        found = catalog.list_memories(memory, filters, inp.limit)
        total = catalog.count_memories(memory, filters)
    shown = [m.public() for m in found]
    for item in shown:
        item["content_preview"] = textops.preview(item["content"])
        item["timestamp"] = item["created_at"]
    return {"memories": shown, "total": total, "count": len(shown), "has_more": total > len(shown)}


@operation("get", GetIn)
def get(ctx: Context, inp: GetIn) -> Document:
    """One memory and the history it supersedes."""
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        return catalog.get_memory(rt.memory(ctx.settings), inp.id)


@operation("forget", ForgetIn, writes=True)
def forget(ctx: Context, inp: ForgetIn) -> Document:
    """Delete memories by id, by filter or all of them; unknown ids are refused before anything
    is deleted. `dry_run` only counts."""
    has_filter = bool(inp.types or inp.tags or inp.project is not None or inp.agent)
    if not inp.ids and not has_filter and not inp.all:
        raise InvalidInput(
            "say what to forget: ids, a filter (types, tags, project, agent) or all",
            hint="e.g. amber forget 3f2b… or amber forget --tags old-topic --yes",
        )
    with ctx.runtimes.use(ctx.settings, need_embedder=False) as rt:
        memory = rt.memory(ctx.settings)
        targets = list(inp.ids)
        for target in inp.ids:
            catalog.get_memory(memory, target)  # unknown ids are reported first
        if has_filter or inp.all:
            filters = Where(
                project=inp.project,
                include_projectless=False,
                types=inp.types,
                tags=inp.tags,
                agent=inp.agent,
                include_history=True,
            )
            targets += catalog.matching_ids(memory, filters)
        targets = sorted(set(targets))
        if inp.dry_run:
            return {"status": "planned", "count": len(targets)}
        restored = catalog.forget_memories(memory, targets)
    return {
        "status": "forgotten",
        "count": len(targets),
        "ids": targets[:1000],
        "restored": restored[:1000],  # older --key versions that are current again
    }
