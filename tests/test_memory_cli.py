"""Memory behaviour through the CLI, in-process, on the real engine and builtin embedder."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest


def store(cli, content: str, *extra: str) -> dict:
    res = cli("store", "--content", content, "--type", "decision", *extra)
    assert res.code == 0, res.stderr
    return res.doc


def test_duplicate_is_idempotent_and_merges_tags(cli) -> None:
    first = store(cli, "Use ruff for linting and formatting", "--tags", "lint")
    again = store(cli, "Use ruff  for linting and formatting", "--tags", "tools")
    assert again["status"] == "duplicate" and again["id"] == first["id"]
    listed = cli("list", "--json").doc
    assert listed["total"] == 1
    assert set(listed["memories"][0]["tags"]) == {"lint", "tools"}
    assert again["tags"] == ["lint", "tools"] and "notes" not in again


def test_a_duplicate_under_another_type_says_which_type_it_keeps(cli) -> None:
    first = store(cli, "Pin numpy below 3 until the wheels ship")
    again = cli(
        "store", "--content", "Pin numpy below 3 until the wheels ship", "--type", "error"
    ).doc
    assert again["status"] == "duplicate" and again["type"] == "decision" == first["type"]
    assert "keeps" in again["notes"][0] and f"amber forget {first['id']}" in again["notes"][0]
    assert cli("get", first["id"], "--json").doc["memory"]["type"] == "decision"


def test_near_duplicate_is_reported_with_existing_id(cli) -> None:
    first = store(cli, "We deploy the API service with Docker Compose on a single VM")
    second = store(cli, "We deploy the API service with Docker Compose on a single VM.")
    assert second["status"] == "stored"
    assert [n["id"] for n in second["near_duplicates"]] == [first["id"]]


def test_tags_accept_nargs_repeat_and_commas(cli) -> None:
    doc = store(cli, "tags test", "--tags", "A", "b", "--tags", "c,D", "--tags", " e ")
    got = cli("get", doc["id"]).doc["memory"]["tags"]
    assert got == ["a", "b", "c", "d", "e"]


def test_key_supersedes_and_keeps_history(cli) -> None:
    old = store(cli, "The HTTP client timeout is 30 seconds", "--key", "http-timeout")
    new = store(
        cli,
        "The HTTP client timeout is 10 seconds after the outage review",
        "--key",
        "http-timeout",
    )
    assert new["supersedes"] == [old["id"]]
    auto = cli("auto", "--query", "what is the HTTP client timeout").doc
    ids = [c["id"] for c in auto["context_chunks"]]
    assert new["id"] in ids and old["id"] not in ids
    shown = cli("get", new["id"]).doc
    assert [h["id"] for h in shown["history"]] == [old["id"]]
    assert shown["history"][0]["state"] == "superseded"
    assert cli("list", "--history").doc["total"] == 2
    assert cli("list").doc["total"] == 1


def test_expired_memories_are_hidden(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = store(cli, "Feature flag rollout for checkout v2 runs this week", "--expire-days", "1")
    assert cli("auto", "--query", "checkout v2 feature flag rollout").code == 0
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 2 * 86400)
    res = cli("auto", "--query", "checkout v2 feature flag rollout")
    assert res.code == 1
    assert doc["id"] in [m["id"] for m in cli("list", "--history").doc["memories"]]


def test_secrets_are_redacted_before_storage(cli) -> None:
    doc = store(cli, "Deploy with AWS key AKIAIOSFODNN7EXAMPLE and password=Sup3rSecretPw")
    assert doc["redactions"] == 2
    content = cli("get", doc["id"]).doc["memory"]["content"]
    assert "AKIAIOSFODNN7EXAMPLE" not in content and "Sup3rSecretPw" not in content
    assert "[REDACTED:aws_access_key]" in content
    verbatim = store(cli, "token ghp_" + "x" * 36, "--allow-secrets")
    assert cli("get", verbatim["id"]).doc["memory"]["content"].endswith("x" * 36)


def test_size_limit_and_empty_content(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBER_MAX_CONTENT_BYTES", "100")
    res = cli("store", "--content", "y" * 101)
    assert res.code == 2 and "over the limit of 100" in res.error["message"]
    res = cli("store", "--content", "   ")
    assert res.code == 2 and "empty" in res.error["message"]
    assert cli("list").code == 1  # nothing was stored


def test_source_with_form_feeds_and_vertical_tabs_is_stored_as_given(cli) -> None:
    # Python's own sources separate sections with \f; a snippet copied from one must store.
    snippet = "def first():\n    return 1\n\x0c\ndef second():\x0b    return 2\n"
    stored = store(cli, snippet)
    assert cli("get", stored["id"]).doc["memory"]["content"] == snippet
    found = cli("retrieve", "--query", "def second", "--json").doc
    assert stored["id"] in [c["id"] for c in found["chunks"]]


def test_a_byte_order_mark_is_not_stored_as_content(cli, tmp_path: Path, monkeypatch) -> None:
    """Notepad and PowerShell start UTF-8 files and pipes with a BOM: it is not the text's."""
    saved = tmp_path / "notes.txt"
    saved.write_bytes("\ufeffDeploys need a signed tag".encode())
    first = cli("store", "--content-file", str(saved))
    assert first.code == 0, first.stderr
    assert cli("get", first.doc["id"]).doc["memory"]["content"] == "Deploys need a signed tag"
    piped = io.TextIOWrapper(io.BytesIO("\ufeffReleases are cut on Mondays".encode()))
    monkeypatch.setattr(sys, "stdin", piped)
    second = store(cli, "-")
    assert cli("get", second["id"]).doc["memory"]["content"] == "Releases are cut on Mondays"


def test_cache_hit_for_same_meaning_and_guards(cli) -> None:
    res = cli(
        "cache-store",
        "--query",
        "how do I enable two factor authentication in the admin",
        "--response",
        "Settings > Security > Enable 2FA",
    )
    assert res.code == 0
    hit = cli("auto", "--query", "How do I enable two-factor authentication in the admin?").doc
    assert hit["cache_hit"] is True and hit["source"] == "cache"
    assert hit["cached_response"] == "Settings > Security > Enable 2FA"
    miss = cli("auto", "--query", "how do I disable two factor authentication in the admin").doc
    assert miss["cache_hit"] is False
    other = cli("auto", "--query", "how do I enable two factor authentication for user 42").doc
    assert other["cache_hit"] is False


def test_cache_is_scoped_by_project_and_invalidated_by_related_memory(cli) -> None:
    cli(
        "cache-store",
        "--query",
        "which database do we use for analytics",
        "--response",
        "ClickHouse",
        "--project",
        "alpha",
    )
    assert (
        cli("auto", "--query", "which database do we use for analytics", "--project", "alpha").doc[
            "cache_hit"
        ]
        is True
    )
    assert (
        cli("auto", "--query", "which database do we use for analytics", "--project", "beta").doc[
            "cache_hit"
        ]
        is False
    )
    stored = store(
        cli,
        "Analytics moved from ClickHouse to DuckDB: which database we use for "
        "analytics is now DuckDB",
        "--project",
        "alpha",
    )
    assert stored["invalidated_cache"] == 1
    after = cli("auto", "--query", "which database do we use for analytics", "--project", "alpha")
    assert after.doc["cache_hit"] is False
    assert "DuckDB" in after.doc["context_chunks"][0]["content"]


def test_project_defaults_to_git_repository(cli, tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "shop-api"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo / "src")
    doc = store(cli, "Orders are idempotent by client-supplied order key")
    scope = cli("get", doc["id"]).doc["memory"]["project"]
    assert scope.startswith("shop-api#") and len(scope) == len("shop-api#") + 8
    monkeypatch.chdir(tmp_path)
    assert cli("auto", "--query", "are orders idempotent by order key").code == 1
    assert (
        cli("auto", "--query", "are orders idempotent by order key", "--project", scope).code == 0
    )


def test_same_folder_name_in_two_repositories_never_shares_a_scope(
    cli, tmp_path: Path, monkeypatch
) -> None:
    """/…/clientA/api and /…/clientB/api: B must not be handed A's decisions."""
    scopes = []
    for client_name in ("clientA", "clientB"):
        repo = tmp_path / client_name / "api"
        repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        monkeypatch.chdir(repo)
        if client_name == "clientA":
            store(cli, "Client A bills in euros with invoices due in 30 days")
        scopes.append(cli("list").doc["memories"][0]["project"] if client_name == "clientA" else "")
    assert cli("auto", "--query", "which currency do we bill in").code == 1
    assert cli("auto", "--query", "which currency do we bill in", "--project", scopes[0]).code == 0


def test_clones_of_one_remote_share_a_scope_and_old_scopes_stay_reachable(
    cli, tmp_path: Path, monkeypatch
) -> None:
    found = []
    for clone in ("one", "two"):
        repo = tmp_path / clone / "shop"
        repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        remote = (
            "git@github.com:acme/shop.git" if clone == "one" else "https://github.com/acme/shop"
        )
        subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", remote], check=True)
        monkeypatch.chdir(repo)
        if clone == "one":
            store(cli, "Shop prices include VAT everywhere in the API")
        found.append(cli("auto", "--query", "do shop prices include VAT").code)
    assert found == [0, 0]
    store(cli, "An old memory under the bare folder name", "--project", "shop")
    assert cli("list", "--project", "shop").doc["total"] == 1


def test_retrieve_filters_and_explain(cli) -> None:
    store(cli, "Pydantic v2 models validate request bodies", "--tags", "python-patterns")
    cli(
        "store",
        "--content",
        "Traceback in pydantic validation of request bodies was a v1 import",
        "--type",
        "error",
        "--tags",
        "bugs",
    )
    res = cli(
        "retrieve", "--query", "pydantic request body validation", "--explain", "--type", "error"
    )
    assert res.code == 0
    assert [r["type"] for r in res.doc["results"]] == ["error"]
    assert res.doc["results"][0]["bm25"]["rank"] == 1
    tagged = cli(
        "retrieve", "--query", "pydantic request body validation", "--tags", "python-patterns"
    ).doc["results"]
    assert len(tagged) == 1 and "dense" not in tagged[0]


def test_since_and_until_take_minutes_hours_and_months(cli, tmp_path: Path) -> None:
    """`30m` is half an hour (not 30 months), `2h` two hours; a month is `mo` or the word.
    The cutoff is a time of day, compared with each memory's stored timestamp."""
    now = time.time()
    lines = [{"manifest": {"schema": "amber/1", "count": 2}}]
    for number, (content, age) in enumerate(
        [("Deploys moved to Tuesdays", 2 * 3600), ("The staging database was reset", 60)], 1
    ):
        stamp = now - age
        created = datetime.fromtimestamp(stamp, timezone.utc).isoformat()
        memory_id = f"00000000-0000-4000-8000-00000000000{number}"
        row = {"id": memory_id, "content": content, "type": "decision"}
        lines.append({**row, "created_at": created, "created_ts": stamp})
    dump = tmp_path / "dated.jsonl"
    dump.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert cli("import", str(dump)).code == 0

    def listed(*bounds: str) -> list[str]:
        res = cli("list", "--all-projects", *bounds)
        assert res.code in (0, 1), res.stderr
        return sorted(m["content"] for m in res.doc.get("memories", []))

    recent, both = ["The staging database was reset"], sorted(m["content"] for m in lines[1:])
    for age in ("30m", "30min", "30 minutes ago", "1h", "90 mins", "0.5h"):
        assert listed("--since", age) == recent, age
    for age in ("3h", "3 hours", "1d", "1w", "1mo", "2 months", "1y"):
        assert listed("--since", age) == both, age
    assert listed("--until", "30m") == ["Deploys moved to Tuesdays"]
    today = datetime.fromtimestamp(now, timezone.utc).date().isoformat()
    assert recent[0] in listed("--since", today, "--until", today)  # made a minute ago
    assert listed("--until", today) == both  # a date alone as --until means the whole day
    assert "m is minutes" in cli("list", "--since", "3 fortnights").error["message"]


def test_forget_by_id_and_filter_needs_yes(cli) -> None:
    a = store(cli, "Use uv for dependency locking", "--tags", "tools")
    store(cli, "Use pre-commit hooks for ruff", "--tags", "tools")
    res = cli("forget", a["id"])
    assert res.code == 2 and "--yes" in res.error["message"]
    assert cli("forget", a["id"], "--yes").doc["count"] == 1
    assert cli("get", a["id"]).code == 1
    assert cli("forget", "--tags", "tools", "--yes").doc["count"] == 1
    assert cli("list").code == 1


def test_health_reports_store_and_embedder(cli) -> None:
    store(cli, "health check memory")
    doc = cli("health").doc
    assert doc["embedder"]["provider"] == "builtin" and doc["embedder"]["dim"] == 384
    assert doc["counts"]["memories"] == 1 and doc["size_bytes"] > 0
    assert doc["ollama"]["reachable"] is False
    assert doc["store_schema"] == "amber/1"


def test_budget_tokens_limits_context(cli) -> None:
    for i in range(4):
        store(cli, f"Logging decision {i}: structured JSON logs via structlog " + "detail " * 60)
    doc = cli(
        "auto", "--query", "structured JSON logging with structlog", "--budget-tokens", "200"
    ).doc
    assert doc["tokens"] <= 200 and doc["total_chunks"] >= 1


def test_a_memory_over_the_budget_is_given_where_the_query_is_answered(cli) -> None:
    """A long log came back cut at its start (or not at all) however deep the match lay."""
    lines = [
        f"11:{i % 60:02d} INFO worker-{i % 7}: batch {i} done in {i % 90} ms" for i in range(900)
    ]
    lines[640] = (
        "12:00 ERROR payment-client: TLS handshake timeout to api.stripe.com, retries spent"
    )
    log = "\n".join(lines)
    stored = store(cli, log, "--tags", "logs")
    store(cli, "We pin the payment client's timeout to 10 seconds")
    doc = cli(
        "auto", "--query", "payment client TLS handshake timeout", "--budget-tokens", "800"
    ).doc
    assert doc["tokens"] <= 800
    cut = next(c for c in doc["context_chunks"] if c["id"] == stored["id"])
    assert "TLS handshake timeout to api.stripe.com" in cut["content"]
    span = cut["excerpt"]
    assert span["of_chars"] == len(log) and cut["content"] == log[span["start"] : span["end"]]
    assert span["start"] > 0 and cut["tokens"] <= 500
    whole = [c for c in doc["context_chunks"] if c["id"] != stored["id"]]
    assert whole and all(c["excerpt"] is None for c in whole)
    tiny = cli("auto", "--query", "payment client TLS handshake timeout", "--budget-tokens", "20")
    assert tiny.doc["tokens"] <= 20 and tiny.doc["total_chunks"] == 1
    found = cli("retrieve", "--query", "TLS handshake timeout", "--budget-tokens", "300", "--json")
    assert found.doc["total_tokens_estimate"] <= 300 and found.doc["total"] == 2
    assert any(c["excerpt"] and "api.stripe.com" in c["content"] for c in found.doc["results"])
    unbounded = cli("retrieve", "--query", "TLS handshake timeout", "--json").doc["results"]
    assert all(c["excerpt"] is None for c in unbounded) and log in [c["content"] for c in unbounded]


def test_a_small_excerpt_still_holds_the_line_that_answers(cli) -> None:
    """At 64-150 tokens the excerpt began at its window's start, before the answering line."""
    lines = [
        f"11:{i % 60:02d} INFO web-{i % 5}: request {i} served, connection reused"
        for i in range(700)
    ]
    lines[450] = "12:00 ERROR db: postgres connection refused by pgbouncer at 10.0.0.5:6432"
    lines.append("13:00 FATAL shutdown: disk quota exceeded on /var/lib/postgresql")
    store(cli, "\n".join(lines), "--tags", "log")
    for budget in ("64", "100", "150"):
        doc = cli(
            "auto", "--query", "postgres connection refused pgbouncer", "--budget-tokens", budget
        )
        (only,) = doc.doc["context_chunks"]
        assert "refused by pgbouncer" in only["content"] and only["tokens"] <= int(budget)
    last = cli("auto", "--query", "disk quota exceeded at shutdown", "--budget-tokens", "64").doc
    assert last["context_chunks"][0]["content"].rstrip().endswith("/var/lib/postgresql")


def test_restoring_an_old_keyed_decision_makes_it_current_again(cli) -> None:
    first = store(cli, "Deploys happen on Tuesdays", "--key", "deploy-day")
    second = store(cli, "Deploys happen on Thursdays", "--key", "deploy-day")
    again = store(cli, "Deploys happen on Tuesdays", "--key", "deploy-day")
    assert again["status"] == "restored" and again["supersedes"] == [second["id"]]
    current = cli("list").doc["memories"]
    assert [m["id"] for m in current] == [first["id"]]
    assert store(cli, "Deploys happen on Tuesdays", "--key", "deploy-day")["status"] == "duplicate"


def test_forgetting_the_current_version_of_a_key_makes_the_previous_current(cli) -> None:
    ids = [
        store(cli, f"Releases are cut on {day}", "--key", "release-day")["id"]
        for day in ("Mondays", "Wednesdays", "Fridays")
    ]
    middle = cli("forget", ids[1], "--yes").doc
    assert middle["restored"] == []  # a newer version is still current
    history = cli("get", ids[2]).doc["history"]
    assert [m["id"] for m in history] == [ids[0]]  # the chain skips the forgotten one
    done = cli("forget", ids[2], "--yes").doc
    assert done["status"] == "forgotten" and done["restored"] == [ids[0]]
    current = cli("list").doc["memories"]
    assert [(m["id"], m["state"], m["superseded_by"]) for m in current] == [(ids[0], "active", "")]
    hits = cli("retrieve", "--query", "when are releases cut").doc["results"]
    assert [h["id"] for h in hits] == [ids[0]]


def test_optimize_reports_every_collection(cli) -> None:
    for i in range(5):
        store(cli, f"optimizer input {i}: merge segments and index vectors")
    cli("cache-store", "--query", "what does optimize do", "--response", "merges segments")
    res = cli("optimize")
    assert res.code == 0, res.stderr
    collections = res.doc["collections"]
    assert len(collections) == 2
    memories = next(v for k, v in collections.items() if k.startswith("memories-"))
    assert memories["points"] == 5 and memories["segments"] >= 1
    assert "optimizing" in res.stderr
    assert cli("auto", "--query", "merge segments and index vectors").code == 0


def test_health_names_each_collection_once_present_or_missing(cli) -> None:
    store(cli, "health checks count collections once")
    before = cli("health").doc
    assert not set(before["collections"]) & set(before["missing_collections"])
    assert [n.split("-")[0] for n in before["missing_collections"]] == ["cache"]
    cli("cache-store", "--query", "how are collections counted", "--response", "once")
    after = cli("health").doc
    assert after["missing_collections"] == [] and len(after["collections"]) == 2


def test_list_and_get_say_when_a_memory_has_expired(cli) -> None:
    brief = store(cli, "Freeze deploys for one second", "--expire-days", "0.00001")
    lasting = store(cli, "Deploys go out on Tuesdays")
    time.sleep(1.2)
    shown = {m["id"]: m for m in cli("list", "--history").doc["memories"]}
    assert shown[brief["id"]]["expired"] is True and shown[lasting["id"]]["expired"] is False
    assert shown[lasting["id"]]["expires_at"] is None
    got = cli("get", brief["id"]).doc["memory"]
    assert got["expired"] is True
    assert datetime.fromisoformat(got["expires_at"]) <= datetime.now(timezone.utc)


def test_every_error_says_what_to_do_next(cli, tmp_path: Path) -> None:
    folder = cli("store", "--content-file", str(tmp_path))
    assert folder.code == 2 and "Is a directory" in folder.error["message"]
    assert "--content-file" in folder.error["hint"]
    unknown = cli("get", "3f2b0000-0000-0000-0000-000000000000")
    assert unknown.code == 1 and unknown.error["hint"]


def test_a_secret_pasted_into_a_query_is_not_echoed(cli) -> None:
    store(cli, "Deploys switch blue and green behind the load balancer", "--tags", "deploy")
    pasted = "blue green deploy, the staging password=Zr8kq2LmXx7 if you need it"
    runs = [
        cli("retrieve", "--query", pasted),
        cli("retrieve", "--query", pasted, "--explain"),
        cli("auto", "--query", pasted),
        cli("route", "--task", pasted),
        cli("run", "--task", pasted),
    ]
    assert all(res.code in (0, 1) for res in runs), [res.stderr for res in runs]
    assert [res for res in runs if "Zr8kq2LmXx7" in res.stdout + res.stderr] == []
    assert runs[0].doc["query"].endswith("password=[REDACTED:password] if you need it")


def history(cli, mem_id: str) -> list[str]:
    return [m["id"] for m in cli("get", mem_id).doc["history"]]


def current(cli) -> list[tuple[str, str]]:
    return [(m["id"], m["key"]) for m in cli("list").doc["memories"] if m["state"] == "active"]


def test_a_memory_stored_again_under_a_key_heads_that_keys_history(cli) -> None:
    plain = store(cli, "Lint with flake8")["id"]
    keyed = store(cli, "Lint with ruff", "--key", "linter")["id"]
    again = store(cli, "Lint with flake8", "--key", "linter")
    assert again["id"] == plain and again["supersedes"] == [keyed]
    assert current(cli) == [(plain, "linter")] and history(cli, plain) == [keyed]
    assert cli("forget", plain, "--yes").doc["restored"] == [keyed]
    assert current(cli) == [(keyed, "linter")]
    # the current version of one key stored under another: the first key's previous version
    # is current again, and the answer says so
    old_ci = store(cli, "CI runs on GitHub Actions", "--key", "ci")["id"]
    new_ci = store(cli, "CI runs on Buildkite", "--key", "ci")["id"]
    moved = store(cli, "CI runs on Buildkite", "--key", "cd")
    assert moved["id"] == new_ci and moved["restored"] == [old_ci]


def test_restoring_an_old_version_then_forgetting_it_brings_back_the_one_before(cli) -> None:
    ids = [
        store(cli, f"Cache entries live {n} minutes", "--key", "cache-ttl")["id"]
        for n in (5, 10, 15, 20)
    ]
    assert cli("forget", ids[3], "--yes").doc["restored"] == [ids[2]]
    again = store(cli, "Cache entries live 5 minutes", "--key", "cache-ttl")
    assert again["status"] == "restored" and again["supersedes"] == [ids[2]]
    assert current(cli) == [(ids[0], "cache-ttl")]
    assert history(cli, ids[0]) == [ids[2], ids[1]]  # no loop, nothing lost
    made = {m: cli("get", m).doc["memory"]["created_at"] for m in ids[:3]}
    assert made[ids[0]] > made[ids[2]] > made[ids[1]]  # dated when it became current
    assert cli("forget", ids[0], "--yes").doc["restored"] == [ids[2]]
    hits = cli("auto", "--query", "how long do cache entries live").doc["context_chunks"]
    assert [h["id"] for h in hits] == [ids[2]]


def test_a_cached_question_with_a_secret_is_found_by_the_same_question(cli) -> None:
    """cache-store keeps the question redacted; auto looked it up as typed and missed it."""
    question = "grafana admin password: Graf4naPw!x ok"
    assert cli("cache-store", "--query", question, "--response", "rotate it").code == 0
    doc = cli("auto", "--query", question).doc
    assert doc["cache_hit"] is True and doc["cached_response"] == "rotate it"


def test_list_total_counts_every_match_not_the_page(cli) -> None:
    """`total` was the size of the page shown, so `list --limit 2` over five memories said 2."""
    for n in range(5):
        store(cli, f"Decision number {n}: keep the retry budget at {n + 3} attempts", "--tags", "t")
    store(cli, "The staging database lives on db2 behind the VPN", "--type", "knowledge")
    page = cli("list", "--limit", "2", "--type", "decision").doc
    assert (page["count"], page["total"], page["has_more"]) == (2, 5, True)
    whole = cli("list", "--type", "decision").doc
    assert (whole["count"], whole["total"], whole["has_more"]) == (5, 5, False)
    assert cli("list").doc["total"] == 6
