"""Skill routing (the original four-skill set), skill vectors, outcome statistics and the
section-level context of a skill."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from routing_set import ROUTES

from amber import text as textops
from amber.embedders.base import EmbedderIdentity
from amber.embedders.preload import builtin_model
from amber.errors import BackendUnavailable, NotFound
from amber.services.route_counts import RouteCounter
from amber.services.router import (
    FEEDBACK_TAG,
    Outcome,
    SkillRouter,
    description_parts,
    feedback_counts,
    outcome_tags,
    routing_texts,
    skill_stats,
    skill_text,
)
from amber.services.skill_context import section_document, skill_context
from amber.services.vector_cache import VectorCache
from amber.skills import Skill, SkillRegistry, SkillSource, load_skill
from amber.stores.bm25 import Bm25Encoder

TEST_SKILLS = Path(__file__).parent / "skills"
PYTHON_PATTERNS = Path(__file__).parent.parent / "skills" / "python-patterns" / "SKILL.md"


@pytest.fixture(scope="module")
def router() -> SkillRouter:
    """The original four-skill set: python-patterns and the three small test skills (the
    larger held-out set of tests/skill_sets/routing is measured by benchmarks/routing.py)."""
    registry = SkillRegistry.load([TEST_SKILLS])
    registry.skills["python-patterns"] = load_skill(PYTHON_PATTERNS)
    assert not registry.problems
    assert set(registry.names()) == {
        "python-patterns",
        "react-frontend",
        "sql-databases",
        "docker-deploy",
    }
    return SkillRouter(list(registry.skills.values()), builtin_model(), Bm25Encoder())


def test_routing_set_is_large_enough() -> None:
    labels = {skill for _, skill in ROUTES if skill}
    assert len(ROUTES) >= 40 and len(labels) >= 4


def test_labelled_tasks_route_correctly(router: SkillRouter) -> None:
    wrong = []
    for task, expected in ROUTES:
        got = router.route(task).skill
        if got != expected:
            wrong.append((task, expected, got))
    accuracy = 1 - len(wrong) / len(ROUTES)
    assert accuracy >= 0.95, f"accuracy {accuracy:.1%}; wrong: {wrong}"


def test_route_reports_confidence_and_alternatives(router: SkillRouter) -> None:
    route = router.route("design a FastAPI service with background jobs")
    assert route.skill == "python-patterns"
    assert route.confidence > route.alternatives[0].confidence
    assert {c.name for c in route.alternatives} <= {
        "react-frontend",
        "sql-databases",
        "docker-deploy",
    }
    none = router.route("plan a wedding menu")
    assert none.skill is None and none.confidence < router.threshold


def test_bm25_plus_idf_is_positive_for_one_skill() -> None:
    registry = SkillRegistry.load([TEST_SKILLS])
    alone = SkillRouter([registry.get("sql-databases")], None, Bm25Encoder())
    route = alone.route("add an index for the slow query plan")
    assert route.skill == "sql-databases" and route.confidence > 0


def test_outcomes_shift_routing(router: SkillRouter) -> None:
    task = "containerise the Django app and run its Celery workers"
    before = router.route(task)
    target = "python-patterns" if before.skill != "python-patterns" else "docker-deploy"
    taught = router.route(task, [Outcome(target, True, 0.9), Outcome(before.skill, False, 0.9)])
    assert taught.skill == target


# -- vectors: cached by content, built incrementally, never from the store --------------------


class CountingEmbedder:
    """The builtin model, counting what it is asked to embed (and optionally failing)."""

    def __init__(self, identity: EmbedderIdentity | None = None, fail: bool = False) -> None:
        self.inner = builtin_model()
        self.identity = identity or self.inner.identity
        self.window_words = self.inner.window_words
        self.documents: list[str] = []
        self.queries = 0
        self.fail = fail

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if self.fail:
            raise BackendUnavailable("embedder timed out", hint="try later")
        self.documents.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        if self.fail:
            raise BackendUnavailable("embedder timed out", hint="try later")
        self.queries += 1
        return self.inner.embed_query(text)

    def reads(self, text: str) -> bool:
        return self.inner.reads(text)


def many_skills(folder: Path, count: int) -> None:
    topics = ["invoices", "maps", "sensors", "recipes", "tickets", "payroll", "video", "chat"]
    for i in range(count):
        topic = topics[i % len(topics)]
        name = f"gen-{topic}-{i:03d}"
        body = f"# {name}\n\n## Model {topic}\n\nText.\n\n## Test {topic}\n\nText.\n"
        path = folder / name / "SKILL.md"
        path.parent.mkdir(parents=True)
        description = f"Work on {topic} number {i}; use it for {topic} tasks."
        path.write_text(f"---\nname: {name}\ndescription: {description}\n---\n{body}")


def routed_router(folder: Path, embedder: Any, cache: Path) -> SkillRouter:
    registry = SkillRegistry.load([folder])
    assert not registry.problems
    return SkillRouter(list(registry.skills.values()), embedder, Bm25Encoder(), cache=cache)


def test_editing_one_skill_reembeds_only_that_skill(tmp_path: Path) -> None:
    folder, cache = tmp_path / "skills", tmp_path / "home" / "skill-vectors.npz"
    many_skills(folder, 30)
    counting = CountingEmbedder()
    first = routed_router(folder, counting, cache)
    texts = {t for s in first.skills for t in routing_texts(s)}
    assert first.prepare() == len(texts) == len(set(counting.documents))
    assert cache.is_file() and oct(cache.stat().st_mode & 0o777) == "0o600"

    counting.documents.clear()
    assert routed_router(folder, counting, cache).prepare() == 0  # a new process, same file
    assert counting.documents == []

    path = folder / "gen-maps-001" / "SKILL.md"
    path.write_text(path.read_text().replace("Work on maps", "Draw maps"))
    again = routed_router(folder, counting, cache)
    assert again.prepare() == 2
    edited = next(s for s in again.skills if s.name == "gen-maps-001")
    assert counting.documents == [skill_text(edited), edited.description]  # headings unchanged

    other = CountingEmbedder(dataclasses.replace(counting.identity, model="another-model"))
    assert routed_router(folder, other, cache).prepare() == len(texts)  # never reused


def test_a_warm_route_embeds_no_skill_text_and_the_task_at_most_once(tmp_path: Path) -> None:
    many_skills(tmp_path / "skills", 12)
    counting = CountingEmbedder()
    router = routed_router(tmp_path / "skills", counting, tmp_path / "vectors.npz")
    router.prepare()
    counting.documents.clear()
    router.route("model the invoices")
    assert (counting.documents, counting.queries) == ([], 1)
    vector = counting.inner.embed_query("model the invoices").tolist()
    assert router.route("model the invoices", vector=vector).skill is not None
    skipped = router.route("model the invoices", embed_task=False)
    assert counting.queries == 1 and all(c.dense is None for c in skipped.alternatives)


def test_a_failing_embedder_leaves_the_lexical_signal() -> None:
    failing = CountingEmbedder(fail=True)
    registry = SkillRegistry.load([TEST_SKILLS])
    registry.skills["python-patterns"] = load_skill(PYTHON_PATTERNS)
    router = SkillRouter(list(registry.skills.values()), failing, Bm25Encoder())
    route = router.route("design a FastAPI service with background jobs")
    assert route.skill == "python-patterns" and router.problem == "embedder timed out"
    assert router.route("plan a wedding menu").skill is None


# -- outcomes that teach, visibly ---------------------------------------------------------------


def test_route_counter_counts_in_memory_and_flushes_atomically(tmp_path: Path) -> None:
    counter = RouteCounter(tmp_path / "home" / "skill-routes.json")
    assert counter.counts() == {}
    for name in ("python-patterns", None, "python-patterns"):
        counter.add(name)
    assert counter.counts() == {"python-patterns": 2, "": 1}  # not written yet, still counted
    assert not (tmp_path / "home").exists()
    counter.flush()
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["skill-routes.json"]
    other = RouteCounter(counter.path)  # another process's counter adds to what is on disk
    other.add("python-patterns")
    other.flush()
    counter.flush()  # nothing pending: the file is left as the other wrote it
    assert RouteCounter(counter.path).counts() == {"python-patterns": 3, "": 1}
    counter.path.write_text("{not json")
    assert counter.counts() == {}


@dataclasses.dataclass
class Hit:
    payload: dict[str, Any]


class FeedbackStore:
    """Enough of a store for `feedback_counts`: the feedback memories, as scroll returns them."""

    def __init__(self, tags: list[list[str]]) -> None:
        self.hits = [
            Hit({"id": f"m{i}", "content": "t", "tags": t, "created_at": "2025", "created_ts": 1})
            for i, t in enumerate(tags)
        ]

    def scroll(self, name: str, where: Any, limit: int, newest_first: str | None = None) -> list:
        assert where.all_of["tags"] == [FEEDBACK_TAG]
        return self.hits[:limit]


def test_skill_stats_show_routes_feedback_and_validation(tmp_path: Path) -> None:
    win = tmp_path / "project" / "demo" / "SKILL.md"
    win.parent.mkdir(parents=True)
    win.write_text("---\nname: demo\ndescription: Does demo things.\n---\n# Demo\n")
    copy = tmp_path / "user" / "demo" / "SKILL.md"
    copy.parent.mkdir(parents=True)
    copy.write_text(win.read_text())
    broken = tmp_path / "user" / "broken" / "SKILL.md"
    broken.parent.mkdir(parents=True)
    broken.write_text("---\nname: broken\n---\n")
    registry = SkillRegistry.load(
        [SkillSource(tmp_path / "project", "project"), SkillSource(tmp_path / "user", "user")]
    )
    memory = SimpleNamespace(
        collection="memories",
        store=FeedbackStore(
            [
                outcome_tags("demo", True),
                outcome_tags("demo", True),
                outcome_tags("demo", False),
                outcome_tags("gone", False),
            ]
        ),
    )
    feedback = feedback_counts(memory)  # type: ignore[arg-type]
    assert feedback["demo"] == {"success": 2, "failure": 1}
    stats = skill_stats(registry, {"demo": 5, "": 2, "gone": 1}, feedback)
    assert stats["skills"] == [
        {
            "name": "demo",
            "state": "valid",
            "path": str(win),
            "origin": "project",
            "routed": 5,
            "feedback": {"success": 2, "failure": 1},
            "problems": [],
        },
        {
            "name": "demo",
            "state": "shadowed",
            "path": str(copy),
            "origin": "user",
            "shadowed_by": str(win),
            "problems": [],
        },
        {
            "name": "broken",
            "state": "invalid",
            "path": str(broken),
            "problems": [f"{broken}:1: missing required field 'description'"],
        },
    ]
    assert stats["routed_to_none"] == 2 and stats["routed_to_missing"] == {"gone": 1}


# -- section-level context ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_patterns() -> Skill:
    return load_skill(PYTHON_PATTERNS)


def test_skill_context_hands_over_the_sections_a_task_needs(python_patterns: Skill) -> None:
    task = "open a database session per request in FastAPI and close it afterwards"
    doc = skill_context(python_patterns, task, builtin_model(), Bm25Encoder(), 8000)
    whole = textops.estimate_tokens(python_patterns.body)
    paths = [entry["path"] for entry in doc["included"]]
    assert paths[:2] == ["Python Patterns", "Python Patterns › How to work with this skill"]
    assert "Python Patterns › 6. FastAPI principles › Dependencies" in paths
    assert doc["mode"] == "sections" and doc["tokens"] <= 0.5 * whole  # mean: benchmarks/
    assert doc["text"].startswith("# Skill: python-patterns\n\n---\nname: python-patterns\n")
    assert "### Python Patterns › 6. FastAPI principles › Dependencies" in doc["text"]
    left = {entry["heading"] for entry in doc["left_out"]}
    assert "8. Error handling" in left and not left & {p.split(" › ")[-1] for p in paths}
    assert 'amber skills show python-patterns --section "HEADING"' in doc["text"]
    full = skill_context(python_patterns, task, None, Bm25Encoder(), 8000, full=True)
    assert full["mode"] == "full" and full["left_out"] == [] and not full["truncated"]
    assert python_patterns.body.strip() in full["text"]


def test_skill_context_stays_within_a_small_budget(python_patterns: Skill) -> None:
    for budget in (5, 300, 700):
        doc = skill_context(
            python_patterns, "async or sync", builtin_model(), Bm25Encoder(), budget
        )
        assert doc["tokens"] <= budget or len(doc["included"]) == 0
        assert doc["text"].startswith("# Skill: python-patterns")


def test_section_vectors_are_cached_by_content(python_patterns: Skill, tmp_path: Path) -> None:
    counting = CountingEmbedder()
    cache = VectorCache(tmp_path / "vectors.npz", counting)
    task = "return consistent JSON errors"
    skill_context(python_patterns, task, counting, Bm25Encoder(), 8000, cache=cache)
    assert counting.documents
    counting.documents.clear()
    warm = VectorCache(tmp_path / "vectors.npz", counting)
    skill_context(python_patterns, "pick a task queue", counting, Bm25Encoder(), 8000, cache=warm)
    assert counting.documents == []


def test_one_section_on_request(python_patterns: Skill) -> None:
    doc = section_document(python_patterns, "6. FastAPI")
    assert doc["path"] == "Python Patterns › 6. FastAPI principles"
    assert doc["sections"][1:] == [
        "Python Patterns › 6. FastAPI principles › Choosing `async def` or `def` for an endpoint",
        "Python Patterns › 6. FastAPI principles › Dependencies",
    ]
    assert "SessionDep = Annotated[Session, Depends(get_session)]" in doc["text"]
    assert section_document(python_patterns, "fastapi › dependencies")["heading"] == "Dependencies"
    with pytest.raises(NotFound) as missing:
        section_document(python_patterns, "Kubernetes")
    assert "9. Testing" in missing.value.hint


SHIPPED_SKILLS = Path(__file__).parent.parent / "skills"


def test_memory_requests_go_to_the_memory_skill_and_memory_leaks_do_not() -> None:
    """An outside trial's misses among the shipped skills: a request to the shared memory was
    routed by its topic (PostgreSQL → python-testing), and a program's memory leak by the
    word "memory" (→ amber-memory)."""
    registry = SkillRegistry.load([SHIPPED_SKILLS])
    assert "amber-memory" in registry.names() and not registry.problems
    router = SkillRouter(list(registry.skills.values()), builtin_model(), Bm25Encoder())
    asks = [
        "remember that we chose PostgreSQL over MySQL",
        "store this decision for other agents",
        "what did we decide last week about caching?",
        "Did we already agree on a naming scheme for the Celery queues?",
        "what was our decision on pagination?",
        "have we seen this error before: ECONNRESET in the webhook worker?",
        "FYI for future sessions: the API key rotation happens monthly",
        "Has anyone on the team already decided between Poetry and uv?",
        "Any prior decisions about branch naming conventions?",
        "Tell future agents that the public API is frozen until March",
        "Is there anything stored about why we rejected Flask?",
    ]
    assert [router.route(task).skill for task in asks] == ["amber-memory"] * len(asks)
    others = [
        "fix a memory leak in the Python worker",
        "remember to close the file handles in the CSV parser",
        "record the decision to use arq in the ADR document",
        "profile memory usage of the celery workers",
        "add an in-memory cache for config lookups",
        "make a decision on the ORM before Friday",
        "the previous parser already handles this, port the fix",
    ]
    assert "amber-memory" not in [router.route(task).skill for task in others]


def test_not_for_sentences_push_tasks_away() -> None:
    skill = load_skill(SHIPPED_SKILLS / "amber-memory" / "SKILL.md")
    purpose, against = description_parts(skill.description)
    assert against.startswith("Not for the memory usage, leaks") and "leaks" not in purpose
    testing = load_skill(SHIPPED_SKILLS / "python-testing" / "SKILL.md")
    assert description_parts(testing.description)[1].endswith("use python-patterns.")


def test_threads_of_one_process_save_the_same_vector_file_safely(tmp_path: Path) -> None:
    """The daemon answers agents on threads; two saving skill vectors at once shared one
    temporary file name, and one of them failed with an internal error."""
    import threading

    path, errors = tmp_path / "skill-vectors.npz", []

    def save(worker: int) -> None:
        try:
            for round_ in range(15):
                VectorCache(path, builtin_model()).get([f"text {worker} {round_}"])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(VectorCache(path, builtin_model()).get(["text 0 0"])) == 1
    assert not list(tmp_path.glob("*.tmp"))
