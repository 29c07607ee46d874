"""Moving a store to another embedder: every memory re-embedded into a new collection, switched
to only when the copy is complete (`amber reindex --embedder NAME`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from amber import text as textops
from amber.embedders.base import Embedder, EmbedderIdentity
from amber.errors import AmberError, BackendUnavailable, InvalidInput
from amber.services.memory import MemoryService, document_vectors
from amber.services.transfer import BATCH, Advance, Meter, iter_memories, memory_ids
from amber.stores.base import Store, Where


def _drop(store: Store, names: list[str]) -> None:
    for name in names:
        if store.exists(name):
            store.drop(name)


def _copy(
    source: MemoryService,
    target: MemoryService,
    embedder: Embedder,
    ids: list[str],
    batch: int,
    advance: Advance | None,
) -> int:
    """Every memory re-embedded by `embedder` into `target`; any embedder failure propagates."""
    copied = 0
    embedded: dict[str, list[list[float]]] = {}
    for start in range(0, len(ids), batch):
        items = list(iter_memories(source, ids[start : start + batch]))
        chunk_lists = [textops.chunk_words(m.content, *target.window()) for m in items]
        flat = [c for chunks in chunk_lists for c in chunks]
        vectors = document_vectors(embedder, flat).tolist() if flat else []
        offset = 0
        for item, chunks in zip(items, chunk_lists, strict=True):
            own = vectors[offset : offset + len(chunks)]
            offset += len(chunks)
            target.write(item.model_copy(update={"embedding": "done"}), chunks, own)
            embedded[item.id] = own
        copied += len(items)
        if advance:
            advance(len(items))
    target.record_densities(embedded, alone=True)  # the new collection holds these alone
    return copied


Destination = Callable[[EmbedderIdentity, Embedder], MemoryService]


def reindex(
    source: MemoryService,
    store: Store,
    meta: dict[str, Any],
    old: EmbedderIdentity,
    embedder: Embedder,
    destination: Destination,
    meter: Meter | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    """Copy every memory (history included) into a new collection embedded by `embedder`,
    then, only when the copy is complete, pin it in the store meta and drop the old
    collections. A failure on the way drops the half-built collection and leaves the old pin
    untouched. `destination` builds the memory service of the new collection."""
    new = embedder.identity  # ollama asks the server here; if it fails, nothing was touched
    if new == old:
        raise InvalidInput(
            f"the store is already pinned to {new.provider} ({new.model}, {new.dim}-d)",
            hint="nothing to do; `amber health` shows the pinned embedder",
        )
    if new.slug() == old.slug():
        raise InvalidInput(
            f"{new.provider} ({new.model}) changed its prefix scheme but would reuse the "
            f"collection {old.slug()}",
            hint="export, then import into a fresh AMBER_HOME",
        )
    ids = memory_ids(source, Where())
    fresh = [f"memories-{new.slug()}", f"cache-{new.slug()}"]
    _drop(store, fresh)  # leftovers of an interrupted reindex: never pinned, never read
    try:
        target = destination(new, embedder)
        copied = _copy(source, target, embedder, ids, batch, meter(len(ids)) if meter else None)
        first = Where(equals={"chunk": 0})
        counts = (store.count(source.collection, first), store.count(target.collection, first))
        if counts != (len(ids), len(ids)):
            raise BackendUnavailable(
                f"the store changed during the reindex (listed {len(ids)} memories, now "
                f"{counts[0]}, copied {counts[1]}); the old embedder stays pinned",
                hint="run `amber reindex --embedder` again while no agent is writing",
            )
        meta = {
            **meta,
            "embedder": new.as_dict(),
            "previous_embedder": old.as_dict(),
            "reindexed_at": datetime.now(timezone.utc).isoformat(),
        }
        store.write_meta(meta)
    except BaseException:
        _drop(store, fresh)
        raise
    doc: dict[str, Any] = {
        "status": "reindexed",
        "from": old.as_dict(),
        "to": new.as_dict(),
        "memories": copied,
        "collection": target.collection,
    }
    try:
        _drop(store, [source.collection, source.cache.collection])
    except (OSError, AmberError) as exc:  # the switch is done; say what is left behind
        doc["left_behind"] = {"collection": source.collection, "reason": str(exc)}
    return doc
