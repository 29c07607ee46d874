"""The daemon client, standard library only: a call answered by the store's daemon never
imports amber's heavy modules, so the shims can use it under any python3.

`run_argv` hands a CLI call to the daemon and prints its answer; `call` runs one operation
there and returns its document; `forward_call` is the shims' way in. Starting a daemon is
`amber.daemon.starter`.
"""

from __future__ import annotations

import json
import os
import sys
import time

try:  # the C module alone: the `socket` wrapper imports enum, selectors and more (~6 ms)
    import _socket as sockets
except ImportError:  # an interpreter without it (not CPython): the wrapper has the same calls
    import socket as sockets  # type: ignore[no-redef]
from amber.daemon import frames, protocol
from amber.paths import cache_home, data_home

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:  # annotations only: importing collections costs every shim call ~1.6 ms
    from collections.abc import Mapping

# Commands that change the store or read it: worth starting a daemon for.
STORE_COMMANDS = frozenset(
    {
        "auto",
        "store",
        "retrieve",
        "cache-store",
        "cache-clear",
        "list",
        "get",
        "forget",
        "health",
        "route",
        "export",
        "import",
        "reindex",
        "optimize",
        "knowledge-sync",
        "bm25-sync",
        "hook",
    }
)
STDIN_FLAGS = frozenset({"--content", "-c", "--response", "-r"})


class DaemonError(Exception):
    """The daemon could not be reached or started; the message says why and what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def request_env(env: Mapping[str, str]) -> dict[str, str]:
    """What a request carries: amber's own variables, with the folders resolved here (the
    daemon does not see the caller's HOME or XDG_* variables)."""
    out = {k: v for k, v in env.items() if protocol.honoured(k)}
    out["AMBER_HOME"] = data_home(env)
    out["AMBER_CACHE_DIR"] = cache_home(env)
    return out


class Unreachable(Exception):
    """No daemon listens at the address (or it refused: it runs other code and is stopping)."""


def code_version() -> str:
    """The version of the code on disk, read again on every call: a long-lived caller (an
    MCP server) must not keep naming code that has since been replaced."""
    return protocol.code_version()


def _send(path: str, data: bytes, timeout: float | None) -> bytes:
    """Send one request and read the whole answer. Unreachable when nothing answers the
    connection; DaemonError when the daemon goes away in the middle of the call."""
    try:
        conn = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
    except OSError as exc:
        raise Unreachable(str(exc)) from exc
    try:
        try:
            conn.settimeout(2.0)
            conn.connect(path)
        except OSError as exc:
            raise Unreachable(str(exc)) from exc
        try:
            conn.settimeout(timeout)
            conn.sendall(data)
            chunks = []
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:
            raise DaemonError(
                f"the daemon stopped while answering this call ({exc})",
                "see $AMBER_HOME/daemon.log; run the call again (a new daemon starts)",
            ) from exc
    finally:
        conn.close()
    if not chunks:  # connected, then closed with no answer at all
        raise DaemonError(
            "the daemon ended the call without answering: it stopped or was killed meanwhile",
            "run the call again (a new daemon starts); $AMBER_HOME/daemon.log says why it ended",
        )
    return b"".join(chunks)


def exchange(path: str, message: Mapping[str, object], timeout: float | None) -> dict:
    """One JSON request (ping, stop, an operation call) and its JSON answer."""
    import json

    raw = _send(str(path), protocol.encode(message), timeout)
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise DaemonError(
            "the daemon's answer was cut off or garbled",
            "see $AMBER_HOME/daemon.log; run the call again",
        )
    if answer.get("refused"):
        raise Unreachable(str(answer["refused"]))
    return answer


def run_argv(path: str, request: bytes) -> int:
    """A CLI call in the compact framing: print the daemon's output, return its exit code."""
    raw = _send(path, request, None)
    if raw.startswith(frames.REFUSED):
        raise Unreachable(raw.decode("utf-8", "replace").strip())
    try:
        code, out, err = frames.decode_result(raw)
    except frames.FrameError as exc:
        raise DaemonError(
            f"the daemon's answer was cut off or garbled ({exc})",
            "see $AMBER_HOME/daemon.log; run the call again",
        ) from exc
    try:
        if out:  # an error has nothing for stdout: a full one must not hide it
            sys.stdout.flush()
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
    except OSError as exc:  # a full disk or a closed pipe behind stdout: the call itself ran
        sys.stderr.write(json.dumps(unwritable(exc)) + "\n")
        return 3
    sys.stderr.buffer.write(err)
    sys.stderr.buffer.flush()
    return code


def unwritable(exc: OSError) -> dict[str, str]:
    """The error for an answer stdout would not take."""
    return {
        "error": "backend_unavailable",
        "message": f"the answer could not be written to stdout: {exc.strerror or exc}",
        "hint": "check where stdout goes (a full disk, a closed pipe); the call itself ran",
    }


def address(env: Mapping[str, str]) -> str | None:
    """The socket the store's daemon recorded, if any (not checked: the call will tell)."""
    record = protocol.read_address(data_home(env))
    if record is None or record.get("store_key") != protocol.store_key(env):
        return None
    return record["socket"]


def ping(path: str) -> dict | None:
    try:
        return exchange(path, {"kind": "ping", "env": {}}, 5.0)
    except (Unreachable, DaemonError):
        return None


def live_socket(env: Mapping[str, str]) -> str | None:
    """The socket of the daemon serving this caller's store, when one runs this code."""
    path = address(env)
    if path is None:
        return None
    answer = ping(path)
    return path if answer is not None and answer.get("version") == code_version() else None


def stop(path: str, seconds: float = 30.0) -> bool:
    """Ask the daemon at `path` to stop and wait (bounded) until it is gone; True if it was
    running. A daemon finishes the calls in flight first."""
    try:
        exchange(path, {"kind": "stop", "env": {}}, 10.0)
    except (Unreachable, DaemonError):
        return False
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and ping(path) is not None:
        time.sleep(0.02)
    return True


def reads_stdin(argv: list[str]) -> bool:
    """Whether the command reads stdin (`--content -`, `--response -`, `hook`, `import -`)."""
    flagged = any(argv[i] in STDIN_FLAGS and argv[i + 1] == "-" for i in range(len(argv) - 1))
    return flagged or argv[:1] == ["hook"] or (argv[:1] == ["import"] and "-" in argv[1:])


def stdin_for(argv: list[str]) -> bytes | None:
    """The caller's stdin, when the command reads it."""
    if not reads_stdin(argv) or argv[:1] == ["import"]:
        return None
    return sys.stdin.buffer.read(protocol.MAX_REQUEST // 2)


def spool_import(argv: list[str], home: str) -> tuple[list[str], str | None]:
    """`import -` reads a file twice: its stdin is copied to a private file the daemon reads."""
    if argv[:1] != ["import"] or "-" not in argv[1:]:
        return argv, None
    spool = os.path.join(home, f".import-{os.getpid()}.jsonl")
    try:
        os.makedirs(home, mode=0o700, exist_ok=True)
        fd = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise DaemonError(
            f"the data folder {home} cannot hold the import: {exc.strerror or exc}",
            "set AMBER_HOME to a folder you can write, or import from a file",
        ) from exc
    with os.fdopen(fd, "wb") as handle:
        for block in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
            handle.write(block)
    return [spool if a == "-" else a for a in argv], spool


def forwardable(env: Mapping[str, str]) -> bool:
    """Whether this process can hand its call over at all. Without a working folder, with
    stdout closed or with a relative or empty AMBER_HOME the call runs in-process, where the
    CLI reports each of those as the error it is."""
    home = env.get("AMBER_HOME")
    unusable = home is not None and not os.path.isabs(os.path.expanduser(home))
    return working_folder() is not None and sys.stdout is not None and not unusable


def working_folder() -> str | None:
    """The caller's folder; None when it no longer exists (the call then runs in-process,
    which says so with exit 2)."""
    try:
        return os.getcwd()
    except FileNotFoundError:
        return None


def argv_request(argv: list[str], env: Mapping[str, str], stdin: bytes | None) -> bytes:
    """The compact request, naming the code on disk now (it may have changed between two
    attempts of one call)."""
    tty = sys.stdout is not None and sys.stdout.isatty()
    columns = os.get_terminal_size(sys.stdout.fileno()).columns if tty else 0
    return frames.encode_argv(
        code_version(), argv, request_env(env), working_folder() or "/", tty, columns, stdin
    )


def remove_spool(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def call(
    env: Mapping[str, str], path: str, op: str, args: Mapping[str, object], cwd: object
) -> dict:
    """Run one operation in the daemon: {"code", "doc"} or {"code", "error"}."""
    message = {
        "kind": "call",
        "version": code_version(),
        "op": op,
        "args": dict(args),
        "cwd": str(cwd),
        "env": request_env(env),
    }
    return exchange(path, message, None)


def forward_call(argv: list[str]) -> int | None:
    """For the stdlib shims under any python3: the exit code of the call when the store's
    daemon is already running, else None (amber's own interpreter takes over)."""
    env = os.environ
    if env.get("AMBER_DAEMON", "auto") == "off" or (argv[:1] and argv[0] in protocol.LONG_RUNNING):
        return None
    if protocol.asks_help(argv):
        return None
    path = address(env) if forwardable(env) else None
    if path is None or reads_stdin(argv):
        return None  # stdin can be read once: amber's own interpreter takes the whole call
    try:
        return run_argv(path, argv_request(argv, env, None))
    except Unreachable:
        return None
    except DaemonError as exc:
        import json

        error = {"error": "backend_unavailable", "message": exc.message, "hint": exc.hint}
        sys.stderr.write(json.dumps(error) + "\n")
        return 3
