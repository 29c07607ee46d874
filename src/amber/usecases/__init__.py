"""amber's operations, shared by every front end (CLI, MCP server, daemon) and its public
Python API: typed arguments in, validated once, a JSON-ready document out."""

from amber.usecases import data, memory, routing  # noqa: F401 - they register the operations
from amber.usecases.api import Amber, call, exit_code
from amber.usecases.registry import OPERATIONS, Context, Operation

__all__ = ["OPERATIONS", "Amber", "Context", "Operation", "call", "exit_code"]
