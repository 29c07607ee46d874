"""Skill routing: rank SKILL.md skills for a task by hybrid relevance, taught by past outcomes."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from amber.embedders.base import Embedder
from amber.errors import BackendUnavailable
from amber.models import MemoryType
from amber.services.catalog import list_memories
from amber.services.layout import Filters
from amber.services.memory import MemoryService
from amber.services.memory_requests import MEMORY_SKILL, REQUEST_CONFIDENCE, asks_memory, reminds
from amber.services.vector_cache import VectorCache
from amber.skills import Skill, SkillRegistry
from amber.stores.bm25 import Bm25Encoder, SmallCorpus

FEEDBACK_TAG = "skill-feedback"
FEEDBACK_WEIGHT = 0.3  # confidence moved by one past outcome of similarity 1.0


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


# A sentence of a description that says what the skill is not for: "Not for X.", "Do not use
# it for X.", "for X, use other-skill." It must not draw those tasks in; it pushes them away.
_NOT_FOR = re.compile(
    r"(?i)^(?:not for|do not use|don't use|never for)\b|^for\b.*,\s*use\s+[a-z0-9]+(?:-[a-z0-9]+)+"
    r"(?:\s+instead)?\W*$|\buse\s+[a-z0-9]+(?:-[a-z0-9]+)+\s+instead\b"
)


def description_parts(description: str) -> tuple[str, str]:
    """(what the skill is for, what its description says it is not for)."""
    sentences = re.split(r"(?<=[.;!?])\s+", " ".join(description.split()))
    against = [s for s in sentences if _NOT_FOR.search(s)]
    return " ".join(s for s in sentences if s not in against), " ".join(against)


def skill_text(skill: Skill) -> str:
    """What a skill is matched on: its name, what its description says it is for, and its
    section headings."""
    purpose = description_parts(skill.description)[0]
    return "\n".join([skill.name.replace("-", " "), purpose, *skill.headings])


def routing_texts(skill: Skill) -> list[str]:
    """The texts embedded for a skill: the whole of what it is matched on, its purpose, and
    each heading (a task often matches one section, not the summary)."""
    return [skill_text(skill), description_parts(skill.description)[0], *skill.headings]


class SkillRouter:
    """Dense cosine (embedder) and BM25+ term evidence (rank-bm25), blended twice.

    Skills are ranked mostly by term evidence (the share of the task's IDF mass a skill's text
    holds, with `rank_weight` of the scaled cosine), which tells close neighbours apart; the
    best one's confidence is mostly the cosine (`dense_weight`), an absolute similarity that
    says whether anything fits at all, and below `threshold` no skill is returned (below
    `lexical_threshold` when the embedder is unavailable and the term evidence is all there
    is). The cosine is mapped onto 0..1 by `dense_range`. BM25+ is used because its IDF,
    log((N + 1) / n), stays positive with one or two skills, where Okapi's goes to zero or
    below. The constants were fitted on one half of the labelled set of benchmarks/routing.py
    (keeping tests/routing_set.py at >= 95 %) and are reported on the other half.

    The router never touches the store. Its skill vectors come from a `VectorCache` file
    (`cache`), keyed by content and embedder, so only new or edited skills are embedded;
    call `prepare()` before taking the store's lock so that embedding never happens under it.
    """

    def __init__(
        self,
        skills: list[Skill],
        embedder: Embedder | None,
        encoder: Bm25Encoder,
        dense_range: tuple[float, float] = (0.25, 0.45),
        threshold: float = 0.16,
        cache: Path | None = None,
        rank_weight: float = 0.2,
        dense_weight: float = 0.7,
        lexical_threshold: float = 0.26,
    ) -> None:
        self.skills = sorted(skills, key=lambda s: s.name)
        self.embedder, self.encoder = embedder, encoder
        self.dense_range, self.threshold = dense_range, threshold
        self.rank_weight, self.dense_weight = rank_weight, dense_weight
        self.lexical_threshold = lexical_threshold  # the threshold when dense is unavailable
        self.vectors = VectorCache(cache, embedder) if embedder is not None else None
        self.problem: str | None = None  # why the dense signal is off, when it is
        self._tokens = [self._terms(skill_text(s)) for s in self.skills]
        self._sets = [set(doc) for doc in self._tokens]
        # terms only the "not for" sentences hold: a task that has them is pushed away
        self._against = [
            set(self._terms(description_parts(s.description)[1])) - terms
            for s, terms in zip(self.skills, self._sets, strict=True)
        ]
        self._bm25 = SmallCorpus(self._tokens)
        self._matrix: np.ndarray | None = None
        self._starts = np.zeros(0, dtype=int)

    def _terms(self, text: str) -> list[int]:
        return list(self.encoder.document(text).indices)

    def _idf(self, term: int) -> float:
        unseen = math.log((len(self.skills) + 1) / 0.5)
        return self._bm25.idf(term, unseen)

    def _lexical(self, terms: set[int], docs: list[set[int]] | None = None) -> list[float]:
        """Share of the task's IDF mass that each skill's text (or `docs`) contains (0..1)."""
        if not terms or self._bm25.empty:
            return [0.0] * len(self.skills)
        idf = {t: self._idf(t) for t in terms}
        total = sum(idf.values())
        # BM25+ scores rank the skills; the share of matched IDF mass is the absolute evidence.
        return [sum(idf[t] for t in terms & doc) / total for doc in docs or self._sets]

    def prepare(self) -> int:
        """Have every skill's vectors at hand, embedding only texts the cache lacks; returns how
        many were embedded. Embedding errors switch the dense signal off (see `problem`)."""
        if self._matrix is not None or self.vectors is None or not self.skills:
            return 0
        texts: list[str] = []
        starts: list[int] = []
        for skill in self.skills:
            starts.append(len(texts))
            texts.extend(routing_texts(skill))
        before = self.vectors.embedded
        try:
            self._matrix = self.vectors.get(texts)
        except BackendUnavailable as exc:
            self.problem = exc.message
            return 0
        self._starts = np.array(starts)
        return self.vectors.embedded - before

    def _dense(self, task: str, vector: list[float] | None, embed_task: bool) -> list[float] | None:
        """Per skill, the best cosine of the task against its texts."""
        if self.embedder is None or not self.skills:
            return None
        self.prepare()
        if self._matrix is None:
            return None
        if vector is None and (not embed_task or not self.embedder.reads(task)):
            return None
        try:
            query = self.embedder.embed_query(task) if vector is None else np.asarray(vector)
        except BackendUnavailable as exc:
            self.problem = exc.message
            return None
        sims = self._matrix @ query.astype(np.float32)
        return np.maximum.reduceat(sims, self._starts).tolist()

    def route(
        self,
        task: str,
        outcomes: list[Outcome] | None = None,
        vector: list[float] | None = None,
        embed_task: bool = True,
    ) -> Route:
        """The best skill for a task. `vector` is the task's embedding when already computed;
        with `embed_task` False and no vector, dense evidence is skipped (the caller's embedder
        already failed for this task, so it is not asked again)."""
        if not self.skills:
            return Route(None, 0.0)
        query_terms = self.encoder.query(task).indices
        lexical = self._lexical(set(query_terms))
        against = self._lexical(set(query_terms), self._against)
        dense = self._dense(task, vector, embed_task)
        low, high = self.dense_range
        learned: dict[str, float] = {}
        for o in outcomes or []:
            sign = FEEDBACK_WEIGHT if o.success else -FEEDBACK_WEIGHT
            learned[o.skill] = learned.get(o.skill, 0.0) + sign * o.similarity
        tie = self._bm25.scores(query_terms)
        ranked: list[tuple[float, float, str, Candidate]] = []
        for i, skill in enumerate(self.skills):
            rank, fit = lexical[i], lexical[i]
            if dense is not None:
                scaled = min(max((dense[i] - low) / (high - low), 0.0), 1.0)
                rank = (1 - self.rank_weight) * lexical[i] + self.rank_weight * scaled
                fit = (1 - self.dense_weight) * lexical[i] + self.dense_weight * scaled
            rank, fit = rank - against[i], fit - against[i]  # "not for" terms in the task
            shift = learned.get(skill.name, 0.0)
            confidence = min(max(fit + shift, 0.0), 1.0)
            cosine = None if dense is None else dense[i]
            candidate = Candidate(skill.name, confidence, cosine, lexical[i], shift)
            ranked.append((-(rank + shift), -tie[i], skill.name, candidate))
        candidates = [c for *_, c in sorted(ranked)]
        memory = [c for c in candidates if c.name == MEMORY_SKILL]
        if memory and asks_memory(task):  # the request itself, whatever its topic
            memory[0].confidence = max(memory[0].confidence, REQUEST_CONFIDENCE)
            candidates = memory + [c for c in candidates if c is not memory[0]]
        elif memory and reminds(task):  # its "remember" is not the memory's
            memory[0].confidence = 0.0
            candidates = [c for c in candidates if c is not memory[0]] + memory
        best = candidates[0]
        if best.confidence < (self.threshold if dense is not None else self.lexical_threshold):
            return Route(None, best.confidence, candidates[:3])
        return Route(best.name, best.confidence, candidates[1:4])


def outcome_tags(skill: str, success: bool) -> list[str]:
    return [FEEDBACK_TAG, f"skill:{skill}", "outcome:success" if success else "outcome:failure"]


def learned_outcomes(memory: MemoryService, task: str, floor: float = 0.5) -> list[Outcome]:
    """Past feedback on tasks like this one (dense similarity at least `floor`); a store that
    holds no feedback is not searched (a count over the tag's index costs far less)."""
    feedback = Filters(tags=[FEEDBACK_TAG])
    if not memory.store.exists(memory.collection):
        return []
    if memory.store.count(memory.collection, feedback.where()) == 0:
        return []
    found = memory.hybrid.search(task, feedback, 10, mode="dense", apply_floor=False)
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
    """Keep a routing outcome as a record of its own, so later routing of similar tasks
    shifts. Every call is one vote: its id is fresh, so neither a memory with the task's text
    nor an earlier vote on the same task absorbs it (or gets its tags)."""
    vote = f"{FEEDBACK_TAG}\x00{skill}\x00{success}\x00{uuid.uuid4()}"
    return memory.store_memory(
        task, MemoryType.knowledge, outcome_tags(skill, success), project, agent, identity=vote
    )


def feedback_counts(memory: MemoryService, limit: int = 100_000) -> dict[str, dict[str, int]]:
    """Per skill, how many outcomes `skills feedback` recorded: {"success": n, "failure": n}."""
    counts: dict[str, dict[str, int]] = {}
    for item in list_memories(memory, Filters(tags=[FEEDBACK_TAG]), limit):
        outcome = "success" if "outcome:success" in item.tags else "failure"
        for tag in item.tags:
            if tag.startswith("skill:"):
                entry = counts.setdefault(tag.split(":", 1)[1], {"success": 0, "failure": 0})
                entry[outcome] += 1
    return counts


def skill_stats(
    registry: SkillRegistry, counts: dict[str, int], feedback: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """`skills stats`: one row per skill copy found. A loaded skill is "valid" and carries how
    often it was routed and the feedback it got; a later copy of a loaded name is "shadowed"
    (with the path of the copy that wins); a file that could not be loaded is "invalid" with
    its problems (named after its folder). `counts` comes from `RouteCounter.counts()`,
    `feedback` from `feedback_counts()`."""
    rows: list[dict[str, Any]] = []
    for name, skill in sorted(registry.skills.items()):
        votes = feedback.get(name, {"success": 0, "failure": 0})
        rows.append(
            {"name": name, "state": "valid", "path": str(skill.path), "origin": skill.origin}
            | {"routed": counts.get(name, 0), "feedback": votes, "problems": []}
        )
        for copy in registry.shadowed.get(name, []):
            rows.append(
                {"name": name, "state": "shadowed", "path": str(copy.path), "origin": copy.origin}
                | {"shadowed_by": str(skill.path), "problems": []}
            )
    problems: dict[Path, list[str]] = {}
    for problem in registry.problems:
        problems.setdefault(problem.path, []).append(str(problem))
    for path, found in problems.items():
        folder = path.parent.name if path.name == "SKILL.md" else path.name
        rows.append({"name": folder, "state": "invalid", "path": str(path), "problems": found})
    known = {row["name"] for row in rows}
    gone = {k: v for k, v in counts.items() if k and k not in known}
    return {"skills": rows, "routed_to_none": counts.get("", 0), "routed_to_missing": gone}
