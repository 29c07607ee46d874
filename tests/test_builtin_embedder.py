"""The builtin embedder: reference similarities, and its cached optimized graph."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np

from amber.embedders.builtin import BuiltinEmbedder

TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
]


def test_vectors_are_unit_length_and_rank_paraphrases_first() -> None:
    vectors = BuiltinEmbedder().embed_documents(TEXTS)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.7 > 0.0 > sims[0, 2]  # the eating pair, not the baby


def test_cached_graph_gives_identical_vectors_and_is_rebuilt_when_changed(
    tmp_path: Path,
) -> None:
    plain = BuiltinEmbedder().embed_documents(TEXTS)
    built = BuiltinEmbedder(cache_dir=tmp_path).embed_documents(TEXTS)
    files = sorted(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".json", ".onnx"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    reused = BuiltinEmbedder(cache_dir=tmp_path).embed_documents(TEXTS)
    assert np.allclose(plain, built, atol=1e-6) and np.allclose(plain, reused, atol=1e-6)
    model = next(f for f in files if f.suffix == ".onnx")
    model.write_bytes(b"not a model")  # size no longer matches the recorded stamp
    rebuilt = BuiltinEmbedder(cache_dir=tmp_path).embed_documents(TEXTS)
    assert np.allclose(plain, rebuilt, atol=1e-6)
    assert model.stat().st_size > 1_000_000


def test_a_damaged_cache_file_with_a_matching_stamp_is_rebuilt(tmp_path: Path) -> None:
    plain = BuiltinEmbedder().embed_documents(TEXTS)
    BuiltinEmbedder(cache_dir=tmp_path)
    model = next(f for f in tmp_path.iterdir() if f.suffix == ".onnx")
    size = model.stat().st_size
    model.write_bytes(b"\x00" * size)  # same size, garbage content
    stamp = next(f for f in tmp_path.iterdir() if f.suffix == ".json")
    import json
    import os

    os.utime(model, ns=(json.loads(stamp.read_text())["mtime_ns"],) * 2)
    rebuilt = BuiltinEmbedder(cache_dir=tmp_path).embed_documents(TEXTS)
    assert np.allclose(plain, rebuilt, atol=1e-6)


def test_batches_by_token_budget_keep_each_text_its_own_vector() -> None:
    model = BuiltinEmbedder()
    # Widths from 3 to 256 word pieces, shuffled: several batches of different sizes.
    texts = [" ".join(f"term{i}x{j}" for j in range(n)) for i, n in enumerate([90, 2, 40, 7, 1])]
    texts += TEXTS * 12
    together = model.embed_documents(texts)
    alone = np.stack([model.embed_query(t) for t in texts])
    assert together.shape == (len(texts), 384)
    assert np.allclose(together, alone, atol=1e-5)


def test_reads_only_texts_with_known_word_pieces() -> None:
    model = BuiltinEmbedder()
    for text in ("how do we retry", "💥 crash", "go", "fix the 🐛 in the parser", "def f(x):"):
        assert model.reads(text), text
    for text in ("🎉🎉", "*", "-h", "ℤ∀∃", "中文查询", "x" * 10_000, "", "   "):
        assert not model.reads(text), text
    for text in (
        "погода завтра",
        "كيف حالك اليوم",
        "날씨가 어때요",
        "καλημέρα κόσμε",
        "日本語です",
    ):
        assert not model.reads(text), text  # spelled a letter a piece: near by script only
    assert model.reads("café crème brûlée recipe") and model.reads("x = f(a, b)")


def test_an_unknown_piece_adds_nothing_to_a_vector() -> None:
    model = BuiltinEmbedder()
    assert np.allclose(model.embed_query("🔥 bug"), model.embed_query("bug"), atol=1e-5)
    with_emoji, plain = model.embed_documents(["✅ deploy passed", "deploy passed"])
    assert np.allclose(with_emoji, plain, atol=1e-5)
