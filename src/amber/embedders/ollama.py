"""Embedder backed by an Ollama server: batched /api/embed with the nomic task prefixes."""

from __future__ import annotations

import numpy as np

from amber.embedders.base import EmbedderIdentity
from amber.errors import BackendUnavailable, InvalidInput
from amber.ollama_api import OllamaConnection, OllamaFailure, full_name
from amber.text import readable
from amber.urls import mask_url

NOMIC = "nomic-embed-text"
NOMIC_PREFIXES = "nomic:search_document/search_query"
DOCUMENT_PREFIX = "search_document: "
QUERY_PREFIX = "search_query: "
START_HINT = "start it: ollama serve (or docker compose up -d ollama)"
PROBE_TEXT = "amber dimension probe"

# Window sizes, in whitespace-separated words. We send no `num_ctx` option: the nomic model's
# own Modelfile asks for 8192, and Ollama since about 0.9.3 caps that at the 2048 tokens the
# GGUF was trained with (it logs "requested context size too large for model"; ollama/ollama
# issue 11214), so no option can buy more.
# Sending one anyway would make Ollama reload the model whenever another client loaded it
# with different options. 2048 tokens at up to ~2.5 tokens a word (code, paths, identifiers)
# gives 800 words. Other models are assumed to have a 512-token context.
NOMIC_WINDOW_WORDS = 800
OTHER_WINDOW_WORDS = 200


# Dimensions of models whose size does not depend on how they were pulled: a store told to use
# one of them (AMBER_EMBEDDER=ollama) is pinned without asking the server, so a server that is
# down on the first call leaves memories pending (BM25 only) instead of refusing them.
KNOWN_DIMS = {NOMIC: 768}


def known_dim(model: str) -> int | None:
    name, _, tag = full_name(model).rpartition(":")
    return KNOWN_DIMS.get(name) if tag in ("latest", "v1.5") else None


def _short_name(model: str) -> str:
    name, _, tag = full_name(model).rpartition(":")
    return name if tag == "latest" else f"{name}:{tag}"


def _unavailable(
    failure: OllamaFailure, host: str, model: str, timeout: float, window_words: int
) -> BackendUnavailable | InvalidInput:
    """The amber error for a failed request to the server (credentials in the host or in the
    client's message masked)."""
    status, error, host = failure.status, mask_url(failure.detail), mask_url(host)
    if failure.missing_model:
        return BackendUnavailable(
            f"the Ollama server at {host} has no model {model}: {error}",
            hint=f"pull it: ollama pull {model}",
        )
    if failure.kind == "response" and 400 <= status < 500:
        # Typically "the input length exceeds the context length" (we never truncate).
        return InvalidInput(
            f"the Ollama server at {host} rejected the input (HTTP {status}): {error}",
            hint=f"split texts longer than {window_words} words into chunks",
        )
    if failure.kind == "response":
        return BackendUnavailable(
            f"the Ollama server at {host} failed (HTTP {status}): {error}", hint=START_HINT
        )
    if failure.kind == "timeout":
        return BackendUnavailable(
            f"the Ollama server at {host} did not answer within {timeout:g} s",
            hint=f"{START_HINT}; a cold model load can need a longer timeout",
        )
    if failure.kind == "connect":
        return BackendUnavailable(f"cannot connect to Ollama at {host}", hint=START_HINT)
    if failure.kind == "broken":
        return BackendUnavailable(
            f"the connection to Ollama at {host} broke: {error}", hint=START_HINT
        )
    return BackendUnavailable(
        f"the server at {host} sent a response that is not an Ollama embed answer: {error}",
        hint=f"check that {host} is an Ollama server",
    )


def _check_host(host: str) -> str:
    # The ollama client falls back to $OLLAMA_HOST for an empty host; adapters never read the
    # environment, so an empty host is refused here.
    if not host or not host.strip():
        raise InvalidInput("no Ollama host given", hint="set OLLAMA_HOST=http://127.0.0.1:11434")
    return host.strip()


def ollama_available(host: str, model: str = NOMIC, timeout: float = 2.0) -> tuple[bool, str]:
    """Whether the server at `host` answers /api/tags and has `model`; the reason when not."""
    try:
        host = _check_host(host)
    except InvalidInput as exc:
        return False, exc.message
    try:
        with OllamaConnection(host, timeout) as server:
            names = server.models()
    except OllamaFailure as failure:
        error = _unavailable(failure, host, model, timeout, NOMIC_WINDOW_WORDS)
        return False, f"{error.message} ({error.hint})"
    if full_name(model) not in names:
        return False, (
            f"the Ollama server at {mask_url(host)} has no model {model} "
            f"(pull it: ollama pull {model})"
        )
    return True, ""


class OllamaEmbedder:
    """L2-normalised embeddings from an Ollama model; the dimension is learned from the server."""

    def __init__(
        self,
        host: str,
        model: str = NOMIC,
        timeout: float = 10.0,
        keep_alive: str = "30m",
        batch_size: int = 32,
        dim: int | None = None,
    ) -> None:
        """`dim`: the dimension a store pinned (checked on the first answer); None asks the
        server with a short embedding the first time the identity is read."""
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, got {batch_size}")
        if timeout <= 0:
            raise InvalidInput(f"timeout must be positive, got {timeout}")
        self.host = _check_host(host)
        self.shown = mask_url(self.host)  # what errors show: never a credential
        self.model = model
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.batch_size = batch_size
        nomic = model.startswith(NOMIC)
        self._document_prefix = DOCUMENT_PREFIX if nomic else ""
        self._query_prefix = QUERY_PREFIX if nomic else ""
        self._prefixes = NOMIC_PREFIXES if nomic else "none"
        self.window_words = NOMIC_WINDOW_WORDS if nomic else OTHER_WINDOW_WORDS
        self._dim: int | None = dim
        self._server = OllamaConnection(self.host, timeout)

    @property
    def identity(self) -> EmbedderIdentity:
        """Provider, model, dim and prefix scheme; the first access may ask the server the dim."""
        dim = self._dim
        if dim is None:
            dim = self._embed_batch([self._query_prefix + PROBE_TEXT]).shape[1]
        return EmbedderIdentity(
            provider="ollama", model=_short_name(self.model), dim=dim, prefixes=self._prefixes
        )

    def close(self) -> None:
        self._server.close()

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        try:
            rows = self._server.embed(self.model, texts, self.keep_alive)
        except OllamaFailure as failure:
            raise _unavailable(
                failure, self.host, self.model, self.timeout, self.window_words
            ) from failure
        dims = {len(row) for row in rows}
        if len(rows) != len(texts) or len(dims) != 1:
            raise BackendUnavailable(
                f"the Ollama server at {self.shown} returned {len(rows)} vectors of sizes "
                f"{sorted(dims)} for {len(texts)} texts",
                hint=f"check that {self.model} is an embedding model",
            )
        (dim,) = dims
        if dim == 0:
            raise BackendUnavailable(
                f"the Ollama server at {self.shown} returned empty vectors for {self.model}",
                hint=f"check that {self.model} is an embedding model",
            )
        if self._dim is not None and dim != self._dim:
            raise BackendUnavailable(
                f"the Ollama server at {self.shown} returned {dim}-d vectors for {self.model}, "
                f"expected {self._dim}",
                hint="the model changed on the server; reindex the store with the new model",
            )
        vectors = np.asarray(rows, dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise BackendUnavailable(
                f"the Ollama server at {self.shown} returned non-finite values for {self.model}",
                hint=f"re-pull the model: ollama pull {self.model}",
            )
        self._dim = dim
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        batches = [
            self._embed_batch([self._document_prefix + t for t in texts[i : i + self.batch_size]])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(batches).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed_batch([self._query_prefix + text])[0]

    def reads(self, text: str) -> bool:
        return readable(text)
