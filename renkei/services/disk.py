"""A full disk, recognised wherever it surfaces: a file write (ENOSPC, EDQUOT), SQLite
(SQLITE_FULL, "database or disk is full") or PostgreSQL (SQLSTATE 53100, disk_full).

The callers turn it into one clear sentence for the person (``DISK_FULL``) instead of an
error page that says nothing; what they were writing is left out whole (temporary files
removed, the transaction rolled back).
"""

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from renkei.i18n import lazy_gettext as _l
from renkei.services.errors import DomainError

DISK_FULL = _l(
    "Nothing could be saved because the server's disk is full. Please contact the administrator."
)
_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # SQLITE_FULL: sqlite3 names it only from Python 3.11 on
_PG_DISK_FULL = "53100"


def is_disk_full(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it: SQLAlchemy wraps the driver's) is a full disk."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if _full(error):
            return True
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return False


def _full(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in _ERRNOS
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL or (
            "database or disk is full" in str(error)
        )
    return getattr(error, "sqlstate", None) == _PG_DISK_FULL


@contextmanager
def refused_when_full(field: str | None = None) -> Iterator[None]:
    """Turn a full disk met inside the block into a ``DomainError`` for ``field``; any
    other error goes on unchanged."""
    try:
        yield
    except Exception as error:
        if is_disk_full(error):
            raise DomainError(DISK_FULL, field) from error
        raise
