"""Chat with a local model through an Ollama server: a streamed answer, errors with their fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from amber.errors import BackendUnavailable, InvalidInput
from amber.ollama_api import OllamaConnection, OllamaFailure
from amber.urls import mask_url

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
        self.shown = mask_url(self.host)  # what errors show: never a credential
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.stats: dict[str, Any] = {}
        # The timeout bounds each wait for the next bytes, not the whole answer: a long answer
        # is fine, a silent server is not.
        self._server = OllamaConnection(self.host, timeout)

    def __enter__(self) -> OllamaChat:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.close()

    def stream(self, model: str, messages: list[dict[str, str]]) -> Iterator[str]:
        """The answer's content pieces as they arrive. Raises BackendUnavailable when the
        server cannot be reached, lacks the model, or the answer stops before it is done."""
        model = model.strip()
        if not model:
            raise InvalidInput("no model given", hint="pass --model NAME, e.g. --model llama3.2")
        self.stats = {}
        received = 0
        done = False
        parts = self._server.chat(model, messages, self.keep_alive)
        try:
            for part in parts:
                if part.content:
                    received += len(part.content)
                    yield part.content
                if part.done:
                    done = True
                    self.stats = part.stats
                    break
        except OllamaFailure as failure:
            raise self._error(failure, model, received) from failure
        finally:
            parts.close()  # release the HTTP stream even when the caller stops early
        if not done:
            raise BackendUnavailable(
                f"the answer from {model} at {self.shown} stopped after {received} characters: "
                "the stream ended before the model said it was done",
                hint=RETRY_HINT,
            )

    def _error(self, failure: OllamaFailure, model: str, received: int) -> BackendUnavailable:
        """The amber error for a chat request that failed (credentials in the client's message
        masked)."""
        where, detail = f"the Ollama server at {self.shown}", mask_url(failure.detail)
        if failure.missing_model:
            return BackendUnavailable(
                f"{where} has no model {model}: {detail}",
                hint=f"pull it: ollama pull {model}",
            )
        if failure.kind == "response" and failure.status == -1:
            return self._stopped(model, received, detail)  # an error line mid-stream
        if failure.kind == "response":
            return BackendUnavailable(
                f"{where} failed (HTTP {failure.status}): {detail}", hint=START_HINT
            )
        if failure.kind == "connect":
            return BackendUnavailable(f"cannot connect to Ollama at {self.shown}", hint=START_HINT)
        if failure.kind == "timeout":
            if received:
                return self._stopped(model, received, f"nothing more for {self.timeout:g} s")
            return BackendUnavailable(
                f"{where} did not answer within {self.timeout:g} s",
                hint=f"{START_HINT}; loading a large model can take longer than the timeout",
            )
        if failure.kind == "broken":
            return self._stopped(model, received, detail)
        return BackendUnavailable(
            f"{where} sent a line that is not an Ollama chat answer: {detail}",
            hint=f"check that {self.shown} is an Ollama server",
        )

    def _stopped(self, model: str, received: int, detail: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"the answer from {model} at {self.shown} stopped after {received} characters: "
            f"{detail}",
            hint=RETRY_HINT,
        )
