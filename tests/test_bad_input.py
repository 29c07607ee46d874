"""Bad input over every command: a clear message, exit 2 (3 for an unusable store), store unchanged.

Subprocess cases check what an agent sees (no traceback, JSON on stderr); property-based cases
drive the CLI in-process with hypothesis-generated text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def snapshot(cli) -> list[tuple[str, str]]:
    listed = cli("list", "--history", "--all-projects", "--limit", "1000")
    if listed.code == 1:
        return []
    return sorted((m["id"], m["content"]) for m in listed.doc["memories"])


@pytest.fixture
def seeded(cli):
    assert cli("store", "--content", "seed memory that must survive bad input").code == 0
    return cli


CASES = [
    (["store", "--content", ""], "empty"),
    (["store", "--content", "   \n\t "], "empty"),
    (["store", "--content", "x" * 70_000], "over the limit"),
    (["store", "--content", "nul \x00 byte"], "control characters"),
    (["store", "--content", "bell \x07"], "control characters"),
    (["store", "--content", "fine", "--type", "bogus"], "allowed: decision"),
    (["store", "--content", "fine", "--type", "decision,code"], "exactly one --type"),
    (["store", "--content", "fine", "--type", ""], "allowed: decision"),
    (["store", "--content", "fine", "--tags", *[f"t{i}" for i in range(1000)]], "limit is 64"),
    (["store", "--content", "fine", "--tags", "x" * 200], "limit is 64"),
    (["store", "--content", "fine", "--expire-days", "-1"], ""),
    (["store"], "no content"),
    (["store", "--content", "a", "--content-file", "/nonexistent"], "not both"),
    (["store", "--content-file", "/nonexistent/file.txt"], "cannot read"),
    (["auto", "--query", ""], "empty"),
    (["auto", "--query", "q" * 1_000_000], "over the limit"),
    (["auto", "--query", "ok", "--top-k", "0"], ""),
    (["auto", "--query", "ok", "--type", "nope"], "allowed: decision"),
    (["retrieve", "--query", "ok", "--mode", "psychic"], "allowed: hybrid"),
    (["cache-store", "--query", "", "--response", "r"], "empty"),
    (["cache-store", "--query", "q", "--response", ""], "empty"),
    (["get", "not-an-id"], "not a memory id"),
    (["forget"], "say what to forget"),
    (["forget", "--all"], "--yes"),
    (["list", "--limit", "0"], ""),
    (["eval", "--dataset", "/nonexistent"], "missing"),
    (["skills", "feedback", "--skill", "python-patterns", "--task", "t", "--outcome", "?"], ""),
    (["reindex"], "--pending"),
    (["no-such-command"], ""),
]


@pytest.mark.parametrize(("argv", "needle"), CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_bad_input_exits_2_and_changes_nothing(seeded, argv: list[str], needle: str) -> None:
    before = snapshot(seeded)
    res = seeded(*argv)
    assert res.code == 2, (res.code, res.stdout[:200], res.stderr[:300])
    err = res.error
    assert err["message"] and "Traceback" not in res.stderr
    assert needle in err["message"] + err.get("hint", "")
    assert snapshot(seeded) == before


def test_invalid_utf8_on_stdin(shim) -> None:
    res = shim("store", "--content", "-", stdin=b"caf\xe9 au lait")
    assert res.code == 2 and "not valid UTF-8 (byte 3)" in res.error["message"]
    assert shim("list").code == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AMBER_BUDGET_TOKENS", "lots"),
        ("AMBER_LOCK_TIMEOUT", "-5"),
        ("AMBER_EMBEDDER", "gpt"),
        ("AMBER_FUSION", "vibes"),
        ("AMBER_DENSE_FLOOR", "2"),
    ],
)
def test_malformed_settings_name_the_variable(shim, home: Path, name: str, value: str) -> None:
    from conftest import clean_env

    env = clean_env(home) | {name: value}
    res = shim("auto", "--query", "anything", env=env)
    assert res.code == 2 and name in res.error["message"]
    assert "Traceback" not in res.stderr


def test_corrupted_store_exits_3_with_a_repair_hint(cli, home: Path) -> None:
    assert cli("store", "--content", "will be damaged").code == 0
    for page in home.rglob("payload_storage/page_0.dat"):
        page.write_bytes(b"\x00garbage")
    res = cli("list")
    assert res.code == 3 and res.error["error"] == "store_corrupt"
    assert "amber export" in res.error["hint"]


def test_damaged_metadata_exits_3(cli, home: Path) -> None:
    assert cli("store", "--content", "meta will be damaged").code == 0
    (home / "edge" / "meta.json").write_text("{not json")
    res = cli("auto", "--query", "meta")
    assert res.code == 3 and "metadata" in res.error["message"]


def test_truncated_wal_is_reported_not_crashed(cli, home: Path) -> None:
    assert cli("store", "--content", "wal will be truncated").code == 0
    for wal in home.rglob("wal/open-*"):
        wal.write_bytes(b"\x01\x02")
    res = cli("list")
    assert res.code == 3 and res.error["error"] == "store_corrupt"


odd_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=300)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=odd_text, tags=st.lists(st.text(max_size=20), max_size=8))
def test_store_any_text_is_stored_or_refused_cleanly(cli, content: str, tags: list[str]) -> None:
    args = ["store", "--content", content]
    for tag in tags:
        args += ["--tags=" + tag]
    res = cli(*args)
    assert res.code in (0, 2), (res.code, res.stderr[:300])
    if res.code == 0:
        doc = res.doc
        assert doc["status"] in ("stored", "duplicate")
        shown = cli("get", doc["id"]).doc["memory"]["tags"]
        assert len(shown) == len(set(shown))
        for tag in shown:
            assert tag == tag.lower() and tag.strip() == tag and tag
            assert "," not in tag and not any(c.isspace() for c in tag)
    else:
        assert json.loads(res.stderr.splitlines()[-1])["error"] in ("invalid_input", "usage")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=odd_text)
def test_auto_any_query_answers_or_refuses_cleanly(seeded, query: str) -> None:
    res = seeded("auto", "--query", query)
    assert res.code in (0, 1, 2), (res.code, res.stderr[:300])
    if res.code in (0, 1):
        assert res.doc["status"] in ("cache_hit", "memory_match", "no_match")
