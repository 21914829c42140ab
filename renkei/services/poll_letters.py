"""Printed answer letters for a date poll (日程調整のお願い): one A4 letter for each person
asked who has no login, with a personal link of their own to answer on (and the candidate
slots, to answer on paper or by telephone instead).

A personal link's token is kept only as a hash (``polls.issue_link``): a letter can be
printed only by issuing a new link, so every printing issues one per letter. The links
printed before stay valid, as those of a reminder do, until the poll is decided or its
deadline passes.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from renkei.db import utcnow
from renkei.i18n import lazy_gettext as _l
from renkei.links import Links
from renkei.models import Person, Poll, PollInvitee
from renkei.services import letters, policy, polls
from renkei.services.dates import tokyo_date
from renkei.services.errors import DomainError, Forbidden


@dataclass(frozen=True)
class Letter:
    person: Person
    organisation: str
    link: str  # the personal answer link, printed in full


def without_login(poll: Poll) -> list[PollInvitee]:
    """Those asked who cannot log in to answer on the poll's page, by kana."""
    rows = [i for i in poll.invitees if not i.person.has_login]
    return sorted(rows, key=lambda i: (i.person.kana or i.person.name, i.person_id))


def issue(
    db: Session,
    poll: Poll,
    *,
    by: Person,
    links: Links,
    unanswered_only: bool = False,
    now: datetime | None = None,
) -> list[Letter]:
    """A letter with a new personal link for each person asked without a login (with
    ``unanswered_only``, for those of them who have not answered yet)."""
    if not policy.poll_access(db, by, poll).can_manage:
        raise Forbidden(_l("Only the secretariat of every body of the poll may print its letters."))
    if not poll.accepts_answers(now or utcnow()):
        raise DomainError(_l("This poll no longer takes answers: there is no letter to print."))
    rows = [r for r in without_login(poll) if not (unanswered_only and r.answered_at)]
    found = []
    for row in rows:
        person = row.person
        token = polls.issue_link(db, poll, person)
        organisation = person.organisation.name if person.organisation else ""
        found.append(Letter(person, organisation, links.poll_answer(token)))
    db.flush()
    return found


def host(poll: Poll) -> letters.Host:
    """Who sends the letters: the poll's host body, its chair and secretariat today."""
    return letters.host_of(poll.host_body, tokyo_date(utcnow()))
