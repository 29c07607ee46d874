"""The Ollama embedder against a local fake server that records what the client sent."""

from __future__ import annotations

import json
import socket

import httpx
import numpy as np
import pytest
from fake_ollama import FakeOllama, fake_vector

from amber.embedders.ollama import OllamaEmbedder, ollama_available
from amber.errors import BackendUnavailable, InvalidInput


def _normalised(vector: list[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / np.linalg.norm(array)


@pytest.fixture
def fake():
    with FakeOllama(models=["nomic-embed-text:latest", "all-minilm:l6-v2"]) as server:
        yield server


@pytest.fixture
def closed_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_documents_carry_the_document_prefix_and_never_truncate(fake):
    embedder = OllamaEmbedder(fake.url)
    embedder.embed_documents(["alpha", "beta"])
    (body,) = fake.bodies("/api/embed")
    assert body["input"] == ["search_document: alpha", "search_document: beta"]
    assert body["truncate"] is False
    assert body["model"] == "nomic-embed-text"
    assert body["keep_alive"] == "30m"
    assert "options" not in body  # no num_ctx: the model's own context is used


def test_query_carries_the_query_prefix(fake):
    embedder = OllamaEmbedder(fake.url)
    vector = embedder.embed_query("how do I rotate keys")
    (body,) = fake.bodies("/api/embed")
    assert body["input"] == ["search_query: how do I rotate keys"]
    assert body["truncate"] is False
    expected = _normalised(fake_vector("search_query: how do I rotate keys", 768))
    np.testing.assert_allclose(vector, expected, rtol=1e-5, atol=1e-6)


def test_other_models_get_no_prefix(fake):
    embedder = OllamaEmbedder(fake.url, model="all-minilm:l6-v2")
    embedder.embed_documents(["alpha"])
    embedder.embed_query("beta")
    assert [b["input"] for b in fake.bodies("/api/embed")] == [["alpha"], ["beta"]]
    identity = embedder.identity
    assert identity.prefixes == "none"
    assert identity.model == "all-minilm:l6-v2"
    assert embedder.window_words < OllamaEmbedder(fake.url).window_words


def test_documents_are_batched_and_keep_their_order(fake):
    texts = [f"memory number {i}" for i in range(70)]
    embedder = OllamaEmbedder(fake.url, batch_size=32)
    vectors = embedder.embed_documents(texts)
    bodies = fake.bodies("/api/embed")
    assert [len(b["input"]) for b in bodies] == [32, 32, 6]
    sent = [text for body in bodies for text in body["input"]]
    assert sent == [f"search_document: {t}" for t in texts]
    expected = np.stack([_normalised(fake_vector(f"search_document: {t}", 768)) for t in texts])
    np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-6)


def test_vectors_are_float32_unit_rows_of_the_learned_dim():
    with FakeOllama(dim=12) as fake:
        embedder = OllamaEmbedder(fake.url)
        vectors = embedder.embed_documents(["one", "two", "three"])
        assert vectors.dtype == np.float32
        assert vectors.shape == (3, 12)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
        query = embedder.embed_query("one")
        assert query.shape == (12,)
        assert query.dtype == np.float32
        assert np.linalg.norm(query) == pytest.approx(1.0, rel=1e-5)


def test_identity_carries_the_learned_dim_and_the_prefix_scheme():
    with FakeOllama(dim=24) as fake:
        embedder = OllamaEmbedder(fake.url, model="nomic-embed-text:latest")
        identity = embedder.identity
        assert len(fake.bodies("/api/embed")) == 1  # learned with one probe request
        assert identity.provider == "ollama"
        assert identity.model == "nomic-embed-text"
        assert identity.dim == 24
        assert identity.prefixes == "nomic:search_document/search_query"
        assert embedder.identity == identity
        assert len(fake.bodies("/api/embed")) == 1  # and only once


def test_identity_learns_the_dim_with_one_request_or_takes_the_pinned_one():
    with FakeOllama(dim=16) as fake:
        embedder = OllamaEmbedder(fake.url, timeout=2.0)
        assert embedder.identity.dim == 16
        assert len(fake.bodies("/api/embed")) == 1
        assert embedder.embed_documents([]).shape == (0, 16)
        pinned = OllamaEmbedder(fake.url, timeout=2.0, dim=16)
        assert pinned.identity.dim == 16
        assert len(fake.bodies("/api/embed")) == 1, "a pinned dimension needs no request"


def test_available_when_the_model_is_listed_with_its_latest_tag(fake):
    assert ollama_available(fake.url, "nomic-embed-text", 2.0) == (True, "")
    assert ollama_available(fake.url, "nomic-embed-text:latest", 2.0) == (True, "")
    assert fake.requests[0].method == "GET"
    assert fake.requests[0].path == "/api/tags"


def test_unavailable_when_the_model_is_missing(fake):
    ok, reason = ollama_available(fake.url, "mxbai-embed-large", 2.0)
    assert ok is False
    assert "mxbai-embed-large" in reason
    assert "ollama pull mxbai-embed-large" in reason
    # A different tag of a listed model is a different model.
    ok, reason = ollama_available(fake.url, "nomic-embed-text:v1.5", 2.0)
    assert ok is False
    assert "ollama pull nomic-embed-text:v1.5" in reason


def test_unavailable_on_a_closed_port(closed_url):
    ok, reason = ollama_available(closed_url, "nomic-embed-text", 1.0)
    assert ok is False
    assert closed_url in reason
    assert "ollama serve" in reason


def test_unavailable_when_the_server_fails():
    with FakeOllama(mode="fail") as fake:
        ok, reason = ollama_available(fake.url, "nomic-embed-text", 1.0)
    assert ok is False
    assert "500" in reason


def test_missing_model_raises_with_a_pull_hint(fake):
    embedder = OllamaEmbedder(fake.url, model="mxbai-embed-large")
    with pytest.raises(BackendUnavailable) as caught:
        embedder.embed_documents(["alpha"])
    assert "ollama pull mxbai-embed-large" in caught.value.hint
    assert fake.url in caught.value.message
    assert caught.value.exit_code == 3


def test_a_hanging_server_raises_instead_of_waiting():
    with FakeOllama(mode="hang", delay=3.0) as fake:
        embedder = OllamaEmbedder(fake.url, timeout=0.5)
        with pytest.raises(BackendUnavailable) as caught:
            embedder.embed_query("anything")
        failure = caught.value.__cause__  # the adapter's reading, then the client's error
        assert failure.kind == "timeout"
        assert isinstance(failure.__cause__, httpx.TimeoutException)
        assert "0.5" in caught.value.message
        assert "ollama serve" in caught.value.hint


def test_a_server_error_raises_backend_unavailable():
    with FakeOllama(mode="fail") as fake:
        embedder = OllamaEmbedder(fake.url)
        with pytest.raises(BackendUnavailable) as caught:
            embedder.embed_documents(["alpha"])
        assert "500" in caught.value.message
        assert "ollama serve" in caught.value.hint


def test_a_closed_port_raises_backend_unavailable(closed_url):
    embedder = OllamaEmbedder(closed_url, timeout=1.0)
    with pytest.raises(BackendUnavailable) as caught:
        embedder.embed_query("anything")
    assert closed_url in caught.value.message
    assert "docker compose up -d ollama" in caught.value.hint
    with pytest.raises(BackendUnavailable):
        embedder.identity  # noqa: B018 - learning the dim needs the server too


def test_an_over_long_input_is_refused_not_truncated():
    with FakeOllama(max_input_chars=100) as fake:
        embedder = OllamaEmbedder(fake.url)
        with pytest.raises(InvalidInput) as caught:
            embedder.embed_documents(["word " * 50])
        assert "context length" in caught.value.message
        assert str(embedder.window_words) in caught.value.hint


def test_a_wrong_vector_count_raises(fake, monkeypatch):
    embedder = OllamaEmbedder(fake.url)
    real_embed = embedder._server.embed

    def short_answer(model: str, texts: list[str], keep_alive: str) -> list[list[float]]:
        return real_embed(model, texts, keep_alive)[:-1]

    monkeypatch.setattr(embedder._server, "embed", short_answer)
    with pytest.raises(BackendUnavailable, match="1 vectors .* for 2 texts"):
        embedder.embed_documents(["alpha", "beta"])


def test_a_changed_dimension_raises():
    with FakeOllama(dim=8) as fake:
        embedder = OllamaEmbedder(fake.url)
        assert embedder.identity.dim == 8
        fake.dim = 9
        with pytest.raises(BackendUnavailable, match="9-d vectors .* expected 8"):
            embedder.embed_query("alpha")


def test_an_empty_host_is_refused_rather_than_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:1")
    with pytest.raises(InvalidInput):
        OllamaEmbedder("")
    assert ollama_available("  ", "nomic-embed-text", 1.0)[0] is False


def test_fake_chat_streams_ndjson_and_can_drop_midway():
    with FakeOllama(chat_chunks=["a", "b", "c"]) as fake:
        request = {"model": "nomic-embed-text", "messages": [{"role": "user", "content": "hi"}]}
        with httpx.Client(base_url=fake.url, timeout=2.0) as client:
            lines = client.post("/api/chat", json=request).text.splitlines()
            parts = [json.loads(line) for line in lines]
            assert [p["message"]["content"] for p in parts] == ["a", "b", "c", ""]
            assert [p["done"] for p in parts] == [False, False, False, True]
            missing = client.post("/api/chat", json={**request, "model": "llama3"})
            assert missing.status_code == 404
            assert "not found" in missing.json()["error"]
            fake.mode = "drop"
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("/api/chat", json=request)
        assert len(fake.bodies("/api/chat")) == 3
