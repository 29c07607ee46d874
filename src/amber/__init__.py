"""amber: local-first memory and skill runtime for AI coding agents."""

__version__ = "0.1.0"
SCHEMA_VERSION = "amber/1"
