"""`amber serve`: the warm path. One process keeps the engine, the store and the embedder loaded
and answers CLI calls forwarded over a Unix socket, one at a time (so writes are serialized and
agents never meet the store lock)."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from amber.daemon.client import FORWARDED_ENV, code_version, data_home, socket_path
from amber.errors import BackendUnavailable


class _Output(io.StringIO):
    """Captured stdout that answers isatty() as the caller's terminal would."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@contextlib.contextmanager
def _as_caller(body: dict[str, Any]):
    """The caller's working directory, environment, stdin and stdout, for one call."""
    saved_env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}
    saved_cwd = os.getcwd()
    for key in saved_env:
        del os.environ[key]
    os.environ.update(body.get("env", {}))
    stdin = io.TextIOWrapper(
        io.BytesIO(base64.b64decode(body.get("stdin") or "")), encoding="utf-8"
    )
    out, err = _Output(bool(body.get("tty"))), _Output(False)
    old = sys.stdin, sys.stdout, sys.stderr
    try:
        os.chdir(body.get("cwd") or saved_cwd)
        sys.stdin, sys.stdout, sys.stderr = stdin, out, err
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
        os.chdir(saved_cwd)
        for key in [k for k in os.environ if k.startswith(FORWARDED_ENV)]:
            del os.environ[key]
        os.environ.update(saved_env)


def handle(body: dict[str, Any], version: str) -> dict[str, Any]:
    if body.get("version") != version:
        return {"refused": True, "reason": "the daemon runs other code; it is stopping"}
    from amber.cli import run

    with _as_caller(body) as (out, err):
        code = run(list(body.get("argv", [])))
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def _read_request(conn: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return dict(json.loads(data))


def _log(path: Path, body: dict[str, Any], answer: dict[str, Any], started: float) -> None:
    """One line per call: the command and its exit code, never its arguments or content."""
    command = (body.get("argv") or ["?"])[0]
    took = (time.perf_counter() - started) * 1000
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(
            f"{time.strftime('%H:%M:%S')} {command} -> {answer.get('code', 'refused')} "
            f"{took:.1f} ms\n"
        )


def serve(idle_timeout: float) -> int:
    """Serve until idle for `idle_timeout` seconds; returns the process exit code."""
    from amber import compose

    path = socket_path(dict(os.environ))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    guard = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BackendUnavailable(
            f"a daemon already serves {path}", hint="stop it first, or let calls use it"
        ) from None
    if path.exists():
        path.unlink()  # left by a daemon that was killed: we hold the singleton lock now
    version = code_version()
    log = data_home(dict(os.environ)) / "daemon.log"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(64)
    server.settimeout(idle_timeout)
    compose.keep_warm(True)
    sys.stderr.write(f"amber serve: listening on {path} (idle timeout {idle_timeout:g} s)\n")
    try:
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                return 0
            with conn:
                started = time.perf_counter()
                body: dict[str, Any] = {}
                try:
                    body = _read_request(conn)
                    answer = handle(body, version)
                except (ValueError, OSError) as exc:  # a garbled request or a vanished cwd
                    problem = {
                        "error": "invalid_input",
                        "message": f"the daemon could not run this call: {exc}",
                        "hint": "run it with AMBER_DAEMON=off",
                    }
                    answer = {"code": 2, "stdout": "", "stderr": json.dumps(problem) + "\n"}
                with contextlib.suppress(OSError):  # the caller may have gone away
                    conn.sendall(json.dumps(answer).encode())
            _log(log, body, answer, started)
            if answer.get("refused"):
                return 0
    finally:
        server.close()
        path.unlink(missing_ok=True)
        compose.keep_warm(False)
        os.close(guard)
