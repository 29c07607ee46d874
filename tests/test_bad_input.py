"""Bad input over every command: a clear message, exit 2 (3 for an unusable store), store unchanged.

Subprocess cases check what an agent sees (no traceback, JSON on stderr); property-based cases
drive the CLI in-process with hypothesis-generated text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_input_cases import CASES, SETTINGS, prepare
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
    prepare(Path.cwd())  # the files some rows read, in the folder the calls run in
    return cli


@pytest.mark.parametrize(("kind", "argv", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_and_changes_nothing(seeded, kind, argv: list[str], needle: str) -> None:
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


@pytest.mark.parametrize(("name", "value"), SETTINGS)
def test_malformed_settings_name_the_variable(shim, home: Path, name: str, value: str) -> None:
    from conftest import clean_env

    env = clean_env(home) | {name: value}
    res = shim("auto", "--query", "anything", env=env)
    assert res.code == 2 and name in res.error["message"], res.stderr
    assert "Traceback" not in res.stderr
    if name in ("QDRANT_URL", "OLLAMA_HOST") and "@" not in value:
        assert value.split("//")[-1][:6] in res.error["message"]  # the value is named (masked)


def test_invalid_utf8_in_argv_through_the_shim(home: Path, tmp_path: Path) -> None:
    """Bytes on the command line that are not UTF-8, as a shell passes them: exit 2."""
    import subprocess
    import sys

    from conftest import SHIM, clean_env

    for argv in ([b"store", b"--content", b"caf\xe9 au lait"], [b"auto", b"--query", b"\xff\xfe"]):
        proc = subprocess.run(
            [sys.executable.encode(), bytes(SHIM), *argv],
            cwd=tmp_path,
            env=clean_env(home),
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        error = json.loads(proc.stderr.decode().strip().splitlines()[-1])
        assert "not valid text" in error["message"] and b"Traceback" not in proc.stderr


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


def test_tags_that_normalise_into_separators_are_split(cli) -> None:
    # NFKC turns a macron into a space plus a combining mark and a small comma into a comma
    res = cli("store", "--content", "tag normalisation", "--tags", "a\u00afb,x\ufe50y")
    assert res.code == 0, res.stderr
    tags = cli("get", res.doc["id"]).doc["memory"]["tags"]
    assert "x" in tags and "y" in tags and "a" in tags
    assert all("," not in t and not any(c.isspace() for c in t) for t in tags), tags


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


def test_content_from_an_unreadable_stdin_is_refused_cleanly(cli, tmp_path: Path) -> None:
    """`--content -` reads stdin; a stdin that cannot be read (a closed descriptor, a
    harness that forbids it) was an internal error with a traceback in the log."""
    import io

    from amber.cli.invocation import Invocation

    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError("Bad file descriptor")

    call = Invocation(env={}, cwd=tmp_path, stdin=Unreadable())  # type: ignore[arg-type]
    with pytest.raises(Exception) as refused:
        call.read_stdin(10)
    assert type(refused.value).__name__ == "InvalidInput" and "stdin" in str(refused.value)
    res = cli("store", "--content", "-")  # pytest's captured stdin refuses to be read
    assert res.code == 2, res.stderr
    assert res.error["error"] == "invalid_input" and "stdin" in res.error["message"]
