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


def refusal(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> InvalidInput:
    """What load_settings raises with the variable `name` set to `value`."""
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    return caught.value


@pytest.mark.parametrize(
    ("name", "value"),
    [("AMBER_BUDGET_TOKENS", "many"), ("AMBER_FUSION", "max"), ("AMBER_SHARD_NUMBER", "0")],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    refused = refusal(monkeypatch, name, value)
    assert name in refused.message
    assert "fix or unset" in (refused.hint or "")


@pytest.mark.parametrize("name", ["AMBER_HOME", "AMBER_CACHE_DIR"])
@pytest.mark.parametrize("value", ["", "  "])
def test_a_folder_variable_set_but_empty_is_refused_not_defaulted(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """An empty AMBER_HOME is a mistake (a cleared variable), not a wish for the default."""
    message = refusal(monkeypatch, name, value).message
    assert f"{name}: is set but empty" in message
    assert "unset it" in message and "absolute path" in message


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(InvalidInput, match="top_kk"):
        load_settings(top_kk=3)


def test_readme_lists_every_environment_variable() -> None:
    from amber.settings import documented

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name, default, what in documented():
        assert f"| `{name}` | {default} | {what} |" in readme, name


def test_choices_from_the_environment_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBER_EMBEDDER", "Builtin")
    monkeypatch.setenv("AMBER_FUSION", " RRF ")
    monkeypatch.setenv("AMBER_DAEMON", "OFF")
    got = load_settings()
    assert (got.embedder, got.fusion, got.daemon) == ("builtin", "rrf", "off")
    monkeypatch.setenv("AMBER_FUSION", "Borda")
    with pytest.raises(InvalidInput, match="AMBER_FUSION"):
        load_settings()
