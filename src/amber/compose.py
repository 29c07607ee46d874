"""The one place that builds stores, embedders and services from settings.

A `Runtime` is an open store with its pinned embedder. `FreshRuntimes` opens one per call and
closes it after (a CLI process); `WarmRuntime` keeps one open for the daemon's whole life and
hands it to every call for the same store, each call with its own settings.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from amber import SCHEMA_VERSION
from amber.embedders.base import Embedder, EmbedderIdentity
from amber.embedders.choice import choose_embedder, guarded, load_pinned
from amber.embedders.preload import builtin_model, wants_builtin
from amber.errors import (
    BackendUnavailable,
    EmbedderMismatch,
    InvalidInput,
    StoreCorrupt,
)
from amber.services.cache import ResponseCache
from amber.services.memory import MemoryService
from amber.services.route_counts import RouteCounter
from amber.services.router import SkillRouter
from amber.services.search import RetrievalConfig
from amber.settings import Settings
from amber.skills import SkillRegistry, default_skill_dirs, skill_files_stamp
from amber.stores import meta
from amber.stores.base import Store
from amber.stores.bm25 import Bm25Encoder


def open_store(settings: Settings, holder: str = "process") -> Store:
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

    prepare_home(settings.home)
    return EdgeStore(settings.home / "edge", settings.lock_timeout, holder)


def prepare_home(home: Path) -> None:
    """The data folder, created private (0700); one that cannot be is a clear exit 3."""
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(home, 0o700)
        # A probe of its own: concurrent callers (the daemon's request threads, other
        # processes) sharing one name would delete each other's.
        fd, probe = tempfile.mkstemp(prefix=".writable-", dir=home)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise BackendUnavailable(
            f"the data folder {home} cannot be used: {exc.strerror or exc}",
            hint="set AMBER_HOME to a folder you can write (default ~/.local/share/amber)",
        ) from exc


def retrieval_config(s: Settings) -> RetrievalConfig:
    return RetrievalConfig(
        fusion=s.fusion,
        fusion_depth=s.fusion_depth,
        rrf_k=s.rrf_k,
        weights=(s.dense_weight, s.bm25_weight),
        dense_floor=s.dense_floor,
        bm25_floor=s.bm25_floor,
        max_content_bytes=s.max_content_bytes,
        near_duplicate=s.near_duplicate_threshold,
        invalidate=s.invalidate_threshold,
        hubness=s.hubness,
        feedback=s.feedback,
        query_dates=s.query_dates,
        recency=s.recency,
        recency_half_life_days=s.recency_half_life_days,
    )


class SkillIndex:
    """Registries and their routers by skill folders and embedder, rebuilt only when a
    SKILL.md changes. A router's vectors are computed here, before any store is opened or
    while none of its locks is held, and cached by content beside the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[Any, tuple[Any, SkillRegistry, SkillRouter]] = {}

    def get(
        self,
        settings: Settings,
        project_root: Path | None,
        embedder: Embedder | None,
        slug: str,
    ) -> tuple[SkillRegistry, SkillRouter]:
        prepare_home(settings.home)  # the skill vectors are cached there
        dirs = default_skill_dirs(project_root, settings.skills_path, Path.home())
        stamp = skill_files_stamp(dirs)
        key = (tuple(dirs), slug, embedder is not None)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1], cached[2]
            registry = SkillRegistry.load(dirs)
            vectors = settings.home / f"skill-vectors-{slug}.npz"
            router = SkillRouter(
                list(registry.skills.values()), embedder, Bm25Encoder(), cache=vectors
            )
            router.prepare()
            self._cache[key] = (stamp, registry, router)
            return registry, router


SKILLS = SkillIndex()


@dataclass
class Runtime:
    """An open store, its pinned embedder (behind a breaker) and the services built on them."""

    settings: Settings  # what the store was opened with: home, server, embedder
    store: Store
    identity: EmbedderIdentity
    embedder: Embedder | None
    embedder_problem: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _routes: dict[Path, RouteCounter] = field(default_factory=dict, repr=False)

    def embedder_for(self, settings: Settings) -> Embedder | None:
        """The pinned embedder as this call reaches it: an Ollama-pinned store served by a
        daemon embeds through the OLLAMA_HOST (and timeouts) each call names, so an agent that
        fixes the variable is not held to the host the daemon started with."""
        if self.identity.provider != "ollama" or settings is self.settings:
            return self.embedder
        return guarded(load_pinned(self.identity, settings), settings)

    def memory(self, settings: Settings | None = None) -> MemoryService:
        """The memory service for one call, with that call's settings."""
        s = settings or self.settings
        embedder = self.embedder_for(s)
        problem = self.embedder_problem if embedder is self.embedder else None
        slug = self.identity.slug()
        cache = ResponseCache(
            self.store, f"cache-{slug}", self.identity.dim, s.cache_threshold, s.cache_ttl_days
        )
        return MemoryService(
            self.store,
            f"memories-{slug}",
            self.identity.dim,
            embedder,
            problem,
            Bm25Encoder(s.bm25_avg_len),
            cache,
            retrieval_config(s),
            self.write_lock,
        )

    def skills(
        self, settings: Settings, project_root: Path | None
    ) -> tuple[SkillRegistry, SkillRouter]:
        return SKILLS.get(settings, project_root, self.embedder_for(settings), self.identity.slug())

    def routes(self, settings: Settings) -> RouteCounter:
        """The skill-route counter beside the store, one per runtime (`flush` writes it)."""
        path = settings.home / "skill-routes.json"
        return self._routes.setdefault(path, RouteCounter(path))

    def flush(self) -> None:
        """Write what was counted in memory (the daemon calls this after each answer)."""
        for counter in list(self._routes.values()):
            counter.flush()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.store.close()


def _warm_before_lock(settings: Settings) -> None:
    """Load the builtin model before queueing on the embedded store's lock, so the lock is held
    for the store work alone (a model load under load took seconds, starving other agents)."""
    if wants_builtin(settings.home, settings.qdrant_url, settings.embedder):
        builtin_model(settings.cache_dir)


def open_runtime(
    settings: Settings, need_embedder: bool = True, holder: str = "process"
) -> Runtime:
    """The store opened with its pinned embedder; `holder` "daemon" marks the store's owner,
    so a call that opens it on its own is refused at once instead of waiting for the lock."""
    if need_embedder:
        _warm_before_lock(settings)
    store = open_store(settings, holder)
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
            resting = guarded(embedder, settings)
            return Runtime(settings, store, embedder.identity, resting, None, meta)
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
            embedder = guarded(load_pinned(identity, settings), settings)
        except BackendUnavailable as exc:
            return Runtime(settings, store, identity, None, exc.message, meta)
        return Runtime(settings, store, identity, embedder, None, meta)
    except BaseException:
        store.close()
        raise


class Runtimes(Protocol):
    """Where a call gets its runtime: opened for it, or the daemon's warm one."""

    def use(self, settings: Settings, need_embedder: bool = True) -> Any: ...
    def skills(
        self, settings: Settings, project_root: Path | None
    ) -> tuple[SkillRegistry, SkillRouter]: ...
    def refresh(self) -> None: ...


def unlocked_embedder(settings: Settings) -> tuple[Embedder | None, str]:
    """The embedder a store is pinned to (or would be given), found without its lock; None
    (and the routing is lexical) when that embedder cannot be reached."""
    pinned = {} if settings.qdrant_url else meta.peek(settings.home / "edge").get("embedder")
    try:
        if pinned:
            identity = EmbedderIdentity(**pinned)
            return guarded(load_pinned(identity, settings), settings), identity.slug()
        embedder = choose_embedder(settings)
    except (BackendUnavailable, TypeError):
        return None, "lexical"
    return guarded(embedder, settings), embedder.identity.slug()


class FreshRuntimes:
    """A runtime opened for each call and closed after it (the store lock released)."""

    @contextmanager
    def use(self, settings: Settings, need_embedder: bool = True) -> Iterator[Runtime]:
        runtime = open_runtime(settings, need_embedder)
        try:
            yield runtime
        finally:
            runtime.close()

    def refresh(self) -> None:
        """Nothing is kept between calls."""

    def skills(
        self, settings: Settings, project_root: Path | None
    ) -> tuple[SkillRegistry, SkillRouter]:
        """The router for the store's pinned embedder, built before the store is opened (its
        lock is never held while skills are embedded)."""
        embedder, slug = unlocked_embedder(settings)
        return SKILLS.get(settings, project_root, embedder, slug)


def store_identity(settings: Settings) -> tuple[Any, ...]:
    """What decides which store a call reaches: calls that differ here need another daemon.
    AMBER_EMBEDDER is not part of it: it only chooses a new store's embedder, and against a
    pinned store it is checked per call (`WarmRuntime.use`)."""
    return (settings.home, settings.qdrant_url, settings.qdrant_api_key)


class WarmRuntime:
    """The daemon's one open runtime: every call for its store shares it, with its own
    settings; writes are serialized by the runtime's write lock."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.runtime = open_runtime(settings, need_embedder=True, holder="daemon")
        self._identity = store_identity(settings)

    def skills(
        self, settings: Settings, project_root: Path | None
    ) -> tuple[SkillRegistry, SkillRouter]:
        return self.runtime.skills(settings, project_root)

    def refresh(self) -> None:
        """Reopen the store (after a reindex changed the pinned embedder)."""
        with self.runtime.write_lock:
            self.runtime.close()
            self.runtime = open_runtime(self._settings, need_embedder=True, holder="daemon")

    @contextmanager
    def use(self, settings: Settings, need_embedder: bool = True) -> Iterator[Runtime]:
        pinned = self.runtime.identity.provider
        if settings.embedder not in ("auto", pinned):
            raise EmbedderMismatch(
                f"AMBER_EMBEDDER={settings.embedder} but this store is pinned to {pinned} "
                f"({self.runtime.identity.model})",
                hint="unset AMBER_EMBEDDER, or reindex: amber reindex --embedder "
                f"{settings.embedder}",
            )
        if store_identity(settings) != self._identity:
            raise InvalidInput(
                "this call names another store than the daemon serves (AMBER_HOME, QDRANT_URL "
                "or QDRANT_API_KEY differ)",
                hint="run it with AMBER_DAEMON=off, or stop the daemon: amber serve --stop",
            )
        yield self.runtime

    def flush(self) -> None:
        self.runtime.flush()

    def close(self) -> None:
        self.runtime.close()


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
