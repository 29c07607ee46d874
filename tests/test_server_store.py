"""Server-only behaviour of ServerStore: failures map to BackendUnavailable, cluster settings."""

from __future__ import annotations

import json
import socket
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from qdrant_client import QdrantClient, models

from amber.errors import BackendUnavailable
from amber.stores.base import CollectionSpec, PointIn, Where
from amber.stores.server import ServerStore

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

KEY = "secret-xyz"


class _Answer(BaseHTTPRequestHandler):
    """Answers every request with the server's fixed status, echoing the api-key it received."""

    status = 401
    seen: list[dict[str, str]]

    def _reply(self) -> None:
        self.seen.append({"path": self.path, "api-key": self.headers.get("api-key", "")})
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"status": {"error": f"bad key {self.headers.get('api-key')}"}})
        data = body.encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _reply

    def log_message(self, *args: Any) -> None:
        return


def _serve(status: int) -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Answer,), {"status": status, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(params=[401, 403])
def rejecting(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from _serve(request.param)


@pytest.fixture
def failing() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from _serve(503)


def test_closed_port_is_backend_unavailable() -> None:
    url = "http://127.0.0.1:1"
    with pytest.raises(BackendUnavailable) as caught:
        ServerStore(url, timeout=1.0)
    err = caught.value
    assert err.exit_code == 3
    assert url in err.message
    assert err.hint is not None and "docker compose up -d qdrant" in err.hint
    assert "QDRANT_URL" in err.hint


def test_silent_server_times_out_as_backend_unavailable() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(BackendUnavailable) as caught:
            ServerStore(url, timeout=1.0)
    assert url in caught.value.message
    assert "docker compose up -d qdrant" in (caught.value.hint or "")


def test_rejected_api_key_names_the_setting_and_hides_the_key(
    rejecting: tuple[str, list[dict[str, str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, seen = rejecting
    with pytest.raises(BackendUnavailable) as caught:
        ServerStore(url, api_key=KEY, timeout=2.0)
    err = caught.value
    assert seen and seen[0]["api-key"] == KEY  # the key was sent, and the server echoed it back
    assert err.exit_code == 3
    assert "QDRANT_API_KEY" in err.message
    assert url in err.message
    trace = "".join(traceback.format_exception(err))
    shown = " ".join([str(err), repr(err), json.dumps(err.to_dict()), trace])
    out = capsys.readouterr()
    assert KEY not in shown + out.out + out.err


def test_server_errors_are_backend_unavailable(failing: tuple[str, list[dict[str, str]]]) -> None:
    url, seen = failing
    with pytest.raises(BackendUnavailable) as caught:
        ServerStore(url, timeout=2.0)
    assert seen
    assert "503" in caught.value.message and url in caught.value.message
    assert "QDRANT_API_KEY" not in caught.value.message


def test_location_is_the_url_without_the_key() -> None:
    url = "http://qdrant.internal:6333"
    store = ServerStore(url, api_key=KEY, client=QdrantClient(location=":memory:"))
    assert store.location == url
    assert KEY not in store.location
    assert store.size_bytes() is None
    store.close()


class RecordingClient(QdrantClient):
    """A real in-memory client that records how collections and indexes were created."""

    def __init__(self) -> None:
        super().__init__(location=":memory:")
        self.created: dict[str, dict[str, Any]] = {}
        self.indexes: list[tuple[str, str, Any]] = []

    def create_collection(self, collection_name: str, **kwargs: Any) -> bool:
        self.created[collection_name] = kwargs
        return super().create_collection(collection_name, **kwargs)

    def create_payload_index(self, collection_name: str, field_name: str, *args: Any, **kw: Any):
        schema = args[0] if args else kw.get("field_schema")
        self.indexes.append((collection_name, field_name, schema))
        return super().create_payload_index(collection_name, field_name, *args, **kw)


def test_collection_created_with_cluster_settings_vectors_and_indexes() -> None:
    client = RecordingClient()
    store = ServerStore(":memory:", shard_number=3, replication_factor=2, client=client)
    spec = CollectionSpec("mem", 8, (("project", "keyword"), ("ts", "float"), ("n", "integer")))
    store.ensure(spec)
    store.ensure(spec)
    kwargs = client.created["mem"]
    assert len(client.created) == 1
    assert kwargs["shard_number"] == 3
    assert kwargs["replication_factor"] == 2
    params = client.get_collection("mem").config.params
    assert params.vectors["dense"].size == 8
    assert params.vectors["dense"].distance == models.Distance.COSINE
    assert params.sparse_vectors["bm25"].modifier == models.Modifier.IDF
    assert client.indexes == [
        ("mem", "project", models.PayloadSchemaType.KEYWORD),
        ("mem", "ts", models.PayloadSchemaType.FLOAT),
        ("mem", "n", models.PayloadSchemaType.INTEGER),
    ]
    store.close()


def test_meta_lives_in_its_own_collection() -> None:
    client = RecordingClient()
    store = ServerStore(":memory:", client=client)
    assert not client.collection_exists("amber-meta")
    store.write_meta({"schema": "1"})
    assert client.collection_exists("amber-meta")
    assert client.count("amber-meta").count == 1
    store.write_meta({"schema": "2"})
    assert client.count("amber-meta").count == 1
    # A second store over the same server sees it.
    assert ServerStore(":memory:", client=client).read_meta() == {"schema": "2"}
    store.close()


def test_point_ids_are_canonical_uuid_strings() -> None:
    store = ServerStore(":memory:")
    store.ensure(CollectionSpec("c", 2))
    upper = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
    store.upsert("c", [PointIn(upper, {"x": 1}, dense=[1.0, 0.0])])
    [hit] = store.get("c", [upper])
    assert hit.id == upper.lower()
    assert store.count("c", Where()) == 1
    with pytest.raises(ValueError):
        store.upsert("c", [PointIn("not-a-uuid", {})])
    store.close()
