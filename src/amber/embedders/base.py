"""The Embedder protocol and the identity that pins an embedder to a store."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class EmbedderIdentity:
    provider: str
    model: str
    dim: int
    prefixes: str  # e.g. "none" or "nomic:search_document/search_query"

    def slug(self) -> str:
        raw = f"{self.provider}-{self.model}-{self.dim}"
        return re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


class Embedder(Protocol):
    identity: EmbedderIdentity
    window_words: int  # longest text, in words, that fits one window without truncation

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...
    def embed_query(self, text: str) -> np.ndarray: ...
    def reads(self, text: str) -> bool: ...  # enough of the text is known for a vector to mean it
