"""Several real amber processes on one embedded store: no errors, no lost writes, bounded waits.

The embedded engine admits one process at a time (DESIGN.md §3); every CLI call queues on a
lock file and exits 3 only after AMBER_LOCK_TIMEOUT. These tests start real processes.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import SHIM, Result, clean_env

from amber.services.layout import memory_id

SEED = int(os.environ.get("AMBER_TEST_SEED", "7031"))
REPORT = bool(os.environ.get("AMBER_TEST_REPORT"))  # print every call's duration
WORKERS = 8
PY = sys.executable

# Each worker runs three operations one after the other; `forget N` forgets the N-th memory
# that the same worker stored. Together: 12 store, 5 auto, 4 cache-store, 3 forget.
PLANS = [
    ["store", "store", "forget 0"],
    ["store", "auto", "cache-store"],
    ["store", "cache-store", "auto"],
    ["store", "store", "forget 1"],
    ["store", "auto", "store"],
    ["store", "cache-store", "forget 0"],
    ["store", "store", "auto"],
    ["store", "auto", "cache-store"],
]

# A worker: waits for the common start time, runs its operations as subprocesses, records all.
DRIVER = r"""
import json, subprocess, sys, time

plan = json.loads(open(sys.argv[1], encoding="utf-8").read())
while time.time() < plan["start_at"]:
    time.sleep(0.002)
stored, records = [], []
for step in plan["steps"]:
    args = step.get("args")
    if step["op"] == "forget":
        if step["index"] >= len(stored):
            records.append({"op": "forget", "args": [], "code": None, "stdout": "",
                            "stderr": "skipped: the memory to forget was not stored"})
            continue
        args = ["forget", stored[step["index"]], "--yes"]
    started = time.time()
    proc = subprocess.run(plan["prefix"] + args, cwd=plan["cwd"], capture_output=True,
                          text=True, timeout=240)
    records.append({"op": step["op"], "args": args, "code": proc.returncode,
                    "stdout": proc.stdout, "stderr": proc.stderr,
                    "seconds": round(time.time() - started, 3)})
    if step["op"] == "store" and proc.returncode == 0:
        stored.append(json.loads(proc.stdout)["id"])
with open(plan["result"], "w", encoding="utf-8") as handle:
    json.dump(records, handle)
"""


def _word(rng: random.Random) -> str:
    """A made-up word, so every memory and query is unique and BM25-distinctive."""
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(4))


def _steps(worker: int, plan: list[str], rng: random.Random) -> list[dict]:
    steps = []
    for n, op in enumerate(plan):
        if op == "store":
            content = (
                f"Worker {worker} decision {n}: the {_word(rng)} service retries "
                f"{_word(rng)} requests with {_word(rng)} backoff"
            )
            args = ["store", "--content", content, "--type", "decision", "--tags", "conc", "w"]
            steps.append({"op": "store", "args": args, "content": content})
        elif op == "auto":
            query = f"how does the {_word(rng)} service retry requests"
            steps.append({"op": "auto", "args": ["auto", "--query", query]})
        elif op == "cache-store":
            query = f"which port does the {_word(rng)} dashboard of team {worker} listen on"
            args = ["cache-store", "--query", query, "--response", f"port {8000 + worker}"]
            steps.append({"op": "cache-store", "args": args})
        else:
            steps.append({"op": "forget", "index": int(op.split()[1])})
    return steps


def _run(prefix: list[str], args: list[str], env: dict[str, str], cwd: Path) -> Result:
    proc = subprocess.run(prefix + args, cwd=cwd, env=env, capture_output=True, timeout=240)
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def _prefix(worker: int) -> list[str]:
    """Half the workers use the agent-contract shim, half `python -m amber`."""
    return [PY, str(SHIM)] if worker % 2 == 0 else [PY, "-m", "amber"]


def _hold_lock(home: Path) -> int:
    """Take the store's lock file the way another amber process would (flock, exclusive)."""
    (home / "edge").mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "edge" / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def test_eight_processes_store_auto_forget_and_cache_at_once(
    home: Path, tmp_path: Path, cli, capsys
) -> None:
    rng = random.Random(SEED)
    workdir = tmp_path / "agents"
    workdir.mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    env = clean_env(home)  # a fresh, empty store: the first calls also race to create it
    start_at = time.time() + 1.0
    procs, results, plans = [], [], []
    for worker, plan in enumerate(PLANS):
        steps = _steps(worker, plan, rng)
        plans.append(steps)
        spec = tmp_path / f"plan-{worker}.json"
        results.append(tmp_path / f"result-{worker}.json")
        spec.write_text(
            json.dumps(
                {
                    "start_at": start_at,
                    "steps": steps,
                    "prefix": _prefix(worker),
                    "cwd": str(workdir),
                    "result": str(results[-1]),
                }
            ),
            encoding="utf-8",
        )
        procs.append(subprocess.Popen([PY, str(driver), str(spec)], env=env))
    for proc in procs:
        assert proc.wait(timeout=600) == 0, f"a worker driver failed (seed {SEED})"
    records = [json.loads(path.read_text(encoding="utf-8")) for path in results]
    seconds = sorted(r.get("seconds", 0) for recs in records for r in recs)

    # Every call either answered (exit 0; 1 only for an `auto` that found nothing) or waited its
    # full lock timeout and said so (exit 3, store_locked). Nothing crashed.
    timed_out, stored, forgotten, not_written = [], {}, set(), []
    cache_writes = invalidated = 0
    for worker, recs in enumerate(records):
        assert len(recs) == len(PLANS[worker])
        for step, rec in zip(plans[worker], recs, strict=True):
            assert "Traceback" not in rec["stderr"]
            if rec["code"] is None:  # a forget whose memory was never stored
                timed_out.append((worker, "forget", "skipped"))
                continue
            if rec["code"] == 3:
                error = json.loads(rec["stderr"].strip().splitlines()[-1])
                assert error["error"] == "store_locked" and "AMBER_LOCK_TIMEOUT" in error["hint"]
                timed_out.append((worker, rec["op"], rec["seconds"]))
                if rec["op"] == "store":
                    not_written.append(memory_id("", step["content"]))
                continue
            doc = json.loads(rec["stdout"])
            if rec["code"] == 1:
                assert rec["op"] == "auto" and doc["status"] == "no_match", rec
            assert rec["code"] in (0, 1), (worker, rec)
            if rec["op"] == "store":
                assert doc["status"] == "stored", rec
                assert doc["id"] == memory_id("", step["content"])  # no git repo: project ""
                stored[doc["id"]] = step["content"]
                invalidated += doc["invalidated_cache"]
            elif rec["op"] == "forget":
                assert doc["status"] == "forgotten" and doc["count"] == 1, rec
                forgotten.add(rec["args"][1])
            elif rec["op"] == "cache-store":
                assert doc["status"] == "stored"
                cache_writes += 1
    assert forgotten <= set(stored)
    kept = set(stored) - forgotten

    # No lost write: every kept memory is listed exactly once, and nothing else is.
    shim_env = clean_env(home)
    listed = _run([PY, str(SHIM)], ["list", "--all-projects", "--limit", "1000"], shim_env, workdir)
    assert listed.code == 0, listed.stderr
    ids = [m["id"] for m in listed.doc["memories"]]
    assert len(ids) == len(set(ids)), f"a memory is listed twice: {ids}"
    assert set(ids) == kept
    # ... each one reads back whole through `get`; forgotten ones and refused ones are absent.
    for mem_id in sorted(kept):
        got = cli("get", mem_id)
        assert got.code == 0, got.stderr
        assert got.doc["memory"]["content"] == stored[mem_id]
        assert got.doc["memory"]["tags"] == ["conc", "w"]
    for mem_id in sorted(forgotten) + not_written:
        gone = cli("get", mem_id)
        assert gone.code == 1 and gone.error["error"] == "not_found"

    health = _run([PY, "-m", "amber"], ["health"], shim_env, workdir)
    assert health.code == 0, health.stderr
    counts = health.doc["counts"]
    assert counts["memories"] == counts["active"] == len(kept)
    assert counts["pending_embedding"] == 0
    assert counts["cache_entries"] == cache_writes - invalidated

    if REPORT:
        with capsys.disabled():
            print(f"\nseed {SEED}: {len(seconds)} calls, lock timeouts {timed_out}, s: {seconds}")
    # Zero errors: with the default lock timeout (30 s) no call of eight agents gives up.
    assert not timed_out, (
        f"seed {SEED}: calls that hit the lock timeout (worker, op, seconds): {timed_out}; "
        f"all call durations: {seconds}"
    )
    assert len(stored) == 12 and len(forgotten) == 3 and cache_writes == 4


def test_lock_held_elsewhere_times_out_with_exit_3_and_changes_nothing(home: Path, shim, cli):
    first = cli("store", "--content", "Held-lock check: this memory was stored before the lock")
    assert first.code == 0, first.stderr
    before = first.doc["id"]
    blocked = "Held-lock check: this one must never be written"
    locked_env = {**clean_env(home), "AMBER_LOCK_TIMEOUT": "1"}

    fd = _hold_lock(home)
    try:
        started = time.monotonic()
        res = shim("store", "--content", blocked, env=locked_env)
        waited = time.monotonic() - started
        read = shim("auto", "--query", "held-lock check", env=locked_env)
    finally:
        _release(fd)

    for attempt in (res, read):
        assert attempt.code == 3, (attempt.code, attempt.stderr)
        assert attempt.stdout == ""
        assert "Traceback" not in attempt.stderr
        error = attempt.error
        assert error["error"] == "store_locked"
        assert "busy for 1 s" in error["message"] and str(home / "edge") in error["message"]
        assert "retry" in error["hint"] and "AMBER_LOCK_TIMEOUT" in error["hint"]
    assert waited >= 1.0, "the call gave up before its lock timeout"

    # Unchanged: the blocked memory is absent, the earlier one intact, counts as before.
    assert cli("get", memory_id("", blocked)).code == 1
    assert cli("get", before).doc["memory"]["id"] == before
    listed = cli("list", "--all-projects")
    assert [m["id"] for m in listed.doc["memories"]] == [before]
    assert cli("health").doc["counts"]["memories"] == 1


def test_a_waiting_call_proceeds_when_the_lock_is_released(home: Path, tmp_path: Path, cli):
    fd = _hold_lock(home)
    content = "Waiting check: stored once the other process let go of the lock"
    proc = subprocess.Popen(
        [PY, str(SHIM), "store", "--content", content],
        cwd=tmp_path,
        env={**clean_env(home), "AMBER_LOCK_TIMEOUT": "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(2.5)
        assert proc.poll() is None, "the call did not wait for the lock"
    finally:
        _release(fd)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["id"] == memory_id("", content)
    assert cli("get", memory_id("", content)).code == 0


OPEN_AND_HANG = """
import sys, time
from amber.compose import open_runtime
from amber.settings import load_settings
runtime = open_runtime(load_settings())
runtime.memory()
print("open", flush=True)
time.sleep(600)
"""


def test_lock_of_a_killed_process_is_recovered(home: Path, tmp_path: Path, shim, cli):
    assert cli("store", "--content", "Stale-lock check: stored before the crash").code == 0
    holder = subprocess.Popen(
        [PY, "-c", OPEN_AND_HANG],
        cwd=tmp_path,
        env=clean_env(home),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        lock = home / "edge" / ".lock"
        probe = os.open(lock, os.O_RDWR)
        try:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                raise AssertionError("the holder does not hold the lock")
            except BlockingIOError:
                pass
        finally:
            os.close(probe)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL
    # The lock file is left behind, naming the dead process; it must not block anyone.
    assert lock.read_text().split()[0] == str(holder.pid)

    env = {**clean_env(home), "AMBER_LOCK_TIMEOUT": "2"}
    content = "Stale-lock check: stored after the crash"
    res = shim("store", "--content", content, env=env)
    assert res.code == 0, res.stderr
    assert cli("list", "--all-projects").doc["total"] == 2
    assert cli("get", memory_id("", content)).doc["memory"]["content"] == content
