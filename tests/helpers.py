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
