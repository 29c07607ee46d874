"""auto: the call an agent makes before a task (cache first, then memory within a budget)."""

from __future__ import annotations

import time
from typing import Any

from amber import text as textops
from amber.layout import MAX_QUERY_CHARS, Filters, validate_text
from amber.models import ScoredMemory
from amber.services.cache import CacheHit
from amber.services.memory import MemoryService


def auto(
    memory: MemoryService,
    query: str,
    filters: Filters,
    top_k: int,
    budget_tokens: int,
    project: str,
) -> dict[str, Any]:
    """Cache first, then hybrid memory search; the document agents read (DESIGN.md §1)."""
    started = time.perf_counter()
    validate_text(query, "query", MAX_QUERY_CHARS)
    vector = memory.embed_query(query)
    embedded = time.perf_counter()
    found = memory.cache.lookup(query, project, vector)
    looked = time.perf_counter()
    doc: dict[str, Any] = {
        "cache_hit": False,
        "cached_response": None,
        "cache_score": None,
        "context_chunks": [],
        "total_chunks": 0,
    }
    if isinstance(found, CacheHit):
        doc.update(
            status="cache_hit",
            source="cache",
            cache_hit=True,
            cached_response=found.response,
            cache_score=round(found.score, 4),
            cached_query=found.query,
            search_type="cache",
            tokens=textops.estimate_tokens(found.response),
        )
    else:
        doc["cache_score"] = None if found.best_score is None else round(found.best_score, 4)
        if found.objection:
            doc["cache_objection"] = found.objection
        results = memory.search(query, filters, top_k, vector=vector)
        packed, used = pack(results, budget_tokens)
        doc.update(
            status="memory_match" if packed else "no_match",
            source="memory" if packed else "none",
            context_chunks=[r.chunk() for r in packed],
            total_chunks=len(packed),
            search_type="hybrid" if vector is not None else "bm25",
            tokens=used,
        )
    done = time.perf_counter()
    doc["timing_ms"] = {
        "embed": round((embedded - started) * 1000, 2),
        "cache": round((looked - embedded) * 1000, 2),
        "search": round((done - looked) * 1000, 2),
        "total": round((done - started) * 1000, 2),
    }
    return doc


def pack(results: list[ScoredMemory], budget: int) -> tuple[list[ScoredMemory], int]:
    """Keep results, best first, while their estimated tokens fit the budget."""
    kept: list[ScoredMemory] = []
    used = 0
    for item in results:
        if used + item.tokens <= budget:
            kept.append(item)
            used += item.tokens
    if not kept and results:
        first = results[0]
        cut = first.memory.content[: budget * 4]
        first.memory = first.memory.model_copy(update={"content": cut})
        first.tokens = textops.estimate_tokens(cut)
        kept, used = [first], first.tokens
    return kept, used
