"""The daemon's wire protocol, standard library only: where a store's daemon listens, how a
request is framed, what a valid request is.

The daemon of a store records its address in the store's own folder (`$AMBER_HOME/daemon.addr`,
`key=value` lines), so every caller of that store finds the same daemon whatever its
XDG_RUNTIME_DIR. A request is one JSON object on one line, or a CLI call in the compact framing
of `amber.daemon.frames` (at most MAX_REQUEST bytes either way); the answer is one JSON object
(or a compact result), then the daemon closes the connection.
"""

from __future__ import annotations

import os
import zlib

from amber import paths

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:  # annotations only: importing collections costs every shim call ~1.6 ms
    from collections.abc import Mapping

PROTOCOL = 2
MAX_REQUEST = 64 * 1024 * 1024  # bytes of one request line
MAX_ARGS = 4096
READ_SECONDS = 10.0  # a request must arrive whole within this
# Commands that never run inside the daemon: they serve, stream or write for a long time.
LONG_RUNNING = frozenset({"serve", "mcp", "eval", "run", "init"})
KINDS = frozenset({"argv", "call", "ping", "stop"})
OWN_NAMES = frozenset({"QDRANT_URL", "QDRANT_API_KEY", "OLLAMA_HOST"})
ADDRESS_FILE = "daemon.addr"
LOG_FILE = "daemon.log"


def asks_help(argv: list[str]) -> bool:
    """--help, -h or --version anywhere: answered in the caller's own process, which knows the
    name it was called by (the daemon would say `amber`) and needs no store."""
    return any(arg in ("-h", "--help", "--version") for arg in argv)


def honoured(name: str) -> bool:
    """The environment variables a request may set: amber's own and the ecosystem's names."""
    return name.startswith("AMBER_") or name in OWN_NAMES


def _crc(text: str) -> str:
    return f"{zlib.crc32(text.encode('utf-8', 'surrogateescape')):08x}"


def store_key(env: Mapping[str, str]) -> str:
    """Which backend a caller means in its data folder: the embedded store, or a server (its
    URL and key only as a checksum, never written out)."""
    url, key = env.get("QDRANT_URL", ""), env.get("QDRANT_API_KEY", "")
    return "embedded" if not url else f"server-{_crc(url + chr(0) + key)}"


def socket_path(home: str) -> str:
    """The socket of the store's daemon: in the data folder itself when the path is short
    enough for a Unix socket (108 bytes), else in a private folder under /tmp named by it."""
    inside = os.path.join(home, "daemon.sock")
    if len(os.fsencode(inside)) < 100:
        return inside
    return os.path.join("/tmp", f"amber-{os.getuid()}", f"{_crc(home)}.sock")


def read_address(home: str) -> dict[str, str] | None:
    """What the store's daemon recorded about itself, or None when there is no record."""
    try:
        with open(os.path.join(home, ADDRESS_FILE), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    record = dict(line.split("=", 1) for line in lines if "=" in line)
    return record if record.get("socket") else None


def write_address(home: str, record: Mapping[str, object]) -> None:
    """Replace the record atomically (a reader never sees half of it), private to the user."""
    text = "".join(f"{key}={value}\n" for key, value in record.items())
    paths.replace_private(os.path.join(home, ADDRESS_FILE), text.encode("utf-8"))


def code_version() -> str:
    """Identifies the code on disk (every module's size and time): a daemon started from other
    code refuses calls and stops, so the next call starts one that runs this code."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stamps = []
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                stamps.append(f"{folder[len(package) :]}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return _crc(";".join(stamps))


def encode(message: Mapping[str, object]) -> bytes:
    import json  # only JSON requests need it; the CLI path uses the compact framing

    return json.dumps(message, ensure_ascii=True).encode("ascii") + b"\n"


class BadRequest(ValueError):
    """A request the daemon will not run: the message says why."""


def _strings(value: object, what: str, most: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{what} must be a list of strings")
    if len(value) > most:
        raise BadRequest(f"{what} has more than {most} items")
    return value


def _stdin(message: dict) -> bytes | None:
    """The caller's stdin: raw bytes from the compact framing, base64 text in JSON."""
    if "stdin_bytes" in message:
        raw = message["stdin_bytes"]
        return raw if isinstance(raw, bytes) else None
    text = message.get("stdin")
    if text is None:
        return None
    if not isinstance(text, str):
        raise BadRequest("stdin must be base64 text or null")
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("stdin is not valid base64") from None


def check_request(message: object, home: str) -> dict[str, object]:
    """The request, checked: its kind, argv a list of strings, env a map of strings to strings
    (only amber's own variables kept), AMBER_HOME this daemon's store. BadRequest otherwise."""
    if not isinstance(message, dict):
        raise BadRequest("a request must be a JSON object")
    kind = message.get("kind", "argv")
    if kind not in KINDS:
        raise BadRequest(f"unknown request kind {kind!r}")
    env = message.get("env", {})
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise BadRequest("env must map strings to strings")
    env = {k: v for k, v in env.items() if honoured(k)}
    if kind in ("ping", "stop"):
        return {"kind": kind, "env": env}
    if os.path.abspath(env.get("AMBER_HOME", "") or ".") != os.path.abspath(home):
        raise BadRequest(f"this daemon serves the store in {home}, not {env.get('AMBER_HOME')!r}")
    cwd = message.get("cwd")
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise BadRequest("cwd must be an absolute path")
    checked: dict[str, object] = {"kind": kind, "env": env, "cwd": cwd}
    checked["tty"] = message.get("tty") is True
    checked["columns"] = message.get("columns") if isinstance(message.get("columns"), int) else 0
    checked["stdin"] = _stdin(message)
    if kind == "argv":
        argv = _strings(message.get("argv"), "argv", MAX_ARGS)
        if argv and argv[0] in LONG_RUNNING:
            raise BadRequest(f"`{argv[0]}` runs in the caller's own process, not in the daemon")
        checked["argv"] = argv
    else:
        op, args = message.get("op"), message.get("args", {})
        if not isinstance(op, str) or not isinstance(args, dict):
            raise BadRequest("a call needs op (a string) and args (an object)")
        checked.update(op=op, args=args)
    return checked
