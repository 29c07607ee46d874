"""The one place that builds stores, embedders and services from settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from amber import SCHEMA_VERSION
from amber.embedders.base import Embedder, EmbedderIdentity
from amber.embedders.preload import builtin_model, wants_builtin
from amber.errors import BackendUnavailable, EmbedderMismatch, StoreCorrupt
from amber.layout import Filters
from amber.services.cache import ResponseCache
from amber.services.context import agent_auto, bundle
from amber.services.memory import MemoryService, RetrievalConfig
from amber.services.router import SkillRouter
from amber.settings import Settings
from amber.skills import SkillRegistry, default_skill_dirs, skill_files_stamp
from amber.stores.base import Store
from amber.stores.bm25 import Bm25Encoder


def open_store(settings: Settings) -> Store:
    if settings.qdrant_url:
        from amber.stores.server import ServerStore

        return ServerStore(
            settings.qdrant_url,
            settings.qdrant_api_key,
            timeout=settings.qdrant_timeout,
            shard_number=settings.shard_number,
            replication_factor=settings.replication_factor,
        )
    from amber.stores.edge import EdgeStore

    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.home, 0o700)
    return EdgeStore(settings.home / "edge", settings.lock_timeout)


def _ollama(settings: Settings) -> Embedder:
    from amber.embedders.ollama import OllamaEmbedder

    return OllamaEmbedder(
        settings.ollama_host,
        settings.ollama_model,
        timeout=settings.ollama_timeout,
        keep_alive=settings.ollama_keep_alive,
    )


def choose_embedder(settings: Settings) -> Embedder:
    """A new store's embedder: ollama when asked for, or when `auto` finds it serving the model."""
    if settings.embedder == "builtin":
        return builtin_model(settings.cache_dir)
    if settings.embedder == "ollama":
        return _ollama(settings)
    from amber.embedders.ollama import ollama_available

    ok, _reason = ollama_available(settings.ollama_host, settings.ollama_model, 2.0)
    return _ollama(settings) if ok else builtin_model(settings.cache_dir)


def load_pinned(identity: EmbedderIdentity, settings: Settings) -> Embedder:
    if identity.provider == "builtin":
        embedder = builtin_model(settings.cache_dir)
    else:
        embedder = _ollama(settings.model_copy(update={"ollama_model": identity.model}))
    if embedder.identity.dim != identity.dim:
        raise EmbedderMismatch(
            f"the store is pinned to {identity.model} ({identity.dim}-d) but the model now "
            f"answers {embedder.identity.dim}-d vectors",
            hint="reindex into a new collection: amber reindex --embedder NAME",
        )
    return embedder


@dataclass
class Runtime:
    settings: Settings
    store: Store
    identity: EmbedderIdentity
    embedder: Embedder | None
    embedder_problem: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    _skill_cache: tuple[Any, SkillRegistry, SkillRouter] | None = field(default=None, repr=False)

    def memory(self) -> MemoryService:
        s, slug = self.settings, self.identity.slug()
        cache = ResponseCache(
            self.store, f"cache-{slug}", self.identity.dim, s.cache_threshold, s.cache_ttl_days
        )
        config = RetrievalConfig(
            fusion=s.fusion,
            fusion_depth=s.fusion_depth,
            rrf_k=s.rrf_k,
            weights=(s.dense_weight, s.bm25_weight),
            dense_floor=s.dense_floor,
            bm25_floor=s.bm25_floor,
            max_content_bytes=s.max_content_bytes,
            near_duplicate=s.near_duplicate_threshold,
            invalidate=s.invalidate_threshold,
        )
        return MemoryService(
            self.store,
            f"memories-{slug}",
            self.identity.dim,
            self.embedder,
            self.embedder_problem,
            Bm25Encoder(s.bm25_avg_len),
            cache,
            config,
        )

    def _skills(self) -> tuple[SkillRegistry, SkillRouter]:
        """The registry and its router, rebuilt only when a skill file (or the skill path) changes:
        the daemon answers many calls with one runtime, and a router embeds every skill."""
        dirs = default_skill_dirs(None, self.settings.skills_path)
        stamp = (self.settings.home, self.settings.qdrant_url, skill_files_stamp(dirs))
        if self._skill_cache is None or self._skill_cache[0] != stamp:
            registry = SkillRegistry.load(dirs)
            cache = None
            if not self.settings.qdrant_url:
                cache = self.settings.home / f"skill-vectors-{self.identity.slug()}.npz"
            skills = list(registry.skills.values())
            router = SkillRouter(skills, self.embedder, Bm25Encoder(), cache=cache)
            self._skill_cache = (stamp, registry, router)
        return self._skill_cache[1], self._skill_cache[2]

    def router(self) -> SkillRouter:
        return self._skills()[1]

    def registry(self) -> SkillRegistry:
        return self._skills()[0]

    def auto(
        self, query: str, filters: Filters, top_k: int, budget_tokens: int | None, project: str
    ) -> dict[str, Any]:
        """`auto` for an agent: cache or memories, the routed skill, what was degraded."""
        budget = budget_tokens or self.settings.budget_tokens
        return agent_auto(self.router(), self.memory(), query, filters, top_k, budget, project)

    def route(self, task: str, project: str, top_k: int, budget_tokens: int) -> dict[str, Any]:
        """The routed skill with its instructions and memories as one context (`route`)."""
        memory = self.memory()
        doc = bundle(
            self.router(),
            self.registry(),
            memory,
            task,
            Filters(project=project),
            project,
            top_k,
            min(self.settings.budget_tokens, budget_tokens),
            budget_tokens,
        )
        doc["degraded"] = memory.degraded
        return doc

    def close(self) -> None:
        self.store.close()


def _warm_before_lock(settings: Settings) -> None:
    """Load the builtin model before queueing on the embedded store's lock, so the lock is held
    for the store work alone (a model load under load took seconds, starving other agents)."""
    if wants_builtin(settings.home, settings.qdrant_url, settings.embedder):
        builtin_model(settings.cache_dir)


def open_runtime(settings: Settings, need_embedder: bool = True) -> Runtime:
    if need_embedder:
        _warm_before_lock(settings)
    store = open_store(settings)
    try:
        meta = store.read_meta()
        pinned = meta.get("embedder")
        if pinned is None:
            embedder = choose_embedder(settings)
            meta = {
                "schema": SCHEMA_VERSION,
                "embedder": embedder.identity.as_dict(),
                "created_at": datetime.now(timezone.utc).isoformat(),
            }
            store.write_meta(meta)
            return Runtime(settings, store, embedder.identity, embedder, None, meta)
        try:
            identity = EmbedderIdentity(**pinned)
        except TypeError as exc:
            raise StoreCorrupt(
                f"the store's embedder record is damaged: {pinned!r}",
                hint="restore from `amber export` into a fresh AMBER_HOME",
            ) from exc
        if settings.embedder not in ("auto", identity.provider):
            raise EmbedderMismatch(
                f"AMBER_EMBEDDER={settings.embedder} but this store is pinned to "
                f"{identity.provider} ({identity.model})",
                hint="unset AMBER_EMBEDDER, or reindex: amber reindex --embedder "
                f"{settings.embedder}",
            )
        if not need_embedder:
            return Runtime(settings, store, identity, None, None, meta)
        try:
            return Runtime(settings, store, identity, load_pinned(identity, settings), None, meta)
        except BackendUnavailable as exc:
            return Runtime(settings, store, identity, None, exc.message, meta)
    except BaseException:
        store.close()
        raise


_warm: dict[str, Runtime] = {}
_keep_warm = False


def keep_warm(enabled: bool) -> None:
    """In the daemon, sessions share one open runtime per store instead of reopening it."""
    global _keep_warm
    _keep_warm = enabled
    if not enabled:
        for runtime in _warm.values():
            runtime.close()
        _warm.clear()


def _store_key(settings: Settings) -> str:
    return f"{settings.home}|{settings.qdrant_url}|{settings.qdrant_api_key}|{settings.embedder}"


@contextmanager
def session(settings: Settings, need_embedder: bool = True) -> Iterator[Runtime]:
    """An open runtime that is always closed (and its store lock released) on the way out;
    in the daemon, the warm runtime for this store, with this call's settings."""
    if _keep_warm:
        key = _store_key(settings)
        runtime = _warm.get(key)
        if runtime is None or (need_embedder and runtime.embedder is None):
            keep_warm(False)
            keep_warm(True)
            runtime = _warm[key] = open_runtime(settings, need_embedder=True)
        runtime.settings = settings
        yield runtime
        return
    runtime = open_runtime(settings, need_embedder)
    try:
        yield runtime
    finally:
        runtime.close()


def scratch_memory(settings: Settings, folder: Path) -> tuple[MemoryService, Store]:
    """A memory service on a throwaway embedded store (for `amber eval` and benchmarks)."""
    from amber.stores.edge import EdgeStore

    store = EdgeStore(folder, settings.lock_timeout)
    try:
        embedder = choose_embedder(settings)
        runtime = Runtime(settings, store, embedder.identity, embedder, None)
        return runtime.memory(), store
    except BaseException:
        store.close()
        raise
