#!/usr/bin/env python3
"""Install amber into a virtual environment of its own: `python3 install.py`.

Standard library only, so it runs on any python3 >= 3.10, including a system Python that
refuses `pip install` (PEP 668: Debian, Ubuntu, Fedora). It creates `.venv` beside this file
(or the folder given with --venv), installs amber there with its development tools, and
prints what to run next. The `execution/` scripts and `amber init` find that interpreter.

    python3 install.py              # amber + test tools into ./.venv
    python3 install.py --no-dev     # amber alone
    python3 install.py --venv DIR   # somewhere else (remembered in DIR, found by the shims)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MINIMUM = (3, 10)
VENV_HINT = {
    "debian": "sudo apt install python3-venv",
    "fedora": "sudo dnf install python3-virtualenv",
}


def fail(message: str, hint: str, code: int = 3) -> None:
    sys.stderr.write(json.dumps({"error": "install_failed", "message": message, "hint": hint}))
    sys.stderr.write("\n")
    sys.exit(code)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_venv(venv: Path) -> Path:
    python = venv_python(venv)
    if python.exists():
        return python
    print(f"creating the virtual environment {venv}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0 or not python.exists():
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        fail(
            f"{sys.executable} could not create a virtual environment: "
            f"{detail[-1] if detail else 'no reason given'}",
            f"install the venv module ({VENV_HINT['debian']} on Debian and Ubuntu, "
            f"{VENV_HINT['fedora']} on Fedora), then run python3 install.py again",
        )
    return python


def pip_install(python: Path, dev: bool) -> None:
    target = f"{ROOT}[dev]" if dev else str(ROOT)
    print(f"installing amber{' and its test tools' if dev else ''} into {python.parent.parent}")
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-e", target]
    if subprocess.run(command, check=False).returncode != 0:
        fail(
            "pip could not install amber into the virtual environment (see pip's output above)",
            "check the network to PyPI, then run python3 install.py again",
        )


def precompile(python: Path) -> None:
    """Byte-compile amber's sources now: an agent's every call starts an interpreter, and one
    that may not write bytecode (PYTHONDONTWRITEBYTECODE, a read-only checkout) would compile
    them on each call (about 60 ms of a fresh `auto`)."""
    command = [str(python), "-m", "compileall", "-q", str(ROOT / "src" / "amber")]
    if subprocess.run(command, check=False).returncode != 0:
        fail(
            "python could not byte-compile amber's sources (see the output above)",
            "check that the checkout is complete (git status), then run python3 install.py again",
        )


def remember(venv: Path, python: Path) -> None:
    """A venv outside the checkout is recorded where the shims look: <checkout>/.amber-python."""
    if venv.resolve() != (ROOT / ".venv").resolve():
        record = ROOT / ".amber-python"
        record.write_text(f"{python}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="default: ./.venv")
    parser.add_argument("--no-dev", action="store_true", help="leave out pytest, ruff, hypothesis")
    args = parser.parse_args()
    if sys.version_info < MINIMUM:
        fail(
            f"amber needs Python {MINIMUM[0]}.{MINIMUM[1]} or newer; this is "
            f"{sys.version.split()[0]}",
            "run install.py with a newer python3",
            code=2,
        )
    venv = args.venv.expanduser().absolute()
    python = make_venv(venv)
    pip_install(python, dev=not args.no_dev)
    precompile(python)
    remember(venv, python)
    print(
        f"\namber is installed in {venv}.\n"
        f"  run the tests:        {python} -m pytest\n"
        f"  use it from a shell:  {venv / 'bin' / 'amber'} --help\n"
        f"  in an agent's project: {venv / 'bin' / 'amber'} init PROJECT_DIR"
    )


if __name__ == "__main__":
    main()
