"""`retrieve --explain --why-not ID`: what kept one memory out of the answer."""

from __future__ import annotations

import time

POOL = "Database connection pool: SQLAlchemy pool_size=10 and max_overflow=20"
POOL_TOO = "The SQLAlchemy connection pool recycles connections after 30 minutes"
WEDDING = "The wedding menu has a vegetarian risotto for eighty guests"
QUERY = "how big is the SQLAlchemy connection pool"


def stored(cli, *args: str) -> str:
    res = cli("store", "--content", *args)
    assert res.code == 0, res.stderr
    return res.doc["id"]


def why(cli, mem_id: str, *extra: str) -> dict:
    res = cli("retrieve", "--query", QUERY, "--explain", "--why-not", mem_id, *extra)
    assert res.code in (0, 1), res.stderr
    return res.doc["why_not"]


def test_each_reason_a_memory_stays_out(cli) -> None:
    pool = stored(cli, POOL, "--tags", "db")
    pool_too = stored(cli, POOL_TOO, "--tags", "db")
    wedding = stored(cli, WEDDING)
    elsewhere = stored(cli, POOL + " in the billing service", "--project", "billing")
    old = stored(cli, "The connection pool size is 5", "--key", "pool-size")
    stored(cli, "The connection pool size is 50", "--key", "pool-size")
    fleeting = stored(cli, "SQLAlchemy pool size is 7 today", "--expire-days", "0.00002")
    time.sleep(2)

    assert why(cli, pool)["reason"] == "recalled"
    outranked = why(cli, pool_too, "--top-k", "1")
    assert outranked["reason"] == "outranked" and outranked["fused_rank"] >= 2
    assert outranked["ranks"]["dense"] is not None and outranked["scores"]["dense"] > 0
    floor = why(cli, wedding)
    assert floor["reason"] == "below_match_floor" and floor["scores"]["dense"] < 0.4
    scope = why(cli, elsewhere)
    assert scope["reason"] == "filtered" and "billing" in scope["detail"][0]
    tagged = why(cli, pool, "--tags", "web")
    assert tagged["reason"] == "filtered" and "web" in tagged["detail"][0]
    assert why(cli, old)["reason"] == "superseded"
    assert why(cli, fleeting)["reason"] == "expired"
    gone = why(cli, "00000000-0000-4000-8000-000000000009")
    assert gone["reason"] == "not_stored"


def test_outside_the_candidate_depth(cli, monkeypatch) -> None:
    from amber.services.search import RetrievalConfig

    monkeypatch.setattr(RetrievalConfig, "candidates", 1)
    target = stored(cli, POOL_TOO)
    stored(cli, POOL)
    doc = why(cli, target)
    assert doc["reason"] in ("outside_candidate_depth", "recalled")
    if doc["reason"] == "outside_candidate_depth":
        assert doc["ranks"] == {"dense": None, "bm25": None} and doc["scores"]["bm25"] > 0


def test_its_rank_is_the_place_retrieve_shows_in_the_mode_asked(cli) -> None:
    """A memory floored out above it made why-not say 'outranked' for one shown at rank 2,
    and --mode dense was explained as hybrid."""
    for text in (POOL, POOL_TOO, WEDDING, "Pool tables in the office are booked at noon"):
        stored(cli, text)
    for mode in ("hybrid", "dense", "bm25"):
        res = cli("retrieve", "--query", QUERY, "--mode", mode, "-k", "2", "--json").doc
        for rank, result in enumerate(res["results"], 1):
            said = why(cli, result["id"], "--mode", mode, "-k", "2")
            assert said["reason"] == "recalled" and said["rank"] == rank, (mode, said)
            assert (
                mode == "hybrid" or said["scores"]["bm25" if mode == "dense" else "dense"] is None
            )


def test_a_memory_the_budget_left_out_is_said_to_be_over_it(cli) -> None:
    ids = [stored(cli, text) for text in (POOL, POOL_TOO)]
    res = cli("retrieve", "--query", QUERY, "--budget-tokens", "20", "--json").doc
    shown = {r["id"] for r in res["results"]}
    (left,) = [i for i in ids if i not in shown]
    said = why(cli, left, "--budget-tokens", "20")
    assert said["reason"] == "over_budget" and "--budget-tokens 20" in said["detail"]
