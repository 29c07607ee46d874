"""The daemon's server: the store's one owner answers requests over a Unix socket (0600).

Connections are served concurrently, each on a thread of its own with a read deadline and a
size limit, so an idle, slow, huge or garbled request delays nobody else and cannot stop the
daemon. What a request does is decided by the runner the front end hands in; this module never
imports the CLI. SIGTERM and SIGINT stop it cleanly (socket and address removed).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amber.daemon import frames, protocol

Runner = Callable[[dict[str, Any]], dict[str, Any]]  # a checked request -> its answer
After = Callable[[], None]  # work a call leaves for after its answer (writing counters)
MAX_CLIENTS = 256  # connections served at once; more are told the daemon is busy


def _error(message: str, code: int = 2) -> dict[str, Any]:
    problem = {"error": "invalid_input", "message": message, "hint": "see `amber serve --help`"}
    return {"code": code, "stdout": "", "stderr": json.dumps(problem) + "\n", "error": problem}


def _compact_size(data: bytearray) -> int | None:
    """A compact request's whole size once its header line has arrived, else None."""
    if not data.startswith(frames.MAGIC) or b"\n" not in data:
        return None
    header = bytes(data[: data.index(b"\n")])
    words = header.split()
    if len(words) != 4 or not words[3].isdigit():
        raise protocol.BadRequest("the request header is malformed")
    size = len(header) + 1 + int(words[3])
    if size > protocol.MAX_REQUEST:
        raise protocol.BadRequest(f"the request is over {protocol.MAX_REQUEST} bytes")
    return size


def read_request(conn: socket.socket, deadline: float) -> bytes:
    """One request, read within the deadline and at most MAX_REQUEST bytes: a JSON line up to
    its newline, or a compact header and exactly the payload it announces."""
    data = bytearray()
    while True:
        size = _compact_size(data)
        if size is not None and len(data) >= size:
            return bytes(data[:size])
        compact = data.startswith(frames.MAGIC[: len(data)]) and len(data) > 0
        if not compact and data.endswith(b"\n"):
            return bytes(data)
        left = deadline - time.monotonic()
        if left <= 0:
            raise protocol.BadRequest(
                f"the request did not arrive within {protocol.READ_SECONDS} s"
            )
        conn.settimeout(left)
        try:
            chunk = conn.recv(1 << 16)
        except TimeoutError:
            raise protocol.BadRequest(
                f"the request did not arrive within {protocol.READ_SECONDS} s"
            ) from None
        if not chunk:
            return bytes(data)  # the caller stopped sending: what came is the request
        data += chunk
        if len(data) > protocol.MAX_REQUEST:
            raise protocol.BadRequest(f"the request is over {protocol.MAX_REQUEST} bytes")


def claim(home: Path) -> int | None:
    """The right to be this store's daemon: a lock file in the store's folder, held until the
    process ends. None when another daemon holds it."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(home / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class Daemon:
    def __init__(
        self, home: Path, runner: Runner, idle_timeout: float, after: After | None = None
    ) -> None:
        self.home, self.runner, self.idle_timeout = home, runner, idle_timeout
        self.after = after
        self.version = protocol.code_version()
        self.socket_path = Path(protocol.socket_path(str(home)))
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._active = 0
        self._active_lock = threading.Lock()
        self._last = time.monotonic()
        self._log_lock = threading.Lock()

    # -- one connection --------------------------------------------------------------------
    def _answer(self, raw: bytes) -> tuple[dict[str, Any], str]:
        if raw.startswith(frames.MAGIC):
            header, _, payload = raw.partition(b"\n")
            try:
                message: Any = frames.decode_argv(header, payload, protocol.MAX_ARGS)
            except frames.FrameError as exc:
                return _error(str(exc)), "garbled"
            return self._run(message)
        try:
            message = json.loads(raw)
        except ValueError:
            return _error("the request is not valid JSON"), "garbled"
        return self._run(message)

    def _run(self, message: Any) -> tuple[dict[str, Any], str]:
        if isinstance(message, dict) and message.get("kind") == "ping":
            return {
                "version": self.version,
                "pid": os.getpid(),
                "protocol": protocol.PROTOCOL,
            }, "ping"
        if isinstance(message, dict) and message.get("version") not in (None, self.version):
            # The code on disk changed (or the caller is confused): refuse, and let a caller
            # that runs the code on disk ask this daemon to stop (amber.daemon.starter.ensure).
            return {"refused": "the daemon runs other code", "code": 3}, "refused"
        try:
            checked = protocol.check_request(message, str(self.home))
        except protocol.BadRequest as exc:
            return _error(str(exc)), "bad"
        if checked["kind"] == "stop":
            self._stop.set()
            return {"code": 0, "stopping": True, "pid": os.getpid()}, "stop"
        label = checked["argv"][0] if checked["kind"] == "argv" and checked["argv"] else ""
        return self.runner(checked), label or checked.get("op", "?")

    def _serve(self, conn: socket.socket) -> None:
        started = time.perf_counter()
        label, answer = "?", {}
        try:
            with conn:
                raw = b""
                try:
                    raw = read_request(conn, time.monotonic() + protocol.READ_SECONDS)
                    answer, label = self._answer(raw)
                except protocol.BadRequest as exc:
                    answer, label = _error(str(exc)), "bad"
                try:
                    conn.settimeout(30.0)
                    conn.sendall(self._encode(answer, compact=raw.startswith(frames.MAGIC)))
                except OSError:
                    label += " (caller gone)"
            self._after_answer()
        finally:
            self._log(label, answer.get("code", "-"), started)
            with self._active_lock:
                self._active -= 1
                self._last = time.monotonic()
            self._slots.release()

    def _after_answer(self) -> None:
        """The work a call left for after its answer, once the caller has it (the connection
        is closed); a failure there is logged, and the daemon goes on serving."""
        if self.after is None:
            return
        try:
            self.after()
        except Exception as exc:  # noqa: BLE001 - logged: no caller is waiting for it
            self._write_log(f"after an answer: {type(exc).__name__}: {exc}"[:300])

    @staticmethod
    def _encode(answer: dict[str, Any], compact: bool) -> bytes:
        if not compact:
            return json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogateescape")
        if answer.get("refused"):
            return frames.REFUSED + b" " + str(answer["refused"]).encode() + b"\n"
        code = answer.get("code", 4)
        stdout, stderr = str(answer.get("stdout", "")), str(answer.get("stderr", ""))
        return frames.encode_result(code if isinstance(code, int) else 4, stdout, stderr)

    def _busy(self, conn: socket.socket) -> None:
        problem = {
            "error": "backend_unavailable",
            "message": f"the daemon is serving {MAX_CLIENTS} connections already",
            "hint": "retry in a moment",
        }
        with conn:
            try:
                conn.settimeout(1.0)
                conn.sendall(
                    json.dumps({"code": 3, "stdout": "", "stderr": json.dumps(problem)}).encode()
                )
            except OSError:
                self._log("busy (caller gone)", 3, time.perf_counter())

    def _log(self, label: str, code: Any, started: float) -> None:
        """One line per call: the command and its exit code, never its arguments or content."""
        took = (time.perf_counter() - started) * 1000
        self._write_log(f"{label[:40]} -> {code} {took:.1f} ms")

    def _write_log(self, text: str) -> None:
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n"
        with self._log_lock:
            fd = os.open(
                self.home / protocol.LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
            )
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)

    # -- the accept loop -----------------------------------------------------------------------
    def _idle(self) -> bool:
        with self._active_lock:
            return self._active == 0 and time.monotonic() - self._last >= self.idle_timeout

    def serve(self, store_key: str) -> int:
        """Serve until idle for idle_timeout seconds, stopped, or signalled; exit code 0.
        The caller holds the store's claim (`claim`) for the whole time."""
        server = self.listen()
        try:
            self._publish(store_key)
            self._handle_signals()
            while not self._stop.is_set() and not self._idle():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                self._start(conn)
            self.finish(server)
        finally:
            server.close()
            self._unpublish()
        return 0

    def listen(self) -> socket.socket:
        """The store's socket, bound and listening (0600)."""
        self.socket_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.socket_path.unlink(missing_ok=True)  # left by a killed daemon: we own it now
            server.bind(str(self.socket_path))
            os.chmod(self.socket_path, 0o600)
            server.listen(128)
            server.settimeout(0.25)
        except BaseException:
            server.close()
            raise
        return server

    def _start(self, conn: socket.socket) -> None:
        if not self._slots.acquire(blocking=False):
            self._busy(conn)
            return
        with self._active_lock:
            self._active += 1
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def finish(self, server: socket.socket) -> None:
        """Stopping: new callers no longer find this daemon, the connections already queued
        on the socket are served like any other (closing it would reset them: the caller
        would see its call cut off), then the calls in flight finish."""
        self._unpublish()
        server.setblocking(False)
        while True:
            try:
                conn, _ = server.accept()
            except (BlockingIOError, InterruptedError):
                break
            conn.setblocking(True)
            self._start(conn)
        self._drain()

    def _drain(self, seconds: float = 30.0) -> None:
        """Let calls in flight finish (writes included) before the store closes."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._active_lock:
                if self._active == 0:
                    return
            time.sleep(0.02)

    def _publish(self, store_key: str) -> None:
        record = {
            "socket": str(self.socket_path),
            "pid": os.getpid(),
            "protocol": protocol.PROTOCOL,
            "version": self.version,
            "store_key": store_key,
            "started_at": round(time.time(), 3),
        }
        protocol.write_address(str(self.home), record)

    def _unpublish(self) -> None:
        record = protocol.read_address(str(self.home))
        if record is not None and record.get("pid") == str(os.getpid()):
            (self.home / protocol.ADDRESS_FILE).unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)

    def _handle_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, lambda *_: self._stop.set())
