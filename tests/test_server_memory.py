"""The memory service on the qdrant-client store gives the same answers as on the embedded one.

No Qdrant server runs here: QdrantClient(":memory:") speaks the same client API in-process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amber.compose import Runtime
from amber.embedders.preload import builtin_model
from amber.models import MemoryType
from amber.services.layout import Filters
from amber.services.recall import recall
from amber.settings import Settings
from amber.stores.edge import EdgeStore
from amber.stores.server import ServerStore

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

MEMORIES = [
    "Celery with Redis runs the nightly report jobs; retries are capped at five",
    "The web tier is FastAPI behind gunicorn with four uvicorn workers",
    "Structured logs use structlog and go to stdout as JSON lines",
]


def run_both(tmp_path: Path, query: str) -> list[dict]:
    docs = []
    for store in (EdgeStore(tmp_path / "edge", 5.0), ServerStore(":memory:")):
        embedder = builtin_model()
        settings = Settings(home=tmp_path, cache_dir=tmp_path / "cache")
        runtime = Runtime(settings, store, embedder.identity, embedder, None)
        memory = runtime.memory()
        for text in MEMORIES:
            memory.store_memory(text, MemoryType.decision, ["ops"], "shop")
        vector = memory.embed_query(query)
        docs.append(recall(memory, query, vector, Filters(project="shop"), 3, 2000, "shop"))
        store.close()
    return docs


def test_same_ranking_and_scores_on_both_backends(tmp_path: Path) -> None:
    edge, server = run_both(tmp_path, "which workers serve the FastAPI web tier")
    assert edge["status"] == server["status"] == "memory_match"
    assert [c["id"] for c in edge["context_chunks"]] == [c["id"] for c in server["context_chunks"]]
    assert edge["context_chunks"][0]["content"] == MEMORIES[1]
    for a, b in zip(edge["context_chunks"], server["context_chunks"], strict=True):
        assert a["dense"]["score"] == pytest.approx(b["dense"]["score"], abs=1e-5)
        assert a["bm25"]["score"] == pytest.approx(b["bm25"]["score"], rel=1e-5)
