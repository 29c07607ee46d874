"""Secret redaction: credentials become typed placeholders before anything is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
            re.S,
        ),
    ),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    (
        "aws_secret_key",
        re.compile(r"(?i)(aws_?secret_?access_?key\s*[=:]\s*['\"]?)[A-Za-z0-9/+=]{40}\b"),
    ),
    (
        "github_token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+")),
    ("stripe_key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    ("url_credentials", re.compile(r"(?<=://)[^\s:/@]+:[^\s/@]+(?=@)")),
]


# `password = value` style assignments; the value is judged by _looks_secret, not the regex alone.
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:[a-z0-9]*_)?(?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token"
    r"|client_?secret|private_?key))(\s*)([=:])(\s*)(?:(['\"])([^'\"\n]{4,})\5|([^\s'\",;()\[\]{}<>]{4,}))"
)
_NOT_VALUES = {
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "str",
    "string",
    "bytes",
    "int",
    "secretstr",
    "optional",
    "required",
    "changeme?",
}
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.\w+)+")


def _looks_secret(value: str, quoted: bool, spaced: bool) -> bool:
    """A literal credential, not code that names one (`password = settings.password`)."""
    if value.lower() in _NOT_VALUES or value[0] in "$%<{" or "{" in value:
        return False
    if quoted:
        return " " not in value.strip()
    if _DOTTED.fullmatch(value) or value.endswith(("(", ")")):
        return False
    # In code, `name = word` is usually a variable; `name=word` (env, URL, shell) is a value.
    return not spaced or any(not c.isalpha() for c in value)


@dataclass(frozen=True)
class Redacted:
    text: str
    count: int
    kinds: tuple[str, ...]


def redact(text: str) -> Redacted:
    """Replace every secret the patterns know with [REDACTED:<kind>]; count what was replaced."""
    count = 0
    kinds: list[str] = []
    for kind, pattern in _PATTERNS:
        placeholder = f"[REDACTED:{kind}]"

        def _sub(match: re.Match[str], kind: str = kind, placeholder: str = placeholder) -> str:
            nonlocal count
            count += 1
            kinds.append(kind)
            if kind == "aws_secret_key":
                return f"{match.group(1)}{placeholder}"
            return placeholder

        text = pattern.sub(_sub, text)

    def _assignment(match: re.Match[str]) -> str:
        nonlocal count
        name, before, sep, after, quote, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        is_call = match.string[match.end() : match.end() + 1] == "("
        if (
            is_call
            or "[REDACTED:" in value
            or not _looks_secret(value, quoted is not None, bool(before or after))
        ):
            return match.group(0)
        count += 1
        kinds.append("password")
        q = quote or ""
        return f"{name}{before}{sep}{after}{q}[REDACTED:password]{q}"

    text = _ASSIGNMENT.sub(_assignment, text)
    return Redacted(text=text, count=count, kinds=tuple(dict.fromkeys(kinds)))
