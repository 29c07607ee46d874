"""Secret redaction: credentials become typed placeholders before anything is kept.

Detection runs on a normalised view of the text (NFKC, zero-width characters dropped, and for
token formats also a view with wrapped lines joined), so fullwidth letters, invisible
characters and line breaks do not hide a key; each finding is mapped back to its span in the
original, and only those spans change: text without secrets comes back byte-identical.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from amber import secret_patterns as sp

_TOKENS = [(kind, re.compile(rx)) for kind, rx in sp.TOKENS]
_COMMAND_LINE = [re.compile(rx) for rx in sp.COMMAND_LINE]
_LOOSE = [re.compile(rx) for rx in sp.LOOSE_CONTEXTS]
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e")
)
_TOKEN_CHAR = r"[A-Za-z0-9+/=_\-]"
_WRAP = re.compile(rf"(?<={_TOKEN_CHAR})\\?\r?\n[ \t]*(?={_TOKEN_CHAR})")

# What follows a value that is only part of an expression: a call, `"ghp_" + rest`, `"%s" % x`
_EXPRESSION = re.compile(r"[(\[]|[ \t]*(?:[+%*]|\.\w+\()")
_PLACEHOLDER = re.compile(r"\[REDACTED:[\w\-]+\]")
# Lower wins when two findings overlap: a known format names the kind better than a context.
_FORMAT, _CONTEXT, _ASSIGNED, _PROSE = range(4)


@dataclass(frozen=True)
class Redacted:
    text: str
    count: int
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class _View:
    """Text as detection sees it; `where[i]` is the original span of its character i."""

    text: str
    where: list[tuple[int, int]] | None  # None: the original itself

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.where is None:
            return start, end
        return self.where[start][0], self.where[end - 1][1]


def _normalised(text: str) -> _View:
    if text.isascii():
        return _View(text, None)
    chars: list[str] = []
    where: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        for ch in unicodedata.normalize("NFKC", text[i:j].translate(_INVISIBLE)):
            chars.append(ch)
            where.append((i, j))
        i = j
    return _View("".join(chars), where)


Finding = tuple[int, int, str, int]  # start, end (in the view), kind, priority


def _group(match: re.Match[str], name: str = "v") -> tuple[int, int]:
    return match.span(name) if name in match.re.groupindex else match.span()


def _formats(text: str) -> Iterator[Finding]:
    for kind, pattern in _TOKENS:
        for m in pattern.finditer(text):
            value = unquote(m.group("v")) if "v" in pattern.groupindex else ""
            if value and (sp.placeholder(value) or re.search(r"\s", value)):
                continue
            if kind != "private_key" or re.search(r"[A-Za-z0-9+/]{16}", m.group()):
                yield (*_group(m), kind, _FORMAT)


def _wrapped_formats(view: str) -> Iterator[Finding]:
    """Token formats broken over two lines (a pasted key that wrapped)."""
    cuts = list(_WRAP.finditer(view))
    if not cuts:
        return
    keep: list[int] = []  # index in `view` of each joined character
    last = 0
    for cut in cuts:
        keep.extend(range(last, cut.start()))
        last = cut.end()
    keep.extend(range(last, len(view)))
    joined = "".join(view[i] for i in keep)
    for kind, pattern in _TOKENS:
        for m in pattern.finditer(joined):
            s, e = _group(m)
            start, end = keep[s], keep[e - 1] + 1
            if end - start == e - s:
                continue  # no line break inside: the plain view has it
            head = view[start : view.index("\n", start)].rstrip("\\\r")
            tail = joined[s + len(head) : e]
            if pattern.fullmatch(head) is None or re.search(r"\d|[A-Z].*[A-Z]", tail):
                yield start, end, kind, _FORMAT


def _value(text: str, m: re.Match[str], extend: bool) -> tuple[int, int, str, str]:
    """Span, text and quote character of the value a name is given."""
    s, e = m.span("val")
    value = m.group("val")
    if value[:1] in "\"'`" and value[-1:] == value[:1] and len(value) > 1:
        return s + 1, e - 1, value[1:-1], value[0]
    if value[:1] in "\"'`":
        return s, s, "", ""  # an unclosed quote: a fragment of something else
    if extend:  # NAME=value opening a line (.env, shell): the value runs to the next blank
        e = s + len(re.match(r"\S*", text[s:]).group().rstrip(","))
        value = text[s:e]
    if not value.endswith(("...", "\u2026")):
        value = value.rstrip(".:")
    return s, s + len(value), value, ""


def _assignments(text: str) -> Iterator[Finding]:
    for m in sp.ASSIGNMENT.finditer(text):
        kind = sp.secret_name(m.group("name"))
        if kind is None or _EXPRESSION.match(text, m.end("val")):
            continue
        spaced = bool(m.group("before") or m.group("after"))
        line = text[max(0, m.start() - 80) : m.start()].rsplit("\n", 1)[-1]
        env = (
            m.group("sep") == "="
            and not spaced
            and re.fullmatch(r"(?:export[ \t]+|[ \t]*-[ \t]+)?", line)
        )
        style = (
            "colon" if m.group("sep") == ":" else "code" if spaced else "env" if env else "kwarg"
        )
        yaml_key = style == "colon" and re.fullmatch(r"[ \t]*(?:-[ \t]+)?", line)
        yield from _judged(text, m, kind, style, extend=bool(env or yaml_key))
    for m in sp.FLAG.finditer(text):
        if kind := sp.secret_name(m.group("name")):
            style = "kwarg" if m.group("sep") == "=" else "flag"
            yield from _judged(text, m, kind, style, extend=False)
    for m in sp.XML_ELEMENT.finditer(text):
        if kind := sp.secret_name(m.group("name")):
            yield from _judged(text, m, kind, "xml", extend=False)


def _judged(text: str, m: re.Match[str], kind: str, style: str, extend: bool) -> Iterator[Finding]:
    s, e, value, quote = _value(text, m, extend)
    after = text[e + len(quote) : e + len(quote) + 80].split("\n", 1)[0]
    if value[:1] not in ("", "-") and sp.assigned_secret(
        value, kind, quoted=quote, style=style, after=after
    ):
        yield s, e, "password" if kind == "password" else "secret", _ASSIGNED


def _contexts(text: str) -> Iterator[Finding]:
    for rx in _COMMAND_LINE:
        for m in rx.finditer(text):
            s, e = m.span("v")
            value = m.group("v")
            if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1:
                s, e, value = s + 1, e - 1, value[1:-1]
            if not sp.placeholder(value) and not value.startswith("-"):
                yield s, e, "password", _CONTEXT
    for rx in _LOOSE:
        for m in rx.finditer(text):
            kind = sp.secret_name(m.group("name")) if "name" in rx.groupindex else "password"
            value = m.group("v")
            if (
                kind == "password"
                and sp.credential_like(value)
                or (kind and kind != "password" and sp.looks_random(value, 16, allow_hex=True))
            ):
                yield (*m.span("v"), "password" if kind == "password" else "secret", _CONTEXT)
    for m in sp.AUTH_HEADER.finditer(text):
        value = m.group("v")
        scheme = m.group("scheme").lower()
        weak = sp.placeholder(value) or (scheme != "basic" and not re.search(r"\d", value))
        if weak and not sp.looks_random(value, 16):
            continue
        yield (*m.span("v"), "basic_auth" if scheme == "basic" else "bearer_token", _CONTEXT)
    for m in sp.BEARER.finditer(text):
        if sp.looks_random(m.group("v"), 16, allow_hex=True):
            yield (*m.span("v"), "bearer_token", _CONTEXT)
    yield from _kubernetes_secrets(text)


_K8S_KIND = re.compile(r"(?m)^\s*kind:\s*[\"']?Secret[\"']?\s*$|\"kind\"\s*:\s*\"Secret\"")
_K8S_DATA = re.compile(r"(?m)^([ \t]*)(?:data|stringData):[ \t]*\n")
_K8S_ITEM = re.compile(r"[ \t]+[\w.\-]+:[ \t]*(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s#]+)?")
_K8S_JSON_DATA = re.compile(r"\"(?:data|stringData)\"\s*:\s*\{([^{}]*)\}")


def _kubernetes_secrets(text: str) -> Iterator[Finding]:
    """Values under `data:`/`stringData:` in a manifest of `kind: Secret`."""
    offset = 0
    for doc in re.split(r"(?m)(?<=\n)---[^\n]*\n", text):
        if _K8S_KIND.search(doc):
            for block in _K8S_DATA.finditer(doc):
                indent, pos = len(block.group(1).expandtabs()), block.end()
                for line in doc[pos:].split("\n"):
                    if line.strip() and len(line) - len(line.lstrip()) <= indent:
                        break
                    item = _K8S_ITEM.match(line)
                    if item and item.group("val") and item.group("val") not in "|>":
                        s, e, value = item.start("val"), item.end("val"), item.group("val")
                        if value[:1] in "\"'":
                            s, e, value = s + 1, e - 1, value[1:-1]
                        if not sp.placeholder(value):
                            yield offset + pos + s, offset + pos + e, "kubernetes_secret", _CONTEXT
                    elif item and item.group("val") in ("|", ">"):
                        pass  # a block scalar: its lines are more indented, taken below
                    elif line.strip() and indent < len(line) - len(line.lstrip()):
                        yield offset + pos, offset + pos + len(line), "kubernetes_secret", _CONTEXT
                    pos += len(line) + 1
            for block in _K8S_JSON_DATA.finditer(doc):
                for value in re.finditer(r":\s*\"([^\"]+)\"", block.group(1)):
                    if not sp.placeholder(value.group(1)):
                        s, e = block.start(1) + value.start(1), block.start(1) + value.end(1)
                        yield offset + s, offset + e, "kubernetes_secret", _CONTEXT
        offset += len(doc)
    return


def _prose(text: str) -> Iterator[Finding]:
    """After a secret's noun, up to eight words on the same line: a verb (`is`, `:`, `->`,
    `to`) opens the value slot; the first word there is judged, and so is a word right after
    the noun; other words in between must look machine-made to count."""
    for m in sp.SECRET_NOUN.finditer(text):
        kw = m.group("kw")
        before = text[m.start() - 1 : m.start()]
        if "_" in kw or before in (".", "$", "-") or text[m.end() : m.end() + 1] not in " \t:":
            continue  # `password=`, `"password":`, `username:password@`: not prose
        password = kw.lower().startswith("p")
        needs_verb = kw.lower() in ("pass", "passes")  # "pass the token on" is a verb
        line = text[m.end() : m.end() + 160].split("\n", 1)[0]
        verb = False
        for i, word in enumerate(sp.PROSE_WORD.finditer(line)):
            token = word.group()
            if i >= 8 or sp.PROSE_VETO.fullmatch(token):
                break
            if token.lower().rstrip(":") in sp.PROSE_VERBS or token.lower() in sp.PROSE_VERBS:
                verb = True
                continue
            if token.lower() in sp.PROSE_FILLERS:
                continue
            value = token.rstrip(".,:;?")
            if "=" in token or token[:1] in "@<>|&/%{}$#\\":
                break  # code, a URL, markup
            if token.endswith(":") and not verb and value.isalpha():
                verb = True  # "the API key for the bot: X"
                continue
            follows = line[word.start() + len(value) : word.start() + len(value) + 1]
            if sp.CODE.search(value) or follows in ("(", "[", "|"):
                break
            if needs_verb and not verb:
                break
            if verb or i == 0:
                strict = not verb
                if password and sp.plausible_password(value):
                    yield from _prose_finding(m, word.start(), value, "password")
                elif sp.looks_random(value, 16, allow_hex=verb and not password):
                    yield from _prose_finding(m, word.start(), value, "secret")
                elif strict:
                    continue
                break
            if sp.looks_random(value, 20):
                yield from _prose_finding(m, word.start(), value, "secret")
                break


def _prose_finding(m: re.Match[str], offset: int, value: str, kind: str) -> Iterator[Finding]:
    s = m.end() + offset
    if re.fullmatch(r"[A-Za-z0-9/+]{40}", value) and kind == "secret":
        kind = "aws_secret_key"  # the one common 40-character base64 secret
    yield s, s + len(value), kind, _PROSE


def _findings(view: _View) -> list[Finding]:
    text = view.text
    found = [*_formats(text), *_wrapped_formats(text), *_contexts(text)]
    found += [*_assignments(text), *_prose(text)]
    done = [m.span() for m in _PLACEHOLDER.finditer(text)]  # redacted before: leave it be
    return [f for f in found if f[1] > f[0] and not any(s < f[1] and f[0] < e for s, e in done)]


def _apply(text: str, view: _View, found: list[Finding]) -> Redacted:
    spans = sorted((*view.span(s, e), prio, kind) for s, e, kind, prio in found)
    merged: list[list] = []
    for start, end, prio, kind in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if prio < last[2]:
                last[2], last[3] = prio, kind
        else:
            merged.append([start, end, prio, kind])
    pieces, last_end = [], 0
    for start, end, _, kind in merged:
        pieces += [text[last_end:start], f"[REDACTED:{kind}]"]
        last_end = end
    pieces.append(text[last_end:])
    kinds = tuple(dict.fromkeys(m[3] for m in merged))
    return Redacted(text="".join(pieces), count=len(merged), kinds=kinds)


def redact(text: str) -> Redacted:
    """Replace every secret found with [REDACTED:<kind>]; count what was replaced."""
    view = _normalised(text)
    found = _findings(view)
    return _apply(text, view, found) if found else Redacted(text, 0, ())


_NAME_TOKEN = re.compile(r"[\w+/=.~\-]{16,}")


def redact_name(value: str) -> Redacted:
    """Like `redact`, for a short name (a tag, key, project or agent name): there a
    random-looking token is itself a credential, with no keyword needed around it.
    Hashes, UUIDs and word-made names pass."""
    view = _normalised(value)
    found = _findings(view)
    for m in _NAME_TOKEN.finditer(view.text):
        pieces = [(m.start(), m.group())]
        if not sp.looks_random(m.group(), 16):
            pieces = [
                (m.start() + p.start(), p.group()) for p in re.finditer(r"[^_.~\-]{16,}", m.group())
            ]
        for start, piece in pieces:
            if sp.looks_random(piece, 16):
                found.append((start, start + len(piece), "secret", _PROSE))
    return _apply(value, view, found) if found else Redacted(value, 0, ())
