"""Errors that services raise when input breaks a rule. Views show ``message`` to the user."""

from types import TracebackType


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


class DomainErrors(DomainError):
    """Several rules broken at once, each error for its own field: a form shows them all
    together rather than one per attempt. Its own message and field are the first one's."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


def each_error(error: DomainError) -> list[DomainError]:
    """The errors ``error`` stands for: its own, or each of a ``DomainErrors``."""
    return list(error.errors) if isinstance(error, DomainErrors) else [error]


class Checks:
    """Independent checks run one after another, their errors kept and raised together::

        checks = Checks()
        with checks:
            check_title(data)
        with checks:
            check_times(data)
        checks.done()

    A ``NotFound`` is not kept: the thing asked about does not exist, nothing else matters.
    """

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def __enter__(self) -> "Checks":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> bool:
        if error is None or not isinstance(error, DomainError) or isinstance(error, NotFound):
            return False
        self.errors.extend(each_error(error))
        return True

    def done(self) -> None:
        """Raise what the checks found: the one error, or ``DomainErrors`` for several."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise DomainErrors(self.errors)
