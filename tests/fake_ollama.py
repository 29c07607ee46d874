"""A local stand-in for an Ollama server: /api/tags, /api/embed and streaming /api/chat.

It records every request so tests can assert on what the client sent. Modes change how the
server answers every request: "ok", "hang" (sleep `delay` seconds before answering), "slow"
(only embeddings wait `delay` seconds; /api/tags answers at once), "fail" (HTTP 500) and "drop"
(a streaming chat closes the connection after its first chunk).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "hang", "slow", "fail", "drop")


@dataclass
class Recorded:
    method: str
    path: str
    body: Any  # parsed JSON body, None for a GET


def fake_vector(text: str, dim: int) -> list[float]:
    """A deterministic, deliberately not normalised vector for `text`."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    return [rng.uniform(-3.0, 3.0) for _ in range(dim)]


def _full_name(model: str) -> str:
    """Ollama's rule: a name without a tag means the ":latest" tag."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked streams, so a dropped connection is detectable
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._dispatch(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self._dispatch(json.loads(raw) if raw else {})

    def _dispatch(self, body: Any) -> None:
        fake = self.server.fake
        fake.record(Recorded(self.command, self.path, body))
        if fake.mode == "hang" or (fake.mode == "slow" and self.path == "/api/embed"):
            fake.released.wait(fake.delay)
        if fake.mode == "fail":
            return self._send_json(500, {"error": "llama runner process has terminated"})
        route = {
            ("GET", "/api/tags"): self._tags,
            ("POST", "/api/embed"): self._embed,
            ("POST", "/api/chat"): self._chat,
        }.get((self.command, self.path))
        if route is None:
            return self._send_json(404, {"error": f"no route {self.command} {self.path}"})
        if body is not None and not fake.has_model(body.get("model", "")):
            message = f'model "{body.get("model", "")}" not found, try pulling it first'
            return self._send_json(404, {"error": message})
        route(body)

    def _tags(self, _body: Any) -> None:
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": "2025-01-01T00:00:00Z",
                "size": 274302450,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": {"format": "gguf", "family": "nomic-bert"},
            }
            for name in self.server.fake.models
        ]
        self._send_json(200, {"models": models})

    def _embed(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        if fake.max_input_chars is not None and any(len(t) > fake.max_input_chars for t in texts):
            return self._send_json(400, {"error": "the input length exceeds the context length"})
        vectors = [fake_vector(text, fake.dim) for text in texts]
        self._send_json(200, {"model": body["model"], "embeddings": vectors})

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.server.fake

        def part(content: str, done: bool) -> dict[str, Any]:
            message = {"role": "assistant", "content": content}
            return {"model": body["model"], "message": message, "done": done}

        parts = [part(chunk, False) for chunk in fake.chat_chunks]
        parts.append(part("", True))
        parts[-1].update(done_reason="stop", eval_count=len(fake.chat_chunks))
        if body.get("stream") is False:
            parts[-1]["message"]["content"] = "".join(fake.chat_chunks)
            return self._send_json(200, parts[-1])
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, part in enumerate(parts):
            data = json.dumps(part).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            if fake.mode == "drop" and index == 0:
                self.close_connection = True  # no terminating chunk: the body is incomplete
                return
        self.wfile.write(b"0\r\n\r\n")

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOllama

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout test) makes the late answer fail; that is expected


class FakeOllama:
    """`with FakeOllama(models=[...]) as fake:` then point a client at `fake.url`."""

    def __init__(
        self,
        models: list[str] | None = None,
        *,
        dim: int = 768,
        mode: str = "ok",
        delay: float = 3.0,
        chat_chunks: list[str] | None = None,
        max_input_chars: int | None = None,
    ) -> None:
        self.models = [_full_name(m) for m in (models or ["nomic-embed-text"])]
        self.dim = dim
        self.mode = mode
        self.delay = delay
        self.chat_chunks = chat_chunks if chat_chunks is not None else ["Hello", ", world"]
        self.max_input_chars = max_input_chars
        self.requests: list[Recorded] = []
        self.released = threading.Event()  # set on stop, so a hanging handler ends promptly
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}, expected one of {MODES}")
        self._mode = value

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Ollama server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def has_model(self, model: str) -> bool:
        return _full_name(model) in self.models

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def bodies(self, path: str) -> list[Any]:
        """The JSON bodies of the recorded requests to `path`, in arrival order."""
        with self._lock:
            return [r.body for r in self.requests if r.path == path]

    def start(self) -> FakeOllama:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
