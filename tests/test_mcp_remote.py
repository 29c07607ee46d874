"""`amber mcp --http` on an interface other machines reach: opt-in, a bearer token, Host checks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import clean_env

BODY = (
    b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": '
    b'"2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}'
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", data=BODY, method="POST")
    for key, value in {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        **headers,
    }.items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_remote_listener_needs_opt_in_a_token_and_a_known_host(home: Path, tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "amber", "mcp", "--http", str(port), "--host", "0.0.0.0"]
    refused = subprocess.run(cmd, env=clean_env(home), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr
    weak = dict(clean_env(home), AMBER_MCP_TOKEN="short")
    short = subprocess.run(
        [*cmd, "--allow-remote"], env=weak, capture_output=True, text=True, timeout=60
    )
    assert short.returncode == 2 and "at least 16" in short.stderr
    token = "t" * 32
    env = dict(clean_env(home), AMBER_MCP_TOKEN=token)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*cmd, "--allow-remote"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while "streamable HTTP" not in log.read_text() or post(port, {}) == 0:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        host = {"Host": "127.0.0.1"}
        assert post(port, host) == 401, "no token"
        assert post(port, {**host, "Authorization": "Bearer " + "x" * 32}) == 401
        assert post(port, {"Host": "evil.example.com", "Authorization": f"Bearer {token}"}) == 421
        assert post(port, {**host, "Authorization": f"Bearer {token}"}) == 200
        assert "clients must name one of these hosts" in log.read_text()
        assert token not in log.read_text(), "a chosen token is never printed"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
