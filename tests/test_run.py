"""`run`: a task answered by a local model through Ollama's streaming chat API.

No real Ollama runs here: tests/fake_ollama.py speaks /api/chat (streaming) and records what
amber sent. Memory uses the builtin embedder; only the chat goes to the fake server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CLOSED_PORT, ROOT, clean_env
from fake_ollama import FakeOllama

import amber.cli.task  # noqa: F401 - registers `run` on the CLI app
from amber.chat import OllamaChat
from amber.cli.task import decision_summary
from amber.errors import BackendUnavailable, InvalidInput

TASK = "design a FastAPI service with background jobs"
CHUNKS = [
    "Use FastAPI ",
    "BackgroundTasks for short jobs ",
    "and arq workers on Redis for long ones.",
    "\n\nKeep job payloads small.",
]
ANSWER = "".join(CHUNKS)
MODEL = "llama3.2"


@pytest.fixture
def fake():
    with FakeOllama(
        models=["nomic-embed-text:latest", "llama3.2:latest"], chat_chunks=list(CHUNKS)
    ) as server:
        yield server


@pytest.fixture
def run_cli(cli, fake, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OLLAMA_HOST", fake.url)  # chat only: memory uses the builtin embedder
    return cli


def test_without_model_prints_the_route_bundle(run_cli, fake) -> None:
    run_cli("store", "--content", "Background jobs use arq workers on Redis", "--tags", "jobs")
    res = run_cli("run", "--task", TASK)
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["skill"]["name"] == "python-patterns"
    assert doc["context"].startswith("# Skill: python-patterns")
    assert "Background jobs use arq workers on Redis" in doc["context"]
    route = run_cli("route", "--task", TASK).doc
    for key in ("task", "skill", "skill_path", "context", "context_tokens"):
        assert doc[key] == route[key]
    assert fake.bodies("/api/chat") == []
    nothing = run_cli("run", "--task", "plan a wedding menu")
    assert nothing.code == 1 and nothing.doc["skill"]["name"] is None


def test_store_without_a_model_is_refused_not_ignored(run_cli, fake) -> None:
    res = run_cli("run", "--task", TASK, "--store")
    assert res.code == 2 and "no model was given" in res.error["message"]
    assert "-m" in res.error["hint"]
    assert run_cli("list").code == 1  # nothing stored, nothing routed to a model
    assert fake.bodies("/api/chat") == []


def test_model_streams_the_answer_and_caches_it(run_cli, fake) -> None:
    res = run_cli("run", "--task", TASK, "--model", MODEL)
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["status"] == "answered" and doc["source"] == "model"
    assert doc["answer"] == ANSWER
    assert doc["skill"]["name"] == "python-patterns" and doc["model"] == MODEL
    assert doc["cached"] is True and doc["stored"] is None
    assert doc["done_reason"] == "stop" and doc["tokens"]["answer"] == len(CHUNKS)
    (body,) = fake.bodies("/api/chat")
    assert body["model"] == MODEL and body["stream"] is True and body["keep_alive"] == "30m"
    system, user = body["messages"]
    assert system["role"] == "system" and system["content"].startswith("# Skill: python-patterns")
    skill_body = run_cli("skills", "show", "python-patterns").doc["body"]
    assert skill_body.splitlines()[0] in system["content"]
    assert user == {"role": "user", "content": TASK}
    auto = run_cli("auto", "--query", TASK).doc
    assert auto["cache_hit"] is True and auto["cached_response"] == ANSWER


def test_no_cache_leaves_the_cache_alone(run_cli, fake) -> None:
    res = run_cli("run", "--task", TASK, "--model", MODEL, "--no-cache")
    assert res.code == 0 and res.doc["cached"] is False
    assert run_cli("auto", "--query", TASK).doc["cache_hit"] is False


def test_store_keeps_the_decision_tagged_with_the_skill(run_cli) -> None:
    res = run_cli("run", "--task", TASK, "--model", MODEL, "--store")
    assert res.code == 0, res.stderr
    stored = res.doc["stored"]
    assert stored
    memory = run_cli("get", stored).doc["memory"]
    assert memory["type"] == "decision"
    assert memory["tags"] == ["python-patterns", "amber-run"]
    assert memory["content"] == f"{TASK}\n{CHUNKS[0]}{CHUNKS[1]}{CHUNKS[2]}"
    # Storing the decision does not invalidate the answer cached in the same run.
    auto = run_cli("auto", "--query", TASK).doc
    assert auto["cache_hit"] is True and auto["cached_response"] == ANSWER


def test_cache_hit_skips_the_model(run_cli, fake) -> None:
    assert run_cli("cache-store", "--query", TASK, "--response", "Use arq.").code == 0
    res = run_cli("run", "--task", TASK, "--model", MODEL)
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["source"] == "cache" and doc["answer"] == "Use arq." and doc["cached"] is False
    assert fake.bodies("/api/chat") == []


def test_dropped_connection_exits_3_and_caches_nothing(run_cli, fake) -> None:
    fake.mode = "drop"
    res = run_cli("run", "--task", TASK, "--model", MODEL, "--store")
    assert res.code == 3
    assert res.stdout == ""
    error = res.error
    assert error["error"] == "backend_unavailable"
    assert f"stopped after {len(CHUNKS[0])} characters" in error["message"]
    fake.mode = "ok"
    assert run_cli("auto", "--query", TASK).doc["cache_hit"] is False
    assert run_cli("list", "--tags", "amber-run").code == 1


def test_missing_model_exits_3_with_pull_hint(run_cli, fake) -> None:
    res = run_cli("run", "--task", TASK, "--model", "mistral")
    assert res.code == 3
    assert "mistral" in res.error["message"]
    assert "ollama pull mistral" in res.error["hint"]
    assert run_cli("auto", "--query", TASK).doc["cache_hit"] is False


def test_server_failure_and_no_server_exit_3_with_start_hint(run_cli, fake, monkeypatch) -> None:
    fake.mode = "fail"
    res = run_cli("run", "--task", TASK, "--model", MODEL)
    assert res.code == 3 and "HTTP 500" in res.error["message"]
    assert "ollama serve" in res.error["hint"]
    monkeypatch.setenv("OLLAMA_HOST", CLOSED_PORT)
    res = run_cli("run", "--task", TASK, "--model", MODEL)
    assert res.code == 3 and "cannot connect" in res.error["message"]
    assert "ollama serve" in res.error["hint"]


def test_terminal_sees_the_answer_as_it_streams(run_cli, monkeypatch) -> None:
    monkeypatch.setattr("amber.cli.task.wants_json", lambda flag: flag)  # as on a terminal
    res = run_cli("run", "--task", TASK, "--model", MODEL)
    assert res.code == 0, res.stderr
    assert res.stdout.startswith(ANSWER + "\n")
    assert "source: model · model: llama3.2 · skill: python-patterns · cached: yes" in res.stdout


def test_adapter_streams_pieces_and_reports_a_broken_stream(fake) -> None:
    messages = [{"role": "user", "content": "hi"}]
    with OllamaChat(fake.url, timeout=5) as chat:
        assert list(chat.stream("llama3.2:latest", messages)) == CHUNKS
        assert chat.stats["done_reason"] == "stop"
        fake.mode = "drop"
        got: list[str] = []
        with pytest.raises(BackendUnavailable, match="stopped after 12 characters"):
            got.extend(chat.stream(MODEL, messages))
        assert got == [CHUNKS[0]]
        with pytest.raises(InvalidInput):
            list(chat.stream("  ", messages))
    with pytest.raises(InvalidInput):
        OllamaChat("", timeout=5)


def test_decision_summary_takes_the_first_prose_paragraph() -> None:
    assert decision_summary("t", "## Plan\n\nDo X.\n\nThen Y.") == "t\nDo X."
    long = decision_summary("t", "word " * 600)
    assert len(long) <= 1010 and long.endswith(" …")


def test_orchestrator_run_from_another_folder(home: Path, tmp_path: Path, fake) -> None:
    env = {**clean_env(home), "OLLAMA_HOST": fake.url}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "execution" / "orchestrator.py"),
            "run",
            "--task",
            TASK,
            "--model",
            MODEL,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "answered" and doc["answer"] == ANSWER
    assert doc["skill"]["name"] == "python-patterns" and doc["cached"] is True
    assert len(fake.bodies("/api/chat")) == 1
