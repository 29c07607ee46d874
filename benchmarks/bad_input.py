"""The bad-input matrix (tests/bad_input_cases.py), run and counted: each row must end in exit 2
with a message that says what is allowed, no traceback, and the store unchanged.

    .venv/bin/python benchmarks/bad_input.py [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bad_input_cases import CASES, SETTINGS, prepare  # noqa: E402


def call(argv: list[str]) -> tuple[int, str, str]:
    from amber.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def snapshot() -> list[str]:
    code, out, _ = call(["list", "--history", "--all-projects", "--limit", "1000", "--json"])
    return [] if code == 1 else sorted(m["id"] for m in json.loads(out)["memories"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON document")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=Path.home()) as scratch:
        work = Path(scratch) / "work"
        work.mkdir()
        os.chdir(work)
        for key in [k for k in os.environ if k.startswith(("AMBER_", "QDRANT_", "OLLAMA_"))]:
            del os.environ[key]
        os.environ.update(
            AMBER_HOME=str(Path(scratch) / "home"),
            AMBER_EMBEDDER="builtin",
            AMBER_DAEMON="off",
            OLLAMA_HOST="http://127.0.0.1:9",
        )
        prepare(work)
        assert call(["store", "--content", "seed memory that must survive"])[0] == 0
        before = snapshot()
        rows = []
        for kind, case_argv, needle in CASES:
            code, _out, err = call(case_argv)
            message = err.strip().splitlines()[-1] if err.strip() else ""
            rows.append(
                {
                    "kind": kind,
                    "exit": code,
                    "says_what_is_allowed": needle in message,
                    "traceback": "Traceback" in err,
                    "store_unchanged": snapshot() == before,
                }
            )
        for name, value in SETTINGS:
            os.environ[name] = value
            code, _out, err = call(["auto", "--query", "anything"])
            del os.environ[name]
            rows.append(
                {
                    "kind": f"setting {name}={value}",
                    "exit": code,
                    "says_what_is_allowed": name in err,
                    "traceback": "Traceback" in err,
                    "store_unchanged": snapshot() == before,
                }
            )
    good = [
        r
        for r in rows
        if r["exit"] == 2
        and r["says_what_is_allowed"]
        and not r["traceback"]
        and r["store_unchanged"]
    ]
    summary = {"rows": len(rows), "exit_2_with_fix": len(good), "failing": len(rows) - len(good)}
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
    else:
        for r in rows:
            mark = "ok " if r in good else "BAD"
            print(f"{mark} exit {r['exit']}  {r['kind']}")
        print(
            f"\n{summary['rows']} bad inputs: {summary['exit_2_with_fix']} answered exit 2 with a "
            f"message naming what is allowed, no traceback, store unchanged; "
            f"{summary['failing']} not"
        )
    return 0 if not summary["failing"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
