"""The default project scope: the name of the git repository a command runs in."""

from __future__ import annotations

from pathlib import Path


def git_project(start: Path) -> str:
    """Name of the enclosing git work tree (its top folder), or "" outside any repository."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder.name
    return ""
