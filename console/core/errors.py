"""User-facing failures carry a Simplified Chinese message and, where known, the field."""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can act on; ``message`` is shown as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}：{self.message}" if self.field else self.message


class ValidationFailed(UserError):
    """Input that breaks a rule; ``field`` names the offending field."""


class AuthenticationFailed(UserError):
    """Login refused: wrong credentials, locked, disabled or expired session."""


class Forbidden(UserError):
    """The actor lacks the permission for this object and action."""


class NotFound(UserError):
    """The requested object does not exist in the actor's scope."""


class SettingsError(UserError):
    """A ``BDC_*`` environment variable holds a value the console cannot use."""
