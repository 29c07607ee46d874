"""The shared model cache and the early model load of fresh CLI processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from amber.embedders import preload
from amber.embedders.builtin import BuiltinEmbedder
from amber.entry import _locate
from amber.settings import load_settings
from tests.conftest import clean_env


class CountingEmbedder(BuiltinEmbedder):
    """The real builtin embedder, counting how often it is constructed; fails when told to."""

    made = 0
    fail_next = False

    def __init__(self, cache_dir: Path | None = None) -> None:
        type(self).made += 1
        if type(self).fail_next:
            type(self).fail_next = False
            raise RuntimeError("model file unreadable")
        super().__init__(cache_dir=cache_dir)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingEmbedder]:
    import amber.embedders.builtin as builtin

    monkeypatch.setattr(builtin, "BuiltinEmbedder", CountingEmbedder)
    monkeypatch.setattr(preload, "_models", {})
    CountingEmbedder.made, CountingEmbedder.fail_next = 0, False
    return CountingEmbedder


def test_threads_asking_at_once_share_one_load(
    counting: type[CountingEmbedder], tmp_path: Path
) -> None:
    got: list[object] = []
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait()
        got.append(preload.builtin_model(tmp_path))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counting.made == 1
    assert len(got) == 4 and all(m is got[0] for m in got)
    assert got[0].embed_query("hello").shape == (384,)


def test_a_failed_load_reaches_the_caller_and_the_next_call_retries(
    counting: type[CountingEmbedder], tmp_path: Path
) -> None:
    counting.fail_next = True
    with pytest.raises(RuntimeError, match="model file unreadable"):
        preload.builtin_model(tmp_path)
    model = preload.builtin_model(tmp_path)
    assert counting.made == 2
    assert model.embed_query("hello").shape == (384,)


def test_early_start_loads_the_model_for_commands_that_embed(
    counting: type[CountingEmbedder], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in clean_env(home).items():
        monkeypatch.setenv(key, value)
    preload.start(["list"], _locate)
    preload.finish()
    assert counting.made == 0
    preload.start(["auto", "--query", "how do we retry jobs"], _locate)
    preload.finish()
    assert counting.made == 1
    cache_dir = load_settings().cache_dir
    assert preload.builtin_future(cache_dir).done()
    preload.builtin_model(cache_dir)
    assert counting.made == 1  # the command's own call found the early load


def test_early_load_with_a_bad_setting_leaves_the_report_to_the_command(
    home: Path, tmp_path: Path
) -> None:
    env = dict(clean_env(home), AMBER_DAEMON="off", AMBER_FUSION="nope")
    proc = subprocess.run(
        [sys.executable, "-m", "amber", "auto", "--query", "how do we retry jobs"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "AMBER_FUSION" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
