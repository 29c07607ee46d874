"""The warm path: `amber serve` answers forwarded calls with the same output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, clean_env, running_daemon, wait_for

from amber.daemon.client import code_version, exchange, socket_path

SHIM = ROOT / "execution" / "memory_manager.py"


@pytest.fixture
def daemon(home: Path):
    with running_daemon(home, idle_timeout=60) as running:
        yield running


def call(env: dict, cwd: Path, *args: str, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, str(SHIM), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def served(home: Path) -> list[str]:
    log = home / "daemon.log"
    return log.read_text().splitlines() if log.exists() else []


def test_forwarded_calls_match_in_process_calls(daemon, home: Path, tmp_path: Path) -> None:
    _proc, env, path = daemon
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    res = call(
        env,
        tmp_path,
        "store",
        "--content",
        "Warm path answers agents from one process",
        "--type",
        "decision",
        "--tags",
        "python-patterns",
        "daemon",
    )
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
    log = served(home)
    assert [line.split()[1:4] for line in log] == [
        ["store", "->", "0"],
        ["auto", "->", "0"],
        ["auto", "->", "1"],
        ["store", "->", "2"],
        ["store", "->", "0"],
        ["get", "->", "0"],
    ]


def test_daemon_refuses_other_code_and_stops(daemon, home: Path) -> None:
    proc, env, path = daemon
    answer = exchange(path, {"version": "other-code", "argv": ["health"], "env": env})
    assert answer is not None and answer["refused"] is True
    assert proc.wait(timeout=30) == 0
    assert not path.exists()
    res = call(env, home.parent, "health")  # runs in-process now that the daemon is gone
    assert res.returncode == 0 and json.loads(res.stdout)["status"] == "ok"
    assert [line.split()[1:4] for line in served(home)] == [["health", "->", "refused"]]
    assert exchange(path, {"version": code_version()}) is None


def test_idle_daemon_exits_and_auto_mode_starts_one(home: Path, tmp_path: Path) -> None:
    env = clean_env(home) | {"AMBER_DAEMON": "auto", "AMBER_DAEMON_IDLE": "3"}
    path = socket_path(env)
    first = call(env, tmp_path, "store", "--content", "stored in-process, daemon starting")
    assert first.returncode == 0
    assert wait_for(path.exists)
    second = call(env, tmp_path, "auto", "--query", "daemon starting")
    assert second.returncode == 0
    assert [line.split()[1] for line in served(home)] == ["auto"]
    assert wait_for(lambda: not path.exists(), 30)  # idle timeout: it stops by itself


def test_stdin_survives_a_daemon_that_refuses(home: Path, tmp_path: Path) -> None:
    env = clean_env(home)
    path = socket_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    import socket
    import threading

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def refuse() -> None:  # a daemon from other code: reads the request, refuses it
        conn, _ = listener.accept()
        with conn:
            conn.recv(1 << 20)
            conn.sendall(json.dumps({"refused": True}).encode())

    thread = threading.Thread(target=refuse)
    thread.start()
    res = call(env, tmp_path, "store", "--content", "-", stdin=b"piped while a daemon refused")
    thread.join(timeout=30)
    listener.close()
    path.unlink()
    assert res.returncode == 0, res.stderr
    shown = call(env, tmp_path, "get", json.loads(res.stdout)["id"])
    assert json.loads(shown.stdout)["memory"]["content"] == "piped while a daemon refused"


def test_a_bad_request_is_answered_and_the_daemon_keeps_serving(daemon, tmp_path: Path) -> None:
    _proc, env, path = daemon
    gone = {
        "version": code_version(),
        "argv": ["health"],
        "env": env,
        "cwd": str(tmp_path / "deleted-folder"),
        "tty": False,
        "stdin": None,
    }
    answer = exchange(path, gone)
    assert answer is not None and answer["code"] == 2
    assert "AMBER_DAEMON=off" in json.loads(answer["stderr"])["hint"]
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(path))
        conn.sendall(b"{not json\n")
        assert json.loads(conn.recv(65536))["code"] == 2
    res = call(env, tmp_path, "health")
    assert res.returncode == 0 and json.loads(res.stdout)["status"] == "ok"
