"""Each dev set's cached evaluation index (the one `amber eval` builds under
$AMBER_HOME/eval-index), opened for a benchmark and closed after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from amber.compose import scratch_memory
from amber.services import evaluation
from amber.services.eval_index import Index, open_index
from amber.settings import Settings


def each_index(
    folders: list[Path], settings: Settings, queries: int | None = None
) -> Iterator[tuple[evaluation.Dataset, Index]]:
    """Each BEIR set under `folders` (its first `queries` test questions) with its cached
    index, built first if there is none; the index is closed before the next one opens."""
    for folder in evaluation.dataset_folders(folders):
        data = evaluation.load_beir(folder, "test", queries)
        index = open_index(
            lambda path: scratch_memory(settings, path), settings.home / "eval-index", data
        )
        try:
            yield data, index
        finally:
            index.close()
