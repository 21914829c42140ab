"""The mail backlog the secretariat is told of while the mail server is out: how many
messages wait, since when, and when sending was last tried.

Shown (``Backlog.shown``) only once a message has failed for now: messages that are merely
queued go out in a moment and are no outage. Permanently refused ones are not counted: they
wait for nobody (the session page lists them with the server's answer)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from renkei.models import MailMessage, MailStatus
from renkei.services.mail.delivery import UNSENT


@dataclass(frozen=True)
class Backlog:
    waiting: int = 0  # not sent yet (pending, failing for now, or being sent)
    failing: int = 0  # of which have failed and wait for a retry
    since: datetime | None = None  # when the oldest waiting one was queued
    last_attempt: datetime | None = None

    @property
    def shown(self) -> bool:
        return self.failing > 0


def of_messages(messages: Iterable[MailMessage]) -> Backlog:
    """The backlog among messages already loaded (the session page's): no query."""
    waiting = [m for m in messages if m.status in UNSENT and not m.refused]
    attempts = [m.claimed_at for m in waiting if m.claimed_at is not None]
    return Backlog(
        waiting=len(waiting),
        failing=sum(m.status == MailStatus.FAILED for m in waiting),
        since=min((m.created_at for m in waiting), default=None),
        last_attempt=max(attempts, default=None),
    )


def of_sessions(db: Session, session_ids: Select[tuple[int]] | None) -> Backlog:
    """The backlog among the messages about the given sessions (None: all messages, the
    administrators'), in one query."""
    failing = case((MailMessage.status == MailStatus.FAILED, 1), else_=0)
    query = select(
        func.count(MailMessage.id),
        func.coalesce(func.sum(failing), 0),
        func.min(MailMessage.created_at),
        func.max(MailMessage.claimed_at),
    ).where(MailMessage.status.in_(UNSENT), ~MailMessage.refused)
    if session_ids is not None:
        query = query.where(MailMessage.session_id.in_(session_ids))
    waiting, failed, since, last = db.execute(query).one()
    return Backlog(int(waiting), int(failed), since, last)
