"""The daemon: the store's one owner answers every front end, and no client can stall it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, clean_env, running_daemon, wait_for

from amber.daemon import client, protocol

SHIM = ROOT / "execution" / "memory_manager.py"


@pytest.fixture
def daemon(home: Path):
    with running_daemon(home, idle_timeout=120) as running:
        yield running


def call(env: dict, cwd: Path, *args: str, stdin: bytes | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, str(SHIM), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def served(home: Path) -> list[list[str]]:
    """(command, ->, exit code) of each call the daemon's log records (pings left out)."""
    log = home / "daemon.log"
    lines = log.read_text().splitlines() if log.exists() else []
    rows = [line.split()[1:4] for line in lines if " -> " in line]
    return [row for row in rows if row[0] != "ping"]


def test_forwarded_calls_match_in_process_calls(daemon, home: Path, tmp_path: Path) -> None:
    _proc, env, path = daemon
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    content = "Warm path answers agents from one process"
    res = call(env, tmp_path, "store", "--content", content, "--tags", "python-patterns", "daemon")
    assert res.returncode == 0, res.stderr
    stored = json.loads(res.stdout)
    res = call(env, tmp_path, "auto", "--query", "which process answers agents on the warm path")
    assert res.returncode == 0
    doc = json.loads(res.stdout)
    assert doc["context_chunks"][0]["id"] == stored["id"]
    assert call(env, tmp_path, "auto", "--query", "plan a wedding menu").returncode == 1
    bad = call(env, tmp_path, "store", "--content", "x", "--type", "bogus")
    assert bad.returncode == 2 and json.loads(bad.stderr)["error"] == "invalid_input"
    piped = call(env, tmp_path, "store", "--content", "-", stdin=b"from stdin via the daemon")
    assert piped.returncode == 0
    shown = call(env, tmp_path, "get", json.loads(piped.stdout)["id"])
    assert json.loads(shown.stdout)["memory"]["content"] == "from stdin via the daemon"
    assert served(home) == [
        ["store", "->", "0"],
        ["auto", "->", "0"],
        ["auto", "->", "1"],
        ["store", "->", "2"],
        ["store", "->", "0"],
        ["get", "->", "0"],
    ]
    off = dict(env, AMBER_DAEMON="off")
    in_process = call(off, tmp_path, "auto", "--query", "warm path")
    assert in_process.returncode == 3, "the store's owner is the daemon: off is refused at once"
    assert json.loads(in_process.stderr)["error"] == "store_locked"


def test_off_is_refused_at_once_while_the_daemon_serves(daemon, tmp_path: Path) -> None:
    _proc, env, _path = daemon
    started = time.monotonic()
    res = call(dict(env, AMBER_DAEMON="off"), tmp_path, "list")
    assert res.returncode == 3 and time.monotonic() - started < 15
    assert "amber serve --stop" in json.loads(res.stderr)["hint"]


def test_first_call_starts_the_daemon_and_is_answered_by_it(home: Path, tmp_path: Path) -> None:
    env = dict(clean_env(home), AMBER_DAEMON="auto", AMBER_DAEMON_IDLE="4")
    first = call(env, tmp_path, "store", "--content", "the first agent starts the daemon")
    assert first.returncode == 0, first.stderr
    assert served(home) == [["store", "->", "0"]], "the caller waited for the daemon"
    record = protocol.read_address(str(home))
    assert record is not None
    second = call(env, tmp_path, "auto", "--query", "who starts the daemon")
    assert second.returncode == 0
    assert protocol.read_address(str(home)) == record, "the same daemon answered"
    assert wait_for(lambda: protocol.read_address(str(home)) is None, 40), "idle: it stops"


def test_one_daemon_per_store_whatever_the_runtime_folder(home: Path, tmp_path: Path) -> None:
    base = dict(clean_env(home), AMBER_DAEMON="auto", AMBER_DAEMON_IDLE="30")
    pids = set()
    for runtime in ("a", "b"):
        folder = tmp_path / f"run-{runtime}"
        folder.mkdir()
        env = dict(base, XDG_RUNTIME_DIR=str(folder))
        res = call(
            env, tmp_path, "store", "--content", f"stored by a caller with runtime {runtime}"
        )
        assert res.returncode == 0, res.stderr
        pids.add((protocol.read_address(str(home)) or {}).get("pid"))
    assert len(pids) == 1
    assert client.stop(client.address(base) or "")


def test_daemon_of_other_code_makes_way(daemon, home: Path, tmp_path: Path) -> None:
    """After an upgrade the code on disk differs from the daemon's: the daemon refuses calls
    (it never stops on a caller's say-so alone), and a caller running the code on disk asks it
    to stop and starts one that runs that code."""
    import amber.timing

    proc, env, path = daemon
    with pytest.raises(client.Unreachable):
        client.exchange(str(path), {"kind": "argv", "version": "other-code", "argv": []}, 10)
    assert proc.poll() is None, "a refused call does not stop the daemon"
    module = Path(amber.timing.__file__)
    before = module.stat()
    try:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # "an upgrade"
        res = call(env, tmp_path, "health")
        assert res.returncode == 0 and json.loads(res.stdout)["status"] == "ok", res.stderr
        assert proc.wait(timeout=30) == 0, "the old daemon made way"
        record = protocol.read_address(str(home))
        assert record is not None and record["pid"] != str(proc.pid)
        assert client.stop(record["socket"])
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_sigterm_removes_socket_and_address(daemon, home: Path) -> None:
    proc, _env, path = daemon
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not path.exists() and not (home / protocol.ADDRESS_FILE).exists()


def raw(path: Path, data: bytes, wait: float = 10.0) -> dict | None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(wait)
        conn.connect(str(path))
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(1 << 16):
            chunks.append(chunk)
    return json.loads(b"".join(chunks)) if chunks else None


def request(wire_env: dict, folder: Path, **fields) -> bytes:
    body = {"kind": "argv", "version": client.code_version(), "cwd": str(folder), "env": wire_env}
    return json.dumps({**body, **fields}).encode() + b"\n"


@pytest.mark.parametrize(
    "fields",
    [
        {"argv": 5},
        {"argv": None},
        {"argv": [1, 2]},
        {"env": {"AMBER_HOME": 5}},
        {"env": "AMBER_HOME"},
        {"cwd": "relative/path"},
        {"kind": "nonsense"},
        {"argv": ["mcp", "--http", "8123"]},
        {"argv": ["serve"]},
    ],
)
def test_malformed_requests_are_refused_and_nothing_runs(
    daemon, tmp_path: Path, fields: dict
) -> None:
    _proc, env, path = daemon
    answer = raw(path, request(client.request_env(env), tmp_path, **fields))
    assert answer is not None and answer["code"] == 2
    assert json.loads(answer["stderr"])["error"] == "invalid_input"
    assert call(env, tmp_path, "health").returncode == 0


def test_a_request_for_another_store_is_refused(daemon, tmp_path: Path) -> None:
    _proc, env, path = daemon
    other = dict(client.request_env(env), AMBER_HOME=str(tmp_path / "elsewhere"))
    answer = raw(path, request(other, tmp_path, argv=["list"]))
    assert answer is not None and answer["code"] == 2
    assert not (tmp_path / "elsewhere").exists()


def test_each_request_environment_applies_to_that_request_alone(
    daemon, home: Path, tmp_path: Path
) -> None:
    _proc, env, _path = daemon
    long = "alpha beta gamma " * 40
    assert call(env, tmp_path, "store", "--content", long, "--tags", "budget").returncode == 0
    small = call(dict(env, AMBER_BUDGET_TOKENS="5"), tmp_path, "auto", "--query", "alpha beta")
    normal = call(env, tmp_path, "auto", "--query", "alpha beta gamma")
    assert json.loads(small.stdout)["tokens"] <= 5
    assert json.loads(normal.stdout)["tokens"] > 5
    dropped = call(dict(env, XDG_DATA_HOME=str(tmp_path / "x")), tmp_path, "list", "--all-projects")
    assert json.loads(dropped.stdout)["total"] == 1, "a caller's XDG_* never redirects the store"


def test_compact_frames_round_trip_and_refuse_garbage(daemon, tmp_path: Path) -> None:
    from amber.daemon import frames

    _proc, env, path = daemon
    wire = client.request_env(env)
    odd = ["store", "--content", "caf\udce9 au lait"]  # argv bytes that were not UTF-8
    request = frames.encode_argv(client.code_version(), odd, wire, str(tmp_path), False, 0, None)
    code, _out, err = frames.decode_result(client._send(str(path), request, 30))
    assert code == 2 and b"not valid text" in err
    piped = ["store", "--content", "-"]
    request = frames.encode_argv(
        client.code_version(), piped, wire, str(tmp_path), False, 0, b"kept from stdin"
    )
    code, out, _err = frames.decode_result(client._send(str(path), request, 30))
    assert code == 0 and json.loads(out)["status"] == "stored"
    for broken in (
        frames.MAGIC + b" 2 x 5\n12:ab",  # a field longer than the payload
        frames.MAGIC + b" 2 x 3\nabc",  # no field lengths
        frames.MAGIC + b" 2 x notanumber\n",  # a header without a size
    ):
        answer = client._send(str(path), broken, 30)
        if answer.startswith(frames.RESULT):
            code, _out, err = frames.decode_result(answer)
        else:
            code, err = json.loads(answer)["code"], answer
        assert code == 2 and b"invalid_input" in err
    assert call(env, tmp_path, "health").returncode == 0


def test_a_daemon_that_closes_without_answering_is_named_as_such(tmp_path: Path) -> None:
    """What a caller sees when the daemon is killed between reading the call and answering."""
    import threading

    path = str(tmp_path / "mute.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def accept_and_hang_up() -> None:
        conn, _ = server.accept()
        conn.recv(1 << 16)
        conn.close()

    worker = threading.Thread(target=accept_and_hang_up)
    worker.start()
    try:
        with pytest.raises(client.DaemonError) as caught:
            client.run_argv(path, client.argv_request(["auto", "--query", "x"], {}, None))
        assert "without answering" in caught.value.message
        assert "run the call again" in caught.value.hint
    finally:
        worker.join(timeout=10)
        server.close()


def test_routes_are_counted_after_the_answer_and_seen_at_once(daemon, home: Path) -> None:
    _proc, env, _path = daemon
    for task in ("write pytest fixtures for the api client", "pytest parametrize a flaky test"):
        res = call(env, home.parent, "auto", "--query", task)
        assert res.returncode == 1, res.stderr  # an empty store: no memory matches
        assert json.loads(res.stdout)["skill"]["name"] == "python-testing"
    stats = call(env, home.parent, "skills", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    rows = {row["name"]: row for row in json.loads(stats.stdout)["skills"]}
    assert rows["python-testing"]["routed"] == 2  # whether or not the file was written yet
    routes = home / "skill-routes.json"
    assert wait_for(lambda: routes.is_file(), 10), "the daemon writes the counts after answering"
    assert json.loads(routes.read_text())["routed"]["python-testing"] == 2
    assert all(
        "after an answer" not in line for line in (home / "daemon.log").read_text().splitlines()
    )


def test_calls_queued_when_the_daemon_stops_are_answered_not_cut_off(tmp_path: Path) -> None:
    from amber.daemon import server

    home = tmp_path / "home"
    home.mkdir()
    ran = []

    def runner(checked: dict) -> dict:
        ran.append(checked["argv"])
        return {"code": 0, "stdout": "answered\n", "stderr": ""}

    daemon = server.Daemon(home, runner, idle_timeout=60)
    listening = daemon.listen()
    wire = client.request_env({"AMBER_HOME": str(home), "HOME": str(tmp_path)})
    queued = []
    try:
        for n in range(3):  # connected and sent, never accepted: the daemon is stopping
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(str(daemon.socket_path))
            conn.sendall(request(wire, tmp_path, argv=["list", f"--limit={n + 1}"]))
            queued.append(conn)
        daemon.finish(listening)
        answers = []
        for conn in queued:
            conn.settimeout(10)
            answers.append(json.loads(b"".join(iter(lambda c=conn: c.recv(1 << 16), b""))))
    finally:
        listening.close()
        for conn in queued:
            conn.close()
    assert [a["stdout"] for a in answers] == ["answered\n"] * 3
    assert sorted(ran) == [["list", f"--limit={n}"] for n in (1, 2, 3)]
    assert not daemon.socket_path.exists(), "new callers no longer find the stopping daemon"


def test_a_call_with_another_ollama_host_embeds_through_that_host(
    home: Path, tmp_path: Path
) -> None:
    """A daemon started while OLLAMA_HOST named a dead port kept embedding there for every
    later call, though the call said where Ollama now runs (tests/fake_ollama.py serves it)."""
    from fake_ollama import FakeOllama

    with FakeOllama(models=["nomic-embed-text:latest"], dim=768) as fake:
        pinned = dict(clean_env(home), AMBER_EMBEDDER="ollama", OLLAMA_HOST=fake.url)
        assert (
            call(pinned, tmp_path, "store", "--content", "Webhooks retry with backoff").returncode
            == 0
        )
        dead = dict(pinned, OLLAMA_HOST="http://127.0.0.1:9", AMBER_OLLAMA_TIMEOUT="1")
        with running_daemon(home, env=dead) as (_, env, _):
            before = len(fake.bodies("/api/embed"))
            res = call(
                dict(env, OLLAMA_HOST=fake.url), tmp_path, "auto", "--query", "webhook retries"
            )
            doc = json.loads(res.stdout)
            assert res.returncode == 0 and doc["degraded"] == [], doc["degraded"]
            assert doc["search_type"] == "hybrid"
            assert len(fake.bodies("/api/embed")) > before
            down = json.loads(call(env, tmp_path, "auto", "--query", "webhook retries").stdout)
            assert down["search_type"] == "bm25" and "127.0.0.1:9" in json.dumps(down["degraded"])
