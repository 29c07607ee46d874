"""An embedder that rests after its backend fails, so one slow or dead server costs one timeout.

After a failure (BackendUnavailable: a timeout, a refused connection, an error answer) every
call is refused at once for `rest` seconds with the original reason, then one call may try
again. The daemon keeps one Breaker per store, so concurrent agents never queue behind a slow
Ollama: the first to time out opens the breaker for everyone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from amber.embedders.base import Embedder, EmbedderIdentity
from amber.errors import BackendUnavailable


class Breaker:
    def __init__(
        self, inner: Embedder, rest: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self.rest = rest
        self._clock = clock
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._reason = ""

    @property
    def identity(self) -> EmbedderIdentity:
        return self.inner.identity

    @property
    def window_words(self) -> int:
        return self.inner.window_words

    def _check(self) -> None:
        with self._lock:
            if self._failed_at is None:
                return
            waited = self._clock() - self._failed_at
            if waited >= self.rest:
                self._failed_at = None  # let this call try the backend again
                return
            left = self.rest - waited
        raise BackendUnavailable(
            f"{self._reason} (not retried for another {left:.0f} s)",
            hint="the embedder is resting after a failure; AMBER_EMBED_BACKOFF sets how long",
        )

    def _trip(self, exc: BackendUnavailable) -> None:
        with self._lock:
            self._failed_at = self._clock()
            self._reason = exc.message

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self._check()
        try:
            return self.inner.embed_documents(texts)
        except BackendUnavailable as exc:
            self._trip(exc)
            raise

    def reads(self, text: str) -> bool:
        return self.inner.reads(text)

    def embed_query(self, text: str) -> np.ndarray:
        self._check()
        try:
            return self.inner.embed_query(text)
        except BackendUnavailable as exc:
            self._trip(exc)
            raise
