"""This installation's identity (models/installation.py), made on first use."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.db import insert_if_absent
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
    insert_if_absent(db, Installation, id=1, uid_domain=f"{secrets.token_hex(8)}.renkei")
    # Ours, or another process's made first, which stands.
    found = db.scalar(select(Installation.uid_domain).where(Installation.id == 1))
    assert found is not None
    return found
