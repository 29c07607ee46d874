"""Secret redaction measured on labelled sets: recall on secrets, no false positives on code."""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from amber.redact import Redacted, redact, redact_name
from tests.secret_cases import LOOKALIKES, SEED, build, caught, leaked, untouched
from tests.secret_cases import SECRETS as LABELLED

ROOT = Path(__file__).resolve().parent.parent
SKILL = ROOT / "skills" / "python-patterns" / "SKILL.md"
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


# --- the labelled set of tests/secret_cases.py (also reported by benchmarks/redaction.py) ---


def test_labelled_set_is_broad() -> None:
    assert len(LABELLED) >= 80 and len(LOOKALIKES) >= 80
    kinds = Counter(case.kind for case in LABELLED)
    assert len(kinds) >= 30
    assert {"prose", "env", "yaml", "json", "shell", "url", "header", "python"} <= {
        case.form for case in LABELLED
    }


def test_labelled_recall_is_at_least_95_percent() -> None:
    missed = [(c.kind, c.text, redact(c.text).text) for c in LABELLED if not caught(c, redact)]
    recall = 1 - len(missed) / len(LABELLED)
    assert recall >= 0.95, f"recall {recall:.1%}, missed {missed}"


def test_labelled_lookalikes_altered_at_most_2_percent() -> None:
    altered = [(c.text, redact(c.text).text) for c in LOOKALIKES if not untouched(c, redact)]
    rate = len(altered) / len(LOOKALIKES)
    assert rate <= 0.02, f"{rate:.1%} of look-alikes altered: {altered}"


def test_other_draws_of_the_same_shapes_meet_the_targets_too() -> None:
    """The rules are for kinds, not for these strings: redraw every credential and look-alike."""
    try:
        for seed in (3, 17, 101):
            secrets, lookalikes = build(seed)
            missed = [c.text for c in secrets if not caught(c, redact)]
            altered = [c.text for c in lookalikes if not untouched(c, redact)]
            assert len(missed) <= 0.05 * len(secrets), (seed, missed)
            assert len(altered) <= 0.02 * len(lookalikes), (seed, altered)
    finally:
        build(SEED)


def test_placeholders_name_the_kind_and_are_counted() -> None:
    token = "ghp_" + rand(36)
    result = redact(f"GITHUB_TOKEN={token} and password: {rand(10)}7!")
    assert result == Redacted(
        "GITHUB_TOKEN=[REDACTED:github_token] and password: [REDACTED:password]",
        2,
        ("github_token", "password"),
    )


def test_a_password_may_contain_words_that_name_secrets() -> None:
    text = "Deploy with AWS key AKIAIOSFODNN7EXAMPLE and password=Sup3rSecretPw"
    assert redact(text) == Redacted(
        "Deploy with AWS key [REDACTED:aws_access_key] and password=[REDACTED:password]",
        2,
        ("aws_access_key", "password"),
    )
    assert redact("password=db_password, token=authToken").count == 0  # variables


def test_redacting_twice_changes_nothing_more() -> None:
    for case in LABELLED:
        once = redact(case.text).text
        assert redact(once) == Redacted(once, 0, ()), case.text


CLEAN = [
    "Decided: keep the response cache per project; TTL 7 days.\r\nSee PR #412.\r\n",
    "naïve café — déjà vu, 東京, emoji 🚀🔑, math ∑ ≠ ∞, tabs\tand\x0bodd\x0cspaces",
    "cafe\u0301 and e\u0301t\u00e9: combining marks stay as written",
    "ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ ＡＢＣ １２３ without any secret in it",
    "zero\u200bwidth\u200cjoiners\u200d and a soft\u00adhyphen in ordinary words\ufeff",
    "Ⅻ ﬁ ﬂ ㎏ ½ ² — characters NFKC would rewrite, kept as they were",
    "line one\n\n\tindented line\n    spaced line\n",
]


def test_clean_text_comes_back_byte_identical() -> None:
    for text in CLEAN + [case.text for case in LOOKALIKES] + [SKILL.read_text()]:
        result = redact(text)
        assert result.count == 0 and result.text.encode() == text.encode(), text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_text_is_only_changed_where_something_was_redacted(text: str) -> None:
    result = redact(text)
    if result.count == 0:
        assert result.text == text and result.kinds == ()
    else:
        assert result.text.count("[REDACTED:") >= result.count


def test_offsets_map_back_to_the_original_under_nfkc_and_zero_width() -> None:
    token = "ghp_" + rand(36)
    hidden = token[:7] + "\u200b" + token[7:20] + "\u2060" + token[20:]
    prefix = "cafe\u0301 ＡＢＣ ﬁle \u200bnote: token "
    assert redact(f"{prefix}{hidden} done ✓").text == f"{prefix}[REDACTED:github_token] done ✓"
    wide_name = "".join(chr(ord(c) + 0xFEE0) for c in "PASSWORD")
    pw = rand(12) + "9!"
    assert redact(f"é {wide_name}={pw} ok").text == f"é {wide_name}=[REDACTED:password] ok"
    wide_key = "".join(chr(ord(c) + 0xFEE0) for c in "AKIA" + rand(16, UPPER))
    assert redact(f"» key {wide_key} «").text == "» key [REDACTED:aws_access_key] «"
    key = "AKIA" + rand(16, UPPER)
    wrapped = f"ключ {key[:9]}\n{key[9:]} (wrapped)"
    assert redact(wrapped).text == "ключ [REDACTED:aws_access_key] (wrapped)"


def test_kubernetes_secret_values_are_found_in_the_right_document() -> None:
    token, other = rand(24), rand(16)
    manifest = (
        "---\napiVersion: v1\nkind: ConfigMap\ndata:\n  mode: fast\n"
        f"---\napiVersion: v1\nkind: Secret\ndata:\n  token: {token}\n"
        f"stringData:\n  note: |\n    {other}\nmetadata:\n  name: api\n"
    )
    expected = manifest.replace(token, "[REDACTED:kubernetes_secret]").replace(
        other, "[REDACTED:kubernetes_secret]"
    )
    assert redact(manifest) == Redacted(expected, 2, ("kubernetes_secret",))


def test_redact_name_catches_credentials_in_short_names() -> None:
    names = [
        "ghp_" + rand(36),
        "deploy-" + rand(24),
        rand(32),
        "sk-proj-" + rand(40, string.ascii_letters + string.digits + "_-"),
        f"password={rand(10)}1!",
        "agent:" + "xoxb-" + rand(12, string.digits) + "-" + rand(24),
    ]
    for name in names:
        result = redact_name(name)
        assert result.count >= 1 and "[REDACTED:" in result.text, name
        assert not leaked(name.split("=")[-1].split(":")[-1], result.text), name


def test_redact_name_keeps_ordinary_names_hashes_and_uuids() -> None:
    names = [
        "python-patterns",
        "amber",
        "claude-code",
        "gpt-4o-mini",
        "release-2024-11-28",
        "feature/login-flow",
        "api_key_from_env",
        "TestRedactionFixtures2024",
        "AbstractSingletonProxyFactoryBean",
        "build-20261128T101010Z",
        rand(40, "0123456789abcdef"),
        rand(64, "0123456789abcdef"),
        "123e4567-e89b-12d3-a456-426614174000",
        "v1.2.3",
        "my_project_v2",
        "secret-rotation",
        "password-reset",
    ]
    for name in names:
        assert redact_name(name) == Redacted(name, 0, ()), name


def test_benchmark_reports_the_targets_as_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "redaction.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert doc["targets_met"] == {"recall": True, "false_positives": True}
    assert doc["amber"]["secrets"] == len(LABELLED)


def test_a_token_at_a_line_end_leaves_the_next_line_alone() -> None:
    """Found in an outside trial: a whole token at the end of a line took the next line's
    first word (when it had capitals) and a following private key lost its own label."""
    token = "ghp_8fK2mQ9vX4bN7cL1zR5tY3wH6jD0sA2pE9uG"
    for follower in ("NextWord should survive here.", "GitLab runs the pipeline", "DB url is set"):
        cleaned = redact(f"GitHub token {token}\n{follower}")
        assert cleaned.text == f"GitHub token [REDACTED:github_token]\n{follower}"
    body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P"
    cleaned = redact(f"jwt {jwt}\n{key}\nafter")
    assert cleaned.text == "jwt [REDACTED:jwt]\n[REDACTED:private_key]\nafter"
    wrapped = redact(f"key {token[:30]}\n{token[30:]} done")  # a key that really wrapped
    assert token[30:] not in wrapped.text and "done" in wrapped.text


def test_secrets_the_outside_trial_found_are_caught() -> None:
    """Each kind missed in an outside trial: password labels in other languages, a quoted
    passphrase, `pass X` with no verb, a hex private key, Docker/Figma/Facebook tokens, a
    session cookie. Their look-alikes stay."""
    first = next(i for i, c in enumerate(LABELLED) if c.text.startswith("пароль от базы"))
    trial = LABELLED[first:]  # the cases written for these kinds, last in tests/secret_cases.py
    assert len(trial) >= 17
    assert [(c.text, redact(c.text).text) for c in trial if not caught(c, redact)] == []
    kept = [c for c in LOOKALIKES if c.kind == "cookie" or "0x" in c.text or "pass the" in c.text]
    assert len(kept) == 3 and [c.text for c in kept if not untouched(c, redact)] == []


def test_a_glued_colon_stays_and_yaml_references_are_not_values() -> None:
    pw = rand(10) + "7!"
    assert redact(f"password:{pw}").text == "password:[REDACTED:password]"
    for text in ("password: !vault |", "password: *db_password", "password: &pw"):
        assert redact(text).count == 0, text


def test_passwords_where_a_format_or_a_tool_keeps_them() -> None:
    """A Wi-Fi QR code's P:, a .pgpass line, `net use`, ConvertTo-SecureString, dotnet
    user-secrets, `password: |` blocks, `--password=CamelCase77` and legacy Vault tokens were
    all kept as they were; the same commands without a literal still are."""
    first = next(i for i, c in enumerate(LABELLED) if c.text.startswith("WIFI:T:WPA"))
    trial = LABELLED[first:]
    assert len(trial) == 14
    assert [(c.text, redact(c.text).text) for c in trial if not caught(c, redact)] == []
    start = next(i for i, c in enumerate(LOOKALIKES) if c.text.startswith("net use Z:"))
    kept = LOOKALIKES[start:]
    assert len(kept) == 8 and [c.text for c in kept if not untouched(c, redact)] == []
