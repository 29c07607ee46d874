"""What the daemon's warm runtime keeps between calls, and what one `auto` computes once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from amber.compose import open_runtime
from amber.embedders.preload import builtin_model
from amber.layout import Filters
from amber.settings import load_settings

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
    runtime = open_runtime(load_settings())
    try:
        counting = CountingEmbedder()
        runtime.embedder = counting
        runtime.memory().ingest([("Postgres schema migrations run with Alembic", {})])
        before = counting.queries
        doc = runtime.auto("how do we migrate the postgres schema", Filters(), 5, None, "")
        assert doc["status"] == "memory_match"
        assert doc["skill"]["name"] == "sql-databases"
        assert counting.queries - before == 1  # cache, memories, feedback and router share it
    finally:
        runtime.close()


def test_router_is_kept_until_a_skill_file_changes(env: Path) -> None:
    runtime = open_runtime(load_settings())
    try:
        first = runtime.router()
        assert runtime.router() is first and runtime.registry() is runtime.registry()
        skill = env / "docker-deploy" / "SKILL.md"
        text = skill.read_text()
        skill.write_text(text.replace("# Docker and deployment", "# Docker, Podman and deployment"))
        changed = runtime.router()
        assert changed is not first
        assert "Podman" in runtime.registry().get("docker-deploy").body
        shutil.rmtree(env / "react-frontend")
        assert "react-frontend" not in runtime.registry().names()
    finally:
        runtime.close()


def test_settings_are_read_again_when_the_environment_changes(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_settings()
    assert load_settings() is first
    monkeypatch.setenv("AMBER_TOP_K", "9")
    changed = load_settings()
    assert changed.top_k == 9 and first.top_k == 5
    with pytest.raises(ValidationError):
        changed.top_k = 3  # frozen: a kept Settings cannot be changed under another call
