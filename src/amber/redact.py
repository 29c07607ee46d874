"""Secret redaction: credentials become typed placeholders before anything is kept.

Detection runs on a normalised view of the text (NFKC, zero-width characters dropped, and for
token formats also a view with wrapped lines joined), so fullwidth letters, invisible
characters and line breaks do not hide a key; each finding is mapped back to its span in the
original, and only those spans change: text without secrets comes back byte-identical.
What a secret looks like (formats, names, values) lives in `amber.secret_patterns`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import unquote

from amber import secret_contexts as sc
from amber import secret_patterns as sp

_TOKENS = [(kind, re.compile(rx)) for kind, rx in sp.TOKENS]
_COMMAND_LINE = [re.compile(rx) for rx in (*sc.COMMAND_LINE, *sc.FORMAT_FIELDS)]
_LOOSE = [re.compile(rx) for rx in sc.LOOSE_CONTEXTS]
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\xad\u180e")
)
_WRAP = re.compile(r"(?<=[\w+/=\-])\\?\r?\n[ \t]*(?=[\w+/=\-])")
# What follows a value that is only part of an expression: a call, `"ghp_" + rest`, `"%s" % x`
_EXPRESSION = re.compile(r"[(\[]|[ \t]*(?:[+%*]|\.\w+\()")
_PLACEHOLDER = re.compile(r"\[REDACTED:[\w\-]+\]")
# Lower wins when two findings overlap: a known format names the kind better than a context.
_FORMAT, _CONTEXT, _ASSIGNED, _PROSE = range(4)
Finding = tuple[int, int, str, int]  # start, end (in the view), kind, priority


@dataclass(frozen=True)
class Redacted:
    text: str
    count: int
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class _View:
    """Text as detection sees it; `where[i]` is the original span of its character i."""

    text: str
    where: list[tuple[int, int]] | None = None  # None: the original itself

    def span(self, start: int, end: int) -> tuple[int, int]:
        return (
            (start, end) if self.where is None else (self.where[start][0], self.where[end - 1][1])
        )


def _normalised(text: str) -> _View:
    if text.isascii():
        return _View(text)
    chars: list[str] = []
    where: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i + 1  # a character with the combining marks that follow it
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        for ch in unicodedata.normalize("NFKC", text[i:j].translate(_INVISIBLE)):
            chars.append(ch)
            where.append((i, j))
        i = j
    return _View("".join(chars), where)


def _unquoted(s: int, e: int, value: str) -> tuple[int, int, str, str]:
    if len(value) > 1 and value[0] in "\"'`" and value[-1] == value[0]:
        return s + 1, e - 1, value[1:-1], value[0]
    return s, e, value, ""


def _formats(text: str) -> Iterator[Finding]:
    for kind, pattern in _TOKENS:
        for m in pattern.finditer(text):
            value = unquote(m.group("v")) if "v" in pattern.groupindex else ""
            if value and (sp.placeholder(value) or re.search(r"\s", value)):
                continue
            if kind == "private_key" and not re.search(r"[A-Za-z0-9+/]{16}", m.group()):
                continue  # the BEGIN line alone, as in code that looks for keys
            if sp.MASKED.search(m.group()):
                continue  # ghp_xxxx..., AKIAXXXX...: documentation
            yield (*m.span("v" if value else 0), kind, _FORMAT)
            if kind in sp.PAIRS:  # "AKIA... / wJalr...": the secret half on the same line
                other, rx = sp.PAIRS[kind]
                rest = text[m.end() : m.end() + 120].split("\n", 1)[0]
                pair = next(
                    (p for p in rx.finditer(rest) if sp.looks_random(p[0], allow_hex=True)), None
                )
                if pair:
                    yield m.end() + pair.start(), m.end() + pair.end(), other, _FORMAT


def _wrapped_formats(view: str) -> Iterator[Finding]:
    """Token formats broken over two lines (a pasted key that wrapped)."""
    keep: list[int] = []  # index in `view` of each joined character
    last = 0
    for cut in _WRAP.finditer(view):
        keep.extend(range(last, cut.start()))
        last = cut.end()
    if not keep:
        return
    keep.extend(range(last, len(view)))
    joined = "".join(view[i] for i in keep)
    for kind, pattern in _TOKENS:
        for m in pattern.finditer(joined):
            s, e = m.span("v") if "v" in pattern.groupindex else m.span()
            start, end = keep[s], keep[e - 1] + 1
            if end - start == e - s:
                continue  # no line break inside: the plain view has it
            head = view[start : view.index("\n", start)].rstrip("\\\r")
            # a token already whole on its line takes the next line's start only if that
            # looks like more of it (8+ characters with a digit), not like the words that
            # follow it ("NextWord", "GitLab", "-----BEGIN"): those stay as they are
            more = joined[s + len(head) : e]
            if pattern.fullmatch(head) is None or (len(more) >= 8 and re.search(r"\d", more)):
                yield start, end, kind, _FORMAT


def _assignments(text: str) -> Iterator[Finding]:
    for m in sc.ENV_LINE.finditer(text):  # .env, shell, Dockerfile: the value runs to a blank
        if kind := sp.secret_name(m.group("name")):
            yield from _judged(text, m, kind, "env")
    for m in sc.ASSIGNMENT.finditer(text):
        kind = sp.secret_name(m.group("name"))
        sep, spaced = m.group("sep"), bool(m.group("before") or m.group("after"))
        line = text[max(0, m.start() - 80) : m.start()].rsplit("\n", 1)[-1]
        if kind is None or _EXPRESSION.match(text, m.end("val")):
            continue
        if sep == ":" and re.fullmatch(r"[ \t]*(?:-[ \t]+)?", line):
            yield from _judged(text, m, kind, "colon", to_blank=True)  # a YAML key
        else:
            yield from _judged(
                text, m, kind, "colon" if sep == ":" else "code" if spaced else "kwarg"
            )
    for m in sc.FLAG.finditer(text):
        if kind := sp.secret_name(m.group("name")):
            yield from _judged(text, m, kind, "option" if m.group("sep") == "=" else "flag")
    for m in sc.YAML_BLOCK.finditer(text):  # `password: |` and the lines under it
        block = m.group("v").rstrip()
        lead = len(block) - len(block.lstrip())
        value = block.strip()
        kind = sp.secret_name(m.group("name"))
        if kind in ("password", "secret") and not sp.placeholder(value):
            start = m.start("v") + lead
            yield start, start + len(value), kind, _ASSIGNED
    for m in sc.XML_ELEMENT.finditer(text):
        if kind := sp.secret_name(m.group("name")):
            yield from _judged(text, m, kind, "xml")


def _judged(
    text: str, m: re.Match[str], kind: str, style: str, to_blank: bool = False
) -> Iterator[Finding]:
    s, e, value, quote = _unquoted(*m.span("val"), m.group("val"))
    if not quote and value[:1] in "\"'`" and style != "env":
        return  # an unclosed quote: a fragment of something else
    if not quote and to_blank:
        e = s + len(re.match(r"\S*", text[s:]).group().rstrip(","))
        value = text[s:e]
    if not quote and not value.endswith(("...", "\u2026")):
        value = value.rstrip(".:" if style != "env" else "")
        e = s + len(value)
    after = text[e + len(quote) : e + len(quote) + 80].split("\n", 1)[0]
    if (
        value
        and (quote or style == "env" or value[0] != "-")  # `--password -x`: the next flag
        and sp.assigned_secret(value, kind, quoted=quote, style=style, after=after)
    ):
        yield s, e, "password" if kind == "password" else "secret", _ASSIGNED


def _contexts(text: str) -> Iterator[Finding]:
    for rx in _COMMAND_LINE:
        for m in rx.finditer(text):
            s, e, value, quote = _unquoted(*m.span("v"), m.group("v"))
            if not sp.placeholder(value, quote) and not value.startswith("-"):
                yield s, e, "password", _CONTEXT
    for rx in _LOOSE:
        for m in rx.finditer(text):
            kind = sp.secret_name(m.group("name")) if "name" in rx.groupindex else "password"
            value = m.group("v")
            if kind in ("password", "secret") and sp.credential_like(value):
                yield (*m.span("v"), kind, _CONTEXT)
            elif kind and sp.looks_random(value, 16, allow_hex=True):
                yield (*m.span("v"), "secret", _CONTEXT)
    for m in sc.AUTH_HEADER.finditer(text):
        value, basic = m.group("v"), m.group("scheme").lower() == "basic"
        weak = sp.placeholder(value) or not (
            sp.basic_blob(value) if basic else re.search(r"\d", value)
        )
        if not weak or sp.looks_random(value, 16):
            yield (*m.span("v"), "basic_auth" if basic else "bearer_token", _CONTEXT)
    for m in sc.COOKIE_HEADER.finditer(text):
        at = m.start("pairs")
        for pair in sc.COOKIE_PAIR.finditer(m.group("pairs")):
            value, named = pair.group("v"), sc.SESSION_NAME.search(pair.group("name"))
            if sp.looks_random(value, 16, allow_hex=True) or (
                named and len(value) >= 8 and sp.credential_like(value)
            ):
                yield at + pair.start("v"), at + pair.end("v"), "cookie", _CONTEXT
    for m in sc.BEARER.finditer(text):
        if sp.looks_random(m.group("v"), 16, allow_hex=True):
            yield (*m.span("v"), "bearer_token", _CONTEXT)
    yield from _kubernetes_secrets(text)


def _kubernetes_secrets(text: str) -> Iterator[Finding]:
    """Values under `data:` / `stringData:` in a manifest of `kind: Secret`, YAML or JSON."""
    starts = [0, *(m.end() for m in re.finditer(r"(?m)^---[^\n]*\n", text)), len(text)]
    for start, end in pairwise(starts):
        doc = text[start:end]
        if not sc.K8S_SECRET.search(doc):
            continue
        for block in sc.K8S_DATA.finditer(doc):
            pos = start + block.end()
            for line in doc[block.end() :].split("\n"):
                depth = len(line) - len(line.lstrip())
                if line.strip() and depth <= len(block.group(1)):
                    break
                item = sc.K8S_ITEM.match(line)
                if item and item.group("val") and item.group("val")[:1] not in "|>":
                    s, e, value, quote = _unquoted(*item.span("val"), item.group("val"))
                    if not sp.placeholder(value, quote):
                        yield pos + s, pos + e, "kubernetes_secret", _CONTEXT
                elif line.strip() and not item:  # a line of a block scalar
                    yield pos + depth, pos + len(line), "kubernetes_secret", _CONTEXT
                pos += len(line) + 1
        for block in sc.K8S_JSON_DATA.finditer(doc):
            for value in re.finditer(r":\s*\"([^\"]+)\"", block.group(1)):
                if not sp.placeholder(value.group(1)):
                    s = start + block.start(1)
                    yield s + value.start(1), s + value.end(1), "kubernetes_secret", _CONTEXT


def _prose(text: str) -> Iterator[Finding]:
    """After a secret's noun, up to eight words on the same line: a verb (`is`, `:`, `->`,
    `to`) opens the value slot and the first word there is judged, as is a word right after
    the noun; other words in between count only when they look machine-made."""
    for m in sc.SECRET_NOUN.finditer(text):
        kw = (m.group("kw") or m.group("unspaced")).lower()
        particle = sc.PARTICLE.match(text, m.end()) if m.group("unspaced") else None
        if (
            "_" in kw
            or text[m.start() - 1 : m.start()] in (".", "$", "-")
            or text[m.end() : m.end() + 1] not in " \t:"
            and particle is None
        ):
            continue  # `password=`, `"password":`, `username:password@`: not prose
        password = re.search(r"(?:token|key|secret)s?$", kw) is None  # a password, in any tongue
        needs_verb = kw in ("pass", "passes")  # "pass the token on" is not a password
        before = text[max(0, m.start() - 80) : m.start()].rsplit("\n", 1)[-1]
        hashy = sc.HASH_WORDS.search(before) is not None  # "the commit that rotated the key is"
        start = particle.end() if particle else m.end()
        line = text[start : start + 160].split("\n", 1)[0]
        verb = particle is not None
        keyed = re.match(r"[ \t]*:", text[m.end() :]) is not None  # `password: x`, as in YAML
        if line[:1] == ":" and line[1:2] not in ("", " ", "\t"):  # "password:X", no blank
            start, line, verb = start + 1, line[1:], True
        for i, word in enumerate(sc.PROSE_WORD.finditer(line)):
            token = word.group()
            value = token.rstrip(".,:;?")
            if token.lower().rstrip(":") in sc.PROSE_VERBS or token in sc.PROSE_VERBS:
                verb = True
                continue
            quote = line[word.start() - 1 : word.start()] if word.start() else ""
            if verb and quote in ("'", '"', "`") and quote in line[word.start() :]:
                phrase = line[word.start() : line.index(quote, word.start())]
                spaced = re.search(r"\s", phrase) is not None
                if password and (
                    sp.passphrase(phrase) if spaced else sp.plausible_password(phrase)
                ):
                    yield _prose_finding(start + word.start(), phrase, "password")
                break  # "the wifi password is 'purple monkey dishwasher 42'"
            markup = "=" in token or token[:1] in "@<>|&/%{}$#\\"
            if i >= 8 or sc.PROSE_VETO.fullmatch(token) or markup and not sp.looks_random(value):
                break  # a hash or a name is described, or this is code, a URL, markup
            if token.lower() in sc.PROSE_FILLERS:
                continue
            if token.endswith(":") and not verb and value.isalpha():
                verb = True  # "the API key for the bot: X"
                continue
            follows = line[word.start() + len(value) : word.start() + len(value) + 1]
            if sp.CODE.search(value) or follows in ("(", "[", "|"):
                break
            if needs_verb and not verb:
                if i == 0 and sp.strong_password(value):  # "user admin pass Sup3rS3cr3t"
                    yield _prose_finding(start + word.start(), value, "password")
                break
            if verb or i == 0:
                if keyed and sp.yaml_reference(value):  # password: !vault, *db_password
                    break
                if password and sp.plausible_password(value):
                    yield _prose_finding(start + word.start(), value, "password")
                elif sp.looks_random(value, 16, allow_hex=verb and not password and not hashy):
                    yield _prose_finding(start + word.start(), value, "secret")
                elif not verb:
                    continue
                break
            if sp.looks_random(value, 20):
                yield _prose_finding(start + word.start(), value, "secret")
                break


def _prose_finding(start: int, value: str, kind: str) -> Finding:
    if kind == "secret" and re.fullmatch(r"[A-Za-z0-9/+]{40}", value):
        kind = "aws_secret_key"  # the one common 40-character base64 secret
    return start, start + len(value), kind, _PROSE


def _findings(view: _View) -> list[Finding]:
    text = view.text
    found = [*_formats(text), *_wrapped_formats(text), *_contexts(text)]
    found += [*_assignments(text), *_prose(text)]
    done = [m.span() for m in _PLACEHOLDER.finditer(text)]  # redacted before: leave it be
    return [f for f in found if f[1] > f[0] and not any(s < f[1] and f[0] < e for s, e in done)]


def _apply(text: str, view: _View, found: list[Finding]) -> Redacted:
    """Replace the original span of every finding; overlapping ones merge into one."""
    merged: list[list] = []  # [start, end, priority, kind]
    for start, end, prio, kind in sorted((*view.span(s, e), p, k) for s, e, k, p in found):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if prio < last[2]:
                last[2:] = [prio, kind]
        else:
            merged.append([start, end, prio, kind])
    pieces, done = [], 0
    for start, end, _, kind in merged:
        pieces += [text[done:start], f"[REDACTED:{kind}]"]
        done = end
    pieces.append(text[done:])
    return Redacted("".join(pieces), len(merged), tuple(dict.fromkeys(m[3] for m in merged)))


def redact(text: str) -> Redacted:
    """Replace every secret found with [REDACTED:<kind>]; count what was replaced."""
    view = _normalised(text)
    found = _findings(view)
    return _apply(text, view, found) if found else Redacted(text, 0, ())


def redact_name(value: str) -> Redacted:
    """`redact` for a short name (a tag, key, project or agent name). There a random-looking
    token is a credential with no keyword around it: a run of 16+ characters, or a piece of
    one between `-`, `_` or `.`. Hashes, UUIDs and names made of words pass."""
    view = _normalised(value)
    found = _findings(view)
    for m in re.finditer(r"[\w+/=.~\-]{16,}", view.text):
        pieces = [m] if sp.looks_random(m.group()) else re.finditer(r"[^_.~\-]{16,}", m.group())
        for p in pieces:
            start = m.start() + (0 if p is m else p.start())
            if sp.looks_random(p.group()):
                found.append((start, start + len(p.group()), "secret", _PROSE))
    return _apply(value, view, found) if found else Redacted(value, 0, ())
