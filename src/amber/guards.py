"""Cache guards: reasons two queries with similar embeddings must still not share an answer."""

from __future__ import annotations

import re
import unicodedata

from amber.text import beyond_latin

_NEGATIONS = {
    "no",
    "not",
    "never",
    "without",
    "dont",
    "don't",
    "doesnt",
    "doesn't",
    "isnt",
    "isn't",
    "cannot",
    "can't",
    "cant",
    "shouldnt",
    "shouldn't",
    "wont",
    "won't",
    "neither",
    "nor",
    "avoid",
    "stop",
    "disable",
    "disabled",
    "remove",
    "delete",
    "deny",
    "drop",
    "exclude",
}
_OPPOSITES = [
    ("enable", "disable"),
    ("add", "remove"),
    ("allow", "deny"),
    ("start", "stop"),
    ("increase", "decrease"),
    ("before", "after"),
    ("true", "false"),
    ("min", "max"),
    ("sync", "async"),
    ("encrypt", "decrypt"),
    ("import", "export"),
    ("upload", "download"),
    ("open", "close"),
    ("install", "uninstall"),
    ("show", "hide"),
    ("lock", "unlock"),
    ("first", "last"),
    ("up", "down"),
    ("on", "off"),
    ("push", "pull"),
    ("read", "write"),
]
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:[.,]\d+)*")
# Single quotes open and close only outside words, so apostrophes ("What's", "Redis's")
# never pair up into a quoted string.
_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]|(?<!\w)['‘]([^'‘’]+)['’](?!\w)|`([^`]+)`")
_IDENT = re.compile(
    r"\b(?:[A-Za-z_]\w*[._/:]\w[\w./:]*|[a-z]+[A-Z]\w*|[A-Za-z]*_[A-Za-z_]\w*|[A-Za-z]+\d\w*)"
    r"|(?<!\S)--?[a-z][\w-]*"
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _opposed(a: set[str], b: set[str]) -> bool:
    """True when the queries differ in negation, or one says a word and the other its opposite."""
    if a & _NEGATIONS != b & _NEGATIONS:
        return True
    for left, right in _OPPOSITES:
        if (left in a and right in b and right not in a) or (
            right in a and left in b and left not in a
        ):
            return True
    return False


def _quoted(text: str) -> set[str]:
    return {next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)}


def _beyond_words(text: str) -> set[str]:
    """Characters the word guards cannot see, and an embedder may not either (pooled as one
    unknown piece): symbols and emoji ("✅" against "❌"), and letters of scripts past Latin."""
    return {ch for ch in text if unicodedata.category(ch)[0] == "S" or beyond_latin(ch)}


def objection(cached_query: str, query: str) -> str | None:
    """Why one query's cached answer must not serve the other; None when nothing objects."""
    if _opposed(_words(cached_query), _words(query)):
        return "negation or opposite wording differs"
    if set(_NUMBER.findall(cached_query)) != set(_NUMBER.findall(query)):
        return "numbers differ"
    if _quoted(cached_query) != _quoted(query):
        return "quoted strings differ"
    if {i.lower() for i in _IDENT.findall(cached_query)} != {
        i.lower() for i in _IDENT.findall(query)
    }:
        return "identifiers differ"
    if _beyond_words(cached_query) != _beyond_words(query):
        return "symbols or non-Latin text differ"
    return None
