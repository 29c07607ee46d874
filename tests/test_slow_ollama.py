"""A slow Ollama degrades a call within one timeout; it is never fatal and never queues calls.

The stand-in (tests/fake_ollama.py) answers /api/tags at once but holds every embedding past
amber's timeout ("slow" mode): the probe says the model is there, the embeddings never come.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT, clean_env, running_daemon
from fake_ollama import FakeOllama

SHIM = ROOT / "execution" / "memory_manager.py"
TIMEOUT = 1.0
MARGIN = 1.0


@pytest.fixture
def fake():
    with FakeOllama(models=["nomic-embed-text:latest"], dim=768, delay=30.0) as server:
        yield server


def pinned_env(home: Path, fake: FakeOllama) -> dict:
    env = dict(clean_env(home), AMBER_EMBEDDER="ollama", OLLAMA_HOST=fake.url)
    env["AMBER_OLLAMA_TIMEOUT"] = str(TIMEOUT)
    return env


def shim(env: dict, cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SHIM), *args], cwd=cwd, env=env, capture_output=True, timeout=120
    )
    return proc, time.monotonic() - started


def seed(env: dict, cwd: Path) -> None:
    for text in ("Retries use exponential backoff with jitter", "Payments go through Stripe"):
        res, _ = shim(env, cwd, "store", "--content", text, "--tags", "ops")
        assert res.returncode == 0, res.stderr


def test_auto_answers_from_bm25_within_the_timeout_in_process(
    home: Path, tmp_path: Path, fake: FakeOllama
) -> None:
    env = pinned_env(home, fake)
    seed(env, tmp_path)
    warm, _ = shim(env, tmp_path, "auto", "--query", "how do retries back off")  # model loaded
    assert warm.returncode == 0
    fake.mode = "slow"
    for query in ("how do retries back off", "do payments go through stripe"):
        res, took = shim(env, tmp_path, "auto", "--query", query)
        doc = json.loads(res.stdout)
        assert res.returncode == 0 and doc["search_type"] == "bm25"
        assert [d["signal"] for d in doc["degraded"]].count("dense") == 1, doc["degraded"]
        # the whole process: interpreter, imports, one embedding timeout, the BM25 answer
        assert doc["timing_ms"]["total"] < (TIMEOUT + MARGIN) * 1000, doc["timing_ms"]
    stored, _ = shim(env, tmp_path, "store", "--content", "Invoices are sent on the 1st")
    assert stored.returncode == 0 and json.loads(stored.stdout)["pending_embedding"] is True


def test_four_concurrent_callers_through_the_daemon_do_not_queue(
    home: Path, tmp_path: Path, fake: FakeOllama
) -> None:
    env = pinned_env(home, fake)
    seed(env, tmp_path)
    with running_daemon(home, env=env) as (_proc, daemon_env, _path):
        fake.mode = "slow"
        queries = [f"do retries use exponential backoff {n}" for n in range(4)]
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(lambda q: shim(daemon_env, tmp_path, "auto", "--query", q), queries)
            )
        for res, _took in results:
            assert res.stdout, res.stderr
            doc = json.loads(res.stdout)
            assert res.returncode == 0 and doc["search_type"] == "bm25", res.stderr
            assert doc["timing_ms"]["total"] < (TIMEOUT + MARGIN) * 1000, doc["timing_ms"]
        # the breaker is open now: the next call does not wait for Ollama at all
        res, _ = shim(daemon_env, tmp_path, "auto", "--query", "do payments go through stripe")
        doc = json.loads(res.stdout)
        assert res.returncode == 0 and doc["timing_ms"]["total"] < TIMEOUT * 1000
        assert "not retried" in json.dumps(doc["degraded"])
