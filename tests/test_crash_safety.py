"""SIGKILL real `store` processes and check the embedded store still opens and answers.

A memory is one upsert of all its points (chunk 0 with payload, BM25 and dense vector; the
other chunks with their dense vectors). After any kill each memory must be wholly present or
wholly absent, and a call that exited 0 must have left its memory behind.

- random kills: a `store` is killed after a random delay drawn over 0..1.2x a normal call;
- exact kills: a real process kills itself before its N-th write to the engine, to reach the
  short windows random timing rarely hits (creating the store; `--key` supersession).

Seeded: AMBER_TEST_SEED=<n> replays a run, AMBER_TEST_REPORT=1 prints kill points and outcomes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SHIM, clean_env

from amber import text as textops
from amber.compose import Runtime, open_runtime
from amber.services.layout import Filters, chunk_id, memory_id
from amber.services.memory import MemoryService
from amber.settings import load_settings
from amber.stores.base import Where

SEED = int(os.environ.get("AMBER_TEST_SEED", "20250611"))
REPORT = bool(os.environ.get("AMBER_TEST_REPORT"))  # print the kill points and outcomes
ROUNDS = 12
PY = sys.executable
VOCAB = random.Random(0)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(4))


SHARED = [_word(VOCAB) for _ in range(80)]  # filler words every long memory draws from


class Memo:
    """A content this test stored or tried to store, and what it must look like if present."""

    def __init__(self, rng: random.Random, label: str, long: bool) -> None:
        self.markers = " ".join(_word(rng) for _ in range(3))  # only in this memory
        body = " ".join(rng.choice(SHARED) for _ in range(rng.randint(330, 560) if long else 12))
        self.content = f"Crash check {label}: {self.markers} decided. {body}"
        self.id = memory_id("", self.content)  # run outside any git repo: project ""
        self.must_exist = False
        self.verified = False  # vectors and searches checked once it was seen whole
        self.vectors: list[list[float]] | None = None
        self.first_chunk = ""
        self.survived_kill = False  # its process was killed, and the memory is whole

    def chunks(self, memory: MemoryService) -> list[str]:
        return textops.chunk_words(self.content, *memory.window())


@contextmanager
def _opened() -> Iterator[tuple[Runtime, MemoryService]]:
    """The store, opened in this process the way every CLI call opens it."""
    runtime = open_runtime(load_settings())
    try:
        yield runtime, runtime.memory()
    finally:
        runtime.close()


def _state(memo: Memo, memory: MemoryService, deep: bool) -> str:
    """'absent' or 'complete'; anything in between fails with what is missing. `deep` also
    checks the vectors and both retrieval signals (done once per memory: they are immutable)."""
    store, name = memory.store, memory.collection
    chunks = memo.chunks(memory)
    memo.first_chunk = chunks[0]
    ids = [chunk_id(memo.id, i) for i in range(len(chunks))]
    points = {hit.id: hit.payload for hit in store.get(name, ids)}
    if memo.id not in points:
        assert not points, f"{memo.id}: chunk points {sorted(points)} without chunk 0"
        return "absent"
    head = points[memo.id]
    assert head["content"] == memo.content
    assert head["chunks"] == len(chunks), f"{memo.id}: {head['chunks']} chunks, not {len(chunks)}"
    assert head["embedding"] == "done" and head["state"] == "active"
    assert memory.ids_of(memo.id) == ids
    missing = sorted(set(ids) - set(points))
    assert not missing, f"{memo.id}: chunk 0 present but chunk points {missing} missing"
    for index, point_id in enumerate(ids):
        assert points[point_id]["memory_id"] == memo.id and points[point_id]["chunk"] == index
        if index:
            assert points[point_id]["text"] == chunks[index]
    if not deep:
        return "complete"
    memo.verified = True
    # Every chunk carries the dense vector of its own text.
    if memo.vectors is None:
        assert memory.embedder is not None
        memo.vectors = [v.tolist() for v in memory.embedder.embed_documents(chunks)]
    for index, (point_id, vector) in enumerate(zip(ids, memo.vectors, strict=True)):
        only = Where(equals={"memory_id": memo.id, "chunk": index})
        hits = store.search_dense(name, vector, only, 1)
        assert hits and hits[0].score > 0.99, f"{point_id}: no dense vector, or a wrong one"
    # Chunk 0 carries the BM25 vector; hybrid retrieval's two signals both find the memory.
    first = Where(equals={"memory_id": memo.id, "chunk": 0})
    assert store.search_sparse(name, memory.bm25.query(memo.markers), first, 1)
    scope = Filters(project="")
    bm25 = memory.hybrid.search(memo.markers, scope, 3, mode="bm25")
    assert bm25 and bm25[0].memory.id == memo.id, f"{memo.id}: BM25 search misses it"
    dense = memory.hybrid.search(chunks[0], scope, 5, mode="dense")
    assert memo.id in [r.memory.id for r in dense], f"{memo.id}: dense search misses it"
    return "complete"


def _check_store(memos: list[Memo]) -> dict[str, str]:
    """Open the store, classify every memo; whatever must exist does; no stray points."""
    with _opened() as (runtime, memory):
        states = {memo.id: _state(memo, memory, deep=not memo.verified) for memo in memos}
        for memo in memos:
            if memo.must_exist:
                assert states[memo.id] == "complete", f"{memo.id} was stored and is now lost"
        present = [m for m in memos if states[m.id] == "complete"]
        everything = runtime.store.count(memory.collection, Where())
        assert everything == sum(len(m.chunks(memory)) for m in present), "stray points"
        assert runtime.store.count(memory.collection, Where(equals={"chunk": 0})) == len(present)
    return states


def _store_cmd(round_: int, memo: Memo) -> list[str]:
    front = [PY, str(SHIM)] if round_ % 2 == 0 else [PY, "-m", "amber"]
    return [*front, "store", "--content", memo.content, "--type", "code", "--tags", "crash"]


def _store(cwd: Path, env: dict[str, str], memo: Memo) -> float:
    started = time.monotonic()
    proc = subprocess.run(_store_cmd(0, memo), cwd=cwd, env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["id"] == memo.id
    memo.must_exist = True
    return time.monotonic() - started


def test_sigkill_during_store_leaves_each_memory_whole_or_absent(
    home: Path, tmp_path: Path, cli, capsys
) -> None:
    rng = random.Random(SEED)
    workdir = tmp_path / "agent"
    workdir.mkdir()
    env = clean_env(home)
    memos = [Memo(rng, "baseline short", long=False), Memo(rng, "baseline long", long=True)]
    creating = _store(workdir, env, memos[0])  # creates the store
    # How long a whole store call takes; calls vary, so the longer of the two sets the range.
    normal = max(creating, _store(workdir, env, memos[1]))

    outcomes = []
    began = time.monotonic()
    for round_ in range(ROUNDS):
        memo = Memo(rng, f"round {round_}", long=round_ % 3 != 2)
        memos.append(memo)
        delay = rng.uniform(0.0, 1.2 * normal)
        where = f"seed {SEED}, round {round_}, kill at {delay:.2f} s of a {normal:.2f} s call"
        proc = subprocess.Popen(
            _store_cmd(round_, memo),
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)  # a no-op when the call already finished
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, -signal.SIGKILL), f"{where}: {err.decode()[-500:]}"
        if proc.returncode == 0:
            assert json.loads(out)["id"] == memo.id
            memo.must_exist = True
        try:
            states = _check_store(memos)
        except AssertionError as exc:
            raise AssertionError(f"[{where}] {exc}") from exc
        for earlier in memos:
            if states[earlier.id] == "complete":
                earlier.must_exist = True  # once seen whole, a later kill must not lose it
        killed = "finished" if proc.returncode == 0 else "killed"
        memo.survived_kill = killed == "killed" and states[memo.id] == "complete"
        outcomes.append((round(delay / normal, 2), killed, states[memo.id]))

    rounds_took = time.monotonic() - began
    # The CLI answers afterwards: health and list agree, get/retrieve find each whole memory.
    present = {m.id for m in memos if m.must_exist}
    health = subprocess.run(
        [PY, str(SHIM), "health"], cwd=workdir, env=env, capture_output=True, timeout=120
    )
    assert health.returncode == 0, health.stderr.decode()
    counts = json.loads(health.stdout)["counts"]
    assert counts["memories"] == counts["active"] == len(present), (SEED, counts, outcomes)
    assert counts["pending_embedding"] == 0
    listed = subprocess.run(
        [PY, "-m", "amber", "list", "--limit", "100"],
        cwd=workdir,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr.decode()
    ids = [m["id"] for m in json.loads(listed.stdout)["memories"]]
    assert sorted(ids) == sorted(present), (SEED, outcomes)
    for memo in memos:
        got = cli("get", memo.id)
        if memo.id not in present:
            assert got.code == 1 and got.error["error"] == "not_found", (SEED, got.stderr)
            continue
        assert got.code == 0 and got.doc["memory"]["content"] == memo.content, SEED
        if not memo.survived_kill and memo is not memos[1]:
            continue  # searched in-process already; the CLI retrieves the interesting ones
        bm25 = cli("retrieve", "--mode", "bm25", "--top-k", "1", "--query", memo.markers)
        assert bm25.code == 0 and bm25.doc["results"][0]["id"] == memo.id, (SEED, memo.id)
        dense = cli("retrieve", "--mode", "dense", "--query", memo.first_chunk)
        assert dense.code == 0 and memo.id in [r["id"] for r in dense.doc["results"]], SEED
    if REPORT:
        with capsys.disabled():
            print(
                f"\nseed {SEED}, call {normal:.2f} s, rounds {rounds_took:.1f} s, "
                f"checks {time.monotonic() - began - rounds_took:.1f} s; "
                f"(kill/call, process, memory): {outcomes}"
            )


# Kill inside a real process at an exact point: before its N-th write to the engine.
KILL_BEFORE_WRITE = r"""
import os, signal, types
import qdrant_edge as qe
from amber.stores import edge

KILL_AT = int(os.environ["AMBER_TEST_KILL_AT"])
writes = 0

class Shard:
    def __init__(self, inner):
        self._inner = inner

    def update(self, operation):
        global writes
        writes += 1
        if writes == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
        return self._inner.update(operation)

    def __getattr__(self, name):
        return getattr(self._inner, name)

engine = types.SimpleNamespace(**{n: getattr(qe, n) for n in dir(qe) if not n.startswith("__")})
engine.EdgeShard = types.SimpleNamespace(
    create=lambda path, config: Shard(qe.EdgeShard.create(path, config)),
    load=lambda path, *rest: Shard(qe.EdgeShard.load(path, *rest)),
)
edge.qe = engine
from amber.cli import main
main()
"""


@pytest.mark.parametrize(
    "kill_at",
    [7, 12],
    ids=["while-creating-payload-indexes", "before-the-memory-upsert"],
)
def test_sigkill_while_the_first_store_creates_the_store(
    home: Path, tmp_path: Path, cli, kill_at: int
) -> None:
    """The first `store` creates the collection (shard, then 11 payload indexes, then the
    upsert). Killed anywhere in there, the store must open and every command must work."""
    hook = tmp_path / "kill_before_write.py"
    hook.write_text(KILL_BEFORE_WRITE, encoding="utf-8")
    doomed = "Crash check: the first memory ever, killed while the store is being created"
    proc = subprocess.run(
        [PY, str(hook), "store", "--content", doomed],
        cwd=tmp_path,
        env={**clean_env(home), "AMBER_TEST_KILL_AT": str(kill_at)},
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, f"the kill point was never reached: {proc.stderr}"

    assert cli("get", memory_id("", doomed)).code == 1
    kept = "Crash check: the store still takes memories after a crash during its creation"
    stored = cli("store", "--content", kept)
    assert stored.code == 0, stored.stderr
    listed = cli("list")
    assert listed.code == 0, listed.stderr
    assert [m["id"] for m in listed.doc["memories"]] == [stored.doc["id"]]
    found = cli("retrieve", "--query", "does the store take memories after a crash")
    assert found.code == 0 and found.doc["results"][0]["id"] == stored.doc["id"]
    assert cli("health").doc["counts"]["memories"] == 1


def test_sigkill_between_a_superseding_memory_and_the_old_ones_mark(
    home: Path, tmp_path: Path, cli
) -> None:
    """`store --key` writes the new memory, then marks the old one superseded (two writes).
    Killed between them, the agent retries the call; then exactly one memory under the key
    may be active, the new one, with the old one kept as its history."""
    old = cli("store", "--content", "Deploy with blue-green, on Fridays too", "--key", "deploy")
    assert old.code == 0, old.stderr
    hook = tmp_path / "kill_before_write.py"
    hook.write_text(KILL_BEFORE_WRITE, encoding="utf-8")
    new = ["store", "--content", "Deploy with canary releases, never on Fridays", "--key", "deploy"]
    proc = subprocess.run(
        [PY, str(hook), *new],
        cwd=tmp_path,
        env={**clean_env(home), "AMBER_TEST_KILL_AT": "2"},  # 1: the new memory, 2: the mark
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, f"the kill point was never reached: {proc.stderr}"

    retried = cli(*new)
    assert retried.code == 0, retried.stderr
    new_id = retried.doc["id"]
    active = [m["id"] for m in cli("list").doc["memories"]]
    assert active == [new_id], "the superseded decision is still active next to the new one"
    shown = cli("get", new_id).doc
    assert [h["id"] for h in shown["history"]] == [old.doc["id"]]
