"""BM25 sparse vectors, computed client-side by qdrant-edge's Rust BM25 for both store backends."""

from __future__ import annotations

import functools
import re
from typing import Any

import qdrant_edge as qe

from amber.stores.base import Sparse

# Identifiers such as snake_case, camelCase, dotted.names and paths/with/slashes.
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[./:\-][A-Za-z_][A-Za-z0-9_]*)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def identifier_parts(text: str) -> list[str]:
    """Extra BM25 terms for compound identifiers: the whole name joined, and its camelCase parts.

    The word tokenizer already splits at '_', '.', '/' and ':', so a dotted or snake name gains
    its joined form ("os.path.join" -> "ospathjoin") and camelCase gains its parts
    ("parseHTTPResponse" -> "parse", "http", "response").
    """
    parts: list[str] = []
    for match in _IDENT.finditer(text):
        token = match.group(0)
        pieces = [p for p in re.split(r"[._/:\-]+", token) if p]
        if len(pieces) > 1:
            parts.append("".join(pieces).lower())
        for piece in pieces:
            sub = _CAMEL.findall(piece)
            if len(sub) > 1:
                parts.extend(s.lower() for s in sub)
    return parts


def _expand(text: str) -> str:
    parts = identifier_parts(text)
    return f"{text} {' '.join(parts)}" if parts else text


@functools.lru_cache(maxsize=16)
def _model(k: float, b: float, avg_len: float) -> Any:
    return qe.Bm25(qe.Bm25Config(k=k, b=b, avg_len=avg_len, language="english"))


@functools.lru_cache(maxsize=4096)
def _encode(query: bool, k: float, b: float, avg_len: float, text: str) -> Sparse:
    """One text's sparse vector: the same texts come back on every call (skill sections, the
    candidates a search checks), and the identifier pass is the slow part of encoding."""
    model = _model(k, b, avg_len)
    vec = model.embed_query(_expand(text)) if query else model.embed_document(_expand(text))
    return Sparse(list(vec.indices), list(vec.values))


class Bm25Encoder:
    """English BM25 (stemming, stop-words) plus identifier parts; avg_len fits short memories.
    Encodings are shared by every encoder of the same parameters in the process."""

    def __init__(self, avg_len: float = 60.0, k: float = 1.2, b: float = 0.75) -> None:
        self._params = (k, b, avg_len)

    def document(self, text: str) -> Sparse:
        return _encode(False, *self._params, text)

    def query(self, text: str) -> Sparse:
        return _encode(True, *self._params, text)
