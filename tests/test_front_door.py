"""The agent's front door: the contract command lines under any python3, from any folder, and
every failure before amber's own error handling as JSON with exit 3 or 4 (never a traceback,
never exit 1, which an agent reads as "nothing found")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, clean_env

SYSTEM = Path("/usr/bin/python3")
SHIM = ROOT / "execution" / "memory_manager.py"
pytestmark = pytest.mark.skipif(not SYSTEM.exists(), reason="needs the system python3")

STORE = [
    "store",
    "--content",
    "Description of what was decided/solved",
    "--type",
    "decision",
    "--tags",
    "python-patterns",
    "front-door",
]


def run(argv: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=180)


def clean_failure(proc: subprocess.CompletedProcess, code: int) -> dict:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("daemon", ["off", "auto"])
def test_contract_lines_under_isolated_system_python(home: Path, tmp_path: Path, daemon) -> None:
    project = tmp_path / "agents-project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    env = dict(clean_env(home), AMBER_DAEMON=daemon, AMBER_DAEMON_IDLE="20")
    stored = run([str(SYSTEM), "-I", str(SHIM), *STORE], env, project)
    assert stored.returncode == 0, stored.stderr
    found = run([str(SYSTEM), "-I", str(SHIM), "auto", "--query", "what was decided"], env, project)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["context_chunks"][0]["id"] == json.loads(stored.stdout)["id"]
    if daemon == "auto":
        from amber.daemon import client

        assert client.stop(client.address(env) or "")


@pytest.mark.parametrize("daemon", ["off", "auto"])
def test_a_projects_own_modules_do_not_shadow_amber_s_dependencies(
    home: Path, tmp_path: Path, daemon
) -> None:
    """An agent's project with modules named like amber's dependencies, on PYTHONPATH and in
    the folder the calls (and the daemon they start) run from."""
    project = tmp_path / "shadowing-project"
    project.mkdir()
    for name in ("yaml", "typer", "numpy", "pydantic"):
        (project / f"{name}.py").write_text("raise ImportError('the project shadows me')\n")
    env = dict(clean_env(home), AMBER_DAEMON=daemon, AMBER_DAEMON_IDLE="20")
    env["PYTHONPATH"] = str(project)
    stored = run([str(SYSTEM), str(SHIM), *STORE], env, project)
    assert stored.returncode == 0, stored.stderr
    found = run([str(SYSTEM), str(SHIM), "auto", "--query", "what was decided"], env, project)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["context_chunks"][0]["id"] == json.loads(stored.stdout)["id"]
    if daemon == "auto":
        from amber.daemon import client

        assert client.stop(client.address(env) or "")


def test_a_shim_with_no_amber_anywhere_says_how_to_install(home: Path, tmp_path: Path) -> None:
    alone = tmp_path / "stray" / "execution"
    alone.mkdir(parents=True)
    shutil.copy(SHIM, alone / "memory_manager.py")
    env = clean_env(home)
    env.pop("AMBER_PYTHON", None)
    for argv in (STORE, ["auto", "--query", "x"]):
        proc = run([str(SYSTEM), "-I", str(alone / "memory_manager.py"), *argv], env, tmp_path)
        error = clean_failure(proc, 3)
        assert "install.py" in error["hint"] and "AMBER_PYTHON" in error["hint"]


def test_an_interpreter_without_the_dependencies_is_exit_3(home: Path, tmp_path: Path) -> None:
    """AMBER_PYTHON naming a python that lacks amber's packages: exit 3 naming the module."""
    env = dict(clean_env(home), AMBER_PYTHON=str(SYSTEM))
    proc = run([str(SYSTEM), "-I", str(SHIM), "auto", "--query", "x"], env, tmp_path)
    error = clean_failure(proc, 3)
    assert "cannot import" in error["message"] and "install.py" in error["hint"]


@pytest.mark.parametrize("where", ["under-a-file", "uncreatable"])
def test_an_unusable_data_folder_is_exit_3(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = blocker / "home" if where == "under-a-file" else Path("/proc/amber-cannot-exist")
    for daemon in ("off", "auto"):
        env = dict(clean_env(bad), AMBER_DAEMON=daemon)
        for argv in (STORE, ["auto", "--query", "x"]):
            proc = run([str(SYSTEM), "-I", str(SHIM), *argv], env, tmp_path)
            error = clean_failure(proc, 3)
            assert str(bad) in error["message"] and "AMBER_HOME" in error["hint"]
