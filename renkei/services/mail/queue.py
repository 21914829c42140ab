"""Queueing e-mail: one ``MailMessage`` row per recipient, in the caller's transaction, so a
session and the news of it are saved together; ``delivery`` sends the rows afterwards.

Nothing is queued twice: every message has a unique ``dedupe_key`` (asking again for the
same version of a session queues nothing). The addressees are the session's invitees and
guests, each address once.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from renkei.i18n import format_tokyo
from renkei.i18n import gettext as _
from renkei.links import Links
from renkei.models import (
    Answer,
    MailMessage,
    MailStatus,
    MeetingSession,
    Person,
    Series,
    SessionChange,
    Status,
)
from renkei.services import calendar, scheduling
from renkei.services.dates import today, tokyo_day_bounds
from renkei.services.mail import compose
from renkei.services.mail.compose import (
    CANCEL,
    INVITE,
    MAIL_LOCALE,
    REMINDER,
    UPDATE,
    default_sender,
    valid_address,
)

SESSION_KINDS = (INVITE, UPDATE, CANCEL)
SERIES_KINDS = (INVITE, UPDATE)
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
class _Addressee:
    recipient: calendar.Recipient
    answer: Answer | None = None


def _addressees(
    db: Session, session: MeetingSession, *, with_guests: bool = True
) -> tuple[list[_Addressee], list[str]]:
    """Every invitee, participant and guest with an address, each address once (a member of
    several of the session's bodies is one invitee); and the names of those without an
    address. Participants, like guests, are invited to one occurrence, not to a series."""
    answers = {reply.person_id: reply.answer for reply in session.replies}
    found, missing, seen = [], [], set()
    people = [(i.person.name, i.person.email, i.person) for i in scheduling.invitees(db, session)]
    others: list[tuple[str, str | None, Person | None]] = []
    if with_guests:
        others += [(p.person.name, p.person.email, p.person) for p in session.participants]
        others += [(g.name, g.email, None) for g in session.guests]
    for name, email, person in people + others:
        address = valid_address(email)
        if address is None:
            missing.append(name)
            continue
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        answer = answers.get(person.id) if person is not None else None
        found.append(_Addressee(calendar.Recipient(name, address, person), answer))
    return found, missing


def _key(prefix: str, address: str) -> str:
    key = f"{prefix}:{address.lower()}"
    if len(key) > KEY_LENGTH:  # a very long address: keep the key unique and short
        key = f"{prefix}:sha256-{hashlib.sha256(address.lower().encode()).hexdigest()}"
    return key


def existing_keys(db: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    return set(db.scalars(select(MailMessage.dedupe_key).where(MailMessage.dedupe_key.in_(keys))))


def _add_message(
    db: Session,
    result: "QueueResult",
    session: MeetingSession,
    addressee: _Addressee,
    kind: str,
    key: str,
    subject: str,
    content: bytes,
) -> None:
    """Add one pending message to the outgoing rows and to ``result``."""
    recipient = addressee.recipient
    row = MailMessage(
        session=session,
        person=recipient.person,
        recipient_name=recipient.name[:100],
        to_address=recipient.email,
        kind=kind,
        subject=subject,
        content=content,
        dedupe_key=key,
        status=MailStatus.PENDING,
        attempts=0,
        error="",
    )
    db.add(row)
    result.messages.append(row)


# --- Queueing -----------------------------------------------------------------------------


def _queue(
    db: Session,
    session: MeetingSession,
    kind: str,
    key_prefix: str,
    *,
    organizer: Person | None,
    links: Links,
    sender: str | None,
    only: set[str] | None = None,
) -> QueueResult:
    sender = sender or default_sender(links.base_url)
    addressees, missing = _addressees(db, session)
    if only is not None:
        wanted = {address.lower() for address in only}
        addressees = [a for a in addressees if a.recipient.email.lower() in wanted]
        missing = []
    keys = {id(a): _key(key_prefix, a.recipient.email) for a in addressees}
    existing = existing_keys(db, keys.values())
    result = QueueResult(without_address=missing)
    cancelled = session.status == Status.CANCELLED
    method, filename = ("CANCEL", "cancel.ics") if cancelled else ("REQUEST", "invite.ics")
    with force_locale(MAIL_LOCALE):
        subject = compose.subject(kind, session.title, format_tokyo(session.start_at))
        agenda = compose.agenda(session)  # the same for everyone: public titles only
        for addressee in addressees:
            key = keys[id(addressee)]
            if key in existing:
                result.already_queued += 1
                continue
            recipient = addressee.recipient
            ics = calendar.invite(
                session, recipient, organizer=organizer, answer=addressee.answer, links=links
            )
            body = compose.body(
                recipient.name,
                compose.intro(kind),
                [
                    compose.facts(session),
                    agenda,
                    compose.page(session, recipient, links),
                ],
                compose.calendar_note(method, filename),
            )
            content = compose.message(
                subject=subject,
                body=body,
                ics=ics,
                method=method,
                filename=filename,
                recipient=recipient,
                organizer=organizer,
                sender=sender,
            )
            _add_message(db, result, session, addressee, kind, key, subject, content)
    db.flush()
    return result


def queue_session_mail(
    db: Session,
    session: MeetingSession,
    kind: str,
    *,
    organizer: Person | None,
    links: Links,
    sender: str | None = None,
    only: set[str] | None = None,
) -> QueueResult:
    """Queue one message per invitee and guest with an address about ``session``.

    ``kind``: "invite" (a new session), "update" (time, place or status changed) or
    "cancel" (the session is cancelled; the file says METHOD:CANCEL). The same kind for the
    same version (SEQUENCE) of the session is queued once per address, however often this
    is called. ``only`` limits the recipients to these addresses (a guest added later).
    ``sender`` is the From address (default ``renkei@<host of BASE_URL>``). Nothing is
    committed or sent.
    """
    if kind not in SESSION_KINDS:
        raise ValueError(f"unknown kind of session mail: {kind!r}")
    if (kind == CANCEL) != (session.status == Status.CANCELLED):
        raise ValueError(f"cannot send {kind!r} about a session whose status is {session.status}")
    return _queue(
        db,
        session,
        kind,
        f"{kind}:{session.id}:{session.sequence}",
        organizer=organizer,
        links=links,
        sender=sender,
        only=only,
    )


def queue_series_mail(
    db: Session,
    series: Series,
    *,
    organizer: Person | None,
    links: Links,
    kind: str = INVITE,
    sender: str | None = None,
) -> QueueResult:
    """Queue one message per invitee with the whole series in one calendar file.

    Invitees are those of the series' first occurrence (guests are invited per
    occurrence, not to a series). The message belongs to the first occurrence's page. Queued
    once per series, kind, highest SEQUENCE of its occurrences and address.
    """
    if kind not in SERIES_KINDS:
        raise ValueError(f"unknown kind of series mail: {kind!r}")
    sender = sender or default_sender(links.base_url)
    occurrences = sorted(series.sessions, key=lambda s: (s.original_start, s.id))
    if not occurrences:
        return QueueResult()
    first = occurrences[0]
    live = [s for s in occurrences if s.status != Status.CANCELLED] or occurrences
    sequence = max(s.sequence for s in occurrences)
    addressees, missing = _addressees(db, live[0], with_guests=False)
    prefix = f"series-{series.id}:{kind}:{sequence}"
    keys = {id(a): _key(prefix, a.recipient.email) for a in addressees}
    existing = existing_keys(db, keys.values())
    result = QueueResult(without_address=missing)
    filename = "invite.ics"
    with force_locale(MAIL_LOCALE):
        subject = compose.subject(kind, first.title, format_tokyo(live[0].start_at))
        dates = [_("Sessions (%(n)d)", n=len(occurrences))]
        for occurrence in occurrences:
            line = f"  {compose.when(occurrence)}"
            if occurrence.status == Status.CANCELLED:
                line += f"（{_('Cancelled')}）"
            dates.append(line)
        facts = compose.facts(live[0], with_time=False)
        for addressee in addressees:
            key = keys[id(addressee)]
            if key in existing:
                result.already_queued += 1
                continue
            recipient = addressee.recipient
            ics = calendar.series_invite(
                series, recipient, organizer=organizer, answer=None, links=links
            )
            body = compose.body(
                recipient.name,
                compose.intro(kind, series=True),
                [facts, dates, compose.page(live[0], recipient, links)],
                compose.calendar_note("REQUEST", filename, series=True),
            )
            content = compose.message(
                subject=subject,
                body=body,
                ics=ics,
                method="REQUEST",
                filename=filename,
                recipient=recipient,
                organizer=organizer,
                sender=sender,
            )
            _add_message(db, result, first, addressee, kind, key, subject, content)
    db.flush()
    return result


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
    """Who scheduled the session: the organizer of its invitations."""
    return next((c.person for c in session.changes if c.kind == "created"), None)


def queue_reminders(
    db: Session, *, days: int, links: Links, sender: str
) -> tuple[int, QueueResult]:
    """Queue a reminder to the invitees of every session (not cancelled) that starts on the
    Tokyo date ``days`` from today, once per session, address and date. Returns the number
    of those sessions and what was queued; nothing is committed or sent."""
    day = today() + timedelta(days=days)
    start, end = tokyo_day_bounds(day)
    sessions = db.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.start_at >= start,
            MeetingSession.start_at < end,
            MeetingSession.status != Status.CANCELLED,
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
    for session in sessions:
        queued.merge(
            _queue(
                db,
                session,
                REMINDER,
                f"{REMINDER}:{session.id}:{day.isoformat()}",
                organizer=_creator(session),
                links=links,
                sender=sender,
            )
        )
    return len(sessions), queued


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
