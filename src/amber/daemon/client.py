"""The forwarding client: hands a CLI call to a running `amber serve`, else runs it in-process.

Standard library only, so a call that the warm daemon answers never imports the heavy modules.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

FORWARDED_ENV = ("AMBER_", "QDRANT_", "OLLAMA_")
STDIN_FLAGS = {"--content", "-c", "--response", "-r"}
# Long-running or streaming commands stay in the caller's process.
IN_PROCESS = {"serve", "mcp", "run", "eval"}


def data_home(env: dict[str, str]) -> Path:
    """$AMBER_HOME, else the XDG data folder (what platformdirs gives on Linux)."""
    if env.get("AMBER_HOME"):
        return Path(env["AMBER_HOME"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "amber"


def socket_path(env: dict[str, str]) -> Path:
    home = data_home(env).resolve()
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
        return Path(runtime) / f"amber-{digest}.sock"
    return home / "amberd.sock"


def code_version() -> str:
    """Identifies the code on disk: a daemon built from other code is refused."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(package)}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _needs_stdin(argv: list[str]) -> bool:
    pairs = zip(argv, argv[1:], strict=False)
    return any(flag in STDIN_FLAGS and value == "-" for flag, value in pairs) or (
        len(argv) >= 2 and argv[0] == "import" and "-" in argv[1:]
    )


def request(argv: list[str], env: dict[str, str]) -> dict:
    body = {
        "version": code_version(),
        "argv": argv,
        "cwd": os.getcwd(),
        "env": {k: v for k, v in env.items() if k.startswith(FORWARDED_ENV)},
        "tty": sys.stdout.isatty(),
        "stdin": None,
    }
    if _needs_stdin(argv):
        body["stdin"] = base64.b64encode(sys.stdin.buffer.read()).decode()
    return body


def exchange(path: Path, body: dict, timeout: float | None = None) -> dict | None:
    """One request and its answer over the Unix socket; None when no daemon answers."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(2.0)
            conn.connect(str(path))
            conn.settimeout(timeout)
            conn.sendall(json.dumps(body).encode() + b"\n")
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError:
        return None
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return None


def forward(argv: list[str], env: dict[str, str]) -> int | None:
    """The exit code of the call answered by the daemon, or None to run it in-process."""
    path = socket_path(env)
    if not path.exists():
        return None
    body = request(argv, env)
    answer = exchange(path, body)
    if answer is None or answer.get("refused"):
        if body["stdin"] is not None:  # already read: hand it to the in-process run instead
            raw = base64.b64decode(body["stdin"])
            sys.stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
        return None
    sys.stdout.write(answer.get("stdout", ""))
    sys.stderr.write(answer.get("stderr", ""))
    return int(answer.get("code", 4))


def start_daemon(env: dict[str, str]) -> None:
    """Start `amber serve` detached; this call still runs in-process."""
    subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amber",
            "serve",
            "--idle-timeout",
            env.get("AMBER_DAEMON_IDLE", "900"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )


def forward_call(argv: list[str]) -> int | None:
    """For the stdlib shims: the exit code of the call a running daemon answered, else None."""
    env = dict(os.environ)
    if env.get("AMBER_DAEMON") == "off" or (argv[:1] and argv[0] in IN_PROCESS):
        return None
    return forward(argv, env)
