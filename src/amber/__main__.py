"""`python -m amber` runs the CLI (through a running daemon when there is one)."""

from amber.entry import main

main()
