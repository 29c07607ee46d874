"""Shared fixtures: every test gets its own AMBER_HOME and never reaches a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIM = ROOT / "execution" / "memory_manager.py"
CLOSED_PORT = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused


def clean_env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AMBER_", "QDRANT_", "OLLAMA_"))
    }
    # Tests run in-process unless they ask for the daemon (running_daemon), so none is left
    # running after them.
    env.update(
        AMBER_HOME=str(home), AMBER_EMBEDDER="builtin", OLLAMA_HOST=CLOSED_PORT, AMBER_DAEMON="off"
    )
    return env


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def doc(self) -> dict:
        return json.loads(self.stdout)

    @property
    def error(self) -> dict:
        return json.loads(self.stderr.strip().splitlines()[-1])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "amber-home"


@pytest.fixture
def shim(home: Path, tmp_path: Path):
    """Run `python3 execution/memory_manager.py ...` in a subprocess from an unrelated folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, str(SHIM), *args],
            cwd=elsewhere,
            input=stdin,
            capture_output=True,
            env=env or clean_env(home),
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    return run


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@contextmanager
def running_daemon(
    home: Path, idle_timeout: int = 120, env: dict[str, str] | None = None
) -> Iterator[tuple]:
    """`amber serve` for this test's AMBER_HOME (with `env`, default clean_env): yields
    (process, env, socket path); `env` has AMBER_DAEMON=auto, so calls made with it go
    through this daemon."""
    from amber.daemon import client

    env = dict(env or clean_env(home), AMBER_DAEMON="auto")
    proc = subprocess.Popen(
        [sys.executable, "-m", "amber", "serve", "--idle-timeout", str(idle_timeout)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def answering() -> bool:
        path = client.address(env)
        return path is not None and client.ping(path) is not None

    try:
        started = wait_for(lambda: answering() or proc.poll() is not None, 90)
        assert started and proc.poll() is None, proc.stderr.read().decode() if proc.poll() else ""
        yield proc, env, Path(client.address(env) or "")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture(params=["in-process", "daemon"])
def agent(request: pytest.FixtureRequest, home: Path, shim):
    """The contract command lines run both ways: directly, and forwarded to `amber serve`."""
    if request.param == "in-process":
        yield shim
        return
    with running_daemon(home) as (_proc, env, _path):
        yield lambda *args, **kw: shim(*args, env=kw.pop("env", env), **kw)
    log = home / "daemon.log"
    assert log.exists() and log.read_text().strip(), "no call was answered by the daemon"


def mcp_tools():
    """The MCP server's tools over the store of the cli fixture (its environment and folder)."""
    from amber.dispatch import Gateway
    from amber.mcp_server import Tools
    from amber.settings import load_settings

    env = dict(os.environ)
    return Tools(Gateway(env, Path.cwd(), load_settings(env)), Path(env["AMBER_HOME"]))


@pytest.fixture
def cli(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator:
    """Run the CLI in-process (same code path as the console script) and capture its output."""
    from amber.cli import run as run_cli

    for key in list(os.environ):
        if key.startswith(("AMBER_", "QDRANT_", "OLLAMA_")):
            monkeypatch.delenv(key)
    for key, value in clean_env(home).items():
        monkeypatch.setenv(key, value)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)

    def run(*args: str) -> Result:
        code = run_cli(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    yield run
