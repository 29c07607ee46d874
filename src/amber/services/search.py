"""Hybrid search over the memory collection: the two candidate lists, their fusion (with the
density correction and the dates a query names), and the match floor."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from amber import text as textops
from amber.fusion import FeedbackParams, feedback, fuse
from amber.models import Memory, ScoredMemory, SignalScore
from amber.services import density, signals, temporal
from amber.services.layout import Filters, validate_query
from amber.stores.base import Hit, Store, Where
from amber.stores.bm25 import Bm25Encoder

Ranked = list[tuple[str, float]]
RANKED = ("memory_id", "chunk")  # what the candidate lists read of a hit; heads are fetched


@dataclass
class Fused:
    """What fusing one query's lists gives search: the ranking, the first-point payloads
    fetched on the way, each head candidate's share of the query's terms, the date span."""

    ranked: list[tuple[str, float]]
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    span: temporal.Span | None = None


@dataclass
class RetrievalConfig:
    fusion: str = "adaptive"
    fusion_depth: int = 20
    rrf_k: int = 60
    weights: tuple[float, float] = (1.0, 1.0)
    dense_floor: float = 0.40
    bm25_floor: float = 0.5
    candidates: int = 50
    max_content_bytes: int = 64_000
    near_duplicate: float = 0.95
    invalidate: float = 0.55
    hubness: float = 0.5  # dense score - hubness * density (0: off)
    feedback: float = FeedbackParams.weight  # the second stage's weight (0: off)
    query_dates: bool = True  # prefer memories stored in the span a query's dates name
    recency: float = 0.0  # weight of the recency prior (0: off)
    recency_half_life_days: float = 30.0
    date_boost: float = temporal.TimeParams.boost  # fitted on locomo-turns (benchmarks/temporal.py)
    date_slack_days: float = temporal.TimeParams.slack_days

    @property
    def time(self) -> temporal.TimeParams:
        return temporal.TimeParams(
            boost=self.date_boost,
            slack_days=self.date_slack_days,
            recency=self.recency,
            half_life_days=self.recency_half_life_days,
        )


def _best_first(item: tuple[str, float]) -> tuple[float, str]:
    """Higher scores first; equal scores by memory id, not by where the engine happened to
    store them (a rebuilt index reordered BM25 ties and moved conala-intents by 0.002)."""
    return -item[1], item[0]


class HybridSearch:
    """Search one memory collection; `embed_query` gives the query's vector (None when the
    embedder is down, and search goes on with BM25)."""

    def __init__(
        self,
        store: Store,
        collection: str,
        bm25: Bm25Encoder,
        config: RetrievalConfig,
        embed_query: Callable[[str], list[float] | None],
    ) -> None:
        self.store, self.collection, self.bm25, self.config = store, collection, bm25, config
        self.embed_query = embed_query
        self._candidate_query = ""
        self._best_chunk: dict[str, int] = {}  # memory id -> its chunk the dense list matched
        self._cosine: dict[str, float] = {}  # memory id -> that chunk's cosine (the floor's)

    def candidates(
        self,
        query: str,
        where: Where,
        n: int,
        mode: str = "hybrid",
        vector: list[float] | None = None,
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The dense and BM25 candidate lists (memory id, score), best first, under one filter.
        The query is kept for the `combine` that follows (adaptive fusion reads it), and each
        dense candidate's best chunk and its cosine for the `search` that follows."""
        self._candidate_query, self._best_chunk, self._cosine = query, {}, {}
        dense: list[tuple[str, float]] = []
        if mode in ("hybrid", "dense"):
            vector = vector if vector is not None else self.embed_query(query)
            if vector is not None:
                hits = self.store.search_dense(self.collection, vector, where, n * 2, RANKED)
                dense = self._by_memory(hits, vector, where)[:n]
        sparse: list[tuple[str, float]] = []
        if mode in ("hybrid", "bm25"):
            terms = self.bm25.query(query)
            hits = self.store.search_sparse(self.collection, terms, where, n, RANKED)
            sparse = sorted(((h.payload["memory_id"], h.score) for h in hits), key=_best_first)
        return dense, sparse

    def _by_memory(self, hits: list[Hit], vector: list[float], where: Where) -> Ranked:
        """One dense score per memory from its chunks' hits: the mean of its best chunk's cosine
        and its opening chunk's. A memory of one chunk, or matched at its opening, keeps its
        cosine; a match deep in a long memory whose opening is about something else counts for
        less (faq-docs +0.03 nDCG@10 dense, see docs/quality.md). Openings not among the hits
        are scored by one more search, narrowed to them."""
        best: dict[str, float] = {}
        opening: dict[str, float] = {}
        for hit in hits:
            mid, chunk = hit.payload["memory_id"], int(hit.payload.get("chunk", 0))
            if chunk == 0:
                opening[mid] = hit.score
            if hit.score > best.get(mid, -2.0):
                best[mid], self._best_chunk[mid] = hit.score, chunk
        missing = [m for m in best if m not in opening]
        if missing:
            narrowed = replace(
                where,
                equals={**where.equals, "chunk": 0},
                any_of={**where.any_of, "memory_id": missing},
            )
            for hit in self.store.search_dense(
                self.collection, vector, narrowed, len(missing), RANKED
            ):
                opening[hit.payload["memory_id"]] = hit.score
        self._cosine = best
        blended = {m: (cosine + opening.get(m, cosine)) / 2 for m, cosine in best.items()}
        return sorted(blended.items(), key=_best_first)

    def combine(
        self,
        dense: list[tuple[str, float]],
        sparse: list[tuple[str, float]],
        query: str | None = None,
        now: float | None = None,
    ) -> list[tuple[str, float]]:
        """The one place search fuses its two lists. Adaptive fusion also reads the query (by
        default the one the last `candidates` call searched) and the stored content of both
        lists' heads: their code share and how many of the query's terms each one holds.
        Dense candidates are scored less the more crowded their neighbourhood (density), the
        fused head is rescored by the second stage (`_feedback`), and a date the query names,
        asked at `now` (default: this moment), prefers the memories stored then."""
        return self._fuse(dense, sparse, query, now).ranked

    def _fuse(
        self,
        dense: list[tuple[str, float]],
        sparse: list[tuple[str, float]],
        query: str | None,
        now: float | None,
    ) -> Fused:
        cfg = self.config
        text = query if query is not None else self._candidate_query
        out = Fused(list(dense or sparse))
        if not dense or not sparse:
            return out
        if cfg.hubness > 0:
            self._fetch(out, [i for i, _ in dense] + [i for i, _ in sparse[: cfg.fusion_depth]])
            crowd = {i: out.payloads[i].get(density.FIELD) for i, _ in dense if i in out.payloads}
            dense = density.correct(dense, crowd, cfg.hubness)
        if cfg.fusion != "adaptive":
            kind, depth = cfg.fusion, cfg.fusion_depth
            out.ranked = fuse(kind, dense, sparse, k=cfg.rrf_k, weights=cfg.weights, depth=depth)
        else:
            heads = signals.head_ids(dense, sparse, max(cfg.fusion_depth, signals.CODE_HEAD))
            self._fetch(out, heads)
            contents = {
                i: str(out.payloads[i].get("content", "")) for i in heads if i in out.payloads
            }
            evidence = signals.gather(text, dense, sparse, contents, self.bm25, cfg.fusion_depth)
            out.coverage = dict(evidence.coverage)
            out.ranked = fuse(
                "adaptive",
                dense,
                sparse,
                weights=cfg.weights,
                depth=cfg.fusion_depth,
                evidence=evidence,
            )
            out.ranked = self._feedback(out.ranked, text)
        return self._in_time(out, text, now)

    def _feedback(self, ranked: Ranked, query: str) -> Ranked:
        """The second stage (`fusion.feedback`): the fused head rescored by its similarity to
        the query and the memory fusion put first, from their stored vectors."""
        params = FeedbackParams(weight=self.config.feedback)
        if params.weight <= 0 or len(ranked) < 3:
            return ranked
        vector = self.embed_query(query)  # the one the candidates had, kept by MemoryService
        if vector is None:
            return ranked
        head = [i for i, _ in ranked[: params.head]]
        return feedback(ranked, self.store.dense_vectors(self.collection, head), vector, params)

    def _in_time(self, out: Fused, text: str, now: float | None) -> Fused:
        """A date the query names and the recency prior, applied to the fused head; a query
        without a date (and the prior off) costs one scan of its text, nothing more."""
        params = self.config.time
        asked = time.time() if now is None else now
        span = temporal.resolve(text, asked) if self.config.query_dates else None
        if span is None and params.recency <= 0:
            return out
        self._fetch(out, [i for i, _ in out.ranked[: params.head]])
        stamps = {i: float(p["created_ts"]) for i, p in out.payloads.items() if "created_ts" in p}
        out.ranked = temporal.adjust(out.ranked, stamps, span, asked, params)
        out.span = span
        return out

    def _fetch(self, out: Fused, ids: list[str]) -> None:
        """Payloads of first points not fetched yet, kept for whatever reads them next."""
        missing = [i for i in dict.fromkeys(ids) if i not in out.payloads]
        for hit in self.store.get(self.collection, missing):
            out.payloads[hit.id] = hit.payload

    def search(
        self,
        query: str,
        filters: Filters,
        top_k: int,
        mode: str = "hybrid",
        vector: list[float] | None = None,
        apply_floor: bool = True,
    ) -> list[ScoredMemory]:
        validate_query(query)
        dense, sparse = self.candidates(
            query, filters.where(), self.config.candidates, mode, vector
        )
        fused = self._fuse(dense, sparse, query, None)
        ranks = {  # the dense score shown (and floored) is the best chunk's cosine
            "dense": {mid: (r, self._cosine.get(mid, s)) for r, (mid, s) in enumerate(dense, 1)},
            "bm25": {mid: (r, s) for r, (mid, s) in enumerate(sparse, 1)},
        }
        head = fused.ranked[: top_k * 4]  # the candidates an answer is taken from
        self._fetch(fused, [m for m, _ in head])
        payloads = fused.payloads
        results: list[ScoredMemory] = []
        terms = set(self.bm25.query(query).indices)  # the query's BM25 terms, for the floor
        for mid, score in head:
            if len(results) >= top_k:
                break
            if mid not in payloads:
                continue
            memory = Memory.model_validate(payloads[mid])
            d, b = ranks["dense"].get(mid), ranks["bm25"].get(mid)
            item = ScoredMemory(
                memory,
                score,
                SignalScore(*d) if d else SignalScore(),
                SignalScore(*b) if b else SignalScore(),
                textops.estimate_tokens(memory.content),
                self._best_chunk.get(mid),
            )
            if apply_floor and not self.evidence(terms, item, fused.coverage.get(mid)):
                continue
            results.append(item)
        return results

    def evidence(self, terms: set[int], item: ScoredMemory, share: float | None = None) -> bool:
        """A calibrated dense similarity floor, or enough of the query's terms in the memory:
        `share`, the coverage fusion already measured, else the memory's terms as `signals`
        keeps them (tokenized once per memory content, shared with fusion)."""
        if item.dense.score is not None and item.dense.score >= self.config.dense_floor:
            return True
        if not terms:
            return False
        if share is None:
            held = signals.terms_of(item.memory.id, item.memory.content, self.bm25)
            share = len(terms & held) / len(terms)
        return share >= self.config.bm25_floor
