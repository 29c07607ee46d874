"""The part of a skill a task needs: its sections ranked against the task, assembled in budget."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from amber import text as textops
from amber.embedders.base import Embedder
from amber.errors import BackendUnavailable, NotFound
from amber.fusion import fuse
from amber.sections import Section, find_section, opening, parse_sections, subtree
from amber.services.vector_cache import VectorCache
from amber.skills import Skill
from amber.stores.bm25 import Bm25Encoder, SmallCorpus


@dataclass(frozen=True)
class Selection:
    """Which ranked sections bear on the task: fused scores are rescaled per task onto 0..1
    (worst to best candidate), and those reaching `relative` are included, best first, at most
    `most` of them. Fitted on one half of the labelled set (benchmarks/sections.py)."""

    fusion: str = "dbsf"
    relative: float = 0.4
    most: int = 4


SELECTION = Selection()


@dataclass(frozen=True)
class Ranked:
    index: int  # into the skill's sections
    score: float
    dense: float | None
    bm25: float


def _index_text(section: Section) -> str:
    return f"{section.title}\n{section.body}"


def _dense(
    texts: list[str], task: str, embedder: Embedder | None, vector: Any, cache: VectorCache | None
) -> list[float] | None:
    """Best cosine of the task against each text's windows; None without an embedder."""
    if embedder is None or (vector is None and not embedder.reads(task)):
        return None
    cache = cache or VectorCache(None, embedder)
    windows, owners = _windows(tuple(texts), embedder.window_words)
    try:
        matrix = cache.get(list(windows))
        query = embedder.embed_query(task) if vector is None else np.asarray(vector)
    except BackendUnavailable:
        return None
    sims = matrix @ np.asarray(query, dtype=np.float32)
    best = [-1.0] * len(texts)
    for owner, sim in zip(owners, sims.tolist(), strict=True):
        best[owner] = max(best[owner], sim)
    return best


@functools.lru_cache(maxsize=64)
def _sections(body: str) -> tuple[Section, ...]:
    """A skill body's sections, parsed once per content (a routed call ranks them each time)."""
    return tuple(parse_sections(body))


@functools.lru_cache(maxsize=64)
def _corpus(texts: tuple[str, ...], encoder: Bm25Encoder) -> SmallCorpus:
    """The BM25+ corpus of a skill's candidate sections, built once per content."""
    return SmallCorpus([list(encoder.document(t).indices) for t in texts])


@functools.lru_cache(maxsize=64)
def _windows(texts: tuple[str, ...], words: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The embedding windows of each text and the text each one belongs to."""
    windows: list[str] = []
    owners: list[int] = []
    for i, text in enumerate(texts):
        parts = textops.chunk_words(text, words, words // 4)
        windows.extend(parts)
        owners.extend([i] * len(parts))
    return tuple(windows), tuple(owners)


def rank_sections(
    sections: list[Section],
    candidates: list[int],
    task: str,
    embedder: Embedder | None,
    encoder: Bm25Encoder,
    task_vector: Any = None,
    cache: VectorCache | None = None,
    fusion: str = SELECTION.fusion,
) -> list[Ranked]:
    """The candidate sections, best first, by fused dense and BM25+ relevance to the task."""
    if not candidates:
        return []
    texts = [_index_text(sections[i]) for i in candidates]
    terms = list(encoder.query(task).indices)
    bm25 = _corpus(tuple(texts), encoder).scores(terms)
    dense = _dense(texts, task, embedder, task_vector, cache)
    ids = [str(i) for i in candidates]

    def ranked(scores: list[float]) -> list[tuple[str, float]]:
        return sorted(zip(ids, scores, strict=True), key=lambda kv: -kv[1])

    lexical = [(i, s) for i, s in ranked(bm25) if s > 0]
    fused = fuse(fusion, ranked(dense) if dense else [], lexical)
    position = {i: n for n, i in enumerate(ids)}
    return [
        Ranked(int(i), score, dense[position[i]] if dense else None, bm25[position[i]])
        for i, score in fused
    ]


def front_matter(skill: Skill) -> str:
    lines = ["---", f"name: {skill.name}", f"description: {' '.join(skill.description.split())}"]
    if skill.allowed_tools:
        lines.append(f"allowed-tools: {', '.join(skill.allowed_tools)}")
    return "\n".join([*lines, "---"])


def _render(section: Section) -> str:
    """A section under a heading that carries its whole path."""
    if not section.level:
        return section.text
    return f"{'#' * section.level} {section.title}\n{section.body}".rstrip()


def fit_instructions(body: str, budget: int) -> tuple[str, bool]:
    """The skill body, cut at the last section heading that fits the token budget."""
    if textops.estimate_tokens(body) <= budget:
        return body, False
    kept: list[str] = []
    section: list[str] = []
    for line in body.splitlines():
        if line.startswith("#") and section:
            if textops.estimate_tokens("\n".join(kept + section)) > budget:
                break
            kept.extend(section)
            section = []
        section.append(line)
    if not kept:
        return body[: budget * 4], True
    return "\n".join(kept), True


def _entry(section: Section, **extra: Any) -> dict[str, Any]:
    tokens = textops.estimate_tokens(section.text)
    return {"heading": section.heading, "path": section.title, "tokens": tokens, **extra}


def _chosen(ranking: list[Ranked], selection: Selection) -> list[Ranked]:
    if not ranking:
        return []
    high, low = ranking[0].score, ranking[-1].score
    spread = (high - low) or 1.0
    keep = [r for r in ranking if (r.score - low) / spread >= selection.relative]
    return keep[: selection.most]


def skill_context(
    skill: Skill,
    task: str,
    embedder: Embedder | None,
    encoder: Bm25Encoder,
    budget: int,
    task_vector: Any = None,
    full: bool = False,
    cache: VectorCache | None = None,
    selection: Selection = SELECTION,
) -> dict[str, Any]:
    """The skill's context for a task within `budget` tokens: the front matter and opening
    guidance, then the sections that bear on the task, best first, each under its heading
    path, then the headings left out; `full` gives the whole body instead (cut at a heading
    when over budget). The document lists the sections included and those left out, so the
    agent can ask for one (`section_document`)."""
    sections = list(_sections(skill.body))
    header = f"# Skill: {skill.name}\n\n{front_matter(skill)}"
    if full:
        body, cut = fit_instructions(skill.body, max(budget - textops.estimate_tokens(header), 0))
        text = f"{header}\n\n{body.strip()}"
        shown = [_entry(s) for s in sections if s.level and not s.is_empty()]
        return _document("full", text, shown, [], cut)
    head = opening(sections)
    parts = [header, *(_render(s) for s in head)]
    while textops.estimate_tokens("\n\n".join(parts)) > budget and len(parts) > 1:
        parts.pop()
    opened = head[: len(parts) - 1]
    candidates = [i for i, s in enumerate(sections) if s not in opened and not s.is_empty()]
    ranking = rank_sections(
        sections, candidates, task, embedder, encoder, task_vector, cache, selection.fusion
    )
    included = [_entry(s, opening=True) for s in opened]
    used = textops.estimate_tokens("\n\n".join(parts))
    chosen: set[int] = set()
    for item in _chosen(ranking, selection):
        piece = _render(sections[item.index])
        if used + textops.estimate_tokens(piece) + 1 > budget:
            continue
        parts.append(piece)
        used = textops.estimate_tokens("\n\n".join(parts))
        chosen.add(item.index)
        dense = None if item.dense is None else round(item.dense, 4)
        scores = {"score": round(item.score, 4), "dense": dense, "bm25": round(item.bm25, 4)}
        included.append(_entry(sections[item.index], **scores))
    left = [i for i in candidates if i not in chosen]
    note = _left_out_note(skill.name, [sections[i] for i in left])
    if left and used + textops.estimate_tokens(note) + 1 <= budget:
        parts.append(note)
    text = "\n\n".join(parts)
    return _document("sections", text, included, [_entry(sections[i]) for i in left], bool(left))


def _left_out_note(name: str, sections: list[Section]) -> str:
    listed = " · ".join(s.heading for s in sections)
    return f'Other sections (`amber skills show {name} --section "HEADING"`): {listed}'


def _document(
    mode: str, text: str, included: list[dict[str, Any]], left: list[dict[str, Any]], cut: bool
) -> dict[str, Any]:
    return {
        "mode": mode,
        "text": text,
        "tokens": textops.estimate_tokens(text),
        "included": included,
        "left_out": left,
        "truncated": cut,
    }


def section_document(skill: Skill, query: str) -> dict[str, Any]:
    """One section of a skill with everything nested under it (`skills show NAME --section`),
    found by heading or heading path without regard to case or numbering."""
    sections = parse_sections(skill.body)
    index = find_section(sections, query)
    if index is None:
        listed = "; ".join(s.heading for s in sections if s.level)
        raise NotFound(
            f"skill {skill.name!r} has no section {query!r}", hint=f"its sections: {listed}"
        )
    parts = subtree(sections, index)
    text = "\n\n".join([_render(parts[0]), *(p.text for p in parts[1:])])
    return {
        "name": skill.name,
        "path": parts[0].title,
        "heading": parts[0].heading,
        "text": text,
        "tokens": textops.estimate_tokens(text),
        "sections": [p.title for p in parts],
    }
