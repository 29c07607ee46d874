"""Dates in a query resolved against the time it is asked, the soft date preference and the
recency prior of search, on hand-made lists and on a real store whose memories carry times."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from amber.services.temporal import Span, TimeParams, adjust, parse_stamp, resolve


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


NOW = ts("2023-10-20T15:00:00")  # a Friday


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("what did we decide last week about retries", "2023-10-09", "2023-10-16"),
        ("the plan we made in May 2023", "2023-05-01", "2023-06-01"),
        ("what broke yesterday", "2023-10-19", "2023-10-20"),
        ("what did Gina find on 1 February, 2023?", "2023-02-01", "2023-02-02"),
        ("Who did Maria have dinner with on May 3, 2023?", "2023-05-03", "2023-05-04"),
        ("the outage of 2023-05-08", "2023-05-08", "2023-05-09"),
        ("When did Melanie go camping in June?", "2023-06-01", "2023-07-01"),  # latest June
        ("what did we ship in November", "2022-11-01", "2022-12-01"),  # November 2023 is ahead
        ("the fix from last Friday", "2023-10-13", "2023-10-14"),
        ("Where was John between August 11 and August 15 2023?", "2023-08-11", "2023-08-16"),
        ("What did James do in 2022?", "2022-01-01", "2023-01-01"),
        ("notes from last month", "2023-09-01", "2023-10-01"),
    ],
)
def test_dates_resolve_against_the_time_asked(query: str, start: str, end: str) -> None:
    span = resolve(query, NOW)
    assert span is not None, query
    assert (span.start, span.end) == (ts(start), ts(end))


def test_relative_ages_and_open_ranges() -> None:
    ago = resolve("the migration three days ago", NOW)
    assert ago is not None and ago.holds(NOW - 3 * 86400) and not ago.holds(NOW - 6 * 86400)
    since = resolve("everything since March 2023", NOW)
    assert since is not None and since.start == ts("2023-03-01") and since.holds(NOW)
    before = resolve("decisions before June 2023", NOW)
    assert before is not None and before.start == 0 and before.end == ts("2023-06-01")


@pytest.mark.parametrize(
    "query",
    [
        "may I ask how retries are configured",  # "may" is a verb
        "what may cause the worker to hang",
        "march the workers through the migration",
        "June said the deploy was fine",  # a name, not a month
        "How many weeks passed between Maria adopting Coco and Shadow?",  # a duration
        "what is planned for next week",  # the future: no memory is stored then
        "what should we do tomorrow",
        "the release in December 2030",  # after the question
        "what did we do on Friday",  # last Friday or the next one?
        "what workshop did Caroline attend recently",  # vague
        "error 2023 from the payment API",  # a number, not a year
        "upgrade to python 3.11 and numpy 1.26",
        "how do I configure retries for the http client",
    ],
)
def test_ambiguous_or_absent_dates_do_not_resolve(query: str) -> None:
    assert resolve(query, NOW) is None


def test_dataset_stamps_parse() -> None:
    assert parse_stamp("1:56 pm on 8 May, 2023") == ts("2023-05-08T13:56:00")
    assert parse_stamp("10:04 am on 19 Sep, 2023") == ts("2023-09-19T10:04:00")
    assert parse_stamp("2023-05-08T13:56:00Z") == ts("2023-05-08T13:56:00")
    assert parse_stamp("someday") is None


FUSED = [("new", 3.0), ("mid", 2.0), ("old", 1.0), ("undated", 0.5)]
STAMPS = {"new": NOW - 86400, "mid": NOW - 40 * 86400, "old": ts("2023-05-10")}


def test_a_span_lifts_the_memories_stored_in_it_and_removes_nothing() -> None:
    may = Span(ts("2023-05-01"), ts("2023-06-01"), "in May 2023")
    out = adjust(FUSED, STAMPS, may, NOW, TimeParams(boost=3.0))
    assert out[0][0] == "old"
    assert sorted(i for i, _ in out) == sorted(i for i, _ in FUSED)
    assert dict(out)["undated"] == 0.5 and dict(out)["new"] == 3.0  # outside: untouched


def test_the_recency_prior_is_off_by_default_and_orders_when_on() -> None:
    assert adjust(FUSED, STAMPS, None, NOW, TimeParams()) == FUSED
    flat = [(i, 1.0) for i, _ in FUSED[:3]] + [("undated", 1.0)]
    on = adjust(flat, STAMPS, None, NOW, TimeParams(recency=1.0, half_life_days=30))
    assert [i for i, _ in on][:3] == ["new", "mid", "old"]
    assert dict(on)["undated"] == 1.0


def test_the_fused_tail_stays_below_the_adjusted_head() -> None:
    fused = [(f"m{i}", 10.0 - i) for i in range(6)]
    may = Span(ts("2023-05-01"), ts("2023-06-01"), "May")
    out = adjust(fused, {"m1": ts("2023-05-02")}, may, NOW, TimeParams(head=3))
    assert [i for i, _ in out] == ["m1", "m0", "m2", "m3", "m4", "m5"]


MEMORIES = [
    ("2023-05-09", "Decided to retry the payment webhook three times with exponential backoff."),
    ("2023-10-16", "Decided to retry the search indexer twice, then alert the on-call engineer."),
    ("2023-10-17", "The dashboard colours now follow the design system tokens."),
    ("2023-10-18", "Upgraded the CI runners to the larger machine type."),
]


@pytest.fixture
def dated(tmp_path: Path):
    from amber.compose import scratch_memory
    from amber.settings import load_settings

    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    memory, store = scratch_memory(settings, tmp_path / "store")
    memory.ingest([(text, {"created_ts": ts(day)}) for day, text in MEMORIES])
    yield memory
    store.close()


def found(memory, query: str, now: float = NOW) -> list[str]:
    from amber.stores.base import Where

    dense, sparse = memory.hybrid.candidates(query, Where(), 50)
    ranked = memory.hybrid.combine(dense, sparse, query, now)
    hits = memory.store.get(memory.collection, [m for m, _ in ranked])
    contents = {h.id: h.payload["content"] for h in hits}
    return [contents[m] for m, _ in ranked]


def test_a_date_in_the_query_prefers_the_memory_stored_then(dated) -> None:
    assert found(dated, "what did we decide about retries in May 2023")[0].startswith(
        "Decided to retry the payment webhook"
    )
    assert found(dated, "what did we decide last week about retries")[0].startswith(
        "Decided to retry the search indexer"
    )
    dated.config.query_dates = False  # the setting turns it off
    plain = found(dated, "what did we decide about retries in May 2023")
    dated.config.query_dates = True
    assert plain == found(dated, "what did we decide about retries in May 2023", now=0.0)


def test_an_old_memory_that_is_the_only_match_is_still_found(dated) -> None:
    from amber.services.layout import Filters

    dated.config.recency = 5.0  # a prior far stronger than the shipped default (off)
    dated.config.recency_half_life_days = 1.0
    try:
        query = "payment webhook retries last week"  # names a span the match is not in
        results = [r.memory.content for r in dated.hybrid.search(query, Filters(), 3)]
        assert any(text.startswith("Decided to retry the payment") for text in results)
        # The memories of last week that do not match are lifted in order but not let in.
        assert not any(text.startswith(("The dashboard", "Upgraded the CI")) for text in results)
    finally:
        dated.config.recency = 0.0


def test_the_recency_prior_prefers_the_newer_of_two_matches_only_when_on(tmp_path) -> None:
    import time

    from amber.compose import scratch_memory
    from amber.services.layout import Filters
    from amber.settings import load_settings

    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    memory, store = scratch_memory(settings, tmp_path / "store")
    ages = [160, 4, 3, 2]  # days before now, in the order of MEMORIES
    now = time.time()
    memory.ingest(
        [(t, {"created_ts": now - a * 86400}) for a, (_, t) in zip(ages, MEMORIES, strict=True)]
    )

    def search() -> list[str]:
        return [r.memory.content for r in memory.hybrid.search("decided to retry", Filters(), 4)]

    try:
        assert memory.config.recency == 0.0  # off unless switched on
        off = search()
        memory.config.recency = 3.0
        on = search()
    finally:
        store.close()
    assert on[0].startswith("Decided to retry the search indexer")  # the newer
    assert off[0].startswith("Decided to retry the payment")  # without it, the closer match
    assert sorted(on) == sorted(off)  # the same matches: the prior lets no other memory in
