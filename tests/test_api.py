"""amber's public Python API: the same operations as the CLI and MCP, as methods."""

from __future__ import annotations

from pathlib import Path

import pytest

import amber
from amber.errors import InvalidInput, NotFound
from amber.settings import load_settings


def test_the_api_stores_recalls_and_refuses_like_the_cli(home: Path, tmp_path: Path) -> None:
    settings = load_settings(
        {"AMBER_HOME": str(home), "AMBER_EMBEDDER": "builtin", "OLLAMA_HOST": "http://127.0.0.1:9"}
    )
    api = amber.Amber(settings, cwd=tmp_path)
    stored = api.store("Use arq on Redis for background jobs", type="decision", tags="jobs redis")
    assert stored["status"] == "stored" and stored["schema"] == amber.SCHEMA_VERSION
    found = api.auto("how do we run background jobs")
    assert found["status"] == "memory_match"
    assert found["context_chunks"][0]["id"] == stored["id"]
    assert api.retrieve("arq", mode="bm25")["total_chunks"] == 1
    assert api.get(stored["id"])["memory"]["tags"] == ["jobs", "redis"]
    with pytest.raises(InvalidInput, match="colour"):
        api.store("fine", colour="blue")
    with pytest.raises(InvalidInput, match="empty"):
        api.auto("   ")
    assert api.forget(stored["id"])["count"] == 1
    with pytest.raises(NotFound):
        api.get(stored["id"])
    assert api.health()["ready"] is True
