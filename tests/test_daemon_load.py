"""The daemon under hostile and crowded use: generated garbage, idle and half-sent requests,
huge lines, and two dozen agents arriving at once — every well-formed call answers, the daemon
never exits, nothing is lost."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import ROOT, clean_env, running_daemon, wait_for

from amber.daemon import client, protocol

SHIM = ROOT / "execution" / "memory_manager.py"


def shim(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SHIM), *args], cwd=cwd, env=env, capture_output=True, timeout=180
    )


def garbage(rng: random.Random, env: dict, cwd: Path) -> bytes:
    """One generated bad request: random bytes, wrong JSON types, broken fields."""
    good = {"kind": "argv", "version": client.code_version(), "cwd": str(cwd), "env": env}
    kind = rng.randrange(8)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) + b"\n"
    if kind == 1:
        return json.dumps(rng.choice([5, [1, 2], None, "x", 1e308, True])).encode() + b"\n"
    if kind == 2:
        return (
            json.dumps({**good, "argv": rng.choice([5, None, {"a": 1}, [1, "x"]])}).encode() + b"\n"
        )
    if kind == 3:
        return (
            json.dumps({**good, "env": {"AMBER_HOME": rng.choice([1, None, []])}}).encode() + b"\n"
        )
    if kind == 4:
        return json.dumps({**good, "argv": ["auto", "--query"]}).encode() + b"\n"  # usage error
    if kind == 5:
        text = "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 200)))
        return json.dumps({**good, "argv": ["retrieve", "--query", text]}).encode() + b"\n"
    if kind == 6:
        return json.dumps({**good, "kind": rng.choice(["", "exec", None, 3])}).encode() + b"\n"
    return json.dumps(good)[: rng.randrange(1, 40)].encode()  # half a request, then EOF


def send(path: str, data: bytes, linger: float = 0.0) -> dict | None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(60)
            conn.connect(path)
            conn.sendall(data)
            time.sleep(linger)
            conn.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := conn.recv(1 << 16):
                chunks.append(chunk)
    except OSError:
        return None
    return json.loads(b"".join(chunks)) if chunks else None


def test_a_thousand_bad_requests_while_agents_work(home: Path, tmp_path: Path) -> None:
    rng = random.Random(20261201)
    with running_daemon(home, idle_timeout=300) as (proc, env, path):
        wire_env = client.request_env(env)
        idle = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(8)]
        for conn in idle:
            conn.connect(str(path))  # connected, never sending anything
        stop = threading.Event()
        answers: list[dict | None] = []

        def flood() -> None:
            with ThreadPoolExecutor(8) as pool:
                batch = [garbage(rng, wire_env, tmp_path) for _ in range(1000)]
                answers.extend(pool.map(lambda data: send(str(path), data), batch))
            huge = b'{"kind": "argv", "argv": ["' + b"x" * (protocol.MAX_REQUEST + 10) + b'"]}\n'
            answers.append(send(str(path), huge))
            stop.set()

        flooder = threading.Thread(target=flood)
        flooder.start()
        stored = []
        for number in range(12):
            content = f"decision {number}: keep the daemon reachable under load, case {number}"
            res = shim(env, tmp_path, "store", "--content", content, "--tags", "load")
            assert res.returncode == 0, res.stderr
            stored.append(json.loads(res.stdout)["id"])
            found = shim(env, tmp_path, "auto", "--query", f"daemon reachable under load {number}")
            assert found.returncode == 0, found.stderr
        flooder.join(timeout=600)
        assert stop.is_set(), "the flood finished"
        assert proc.poll() is None, "the daemon never exits"
        for conn in idle:
            conn.close()
        assert len(answers) == 1001
        codes = [a.get("code") for a in answers if a is not None]
        # garbage is invalid input (2); a random but well-formed search may find nothing (1)
        assert len(codes) >= 990 and set(codes) <= {1, 2}, sorted(set(codes))
        assert codes.count(2) >= 800
        listed = shim(env, tmp_path, "list", "--tags", "load", "--limit", "100")
        assert sorted(m["id"] for m in json.loads(listed.stdout)["memories"]) == sorted(stored)


def agent_script(number: int) -> str:
    content = f"agent {number} decided to cache the catalogue for {number * 7} minutes"
    return (
        "import subprocess, sys, json\n"
        f"shim = {str(SHIM)!r}\n"
        f"s = subprocess.run([sys.executable, shim, 'store', '--content', {content!r}, "
        "'--type', 'decision', '--tags', 'crowd'], capture_output=True, timeout=170)\n"
        "a = subprocess.run([sys.executable, shim, 'auto', '--query', "
        f"'how long is the catalogue cached by agent {number}'], capture_output=True, "
        "timeout=170)\n"
        "print(json.dumps([s.returncode, a.returncode, s.stderr.decode(), a.stderr.decode()[-300:]"
        " + a.stdout.decode()[:300]]))\n"
    )


def test_two_dozen_agents_arrive_while_one_idles_and_one_misbehaves(
    home: Path, tmp_path: Path
) -> None:
    env = dict(clean_env(home), AMBER_DAEMON_IDLE="120")
    env.pop("AMBER_DAEMON")  # the default settings: auto
    agents = []
    misbehaving = threading.Event()
    idle_conn: list[socket.socket] = []

    def misbehave() -> None:
        assert wait_for(lambda: client.address(env) is not None, 120)
        path = client.address(env) or ""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        idle_conn.append(conn)  # held open, silent, for the whole test
        rng = random.Random(7)
        while not misbehaving.is_set():
            send(path, garbage(rng, client.request_env(env), tmp_path))

    bad = threading.Thread(target=misbehave, daemon=True)
    bad.start()
    for number in range(24):
        agents.append(
            subprocess.Popen(
                [sys.executable, "-c", agent_script(number)],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
        time.sleep(0.25)
    results = []
    for process in agents:
        out, err = process.communicate(timeout=400)  # a hang fails here
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    misbehaving.set()
    bad.join(timeout=60)
    for conn in idle_conn:
        conn.close()
    assert all(r[0] == 0 for r in results), [r[2] for r in results if r[0] != 0]
    assert all(r[1] == 0 for r in results), [(r[1], r[3]) for r in results if r[1] != 0]
    listed = shim(env, tmp_path, "list", "--tags", "crowd", "--limit", "100")
    assert json.loads(listed.stdout)["total"] == 24, "no write was lost"
    assert client.stop(client.address(env) or "")
