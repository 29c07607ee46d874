"""Each dev set's dense and BM25 candidate lists, searched once and kept in the cache folder.

The index comes from `amber eval`'s cache ($AMBER_HOME/eval-index, keyed by corpus, embedder
and BM25 settings); the lists (top 100 of each signal, with scores) are written to
$AMBER_CACHE_DIR/fusion-lists/<index key>-<queries hash>.json.gz, so fitting fusion offline
never searches twice. Used by benchmarks/fusion_lodo.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from amber.cli.progress import Progress
from amber.compose import scratch_memory
from amber.services import evaluation
from amber.services.eval_index import open_index
from amber.settings import Settings

DEPTH = 100
Ranked = list[tuple[str, float]]


@dataclass
class Lists:
    """One dataset's queries and lists, by memory id, with the documents behind the ids."""

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    found: dict[str, tuple[Ranked, Ranked]]
    content: dict[str, str]  # memory id -> text
    doc_of: dict[str, str]  # memory id -> document id
    search_depth: int  # how deep the real search's lists are (hybrid fuses these)


def _pairs(rows: list[list]) -> Ranked:
    return [(str(i), float(s)) for i, s in rows]


def _progress(label: str, total: int, unit: str) -> Callable[[int], None]:
    return Progress(label, total, unit).advance


def load_lists(folder: Path, settings: Settings, split: str = "test") -> Lists:
    data = evaluation.load_beir(folder, split)
    queries_hash = hashlib.sha256(json.dumps(data.queries, sort_keys=True).encode()).hexdigest()
    index = open_index(
        lambda path: scratch_memory(settings, path),
        settings.home / "eval-index",
        data,
        True,
        _progress,
    )
    try:
        depth = index.memory.config.candidates
        cache = settings.cache_dir / "fusion-lists" / f"{index.key}-{queries_hash[:12]}.json.gz"
        if cache.is_file():
            with gzip.open(cache, "rt", encoding="utf-8") as handle:
                stored = json.load(handle)
            found = {q: (_pairs(d), _pairs(b)) for q, (d, b) in stored.items()}
        else:
            raw, _ = evaluation.search_all(index.memory, data, DEPTH, _progress)
            found = {q: (list(d), list(b)) for q, (d, b) in raw.items()}
            cache.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(cache, "wt", encoding="utf-8") as handle:
                json.dump(found, handle)
    finally:
        index.close()
    doc_of = evaluation.doc_ids(data)
    content = {m: data.corpus[d] for m, d in doc_of.items()}
    return Lists(data.name, data.queries, data.qrels, found, content, doc_of, depth)


if __name__ == "__main__":
    from amber.settings import load_settings

    for path in evaluation.dataset_folders([Path(p) for p in sys.argv[1:]]):
        lists = load_lists(path, load_settings(embedder="builtin"))
        sys.stderr.write(f"{lists.name}: {len(lists.found)} queries\n")
