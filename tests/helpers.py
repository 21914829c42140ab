"""Small helpers for tests: find rows by name, count rows, count SQL statements."""

from contextlib import contextmanager

from sqlalchemy import event, func, select

from renkei.models import Body, Person


def body_named(db, name: str) -> Body:
    return db.scalar(select(Body).where(Body.name == name))


def person_by_email(db, email: str) -> Person:
    return db.scalar(select(Person).where(Person.email == email))


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


@contextmanager
def counting(engine):
    """Collect the SQL statements the engine runs inside the block."""
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def statements_with(engine, part: str):
    """Collect the statements holding ``part`` that the engine runs inside the block, each
    with its parameters (to be explained again)."""
    found: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if part in statement:
            found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)
