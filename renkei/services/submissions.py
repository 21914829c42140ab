"""One-time form tokens: what a create form already led to (models/submissions.py).

A token is recorded in the transaction of the create, so it exists exactly when the
create does. Nothing here commits."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from renkei.db import utcnow
from renkei.models import FormSubmission

# A form is posted twice within seconds (a double click) or, at most, after coming back to
# a page left open: a few days is plenty, and keeps the table small.
KEEP = timedelta(days=3)


def result_of(db: Session, person_id: int, token: str) -> str | None:
    """Where the form with ``token`` led when ``person_id`` sent it; None if it has not."""
    return db.scalar(
        select(FormSubmission.result_url).where(
            FormSubmission.person_id == person_id, FormSubmission.token == token
        )
    )


def record(
    db: Session, person_id: int, token: str, result_url: str, now: datetime | None = None
) -> None:
    """Remember that the form led to ``result_url``, and forget tokens past keeping (one
    indexed delete: creates are few). A second request with the same token fails here, on
    the primary key, if it raced the first."""
    now = now or utcnow()
    db.execute(delete(FormSubmission).where(FormSubmission.created_at < now - KEEP))
    db.add(FormSubmission(person_id=person_id, token=token, result_url=result_url, created_at=now))
    db.flush()
