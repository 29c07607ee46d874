"""`amber init`: what it writes for each agent host, merging, idempotence, --dry-run, --remove,
the hooks, and the two contract command lines from the initialised project."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import typer
from conftest import Result, clean_env

from amber.cli import hook as hook_cli
from amber.cli import init as init_cli
from amber.cli import invocation
from amber.cli.render import emit_error
from amber.errors import AmberError
from amber.skills import load_skill

SYSTEM_PYTHON = "/usr/bin/python3"
AMBER = str(Path(sys.executable).parent / "amber")


def _command():
    """amber's own command tree once `init` is registered there, else one with the two
    commands this feature adds (the same code, minus the other commands)."""
    import amber.cli

    command = typer.main.get_command(amber.cli.app)
    if "init" in getattr(command, "commands", {}):
        return None
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    init_cli.commands.attach(app)
    hook_cli.commands.attach(app)
    return typer.main.get_command(app)


@pytest.fixture
def amber_cli(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    for key in list(os.environ):
        if key.startswith(("AMBER_", "QDRANT_", "OLLAMA_")):
            monkeypatch.delenv(key)
    for key, value in clean_env(home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AMBER_DAEMON", "off")
    command = _command()

    def run(*args: str, stdin: bytes | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        if command is None or args[0] not in ("init", "hook"):
            from amber.cli import run as run_cli

            code = run_cli(list(args))
        else:
            token = invocation.use(invocation.Invocation(env=dict(os.environ), cwd=Path.cwd()))
            try:
                result = command.main(args=list(args), prog_name="amber", standalone_mode=False)
                code = result if isinstance(result, int) else 0
            except AmberError as exc:
                emit_error(exc.to_dict())
                code = exc.exit_code
            finally:
                invocation.reset(token)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder (outside .git) with its bytes, and every folder as None."""
    found: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel == ".git" or rel.startswith(".git/"):
            continue
        found[rel] = path.read_bytes() if path.is_file() else None
    return found


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_init_writes_each_host_its_own_format_and_twice_changes_nothing(amber_cli, project):
    first = amber_cli("init", str(project), "--json")
    assert first.code == 0, first.stderr
    doc = first.doc
    assert doc["status"] == "initialized" and doc["hosts"] == [
        "claude",
        "codex",
        "cursor",
        "gemini",
    ]
    for change in doc["changes"]:
        assert (project / change["path"]).exists(), change

    for shim in ("execution/memory_manager.py", "execution/orchestrator.py"):
        text = (project / shim).read_text()
        assert f"AMBER_PYTHON = {sys.executable!r}" in text
        assert "AMBER_SRC = " in text and "AMBER_SRC = None" not in text
        compile(text, shim, "exec")
    for folder in (".claude/skills", ".agents/skills"):
        names = {load_skill(p).name for p in (project / folder).glob("*/SKILL.md")}
        assert {"amber-memory", "python-patterns"} <= names

    server = {"command": AMBER, "args": ["mcp"]}
    assert load(project / ".mcp.json")["mcpServers"]["amber"] == {"type": "stdio", **server}
    assert load(project / ".cursor/mcp.json")["mcpServers"]["amber"] == server
    gemini = load(project / ".gemini/settings.json")
    assert gemini["mcpServers"]["amber"] == server
    recall = gemini["hooks"]["BeforeAgent"][0]["hooks"][0]
    assert recall["type"] == "command" and recall["command"].endswith("hook prompt")
    codex = tomllib.loads((project / ".codex/config.toml").read_text())
    assert codex["mcp_servers"]["amber"] == server
    for settings in (".claude/settings.json", ".codex/hooks.json"):
        hooks = load(project / settings)["hooks"]
        for event, name in (("UserPromptSubmit", "prompt"), ("Stop", "stop")):
            (handler,) = hooks[event][0]["hooks"]
            assert handler["type"] == "command"
            assert handler["command"] == f"{AMBER} hook {name}"
    assert load(project / ".amber/init.json")["schema"] == "amber-init/1"

    before = tree(project)
    second = amber_cli("init", str(project), "--json")
    assert second.code == 0 and second.doc["status"] == "unchanged"
    assert {c["action"] for c in second.doc["changes"]} == {"unchanged"}
    assert tree(project) == before


def test_existing_configs_are_merged_and_remove_restores_them_byte_for_byte(amber_cli, project):
    other = {"command": "npx", "args": ["-y", "other-server"]}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"other": other}}, indent=4))
    (project / ".claude").mkdir()
    own_hook = {"hooks": [{"type": "command", "command": "echo hi"}]}
    claude = {"permissions": {"allow": ["Bash(ls)"]}, "hooks": {"UserPromptSubmit": [own_hook]}}
    (project / ".claude/settings.json").write_text(json.dumps(claude))
    (project / ".codex").mkdir()
    toml = '# mine\nmodel = "o3"\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\n'
    (project / ".codex/config.toml").write_text(toml)
    (project / ".gemini").mkdir()
    (project / ".gemini/settings.json").write_text('{"ui": {"theme": "GitHub"}}\n')
    before = tree(project)

    assert amber_cli("init", str(project), "--json").code == 0
    mcp = load(project / ".mcp.json")["mcpServers"]
    assert mcp["other"] == other and mcp["amber"]["args"] == ["mcp"]
    settings = load(project / ".claude/settings.json")
    assert settings["permissions"] == claude["permissions"]
    assert settings["hooks"]["UserPromptSubmit"][0] == own_hook
    assert len(settings["hooks"]["UserPromptSubmit"]) == 2
    text = (project / ".codex/config.toml").read_text()
    assert text.startswith(toml)
    codex = tomllib.loads(text)
    assert codex["model"] == "o3" and set(codex["mcp_servers"]) == {"docs", "amber"}
    assert load(project / ".gemini/settings.json")["ui"] == {"theme": "GitHub"}

    removed = amber_cli("init", str(project), "--remove", "--json")
    assert removed.code == 0 and removed.doc["kept"] == []
    assert tree(project) == before


def test_remove_takes_out_only_amber_after_the_user_edited(amber_cli, project):
    assert amber_cli("init", str(project), "--json").code == 0
    mcp = load(project / ".mcp.json")
    mcp["mcpServers"]["mine"] = {"command": "mine"}
    (project / ".mcp.json").write_text(json.dumps(mcp, indent=2))
    shim = project / "execution/memory_manager.py"
    shim.write_text(shim.read_text() + "# edited\n")

    removed = amber_cli("init", str(project), "--remove", "--json").doc
    assert load(project / ".mcp.json") == {"mcpServers": {"mine": {"command": "mine"}}}
    assert shim.exists() and removed["kept"] == ["execution/memory_manager.py"]
    assert not (project / ".cursor").exists() and not (project / ".amber").exists()
    assert not (project / "execution/orchestrator.py").exists()
    assert sorted(p.name for p in project.iterdir()) == [".git", ".mcp.json", "execution"]


def test_dry_run_plans_and_writes_nothing(amber_cli, project):
    before = tree(project)
    result = amber_cli("init", str(project), "--dry-run", "--json")
    assert result.code == 0 and result.doc["status"] == "planned"
    planned = {c["path"]: c["action"] for c in result.doc["changes"]}
    assert planned[".mcp.json"] == "create" and planned[".amber/init.json"] == "create"
    assert tree(project) == before


def test_one_host_without_hooks(amber_cli, project):
    result = amber_cli("init", str(project), "--host", "claude", "--no-hooks", "--json")
    assert result.code == 0
    written = {p.split("/")[0] for p in tree(project)}
    assert written == {".amber", ".claude", ".mcp.json", "execution"}
    assert not (project / ".claude/settings.json").exists()


def test_a_folder_outside_git_is_told_its_memories_are_shared(amber_cli, project, tmp_path):
    in_git = amber_cli("init", str(project), "--dry-run", "--json").doc["notes"]
    assert not any("git repository" in note for note in in_git)
    loose = tmp_path / "loose"
    loose.mkdir()
    notes = amber_cli("init", str(loose), "--dry-run", "--json").doc["notes"]
    assert any("not in a git repository" in note and "shared" in note for note in notes)


def test_refusals_exit_2_and_change_nothing(amber_cli, project, tmp_path):
    assert amber_cli("init", str(tmp_path / "missing")).code == 2
    assert amber_cli("init", str(project), "--host", "vim").code == 2

    (project / ".cursor").mkdir()
    (project / ".cursor/mcp.json").write_text("{not json")
    before = tree(project)
    bad = amber_cli("init", str(project), "--json")
    assert bad.code == 2 and ".cursor/mcp.json" in bad.error["message"] and bad.error["hint"]
    assert tree(project) == before
    shutil.rmtree(project / ".cursor")

    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".claude").symlink_to(outside)
    linked = amber_cli("init", str(project), "--host", "claude", "--json")
    assert linked.code == 2 and "outside" in linked.error["message"]
    assert list(outside.iterdir()) == []


def test_a_file_of_the_user_is_replaced_only_with_force_and_put_back(amber_cli, project):
    (project / "execution").mkdir()
    theirs = b"# the memory manager this project had\n"
    (project / "execution/memory_manager.py").write_bytes(theirs)
    refused = amber_cli("init", str(project), "--json")
    assert refused.code == 2 and "--force" in refused.error["hint"]

    assert amber_cli("init", str(project), "--force", "--json").code == 0
    assert b"AMBER_PYTHON" in (project / "execution/memory_manager.py").read_bytes()
    assert amber_cli("init", str(project), "--remove", "--json").code == 0
    assert (project / "execution/memory_manager.py").read_bytes() == theirs


def test_hooks_recall_the_memory_and_remind_once(amber_cli, project, monkeypatch):
    monkeypatch.chdir(project)
    stored = amber_cli(
        "store", "--content", "Payments retry three times with exponential backoff", "--json"
    )
    assert stored.code == 0, stored.stderr
    event = {"hook_event_name": "UserPromptSubmit", "prompt": "how do payments retry?"}
    answer = amber_cli("hook", "prompt", stdin=json.dumps(event).encode())
    assert answer.code == 0, answer.stderr
    output = answer.doc["hookSpecificOutput"]
    assert output["hookEventName"] == "UserPromptSubmit"
    assert "exponential backoff" in output["additionalContext"]
    assert "tags: \n" not in output["additionalContext"]  # a memory without tags: no empty line

    stop = amber_cli("hook", "stop", stdin=b'{"stop_hook_active": false}')
    assert stop.doc["decision"] == "block" and "memory_manager.py store" in stop.doc["reason"]
    assert amber_cli("hook", "stop", stdin=b'{"stop_hook_active": true}').stdout == ""
    garbled = amber_cli("hook", "prompt", stdin=b"not json")
    assert garbled.code == 0 and "not JSON" in garbled.doc["systemMessage"]
    # the host says where the session works: the scope follows it, not the hook's own folder
    monkeypatch.chdir(project.parent)
    elsewhere = amber_cli("hook", "prompt", stdin=json.dumps(event).encode())
    assert elsewhere.stdout == "", "from another folder the project's memory is out of scope"
    located = amber_cli("hook", "prompt", stdin=json.dumps({**event, "cwd": str(project)}).encode())
    assert "exponential backoff" in located.doc["hookSpecificOutput"]["additionalContext"]


@pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason="no system python3")
def test_contract_command_lines_work_from_the_project_with_system_python(amber_cli, project, home):
    assert amber_cli("init", str(project), "--host", "claude", "--json").code == 0
    env = {**clean_env(home), "AMBER_DAEMON": "off"}

    def contract(*args: str) -> Result:
        command = [SYSTEM_PYTHON, "-I", "execution/memory_manager.py", *args]
        proc = subprocess.run(command, cwd=project, env=env, capture_output=True, timeout=120)
        return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    stored = contract(
        "store",
        "--content",
        "Chose ARQ over Celery for the mailer: async codebase, Redis already deployed",
        "--type",
        "decision",
        "--tags",
        "python-patterns",
        "background-jobs",
        "arq",
    )
    assert stored.code == 0, stored.stderr
    found = contract(
        "auto", "--query", "should the mailer run its background jobs on ARQ or Celery"
    )
    assert found.code == 0, found.stderr
    assert found.doc["source"] == "memory"
    assert any("ARQ" in chunk["content"] for chunk in found.doc["context_chunks"])
