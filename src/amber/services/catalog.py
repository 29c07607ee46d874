"""The catalogue: list, show, forget, count, and fill in embeddings that were left pending."""

from __future__ import annotations

from typing import Any

from amber import checks
from amber import text as textops
from amber.errors import InvalidInput, NotFound
from amber.models import Memory
from amber.services import history
from amber.services.layout import Filters
from amber.services.memory import MemoryService
from amber.stores.base import Where


def _memories(filters: Filters) -> Where:
    where = filters.where()
    where.equals["chunk"] = 0  # a memory's first point stands for it
    return where


def list_memories(memory: MemoryService, filters: Filters, limit: int) -> list[Memory]:
    """The newest `limit` memories that pass the filters."""
    where = _memories(filters)
    hits = memory.store.scroll(memory.collection, where, limit, newest_first="created_ts")
    return [Memory.model_validate(h.payload) for h in hits]


def count_memories(memory: MemoryService, filters: Filters) -> int:
    """How many memories pass the filters."""
    return memory.store.count(memory.collection, _memories(filters))


def get_memory(memory: MemoryService, mem_id: str) -> dict[str, Any]:
    if not checks.is_memory_id(mem_id):
        raise InvalidInput(
            f"{mem_id!r} is not a memory id",
            hint="ids are whole UUIDs (36 characters), as `amber list` shows them",
        )
    found = memory.store.get(memory.collection, [mem_id])
    if not found:
        raise NotFound(f"no memory with id {mem_id}", hint="see `amber list`")
    shown = Memory.model_validate(found[0].payload)
    history = []
    previous = shown.supersedes
    while previous and len(history) < 50:
        older = memory.store.get(memory.collection, [previous])
        if not older:
            break
        history.append(Memory.model_validate(older[0].payload).public())
        previous = older[0].payload.get("supersedes", "")
    return {"memory": shown.public(), "history": history}


def forget_memories(memory: MemoryService, ids: list[str]) -> list[str]:
    """Delete the memories and mend the `--key` histories they were part of; returns the ids
    of older versions that became current again because every newer one was forgotten."""
    with memory.write_lock:
        doomed = [point for mem_id in ids for point in memory.ids_of(mem_id)]
        restored = history.take_out(memory, ids)
        memory.store.delete(memory.collection, doomed)
    return restored


def matching_ids(memory: MemoryService, filters: Filters, limit: int = 1_000_000) -> list[str]:
    where = filters.where()
    where.equals["chunk"] = 0
    return [h.id for h in memory.store.scroll(memory.collection, where, limit)]


def stats(memory: MemoryService) -> dict[str, int]:
    first = Where(equals={"chunk": 0})
    return {
        "memories": memory.store.count(memory.collection, first),
        "active": memory.store.count(
            memory.collection, Where(equals={"chunk": 0, "state": "active"})
        ),
        "pending_embedding": memory.store.count(
            memory.collection, Where(equals={"chunk": 0, "embedding": "pending"})
        ),
        "cache_entries": memory.cache.count(),
    }


def fill_pending(memory: MemoryService, limit: int = 10_000) -> int:
    """Embed memories stored while the embedder was down; returns how many were filled."""
    if memory.embedder is None:
        return 0
    where = Where(equals={"chunk": 0, "embedding": "pending"})
    filled = 0
    for hit in memory.store.scroll(memory.collection, where, limit):
        pending = Memory.model_validate(hit.payload)
        chunks = textops.chunk_words(pending.content, *memory.window())
        vectors = memory.embed_texts(chunks)
        if vectors is None:
            break
        with memory.write_lock:  # written from what is stored now: a supersession may have run
            current = memory.store.get(memory.collection, [pending.id])
            if not current or current[0].payload.get("embedding") != "pending":
                continue
            fresh = Memory.model_validate(current[0].payload)
            memory.write(fresh.model_copy(update={"embedding": "done"}), chunks, vectors)
        filled += 1
    return filled
