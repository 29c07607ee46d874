"""`python -m amber` runs the CLI."""

from amber.cli import main

main()
