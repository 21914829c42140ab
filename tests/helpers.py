"""Small helpers for tests: find rows by name, count rows."""

from sqlalchemy import func, select

from renkei.models import Body, Person


def body_named(db, name: str) -> Body:
    return db.scalar(select(Body).where(Body.name == name))


def person_by_email(db, email: str) -> Person:
    return db.scalar(select(Person).where(Person.email == email))


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))
