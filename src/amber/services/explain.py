"""Why a memory was not recalled (`retrieve --explain --why-not ID`): scope or filter, expiry,
supersession, below the match floor (with its scores), outside the candidate depth, or
outranked (with its fused rank). Computed with the search's own candidates and fusion."""

from __future__ import annotations

from typing import Any

from amber import text as textops
from amber.models import Memory, ScoredMemory, SignalScore
from amber.services.layout import Filters
from amber.services.memory import MemoryService
from amber.stores.base import Where


def _own_scores(memory: MemoryService, mem_id: str, query: str, vector: Any) -> dict[str, Any]:
    """Its dense cosine (best chunk) and BM25 score, searched with a filter on it alone."""
    only = Where(equals={"memory_id": mem_id})
    dense = None
    if vector is not None:
        hits = memory.store.search_dense(memory.collection, vector, only, 64)
        dense = max((h.score for h in hits), default=None)
    sparse = memory.store.search_sparse(memory.collection, memory.bm25.query(query), only, 1)
    return {"dense": dense, "bm25": sparse[0].score if sparse else None}


def why_not(
    memory: MemoryService,
    query: str,
    vector: Any,
    filters: Filters,
    top_k: int,
    mem_id: str,
    mode: str = "hybrid",
) -> dict[str, Any]:
    """What kept `mem_id` out of a `retrieve` of `query` in `mode`, step by step as search
    goes; a rank is its place among the memories that pass the match floor, as shown."""
    found = memory.store.get(memory.collection, [mem_id])
    if not found:
        return {"id": mem_id, "reason": "not_stored", "detail": "no memory has this id"}
    payload = found[0].payload
    refused = filters.refusals(payload)
    scores = _own_scores(memory, mem_id, query, vector)
    for signal in ("dense", "bm25"):
        if mode not in ("hybrid", signal):
            scores[signal] = None  # not searched in this mode
    doc: dict[str, Any] = {"id": mem_id, "scores": scores}
    if refused:
        kind = refused[0].split(":")[0].split(" ")[0]
        return {**doc, "reason": "filtered" if ":" in refused[0] else kind, "detail": refused}
    depth = memory.config.candidates
    dense, sparse = memory.hybrid.candidates(query, filters.where(), depth, mode, vector)
    ranks = {
        name: next((r for r, (m, _s) in enumerate(lst, 1) if m == mem_id), None)
        for name, lst in (("dense", dense), ("bm25", sparse))
    }
    doc["ranks"] = ranks
    if ranks["dense"] is None and ranks["bm25"] is None:
        return {
            **doc,
            "reason": "outside_candidate_depth",
            "detail": f"neither signal ranks it among its top {depth} candidates",
        }
    fused = memory.hybrid.combine(dense, sparse, query)
    place = next(r for r, (m, _s) in enumerate(fused, 1) if m == mem_id)
    doc["fused_rank"] = place
    item = ScoredMemory(
        Memory.model_validate(payload),
        0.0,
        SignalScore(ranks["dense"], scores["dense"]),
        SignalScore(ranks["bm25"], scores["bm25"]),
        textops.estimate_tokens(str(payload.get("content", ""))),
    )
    terms = set(memory.bm25.query(query).indices)
    if not memory.hybrid.evidence(terms, item):
        cfg = memory.config
        return {
            **doc,
            "reason": "below_match_floor",
            "detail": f"dense cosine {scores['dense']} < {cfg.dense_floor} and under "
            f"{cfg.bm25_floor:.0%} of the query's terms are in it",
        }
    shown = [r.memory.id for r in memory.hybrid.search(query, filters, depth, mode, vector)]
    rank = shown.index(mem_id) + 1 if mem_id in shown else place
    doc["rank"] = rank
    if rank > top_k:
        return {
            **doc,
            "reason": "outranked",
            "detail": f"rank {rank} among the memories that pass the match floor (fused rank "
            f"{place}), after the top {top_k} (raise --top-k)",
        }
    return {**doc, "reason": "recalled", "detail": f"it is recalled at rank {rank}"}
