"""Skills, routing and hand-offs through the CLI (in-process) and the orchestrator shim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, clean_env

TEST_SKILLS = Path(__file__).parent / "skills"


def test_skills_list_show_and_validate(cli, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMBER_SKILLS_PATH", str(TEST_SKILLS))
    listed = cli("skills", "list").doc
    names = {s["name"] for s in listed["skills"]}
    assert {"python-patterns", "react-frontend", "sql-databases", "docker-deploy"} <= names
    assert {"python-testing", "git-workflow", "amber-memory"} <= names  # amber's own
    origins = {s["name"]: s["origin"] for s in listed["skills"]}
    assert origins["react-frontend"] == "AMBER_SKILLS_PATH" and origins["git-workflow"] == "amber"
    assert listed["problems"] == []
    shown = cli("skills", "show", "python-patterns").doc
    assert shown["allowed_tools"] == ["Read", "Write", "Edit", "Glob", "Grep"]
    assert "amber integration" in shown["headings"]
    missing = cli("skills", "show", "nope")
    assert missing.code == 1 and "python-patterns" in missing.error["hint"]
    assert cli("skills", "validate").doc["status"] == "valid"
    bad = tmp_path / "Bad_Name"
    bad.mkdir()
    (bad / "SKILL.md").write_text("---\nname: Bad_Name\ndescription: x\n---\nbody\n")
    res = cli("skills", "validate", str(bad))
    assert res.code == 2
    assert res.doc["problems"][0]["line"] == 2
    assert "lowercase" in res.doc["problems"][0]["message"]


def test_auto_carries_the_routed_skill(cli) -> None:
    cli("store", "--content", "FastAPI jobs run on arq with Redis", "--tags", "python-patterns")
    doc = cli("auto", "--query", "design a FastAPI service with background jobs").doc
    assert doc["skill"]["name"] == "python-patterns" and doc["skill"]["confidence"] > 0.2
    none = cli("auto", "--query", "plan a wedding menu").doc
    assert none["skill"] is None


def test_feedback_shifts_routing_and_stays_out_of_context(cli, monkeypatch) -> None:
    monkeypatch.setenv("AMBER_SKILLS_PATH", str(TEST_SKILLS))
    task = "containerise the Django app and run its Celery workers"
    before = cli("route", "--task", task).doc["skill"]["name"]
    target = "docker-deploy" if before != "docker-deploy" else "python-patterns"
    for outcome, skill in (("success", target), ("failure", before)):
        res = cli("skills", "feedback", "--skill", skill, "--task", task, "--outcome", outcome)
        assert res.code == 0, res.stderr
    after = cli("route", "--task", task).doc
    assert after["skill"]["name"] == target
    auto = cli("auto", "--query", task).doc
    assert all("skill-feedback" not in c["tags"] for c in auto["context_chunks"])
    bad = cli("skills", "feedback", "--skill", "nope", "--task", task, "--outcome", "success")
    assert bad.code == 1
    bad = cli("skills", "feedback", "--skill", target, "--task", task, "--outcome", "meh")
    assert bad.code == 2 and "success, failure" in bad.error["message"]


def test_feedback_is_its_own_record_and_every_vote_counts(cli, monkeypatch) -> None:
    monkeypatch.setenv("AMBER_SKILLS_PATH", str(TEST_SKILLS))
    text = "Background jobs run on arq workers with Redis"
    stored = cli("store", "--content", text, "--tags", "jobs").doc
    for _ in range(3):
        vote = ("skills", "feedback", "--skill", "python-patterns", "--task", text)
        assert cli(*vote, "--outcome", "success").doc["status"] == "stored"
    cli("skills", "feedback", "--skill", "python-patterns", "--task", text, "--outcome", "failure")
    shown = cli("get", stored["id"]).doc
    assert shown["memory"]["tags"] == ["jobs"]  # the memory with the task's text is left as it was
    auto = cli("auto", "--query", "how do background jobs run").doc
    assert [c["id"] for c in auto["context_chunks"]] == [stored["id"]]
    found = cli("retrieve", "--query", "background jobs arq Redis").doc
    assert [r["id"] for r in found["results"]] == [stored["id"]]  # votes stay out of search
    votes = cli("retrieve", "--query", "background jobs", "--tags", "skill-feedback").doc
    assert votes["total"] == 4  # unless asked for by their tag
    stats = {s["name"]: s for s in cli("skills", "stats").doc["skills"]}
    assert stats["python-patterns"]["feedback"] == {"success": 3, "failure": 1}


def test_agents_hand_off_through_one_memory(cli) -> None:
    cli("store", "--content", "Rate limits are enforced in the gateway", "--agent", "codex")
    cli(
        "store",
        "--content",
        "Rate limits also apply per API key in the gateway",
        "--agent",
        "claude",
    )
    mine = cli("auto", "--query", "where are rate limits enforced", "--agent", "claude").doc
    assert {c["agent"] for c in mine["context_chunks"]} == {"claude"}
    others = cli(
        "auto", "--query", "where are rate limits enforced", "--exclude-agent", "claude"
    ).doc
    assert {c["agent"] for c in others["context_chunks"]} == {"codex"}
    assert cli("list", "--agent", "codex").doc["total"] == 1


def test_orchestrator_route_from_another_folder(home: Path, tmp_path: Path) -> None:
    task = "design a FastAPI service with background jobs"
    env = clean_env(home)
    shim = [sys.executable, str(ROOT / "execution" / "memory_manager.py")]
    subprocess.run(
        [
            *shim,
            "store",
            "--content",
            "Background jobs use arq workers on Redis",
            "--type",
            "decision",
            "--tags",
            "python-patterns",
            "jobs",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "execution" / "orchestrator.py"), "route", "--task", task],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["skill"]["name"] == "python-patterns"
    assert doc["auto"]["context_chunks"][0]["content"] == "Background jobs use arq workers on Redis"
    assert doc["context"].startswith("# Skill: python-patterns")
    assert "Background jobs use arq workers on Redis" in doc["context"]
    assert doc["context_tokens"] <= 8000
    wedding = subprocess.run(
        [
            sys.executable,
            str(ROOT / "execution" / "orchestrator.py"),
            "route",
            "--task",
            "plan a wedding menu",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert wedding.returncode == 1 and json.loads(wedding.stdout)["skill"]["name"] is None
