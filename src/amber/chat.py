"""Chat with a local model through an Ollama server: a streamed answer, errors with their fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import ollama

from amber.embedders.ollama import CLIENT_ERRORS
from amber.errors import BackendUnavailable, InvalidInput

START_HINT = "start it: ollama serve (or docker compose up -d ollama)"
RETRY_HINT = "check the Ollama server (its log says why it stopped), then run the task again"


class OllamaChat:
    """Streams a model's answer from /api/chat; `stats` holds the final part's counters."""

    def __init__(self, host: str, timeout: float = 120.0, keep_alive: str = "30m") -> None:
        # The ollama client falls back to $OLLAMA_HOST for an empty host; adapters never read
        # the environment, so an empty host is refused here.
        if not host or not host.strip():
            raise InvalidInput(
                "no Ollama host given", hint="set OLLAMA_HOST=http://127.0.0.1:11434"
            )
        if timeout <= 0:
            raise InvalidInput(f"timeout must be positive, got {timeout}")
        self.host = host.strip()
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.stats: dict[str, Any] = {}
        # httpx applies the timeout to each step (connect, and every wait for the next bytes),
        # not to the whole answer: a long answer is fine, a silent server is not.
        self._client = ollama.Client(host=self.host, timeout=timeout)

    def __enter__(self) -> OllamaChat:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def stream(self, model: str, messages: list[dict[str, str]]) -> Iterator[str]:
        """The answer's content pieces as they arrive. Raises BackendUnavailable when the
        server cannot be reached, lacks the model, or the answer stops before it is done."""
        model = model.strip()
        if not model:
            raise InvalidInput("no model given", hint="pass --model NAME, e.g. --model llama3.2")
        self.stats = {}
        received = 0
        done = False
        parts = None
        try:
            parts = self._client.chat(
                model=model, messages=messages, stream=True, keep_alive=self.keep_alive
            )
            for part in parts:
                piece = part.message.content or ""
                if piece:
                    received += len(piece)
                    yield piece
                if part.done:
                    done = True
                    self.stats = {
                        "done_reason": part.done_reason,
                        "prompt_tokens": part.prompt_eval_count,
                        "answer_tokens": part.eval_count,
                    }
                    break
        except CLIENT_ERRORS as exc:
            raise self._error(exc, model, received) from exc
        finally:
            if parts is not None:
                parts.close()  # release the HTTP stream even when the caller stops early
        if not done:
            raise BackendUnavailable(
                f"the answer from {model} at {self.host} stopped after {received} characters: "
                "the stream ended before the model said it was done",
                hint=RETRY_HINT,
            )

    def _error(self, exc: BaseException, model: str, received: int) -> BackendUnavailable:
        """The amber error for an exception the ollama client raised during a chat."""
        where = f"the Ollama server at {self.host}"
        if isinstance(exc, ollama.ResponseError):
            status, error = exc.status_code, exc.error
            if status == 404 or ("model" in error and "not found" in error):
                return BackendUnavailable(
                    f"{where} has no model {model}: {error}", hint=f"pull it: ollama pull {model}"
                )
            if status == -1:  # an error line inside a stream that had started
                return self._stopped(model, received, error)
            return BackendUnavailable(f"{where} failed (HTTP {status}): {error}", hint=START_HINT)
        if isinstance(exc, (ConnectionError, httpx.ConnectError)):
            return BackendUnavailable(f"cannot connect to Ollama at {self.host}", hint=START_HINT)
        if isinstance(exc, httpx.TimeoutException):
            if received:
                return self._stopped(model, received, f"nothing more for {self.timeout:g} s")
            return BackendUnavailable(
                f"{where} did not answer within {self.timeout:g} s",
                hint=f"{START_HINT}; loading a large model can take longer than the timeout",
            )
        if isinstance(exc, httpx.HTTPError):
            return self._stopped(model, received, str(exc) or type(exc).__name__)
        return BackendUnavailable(
            f"{where} sent a line that is not an Ollama chat answer: {exc}",
            hint=f"check that {self.host} is an Ollama server",
        )

    def _stopped(self, model: str, received: int, detail: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"the answer from {model} at {self.host} stopped after {received} characters: {detail}",
            hint=RETRY_HINT,
        )
