"""Fusion functions and the evidence adaptive fusion reads, on hand-made candidate lists."""

from __future__ import annotations

import statistics

import pytest

from amber import text as textops
from amber.fusion import (
    AdaptiveParams,
    Evidence,
    FeedbackParams,
    dbsf,
    dense_weight,
    feedback,
    fuse,
    rrf,
    zscore,
)
from amber.services import signals
from amber.services.evaluation import ndcg_at
from amber.stores.base import Where
from amber.stores.bm25 import Bm25Encoder

TOPICS = ["deploy", "billing", "search", "login", "cache", "queue"]  # of the notes stored


def test_rrf_sums_reciprocal_ranks_with_weights() -> None:
    fused = rrf([[("a", 9.0), ("b", 1.0)], [("b", 5.0)]], k=10, weights=[1.0, 2.0])
    assert fused["a"] == pytest.approx(1 / 11)
    assert fused["b"] == pytest.approx(1 / 12 + 2 / 11)


def standardise(ranked: list[tuple[str, float]]) -> dict[str, float]:
    scores = [s for _, s in ranked]
    mean, std = statistics.fmean(scores), statistics.pstdev(scores)
    return {item: (s - mean) / std for item, s in ranked}


def test_zscore_missing_item_takes_the_lists_floor() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.4), ("d", 0.3)]
    bm25 = [("b", 10.0), ("c", 2.0), ("e", 1.0)]
    fused = zscore([dense, bm25], depth=20)
    assert set(fused) == {"a", "b", "c", "d", "e"}
    z_dense, z_bm25 = standardise(dense), standardise(bm25)
    # "a" is missing from BM25 and "e" from dense: each gets that list's lowest z-score.
    assert fused["a"] == pytest.approx(z_dense["a"] + min(z_bm25.values()))
    assert fused["e"] == pytest.approx(min(z_dense.values()) + z_bm25["e"])
    assert fused["b"] == pytest.approx(z_dense["b"] + z_bm25["b"])
    assert fused["b"] > fused["a"]  # strong in both lists beats a lone dense leader


def test_zscore_lets_the_standout_signal_decide() -> None:
    names = [f"m{i}" for i in range(20)]
    # Dense scores fall evenly (no item stands out); BM25 has one outlier far above a tight pack.
    dense = [(name, 0.60 - i * 0.01) for i, name in enumerate(names)]
    bm25_order = names[9:10] + names[:9] + names[10:]  # m9 leads BM25, m0 is 10th there
    bm25 = [(name, 20.0 if i == 0 else 3.0 - i * 0.01) for i, name in enumerate(bm25_order)]
    ranked = [item for item, _ in fuse("zscore", dense, bm25)]
    assert ranked[0] == "m9"
    # Equal-weight RRF cannot tell them apart: m0 is (1st, 2nd) and m9 (10th, 1st) there.
    by_rrf = [item for item, _ in fuse("rrf", dense, bm25)]
    assert by_rrf[0] == "m0"


def test_zscore_falls_back_to_rrf_without_a_spread() -> None:
    dense = [("a", 0.9), ("b", 0.2)]
    bm25 = [("b", 3.0), ("c", 1.0), ("d", 0.5)]
    assert zscore([dense, bm25]) == rrf([dense, bm25], 60)


def test_dbsf_clips_to_three_sigma() -> None:
    fused = dbsf([[("a", 1.0), ("b", 0.0)]])
    assert 0.0 <= fused["b"] < fused["a"] <= 1.0


def test_fuse_rejects_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse("median", [], [])


def test_zscore_keeps_candidates_below_the_head() -> None:
    dense = [(f"d{i}", 1.0 - i / 100) for i in range(40)]
    bm25 = [(f"b{i}", 10.0 - i / 10) for i in range(40)]
    ranked = [item for item, _ in fuse("zscore", dense, bm25, depth=20)]
    assert len(ranked) == 80
    head = set(ranked[:40])
    assert head == {f"d{i}" for i in range(20)} | {f"b{i}" for i in range(20)}
    assert ranked.index("d20") < ranked.index("d39")  # the tail keeps its order


# -- adaptive fusion --------------------------------------------------------------------------
PROSE, CODE = Evidence(code_share=0.0), Evidence(code_share=0.6)


def ranked_ids(dense, bm25, evidence: Evidence) -> list[str]:
    return [item for item, _ in fuse("adaptive", dense, bm25, evidence=evidence)]


def test_dense_weight_follows_code_share_and_identifiers() -> None:
    p = AdaptiveParams(prose_dense=0.4, code_dense=0.9, code_share=0.2, identifier_shift=0.2)
    assert dense_weight(Evidence(code_share=0.0), p) == pytest.approx(0.4)
    assert dense_weight(Evidence(code_share=0.1), p) == pytest.approx(0.65)  # half way
    assert dense_weight(Evidence(code_share=0.7), p) == pytest.approx(0.9)  # saturates
    assert dense_weight(Evidence(code_share=0.7, identifiers=True), p) == pytest.approx(0.7)
    low = AdaptiveParams(prose_dense=0.1, identifier_shift=0.5)
    assert dense_weight(Evidence(identifiers=True), low) == 0.0  # never below zero


def dense_right_lists() -> tuple[list, list]:
    """Natural language against code: dense puts the answer first with a clear lead; BM25's
    leader is a spurious match on a rare word, far ahead of its pack, and third in dense."""
    names = [f"m{i}" for i in range(20)]
    dense = [("answer", 0.80), ("m0", 0.56), ("noise", 0.555)]
    dense += [(n, 0.55 - i * 0.005) for i, n in enumerate(names[1:])]
    bm25 = (
        [("noise", 20.0)] + [(n, 5.0 - i * 0.05) for i, n in enumerate(names)] + [("answer", 1.0)]
    )
    return dense, bm25


def test_code_candidates_let_dense_decide_where_equal_zscores_lose() -> None:
    dense, bm25 = dense_right_lists()
    assert [i for i, _ in fuse("zscore", dense, bm25)][0] == "noise"  # the old default's miss
    assert ranked_ids(dense, bm25, CODE)[0] == "answer"
    assert ranked_ids(dense, bm25, PROSE)[0] == "noise"  # the same lists read as prose


def bm25_right_lists() -> tuple[list, list, dict[str, float]]:
    """Dialogue: BM25's leader and t0 hold every query term, dense's leader none of them."""
    names = [f"t{i}" for i in range(20)]
    dense = [("chatter", 0.70), ("answer", 0.64)]
    dense += [(n, 0.63 - i * 0.002) for i, n in enumerate(names)]
    bm25 = [("answer", 30.0), ("t0", 16.0)]
    bm25 += [(n, 12.0 - i * 0.1) for i, n in enumerate(names[1:])] + [("chatter", 9.0)]
    coverage = {n: 0.25 for n in names} | {"answer": 1.0, "t0": 1.0, "chatter": 0.0}
    return dense, bm25, coverage


def test_prose_candidates_let_lexical_evidence_decide() -> None:
    dense, bm25, coverage = bm25_right_lists()
    assert ranked_ids(dense, bm25, Evidence(coverage=coverage))[:2] == ["answer", "t0"]
    # Without the coverage evidence the dense leader, holding no query term, comes second.
    assert ranked_ids(dense, bm25, PROSE)[:2] == ["answer", "chatter"]


def test_coverage_breaks_a_tie_between_equal_candidates() -> None:
    dense = [("a", 0.6), ("b", 0.6), ("c", 0.3), ("d", 0.2)]
    bm25 = [("a", 5.0), ("b", 5.0), ("c", 1.0), ("d", 0.5)]
    evidence = Evidence(coverage={"a": 0.2, "b": 0.9, "c": 0.2, "d": 0.2})
    assert ranked_ids(dense, bm25, evidence)[0] == "b"
    flipped = Evidence(coverage={"a": 0.9, "b": 0.2, "c": 0.2, "d": 0.2})
    assert ranked_ids(dense, bm25, flipped)[0] == "a"


def test_adaptive_is_never_worse_than_either_list_on_either_kind() -> None:
    """nDCG@10 of the fused list is at least the better single list's, on both kinds."""
    dense, bm25 = dense_right_lists()
    cases = [(dense, bm25, CODE, {"answer": 1})]
    dense, bm25, coverage = bm25_right_lists()
    cases.append((dense, bm25, Evidence(coverage=coverage), {"answer": 1, "t0": 1}))
    for dense, bm25, evidence, rels in cases:
        fused = ndcg_at(ranked_ids(dense, bm25, evidence), rels)
        singles = [ndcg_at([i for i, _ in lst], rels) for lst in (dense, bm25)]
        assert fused >= max(singles)
        assert ndcg_at([i for i, _ in fuse("zscore", dense, bm25)], rels) < fused


def test_adaptive_degrades_with_short_or_empty_lists() -> None:
    assert ranked_ids([], [("a", 2.0), ("b", 1.0)], PROSE) == ["a", "b"]
    assert ranked_ids([("x", 0.9)], [], CODE) == ["x"]
    dense, bm25 = [("a", 0.9), ("b", 0.1)], [("b", 3.0), ("c", 2.0), ("d", 1.0)]
    p = AdaptiveParams(code_dense=0.9)  # BM25 keeps some weight (the shipped code weight is 1)
    w = dense_weight(CODE, p)
    fused = dict(fuse("adaptive", dense, bm25, evidence=CODE, params=p))
    assert fused == pytest.approx(rrf([dense, bm25], 60, [w, 1 - w]))
    assert max(fused, key=fused.get) == "b"  # in both lists


def test_adaptive_keeps_candidates_below_both_heads_in_order() -> None:
    dense = [(f"d{i}", 1.0 - i / 100) for i in range(40)]
    bm25 = [(f"b{i}", 10.0 - i / 10) for i in range(40)]
    ranked = ranked_ids(dense, bm25, PROSE)
    assert len(ranked) == 80
    assert set(ranked[:40]) == {f"d{i}" for i in range(20)} | {f"b{i}" for i in range(20)}
    assert ranked.index("d20") < ranked.index("d39")


def test_weights_setting_scales_the_adaptive_blend() -> None:
    dense, bm25 = dense_right_lists()
    bm25_heavy = fuse("adaptive", dense, bm25, evidence=CODE, weights=(1.0, 50.0))
    assert bm25_heavy[0][0] == "noise"


# -- evidence ---------------------------------------------------------------------------------
def test_code_share_tells_code_from_prose() -> None:
    prose = "We decided to retry the upload twice, then give up and report the error."
    code = "for i, row in enumerate(rows):\n    out[row.key] = fn(row.value, i)"
    assert signals.code_share(prose) < 0.05
    assert signals.code_share(code) > 0.5
    assert signals.code_share("") == 0.0


def test_names_identifiers() -> None:
    for query in ("why does `parse_args` fail", "call os.path.join( twice", "use camelCase here"):
        assert signals.names_identifiers(query), query
    assert not signals.names_identifiers("When did Caroline go to the support group?")


def test_gather_measures_each_candidates_share_of_query_terms() -> None:
    contents = {
        "full": "Retry the upload with exponential backoff",
        "half": "Upload files in one request",
        "none": "Melanie painted a sunrise",
    }
    dense, bm25 = [("none", 0.9), ("half", 0.5)], [("full", 9.0), ("half", 3.0)]
    evidence = signals.gather(
        "retry upload backoff", dense, bm25, contents, Bm25Encoder(), depth=20
    )
    assert evidence.coverage["full"] == pytest.approx(1.0)
    assert evidence.coverage["half"] == pytest.approx(1 / 3)
    assert evidence.coverage["none"] == 0.0
    assert evidence.code_share < 0.05 and not evidence.identifiers


# -- through the real search ------------------------------------------------------------------
MEMORIES = [
    "The staging deploy failed because the Postgres migration timed out; we raised the lock "
    "timeout to 30 seconds.",
    "Caroline said the support group met on Tuesday and it went well.",
    "We pin ruff in CI so formatting does not drift between machines.",
    "def backoff(attempt):\n    return min(60, 2 ** attempt) + random.random()",
    "Melanie painted a sunrise over the lake last summer.",
    "Deploy checklist: run the migration, then restart the workers.",
    "The migration of the billing tables is planned for the next deploy window.",
    "A failed deploy is rolled back by the pipeline automatically.",
]


def test_search_fuses_adaptively_from_the_stored_content(tmp_path) -> None:
    from amber.compose import scratch_memory
    from amber.services.layout import Filters
    from amber.settings import load_settings
    from amber.stores.base import Where

    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    memory, store = scratch_memory(settings, tmp_path / "store")
    try:
        memory.ingest([(text, {}) for text in MEMORIES])
        memory.config.fusion = "adaptive"
        query = "why did the staging deploy fail on the migration"
        dense, sparse = memory.hybrid.candidates(query, Where(), 50)
        remembered = memory.hybrid.combine(dense, sparse)  # the query of the last candidates() call
        assert remembered == memory.hybrid.combine(dense, sparse, query)
        assert len(sparse) >= 3  # z-scored, not the short-list fallback
        hits = memory.store.get(memory.collection, signals.head_ids(dense, sparse, 20))
        contents = {h.id: h.payload["content"] for h in hits}
        evidence = signals.gather(query, dense, sparse, contents, memory.bm25, 20)
        first = fuse("adaptive", dense, sparse, evidence=evidence)
        head = [m for m, _ in first[:30]]
        vectors = memory.store.dense_vectors(memory.collection, head)
        assert len(vectors) == len(head)  # every head memory's opening vector
        assert remembered == feedback(first, vectors, memory.embed_query(query))
        memory.config.feedback = 0.0  # the second stage off: fusion alone
        assert memory.hybrid.combine(dense, sparse, query) == first
        memory.config.feedback = 0.5
        assert evidence.coverage and max(evidence.coverage.values()) > 0.5
        found = memory.hybrid.search(query, Filters(), 3)
        assert found[0].memory.content.startswith("The staging deploy failed")
        assert [m.memory.id for m in found] == [m for m, _ in remembered][: len(found)]
        memory.config.fusion = "zscore"  # other methods are untouched
        assert memory.hybrid.combine(dense, sparse, query) == fuse("zscore", dense, sparse)
    finally:
        store.close()


def test_density_correction_scores_crowded_candidates_down() -> None:
    from amber.services.density import correct

    dense = [("hub", 0.62), ("loner", 0.60), ("old", 0.55)]
    crowd = {"hub": 0.70, "loner": 0.30}  # "old" was stored before densities
    ranked = correct(dense, crowd, 0.5)
    assert [i for i, _ in ranked] == ["loner", "old", "hub"]
    # A memory without a density takes the known ones' mean: neither lifted nor buried.
    assert dict(ranked)["old"] == pytest.approx(0.55 - 0.5 * 0.5)
    assert correct(dense, crowd, 0.0) == dense  # the setting at 0 turns it off
    assert correct(dense, {}, 0.5) == dense  # a store without densities searches as before


def test_densities_are_measured_on_write_and_a_store_without_them_still_searches(
    tmp_path,
) -> None:
    from amber.compose import scratch_memory
    from amber.models import MemoryType
    from amber.services import density
    from amber.services.layout import Filters
    from amber.settings import load_settings

    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    memory, store = scratch_memory(settings, tmp_path / "store")
    try:
        topics = ["deploy", "billing", "search", "login", "cache"]
        texts = [f"Note {i} about the {topics[i % 5]} service, item {i}." for i in range(44)]
        memory.ingest([(t, {}) for t in texts[:3]])  # fewer than K others: no density
        first = store.get(
            memory.collection, [h.id for h in store.scroll(memory.collection, Where(), 3)]
        )
        assert all(density.FIELD not in h.payload for h in first)
        memory.ingest([(t, {}) for t in texts[3:]])  # now each has K others
        doc = memory.store_memory(
            "The deploy service retries twice before paging.", MemoryType.decision, [], ""
        )
        [stored] = store.get(memory.collection, [doc["id"]])
        crowd = stored.payload[density.FIELD]
        assert 0.0 < crowd < 1.0
        assert crowd == density.measure(
            store,
            memory.collection,
            memory.embed_texts(["The deploy service retries twice before paging."])[0],
            exclude=doc["id"],
        )
        found = memory.hybrid.search("how often does the deploy service retry", Filters(), 3)
        assert found[0].memory.id == doc["id"]
        assert found[0].dense.score is not None and found[0].dense.score > 0.4  # raw cosine
    finally:
        store.close()


def test_a_bulk_ingest_into_an_empty_store_measures_the_densities_a_search_would(tmp_path) -> None:
    from amber.compose import scratch_memory
    from amber.services import density
    from amber.settings import load_settings

    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    memory, store = scratch_memory(settings, tmp_path / "store")
    try:
        texts = [f"Note {i} about the {TOPICS[i % 6]} service, item {i}." for i in range(60)]
        long = " ".join(f"word{j} of the long {TOPICS[j % 6]} runbook" for j in range(120))
        texts.append(long)  # several chunks: its best chunk counts for the others
        memory.ingest([(t, {}) for t in texts])  # into an empty store: computed together
        firsts = store.scroll(memory.collection, Where(equals={"chunk": 0}), 100)
        assert len(firsts) == len(texts)
        chunked = [h for h in firsts if h.payload.get("chunks", 1) > 1]
        assert chunked, "the long memory was stored as several chunks"
        for hit in firsts:
            mid = hit.payload["memory_id"]
            vector = memory.embed_texts([hit.payload["content"]])[0]
            if hit.payload.get("chunks", 1) > 1:
                continue  # its first chunk is not its whole content
            searched = density.measure(store, memory.collection, vector, exclude=mid)
            assert abs(hit.payload[density.FIELD] - searched) < 1e-4, hit.payload["content"]
    finally:
        store.close()


def _import_source(tmp_path, texts: list[str]):
    """Builtin settings for a scratch home, and an export file holding `texts` to import."""
    from amber.settings import load_settings

    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    return settings, _export_of(settings, tmp_path / "source", texts)


def _export_of(settings, folder, texts: list[str]):
    """An `amber export` file of a scratch store holding `texts`."""
    from amber.compose import scratch_memory
    from amber.embedders.builtin import IDENTITY
    from amber.services import transfer

    source, source_store = scratch_memory(settings, folder)
    try:
        source.ingest([(t, {}) for t in texts])
        dump = folder.parent / f"{folder.name}.jsonl"
        dump.write_text("\n".join(transfer.export_lines(source, IDENTITY)) + "\n")
    finally:
        source_store.close()
    return dump


def _densities_match_searches(memory, store) -> int:
    """How many first points carry a density, each asserted equal to what a search measures."""
    from amber.services import density

    firsts = store.scroll(memory.collection, Where(equals={"chunk": 0}), 1000)
    checked = 0
    for hit in firsts:
        vector = memory.embed_texts([hit.payload["content"]])[0]
        searched = density.measure(store, memory.collection, vector, exclude=hit.id)
        assert abs(hit.payload[density.FIELD] - searched) < 1e-4, hit.payload["content"]
        checked += 1
    return checked


def test_an_import_and_a_reindex_measure_densities_as_a_store_would(tmp_path) -> None:
    """Imported or re-embedded memories are scored with the density correction like stored
    ones: without it they would take the candidates' mean, neither lifted nor buried."""
    from amber.compose import scratch_memory
    from amber.services import reindex, transfer

    texts = [f"Note {i} about the {TOPICS[i % 6]} service, item {i}." for i in range(60)]
    settings, dump = _import_source(tmp_path, texts)
    memory, store = scratch_memory(settings, tmp_path / "imported")
    try:
        plan = transfer.check_import(dump, settings.max_content_bytes)
        doc = transfer.import_file(memory, plan)
        assert doc["imported"] == doc["densities"] == len(texts)
        assert _densities_match_searches(memory, store) == len(texts)
        target, target_store = scratch_memory(settings, tmp_path / "reindexed")
        try:
            ids = transfer.memory_ids(memory, Where())
            assert reindex._copy(memory, target, memory.embedder, ids, 16, None) == len(texts)
            assert _densities_match_searches(target, target_store) == len(texts)
        finally:
            target_store.close()
    finally:
        store.close()


def test_an_import_into_a_filled_store_measures_densities_by_search_up_to_a_bound(
    tmp_path, monkeypatch
) -> None:
    from amber.compose import scratch_memory
    from amber.services import density, transfer

    later = [f"Later note {i} on the {TOPICS[i % 6]} work." for i in range(12)]
    settings, dump = _import_source(tmp_path, later)
    memory, store = scratch_memory(settings, tmp_path / "filled")
    try:
        memory.ingest([(f"Note {i} about the {TOPICS[i % 6]} service.", {}) for i in range(60)])
        monkeypatch.setattr(transfer, "DENSITY_SEARCHES", 5)
        doc = transfer.import_file(memory, transfer.check_import(dump, settings.max_content_bytes))
        assert doc["imported"] == 12 and doc["densities"] == 5
        firsts = store.scroll(memory.collection, Where(equals={"chunk": 0}), 1000)
        measured = [
            h for h in firsts if "Later" in h.payload["content"] and density.FIELD in h.payload
        ]
        assert len(measured) == 5
        for hit in measured:
            vector = memory.embed_texts([hit.payload["content"]])[0]
            searched = density.measure(store, memory.collection, vector, exclude=hit.id)
            # measured right after the import, against the store as it then was
            assert abs(hit.payload[density.FIELD] - searched) < 1e-4
    finally:
        store.close()


def test_a_long_memory_scores_its_best_and_its_opening_chunk(tmp_path) -> None:
    """The dense list: mean of the best chunk's cosine and the opening chunk's; the shown score
    and the floor keep the best chunk's cosine."""
    import numpy as np

    from amber.compose import scratch_memory
    from amber.services.layout import Filters
    from amber.settings import load_settings
    from amber.stores.base import Where

    filler = " ".join(
        f"The garden notes for week {i} list tomatoes, beans and basil." for i in range(40)
    )
    deep = filler + " The payment service retries a failed charge three times with backoff."
    short = "Payment retries use exponential backoff, three attempts at most."
    settings = load_settings(home=tmp_path / "home", embedder="builtin")
    memory, store = scratch_memory(settings, tmp_path / "store")
    try:
        memory.ingest([(deep, {}), (short, {}), *[(text, {}) for text in MEMORIES]])
        query = "how often does the payment service retry a failed charge"
        vector = memory.embedder.embed_query(query)
        window = memory.window()
        chunks = memory.embedder.embed_documents(textops.chunk_words(deep, *window))
        assert len(chunks) > 2
        cosines = chunks @ vector
        dense, _ = memory.hybrid.candidates(query, Where(), 50)
        scores = dict(dense)
        deep_id = next(
            m
            for m, _ in dense
            if memory.store.get(memory.collection, [m])[0].payload["content"] == deep
        )
        expected = (cosines.max() + cosines[0]) / 2
        assert scores[deep_id] == pytest.approx(float(expected), abs=1e-4)
        assert int(np.argmax(cosines)) != 0 and scores[deep_id] < cosines.max()
        found = {r.memory.id: r for r in memory.hybrid.search(query, Filters(), 10)}
        assert found[deep_id].dense.score == pytest.approx(float(cosines.max()), abs=1e-4)
        assert found[deep_id].matched_chunk == int(np.argmax(cosines))
    finally:
        store.close()


def test_equal_scores_are_ordered_by_memory_id_whatever_the_insertion_order(tmp_path) -> None:
    from amber.compose import scratch_memory
    from amber.settings import load_settings

    texts = ["alpha beta gamma", "gamma beta alpha", "beta gamma alpha"]  # one bag of words
    orders = []
    for name, batch in (("one", texts), ("two", texts[::-1])):
        settings = load_settings(home=tmp_path / name, embedder="builtin")
        memory, store = scratch_memory(settings, tmp_path / name / "store")
        try:
            memory.ingest([(text, {}) for text in batch])
            _, sparse = memory.hybrid.candidates("alpha beta", Where(), 10, "bm25")
            assert len({score for _, score in sparse}) == 1, sparse  # a three-way tie
            orders.append([mid for mid, _ in sparse])
        finally:
            store.close()
    assert orders[0] == orders[1] == sorted(orders[0])


def test_feedback_moves_up_what_resembles_the_leader() -> None:
    """The second stage: d, fused last, is nearly the leader a, so it passes c; with more
    weight it passes b too. The leader stays first."""
    fused = [("a", 4.0), ("b", 3.0), ("c", 2.0), ("d", 1.0)]
    vectors = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [0.0, 1.0], "d": [0.9, 0.1]}
    assert [m for m, _ in feedback(fused, vectors, [1.0, 0.0])] == ["a", "b", "d", "c"]
    strong = FeedbackParams(weight=2.0)
    assert [m for m, _ in feedback(fused, vectors, [1.0, 0.0], strong)] == ["a", "d", "b", "c"]
    toward_query = FeedbackParams(weight=2.0, query_share=1.0)  # no leader: the query alone
    assert [m for m, _ in feedback(fused, vectors, [0.0, 1.0], toward_query)][:2] == ["b", "c"]


def test_feedback_leaves_lists_it_cannot_read_and_keeps_the_tail() -> None:
    fused = [("a", 3.0), ("b", 2.0), ("c", 1.0), ("t1", 0.5), ("t2", 0.4)]
    vectors = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 0.1]}
    assert feedback(fused[:2], vectors, [1.0, 0.0]) == fused[:2]  # under three candidates
    assert feedback(fused, {"b": [0.0, 1.0]}, [1.0, 0.0]) == fused  # no leader's vector
    assert feedback(fused, vectors, [1.0, 0.0], FeedbackParams(weight=0.0)) == fused
    out = feedback(fused, vectors, [1.0, 0.0], FeedbackParams(head=3, weight=2.0))
    assert [m for m, _ in out] == ["a", "c", "b", "t1", "t2"]  # the tail below, in order
    assert out[2][1] > out[3][1] > out[4][1]
    missing = feedback(fused, {"a": [1.0, 0.0], "c": [0.0, 1.0]}, [1.0, 0.0], FeedbackParams(3))
    assert [m for m, _ in missing][:1] == ["a"] and len(missing) == len(fused)
