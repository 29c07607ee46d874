"""`amber serve`: the daemon's runner. It opens the store once, then answers each request
(a CLI call as argv, or one operation as a call) with that request's own environment, working
folder and input, on the request's own thread."""

from __future__ import annotations

import contextvars
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

from amber.cli import invocation
from amber.cli.invocation import CliRunner, Invocation
from amber.compose import WarmRuntime
from amber.crashlog import internal_error
from amber.daemon import client, protocol, server
from amber.errors import AmberError
from amber.settings import Settings, load_settings
from amber.stores.edge import EdgeStore
from amber.stores.rebuild import BackgroundIndexer
from amber.usecases import Context, call, exit_code


class _Output(io.StringIO):
    """Captured output that answers isatty() as the caller's terminal would."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class _Routed:
    """sys.stdout / sys.stderr / sys.stdin for a process that serves many requests at once:
    each thread writes to (or reads from) its own request's stream."""

    def __init__(self, fallback: Any, var: contextvars.ContextVar[Any]) -> None:
        self._fallback, self._var = fallback, var

    def _target(self) -> Any:
        found = self._var.get()
        return self._fallback if found is None else found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def write(self, text: str) -> int:
        return self._target().write(text)

    def isatty(self) -> bool:
        return bool(self._target().isatty())


_stdout: contextvars.ContextVar[Any] = contextvars.ContextVar("amber_stdout", default=None)
_stderr: contextvars.ContextVar[Any] = contextvars.ContextVar("amber_stderr", default=None)
_stdin: contextvars.ContextVar[Any] = contextvars.ContextVar("amber_stdin", default=None)


def _route_streams() -> None:
    sys.stdout = _Routed(sys.stdout, _stdout)  # type: ignore[assignment]
    sys.stderr = _Routed(sys.stderr, _stderr)  # type: ignore[assignment]
    sys.stdin = _Routed(sys.stdin, _stdin)  # type: ignore[assignment]


class Runner:
    """What the daemon does with a checked request."""

    def __init__(self, warm: WarmRuntime, home: Path, cli: CliRunner) -> None:
        self.warm, self.home, self.cli = warm, home, cli

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            settings = load_settings(request["env"])
        except AmberError as exc:
            return _failed(exc.to_dict(), exc.exit_code)
        if request["kind"] == "call":
            return self._call(request, settings)
        return self._argv(request)

    def _call(self, request: dict[str, Any], settings: Settings) -> dict[str, Any]:
        ctx = Context(settings, Path(request["cwd"]), self.warm)
        try:
            doc = call(ctx, request["op"], request["args"])
        except AmberError as exc:
            return _failed(exc.to_dict(), exc.exit_code)
        except Exception:  # noqa: BLE001 - the daemon keeps serving; the caller gets exit 4
            return _failed(internal_error(self.home, f"daemon call {request['op']}"), 4)
        return {"code": exit_code(request["op"], doc), "doc": doc}

    def _argv(self, request: dict[str, Any]) -> dict[str, Any]:
        raw = request["stdin"] or b""
        out, err = _Output(request["tty"]), _Output(False)
        stdin = io.BytesIO(raw)
        call_of = Invocation(
            env=request["env"],
            cwd=Path(request["cwd"]),
            runtimes=self.warm,
            stdin=stdin,
            stdin_tty=False,
            columns=request["columns"] or None,
        )
        tokens = [
            _stdout.set(out),
            _stderr.set(err),
            _stdin.set(io.TextIOWrapper(stdin, encoding="utf-8")),
        ]
        try:
            code = self.cli(request["argv"], call_of)
        finally:
            for var, token in zip((_stdout, _stderr, _stdin), tokens, strict=True):
                var.reset(token)
        return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def _failed(error: dict[str, Any], code: int) -> dict[str, Any]:
    from amber.cli.render import dumps

    return {"code": code, "error": error, "stdout": "", "stderr": dumps(error) + "\n"}


def run_daemon(settings: Settings, idle_timeout: float, cli: CliRunner) -> int:
    """Claim the store, open it with its model, then serve until idle or stopped; `cli` runs
    the requests that are whole command lines."""
    home = settings.home
    claim = server.claim(home)
    if claim is None:
        sys.stderr.write(f"amber serve: a daemon already serves {home}\n")
        return 0
    try:
        os.umask(0o077)
        warm = WarmRuntime(settings)
        indexer = BackgroundIndexer(
            lambda: index_target(warm, settings), settings.index_threshold, _note
        )
        try:
            _route_streams()
            indexer.start()
            daemon = server.Daemon(home, Runner(warm, home, cli), idle_timeout, warm.flush)
            sys.stderr.write(
                f"amber serve: pid {os.getpid()} serves {home} on {daemon.socket_path} "
                f"(idle timeout {idle_timeout:g} s)\n"
            )
            return daemon.serve(protocol.store_key(invocation.current().env))
        finally:
            indexer.stop()
            warm.close()
    finally:
        os.close(claim)


def index_target(warm: WarmRuntime, settings: Settings) -> tuple[Any, str, Any] | None:
    """The embedded store's memories collection and its write lock, as the runtime is now."""
    runtime = warm.runtime
    if not isinstance(runtime.store, EdgeStore):
        return None
    return runtime.store, runtime.memory(settings).collection, runtime.write_lock


def _note(line: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")  # as the call lines of the log have
    sys.stderr.write(f"{stamp} amber serve: {line}\n")  # the daemon's stderr: its log file
    sys.stderr.flush()


def daemon_status(settings: Settings) -> dict[str, Any]:
    env = invocation.current().env
    record = protocol.read_address(str(settings.home))
    live = client.live_socket(env) is not None
    return {
        "status": "running" if live else "stopped",
        "pid": record.get("pid") if record and live else None,
        "socket": record.get("socket") if record and live else None,
    }


def stop_daemon(settings: Settings) -> dict[str, Any]:
    path = client.address(invocation.current().env)
    was_running = path is not None and client.stop(path)
    return {"status": "stopped", "was_running": was_running}
