"""BM25 sparse vectors, computed client-side by qdrant-edge's Rust BM25 for both store backends."""

from __future__ import annotations

import re

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


class Bm25Encoder:
    """English BM25 (stemming, stop-words) plus identifier parts; avg_len fits short memories."""

    def __init__(self, avg_len: float = 60.0, k: float = 1.2, b: float = 0.75) -> None:
        self._model = qe.Bm25(qe.Bm25Config(k=k, b=b, avg_len=avg_len, language="english"))

    @staticmethod
    def _expand(text: str) -> str:
        parts = identifier_parts(text)
        return f"{text} {' '.join(parts)}" if parts else text

    def document(self, text: str) -> Sparse:
        vec = self._model.embed_document(self._expand(text))
        return Sparse(list(vec.indices), list(vec.values))

    def query(self, text: str) -> Sparse:
        vec = self._model.embed_query(self._expand(text))
        return Sparse(list(vec.indices), list(vec.values))
