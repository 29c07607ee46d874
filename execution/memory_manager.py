#!/usr/bin/env python3
"""Agent-contract shim: `python3 execution/memory_manager.py auto|store|...` runs the amber CLI.

Works from any working directory: it puts this checkout's src/ on the path when amber is not
installed, then hands its arguments to the CLI unchanged.
"""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from amber.client import main  # noqa: E402

if __name__ == "__main__":
    main()
