"""Text helpers for memories: normalisation checks, token estimates, overlapping chunks."""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s")
_NAME = re.compile(r"\w{2,}")
# Runs of scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, Chinese,
# Japanese kana, Korean syllables.
UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff]+"
)
MAX_MENTIONS = 200  # occurrences kept per word of the query
_WIDE = re.compile(r"[\u2e80-\ud7ff\uf900-\ufaff\uff00-\uffef\U0001f000-\U0001faff]")


MIN_READABLE = 2  # letters or digits a text needs before a vector of it means anything
LATIN_END = 0x24F  # the last code point of Latin Extended-B


def utf8(raw: bytes) -> str:
    """Bytes as UTF-8 text without the byte order mark Windows editors and PowerShell put first
    (it is not part of the text). UnicodeDecodeError when they are not UTF-8."""
    return raw.decode("utf-8").removeprefix("\ufeff")


def beyond_latin(ch: str) -> bool:
    """A letter of a script past Latin (Greek, Cyrillic, Arabic, CJK, ...)."""
    return ord(ch) > LATIN_END and ch.isalpha()


def readable(text: str) -> bool:
    """Whether a text holds letters or digits enough to be embedded: a query of emoji, symbols
    or one letter has no meaning an embedder can place, and its vector lands on whatever other
    content-free text is stored."""
    return sum(ch.isalnum() for ch in text[:4096]) >= MIN_READABLE


def estimate_tokens(text: str) -> int:
    """A model-free token estimate: about four characters a token, as BPE tokenizers average
    on Latin text, and a token for each character of CJK, kana, hangul or emoji (tokenizers
    spend one or more on each: 400 Han characters are not 100 tokens)."""
    if not text:
        return 0
    wide = 0 if text.isascii() else len(_WIDE.findall(text))
    return max(1, math.ceil((len(text) - wide) / 4) + wide)


def _starts(words: int, window: int, overlap: int) -> list[int]:
    """The word each window of `chunk_words` starts at."""
    step = max(1, window - overlap)
    starts = []
    for start in range(0, words, step):
        starts.append(start)
        if start + window >= words:
            break
    return starts


def chunk_words(text: str, window: int, overlap: int) -> list[str]:
    """Split text into overlapping windows of at most `window` words; short text stays whole."""
    words = _WORD.findall(text)
    if len(words) <= window:
        return [text]
    return [" ".join(words[s : s + window]) for s in _starts(len(words), window, overlap)]


def chunk_span(text: str, index: int, window: int, overlap: int) -> tuple[int, int]:
    """The characters of `text` that window `index` of `chunk_words` was taken from."""
    words = [m.span() for m in _WORD.finditer(text)]
    if len(words) <= window:
        return 0, len(text)
    starts = _starts(len(words), window, overlap)
    first = starts[min(max(index, 0), len(starts) - 1)]
    return words[first][0], words[min(first + window, len(words)) - 1][1]


def excerpt_span(text: str, around: tuple[int, int], chars: int) -> tuple[int, int]:
    """At most `chars` characters of `text`: the span `around` (its start, if it is longer),
    widened evenly on both sides, then cut at a line break near either edge (a quarter of the
    excerpt at most, outside `around`), else at whitespace where a word would be split."""
    start, end = around
    if end - start >= chars:
        end = start + chars
    else:
        start = max(0, start - (chars - (end - start)) // 2)
        end = min(len(text), start + chars)
        start = max(0, end - chars)
    slack = chars // 4
    if start > 0 and text[start - 1] != "\n":
        line = text.find("\n", start, min(start + slack, around[0]))
        if line != -1:
            start = line + 1
    if end < len(text) and text[end] != "\n":
        line = text.rfind("\n", max(end - slack, around[1], start), end)
        if line != -1:
            end = line
    spaces = [m.start() for m in _SPACE.finditer(text, start, end)]
    if start > 0 and not text[start - 1].isspace() and spaces and spaces[0] + 1 < end:
        start = spaces[0] + 1
    if end < len(text) and not text[end].isspace() and spaces and spaces[-1] > start:
        end = spaces[-1]
    while start < end and text[start] == "\n" and start < around[0]:  # no blank first line
        start += 1
    return start, end


def mentions(text: str, query: str) -> list[tuple[int, int, str]]:
    """Where the query's words (two characters or more) and, in its unspaced runs, its pairs
    of characters appear in the text, case aside, inside words too: for text whose "words" run
    on (a minified line, Chinese without spaces). Each as (start, end, the word), in order."""
    lowered = text.lower()
    needles = {w.lower() for w in _NAME.findall(query)}
    for run in UNSPACED.findall(query):
        needles.update(run[i : i + 2] for i in range(len(run) - 1))
    found: list[tuple[int, int, str]] = []
    for needle in needles:
        at = lowered.find(needle)
        for _ in range(MAX_MENTIONS):
            if at == -1:
                break
            found.append((at, at + len(needle), needle))
            at = lowered.find(needle, at + 1)
    return sorted(found)


def word_spans(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """The words of text[start:end], with where each lies."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text, start, end)]


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
