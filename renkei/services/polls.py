"""Date polls (日程調整): ask a future session's invitees which candidate slots suit them,
show per slot whether each body would be quorate, and turn the chosen slot into a session.

Invitees are those of the session to be: each current member of the poll's bodies once
(``scheduling.invitees_of``), fixed when the poll is made. A member without a login answers
through a personal link; its token is kept only as a SHA-256 hash (as password-reset
tokens are) and works until the poll is decided or its deadline passes. Every change of
an answer is kept. Nothing here commits.
"""

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypedDict

from flask_babel import force_locale
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from renkei.db import rowcount, utcnow
from renkei.i18n import format_tokyo, labelled
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.links import Links
from renkei.models import (
    Body,
    Choice,
    MeetingSession,
    Membership,
    Person,
    Poll,
    PollAnswer,
    PollAnswerChange,
    PollInvitee,
    PollLink,
    PollSlot,
    PollStatus,
)
from renkei.models.polls import poll_bodies
from renkei.services import mail, policy, quorum, scheduling
from renkei.services.dates import holiday_name, today, tokyo_date, tokyo_day_bounds
from renkei.services.errors import Checks, DomainError, Forbidden
from renkei.services.logins import token_hash
from renkei.services.scheduling import SessionData

MAX_SLOTS = 20
TITLE_LENGTH = 200
COMMENT_LENGTH = 500  # PollInvitee.comment
MAX_TOKEN_LENGTH = 100  # anything longer is no token of ours: not even hashed
REQUEST, REMINDER = "poll", "poll-reminder"  # MailMessage.kind


@dataclass
class SlotData:
    start: datetime  # timezone-aware
    end: datetime
    # The slot's number as the person sees it (a form's row, empty rows counted: None is its
    # place among the slots), and the form field that shows what is wrong with it.
    number: int | None = None
    field: str = "slots"


@dataclass
class PollData:
    title: str
    body_ids: list[int]
    host_body_id: int | None
    slots: list[SlotData]
    deadline: date | None = None  # answers are taken until the end of this Tokyo day
    comment: str = ""


# --- Making a poll ------------------------------------------------------------------------


def validate(
    db: Session, data: PollData, *, by: Person, now: datetime, slots_read: bool = True
) -> list[Body]:
    """Raise DomainError for what is wrong, DomainErrors for several things at once (each
    slot's on its own field); return the poll's bodies. ``slots_read=False``: the form could
    not read some of its slots and says so itself, so having none is not said again."""
    checks = Checks()
    with checks:
        if not data.slots and slots_read:
            raise DomainError(_l("Give at least one candidate slot."), "slots")
        if len(data.slots) > MAX_SLOTS:
            raise DomainError(_l("Give at most %(max)d candidate slots.", max=MAX_SLOTS), "slots")
    seen = set()
    for place, slot in enumerate(data.slots, start=1):
        number = slot.number or place
        with checks:
            check_slot(slot, number, now)
            if (slot.start, slot.end) in seen:
                raise DomainError(_l("Slot %(n)d is given twice.", n=number), slot.field)
        seen.add((slot.start, slot.end))
    # The title, bodies, host and the secretary's right to schedule them are a session's;
    # its times are the slots', checked above.
    bodies: list[Body] = []
    first = data.slots[0] if data.slots else SlotData(now, now)
    with checks:
        bodies = scheduling.validate(db, _session_data(data, first), by=by, times=False)
    with checks:
        if len(data.title.strip()) > TITLE_LENGTH:
            raise DomainError(_l("Use at most %(max)d characters.", max=TITLE_LENGTH), "title")
    with checks:
        if data.deadline is not None and deadline_end(data.deadline) <= now:
            raise DomainError(_l("The deadline has already passed."), "deadline")
    checks.done()
    return bodies


def check_slot(slot: SlotData, number: int, now: datetime) -> None:
    if slot.end <= slot.start:
        raise DomainError(_l("Slot %(n)d must end after it starts.", n=number), slot.field)
    if slot.start <= now:
        raise DomainError(_l("Slot %(n)d is in the past.", n=number), slot.field)
    try:
        scheduling.check_times(SessionData("", [], None, slot.start, slot.end))
    except DomainError as error:
        raise DomainError(
            _l("Slot %(n)d: %(problem)s", n=number, problem=error.message), slot.field
        ) from None


def deadline_end(day: date) -> datetime:
    return tokyo_day_bounds(day)[1]


def _session_data(data: PollData, slot: SlotData) -> SessionData:
    return SessionData(
        title=data.title,
        body_ids=list(data.body_ids),
        host_body_id=data.host_body_id,
        start=slot.start,
        end=slot.end,
    )


def create_poll(db: Session, data: PollData, *, by: Person, now: datetime | None = None) -> Poll:
    """A poll with its slots and invitees (the members of its bodies on the first slot's
    day, each once)."""
    now = now or utcnow()
    bodies = validate(db, data, by=by, now=now)
    slots = sorted(data.slots, key=lambda s: (s.start, s.end))
    people = scheduling.invitees_of(db, bodies, tokyo_date(slots[0].start))
    if not people:
        raise DomainError(_l("The bodies chosen have no members to ask."), "body_ids")
    poll = Poll(
        title=data.title.strip(),
        comment=data.comment.strip(),
        host_body_id=data.host_body_id,
        deadline_at=deadline_end(data.deadline) if data.deadline else None,
        status=PollStatus.OPEN,
        created_by=by,
        bodies=bodies,
        slots=[PollSlot(start_at=s.start, end_at=s.end, chosen=False) for s in slots],
        invitees=[PollInvitee(person=i.person, comment="") for i in people],
    )
    db.add(poll)
    db.flush()
    return poll


def load(db: Session, poll_id: int) -> Poll | None:
    """The poll with what its pages need, in a fixed number of queries."""
    return db.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .options(
            selectinload(Poll.bodies),
            selectinload(Poll.slots),
            selectinload(Poll.invitees).selectinload(PollInvitee.person),
            selectinload(Poll.host_body),
            selectinload(Poll.session),
        )
    )


# --- Personal links -----------------------------------------------------------------------


class LinkRefused(Exception):
    """A personal link that does not work: ``status`` 404 (no such link) or 410 (the poll
    is decided or past its deadline)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def issue_link(db: Session, poll: Poll, person: Person) -> str:
    """A new personal link's token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.add(PollLink(poll=poll, person=person, token_hash=token_hash(token)))
    return token


def find_link(db: Session, token: str, now: datetime | None = None) -> PollLink:
    """The link for ``token``, if it still takes answers; else LinkRefused."""
    now = now or utcnow()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkRefused(404)
    link = db.scalar(select(PollLink).where(PollLink.token_hash == token_hash(token)))
    if link is None:
        raise LinkRefused(404)
    if not link.poll.accepts_answers(now):
        raise LinkRefused(410)
    return link


# --- Answering ----------------------------------------------------------------------------


def answer(
    db: Session,
    poll: Poll,
    person: Person,
    choices: Mapping[int, str],
    comment: str = "",
    *,
    by: Person | None,
    now: datetime | None = None,
) -> list[PollAnswerChange]:
    """``person`` answers every slot (slot id -> "yes", "maybe" or "no") for themself.
    ``by`` is who is logged in (None through the personal link). Returns the changes kept
    in the history."""
    now = now or utcnow()
    _check_open(poll, now)
    row = _invitee_row(db, poll, person)
    parsed = _parse_choices(poll, choices)
    if len(comment.strip()) > COMMENT_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=COMMENT_LENGTH), "comment")
    existing = {
        a.slot_id: a
        for a in db.scalars(
            select(PollAnswer).where(
                PollAnswer.poll_id == poll.id, PollAnswer.person_id == person.id
            )
        )
    }
    changes = []
    for slot in poll.slots:
        new, current = parsed[slot.id], existing.get(slot.id)
        old = current.choice if current is not None else None
        if old == new:
            continue
        if current is None:
            db.add(PollAnswer(poll_id=poll.id, slot_id=slot.id, person_id=person.id, choice=new))
        else:
            current.choice = new
        change = PollAnswerChange(
            poll_id=poll.id, slot=slot, person=person, by=by, at=now, old=old, new=new
        )
        db.add(change)
        changes.append(change)
    row.comment = comment.strip()
    row.answered_at = now
    db.flush()
    return changes


def answer_for(
    db: Session,
    poll: Poll,
    person_id: int | None,
    choices: Mapping[int, str],
    comment: str = "",
    *,
    by: Person,
    now: datetime | None = None,
) -> list[PollAnswerChange]:
    """The secretariat enters an invitee's answer heard by telephone or on paper (many
    members have neither a login nor an address). The history names who entered it."""
    if not policy.poll_access(db, by, poll).can_manage:
        raise Forbidden(_l("Only the secretariat of every body of the poll may enter answers."))
    invitee = next((i for i in poll.invitees if i.person_id == person_id), None)
    if invitee is None:
        raise DomainError(_l("Choose one of the people asked."), "person_id")
    return answer(db, poll, invitee.person, choices, comment, by=by, now=now)


def _check_open(poll: Poll, now: datetime) -> None:
    if not poll.is_open:
        raise DomainError(_l("This poll has been decided: answers can no longer be changed."))
    if not poll.accepts_answers(now):
        raise DomainError(_l("The deadline for answers has passed."))


def _invitee_row(db: Session, poll: Poll, person: Person) -> PollInvitee:
    row = db.scalar(
        select(PollInvitee).where(
            PollInvitee.poll_id == poll.id, PollInvitee.person_id == person.id
        )
    )
    if row is None:
        raise Forbidden(_l("You are not asked in this poll."))
    return row


def _parse_choices(poll: Poll, choices: Mapping[int, str]) -> dict[int, Choice]:
    slot_ids = {slot.id for slot in poll.slots}
    if set(choices) - slot_ids:
        raise DomainError(_l("This candidate slot is not part of the poll."), "slots")
    parsed = {}
    for slot_id in slot_ids:
        value = choices.get(slot_id)
        if not value:
            raise DomainError(_l("Answer every candidate slot."), "slots")
        try:
            parsed[slot_id] = Choice(value)
        except ValueError:
            raise DomainError(_l("Choose ○, △ or × for every candidate slot."), "slots") from None
    return parsed


def answers_of(db: Session, poll: Poll, person: Person) -> dict[int, Choice]:
    """The person's own answers: slot id -> choice."""
    rows = db.scalars(
        select(PollAnswer).where(PollAnswer.poll_id == poll.id, PollAnswer.person_id == person.id)
    )
    return {a.slot_id: a.choice for a in rows}


def history(db: Session, poll: Poll) -> list[PollAnswerChange]:
    return list(
        db.scalars(
            select(PollAnswerChange)
            .where(PollAnswerChange.poll_id == poll.id)
            .options(
                selectinload(PollAnswerChange.person),
                selectinload(PollAnswerChange.by),
                selectinload(PollAnswerChange.slot),
            )
            .order_by(PollAnswerChange.id.desc())
        )
    )


# --- The result table ---------------------------------------------------------------------


@dataclass
class Clash:
    other: MeetingSession | None  # None: a session the reader may not know of
    people: list[str]


@dataclass
class SlotResult:
    slot: PollSlot
    counts: Counter[Choice]
    quorum_yes: list[quorum.Quorum]  # counting ○ answers
    quorum_likely: list[quorum.Quorum]  # counting ○ and △
    holiday: str | None = None
    clashes: list[Clash] = field(default_factory=list)
    declined: list[Person] = field(default_factory=list)  # answered ×

    @property
    def quorate(self) -> bool:
        return all(q.met for q in self.quorum_yes)

    @property
    def quorate_likely(self) -> bool:
        return all(q.met for q in self.quorum_likely)


@dataclass
class Row:
    invitee: PollInvitee
    bodies: list[Body]
    answers: dict[int, Choice]  # slot id -> choice


@dataclass
class PollResult:
    poll: Poll
    rows: list[Row]
    slots: list[SlotResult]

    @property
    def unanswered(self) -> list[Person]:
        return [row.invitee.person for row in self.rows if row.invitee.answered_at is None]


def results(db: Session, poll: Poll, viewer: Person | None = None) -> PollResult:
    """Counts, quorum per body and warnings for every slot, and every invitee's row: the
    same handful of queries however many invitees and slots (``poll`` as ``load`` gives)."""
    answers: dict[int, dict[int, Choice]] = {}
    for a in db.scalars(select(PollAnswer).where(PollAnswer.poll_id == poll.id)):
        answers.setdefault(a.person_id, {})[a.slot_id] = a.choice
    # Roles on the first slot's day decide who counts for which body's quorum; a member of
    # two bodies counts for each.
    asked = {i.person_id for i in poll.invitees}
    members = [
        m
        for m in scheduling.invitees_of(db, poll.bodies, tokyo_date(poll.slots[0].start_at))
        if m.person.id in asked  # someone appointed since was not asked: not counted
    ]
    by_person = {m.person.id: m for m in members}
    rows = [
        Row(
            i,
            by_person[i.person_id].bodies if i.person_id in by_person else [],
            answers.get(i.person_id, {}),
        )
        for i in sorted(poll.invitees, key=lambda i: (i.person.kana or i.person.name, i.person_id))
    ]
    clashes = _clashes(db, poll, viewer)
    slots = []
    for slot, found in zip(poll.slots, clashes, strict=True):
        chosen = {pid: row.get(slot.id) for pid, row in answers.items()}
        yes = {pid for pid, c in chosen.items() if c == Choice.YES}
        maybe = {pid for pid, c in chosen.items() if c == Choice.MAYBE}
        slots.append(
            SlotResult(
                slot=slot,
                counts=Counter(c for c in chosen.values() if c is not None),
                quorum_yes=quorum.reckon(poll.bodies, members, yes),
                quorum_likely=quorum.reckon(poll.bodies, members, yes | maybe),
                holiday=holiday_name(tokyo_date(slot.start_at)),
                clashes=found,
                declined=[r.invitee.person for r in rows if r.answers.get(slot.id) == Choice.NO],
            )
        )
    return PollResult(poll, rows, slots)


def _clashes(db: Session, poll: Poll, viewer: Person | None) -> list[list[Clash]]:
    """Per slot, the sessions of invitees it overlaps. A clashing session is named only to
    a member of one of its bodies (or an administrator): to anyone else its existence at
    that hour could say who is being discussed. One being prepared, only to its
    secretariat (policy.SessionAccess)."""
    windows = [(slot.start_at, slot.end_at) for slot in poll.slots]
    exclude = {poll.session_id} if poll.session_id else set()
    found = scheduling.clashes_in_windows(db, {b.id for b in poll.bodies}, windows, exclude)
    mine = _member_body_ids(db, viewer)
    admin = viewer is not None and viewer.is_admin
    preparing = policy.secretary_body_ids(db, viewer) if viewer is not None else set()

    def named(other: MeetingSession) -> bool:
        bodies = {b.id for b in other.bodies}
        return bool(preparing & bodies) if other.is_prepared else admin or bool(mine & bodies)

    return [
        [Clash(other if named(other) else None, names) for other, names in per_slot]
        for per_slot in found
    ]


def _member_body_ids(db: Session, person: Person | None) -> set[int]:
    if person is None:
        return set()
    return set(
        db.scalars(
            select(Membership.body_id).where(
                Membership.person_id == person.id, policy.current_membership_filter(today())
            )
        )
    )


# --- Deciding -----------------------------------------------------------------------------


class AlreadyDecided(DomainError):
    """The poll was decided before this request could: its session is the poll's."""

    def __init__(self) -> None:
        super().__init__(_l("This poll has already been decided."))


def decide(
    db: Session,
    poll: Poll,
    slot_id: int | None,
    *,
    by: Person,
    place: str = "",
    now: datetime | None = None,
) -> MeetingSession:
    """Create the session at the chosen slot, with the poll's bodies (so its invitees), and
    close the poll. The caller queues the invitations."""
    now = now or utcnow()
    if not policy.poll_access(db, by, poll).can_manage:
        raise Forbidden(_l("Only the secretariat of every body of the poll may decide it."))
    if not poll.is_open:
        raise AlreadyDecided()
    slot = next((s for s in poll.slots if s.id == slot_id), None)
    if slot is None:
        raise DomainError(_l("Choose one of the candidate slots."), "slot_id")
    if slot.start_at <= now:
        raise DomainError(
            _l("This candidate slot has already begun or passed: choose another one."), "slot_id"
        )
    data = SessionData(
        title=poll.title,
        body_ids=[b.id for b in poll.bodies],
        host_body_id=poll.host_body_id,
        start=slot.start_at,
        end=slot.end_at,
        place=place.strip()[:200],
    )
    _close(db, poll, now)
    session = scheduling.create_session(db, data, by=by)
    slot.chosen = True
    poll.status = PollStatus.DECIDED
    poll.closed_at = now
    poll.session = session
    db.flush()
    return session


def _close(db: Session, poll: Poll, now: datetime) -> None:
    """Close the poll if it is still open, before anything is created: of two requests
    deciding at once, the second waits here for the first (its row lock in PostgreSQL, the
    write lock in SQLite) and then finds the poll no longer open."""
    closed = db.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.status == PollStatus.OPEN)
        .values(status=PollStatus.DECIDED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(closed) != 1:
        raise AlreadyDecided()


# --- Lists --------------------------------------------------------------------------------


def open_for(db: Session, person: Person, now: datetime | None = None) -> list[tuple[Poll, bool]]:
    """Open polls the person is asked in, with whether they have answered: for home."""
    now = now or utcnow()
    rows = db.execute(
        select(Poll, PollInvitee.answered_at)
        .join(PollInvitee, PollInvitee.poll_id == Poll.id)
        .where(
            PollInvitee.person_id == person.id,
            Poll.id.in_(_still_asked(person)),
            Poll.status == PollStatus.OPEN,
            Poll.deadline_at.is_(None) | (Poll.deadline_at > now),
        )
        .options(selectinload(Poll.slots))
        .order_by(Poll.created_at, Poll.id)
    ).all()
    return [(poll, answered_at is not None) for poll, answered_at in rows]


def _still_asked(person: Person) -> Select[int]:
    """Ids of the polls the person was asked in and has not left the bodies of since (as
    ``policy.poll_access`` has it)."""
    return (
        select(PollInvitee.poll_id)
        .join(poll_bodies, poll_bodies.c.poll_id == PollInvitee.poll_id)
        .join(
            Membership,
            (Membership.body_id == poll_bodies.c.body_id)
            & (Membership.person_id == PollInvitee.person_id),
        )
        .where(PollInvitee.person_id == person.id, policy.term_not_ended())
    )


def visible_to(db: Session, person: Person) -> list[Poll]:
    """Polls the person is asked in or manages (secretary of every body), newest first."""
    managed = policy.secretary_body_ids(db, person)
    invited = _still_asked(person)
    polls = db.scalars(
        select(Poll)
        .where(Poll.id.in_(invited) | Poll.bodies.any(Body.id.in_(managed)))
        .options(selectinload(Poll.bodies), selectinload(Poll.slots))
        .order_by(Poll.created_at.desc(), Poll.id.desc())
    ).all()
    asked = set(db.scalars(invited))
    return [p for p in polls if p.id in asked or {b.id for b in p.bodies} <= managed]


# --- E-mail -------------------------------------------------------------------------------


def queue_requests(
    db: Session,
    poll: Poll,
    *,
    organizer: Person | None,
    links: Links,
    sender: str,
    reminder: bool = False,
    now: datetime | None = None,
) -> mail.QueueResult:
    """Ask every invitee with an address (a reminder: those who have not answered) to
    answer; a member without a login gets a personal link, others the poll's page. A
    request is queued once per invitee, a reminder once per invitee and Tokyo day."""
    now = now or utcnow()
    rows = [i for i in poll.invitees if not (reminder and i.answered_at is not None)]
    day = tokyo_date(now).isoformat()
    keys = {
        i.id: f"{REMINDER}:{poll.id}:{i.person_id}:{day}"
        if reminder
        else f"{REQUEST}:{poll.id}:{i.person_id}"
        for i in rows
    }
    existing = set(mail.existing_keys(db, keys.values()))
    result = mail.QueueResult()
    with force_locale(mail.MAIL_LOCALE):
        for row in rows:
            person = row.person
            address = mail.valid_address(person.email)
            if address is None:
                result.without_address.append(person.name)
                continue
            if keys[row.id] in existing:
                result.already_queued += 1
                continue
            link = _link_for(db, poll, person, links)
            message = _request_message(poll, person, address, link, keys[row.id], reminder)
            message_row = mail.plain_message(
                person, address, organizer=organizer, sender=sender, **message
            )
            db.add(message_row)
            result.messages.append(message_row)
    db.flush()
    return result


def _link_for(db: Session, poll: Poll, person: Person, links: Links) -> str:
    if person.has_login:
        return links.poll(poll.id)
    return links.poll_answer(issue_link(db, poll, person))


class _Request(TypedDict):
    """The parts of a request or reminder that ``mail.plain_message`` takes by keyword."""

    kind: str
    key: str
    subject: str
    intro: str
    blocks: list[list[str]]


def _request_message(
    poll: Poll, person: Person, address: str, link: str, key: str, reminder: bool
) -> _Request:
    """Subject and text, in MAIL_LOCALE (the caller forces it)."""
    facts = [
        labelled(_("Title"), poll.title),
        labelled(_("Bodies"), "、".join(b.name for b in poll.bodies)),
    ]
    if poll.deadline_at:
        facts.append(labelled(_("Deadline"), format_tokyo(poll.deadline_day_end, "date")))
    slots = [_("Candidate slots:")] + [f"・{slot_label(slot)}" for slot in poll.slots]
    blocks = [facts, slots]
    if poll.comment:
        blocks.append([poll.comment])
    blocks.append([_("Answer on this page: %(link)s", link=link)])
    if reminder:
        subject = _("Reminder: please answer the date poll “%(title)s”", title=poll.title)
        intro = _("You have not answered this date poll yet.")
    else:
        subject = _("Date poll: %(title)s", title=poll.title)
        intro = _("Please tell us which of the candidate slots below you can attend.")
    intro += "\n" + _("Answer each slot with ○ (can attend), △ (not sure) or × (cannot attend).")
    return {
        "kind": REMINDER if reminder else REQUEST,
        "key": key,
        "subject": subject,
        "intro": intro,
        "blocks": blocks,
    }


def slot_label(slot: PollSlot) -> str:
    return f"{format_tokyo(slot.start_at)}–{format_tokyo(slot.end_at, 'time')}"


def due_for_reminder(db: Session, *, days: int, now: datetime | None = None) -> list[Poll]:
    """Open polls whose deadline (or, without one, first slot) comes within ``days`` days
    and has not passed."""
    now = now or utcnow()
    horizon = now + timedelta(days=days)
    polls = db.scalars(
        select(Poll)
        .where(Poll.status == PollStatus.OPEN)
        .options(
            selectinload(Poll.bodies),
            selectinload(Poll.slots),
            selectinload(Poll.invitees).selectinload(PollInvitee.person),
            selectinload(Poll.created_by),
        )
        .order_by(Poll.id)
    ).all()
    due = []
    for poll in polls:
        until = poll.deadline_at or poll.slots[0].start_at
        if now < until <= horizon:
            due.append(poll)
    return due


@dataclass
class ReminderRun:
    polls: int
    queued: mail.QueueResult
    delivery: mail.DeliveryResult


def send_reminders(
    db: Session,
    settings: mail.MailSettings,
    *,
    days: int,
    links: Links,
    now: datetime | None = None,
) -> ReminderRun:
    """Remind those who have not answered the polls due within ``days`` days (once per
    invitee and day, however often it runs); commit, then deliver what was queued."""
    now = now or utcnow()
    queued = mail.QueueResult()
    polls = due_for_reminder(db, days=days, now=now)
    for poll in polls:
        queued.merge(
            queue_requests(
                db,
                poll,
                organizer=poll.created_by,
                links=links,
                sender=settings.sender,
                reminder=True,
                now=now,
            )
        )
    db.commit()
    return ReminderRun(len(polls), queued, mail.deliver(db, settings, queued.ids))


def csv_rows(result: PollResult) -> list[list[str]]:
    """The poll as a table for Excel: every invitee's marks, the counts of each mark and
    the quorum per body for every slot."""
    slots = result.slots
    header = [_("Name"), _("Bodies"), *(slot_label(s.slot) for s in slots), _("Comment")]
    rows = [header]
    for row in result.rows:
        marks = [row.answers[s.slot.id].mark if s.slot.id in row.answers else "" for s in slots]
        rows.append([row.invitee.person.name, "、".join(b.name for b in row.bodies), *marks,
                     row.invitee.comment])  # fmt: skip
    for choice in Choice:
        rows.append([choice.mark, "", *(str(s.counts.get(choice, 0)) for s in slots), ""])
    for index, body in enumerate(result.poll.bodies):
        for label, attribute in (
            (_("Quorum (○)"), "quorum_yes"),
            (_("Quorum (○△)"), "quorum_likely"),
        ):
            cells = [_quorum_cell(getattr(s, attribute)[index]) for s in slots]
            rows.append([label, body.name, *cells, ""])
    return rows


def _quorum_cell(q: quorum.Quorum) -> str:
    verdict = _("Met") if q.met else _("Not met")
    return f"{verdict} {q.present}/{q.required}"
