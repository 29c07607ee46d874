"""The default project scope: the git repository a command runs in, named so that two different
repositories never share a scope even when their folders have the same name.

The scope is `<folder>#<8 hex>`: the folder name for people, and a digest of the repository's
identity, which is its `origin` remote (so two clones of one repository share their memories)
or, without a remote, the real path of its top folder. Outside any repository the scope is ""
(memories shared by every project). Scopes of older amber versions were the bare folder name;
those memories stay reachable with an explicit `--project <folder>`.
"""

from __future__ import annotations

import configparser
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Repository:
    root: Path  # the work tree's top folder
    identity: str  # normalised origin URL, or the root's real path

    @property
    def scope(self) -> str:
        digest = hashlib.sha256(self.identity.encode("utf-8")).hexdigest()[:8]
        return f"{self.root.name}#{digest}"


def find_repository(start: Path) -> Repository | None:
    """The git work tree enclosing `start`, or None."""
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.exists():
            remote = _origin(_common_dir(dot_git))
            return Repository(folder, remote or str(folder.resolve()))
    return None


def default_scope(start: Path) -> str:
    repo = find_repository(start)
    return repo.scope if repo else ""


def _common_dir(dot_git: Path) -> Path | None:
    """The folder holding the repository's config: `.git`, or for a worktree or submodule the
    folder its `.git` file points to (and that folder's `commondir`)."""
    if dot_git.is_dir():
        return dot_git
    try:
        line = dot_git.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    gitdir = Path(line.removeprefix("gitdir:").strip())
    gitdir = gitdir if gitdir.is_absolute() else (dot_git.parent / gitdir)
    common = gitdir / "commondir"
    if common.is_file():
        try:
            target = Path(common.read_text(encoding="utf-8").strip())
        except OSError:
            return gitdir
        return target if target.is_absolute() else (gitdir / target)
    return gitdir


def _origin(git_dir: Path | None) -> str | None:
    if git_dir is None:
        return None
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(git_dir / "config", encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    section = 'remote "origin"'
    if not parser.has_option(section, "url"):
        return None
    return normalise_remote(parser.get(section, "url"))


def normalise_remote(url: str) -> str:
    """One spelling per repository: no scheme, credentials, port or `.git`; scp-style
    `git@host:owner/name` and `https://host/owner/name` agree; host lower-cased."""
    text = url.strip()
    has_scheme = re.match(r"^[a-z][a-z0-9+.\-]*://", text, flags=re.I) is not None
    text = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", text, flags=re.I)
    text = re.sub(r"^[^@/]*@", "", text)  # user or user:password
    if not has_scheme and ":" in text.split("/")[0]:  # scp-style host:owner/name
        host, _, path = text.partition(":")
    else:
        host, _, path = text.partition("/")
    host = host.split(":")[0].lower()
    path = path.strip("/").removesuffix(".git")
    return f"{host}/{path}"
