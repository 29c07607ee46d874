"""Skill routing: rank SKILL.md skills for a task by hybrid relevance, taught by past outcomes."""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rank_bm25 import BM25Plus

from amber.embedders.base import Embedder
from amber.layout import Filters
from amber.models import MemoryType
from amber.services.memory import MemoryService
from amber.skills import Skill
from amber.stores.bm25 import Bm25Encoder

FEEDBACK_TAG = "skill-feedback"


@dataclass
class Candidate:
    name: str
    confidence: float
    dense: float | None
    lexical: float
    feedback: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "confidence": round(self.confidence, 4),
            "dense": None if self.dense is None else round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "feedback": round(self.feedback, 4),
        }


@dataclass
class Route:
    skill: str | None
    confidence: float
    alternatives: list[Candidate] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.skill,
            "confidence": round(self.confidence, 4),
            "alternatives": [c.as_dict() for c in self.alternatives],
        }


@dataclass(frozen=True)
class Outcome:
    """A past routing outcome similar to the task: the skill, success or not, and similarity."""

    skill: str
    success: bool
    similarity: float


def skill_text(skill: Skill) -> str:
    """What a skill is matched on: its name, description and section headings."""
    return "\n".join([skill.name.replace("-", " "), skill.description, *skill.headings])


class SkillRouter:
    """Dense cosine (embedder) and BM25+ term evidence (rank-bm25), blended into a confidence.

    BM25+ is used because its IDF, log((N + 1) / n), stays positive with one or two skills,
    where Okapi's goes to zero or below. Each signal is mapped onto 0..1 with a floor and a
    ceiling measured on the routing set in tests/test_router.py, and the confidence is their
    mean; below `threshold` no skill is returned.
    """

    def __init__(
        self,
        skills: list[Skill],
        embedder: Embedder | None,
        encoder: Bm25Encoder,
        dense_range: tuple[float, float] = (0.15, 0.50),
        threshold: float = 0.20,
        cache: Path | None = None,
    ) -> None:
        self.skills = sorted(skills, key=lambda s: s.name)
        self.embedder, self.encoder = embedder, encoder
        self.dense_range, self.threshold = dense_range, threshold
        self._tokens = [self._terms(skill_text(s)) for s in self.skills]
        self._bm25 = BM25Plus(self._tokens) if self.skills else None
        self._vectors: np.ndarray | None = None
        self._cache = cache
        self._owners = np.zeros(0, dtype=int)

    def _terms(self, text: str) -> list[int]:
        return list(self.encoder.document(text).indices)

    def _idf(self, term: int) -> float:
        assert self._bm25 is not None
        unseen = math.log((len(self.skills) + 1) / 0.5)
        return float(self._bm25.idf.get(term, unseen))

    def _lexical(self, task: str) -> list[float]:
        """Share of the task's IDF mass that each skill's text contains (0..1)."""
        terms = set(self.encoder.query(task).indices)
        if not terms or self._bm25 is None:
            return [0.0] * len(self.skills)
        total = sum(self._idf(t) for t in terms)
        # BM25+ scores rank the skills; the share of matched IDF mass is the absolute evidence.
        return [sum(self._idf(t) for t in terms & set(doc)) / total for doc in self._tokens]

    def _dense(self, task: str, vector: list[float] | None = None) -> list[float] | None:
        """Per skill, the best cosine of the task against its whole text, its description and
        each of its headings (a task often matches one section, not the summary)."""
        if self.embedder is None or not self.skills:
            return None
        if self._vectors is None:
            texts, owners = [], []
            for i, skill in enumerate(self.skills):
                parts = [skill_text(skill), skill.description, *skill.headings]
                texts.extend(parts)
                owners.extend([i] * len(parts))
            self._vectors = self._embed_cached(texts)
            self._owners = np.array(owners)
        query = self.embedder.embed_query(task) if vector is None else np.asarray(vector)
        sims = self._vectors @ query
        return [float(sims[self._owners == i].max()) for i in range(len(self.skills))]

    def _embed_cached(self, texts: list[str]) -> np.ndarray:
        """Skill texts change rarely: their vectors are kept in an .npz file keyed by content."""
        assert self.embedder is not None
        key = hashlib.sha256("\x00".join([self.embedder.identity.slug(), *texts]).encode())
        digest = key.hexdigest()
        if self._cache is not None and self._cache.exists():
            with np.load(self._cache, allow_pickle=False) as saved:
                if str(saved["digest"]) == digest:
                    return np.asarray(saved["vectors"])
        vectors = self.embedder.embed_documents(texts)
        if self._cache is not None:
            tmp = self._cache.with_name(self._cache.name + ".tmp.npz")
            np.savez(tmp, digest=np.array(digest), vectors=vectors)
            os.replace(tmp, self._cache)
        return vectors

    def route(
        self, task: str, outcomes: list[Outcome] | None = None, vector: list[float] | None = None
    ) -> Route:
        """The best skill for a task; `vector` is the task's embedding when already computed."""
        if not self.skills:
            return Route(None, 0.0)
        lexical = self._lexical(task)
        dense = self._dense(task, vector)
        low, high = self.dense_range
        candidates = []
        for i, skill in enumerate(self.skills):
            parts = [lexical[i]]
            if dense is not None:
                parts.append(min(max((dense[i] - low) / (high - low), 0.0), 1.0))
            learned = sum(
                (0.3 if o.success else -0.3) * o.similarity
                for o in outcomes or []
                if o.skill == skill.name
            )
            confidence = min(max(sum(parts) / len(parts) + learned, 0.0), 1.0)
            candidates.append(
                Candidate(
                    skill.name, confidence, None if dense is None else dense[i], lexical[i], learned
                )
            )
        if self._bm25 is not None:
            order = self._bm25.get_scores(self.encoder.query(task).indices)
            tie = {s.name: float(order[i]) for i, s in enumerate(self.skills)}
        candidates.sort(key=lambda c: (-c.confidence, -tie.get(c.name, 0.0), c.name))
        best = candidates[0]
        if best.confidence < self.threshold:
            return Route(None, best.confidence, candidates[:3])
        return Route(best.name, best.confidence, candidates[1:4])


def outcome_tags(skill: str, success: bool) -> list[str]:
    return [FEEDBACK_TAG, f"skill:{skill}", "outcome:success" if success else "outcome:failure"]


def learned_outcomes(memory: MemoryService, task: str, floor: float = 0.5) -> list[Outcome]:
    """Past feedback on tasks like this one (dense similarity at least `floor`)."""
    found = memory.search(task, Filters(tags=[FEEDBACK_TAG]), 10, mode="dense", apply_floor=False)
    outcomes = []
    for item in found:
        similarity = item.dense.score or 0.0
        skills = [t.split(":", 1)[1] for t in item.memory.tags if t.startswith("skill:")]
        if similarity >= floor and skills:
            outcomes.append(Outcome(skills[0], "outcome:success" in item.memory.tags, similarity))
    return outcomes


def record_outcome(
    memory: MemoryService, skill: str, task: str, success: bool, project: str, agent: str
) -> dict[str, Any]:
    """Keep a routing outcome as a memory, so later routing of similar tasks shifts."""
    return memory.store_memory(
        task, MemoryType.knowledge, outcome_tags(skill, success), project, agent=agent
    )
