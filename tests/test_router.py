"""Skill routing on a labelled set of tasks over the real skill and three test skills."""

from __future__ import annotations

from pathlib import Path

import pytest
from routing_set import ROUTES

from amber.embedders.preload import builtin_model
from amber.services.router import Outcome, SkillRouter
from amber.skills import SkillRegistry, default_skill_dirs
from amber.stores.bm25 import Bm25Encoder

TEST_SKILLS = Path(__file__).parent / "skills"


@pytest.fixture(scope="module")
def router() -> SkillRouter:
    registry = SkillRegistry.load([*default_skill_dirs(None, None), TEST_SKILLS])
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
