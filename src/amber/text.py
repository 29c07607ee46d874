"""Text helpers for memories: normalisation checks, token estimates, overlapping chunks."""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"\S+")


MIN_READABLE = 2  # letters or digits a text needs before a vector of it means anything


def readable(text: str) -> bool:
    """Whether a text holds letters or digits enough to be embedded: a query of emoji, symbols
    or one letter has no meaning an embedder can place, and its vector lands on whatever other
    content-free text is stored."""
    return sum(ch.isalnum() for ch in text[:4096]) >= MIN_READABLE


def estimate_tokens(text: str) -> int:
    """A model-free token estimate (about four characters a token, as BPE tokenizers average)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def chunk_words(text: str, window: int, overlap: int) -> list[str]:
    """Split text into overlapping windows of at most `window` words; short text stays whole."""
    words = _WORD.findall(text)
    if len(words) <= window:
        return [text]
    step = max(1, window - overlap)
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + window]))
        if start + window >= len(words):
            break
    return chunks


def normalise_tags(raw: list[str] | None) -> list[str]:
    """Accept space- or comma-separated tags, trim and lower-case them, keep first-seen order."""
    seen: dict[str, None] = {}
    for value in raw or []:
        for part in re.split(r"[,\s]+", value):
            tag = part.strip().lower()
            if tag:
                seen.setdefault(tag, None)
    return list(seen)


def preview(text: str, limit: int = 120) -> str:
    """The first line of a text, cut at a word near `limit` characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) <= limit:
        return first
    cut = first[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut).rstrip() + " …"
