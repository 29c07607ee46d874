"""Settings from the environment: AMBER_ names, ecosystem aliases, errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from amber.errors import InvalidInput
from amber.settings import load_settings


@pytest.fixture(autouse=True)
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("AMBER_", "QDRANT_", "OLLAMA_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def test_defaults_and_amber_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plain = load_settings()
    assert plain.home == tmp_path / "data" / "amber"
    assert (plain.budget_tokens, plain.fusion, plain.qdrant_url) == (2000, "adaptive", None)
    monkeypatch.setenv("AMBER_BUDGET_TOKENS", "800")
    monkeypatch.setenv("AMBER_HOME", str(tmp_path / "h"))
    changed = load_settings()
    assert changed.budget_tokens == 800 and changed.home == tmp_path / "h"


def test_ecosystem_names_and_their_amber_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QDRANT_URL", "http://qdrant:6333")
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu:11434")
    monkeypatch.setenv("AMBER_QDRANT_API_KEY", "secret")
    got = load_settings()
    assert (got.qdrant_url, got.ollama_host, got.qdrant_api_key) == (
        "http://qdrant:6333",
        "http://gpu:11434",
        "secret",
    )
    assert "secret" not in repr(got)


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBER_EMBEDDER", "builtin")
    monkeypatch.setenv("AMBER_BUDGET_TOKENS", "700")
    got = load_settings(embedder="auto")
    assert got.embedder == "auto" and got.budget_tokens == 700


@pytest.mark.parametrize(
    ("name", "value"),
    [("AMBER_BUDGET_TOKENS", "many"), ("AMBER_FUSION", "max"), ("AMBER_SHARD_NUMBER", "0")],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert name in caught.value.message
    assert "fix or unset" in (caught.value.hint or "")


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(InvalidInput, match="top_kk"):
        load_settings(top_kk=3)


def test_readme_lists_every_environment_variable() -> None:
    from amber.settings import documented

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name, default, what in documented():
        assert f"| `{name}` | {default} | {what} |" in readme, name
