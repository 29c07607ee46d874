"""The index `amber eval` searches, kept under the data folder and keyed by what built it, so a
rerun or a sweep searches the same index instead of embedding the corpus again."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from amber import SCHEMA_VERSION
from amber.errors import BackendUnavailable
from amber.models import Memory
from amber.services.evaluation import Dataset, ProgressFactory, index_corpus
from amber.services.layout import MEMORY_INDEXES
from amber.services.memory import MemoryService
from amber.stores.base import Store

OpenMemory = Callable[[Path], tuple[MemoryService, Store]]
# Bump when what `ingest` writes changes in a way the key below cannot see
# (2: each memory's density, measured once the corpus is in; 3: the builtin embedder leaves
# unknown pieces out and text it cannot read gets a direction of its own).
INDEX_FORMAT = 3
RECORD = "eval-index.json"
_PROBE = (
    "Parse the HTTPResponse in os.path.join(base_dir, file_name) before retrying twice ✅ 数据库."
)
_STALE_BUILD_S = 24 * 3600


def index_key(memory: MemoryService, data: Dataset) -> str:
    """What the index depends on: the corpus, the embedder (or none), the chunk window, the
    BM25 encoding (a probe text's sparse vector: tokenizer, k, b, avg_len), and the layout of
    what is stored (schema, memory fields, payload indexes)."""
    corpus = hashlib.sha256()
    for doc, text in data.corpus.items():
        corpus.update(f"{doc}\x00{text}\x00{data.times.get(doc, '')}\x01".encode())
    probe = memory.bm25.document(_PROBE)
    parts = {
        "corpus": corpus.hexdigest(),
        "embedder": memory.embedder.identity.as_dict() if memory.embedder else None,
        "window": list(memory.window()),
        "bm25": [probe.indices, [round(v, 6) for v in probe.values]],
        "layout": [
            SCHEMA_VERSION,
            INDEX_FORMAT,
            sorted(Memory.model_fields),
            [list(i) for i in MEMORY_INDEXES],
        ],
        "collection": memory.collection,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class Index:
    memory: MemoryService
    store: Store
    key: str
    folder: Path
    reused: bool

    def close(self) -> None:
        self.store.close()


def _clear_stale_builds(root: Path) -> None:
    """Builds a killed run left behind (a live build is younger than a day)."""
    for folder in root.glob(".build-*"):
        if time.time() - folder.stat().st_mtime > _STALE_BUILD_S:
            shutil.rmtree(folder, ignore_errors=True)


def open_index(
    open_memory: OpenMemory,
    root: Path,
    data: Dataset,
    dense: bool = True,
    progress: ProgressFactory | None = None,
    rebuild: bool = False,
) -> Index:
    """The dataset's index under `root`, built at most once per key: in a private folder that
    is renamed into place when complete, so a killed run never leaves half an index behind.
    With `dense` False the index has BM25 vectors only (its key says so)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    _clear_stale_builds(root)
    staging = root / f".build-{uuid.uuid4().hex[:12]}"
    memory, store = open_memory(staging)
    if not dense:
        memory.embedder = None  # BM25 alone needs no vectors: skip the slow part
    key = index_key(memory, data)
    final = root / key
    if rebuild and final.exists():
        shutil.rmtree(final)
    if (final / RECORD).is_file():
        store.close()
        shutil.rmtree(staging)
        return _reopen(open_memory, final, key, dense, True, data)
    try:
        index_corpus(memory, data, progress)
    except BaseException:
        store.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    store.close()
    record = {"dataset": data.name, "documents": len(data.corpus), "built_at": time.time()}
    (staging / RECORD).write_text(json.dumps(record), encoding="utf-8")
    try:
        os.rename(staging, final)
    except OSError:  # another run built the same index meanwhile: keep theirs
        shutil.rmtree(staging)
    return _reopen(open_memory, final, key, dense, False, data)


def _reopen(
    open_memory: OpenMemory, folder: Path, key: str, dense: bool, reused: bool, data: Dataset
) -> Index:
    memory, store = open_memory(folder)
    if not dense:
        memory.embedder = None
    if index_key(memory, data) != key:  # `auto` picked another embedder this time
        store.close()
        raise BackendUnavailable(
            "the embedder changed while the evaluation index was opened",
            hint="pin one with AMBER_EMBEDDER=builtin or AMBER_EMBEDDER=ollama and retry",
        )
    return Index(memory, store, key, folder, reused)
