"""Queueing e-mail: one ``MailMessage`` row per recipient, in the caller's transaction, so a
change and the news of it are saved together; ``delivery`` sends the rows afterwards.

Nothing is queued twice: every message has a unique ``dedupe_key``. Who a session convenes
(``addressees``) is worked out here; the convening and change notices with their calendar
files are ``services.notices``'; the reminders and plain notices are here.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from renkei.i18n import gettext as _
from renkei.links import Links
from renkei.models import (
    Answer,
    MailMessage,
    MailStatus,
    MeetingSession,
    Person,
    SessionChange,
    Status,
)
from renkei.services import calendar, scheduling
from renkei.services.dates import today, tokyo_day_bounds
from renkei.services.mail import compose
from renkei.services.mail.compose import (
    MAIL_LOCALE,
    REMINDER,
    valid_address,
)

KEY_LENGTH = 200  # MailMessage.dedupe_key


@dataclass
class QueueResult:
    """What a queueing call did: the messages it added, and whom it could not write to."""

    messages: list[MailMessage] = field(default_factory=list)
    without_address: list[str] = field(default_factory=list)  # names
    already_queued: int = 0  # recipients skipped because the same message exists

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.messages]

    @property
    def recipients(self) -> list[str]:
        """Names of those who got a message, each once."""
        seen, names = set(), []
        for message in self.messages:
            if message.to_address not in seen:
                seen.add(message.to_address)
                names.append(message.recipient_name)
        return names

    def merge(self, other: "QueueResult") -> "QueueResult":
        self.messages += other.messages
        self.without_address += [n for n in other.without_address if n not in self.without_address]
        self.already_queued += other.already_queued
        return self


# --- Recipients ---------------------------------------------------------------------------


@dataclass
class Addressee:
    recipient: calendar.Recipient
    answer: Answer | None = None


def addressees(
    db: Session, session: MeetingSession, *, organizer: str = ""
) -> tuple[list[Addressee], list[str]]:
    """Everyone the session convenes — members, participants and guests — with a usable
    address, each address once (a member of several of its bodies is one invitee), and the
    names of those without one. The organizing side is not sent its own invitation: the
    secretariat (members of the session's bodies as 事務局 only, whose office is the
    ORGANIZER) and the ORGANIZER's address itself (``organizer``)."""
    answers = {reply.person_id: reply.answer for reply in session.replies}
    people: list[tuple[str, str | None, Person | None]] = [
        (i.person.name, i.person.email, i.person)
        for i in scheduling.invitees(db, session)
        if not i.is_secretariat_only
    ]
    people += [(p.person.name, p.person.email, p.person) for p in session.participants]
    people += [(g.name, g.email, None) for g in session.guests]
    found, missing, seen = [], [], {organizer.lower()}
    for name, email, person in people:
        address = valid_address(email)
        if address is None:
            missing.append(name)
            continue
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        answer = answers.get(person.id) if person is not None else None
        found.append(Addressee(calendar.Recipient(name, address, person), answer))
    return found, missing


def existing_keys(db: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    return set(db.scalars(select(MailMessage.dedupe_key).where(MailMessage.dedupe_key.in_(keys))))


@dataclass
class Notice:
    """A plain message about a session to one person, with no calendar file: the minutes
    workflow's requests and answers. Its text must hold nothing confidential."""

    person: Person
    kind: str
    key: str  # unique per message: the same notice is queued once
    subject: str
    intro: str
    link: str  # the page to open in Renkei


def queue_notices(
    db: Session,
    session: MeetingSession,
    notices: list[Notice],
    *,
    organizer: Person | None,
    sender: str,
) -> QueueResult:
    """Queue each notice to its person's address (those without one are reported)."""
    result = QueueResult()
    existing = existing_keys(db, [n.key for n in notices])
    with force_locale(MAIL_LOCALE):
        for notice in notices:
            address = valid_address(notice.person.email)
            if address is None:
                result.without_address.append(notice.person.name)
                continue
            if notice.key in existing:
                result.already_queued += 1
                continue
            row = plain_message(
                notice.person,
                address,
                kind=notice.kind,
                key=notice.key,
                subject=str(notice.subject),
                intro=str(notice.intro),
                blocks=[compose.facts(session), [compose.line(_("Page"), notice.link)]],
                organizer=organizer,
                sender=sender,
                session=session,
            )
            db.add(row)
            result.messages.append(row)
    db.flush()
    return result


def plain_message(
    person: Person,
    address: str,
    *,
    kind: str,
    key: str,
    subject: str,
    intro: str,
    blocks: list[list[str]],
    note: str = "",
    organizer: Person | None,
    sender: str,
    session: MeetingSession | None = None,
) -> MailMessage:
    """One pending message without a calendar file, to ``person`` at ``address``; the caller
    writes the texts (in MAIL_LOCALE) and adds the row to the database."""
    recipient = calendar.Recipient(person.name, address, person)
    content = compose.message(
        subject=subject[:300],
        body=compose.body(person.name, intro, blocks, note),
        ics=None,
        method="",
        filename="",
        recipient=recipient,
        organizer=organizer,
        sender=sender,
    )
    message = _pending(address, kind=kind, key=key, subject=subject, content=content)
    message.session, message.person = session, person
    message.recipient_name = person.name[:100]
    return message


def address_message(
    address: str, *, kind: str, key: str, subject: str, body: str, sender: str
) -> MailMessage:
    """One pending message to an address that belongs to no person (an operator's archive
    mailbox, for the audit log's anchors), without a calendar file; the caller writes the
    texts (in MAIL_LOCALE) and adds the row to the database."""
    content = compose.message(
        subject=subject[:300],
        body=body,
        ics=None,
        method="",
        filename="",
        recipient=calendar.Recipient("", address),
        organizer=None,
        sender=sender,
    )
    return _pending(address, kind=kind, key=key, subject=subject, content=content)


def _pending(address: str, *, kind: str, key: str, subject: str, content: bytes) -> MailMessage:
    return MailMessage(
        recipient_name="",
        to_address=address,
        kind=kind,
        subject=subject[:300],
        content=content,
        dedupe_key=key[:KEY_LENGTH],
        status=MailStatus.PENDING,
        attempts=0,
        error="",
    )


# --- Reminders ----------------------------------------------------------------------------


def _creator(session: MeetingSession) -> Person | None:
    """Who scheduled the session: whose name its reminders go out in."""
    return next((c.person for c in session.changes if c.kind == "created"), None)


def queue_reminders(
    db: Session, *, days: int, links: Links, sender: str
) -> tuple[int, QueueResult]:
    """Queue a reminder to those convened to every convened session that starts on the
    Tokyo date ``days`` from today, once per session, address and date. A reminder carries
    no calendar file: the calendar is the convening and change notices' to keep. Returns the
    number of those sessions and what was queued; nothing is committed or sent."""
    day = today() + timedelta(days=days)
    start, end = tokyo_day_bounds(day)
    sessions = db.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.start_at >= start,
            MeetingSession.start_at < end,
            MeetingSession.status == Status.CONVENED,
        )
        .options(
            selectinload(MeetingSession.bodies),
            selectinload(MeetingSession.items),
            selectinload(MeetingSession.guests),
            selectinload(MeetingSession.replies),
            selectinload(MeetingSession.changes).selectinload(SessionChange.person),
        )
        .order_by(MeetingSession.start_at, MeetingSession.id)
    ).all()
    queued = QueueResult()
    with force_locale(MAIL_LOCALE):
        for session in sessions:
            queued.merge(_reminders(db, session, day.isoformat(), links=links, sender=sender))
    db.flush()
    return len(sessions), queued


def _reminders(
    db: Session, session: MeetingSession, day: str, *, links: Links, sender: str
) -> QueueResult:
    found, missing = addressees(db, session)
    result = QueueResult(without_address=missing)
    keys = {
        a.recipient.email: _key(f"{REMINDER}:{session.id}:{day}", a.recipient.email) for a in found
    }
    existing = existing_keys(db, keys.values())
    subject = compose.subject(REMINDER, session.title, compose.when(session))
    for addressee in found:
        recipient = addressee.recipient
        key = keys[recipient.email]
        if key in existing:
            result.already_queued += 1
            continue
        body = compose.body(
            recipient.name,
            compose.intro(REMINDER),
            [
                compose.facts(session),
                compose.agenda(session),
                compose.page(session, recipient, links),
            ],
            "",
        )
        content = compose.message(
            subject=subject,
            body=body,
            ics=None,
            method="",
            filename="",
            recipient=recipient,
            organizer=_creator(session),
            sender=sender,
        )
        message = _pending(
            recipient.email, kind=REMINDER, key=key, subject=subject, content=content
        )
        message.session, message.person = session, recipient.person
        message.recipient_name = recipient.name[:100]
        db.add(message)
        result.messages.append(message)
    return result


def _key(prefix: str, address: str) -> str:
    key = f"{prefix}:{address.lower()}"
    if len(key) > KEY_LENGTH:  # a very long address: keep the key unique and short
        key = f"{prefix}:sha256-{hashlib.sha256(address.lower().encode()).hexdigest()}"
    return key


# --- Reading ------------------------------------------------------------------------------


def session_messages(db: Session, session: MeetingSession) -> list[MailMessage]:
    """The messages about a session (and about its series as a whole), without content."""
    condition = MailMessage.session_id == session.id
    if session.series_id is not None:
        condition = condition | MailMessage.dedupe_key.like(f"series-{session.series_id}:%")
    return list(
        db.scalars(
            select(MailMessage)
            .where(condition)
            .options(defer(MailMessage.content))
            .order_by(MailMessage.id)
        )
    )
