"""BM25: sparse vectors with identifier parts, computed client-side (by qdrant-edge's Rust BM25,
through the embedded store's adapter) for both store backends, and BM25+ over a small corpus
held in memory (skills, skill sections)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

from rank_bm25 import BM25Plus

from amber.stores.base import Sparse
from amber.stores.edge import bm25_vector
from amber.text import UNSPACED

# Identifiers such as snake_case, camelCase, dotted.names and paths/with/slashes.
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[./:\-][A-Za-z_][A-Za-z0-9_]*)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def unspaced_terms(text: str, query: bool) -> list[str]:
    """Extra BM25 terms for runs of scripts written without spaces (CJK, Thai, ...), which the
    word tokenizer keeps as one term however long: each pair of neighbouring characters
    ("数据库" -> "数据", "据库"), so a query matches a stored run it is part of; a stored run
    also gives each character, which a query of one character ("锁") matches."""
    terms: list[str] = []
    for run in UNSPACED.findall(text):
        if len(run) == 1 or not query:
            terms.extend(run)
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def symbol_terms(text: str) -> list[str]:
    """A BM25 term for each emoji or pictograph ("✅" -> "sym2705"), which the word tokenizer
    drops: "✅" finds "✅ deploy passed" by its words."""
    return [f"sym{ord(ch):x}" for ch in text if unicodedata.category(ch) == "So"]


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


def _expand(text: str, query: bool) -> str:
    parts = identifier_parts(text)
    if not text.isascii():
        parts += unspaced_terms(text, query) + symbol_terms(text)
    return f"{text} {' '.join(parts)}" if parts else text


@functools.lru_cache(maxsize=4096)
def _encode(query: bool, k: float, b: float, avg_len: float, text: str) -> Sparse:
    """One text's sparse vector: the same texts come back on every call (skill sections, the
    candidates a search checks), and the identifier pass is the slow part of encoding."""
    return bm25_vector(_expand(text, query), query, k, b, avg_len)


class Bm25Encoder:
    """English BM25 (stemming, stop-words) plus identifier parts; avg_len fits short memories.
    Encodings are shared by every encoder of the same parameters in the process."""

    def __init__(self, avg_len: float = 60.0, k: float = 1.2, b: float = 0.75) -> None:
        self._params = (k, b, avg_len)

    def __eq__(self, other: object) -> bool:  # encoders of the same parameters are one
        return isinstance(other, Bm25Encoder) and other._params == self._params

    def __hash__(self) -> int:
        return hash(self._params)

    def document(self, text: str) -> Sparse:
        return _encode(False, *self._params, text)

    def query(self, text: str) -> Sparse:
        return _encode(True, *self._params, text)


class SmallCorpus:
    """BM25+ over documents given as term ids: unlike Okapi's, its idf stays positive when a
    term is in most of a handful of documents."""

    def __init__(self, docs: Sequence[Sequence[int]]) -> None:
        self._size = len(docs)
        # BM25Plus divides by the corpus's total length: it needs some terms to score.
        self._bm25 = BM25Plus([list(d) for d in docs]) if any(docs) else None

    @property
    def empty(self) -> bool:
        return self._bm25 is None

    def idf(self, term: int, unseen: float) -> float:
        """The term's BM25+ idf in this corpus; `unseen` for a term no document has."""
        if self._bm25 is None:
            return unseen
        return float(self._bm25.idf.get(term, unseen))

    def scores(self, terms: Sequence[int]) -> list[float]:
        """One score per document, in order; all zero when either side has no terms."""
        if self._bm25 is None or not terms:
            return [0.0] * self._size
        return [float(x) for x in self._bm25.get_scores(list(terms))]
