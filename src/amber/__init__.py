"""amber: local-first memory and skill runtime for AI coding agents.

`from amber import Amber` gives the Python API (amber.usecases.api); importing the package
itself stays light, so the standard-library daemon client can live inside it.
"""

__version__ = "0.2.0"
SCHEMA_VERSION = "amber/1"


def __getattr__(name: str) -> object:
    if name == "Amber":
        from amber.usecases import Amber

        return Amber
    raise AttributeError(f"module 'amber' has no attribute {name!r}")
