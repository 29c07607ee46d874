"""Which embedder a store gets, and the one instance per process a pinned store uses."""

from __future__ import annotations

import threading
from typing import Any

from amber.embedders.base import Embedder, EmbedderIdentity
from amber.embedders.breaker import Breaker
from amber.embedders.preload import builtin_model
from amber.errors import BackendUnavailable
from amber.settings import Settings


def _ollama(settings: Settings, model: str | None = None, dim: int | None = None) -> Embedder:
    from amber.embedders.ollama import OllamaEmbedder

    return OllamaEmbedder(
        settings.ollama_host,
        model or settings.ollama_model,
        timeout=settings.ollama_timeout,
        keep_alive=settings.ollama_keep_alive,
        dim=dim,
    )


def choose_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """A new store's embedder: ollama when asked for, or when `auto` finds it serving the model
    and answering an embedding in time (its dimension is learned then)."""
    name = name or settings.embedder
    if name == "builtin":
        return builtin_model(settings.cache_dir)
    if name == "ollama":  # asked for: a known model's dimension needs no server
        from amber.embedders.ollama import known_dim

        return _ollama(settings, dim=known_dim(settings.ollama_model))
    from amber.embedders.ollama import ollama_available

    ok, _reason = ollama_available(settings.ollama_host, settings.ollama_model, 2.0)
    if not ok:
        return builtin_model(settings.cache_dir)
    candidate = _ollama(settings)
    try:
        candidate.identity  # noqa: B018 - one short embedding: does it answer in time?
    except BackendUnavailable:
        return builtin_model(settings.cache_dir)
    return candidate


_pinned: dict[tuple[Any, ...], Embedder] = {}
_pinned_lock = threading.Lock()


def load_pinned(identity: EmbedderIdentity, settings: Settings) -> Embedder:
    """The pinned embedder behind its breaker, one per process for the same server and
    settings: the store's calls and the skill router share it, so a server that times out
    costs one timeout, not one per part of a call."""
    if identity.provider == "builtin":
        return builtin_model(settings.cache_dir)
    key = (
        identity,
        settings.ollama_host,
        settings.ollama_timeout,
        settings.ollama_keep_alive,
        settings.embed_backoff,
    )
    with _pinned_lock:
        found = _pinned.get(key)
        if found is None:
            inner = _ollama(settings, identity.model, identity.dim)
            found = _pinned[key] = Breaker(inner, settings.embed_backoff)
        return found


def guarded(embedder: Embedder, settings: Settings) -> Embedder:
    """Every embedder the runtime uses rests after a failure; a pinned one already does."""
    return embedder if isinstance(embedder, Breaker) else Breaker(embedder, settings.embed_backoff)
