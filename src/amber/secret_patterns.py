"""What a credential looks like: token formats, secret-bearing names and literal-value tests.

`amber.redact` runs these over normalised text, with the contexts of `amber.secret_contexts`;
nothing here knows about offsets.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter

# Formats issued with a recognisable prefix or shape. A group named `v` marks the part to
# redact; without it the whole match goes.
_B64URL = r"[A-Za-z0-9_\-]"
TOKENS: list[tuple[str, str]] = [
    (
        "private_key",
        r"-----BEGIN[A-Z0-9 ]{0,20} PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?s:.{0,20000}?)-----END[A-Z0-9 ]{0,20} PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:(?:\\n|\s)+(?:[\w\-]+: [^\n\\]*|[A-Za-z0-9+/=]{16,}))+)",
    ),
    ("aws_access_key", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])"),
    (
        "aws_secret_key",
        r"(?i:aws_?secret_?(?:access_?)?key)[\"']?(?:\s*[=:]\s*|\s+)[\"']?"
        r"(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
    ),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_\w{22,255}"),
    ("gitlab_token", rf"\bgl(?:pat|dt|rt|ptt|cbt|oas|ft|imt|soat|agent)-{_B64URL}{{20,}}"),
    ("gitlab_token", rf"\bGR1348941{_B64URL}{{20,}}"),
    ("anthropic_key", rf"\bsk-ant-(?:[a-z]+\d\d-)?{_B64URL}{{20,}}"),
    ("openai_key", rf"(?<![\w\-])sk-(?:proj-|svcacct-|admin-|or-v1-)?{_B64URL}{{20,}}"),
    ("slack_token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}|\bxapp-\d-[A-Za-z0-9\-]{10,}"),
    ("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/\-]{20,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("stripe_webhook_secret", r"\bwhsec_[A-Za-z0-9+/]{24,}"),
    ("google_api_key", rf"\bAIza{_B64URL}{{35}}"),
    ("google_oauth", rf"\bGOCSPX-{_B64URL}{{20,}}|\bya29\.{_B64URL}{{20,}}|\b1//0{_B64URL}{{30,}}"),
    ("jwt", rf"\beyJ{_B64URL}{{8,}}\.{_B64URL}{{8,}}\.{_B64URL}{{8,}}"),
    ("huggingface_token", r"\b(?:hf|api_org)_[A-Za-z0-9]{30,}\b"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi_token", rf"\bpypi-{_B64URL}{{50,}}"),
    ("twilio", r"\b(?:SK|AC)[0-9a-fA-F]{32}\b"),
    ("sendgrid_key", rf"\bSG\.{_B64URL}{{16,32}}\.{_B64URL}{{16,64}}"),
    ("mailchimp_key", r"\b[0-9a-f]{32}-us\d{1,2}\b"),
    ("mailgun_key", r"\bkey-[0-9a-f]{32}\b"),
    ("shopify_token", r"\bshp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}\b"),
    ("digitalocean_token", r"\bdo[opr]_v1_[0-9a-f]{64}\b"),
    ("databricks_token", r"\bdapi[0-9a-f]{32}(?:-\d)?\b"),
    ("discord_webhook", r"https://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w\-]+"),
    ("discord_token", rf"\b[MNO]{_B64URL}{{23,25}}\.{_B64URL}{{6}}\.{_B64URL}{{27,38}}"),
    ("telegram_bot_token", r"(?<!\d)\d{8,10}:AA[\w\-]{33}\b"),
    ("square_token", rf"\bsq0(?:atp|csp)-{_B64URL}{{22,43}}|\bEAAA{_B64URL}{{60}}"),
    ("age_secret_key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
    ("docker_token", r"\bdckr_(?:pat|oat)_[A-Za-z0-9_\-]{24,}"),
    ("figma_token", r"\bfig[dhu]_[A-Za-z0-9_\-]{30,}"),
    ("facebook_token", r"\bEAA[B-Z][A-Za-z0-9]{28,}"),
    ("grafana_token", r"\bglsa_[A-Za-z0-9]{32}_[0-9a-f]{8}\b|\bglc_[A-Za-z0-9+/=]{32,}"),
    ("newrelic_key", r"\bNRAK-[A-Z0-9]{27}\b"),
    ("vault_token", rf"\bh[vb]s\.{_B64URL}{{24,}}|\bs\.(?=[A-Za-z]*\d)[A-Za-z0-9]{{24}}\b"),
    ("ai_api_key", r"\b(?:gsk_[A-Za-z0-9]{40,}|r8_[A-Za-z0-9]{30,}|pplx-[A-Za-z0-9]{40,})"),
    ("ai_api_key", r"\bxai-[A-Za-z0-9]{60,}"),
    ("linear_key", r"\blin_(?:api|oauth)_[A-Za-z0-9]{40}\b"),
    ("notion_token", r"\bntn_[A-Za-z0-9]{40,}\b|\bsecret_[A-Za-z0-9]{43}\b"),
    ("supabase_token", r"\bsbp_[0-9a-f]{40}\b"),
    ("doppler_token", rf"\bdp\.(?:st|ct|pt|sa|scim|audit)\.(?:[\w\-]+\.)?{_B64URL}{{30,}}"),
    ("postman_key", r"\bPMAK-[0-9a-f]{24}-[0-9a-f]{34}\b"),
    ("atlassian_token", rf"\bATATT3{_B64URL}{{60,}}=?[0-9A-F]{{0,8}}"),
    ("mapbox_token", r"\bsk\.eyJ[\w\-.]{50,}"),
    ("azure_client_secret", r"(?<![\w~.\-])[\w~.\-]{3}\dQ~[\w~.\-]{31,34}(?![\w~.\-])"),
    ("azure_sas", r"[?&;]sig=(?P<v>[A-Za-z0-9%+/=]{16,})"),
    # user:password in a URL, the user may be empty (redis://:pw@host)
    ("url_credentials", r"(?<=://)[^\s:/@\"'<>\[\]]*:(?P<v>[^\s/:\"'<>\[\],]+)(?=@[\w.\-\[\]]+)"),
]

# Secrets without a prefix that often follow their public half on the same line: an AWS
# secret key after its access key id, a Twilio auth token after the account SID.
PAIRS = {
    "aws_access_key": (
        "aws_secret_key",
        re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
    ),
    "twilio": ("twilio", re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])")),
}


def _vocab(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A secret-bearing name splits into parts (snake, kebab, dotted, camel). Password-like parts
# make a `password`, these a `secret`, and so does `<owner> key`.
_PW_PARTS = _vocab(
    "password passwd pwd pass passphrase pw passwort pword kennwort hasło haslo contraseña"
    " contrasena senha wachtwoord lösenord losenord salasana şifre sifre пароль mdp motdepasse"
)
_SECRET_PARTS = _vocab(
    "secret token apikey credential credentials authtoken accesstoken refreshtoken sessiontoken"
    " secretkey privatekey accesskey clientsecret sessionid phpsessid jsessionid"
)
_KEY_OWNERS = _vocab(
    "api access secret private account signing encryption master client subscription license"
    " app admin auth session bot webhook deploy consumer storage functions service write read"
)
# A name ending in one of these describes a secret without holding one (`password_file`).
_META_PARTS = _vocab(
    "file path dir url uri endpoint endpoints name names id ids type types length len min max"
    " size count policy env var field header headers prompt regex pattern mode kind provider"
    " source format required enabled enable timeout ttl expiry expires expiration limit rotation"
    " reset validators validator hint label location store manager class method scheme strategy"
    " version algorithm fingerprint prefix stdin backend backends budget usage used cost window"
    " ref arn hash salt rounds param parameter keys secrets tokens help error changed at by"
    " schema command cmd template placeholder number num index idx pos offset str scores score"
    " query refresh"
)
_NOT_SECRET_PARTS = _vocab("public publishable pub sha md5 checksum digest")


def _parts(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [p for p in re.split(r"[\s_.\-:/\[\]\"']+", spaced.lower()) if p]


def secret_name(name: str) -> str | None:
    """The kind of secret a name holds: `password`, `secret`, or one whose value must look
    random to count: `auth` (the bare word) and `key` (`fernet_key`, but also `cache_key`)."""
    parts = _parts(name.rsplit(".", 1)[-1])
    if not parts or _NOT_SECRET_PARTS & set(parts):
        return None
    if parts[-1] == "key" and len(parts) > 1:
        return "secret" if parts[-2] in _KEY_OWNERS else "key"
    if parts[-1] in _META_PARTS:
        return None
    if parts == ["auth"]:
        return "auth"
    if any(p in _PW_PARTS or p.endswith(("password", "passwd")) for p in parts):
        return "password"
    if any(p in _SECRET_PARTS or p.endswith(("token", "secret", "apikey")) for p in parts):
        return "secret"
    return "secret" if parts[-1] == "auth" else None  # basic_auth, REDISCLI_AUTH


_PLACEHOLDER_WORDS = _vocab(
    "none null nil true false yes no on off undefined str string bytes int bool secretstr"
    " optional required changeme change_me change-me example sample dummy fake test testing mock"
    " placeholder redacted secret password passwd token todo tbd hidden masked foo bar baz foobar"
    " env default empty auto prompt stdin n/a na omitted unset unknown bearer basic oauth oauth2"
    " jwt apikey api_key api-key pass value pwd pw object float dict list any callable"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:[x*.#?_\-•/: ]{3,}"
    r"|(?:your|my|the|some|insert|enter|replace|paste|put|add)[_\-][\w\-]*"
    r"|(?:your|my)[a-z]*(?:key|token|secret|pass|pw)[a-z]*"
    r"|[\w\-]*(?:here|example|placeholder|changeme|redacted|dummy)"
    r"|(?:changeme|change_me|replaceme|replace_me|placeholder|redacted)\w*\W?"
    r"|(?:test|fake|dummy|example|sample|mock|demo|fixture|placeholder)[_\-.][\w\-.]*"
    r"|[+-]?(?:0x[0-9a-f]{1,31}|\d[\d_.,]*(?:e[+-]?\d+)?)|#[0-9a-f]{3,8})$"
    r"|x{5,}|^\*{3,}|\*{3,}$|\.\.\.|…|\\[sdwSDW]|\.[*+]|\[\^?[\w\\]+-[\w\\]"
)
MASKED = re.compile(r"(?i)x{6,}|\*{3,}|\.\.\.|\u2026")  # sk-xxxxxxxx, hf_***, ghp_...
# Templating and references to where the value really lives: $VAR, ${VAR}, {{ x }}, %(x)s, ...
_SHELL_VAR = re.compile(r"^\$\{?\w")  # literal inside single quotes
_REFERENCE = re.compile(
    r"^\$\(|\{\{|\$\{|\{[\s.]*[A-Za-z_]|%\(\w+\)s|^%\w+%$|#\{|\[REDACTED:|^<[^>]*>?$"
    r"|^\[[^\]]*\]$"
)
_YAML_REFERENCE = re.compile(r"^[!&*]\w")  # !vault, &anchor, *alias
_FILE_EXT = (
    r"\.(?:key|pem|crt|cer|p12|pfx|jks|keystore|json|ya?ml|txt|env|conf|cfg|ini|toml|pub|gpg"
    r"|asc|der|kdbx|db|sqlite|sh|py)"
)
_URL = re.compile(r"^\w[\w+.\-]*://")
_ABSOLUTE = re.compile(r"^(?:~|\.{1,2})?/|^[A-Za-z]:\\")
_RELATIVE = re.compile(rf"^[\w.\-]+(?:/[\w.\-]+)+$|^[\w.\-]+{_FILE_EXT}$")
# code, not a value: `settings.API_TOKEN` (every part an identifier: `Gato.Negro.13` is not),
# a call or subscript, a bracket
CODE = re.compile(
    r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:[^\w.]|$)|^[A-Za-z_][\w.]*[(\[]|^[(\[{]|[()]$"
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAMES_A_SECRET = re.compile(r"(?i)pass|pw|secret|token|key|auth|cred")
_HEX = re.compile(r"^(?:[0-9a-f]+|[0-9A-F]+)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def yaml_reference(value: str) -> bool:
    """A YAML tag, anchor or alias (`!vault`, `&defaults`, `*db_password`), not a value."""
    return _YAML_REFERENCE.match(value) is not None


def path_like(value: str) -> bool:
    """A URL or a file path (a "path" that is one random run is base64 with slashes)."""
    if _URL.match(value):
        return True
    path = _ABSOLUTE.match(value) or _RELATIVE.match(value)
    return bool(path) and not looks_random(value.replace("/", ""), 16)


def placeholder(value: str, quote: str | None = None) -> bool:
    """Documentation, templating or a reference to somewhere else, not a literal credential;
    `quote` is the character a value was quoted with, "" when bare, None when not known."""
    v = value.strip().strip("\"'`")
    return (
        len(v) < 3
        or (quote == "" and _YAML_REFERENCE.match(v) is not None)
        or (quote != "'" and _SHELL_VAR.match(v) is not None)
        or v.lower() in _PLACEHOLDER_WORDS
        or bool(_PLACEHOLDER.search(v) or _REFERENCE.search(v))
        or len(set(v.lower())) == 1
    )


def credential_like(v: str) -> bool:
    return plausible_password(v) or looks_random(v, 16, allow_hex=True)


def assigned_secret(value: str, kind: str, *, quoted: str, style: str, after: str) -> bool:
    """Is `value`, assigned to a name of `kind` (from `secret_name`), a literal credential?

    `quoted`: the quote character or ""; `style`: `env` (NAME=value opening a line), `code`
    (`name = value`), `colon` (`name: value`), `kwarg` (`name=value` elsewhere), `option`
    (`--name=value`), `flag` (`--name value`) or `xml`; `after`: the rest of the line after
    the value.
    """
    v = value
    if kind == "password" and re.fullmatch(r"\d{6,64}", v):
        return True  # a PIN-like password is digits only; numbers elsewhere are placeholders
    if placeholder(v, quoted if style != "env" else None):
        return False
    if quoted and re.search(r"\s", v):
        return kind == "password" and passphrase(v)  # "correct horse battery staple"
    if path_like(v):
        return False
    if not quoted and style != "env" and CODE.search(v):
        return False  # `auth = httpx.USE_CLIENT_DEFAULT`, `token: str(x)`; .env holds no code
    if kind == "auth":
        return looks_random(v, 12, allow_hex=True) or basic_blob(v)
    if kind == "key":
        return looks_random(v, 16, allow_hex=True)
    alpha = v.isalpha()
    if alpha and _NAMES_A_SECRET.search(v) and not looks_random(v) or kind == "secret" and words(v):
        return False
    if kind == "secret" and alpha and not looks_random(v, 16):
        return False  # tokens are machine-made; `token: write`, `"serverAuth"` are words
    if quoted and quoted != "`":
        return len(v) >= 4
    # unquoted (or a `code` span): code, prose and types look like values here; not in .env
    if _ENV_NAME.match(v) or style != "env" and CODE.search(v):
        return False
    if style not in ("env", "option", "flag") and variable(v):  # a shell word is no variable
        return False
    if IDENT.match(v) and after.lstrip()[:1] in (",", ")", "]", "}", "|", "="):
        return False  # an argument, a type in a signature
    if re.match(r"[ \t]+[A-Za-z(]", after) or style in ("code", "flag"):
        return credential_like(v)  # `pass: check if ...` is prose; `x = word` is a variable
    if style == "colon" and alpha:
        return False  # `password: str`, `token: Buffer`
    return len(v) >= 4


# Words that make a quoted phrase a description or a prompt rather than a passphrase.
_DESCRIBING = _vocab(
    "the a an your my our their this that these for of to"
    " is are be been must should can will enter type use used please required optional new old"
    " current confirm not no and or if when here password passwords passphrase secret token key"
    " database db user account login characters chars least most long"
)


def passphrase(v: str) -> bool:
    """A quoted run of two to eight plain words that describe nothing: `correct horse battery
    staple`, `purple monkey dishwasher 42`, not `must be at least 8 chars` or `Enter password`."""
    words = v.split()
    return (
        2 <= len(words) <= 8
        and len(v) <= 100
        and not v.rstrip().endswith((":", "?", "..."))
        and all(re.fullmatch(r"[\w!@#$%^&*+=~.\-]+", w) for w in words)
        and (
            not _DESCRIBING & {w.lower().strip(".,!") for w in words}
            or any(re.search(r"[A-Za-z]", w) and re.search(r"[\d!@#$%^&*+=~]", w) for w in words)
        )
    )


def strong_password(v: str) -> bool:
    """A plausible password with three kinds of character that is not a word with a version
    (`Sup3rS3cr3t`, not `Python3`): enough to count with no verb before it (`pass X`)."""
    kinds = sum(bool(re.search(rx, v)) for rx in (r"[a-z]", r"[A-Z]", r"\d", r"[!@#$%^&*+=?~|]"))
    return plausible_password(v) and kinds >= 3 and not re.fullmatch(r"[A-Z]?[a-z]+[\d.]+", v)


def variable(v: str) -> bool:
    """An identifier that names a value rather than being one (`password=db_password`)."""
    named = _NAMES_A_SECRET.search(v) and re.fullmatch(r"_*[A-Za-z]+(?:_+[A-Za-z]+)*\d*", v)
    return bool(IDENT.match(v)) and bool(named or _VARIABLE.fullmatch(v))  # not `Sup3rSecretPw`


_VARIABLE = re.compile(r"_*[a-z]+(?:_+[a-z]+)+|[a-z]+(?:[A-Z][a-z]+)+|[A-Z][a-z]+(?:[A-Z][a-z]+)+")


def words(v: str) -> bool:
    """Words joined by `-` or `_` (`send_message`, `X-Access-Token`): a name, not a secret."""
    return re.fullmatch(r"_*[A-Za-z]+(?:[\-_]+[A-Za-z]+)+", v) is not None


def entropy(s: str) -> float:
    return -sum(c / len(s) * math.log2(c / len(s)) for c in Counter(s).values())


def _text_blob(s: str) -> bytes | None:
    """The bytes a base64 string decodes to when they are printable text, else None."""
    if len(s) < 8 or not re.fullmatch(r"[A-Za-z0-9+/_\-]+={0,2}", s):
        return None
    body = s.rstrip("=")
    try:
        raw = base64.b64decode(body.replace("-", "+").replace("_", "/") + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return raw if raw and printable / len(raw) >= 0.95 else None


def basic_blob(s: str) -> bool:
    """base64 of `user:password`, as in Basic auth and docker's config.json."""
    raw = _text_blob(s)
    return raw is not None and re.fullmatch(rb"[^\s:]{1,128}:[^\s]{3,256}", raw) is not None


def _wordy(s: str) -> bool:
    """Made of word-like runs (identifiers, kebab names), as random strings are not: in
    `SslPemKeyCertPair` most letters sit in cased runs of three or more that can be spoken
    (a vowel, no five consonants in a row); in random base62 about half do, and a third of
    the runs are single letters."""
    runs = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", s)
    if not runs:
        return False
    spoken = sum(len(r) for r in runs if len(r) >= 3 and _PRONOUNCEABLE.search(r.lower()))
    share = spoken / sum(map(len, runs))
    singles = sum(len(r) == 1 for r in runs) / len(runs)
    return share >= 0.8 or (share >= 0.6 and singles <= 0.1)


_PRONOUNCEABLE = re.compile(r"^(?=.*[aeiouy])(?!.*[^aeiouy]{5})")


def looks_random(s: str, min_len: int = 16, *, allow_hex: bool = False) -> bool:
    """A machine-made token: long, mixed, high entropy; not a hash, UUID, word or base64 text."""
    s = s.strip("\"'`.,;:)(")
    if len(s) < min_len or not re.fullmatch(r"[\w+/=.~\-]+", s) or _UUID.match(s):
        return False
    bare = s[2:] if s[:2] in ("0x", "0X") else s  # an Ethereum private key is 0x + 64 hex
    if _HEX.match(bare):
        return allow_hex and len(bare) >= 32 and entropy(bare) >= 3.0
    lower = sum(c.islower() for c in s)
    upper = sum(c.isupper() for c in s)
    digits = sum(c.isdigit() for c in s)
    if sum(n > 0 for n in (lower, upper, digits)) < 2 or digits > len(s) / 2:
        return False  # one kind of character, or mostly digits: a word, number, date or id
    if digits == 0 and (min(lower, upper) < 3 or len(s) < 24):
        return False  # letters only: random ones are rare below 24 characters, words are not
    if _text_blob(s) is not None or _wordy(s) and (len(s) < 24 or entropy(s) < 4.3 or "." in s):
        return False  # long random strings can read as words; identifiers seldom reach 4.3 bits
    return entropy(s) >= (3.0 if len(s) < 24 else 3.4)


def plausible_password(v: str) -> bool:
    """A word that reads as a password: mixed letters with digits or symbols, not a unit,
    version, path, address or identifier."""
    if not 6 <= len(v) <= 64 or placeholder(v) or path_like(v) or looks_random(v, 16):
        return looks_random(v, 16)
    if not re.search(r"[A-Za-z]", v) or not re.search(r"[\d!@#$%^&*+=?~|]", v):
        return False
    return not re.fullmatch(
        r"\d+[\-_]?[a-z]{1,8}|v?\d+(?:\.\d+)+[\w\-]*|\S+@\S+\.\w+|[a-z][a-z0-9]*(?:[_\-][a-z0-9]+)+"
        r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[\w\-]+\.(?:py|js|ts|sh|md|txt|json|ya?ml|toml|env)",
        v,
    )
