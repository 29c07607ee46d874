"""Starting the store's daemon, standard library only: one caller at a time starts it (a lock
file in the data folder) and waits for it (bounded), so no caller races it for the store; and
`forward`, the console script's way to hand a call over, starting the daemon when needed."""

from __future__ import annotations

import os
import time

from amber.daemon import protocol
from amber.daemon.client import (
    DaemonError,
    Unreachable,
    address,
    argv_request,
    forwardable,
    live_socket,
    ping,
    remove_spool,
    run_argv,
    spool_import,
    stdin_for,
    stop,
)
from amber.paths import data_home

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Mapping

START_SECONDS = 60.0  # how long a caller waits for the daemon it started


def forward(
    argv: list[str], env: Mapping[str, str], start: bool, python: str, idle: str
) -> int | None:
    """The exit code of the call answered by the store's daemon (started first when `start`
    and none runs), or None when no daemon can answer it (the caller runs it itself)."""
    if not forwardable(env):
        return None
    path = address(env)
    home = data_home(env)
    argv, spool = spool_import(argv, home)
    try:
        stdin = stdin_for(argv)  # read once, sent with every attempt
        for _attempt in range(3):
            if path is not None:
                try:
                    return run_argv(path, argv_request(argv, env, stdin))
                except Unreachable:
                    pass  # gone, or stopping because it runs other code: start a fresh one
            if not start:
                return None
            path = ensure(env, python, idle)
            if path is None:
                return None
        raise DaemonError(
            "the store's daemon kept refusing this call",
            "stop it (amber serve --stop) and run the call again",
        )
    finally:
        if spool is not None:
            remove_spool(spool)


def ensure(env: Mapping[str, str], python: str, idle: str) -> str | None:
    """The store's daemon, started if none serves it; None when it could not start (it has
    exited: the call may run in this process without racing it)."""
    path = live_socket(env)
    if path is not None:
        return path
    record = protocol.read_address(data_home(env))
    other = record is not None and record.get("store_key") != protocol.store_key(env)
    if other and ping(record["socket"]) is not None:  # type: ignore[index]
        return None  # the folder's daemon serves its other backend: run this call here
    stale = address(env)
    if stale is not None and ping(stale) is not None:
        stop(stale)  # a daemon of other code: it must give the store up before ours starts
    home = data_home(env)
    try:
        os.makedirs(home, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(home, "daemon.start"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DaemonError(
            f"the data folder {home} cannot be used: {exc.strerror or exc}",
            "set AMBER_HOME to a folder you can write (default ~/.local/share/amber)",
        ) from exc
    try:
        _lock(fd, home)
        path = live_socket(env)  # another caller may have started it while we waited
        if path is not None:
            return path
        import subprocess  # only when a daemon is started: it costs every call otherwise

        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        log = os.open(os.path.join(home, protocol.LOG_FILE), flags, 0o600)
        try:
            # -E and the data folder as its working folder: neither the caller's PYTHONPATH
            # nor a project's own modules (python -m puts the working folder on sys.path) may
            # shadow amber's dependencies in the process every agent shares
            process = subprocess.Popen(
                [python, "-E", "-m", "amber", "serve", "--idle-timeout", idle],
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env={**env, "AMBER_HOME": home},
            )
        finally:
            os.close(log)
        return _wait(env, process)
    finally:
        os.close(fd)


def _lock(fd: int, home: str) -> None:
    import fcntl

    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise DaemonError(
                    f"another caller has been starting the daemon of {home} for "
                    f"{START_SECONDS:g} s",
                    "see $AMBER_HOME/daemon.log, or run with AMBER_DAEMON=off",
                ) from None
            time.sleep(0.02)


def _wait(env: Mapping[str, str], process: object) -> str | None:
    deadline = time.monotonic() + START_SECONDS
    delay = 0.01
    while time.monotonic() < deadline:
        path = live_socket(env)
        if path is not None:
            return path
        if process.poll() is not None:  # type: ignore[attr-defined] - a subprocess.Popen
            return None
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)
    raise DaemonError(
        f"the daemon did not answer within {START_SECONDS:g} s of starting",
        "see $AMBER_HOME/daemon.log; the store may be busy or the machine loaded",
    )
