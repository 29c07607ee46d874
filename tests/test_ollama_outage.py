"""A store pinned to Ollama, exercised against a local server speaking Ollama's HTTP API.

No real Ollama runs here: tests/fake_ollama.py answers /api/tags and /api/embed and records
what amber sent. Its vectors are hash-derived, so these tests check wiring and outage
behaviour, not retrieval quality.
"""

from __future__ import annotations

import pytest
from fake_ollama import FakeOllama


@pytest.fixture
def fake():
    with FakeOllama(models=["nomic-embed-text:latest"], dim=768) as server:
        yield server


@pytest.fixture
def ollama_cli(cli, fake, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AMBER_EMBEDDER", "ollama")
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    monkeypatch.setenv("AMBER_OLLAMA_TIMEOUT", "1")
    # These tests bring the server back at once; the breaker's rest (30 s) is tested elsewhere.
    monkeypatch.setenv("AMBER_EMBED_BACKOFF", "0")
    return cli


def test_store_pins_ollama_and_sends_nomic_prefixes(ollama_cli, fake) -> None:
    res = ollama_cli(
        "store",
        "--content",
        "Use httpx with explicit timeouts for outbound calls",
        "--tags",
        "http",
    )
    assert res.code == 0, res.stderr
    health = ollama_cli("health").doc
    assert health["embedder"] == {
        "provider": "ollama",
        "model": "nomic-embed-text",
        "dim": 768,
        "prefixes": "nomic:search_document/search_query",
    }
    assert health["ollama"]["reachable"] is True
    sent = [text for body in fake.bodies("/api/embed") for text in body["input"]]
    assert "search_document: Use httpx with explicit timeouts for outbound calls" in sent
    ollama_cli("auto", "--query", "outbound http timeouts")
    sent = [text for body in fake.bodies("/api/embed") for text in body["input"]]
    assert "search_query: outbound http timeouts" in sent


def test_outage_degrades_to_bm25_and_fills_in_later(ollama_cli, fake) -> None:
    assert ollama_cli("store", "--content", "Retry webhooks with exponential backoff").code == 0
    fake.mode = "fail"
    res = ollama_cli("auto", "--query", "webhooks retry backoff")
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["search_type"] == "bm25" and doc["status"] == "memory_match"
    assert doc["degraded"] and doc["degraded"][0]["signal"] == "dense"
    assert fake.url in doc["degraded"][0]["reason"]
    stored = ollama_cli("store", "--content", "Webhook signatures are verified with HMAC SHA256")
    assert stored.code == 0 and stored.doc["pending_embedding"] is True
    found = ollama_cli("auto", "--query", "verify webhook HMAC signatures").doc
    assert stored.doc["id"] in [c["id"] for c in found["context_chunks"]]  # BM25 finds it
    assert ollama_cli("health").doc["counts"]["pending_embedding"] == 1
    res = ollama_cli("reindex", "--pending")
    assert res.code == 3 and "reindex --pending" in res.error["hint"]
    fake.mode = "ok"
    assert ollama_cli("reindex", "--pending").doc == {
        "schema": "amber/1",
        "status": "ok",
        "filled": 1,
        "pending": 0,
    }
    memory = ollama_cli("get", stored.doc["id"]).doc["memory"]
    assert memory["embedding"] == "done"


def test_next_call_fills_pending_vectors(ollama_cli, fake) -> None:
    fake.mode = "ok"
    assert ollama_cli("store", "--content", "first memory pins the store").code == 0
    fake.mode = "fail"
    pending = ollama_cli("store", "--content", "stored while ollama was failing").doc
    assert pending["pending_embedding"] is True
    fake.mode = "ok"
    res = ollama_cli("auto", "--query", "anything at all")
    assert res.code in (0, 1)
    assert ollama_cli("health").doc["counts"]["pending_embedding"] == 0


def test_other_embedder_on_pinned_store_is_refused(ollama_cli, monkeypatch) -> None:
    assert ollama_cli("store", "--content", "pinned to ollama").code == 0
    monkeypatch.setenv("AMBER_EMBEDDER", "builtin")
    res = ollama_cli("auto", "--query", "pinned")
    assert res.code == 2
    assert "pinned to ollama" in res.error["message"] and "reindex" in res.error["hint"]


@pytest.mark.parametrize("outage", ["hang", "missing-model"])
def test_slow_or_missing_model_degrades_with_the_reason(ollama_cli, fake, outage: str) -> None:
    assert ollama_cli("store", "--content", "Queue consumers ack after the write commits").code == 0
    if outage == "hang":
        fake.delay = 3.0  # longer than AMBER_OLLAMA_TIMEOUT=1
        fake.mode = "hang"
    else:
        fake.models = []
    res = ollama_cli("auto", "--query", "when do queue consumers ack")
    assert res.code == 0, res.stderr
    doc = res.doc
    assert doc["search_type"] == "bm25" and doc["status"] == "memory_match"
    reason = doc["degraded"][0]["reason"]
    assert (
        "did not answer within 1 s" in reason
        if outage == "hang"
        else ("nomic-embed-text" in reason)
    )
    stored = ollama_cli("store", "--content", "Consumers retry three times before parking")
    assert stored.code == 0 and stored.doc["pending_embedding"] is True


def test_a_new_store_told_to_use_ollama_keeps_memories_while_it_is_down(ollama_cli, fake) -> None:
    """nomic-embed-text's size is known, so the first store is pinned without the server: the
    memory is kept for BM25, marked pending, and embedded once Ollama answers."""
    fake.mode = "fail"
    stored = ollama_cli("store", "--content", "Invoices are sent on the first of the month")
    assert stored.code == 0, stored.stderr
    assert stored.doc["pending_embedding"] is True
    assert [d["signal"] for d in stored.doc["degraded"]] == ["dense"]
    health = ollama_cli("health").doc  # exit 3 while embeddings are down, the store readable
    assert health["status"] == "degraded" and health["embedder"]["dim"] == 768
    assert health["counts"]["pending_embedding"] == 1
    found = ollama_cli("auto", "--query", "when are invoices sent")
    assert found.code == 0 and found.doc["search_type"] == "bm25"
    fake.mode = "ok"
    later = ollama_cli("auto", "--query", "when are invoices sent")
    assert later.code == 0 and later.doc["filled_pending"] == 1
    assert ollama_cli("health").doc["counts"]["pending_embedding"] == 0


def test_a_new_store_of_a_model_of_unknown_size_needs_the_server(
    ollama_cli, fake, home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMBER_OLLAMA_MODEL", "mxbai-embed-large")
    fake.mode = "fail"
    res = ollama_cli("store", "--content", "cannot pin an embedder whose size is unknown")
    assert res.code == 3
    assert res.error["error"] == "backend_unavailable"
    collections = home / "edge" / "collections"
    assert not collections.exists() or not any(collections.glob("memories-*")), "no store made"
