"""Database engine and the per-request SQLAlchemy session.

Renkei uses plain SQLAlchemy 2.0. Services receive a ``Session`` as their first argument;
views get the request's session from ``get_db()``.
"""

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    DateTime,
    Enum,
    Integer,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    literal_column,
    make_url,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, class_mapper, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from renkei import textnorm

# Where a session carries the audit key (``Session.info``): the services that seal the audit
# log read it from the session they are given, so none can write an entry without it.
AUDIT_KEY_INFO = "renkei.audit_key"


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware.

    SQLite keeps no zone, so storing naive UTC everywhere gives the same values on SQLite
    and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def enum_type(enum_class) -> Enum:
    """Store a StrEnum by its value in a plain string column, and load it back as the enum."""
    return Enum(
        enum_class,
        native_enum=False,
        length=40,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def table_of(model: type[Base]) -> Table:
    """The table a model maps, for Core statements (SQLAlchemy types ``__table__`` as any
    FromClause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def rowcount(result: object) -> int:
    """The rows an UPDATE or DELETE matched. ``Session.execute`` is typed as returning any
    Result; a DML statement gives a CursorResult, which counts them."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} has no row count")
    return result.rowcount


def insert_new(db: Session, model: type[Base], rows: list[dict[str, object]]) -> None:
    """Insert ``rows``, leaving out any whose key another request has just inserted (two
    requests storing the same thing at once): no error, so the transaction goes on and
    PostgreSQL's log shows none."""
    db.execute(_insert_or_nothing(db, model), rows)


def insert_if_absent(db: Session, model: type[Base], **values: object) -> bool:
    """Insert one row unless a row with its key is there (or is being inserted by another
    transaction, which this one waits for): whether this one inserted it. The loser of a
    race to make a row once (a counter, a head, the installation's) reads the winner's,
    with no error, no savepoint and nothing in PostgreSQL's log."""
    # RETURNING tells on both databases alike (the row count of this INSERT said 0 on
    # PostgreSQL for a row it had made).
    statement = _insert_or_nothing(db, model).values(**values).returning(literal_column("1"))
    return db.execute(statement).first() is not None


def _insert_or_nothing(db: Session, model: type[Base]) -> Any:
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table_of(model)).on_conflict_do_nothing()


class unindexed_on_sqlite(FunctionElement[int]):  # noqa: N801  (used as a function)
    """An integer column that SQLite must test on the rows it reads rather than look up in
    its index (``column + 0``, which hides the index from SQLite's planner); other
    databases get the bare column, so that theirs may use the index when it pays."""

    type = Integer()
    name = "unindexed_on_sqlite"
    inherit_cache = True


@compiles(unindexed_on_sqlite)
def _bare(element: unindexed_on_sqlite, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed_on_sqlite, "sqlite")
def _plus_zero(element: unindexed_on_sqlite, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} + 0)"


def utcnow() -> datetime:
    return datetime.now(UTC)


# Seconds a new PostgreSQL connection may take: a database host that drops packets makes a
# request (and a load balancer's /healthz probe) fail in this time rather than hang.
CONNECT_TIMEOUT = 5


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # pre_ping: a pooled connection that PostgreSQL closed (a restart, a terminated
        # backend) is found out and replaced when a request takes it, instead of failing it.
        timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
        engine = create_engine(url, pool_pre_ping=True, connect_args=timeout)
        event.listen(engine, "connect", _postgresql_settings)
        return engine
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _postgresql_settings(dbapi_connection, _record):
    """Each PostgreSQL connection plans with the values it is given, and compiles nothing.

    psycopg prepares a statement run five times on a connection, and after five more
    PostgreSQL may plan it once for any values (a generic plan): one plan for every
    viewer's bodies and every searched word, which made a search four times slower from its
    eleventh run in a worker on. JIT compilation pays for queries that run for seconds;
    Renkei's run for milliseconds, but a city search was estimated dear enough to be
    compiled, 110 of its 250 ms (bench/RESULTS.md, "Search: where the time goes")."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
        cursor.execute("SET jit = off")
    dbapi_connection.commit()  # a SET rolled back with its transaction would not hold


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["renkei.engine"] = engine
    app.extensions["renkei.sessionmaker"] = sessionmaker(
        bind=engine,
        expire_on_commit=False,
        info={AUDIT_KEY_INFO: app.config.get("AUDIT_KEY") or ""},
    )
    app.teardown_appcontext(_close_session)


def get_db() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["renkei.sessionmaker"]()
    return g.db_session


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


# --- Text written to the database ---------------------------------------------------------


@cache
def _text_columns(cls: type) -> tuple[tuple[str, Callable[[str], str]], ...]:
    """The text attributes of a mapped class and how each is normalised: a Text column, or
    a String one marked ``info={"lines": True}``, keeps its lines; any other String column
    is one line. Enums are the app's own values."""
    found: list[tuple[str, Callable[[str], str]]] = []
    for prop in class_mapper(cls).column_attrs:
        column = prop.columns[0]
        if not isinstance(column.type, String) or isinstance(column.type, Enum):
            continue
        lines = isinstance(column.type, Text) or column.info.get("lines", False)
        found.append((prop.key, textnorm.multi_line if lines else textnorm.one_line))
    return tuple(found)


def normalise_text(obj: object, keys: Collection[str] | None = None) -> None:
    """Normalise the text attributes of ``obj`` (only those in ``keys``, when given)."""
    state = inspect(obj)
    # Typed as a bare `type`: mypy takes type[object] for unhashable (mypy issue 11470).
    cls: type = type(obj)
    for key, normalise in _text_columns(cls):
        if (keys is None or key in keys) and key in state.dict:
            value = state.dict[key]
            clean = normalise(value)
            if clean != value:
                setattr(obj, key, clean)


@event.listens_for(Session, "before_flush")
def _normalise_before_flush(session, _context, _instances) -> None:
    """Whatever wrote it (a form, an import, a command, a hand-read field), no text reaches
    the database with a control character where it would break a page, a mail header or a
    calendar line. Only the attributes changed since loading are looked at."""
    for obj in session.new:
        normalise_text(obj)
    for obj in session.dirty:
        changed = inspect(obj).committed_state
        if changed:
            normalise_text(obj, changed)
