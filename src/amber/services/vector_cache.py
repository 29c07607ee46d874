"""Embeddings of texts kept by content in one .npz file per store (skill sections, routes)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from amber import paths
from amber.embedders.base import Embedder


class VectorCache:
    """Embeddings kept by content in one .npz file per store. Each entry is keyed by a hash of
    the embedder's identity and the text, so an edited text is embedded alone, an unchanged
    one never again, and another embedder never reuses these vectors. Writes replace the file
    atomically; two processes writing at once can each lose the other's new entries, which are
    then embedded again later, never wrong."""

    def __init__(self, path: Path | None, embedder: Embedder) -> None:
        self.path, self.embedder = path, embedder
        ident = embedder.identity
        self._salt = f"{ident.provider}|{ident.model}|{ident.dim}|{ident.prefixes}\x00".encode()
        self.embedded = 0  # texts this cache has had embedded
        self._rows: dict[bytes, np.ndarray] | None = None

    def key(self, text: str) -> bytes:
        return hashlib.sha256(self._salt + text.encode("utf-8", "surrogatepass")).digest()[:16]

    def _read(self) -> dict[bytes, np.ndarray]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as saved:
                keys, vectors = saved["keys"], saved["vectors"]
        except (OSError, KeyError, ValueError):  # an older format or a damaged file: rebuilt
            return {}
        if vectors.ndim != 2 or vectors.shape[1] != self.embedder.identity.dim:
            return {}
        if keys.ndim != 2 or keys.shape != (len(vectors), 16):
            return {}
        rows = vectors.astype(np.float32)
        return {k.tobytes(): v for k, v in zip(keys.astype(np.uint8), rows, strict=True)}

    def _save(self) -> None:
        if self.path is None or self._rows is None:
            return
        merged = {**self._read(), **self._rows}  # keep what another process added meanwhile
        dim = self.embedder.identity.dim
        vectors = np.stack(list(merged.values())) if merged else np.zeros((0, dim), np.float32)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.frombuffer(b"".join(merged), dtype=np.uint8).reshape(-1, 16)
        packed = io.BytesIO()
        np.savez(packed, keys=keys, vectors=vectors.astype(np.float32))
        paths.replace_private(str(self.path), packed.getvalue())
        self._rows = merged

    def get(self, texts: list[str]) -> np.ndarray:
        """One row per text, embedding (in one batch) only the texts not seen before."""
        if self._rows is None:
            self._rows = self._read()
        keys = [self.key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._rows}
        if missing:
            vectors = self.embedder.embed_documents(list(missing.values()))
            self.embedded += len(missing)
            self._rows.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
            self._save()
        dim = self.embedder.identity.dim
        return np.stack([self._rows[k] for k in keys]) if keys else np.zeros((0, dim))
