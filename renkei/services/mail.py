"""E-mail about sessions: invitations, change and cancellation notices, and reminders.

Queueing and delivering are two steps. ``queue_session_mail`` (and ``queue_series_mail``,
``send_reminders``) builds one whole RFC 5322 message per recipient — a Japanese subject and
plain-text body with the iCalendar file from ``calendar`` attached — and stores it as a
``MailMessage`` row in the caller's transaction, so a session and the news of it are saved
together. ``deliver`` sends the stored messages afterwards, over one SMTP connection, or
writes them to the outbox folder when no SMTP server is configured.

Nothing is sent twice: every message has a unique ``dedupe_key`` (asking again for the same
version of a session queues nothing), and a worker claims a message with a conditional
UPDATE before sending it, so two workers never send the same one.

Nothing confidential goes into a message: the agenda in the body is worked out by the policy
module exactly as for the attached calendar file (``policy.calendar_access``), and calendar
files never carry confidential content. No Flask request is used here; gettext needs an
application context, as elsewhere in the services, and messages are always written in
Japanese (``MAIL_LOCALE``), whatever language the secretary's browser uses.
"""

import contextlib
import hashlib
import logging
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer, selectinload

from renkei import textnorm
from renkei.db import rowcount, table_of, utcnow
from renkei.i18n import format_tokyo
from renkei.i18n import gettext as _
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
from renkei.services.dates import now_tokyo, today, tokyo_date, tokyo_day_bounds

log = logging.getLogger(__name__)

MAIL_LOCALE = "ja"
INVITE, UPDATE, CANCEL, REMINDER = "invite", "update", "cancel", "reminder"
SESSION_KINDS = (INVITE, UPDATE, CANCEL)
SERIES_KINDS = (INVITE, UPDATE)
DELIVERY_MODES = ("thread", "sync")
RETRYABLE = (MailStatus.PENDING, MailStatus.FAILED)
KEY_LENGTH = 200  # MailMessage.dedupe_key
ERROR_LENGTH = 1000


# --- Settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """How to deliver. ``host`` empty: no SMTP server, messages go to ``outbox`` as files."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout: float = 10.0
    sender: str = "renkei@localhost"
    outbox: Path = Path("outbox")
    delivery: str = "thread"  # or "sync"

    @property
    def uses_smtp(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str | Path) -> "MailSettings":
        """From the app's configuration (see ``renkei.config``)."""
        starttls = config.get("SMTP_STARTTLS") in (True, "1", 1)
        delivery = config.get("MAIL_DELIVERY") or ("sync" if config.get("TESTING") else "thread")
        if delivery not in DELIVERY_MODES:
            raise ValueError(f"MAIL_DELIVERY must be one of {DELIVERY_MODES}, not {delivery!r}")
        return cls(
            host=(config.get("SMTP_HOST") or "").strip(),
            port=int(config.get("SMTP_PORT") or (587 if starttls else 25)),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            starttls=starttls,
            timeout=float(config.get("SMTP_TIMEOUT") or 10),
            sender=config.get("MAIL_FROM") or default_sender(config.get("BASE_URL", "")),
            outbox=Path(instance_path) / "outbox",
            delivery=delivery,
        )


def default_sender(base_url: str) -> str:
    return f"renkei@{urlsplit(base_url).hostname or 'localhost'}"


# --- Results ------------------------------------------------------------------------------


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


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another worker, or no longer pending
    errors: dict[int, str] = field(default_factory=dict)  # message id -> error


@dataclass
class ReminderResult:
    sessions: int
    queued: QueueResult
    delivery: DeliveryResult


# --- Recipients ---------------------------------------------------------------------------


@dataclass
class _Addressee:
    recipient: calendar.Recipient
    answer: Answer | None = None


def valid_address(value: str | None) -> str | None:
    """The address if a mail header can carry it, else None."""
    value = (value or "").strip()
    if "@" not in value:
        return None
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError):
        return None
    return value


def _addressees(
    db: Session, session: MeetingSession, *, with_guests: bool = True
) -> tuple[list[_Addressee], list[str]]:
    """Every invitee, participant and guest with an address, each address once (a member of
    several of the session's bodies is one invitee); and the names of those without an
    address. Participants and guests are written to as non-members (public items only);
    like guests, they are invited to one occurrence, not to a series."""
    answers = {reply.person_id: reply.answer for reply in session.replies}
    found, missing, seen = [], [], set()
    people = [
        (i.person.name, i.person.email, i.person, True) for i in scheduling.invitees(db, session)
    ]
    others: list[tuple[str, str | None, Person | None, bool]] = []
    if with_guests:
        others += [(p.person.name, p.person.email, p.person, False) for p in session.participants]
        others += [(g.name, g.email, None, False) for g in session.guests]
    for name, email, person, is_member in people + others:
        address = valid_address(email)
        if address is None:
            missing.append(name)
            continue
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        answer = answers.get(person.id) if person is not None else None
        found.append(_Addressee(calendar.Recipient(name, address, person, is_member), answer))
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


# --- Composing ----------------------------------------------------------------------------


def _when(session: MeetingSession) -> str:
    if tokyo_date(session.start_at) == tokyo_date(session.end_at):
        return f"{format_tokyo(session.start_at)}–{format_tokyo(session.end_at, 'time')}"
    return f"{format_tokyo(session.start_at)} – {format_tokyo(session.end_at)}"


def _subject(kind: str, title: str, when: str) -> str:
    if kind == INVITE:
        subject = _("Invitation: %(title)s (%(when)s)", title=title, when=when)
    elif kind == UPDATE:
        subject = _("Changed: %(title)s (%(when)s)", title=title, when=when)
    elif kind == CANCEL:
        subject = _("Cancelled: %(title)s (%(when)s)", title=title, when=when)
    else:
        subject = _("Reminder: %(title)s (%(when)s)", title=title, when=when)
    return subject[:300]


def _intro(kind: str, *, series: bool = False) -> str:
    if series:
        if kind == INVITE:
            return _("You are invited to the following series of sessions.")
        return _("The following series of sessions has been changed. The new details are below.")
    if kind == INVITE:
        return _("You are invited to the following session.")
    if kind == UPDATE:
        return _("The following session has been changed. The new details are below.")
    if kind == CANCEL:
        return _("The following session has been cancelled.")
    return _("This is a reminder of the following session.")


def _line(label: str, value: str) -> str:
    return f"{label}: {value}"


def _facts(session: MeetingSession, *, with_time: bool = True) -> list[str]:
    """Title, time, how and where, bodies: what the session page shows everyone invited."""
    bodies = " / ".join(body.name for body in session.bodies)
    if session.is_joint:
        bodies += f"（{_('Joint session')}）"
    lines = [f"■ {session.title}"]
    if with_time:
        lines.append(_line(_("Date and time"), _when(session)))
    lines.append(_line(_("How it is held"), session.mode.label))
    if session.place:
        lines.append(_line(_("Place"), session.place))
    if session.online_url:
        lines.append(_line(_("Online meeting link"), session.online_url))
    lines.append(_line(_("Bodies served"), bodies))
    if session.presiding_person is not None:
        lines.append(_line(_("Presiding"), session.presiding_person.name))
    return lines


def _agenda(session: MeetingSession, recipient: calendar.Recipient) -> list[str]:
    """The agenda exactly as the attached calendar file carries it to this recipient."""
    lines = calendar.agenda_lines(session, recipient.is_member)
    return [_("Agenda"), *(f"  {line}" for line in lines)] if lines else []


def _page(session: MeetingSession, recipient: calendar.Recipient, base_url: str) -> list[str]:
    """The session page, for those who can log in to see it (guests cannot)."""
    person = recipient.person
    if person is None or not person.has_login:
        return []
    return [_line(_("Session page"), f"{base_url.rstrip('/')}/sessions/{session.id}")]


def _calendar_note(method: str, filename: str, *, series: bool = False) -> str:
    if method == "CANCEL":
        return _(
            "Open the attached file (%(file)s) to remove the session from your calendar.",
            file=filename,
        )
    if series:
        return _(
            "Open the attached file (%(file)s) to add these sessions to your calendar "
            "or update them there.",
            file=filename,
        )
    return _(
        "Open the attached file (%(file)s) to add the session to your calendar or update it there.",
        file=filename,
    )


def _body(greeting_name: str, intro: str, blocks: list[list[str]], note: str) -> str:
    parts = [_("Dear %(name)s,", name=greeting_name), intro]
    parts += ["\n".join(block) for block in blocks if block]
    parts += [note, "-- \nRenkei"] if note else ["-- \nRenkei"]
    return "\n\n".join(parts) + "\n"


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def _compose(
    *,
    subject: str,
    body: str,
    ics: bytes | None,
    method: str,
    filename: str,
    recipient: calendar.Recipient,
    organizer: Person | None,
    sender: str,
) -> bytes:
    message = EmailMessage(policy=SMTP_POLICY)
    # A header is one line. Text is normalised as it is stored (renkei.db); a row written
    # before that was may still hold a line break, which would make this message fail.
    line = textnorm.one_line
    message["Subject"] = line(subject)
    display = _("%(name)s via Renkei", name=line(organizer.name)) if organizer else "Renkei"
    message["From"] = Address(display_name=display, addr_spec=sender)
    message["To"] = Address(display_name=line(recipient.name), addr_spec=recipient.email)
    reply_to = valid_address(organizer.email) if organizer else None
    if reply_to and organizer:
        message["Reply-To"] = Address(display_name=line(organizer.name), addr_spec=reply_to)
    message["Date"] = format_datetime(now_tokyo())
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(body, charset="utf-8")
    if ics is None:
        return message.as_bytes()
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename=filename,
        params={"method": method, "charset": "UTF-8"},
    )
    return message.as_bytes()


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
    base_url: str,
    sender: str | None,
    only: set[str] | None = None,
) -> QueueResult:
    sender = sender or default_sender(base_url)
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
        subject = _subject(kind, session.title, format_tokyo(session.start_at))
        for addressee in addressees:
            key = keys[id(addressee)]
            if key in existing:
                result.already_queued += 1
                continue
            recipient = addressee.recipient
            ics = calendar.invite(
                session, recipient, organizer=organizer, answer=addressee.answer, base_url=base_url
            )
            body = _body(
                recipient.name,
                _intro(kind),
                [
                    _facts(session),
                    _agenda(session, recipient),
                    _page(session, recipient, base_url),
                ],
                _calendar_note(method, filename),
            )
            content = _compose(
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
    base_url: str,
    sender: str | None = None,
    only: set[str] | None = None,
) -> QueueResult:
    """Queue one message per invitee and guest with an address about ``session``.

    ``kind``: "invite" (a new session), "update" (time, place or status changed) or
    "cancel" (the session is cancelled; the file says METHOD:CANCEL). The same kind for the
    same version (SEQUENCE) of the session is queued once per address, however often this
    is called. ``only`` limits the recipients to these addresses (a guest added later).
    ``sender`` is the From address (default ``renkei@<host of base_url>``). Nothing is
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
        base_url=base_url,
        sender=sender,
        only=only,
    )


def queue_series_mail(
    db: Session,
    series: Series,
    *,
    organizer: Person | None,
    base_url: str,
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
    sender = sender or default_sender(base_url)
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
        subject = _subject(kind, first.title, format_tokyo(live[0].start_at))
        dates = [_("Sessions (%(n)d)", n=len(occurrences))]
        for occurrence in occurrences:
            line = f"  {_when(occurrence)}"
            if occurrence.status == Status.CANCELLED:
                line += f"（{_('Cancelled')}）"
            dates.append(line)
        facts = _facts(live[0], with_time=False)
        for addressee in addressees:
            key = keys[id(addressee)]
            if key in existing:
                result.already_queued += 1
                continue
            recipient = addressee.recipient
            ics = calendar.series_invite(
                series, recipient, organizer=organizer, answer=None, base_url=base_url
            )
            body = _body(
                recipient.name,
                _intro(kind, series=True),
                [facts, dates, _page(live[0], recipient, base_url)],
                _calendar_note("REQUEST", filename, series=True),
            )
            content = _compose(
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
                blocks=[_facts(session), [_line(_("Page"), notice.link)]],
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
    recipient = calendar.Recipient(person.name, address, person, True)
    content = _compose(
        subject=subject[:300],
        body=_body(person.name, intro, blocks, note),
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
    content = _compose(
        subject=subject[:300],
        body=body,
        ics=None,
        method="",
        filename="",
        recipient=calendar.Recipient("", address, None, False),
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


# --- Delivering ---------------------------------------------------------------------------


def _claim(db: Session, message_id: int) -> bool:
    """Take the message for sending; False if another worker has it or it is done."""
    table = table_of(MailMessage)
    claimed = db.execute(
        update(table)
        .where(table.c.id == message_id, table.c.status.in_(RETRYABLE))
        .values(status=MailStatus.SENDING)
    )
    db.commit()  # let other workers see the claim at once
    return rowcount(claimed) == 1


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reason)}"
            for address, (code, reason) in error.recipients.items()
        )[:ERROR_LENGTH]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"[:ERROR_LENGTH]
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Transport:
    """One SMTP connection for a batch (opened on the first message), or the outbox folder.

    If the server cannot be reached, every further message of the batch fails with the same
    error at once, rather than each waiting for its own timeout.
    """

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def send(self, message: MailMessage) -> None:
        if not self.settings.uses_smtp:
            self._write(message)
            return
        if self.unreachable:
            raise _Unreachable(self.unreachable)
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = _describe(error)
                raise
        try:
            self.smtp.sendmail(self.settings.sender, [message.to_address], message.content)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
        ):
            raise  # this message only: the connection goes on
        except (smtplib.SMTPException, OSError):
            self._drop()  # the next message tries a fresh connection
            raise

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _write(self, message: MailMessage) -> None:
        outbox = self.settings.outbox
        outbox.mkdir(parents=True, exist_ok=True)
        target = outbox / f"{message.id}-{message.kind}.eml"
        partial = target.with_suffix(".eml.partial")
        partial.write_bytes(message.content)
        os.replace(partial, target)

    def _drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self._drop()


class _Unreachable(Exception):
    pass


def deliver(
    db: Session, settings: MailSettings, ids: Iterable[int] | None = None
) -> DeliveryResult:
    """Send pending and failed messages (all, or those of ``ids``); commits per message.

    Each message is claimed first (pending/failed → sending, in one conditional UPDATE), so
    a message is sent by one worker only. A message the server refuses fails alone; the
    others go on over the same connection.
    """
    result = DeliveryResult()
    query = select(MailMessage.id).where(MailMessage.status.in_(RETRYABLE))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return result
        query = query.where(MailMessage.id.in_(ids))
    candidates = list(db.scalars(query.order_by(MailMessage.id)))
    transport = _Transport(settings)
    try:
        for message_id in candidates:
            if not _claim(db, message_id):
                result.skipped += 1
                continue
            message = db.get(MailMessage, message_id, populate_existing=True)
            if message is None:  # its session was deleted meanwhile
                result.skipped += 1
                continue
            message.attempts = (message.attempts or 0) + 1
            try:
                transport.send(message)
            except (smtplib.SMTPException, OSError, _Unreachable) as error:
                message.status = MailStatus.FAILED
                message.error = str(error) if isinstance(error, _Unreachable) else _describe(error)
                result.failed += 1
                result.errors[message.id] = message.error
                log.warning(
                    "mail %s to %s failed: %s", message.id, message.to_address, message.error
                )
            else:
                message.status = MailStatus.SENT
                message.sent_at = utcnow()
                message.error = ""
                result.sent += 1
            db.commit()
    finally:
        transport.close()
    return result


# --- Reminders ----------------------------------------------------------------------------


def _creator(session: MeetingSession) -> Person | None:
    """Who scheduled the session: the organizer of its invitations."""
    return next((c.person for c in session.changes if c.kind == "created"), None)


def send_reminders(
    db: Session, settings: MailSettings, *, days: int, base_url: str
) -> ReminderResult:
    """Remind the invitees of every session (not cancelled) that starts on the Tokyo date
    ``days`` from today, once per session, address and date; then deliver what is pending."""
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
                base_url=base_url,
                sender=settings.sender,
            )
        )
    db.commit()
    return ReminderResult(len(sessions), queued, deliver(db, settings))


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
