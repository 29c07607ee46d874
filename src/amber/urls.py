"""Credentials inside URLs (`https://user:token@host`, `redis://:pw@host`) masked before a URL
is printed, logged or put into an error."""

from __future__ import annotations

import re

# scheme://[user][:password]@ — the userinfo part of any URL-looking text.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/@]*)@")
# ?api_key=… or &token=… in a query string.
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:api[_-]?key|access[_-]?token|token|key|password|secret)=)[^&#\s]+"
)


def _mask_userinfo(match: re.Match[str]) -> str:
    user, sep, _password = match.group("userinfo").partition(":")
    shown = f"{user}:***" if sep else "***"
    return f"{match.group('scheme')}{shown}@"


def mask_url(text: str) -> str:
    """The text with every URL's userinfo and secret-looking query values replaced by ***."""
    return _QUERY_SECRET.sub(r"\1***", _USERINFO.sub(_mask_userinfo, text))
