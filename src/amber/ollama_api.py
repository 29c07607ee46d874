"""The one module that talks to an Ollama server (through the ollama and httpx libraries):
model list, embeddings, a streamed chat, and one reading of their failures."""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import httpx
import ollama
import pydantic

# Everything the ollama client lets through for a failed request: ResponseError (HTTP status,
# or an {"error": ...} line inside a stream, status -1), ConnectionError (it converts
# httpx.ConnectError, except on its streaming path), httpx errors (the unconverted connect
# error, timeouts, a stream broken mid-answer), and a body or stream line that is not JSON or
# not the expected response.
_CLIENT_ERRORS = (
    ollama.ResponseError,
    ConnectionError,
    httpx.HTTPError,
    json.JSONDecodeError,
    pydantic.ValidationError,
)


class OllamaFailure(Exception):
    """A request that failed, sorted by what the caller can do about it.

    kind: "response" (the server answered with an error: `status`, -1 inside a stream, and
    `detail` its text), "timeout", "connect", "broken" (the connection failed mid-way) or
    "malformed" (an answer that is not Ollama's)."""

    def __init__(self, kind: str, detail: str, status: int = 0) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status

    @property
    def missing_model(self) -> bool:
        text = self.detail
        return self.kind == "response" and (
            self.status == 404 or ("model" in text and "not found" in text)
        )


def _failure(exc: BaseException) -> OllamaFailure:
    if isinstance(exc, ollama.ResponseError):
        return OllamaFailure("response", exc.error, exc.status_code)
    if isinstance(exc, httpx.TimeoutException):
        return OllamaFailure("timeout", str(exc) or type(exc).__name__)
    if isinstance(exc, (ConnectionError, httpx.ConnectError)):
        return OllamaFailure("connect", str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.HTTPError):
        return OllamaFailure("broken", str(exc) or type(exc).__name__)
    return OllamaFailure("malformed", str(exc))


def full_name(model: str) -> str:
    """ "name:tag" the way Ollama reads a model name; no tag means "latest"."""
    name, sep, tag = model.rpartition(":")
    if not sep or "/" in tag:
        return f"{model}:latest"
    return f"{name}:{tag}"


@dataclass(frozen=True)
class ChatPart:
    content: str
    done: bool
    stats: dict[str, Any] = field(default_factory=dict)


class OllamaConnection:
    """One HTTP client for one server. httpx applies `timeout` to each step (connect, and every
    wait for the next bytes), not to a whole streamed answer. Methods raise OllamaFailure."""

    def __init__(self, host: str, timeout: float) -> None:
        # The ollama client falls back to $OLLAMA_HOST for an empty host; callers check it.
        self._client = ollama.Client(host=host, timeout=timeout)

    def __enter__(self) -> OllamaConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def models(self) -> set[str]:
        """The full names ("name:tag") of the models the server has."""
        try:
            listed = self._client.list()
        except _CLIENT_ERRORS as exc:
            raise _failure(exc) from exc
        return {full_name(m.model) for m in listed.models if m.model}

    def embed(self, model: str, texts: list[str], keep_alive: str) -> list[list[float]]:
        """One vector per text, as the server sent them (never truncated to fit)."""
        try:
            response = self._client.embed(
                model=model, input=texts, truncate=False, keep_alive=keep_alive
            )
        except _CLIENT_ERRORS as exc:
            raise _failure(exc) from exc
        return [list(row) for row in response.embeddings]

    def chat(
        self, model: str, messages: list[dict[str, str]], keep_alive: str
    ) -> Generator[ChatPart, None, None]:
        """The answer's parts as they arrive; the HTTP stream is released when the caller
        stops early or the answer ends."""
        parts = None
        try:
            parts = self._client.chat(
                model=model, messages=messages, stream=True, keep_alive=keep_alive
            )
            for part in parts:
                stats: dict[str, Any] = {}
                if part.done:
                    stats = {
                        "done_reason": part.done_reason,
                        "prompt_tokens": part.prompt_eval_count,
                        "answer_tokens": part.eval_count,
                    }
                yield ChatPart(part.message.content or "", bool(part.done), stats)
        except _CLIENT_ERRORS as exc:
            raise _failure(exc) from exc
        finally:
            if parts is not None:
                parts.close()
