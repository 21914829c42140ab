"""Backups of the database, for `flask --app renkei backup DEST`.

SQLite: a consistent copy taken with SQLite's online backup API while the app keeps running.
The copy is read in one step inside one read transaction, so it is the database as it stood
at one moment: a writer's transaction that is still open is not in it, one committed before
is (also when it is only in the write-ahead log). The copy is written to a temporary file in
the destination's folder (readable by its owner only: it holds confidential content),
checked with ``PRAGMA integrity_check`` and renamed into place only when complete, so a
half-written backup never carries the backup's name.

PostgreSQL: Renkei does not copy it itself; ``pg_dump`` does that properly. The functions
here give the exact ``pg_dump`` and ``pg_restore`` commands, without the password.

No Flask request here: the functions take the database URL and the destination.
"""

import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy.engine import make_url

from renkei.i18n import lazy_gettext as _l
from renkei.services.dates import TOKYO
from renkei.services.disk import is_disk_full

SQLITE_SUFFIX = ".sqlite3"
POSTGRESQL_SUFFIX = ".dump"


class BackupError(Exception):
    """A backup that could not be made; the message says why, for the person running it."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int  # bytes


@dataclass(frozen=True)
class PostgresqlCommands:
    path: Path
    dump: str
    restore: str


def backend(database_url: str) -> str:
    """``sqlite``, ``postgresql``, or another SQLAlchemy backend name."""
    return make_url(database_url).get_backend_name()


def backup_name(now: datetime | None = None, suffix: str = SQLITE_SUFFIX) -> str:
    """``renkei-YYYYMMDD-HHMMSS.sqlite3`` in Tokyo time."""
    moment = (now or datetime.now(TOKYO)).astimezone(TOKYO)
    return f"renkei-{moment:%Y%m%d-%H%M%S}{suffix}"


def destination_path(
    destination: str | os.PathLike[str], now: datetime | None = None, suffix: str = SQLITE_SUFFIX
) -> Path:
    """The file to write: ``destination`` itself, or a dated name inside it when it is a
    folder (an existing one, or a path written with a trailing slash)."""
    text = os.fspath(destination)
    path = Path(text).expanduser()
    if path.is_dir() or text.endswith(("/", os.sep)):
        path = path / backup_name(now, suffix)
    return path.absolute()


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"not a SQLite database: {url.render_as_string()}")
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"cannot back up this SQLite database: {url.render_as_string()}")
    return Path(url.database).expanduser().absolute()


def backup_sqlite(
    database_url: str,
    destination: str | os.PathLike[str],
    *,
    force: bool = False,
    now: datetime | None = None,
) -> Backup:
    """Copy the SQLite database to ``destination`` (a file, or a folder to put a dated file
    in) while others may be reading and writing it. An existing file is replaced only with
    ``force``. Raises BackupError."""
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"database file not found: {source}")
    target = destination_path(destination, now)
    if not target.parent.is_dir():
        raise BackupError(f"folder not found: {target.parent}")
    if target.resolve() == source.resolve():
        raise BackupError(f"the backup would overwrite the database itself: {target}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; give --force to overwrite it")

    try:
        _write(source, target, force=force)
    except (OSError, sqlite3.Error) as error:
        if not is_disk_full(error):
            raise
        raise BackupError(
            _l(
                "The backup could not be written because the disk of %(folder)s is full. "
                "Nothing was left behind; free some space and run it again.",
                folder=str(target.parent),
            )
        ) from error
    return Backup(target, target.stat().st_size)


def _write(source: Path, target: Path, *, force: bool) -> None:
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        _copy(source, temporary)
        _put_in_place(temporary, target, force=force)
    finally:
        temporary.unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> None:
    # mode=rw: a missing database is an error, never silently created empty.
    reader = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        writer = sqlite3.connect(target)
        try:
            # pages=-1: everything in one step, from one snapshot of the database.
            reader.backup(writer, pages=-1)
            # One self-contained file, whatever mode the running database uses.
            writer.execute("PRAGMA journal_mode=DELETE")
            result = writer.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                problems = "; ".join(row[0] for row in result[:5])
                raise BackupError(f"the copy failed its integrity check: {problems}")
        finally:
            writer.close()
    finally:
        reader.close()
    with open(target, "rb+") as copy:
        os.fsync(copy.fileno())


def _put_in_place(temporary: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(temporary, target)
    else:
        # A link fails if the name was taken meanwhile; rename would replace it silently.
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise BackupError(f"{target} exists; give --force to overwrite it") from None
        except OSError:  # a file system without hard links
            if target.exists():
                raise BackupError(f"{target} exists; give --force to overwrite it") from None
            os.replace(temporary, target)
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (not possible on every system; best effort)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def libpq_url(database_url: str) -> str:
    """The database URL as pg_dump and pg_restore take it: no SQLAlchemy driver name, no
    password (give it in ~/.pgpass or PGPASSWORD)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"not a PostgreSQL database: {url.render_as_string()}")
    userinfo = f"{quote(url.username, safe='')}@" if url.username else ""
    host = url.host or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{url.port}" if url.port else ""
    database = f"/{quote(url.database, safe='')}" if url.database else ""
    pairs = [
        (key, value)
        for key, values in url.query.items()
        if key.lower() != "password"
        for value in ((values,) if isinstance(values, str) else values)
    ]
    query = f"?{urlencode(pairs, quote_via=quote)}" if pairs else ""
    return f"postgresql://{userinfo}{host}{port}{database}{query}"


def postgresql_commands(
    database_url: str, destination: str | os.PathLike[str], *, now: datetime | None = None
) -> PostgresqlCommands:
    """The pg_dump command (a shell line) that writes a backup to ``destination`` (a file,
    or a folder for a dated ``renkei-YYYYMMDD-HHMMSS.dump``), and the pg_restore command that
    loads it back into the same database, replacing what is there."""
    url = shlex.quote(libpq_url(database_url))
    path = destination_path(destination, now, POSTGRESQL_SUFFIX)
    file = shlex.quote(str(path))
    # pg_dump writes its file as it goes: on a full disk it would leave a truncated dump under
    # the backup's name. Written under a temporary name, renamed only when complete, removed
    # when not (and the status stays a failure, for cron).
    partial = shlex.quote(f"{path}.partial")
    return PostgresqlCommands(
        path=path,
        dump=(
            f"pg_dump --format=custom --file={partial} {url} && mv {partial} {file} "
            f"|| {{ rm -f {partial}; false; }}"
        ),
        restore=f"pg_restore --clean --if-exists --no-owner --dbname={url} {file}",
    )
