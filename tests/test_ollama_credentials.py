"""A password in OLLAMA_HOST (`http://user:password@host`, as behind an authenticating proxy) is
never printed: not in errors from the embedder, the chat client or `health`, whatever way the
server fails. Run against tests/fake_ollama.py, a local server speaking Ollama's HTTP API."""

from __future__ import annotations

import pytest
from fake_ollama import FakeOllama

PASSWORD = "Pw-s3cret-77"
TASK = "refactor the payment service into smaller Python modules"


def with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://amber:{PASSWORD}@{rest}"


@pytest.fixture
def fake():
    with FakeOllama(models=["nomic-embed-text:latest", "llama3.2:latest"], dim=768) as server:
        yield server


def outputs(res) -> str:
    return res.stdout + res.stderr


@pytest.mark.parametrize("mode", ["fail", "drop", "missing", "closed"])
def test_no_command_prints_the_password(cli, fake, monkeypatch: pytest.MonkeyPatch, mode) -> None:
    monkeypatch.setenv("AMBER_OLLAMA_TIMEOUT", "1")
    monkeypatch.setenv("AMBER_EMBED_BACKOFF", "0")
    monkeypatch.setenv("OLLAMA_HOST", with_password(fake.url))
    if mode == "closed":
        monkeypatch.setenv("OLLAMA_HOST", f"http://amber:{PASSWORD}@127.0.0.1:9")
    elif mode == "missing":
        fake.models = []
    else:
        fake.mode = mode
    runs = [
        cli("run", "--task", TASK, "--model", "llama3.2"),
        cli("health"),
    ]
    monkeypatch.setenv("AMBER_EMBEDDER", "ollama")
    runs += [
        cli("store", "--content", "Payments retry with exponential backoff"),
        cli("auto", "--query", "payments retry"),
        cli("health"),
    ]
    failed = [res for res in runs if res.code != 0 or "unreachable" in res.stdout]
    assert failed, "the server was meant to fail"
    for res in runs:
        assert PASSWORD not in outputs(res), outputs(res)
    shown = " ".join(outputs(res) for res in failed)
    assert "amber:***@" in shown  # the host is still named, with its user, so it can be fixed
