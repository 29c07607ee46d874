"""Secret redaction measured on a labelled set: recall on secrets, no false positives on code."""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

from amber.redact import redact

SKILL = Path(__file__).resolve().parent.parent / "skills" / "python-patterns" / "SKILL.md"
rng = random.Random(20261128)


def rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


UPPER = string.ascii_uppercase + string.digits
# Built at run time so no credential-shaped literal sits in the repository.
SECRETS: list[tuple[str, str]] = [
    *[
        ("aws_access_key", f"export AWS_ACCESS_KEY_ID={p}{rand(16, UPPER)}")
        for p in ("AKIA", "ASIA", "AKIA", "AKIA")
    ],
    ("aws_secret_key", f"aws_secret_access_key = {rand(40, string.ascii_letters + '/+')}"),
    ("aws_secret_key", f"AWS_SECRET_ACCESS_KEY: {rand(40)}"),
    *[("github_token", f"token {p}_{rand(36)}") for p in ("ghp", "gho", "ghu", "ghs", "ghr")],
    ("github_token", f"GITHUB_TOKEN=github_pat_{rand(22)}_{rand(59)}"),
    *[("openai_key", f"OPENAI_API_KEY={p}{rand(48)}") for p in ("sk-", "sk-proj-", "sk-svcacct-")],
    *[
        ("anthropic_key", f"client = Anthropic(api_key='sk-ant-api03-{rand(80)}')")
        for _ in range(3)
    ],
    *[
        ("slack_token", f"SLACK_BOT_TOKEN={p}-{rand(11, string.digits)}-{rand(24)}")
        for p in ("xoxb", "xoxp", "xoxa")
    ],
    (
        "slack_webhook",
        f"https://hooks.slack.com/services/T{rand(8, UPPER)}/B{rand(8, UPPER)}/{rand(24)}",
    ),
    *[
        ("stripe_key", f"stripe.api_key = '{p}_{rand(24)}'")
        for p in ("sk_live", "sk_test", "rk_live")
    ],
    ("google_api_key", f"GOOGLE_API_KEY=AIza{rand(35)}"),
    *[("jwt", f"Authorization: Bearer eyJ{rand(30)}.eyJ{rand(60)}.{rand(43)}") for _ in range(3)],
    *[
        ("url_credentials", f"{scheme}://{rand(8).lower()}:{rand(16)}@db.internal:5432/app")
        for scheme in ("postgres", "postgresql", "mysql", "redis", "amqp", "https")
    ],
    *[
        ("password", f"{name}={rand(14)}")
        for name in (
            "password",
            "PASSWORD",
            "db_password",
            "passwd",
            "secret",
            "api_key",
            "client_secret",
            "auth_token",
        )
    ],
    ("password", f'password: "{rand(12)}"'),
    ("password", f"DATABASE_PASSWORD = '{rand(18)}'"),
    ("password", f"mysql -u root --password={rand(12)}"),
    ("url_credentials", f"git clone https://oauth2:{rand(20)}@gitlab.example.com/team/repo.git"),
    *[
        (
            "private_key",
            f"-----BEGIN {kind}PRIVATE KEY-----\n{rand(64)}\n{rand(64)}\n"
            f"-----END {kind}PRIVATE KEY-----",
        )
        for kind in ("", "RSA ", "EC ", "OPENSSH ")
    ],
]

NOT_SECRETS = [
    "password = os.environ['DB_PASSWORD']",
    "password: str = Field(min_length=12)",
    "def check_password(password: str) -> bool:",
    "api_key = settings.api_key",
    "token = request.headers.get('Authorization')",
    "secret = load_secret(name)",
    "connect to postgres://db.internal:5432/app",
    "the AWS access key id lives in the vault",
    "use sk-learn? no: scikit-learn is the package name",
    "git commit -m 'fix password reset flow'",
    "ghp tokens are rotated every 90 days",
    "https://hooks.slack.com/ is where webhooks go",
    "eyJ is how a base64 JSON object starts",
    "password=None",
    "PASSWORD=${DB_PASSWORD}",
    "password = <your password here>",
    "AKIA prefixes identify long-lived AWS keys",
]


def test_secret_recall_is_at_least_95_percent() -> None:
    assert len(SECRETS) >= 50
    missed = []
    for kind, text in SECRETS:
        secret_part = re.split(r"[=:]\s*|\s|'|\"", text)[-1] if kind != "private_key" else text
        result = redact(text)
        if result.count == 0 or (
            secret_part and secret_part in result.text and len(secret_part) > 8
        ):
            missed.append((kind, text))
    recall = 1 - len(missed) / len(SECRETS)
    assert recall >= 0.95, f"recall {recall:.1%}, missed {missed}"


def test_no_false_positives_on_ordinary_code() -> None:
    flagged = [(t, redact(t).text) for t in NOT_SECRETS if redact(t).count]
    assert flagged == []


def test_no_false_positives_on_the_skill_code_blocks() -> None:
    blocks = re.findall(r"```[^\n]*\n(.*?)```", SKILL.read_text(), re.S)
    assert len(blocks) >= 5
    assert [b for b in blocks if redact(b).count] == []
