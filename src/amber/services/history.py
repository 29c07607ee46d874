"""`--key` histories: each version names the one it supersedes and the one that superseded
it. Taking versions out (forgotten, or moved under another key) mends the chain around them."""

from __future__ import annotations

from typing import Protocol

from amber.stores.base import Store


class Versions(Protocol):
    """Where the versions are kept (a MemoryService)."""

    store: Store
    collection: str

    def ids_of(self, mem_id: str) -> list[str]: ...


def take_out(memory: Versions, ids: list[str]) -> list[str]:
    """Take the versions `ids` out of their histories: the nearest kept older version is linked
    to the nearest kept newer one, or, with no newer one left, is current again (its id
    returned). Called with the write lock held, before the versions are deleted or moved."""
    links = {
        h.id: (h.payload.get("supersedes", ""), h.payload.get("superseded_by", ""))
        for h in memory.store.get(memory.collection, ids)
    }
    gone = set(ids)

    def kept(mem_id: str, side: int) -> str:
        seen: set[str] = set()
        while mem_id in gone and mem_id not in seen:
            seen.add(mem_id)
            mem_id = links.get(mem_id, ("", ""))[side]
        return "" if mem_id in gone else mem_id

    def update(mem_id: str, fields: dict[str, str]) -> None:
        memory.store.set_payload(memory.collection, memory.ids_of(mem_id), fields)

    restored: list[str] = []
    for older, newer in {(kept(o, 0), kept(n, 1)) for o, n in links.values()}:
        if older and newer:
            update(older, {"superseded_by": newer})
            update(newer, {"supersedes": older})
        elif older:
            update(older, {"state": "active", "superseded_by": ""})
            restored.append(older)
        elif newer:
            update(newer, {"supersedes": ""})
    return sorted(restored)


def with_history(memory: Versions, ids: list[str]) -> list[str]:
    """The ids and every older version they supersede (a whole `--key` history)."""
    found: set[str] = set()
    todo = list(ids)
    while todo:
        mem_id = todo.pop()
        if mem_id in found:
            continue
        found.add(mem_id)
        hit = memory.store.get(memory.collection, [mem_id])
        if hit and (older := hit[0].payload.get("supersedes")):
            todo.append(older)
    return sorted(found)
