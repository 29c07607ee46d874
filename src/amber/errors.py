"""The error hierarchy; each error carries its exit code and a message that says how to fix it."""

from __future__ import annotations


class AmberError(Exception):
    """Base of every error amber raises on purpose."""

    exit_code = 4
    kind = "internal_error"
    default_hint = "report this to amber with $AMBER_HOME/amber.log"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint  # every error says what to do next

    def to_dict(self) -> dict[str, str]:
        """The error as front ends show it, with any secret a bad value carried redacted (an
        error often quotes what it refused: `unknown type 'password=…'`)."""
        from amber.redact import redact

        return {
            "error": self.kind,
            "message": redact(self.message).text,
            "hint": redact(self.hint).text,
        }


class InvalidInput(AmberError):
    exit_code = 2
    kind = "invalid_input"
    default_hint = "nothing was changed; the command's --help says what each option takes"


class NotFound(AmberError):
    exit_code = 1
    kind = "not_found"
    default_hint = "`amber list` shows what is stored"


class BackendUnavailable(AmberError):
    exit_code = 3
    kind = "backend_unavailable"
    default_hint = "`amber health` says what is unreachable"


class StoreLocked(BackendUnavailable):
    kind = "store_locked"


class StoreCorrupt(BackendUnavailable):
    kind = "store_corrupt"


class EmbedderMismatch(AmberError):
    exit_code = 2
    kind = "embedder_mismatch"
    default_hint = "`amber health` shows the pinned embedder; `amber reindex --embedder` moves it"


class Reported(AmberError):
    """An error another process (the daemon) reported: its kind, exit code, message and hint."""

    default_hint = "the daemon's log ($AMBER_HOME/daemon.log) has the call"

    def __init__(self, kind: str, exit_code: int, message: str, hint: str | None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.exit_code = exit_code
