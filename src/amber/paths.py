"""Where amber keeps its files, from an environment mapping. Standard library and plain
strings only (no pathlib): the daemon client resolves the same folders as the settings on
every forwarded call, where each millisecond of import counts."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:  # annotations only: importing collections costs every shim call ~1.6 ms
    from collections.abc import Mapping


def _xdg(env: Mapping[str, str], name: str, fallback: str) -> str:
    value = env.get(name, "")
    # The XDG spec: a relative path in these variables is invalid and must be ignored.
    if value and os.path.isabs(value):
        return value
    return os.path.join(env.get("HOME") or os.path.expanduser("~"), fallback)


def _absolute(value: str) -> str:
    """`~` expanded; a relative path is left relative (the settings refuse it, so the store
    never depends on the folder a call runs in)."""
    expanded = os.path.expanduser(value)
    return os.path.abspath(expanded) if os.path.isabs(expanded) else expanded


def data_home(env: Mapping[str, str]) -> str:
    """$AMBER_HOME when set, else $XDG_DATA_HOME/amber, else ~/.local/share/amber (absolute).
    A set but empty AMBER_HOME is returned empty, for the settings to refuse: falling back to
    the default would put the store somewhere the caller did not ask for."""
    if "AMBER_HOME" in env:
        return _absolute(env["AMBER_HOME"])
    return os.path.join(_xdg(env, "XDG_DATA_HOME", ".local/share"), "amber")


def cache_home(env: Mapping[str, str]) -> str:
    """$AMBER_CACHE_DIR when set (empty stays empty), else $XDG_CACHE_HOME/amber, else
    ~/.cache/amber: derived files only."""
    if "AMBER_CACHE_DIR" in env:
        return _absolute(env["AMBER_CACHE_DIR"])
    return os.path.join(_xdg(env, "XDG_CACHE_HOME", ".cache"), "amber")


def replace_private(path: str, data: bytes) -> None:
    """Replace the file at `path` with `data` atomically (a reader sees the old file or the
    new one, never half), readable by the user alone. The temporary file is named for this
    process and thread, so threads of one daemon writing the same file never share it."""
    import threading

    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
