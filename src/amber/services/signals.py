"""Evidence adaptive fusion reads besides the two candidate lists, computed at query time from
the query text and the leading candidates' stored content."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping

from amber.fusion import Evidence, Ranked
from amber.stores.bm25 import Bm25Encoder

CODE_HEAD = 10  # leading candidates of each list whose code share is averaged
_SCAN_CHARS = 4000  # enough of a memory to tell code from prose
_WORD = re.compile(r"\S+")
_SYMBOL = re.compile(r"[()\[\]{}=<>;:_.\\/'\"`#*+\-%!|&^~@$,]")
_TRAILING = ".,;:?!"
_PROSE_JOIN = re.compile(r"(?<=[A-Za-z])['\u2019-](?=[A-Za-z])")  # don't, Caroline's, well-known
# `quoted`, camelCase, snake_case, a dotted call, or an empty call: the query names code.
_IDENTIFIER = re.compile(r"`[^`]+`|\b[a-z]+[A-Z]\w*|\b\w+_\w+|\b\w+\.\w+\(|\w\(\)")
_KEEP = 8192  # memories whose terms and code share are kept (a warm daemon reuses them)


class _Profiles:
    """Each memory's BM25 terms and code share, computed once per content (tokenizing a long
    memory costs a third of a millisecond); keyed by id and the content's hash."""

    def __init__(self, keep: int) -> None:
        self._keep, self._lock = keep, threading.Lock()
        self._items: OrderedDict[tuple[str, int], tuple[frozenset[int], float]] = OrderedDict()

    def get(self, item: str, text: str, bm25: Bm25Encoder) -> tuple[frozenset[int], float]:
        key = (item, hash(text))
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = (frozenset(bm25.document(text).indices), code_share(text))
        with self._lock:
            self._items[key] = found
            while len(self._items) > self._keep:
                self._items.popitem(last=False)
        return found


_profiles = _Profiles(_KEEP)


def terms_of(item: str, text: str, bm25: Bm25Encoder) -> frozenset[int]:
    """A memory's BM25 terms, from the same per-process cache fusion's coverage reads."""
    return _profiles.get(item, text, bm25)[0]


def code_share(text: str) -> float:
    """Share of a text's words that carry code punctuation (brackets, '=', '_', '.', quotes),
    ignoring a sentence's own trailing punctuation and the apostrophes and hyphens inside
    words: near 0 for prose (chat included), above 0.3 for code."""
    words = _WORD.findall(_PROSE_JOIN.sub("", text[:_SCAN_CHARS]))
    if not words:
        return 0.0
    coded = sum(1 for w in words if _SYMBOL.search(w[:-1] if w[-1] in _TRAILING else w))
    return coded / len(words)


def names_identifiers(query: str) -> bool:
    return _IDENTIFIER.search(query) is not None


def head_ids(dense: Ranked, sparse: Ranked, depth: int) -> list[str]:
    """The union of both lists' heads, in first-seen order: the candidates fusion scores."""
    return list(dict.fromkeys([i for i, _ in dense[:depth]] + [i for i, _ in sparse[:depth]]))


def gather(
    query: str,
    dense: Ranked,
    sparse: Ranked,
    contents: Mapping[str, str],
    bm25: Bm25Encoder,
    depth: int,
) -> Evidence:
    """The query's evidence: code share of the leading candidates, identifiers in the query,
    and each head candidate's share of the query's BM25 terms."""
    terms = set(bm25.query(query).indices)
    coverage: dict[str, float] = {}
    shares: dict[str, float] = {}
    for item in head_ids(dense, sparse, max(depth, CODE_HEAD)):
        text = contents.get(item)
        if text is None:
            continue
        held, shares[item] = _profiles.get(item, text, bm25)
        coverage[item] = len(terms & held) / len(terms) if terms else 0.0
    leading = [shares[i] for i in head_ids(dense, sparse, CODE_HEAD) if i in shares]
    share = sum(leading) / len(leading) if leading else 0.0
    return Evidence(share, names_identifiers(query), coverage)
