"""Errors that services raise when input breaks a rule. Views show ``message`` to the user."""


class DomainError(Exception):
    """A rule was broken; nothing was written. ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing does not exist, or the person may not know that it does."""


class Forbidden(DomainError):
    """The person is known and the thing exists, but the action is not theirs to take."""
