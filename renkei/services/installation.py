"""This installation's identity (models/installation.py), made on first use."""

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from renkei.models import Installation


def uid_domain(db: Session) -> str:
    """The domain of every calendar UID: ``<random>.renkei``, the same for the life of the
    database (read once per database session)."""
    cached = db.info.get("uid_domain")
    if cached is None:
        cached = db.scalar(select(Installation.uid_domain).where(Installation.id == 1))
        if cached is None:
            cached = _make(db)
        db.info["uid_domain"] = cached
    return cached


def _make(db: Session) -> str:
    """The row, if no migration made it (a database built from the models in tests)."""
    made = f"{secrets.token_hex(8)}.renkei"
    try:
        with db.begin_nested():
            db.add(Installation(id=1, uid_domain=made))
    except IntegrityError:  # another process made it first: theirs stands
        found = db.scalar(select(Installation.uid_domain).where(Installation.id == 1))
        assert found is not None
        return found
    return made
