"""What the daemon's warm runtime keeps between calls, and what one `auto` computes once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from amber.compose import WarmRuntime
from amber.embedders.preload import builtin_model
from amber.settings import load_settings
from amber.usecases import Context, call

TEST_SKILLS = Path(__file__).parent / "skills"


class CountingEmbedder:
    """The real builtin model, counting the queries it embeds."""

    def __init__(self) -> None:
        self.inner = builtin_model()
        self.identity = self.inner.identity
        self.queries = 0

    def embed_query(self, text: str) -> np.ndarray:
        self.queries += 1
        return self.inner.embed_query(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
def env(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    skills = tmp_path / "skills"
    shutil.copytree(TEST_SKILLS, skills)
    for key, value in {
        "AMBER_HOME": str(home),
        "AMBER_EMBEDDER": "builtin",
        "AMBER_SKILLS_PATH": str(skills),
        "OLLAMA_HOST": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(key, value)
    return skills


def test_one_auto_embeds_the_task_once(env: Path) -> None:
    warm = WarmRuntime(load_settings())
    try:
        counting = CountingEmbedder()
        warm.runtime.embedder = counting
        warm.runtime.memory().ingest([("Postgres schema migrations run with Alembic", {})])
        before = counting.queries
        ctx = Context(load_settings(), env.parent, warm)
        doc = call(ctx, "auto", {"query": "how do we migrate the postgres schema"})
        assert doc["status"] == "memory_match"
        assert doc["skill"]["name"] == "sql-databases" and "sections" in doc["skill"]
        # cache, memories, feedback, router and section ranking share one embedding
        assert counting.queries - before == 1
        assert set(doc["timing_ms"]) >= {"embed", "search", "route", "fill_pending", "total"}
    finally:
        warm.close()


def test_router_is_kept_until_a_skill_file_changes(env: Path) -> None:
    warm = WarmRuntime(load_settings())
    try:
        settings = load_settings()
        registry, first = warm.skills(settings, None)
        assert warm.skills(settings, None) == (registry, first)
        skill = env / "docker-deploy" / "SKILL.md"
        text = skill.read_text()
        skill.write_text(text.replace("# Docker and deployment", "# Docker, Podman and deployment"))
        registry, changed = warm.skills(settings, None)
        assert changed is not first
        assert "Podman" in registry.get("docker-deploy").body
        shutil.rmtree(env / "react-frontend")
        assert "react-frontend" not in warm.skills(settings, None)[0].names()
    finally:
        warm.close()


def test_settings_are_read_again_when_the_environment_changes(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_settings()
    assert load_settings() is first
    monkeypatch.setenv("AMBER_BUDGET_TOKENS", "900")
    changed = load_settings()
    assert changed.budget_tokens == 900 and first.budget_tokens == 2000
    with pytest.raises(ValidationError):
        changed.budget_tokens = 3  # frozen: a kept Settings cannot be changed under another call
