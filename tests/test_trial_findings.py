"""Failures an outside trial found that no test covered, each kept fixed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT, clean_env, mcp_tools, running_daemon

SHIM = ROOT / "execution" / "memory_manager.py"
TOKEN = "ghp_8fK2mQ9vX4bN7cL1zR5tY3wH6jD0sA2pE9uG"


def shim(
    env: dict, cwd: Path, *args: str, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess:
    """The agent's front door; `stdout` may name where its answer goes (stderr is kept)."""
    return subprocess.run(
        [sys.executable, str(SHIM), *args],
        env=env,
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=120,
    )


def test_credentials_in_qdrant_url_are_never_printed(home: Path, tmp_path: Path) -> None:
    for url in ("http://admin:s3cretpw@127.0.0.1:1", "http://127.0.0.1:1?api_key=s3cretpw"):
        env = dict(clean_env(home), QDRANT_URL=url, AMBER_QDRANT_TIMEOUT="2")
        res = shim(env, tmp_path, "health")
        assert res.returncode == 3, res.stderr
        assert b"s3cretpw" not in res.stderr + res.stdout and b"***" in res.stderr


def test_an_agents_embedder_setting_does_not_lock_out_the_others(
    home: Path, tmp_path: Path
) -> None:
    """The daemon was started by a caller with AMBER_EMBEDDER=builtin; one without it (and
    one naming the same embedder) must still be served."""
    with running_daemon(home) as (_proc, env, _path):
        plain = {k: v for k, v in env.items() if k != "AMBER_EMBEDDER"}
        assert shim(env, tmp_path, "store", "--content", "deploys run on Fridays").returncode == 0
        assert shim(plain, tmp_path, "auto", "--query", "when do deploys run").returncode == 0
        other = shim(dict(env, AMBER_EMBEDDER="ollama"), tmp_path, "list")
        assert other.returncode == 2 and b"pinned to builtin" in other.stderr


def test_a_secret_in_amber_agent_is_refused(home: Path, tmp_path: Path) -> None:
    env = dict(clean_env(home), AMBER_AGENT="glpat-Xy7Kq2Mn9Pv4Rt6Ws8Zb")
    res = shim(env, tmp_path, "store", "--content", "x")
    assert res.returncode == 2 and b"AMBER_AGENT" in res.stderr
    assert b"Xy7Kq2" not in res.stderr, "the refusal does not echo the secret"


def test_mcp_clients_cannot_store_secrets_verbatim(cli, tmp_path: Path) -> None:
    tools = mcp_tools()
    listed = json.dumps(tools.run("memory_store", {"content": f"token {TOKEN}"}).structured_content)
    assert TOKEN not in listed
    refused = tools.run("memory_store", {"content": f"token {TOKEN}", "allow_secrets": True})
    assert (
        refused.is_error and "not offered to MCP clients" in refused.structured_content["message"]
    )
    assert TOKEN not in json.dumps(cli("list", "--all-projects").doc)


def test_a_refused_tag_names_its_position_not_its_value(cli) -> None:
    res = cli("store", "--content", "fine", "--tags", "ops", TOKEN)
    assert res.code == 2 and "tag 2" in res.error["message"] and TOKEN[:8] not in res.stderr
    assert "github_token" in res.error["message"]


def test_a_query_the_embedder_cannot_read_matches_nothing_by_meaning(cli) -> None:
    """Emoji, symbols and one-letter queries embed like any other text of unknown pieces: a
    10,000-character run of one letter came back for them at cosine 1.0."""
    for content in ("x" * 10_000, "We retry failed uploads three times with backoff"):
        assert cli("store", "--content", content, "--type", "knowledge").code == 0
    for query in ("🎉🎉", "*", "-h", "ℤ∀∃", "中文查询"):
        res = cli("retrieve", f"--query={query}", "--json")
        assert res.doc["status"] == "no_match" and res.code == 1, (query, res.doc["results"])
        auto = cli("auto", f"--query={query}")
        assert auto.doc["context_chunks"] == [] and auto.code == 1, query
    found = cli("retrieve", "--query", "how many times do uploads get retried", "--json").doc
    assert "retry failed uploads" in found["results"][0]["content"]
    skipped = cli("retrieve", "--query=🔥🔥", "--json").doc
    assert skipped["search_type"] == "bm25" and skipped["degraded"][0]["signal"] == "dense"
    normal = cli("retrieve", "--query", "upload retries", "--json").doc
    assert normal["search_type"] == "hybrid" and normal["degraded"] == []


def test_content_the_embedder_cannot_read_is_found_by_its_words_only(cli) -> None:
    """Stored emoji or one long token pooled to one vector that any such query met (a mixed
    query like "🐛 ok" too, at dense 0.73); they now get directions of their own."""
    for content in ("🎉🎉🎉", "😀😀 😀", "x" * 5000):
        assert cli("store", "--content", content, "--type", "knowledge").code == 0
    for query in ("🐛 ok", "🚀 ab", "ab 🔥🔥🔥🔥", "éé", "🔥🔥🔥🔥"):
        res = cli("retrieve", f"--query={query}", "--explain", "--json")
        assert res.doc["status"] == "no_match", (query, res.doc["results"])
    again = cli("store", "--content", "🎊🎊🎊", "--type", "knowledge").doc
    assert again["near_duplicates"] == [], "two unreadable texts are not near each other"


def test_one_symbol_or_script_apart_is_not_the_same_question_for_the_cache(cli) -> None:
    cached = ("✅ tests pass on the release branch", "SHIP IT")
    assert cli("cache-store", "--query", cached[0], "--response", cached[1]).code == 0
    same = cli("auto", "--query", cached[0]).doc
    assert same["cache_hit"] is True
    for query in ("❌ tests pass on the release branch", "⚠ tests pass on the release branch"):
        doc = cli("auto", "--query", query).doc
        assert doc["cache_hit"] is False and "symbols" in doc["cache_objection"], doc


def test_chinese_is_found_by_the_words_in_it(cli) -> None:
    """BM25 kept a run of CJK characters as one term: only the whole string found it."""
    stored = cli("store", "--content", "数据库连接池的大小设置为二十", "--type", "decision").doc
    for query in ("数据库", "连接池", "连接池的大小"):
        res = cli("retrieve", "--query", query, "--json").doc
        assert [r["id"] for r in res["results"]] == [stored["id"]], query
    assert cli("retrieve", "--query", "天气预报", "--json").doc["status"] == "no_match"


def test_a_value_starting_with_a_dash_gets_the_joined_form_as_its_hint(cli) -> None:
    """click reads `-dash` as the unknown option `-d`; the bare message did not say why."""
    res = cli("store", "--content", "fine", "--tags", "ok", "-dash")
    assert res.code == 2 and "--tags=-dash" in res.error["hint"], res.error
    short = cli("store", "--content", "fine", "-t", "ok", "-q")
    assert "--tags=-q" in short.error["hint"], short.error
    joined = cli("store", "--content", "fine", "--tags=-dash")
    assert joined.code == 0 and joined.doc["tags"] == ["-dash"]
    typo = cli("store", "--content", "fine", "--colour")
    assert typo.code == 2 and "join it" not in typo.error["hint"]
    swallowed = cli("store", "--content", "fine", "--tags", "--type", "code")
    assert swallowed.code == 2 and "--tags got no value" in swallowed.error["message"]
    typed = cli("retrieve", "--query", "x", "--type", "decision", "-code")
    assert typed.code == 2 and "join it" not in typed.error["hint"], typed.error
    taken = cli("store", "--content", "fine", "--tags", "ok", "-p", "-dash")
    assert taken.code == 2 and "cannot start with '-'" in taken.error["message"], taken.error
    for wrong in (["--type", "code", "-x"], ["--tags", "a", "-c"], ["-p", "proj", "-x"]):
        res = cli("store", "--content", "fine", *wrong)
        assert res.code == 2 and "join it" not in res.error["hint"], (wrong, res.error)


def test_a_cache_threshold_below_zero_is_refused_and_queries_are_limited_in_characters(
    cli,
) -> None:
    assert (
        cli("cache-store", "--query", "how do we run background jobs", "--response", "arq").code
        == 0
    )
    loose = cli("auto", "--query", "pizza dough recipe for tomorrow", "--threshold", "-0.5")
    assert loose.code == 2 and "threshold" in loose.error["message"]
    chinese = cli("retrieve", "--query", "数据库连接池" * 450, "--json")  # 2,700 characters
    assert chinese.code in (0, 1) and chinese.doc["query"].startswith("数据库")
    long = cli("retrieve", "--query", "ab " * 3000)
    assert long.code == 2 and "characters" in long.error["message"]
    assert "AMBER_MAX_CONTENT_BYTES" not in long.error["hint"]


def test_emoji_and_single_han_characters_are_found_by_their_words(cli) -> None:
    passed = cli("store", "--content", "✅ deploy passed", "--type", "knowledge").doc["id"]
    lock = cli("store", "--content", "数据库死锁问题已经解决", "--type", "decision").doc["id"]
    assert [r["id"] for r in cli("retrieve", "--query=✅", "--mode", "bm25").doc["results"]] == [
        passed
    ]
    assert [r["id"] for r in cli("retrieve", "--query", "锁", "--json").doc["results"]] == [lock]
    nothing = cli("retrieve", "--query=🚀", "--mode", "dense", "--json").doc
    assert nothing["search_type"] == "none" and nothing["degraded"]


def test_an_excerpt_of_text_without_spaces_is_taken_where_the_query_appears(cli) -> None:
    line = ";".join(f"k{i}=v{i * 7}" for i in range(500)) + ";pgbouncer_max_client_conn=500;"
    line += ";".join(f"z{i}=w{i}" for i in range(400))
    assert cli("store", "--content", line, "--tags", "cfg").code == 0
    doc = cli(
        "auto", "--query", "pgbouncer_max_client_conn", "--tags", "cfg", "--budget-tokens", "100"
    )
    assert "pgbouncer_max_client_conn=500" in doc.doc["context_chunks"][0]["content"]
    han = (
        "今天的会议讨论了服务器的部署计划和预算安排" * 40
        + "数据库连接池的大小设置为二十"
        + "龙" * 300
    )
    assert cli("store", "--content", han, "--tags", "zh").code == 0
    zh = cli("auto", "--query", "连接池", "--tags", "zh", "--budget-tokens", "100").doc
    (cut,) = zh["context_chunks"]
    assert "连接池" in cut["content"] and zh["tokens"] <= 100 and len(cut["content"]) <= 100


def test_a_full_stdout_behind_the_daemon_is_a_json_error_not_a_traceback(
    home: Path, tmp_path: Path
) -> None:
    with running_daemon(home) as (_proc, env, _path), open("/dev/full", "wb") as full:
        res = shim(env, tmp_path, "store", "--content", "stdout is full today", stdout=full)
        assert res.returncode == 3 and b"Traceback" not in res.stderr, res.stderr
        error = json.loads(res.stderr.decode().splitlines()[-1])
        assert error["error"] == "backend_unavailable" and "stdout" in error["message"]
        listed = shim(env, tmp_path, "list", "--json")
        assert b"stdout is full today" in listed.stdout, "the call itself ran"
        wrong = shim(env, tmp_path, "list", "--tags", "--type", stdout=full)
        assert wrong.returncode == 2 and b"--tags got no value" in wrong.stderr, wrong.stderr


def test_third_trial_thai_apostrophes_equals_signs_and_scattered_han_words(cli) -> None:
    thai = cli("store", "--content", "ฐานข้อมูลใช้ดัชนีเพื่อการค้นหาที่รวดเร็ว", "--type", "knowledge")
    for query in ("ดัชนี", "การค้นหา"):
        found = cli("retrieve", "--query", query, "--json").doc["results"]
        assert [r["id"] for r in found] == [thai.doc["id"]], query
    asked = "What's the best way to set Redis's maxmemory policy?"
    assert cli("cache-store", "--query", asked, "--response", "allkeys-lru").code == 0
    again = cli("auto", "--query", "What's the right way to set Redis's maxmemory policy?").doc
    assert again["cache_hit"] is True, again.get("cache_objection")
    for flags in (["-p=-mine"], ["-t=-z"]):
        res = cli("store", "--content", "equals", *flags)
        assert (
            res.code == 2
            and "cannot start with '='" in res.error["message"]
            or ("starts with '='" in res.error["message"])
        ), res.error
    too_long = cli("cache-store", "--query", "a " * 4600, "--response", "r")
    assert too_long.code == 2 and "characters" in too_long.error["message"]
    han = (
        "系统运行正常没有发现问题" * 150
        + "消息队列积压导致订单服务超时需要扩容消费者"
        + "日志已经归档" * 150
    )
    assert cli("store", "--content", han, "--tags", "zh").code == 0
    for words in (("订单", "超时"), ("消费者", "扩容")):
        query = "".join(words)
        (cut,) = cli("auto", "--query", query, "--tags", "zh", "--budget-tokens", "40").doc[
            "context_chunks"
        ]
        assert all(word in cut["content"] for word in words), (query, cut)


def test_an_empty_amber_home_is_refused_through_the_shim(home: Path, tmp_path: Path) -> None:
    """AMBER_HOME="" must not quietly mean ~/.local/share/amber, in-process or via a daemon."""
    user = tmp_path / "user"  # the default folders land here if the empty value is ignored
    for daemon in ("off", "auto"):
        env = dict(clean_env(home), AMBER_HOME="", AMBER_DAEMON=daemon, HOME=str(user))
        env.pop("XDG_DATA_HOME", None)
        res = shim(env, tmp_path, "list")
        assert res.returncode == 2, (daemon, res.stderr)
        error = json.loads(res.stderr.decode().strip().splitlines()[-1])
        assert "AMBER_HOME: is set but empty" in error["message"]
        assert not (user / ".local" / "share" / "amber").exists()


def test_choices_are_taken_in_any_case_like_type(cli) -> None:
    """--type Decision was accepted but --mode DENSE and --outcome FAILURE were refused: every
    choice is read in any case, from the CLI and MCP alike, as its lower-case spelling."""
    stored = cli("store", "--content", "Retries use exponential backoff", "--type", "Decision")
    assert stored.code == 0, stored.stderr
    for mode in ("DENSE", "Bm25", " hybrid "):
        res = cli("retrieve", "--query", "exponential backoff for retries", "--mode", mode)
        assert res.code == 0 and res.doc["search_type"] == mode.strip().lower(), res.stderr
    vote = ["skills", "feedback", "--skill", "python-patterns", "--task", "add retries"]
    assert cli(*vote, "--outcome", "FAILURE").doc["status"] == "stored"
    found = mcp_tools().run("memory_search", {"query": "exponential backoff", "mode": "BM25"})
    assert not found.is_error and found.structured_content["search_type"] == "bm25"
    evaluated = cli("eval", "--dataset", "/nonexistent", "--mode", "DENSE", "--fusion", "RRF")
    assert evaluated.code == 2 and "/nonexistent" in evaluated.error["message"]


def test_the_scripts_help_names_the_script_it_was_called_by(home: Path, tmp_path: Path) -> None:
    """`python3 execution/memory_manager.py --help` said `Usage: amber`, a command the agent
    may not have; with a daemon running, a command's --help came from the daemon as well."""
    with running_daemon(home) as (_, env, _):
        own = shim(env, ROOT, "--help")
        auto = shim(env, ROOT, "auto", "--help")
        elsewhere = shim(env, tmp_path, "store", "-h")
    assert own.returncode == auto.returncode == elsewhere.returncode == 0
    assert own.stdout.decode().startswith("Usage: python3 execution/memory_manager.py [OPTIONS]")
    assert auto.stdout.decode().startswith("Usage: python3 execution/memory_manager.py auto")
    assert f"Usage: python3 {SHIM} store" in " ".join(elsewhere.stdout.decode().split())


def test_an_error_never_repeats_a_secret_it_quotes(cli) -> None:
    """Refused values are quoted back in errors ("unknown type '…'"): a pasted credential
    there is redacted like anywhere else."""
    runs = [
        cli("store", "--content", "t", "--type", "wachtwoord=Zomer2026Tulp"),
        cli("auto", "--query", "t", "--since", "password=EchoMe2026!"),
        cli("skills", "show", "password=ShowLeak99"),
        cli("store", "--content", "t", "--passwrd=Zr8kq2LmXx7"),
    ]
    assert [res.code for res in runs] == [2, 2, 1, 2]
    secrets = ["Zomer2026Tulp", "EchoMe2026!", "ShowLeak99", "Zr8kq2LmXx7"]
    for res, secret in zip(runs, secrets, strict=True):
        assert secret not in res.stdout + res.stderr, res.stderr
    assert all("[REDACTED:password]" in res.stderr for res in runs[:3])
