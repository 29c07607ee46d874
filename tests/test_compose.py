"""docker-compose.yml starts cleanly (checked by reading it: no Docker engine runs here)."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
TEXT = COMPOSE.read_text()
SERVICES = yaml.safe_load(TEXT)["services"]
QDRANTS = [name for name, spec in SERVICES.items() if spec["image"].startswith("qdrant/")]


def test_no_variable_is_required_when_compose_reads_the_file() -> None:
    """`${VAR:?}` fails every compose command, `docker compose up -d ollama` included."""
    assert not re.search(r"\$\{[A-Z_]+:?\?", TEXT)
    assert "${QDRANT_API_KEY:-}" in TEXT


def test_qdrant_refuses_to_start_without_a_key_and_says_how() -> None:
    assert QDRANTS == ["qdrant", "qdrant-node1", "qdrant-node2", "qdrant-node3"]
    for name in QDRANTS:
        spec = SERVICES[name]
        assert spec["entrypoint"] == ["/bin/sh", "-c"], name
        script = spec["command"][0]
        assert '[ -z "$$QDRANT__SERVICE__API_KEY" ]' in script and "exit 1" in script, name
        assert "QDRANT_API_KEY" in script and "exec ./qdrant" in script, name
        assert spec["environment"]["QDRANT__SERVICE__API_KEY"] == "${QDRANT_API_KEY:-}"


def test_servers_have_healthchecks() -> None:
    for name in ["ollama", *QDRANTS]:
        check = SERVICES[name]["healthcheck"]
        assert check["test"] and check["retries"] >= 3 and check["interval"], name
    assert SERVICES["ollama"]["healthcheck"]["test"] == ["CMD", "ollama", "list"]
    assert "/readyz" in " ".join(SERVICES["qdrant"]["healthcheck"]["test"])


def test_model_pull_waits_for_a_healthy_server_and_retries() -> None:
    pull = SERVICES["ollama-pull"]
    assert pull["depends_on"] == {"ollama": {"condition": "service_healthy"}}
    script = pull["command"][0]
    assert "ollama pull nomic-embed-text" in script
    assert re.search(r"for attempt in 1 2 3", script) and "sleep" in script
    assert pull["restart"] == "no"


def test_cluster_nodes_join_a_healthy_first_node_and_ports_stay_local() -> None:
    for name in ("qdrant-node2", "qdrant-node3"):
        assert SERVICES[name]["depends_on"] == {"qdrant-node1": {"condition": "service_healthy"}}
        assert "--bootstrap http://qdrant-node1:6335" in SERVICES[name]["command"][0]
    for spec in SERVICES.values():
        for port in spec.get("ports", []):
            assert port.startswith("127.0.0.1:"), port
