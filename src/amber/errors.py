"""The error hierarchy; each error carries its exit code and a message that says how to fix it."""

from __future__ import annotations


class AmberError(Exception):
    """Base of every error amber raises on purpose."""

    exit_code = 4
    kind = "internal_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str]:
        data = {"error": self.kind, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        return data


class InvalidInput(AmberError):
    exit_code = 2
    kind = "invalid_input"


class NotFound(AmberError):
    exit_code = 1
    kind = "not_found"


class BackendUnavailable(AmberError):
    exit_code = 3
    kind = "backend_unavailable"


class StoreLocked(BackendUnavailable):
    kind = "store_locked"


class StoreCorrupt(BackendUnavailable):
    kind = "store_corrupt"


class EmbedderMismatch(AmberError):
    exit_code = 2
    kind = "embedder_mismatch"


class Reported(AmberError):
    """An error another process (the daemon) reported: its kind, exit code, message and hint."""

    def __init__(self, kind: str, exit_code: int, message: str, hint: str | None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.exit_code = exit_code
