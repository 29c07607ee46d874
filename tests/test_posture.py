"""Security posture: private files, API keys never echoed, no pickle, eval or shell."""

from __future__ import annotations

import re
import stat
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "amber"


def test_data_folder_is_private(cli, home: Path) -> None:
    assert cli("store", "--content", "private by default").code == 0
    assert cli("cache-store", "--query", "q about privacy", "--response", "r").code == 0
    seen = 0
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, f"{path} is {oct(mode)}"
        else:
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
        seen += 1
    assert seen > 10  # the engine's segment and WAL files were checked too


def test_qdrant_api_key_is_never_echoed(cli, monkeypatch) -> None:
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("QDRANT_API_KEY", "k3y-that-must-not-leak")
    res = cli("health")
    assert res.code == 3
    assert "k3y-that-must-not-leak" not in res.stdout + res.stderr
    assert "127.0.0.1:9" in res.error["message"]


def test_no_pickle_eval_or_shell_in_the_package() -> None:
    banned = re.compile(r"\bpickle\b|\beval\(|\bexec\(|shell=True|os\.system\(")
    offenders = [
        f"{path.name}:{n}"
        for path in SRC.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if banned.search(line)
    ]
    assert offenders == []
