"""Recall: a cached answer to the same question, else the memories that bear on it, packed into
a token budget. The core of `auto` and of `route`; the query arrives validated and embedded."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from collections.abc import Set as AbstractSet
from typing import Any

from amber import text as textops
from amber.models import ScoredMemory
from amber.services.cache import CacheHit
from amber.services.layout import Filters
from amber.services.memory import MemoryService


def chunk(result: ScoredMemory) -> dict[str, Any]:
    """A result as agents read it, with the replaced CLI's key names beside amber's."""
    out = result.chunk()
    out.update(
        point_id=out["id"],
        vector_score=out["dense"]["score"],
        text_score=out["bm25"]["score"],
        timestamp=out["created_at"],
        token_estimate=out["tokens"],
        search_sources=[s for s in ("dense", "bm25") if out[s]["rank"] is not None],
    )
    return out


def recall(
    memory: MemoryService,
    query: str,
    vector: list[float] | None,
    filters: Filters,
    top_k: int,
    budget_tokens: int,
    scope: str,
) -> dict[str, Any]:
    """The fields of the `auto` document agents read (DESIGN.md §1) for one query."""
    doc: dict[str, Any] = {
        "cache_hit": False,
        "cached_response": None,
        "cache_score": None,
        "context_chunks": [],
        "total_chunks": 0,
    }
    found = memory.cache.lookup(query, scope, vector)
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
        return doc
    doc["cache_score"] = None if found.best_score is None else round(found.best_score, 4)
    if found.objection:
        doc["cache_objection"] = found.objection
    results = memory.hybrid.search(query, filters, top_k, vector=vector)
    packed, used = pack(results, budget_tokens, focus(memory, query))
    doc.update(
        status="memory_match" if packed else "no_match",
        source="memory" if packed else "none",
        context_chunks=[chunk(r) for r in packed],
        total_chunks=len(packed),
        search_type="hybrid" if vector is not None else "bm25",
        tokens=used,
    )
    return doc


MIN_EXCERPT = 64  # tokens: less of a long memory than this is not worth handing over
EXCERPT_TOKENS = 500  # the most of one memory given when all of it does not fit the budget
RUN_ON = 40  # characters: a "word" longer than this is not one
Focus = Callable[[ScoredMemory, int], tuple[int, int]]  # (result, characters) -> span


def focus(memory: MemoryService, query: str) -> Focus:
    """Where in a memory the query is answered: in the chunk holding most of the query's terms
    (the chunk the dense list matched winning ties, and standing alone when no term is held),
    the run of words that fits the excerpt and holds the most of them; in text whose words run
    on (no spaces), the stretch where most of the query's words appear inside them."""
    window, overlap = memory.window()
    terms = set(memory.bm25.query(query).indices)

    def held(piece: str) -> set[int]:
        return terms & set(memory.bm25.query(piece).indices)

    def span(item: ScoredMemory, chars: int) -> tuple[int, int]:
        content = item.memory.content
        pieces = textops.chunk_words(content, window, overlap)
        score = [float(len(held(piece))) for piece in pieces]
        if item.matched_chunk is not None and item.matched_chunk < len(score):
            score[item.matched_chunk] += 0.5
        best = max(range(len(pieces)), key=score.__getitem__)
        start, end = textops.chunk_span(content, best, window, overlap)
        words = textops.word_spans(content, start, end)
        found = _densest(words, held, chars)
        if found is None and _run_on(words):
            found = _densest(textops.mentions(content, query), _itself, chars)
        return found or (start, end)

    return span


def _itself(needle: str) -> set[str]:
    return {needle}


def _run_on(words: list[tuple[int, int, str]]) -> bool:
    """Text whose words run on: one longer than any word of prose (minified code, a long
    URL, Chinese or Japanese without spaces)."""
    return any(end - start > RUN_ON for start, end, _ in words)


def _densest(
    words: list[tuple[int, int, str]], held: Callable[[str], AbstractSet[Hashable]], chars: int
) -> tuple[int, int] | None:
    """The run of words at most `chars` long holding the most distinct query terms (then the
    most matching words); None when no word holds one."""
    hits = [(start, end, found) for start, end, word in words if (found := held(word))]
    best: tuple[int, int] | None = None
    best_key = (0, 0)
    for i, (first, _, _) in enumerate(hits):
        seen: set[Hashable] = set()
        last, count = first, 0
        for _, end, found in hits[i:]:
            if end - first > chars:
                break
            seen |= found
            last, count = end, count + 1
        if (len(seen), count) > best_key:
            best_key, best = (len(seen), count), (first, last)
    return best


def _excerpt(content: str, item: ScoredMemory, where: Focus, tokens: int) -> tuple[int, int]:
    """The excerpt's span: four characters a token, narrowed while the text there (CJK,
    emoji: a token a character) is estimated at more."""
    chars = tokens * 4
    while True:
        start, end = textops.excerpt_span(content, where(item, chars), chars)
        used = textops.estimate_tokens(content[start:end])
        if used <= tokens or chars <= 1:
            return start, end
        chars = max(1, min(chars - 1, chars * tokens // used))


def pack(results: list[ScoredMemory], budget: int, where: Focus) -> tuple[list[ScoredMemory], int]:
    """Keep results, best first, while their estimated tokens fit the budget; one that does not
    fit is given as an excerpt around where the query is answered, when MIN_EXCERPT tokens are
    left or nothing else was kept: half the tokens left when results follow it (at least
    MIN_EXCERPT), all of them for the last, EXCERPT_TOKENS at most."""
    kept: list[ScoredMemory] = []
    used = 0
    for place, item in enumerate(results, 1):
        room = budget - used
        if item.tokens <= room:
            kept.append(item)
            used += item.tokens
        elif room >= MIN_EXCERPT or not kept:
            content = item.memory.content
            share = room if place == len(results) else max(MIN_EXCERPT, room // 2)
            size = min(room, EXCERPT_TOKENS, share)
            start, end = _excerpt(content, item, where, size)
            item.excerpt = (start, end)
            item.tokens = textops.estimate_tokens(content[start:end])
            kept.append(item)
            used += item.tokens
    return kept, used
