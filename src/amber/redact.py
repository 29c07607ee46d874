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
    (
        "password",
        re.compile(
            r"(?i)((?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token|client_?secret)"
            r"\s*[=:]\s*)(['\"]?)(?!\s)(?![<{$%])([^\s'\",;]{4,})\2"
        ),
    ),
]


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
            if kind == "password":
                return f"{match.group(1)}{match.group(2)}{placeholder}{match.group(2)}"
            if kind == "aws_secret_key":
                return f"{match.group(1)}{placeholder}"
            return placeholder

        text = pattern.sub(_sub, text)
    return Redacted(text=text, count=count, kinds=tuple(dict.fromkeys(kinds)))
