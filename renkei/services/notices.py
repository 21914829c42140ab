"""Convening notices (招集通知) and change notices: every change reaches exactly the people
concerned, in their calendars as on the session page.

A session is prepared by its secretariat, unseen by members, then convened: ``convene`` sends
the notice with the agenda as it then stands. From then on whatever changes what a calendar
shows (time, place, link, title, public agenda titles, status) or who is convened (bodies,
selected members, participants, guests, terms) marks the session
(``MeetingSession.note_change``). A few minutes after the first mark (``send_due``, from the
timer or cron), or at once when the secretary asks (``send_now``), each UID concerned is
*reconciled*: per recipient, what their calendar should show now is compared with what they
were last sent (``CalendarCopy``), and each gets one message — an invitation if newly
convened, an update if their event changed, a cancellation if no longer convened — or none.

Messages are per UID: a one-off session, or a whole series as the recipient has it (the
occurrences they are not convened to excluded). SEQUENCE is one counter per UID
(``MeetingSession.sequence``, ``Series.sequence``), raised once per round that updates or
cancels, above anything ever sent for the UID; downloads and feeds carry the same counter.
A UID whose sessions went elsewhere (the later part of a split series) is reconciled before
the UID that now holds them, so the old series is shortened before the new one arrives.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from renkei.db import rowcount, utcnow
from renkei.errors import DomainError
from renkei.i18n import format_tokyo, labelled
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.links import Links
from renkei.models import (
    AgendaItem,
    CalendarCopy,
    MailMessage,
    MailStatus,
    MeetingSession,
    Participant,
    Person,
    Selection,
    SessionChange,
    Status,
)
from renkei.models.sessions import session_bodies
from renkei.services import audit, calendar, materials, policy, scheduling
from renkei.services.mail import compose
from renkei.services.mail.compose import CANCEL, INVITE, MAIL_LOCALE, UPDATE
from renkei.services.mail.queue import Addressee, QueueResult, addressees

# Edits within this time of the first are sent together, one message per person.
DEFAULT_DELAY = timedelta(minutes=5)


def configured_delay(minutes: object) -> timedelta:
    """The wait set by NOTICE_DELAY_MINUTES (None: the default)."""
    return DEFAULT_DELAY if minutes in (None, "") else timedelta(minutes=float(str(minutes)))


MAX_CHANGE_LINES = 20
KEY_LENGTH = 200
# Plain words, not the enums whose values they share (Status.CANCELLED, Visibility.SESSION):
# the SessionChange kind scheduling.cancel_session records, and the UIDs' prefixes.
CANCELLED_CHANGE = "cancelled"
SERIES_UID, SESSION_UID = "series", "session"

LOADING = (
    selectinload(MeetingSession.bodies),
    selectinload(MeetingSession.items).joinedload(AgendaItem.body),
    selectinload(MeetingSession.guests),
    selectinload(MeetingSession.replies),
    selectinload(MeetingSession.selections).selectinload(Selection.members),
    selectinload(MeetingSession.participants).joinedload(Participant.person),
    selectinload(MeetingSession.changes).joinedload(SessionChange.person),
    joinedload(MeetingSession.host_body),
    joinedload(MeetingSession.presiding_person),
    joinedload(MeetingSession.series),
)


@dataclass
class Planned:
    """One message to one person about one UID."""

    addressee: Addressee
    kind: str  # INVITE, UPDATE or CANCEL
    uid: str
    sessions: list[MeetingSession] = field(default_factory=list)  # theirs now (REQUEST)
    withdrawn: list[CalendarCopy] = field(default_factory=list)  # what goes (CANCEL)
    changes: list[str] = field(default_factory=list)  # what changed, in words
    # Still convened, now under the series' UID or an occurrence's own: another message.
    moved: bool = False
    # What the person is sent of each session (``snapshot`` and their materials), by id.
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Plan:
    """What a round of notices would send (a preview), or sent."""

    planned: list[Planned] = field(default_factory=list)
    without_address: list[str] = field(default_factory=list)  # names, to be sent a letter
    sample: tuple[str, str] | None = None  # the subject and text of the first message
    # What the plan was made from, for sending it: the UID's sessions and what was sent.
    sessions: list[MeetingSession] = field(default_factory=list)
    rows: list[CalendarCopy] = field(default_factory=list)


# --- Convening ----------------------------------------------------------------------------


def convenable(session: MeetingSession) -> list[MeetingSession]:
    """The sessions one convening notice convenes: the session, or every prepared
    occurrence of its series (one invitation for the series)."""
    if session.series is None:
        return [session]
    return [s for s in session.series.sessions if s.status == Status.PREPARED]


ALREADY_CONVENED = _l("The convening notice of this session has been sent already.")


def check_convenable(session: MeetingSession) -> None:
    if session.status != Status.PREPARED:
        raise DomainError(ALREADY_CONVENED)
    if session.start_at <= utcnow():
        raise DomainError(
            _l(
                "This session has already started, so no convening notice can be sent. "
                "Mark it as held to record it."
            )
        )


def preview(db: Session, session: MeetingSession, *, links: Links, sender: str) -> Plan:
    """What ``convene`` would send, for the secretary to read first (nothing is written)."""
    check_convenable(session)
    issuer = calendar.issuer(db, links, sender)
    targets = {s.id for s in convenable(session)}
    plan = Plan()
    for uid in _uids(session, issuer):
        _merge(plan, _plan(db, uid, issuer, as_convened=targets))
    if plan.planned:
        with force_locale(MAIL_LOCALE):
            plan.sample = _request_text(plan.planned[0], issuer)
    return plan


def convene(
    db: Session, session: MeetingSession, *, by: Person, links: Links, sender: str
) -> QueueResult:
    """Send the convening notice: the session (or the series' prepared occurrences) becomes
    convened and every person convened is sent the invitation with the agenda as it
    stands."""
    scheduling.require_manager(db, session, by)
    check_convenable(session)
    now = utcnow()
    for target in convenable(session):
        if target.start_at > now:
            _claim(db, target, now)
            scheduling.record(db, target, "convened", by)
    db.flush()
    # Convening opens the session to those convened: who sees what, so the body's log.
    audit.record(
        db,
        by,
        audit.CONTENT,
        "session_convened",
        subject_type="session",
        subject_id=session.id,
        body_id=session.host_body_id,
        session_id=session.id,
    )
    return _send(db, [session], by=by, links=links, sender=sender)


def _claim(db: Session, target: MeetingSession, now: datetime) -> None:
    """Convene ``target`` if it is still prepared, in one conditional UPDATE: of two requests
    convening at once, the second (waiting for the first's lock) finds it convened and is
    refused, so the session is convened, recorded and audited once."""
    claimed = db.execute(
        update(MeetingSession)
        .where(MeetingSession.id == target.id, MeetingSession.status == Status.PREPARED)
        .values(status=Status.CONVENED, convened_at=now)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(claimed):
        raise DomainError(ALREADY_CONVENED)
    db.expire(target, ["status", "convened_at", "updated_at"])


# --- Change notices -----------------------------------------------------------------------


def _merge(plan: Plan, other: Plan) -> None:
    plan.planned += other.planned
    plan.without_address += [n for n in other.without_address if n not in plan.without_address]


def send_now(
    db: Session, session: MeetingSession, *, by: Person | None, links: Links, sender: str
) -> QueueResult:
    """Send the session's waiting change notices without waiting for the batch."""
    return _send(db, [session], by=by, links=links, sender=sender)


def send_due(
    db: Session,
    *,
    links: Links,
    sender: str,
    delay: timedelta = DEFAULT_DELAY,
    now: datetime | None = None,
) -> QueueResult:
    """Send the change notices of every session first changed ``delay`` ago or more. A
    session is claimed with a conditional UPDATE, so two servers never send the same."""
    limit = (now or utcnow()) - delay
    due = db.execute(
        select(MeetingSession.id, MeetingSession.notice_pending_since).where(
            MeetingSession.notice_pending_since <= limit
        )
    ).all()
    claimed = []
    for session_id, since in due:
        taken = db.execute(
            update(MeetingSession)
            .where(MeetingSession.id == session_id, MeetingSession.notice_pending_since == since)
            .values(notice_pending_since=None)
            .execution_options(synchronize_session=False)
        )
        if rowcount(taken):
            claimed.append(session_id)
    if not claimed:
        return QueueResult()
    sessions = list(db.scalars(select(MeetingSession).where(MeetingSession.id.in_(claimed))))
    return _send(db, sessions, by=None, links=links, sender=sender)


def body_changed(db: Session, body_id: int) -> None:
    """The members of a body changed (a term added, ended or moved): every convened
    session of it still to come must tell those it now convenes or no longer does."""
    coming = select(session_bodies.c.session_id).where(session_bodies.c.body_id == body_id)
    db.execute(
        update(MeetingSession)
        .where(
            MeetingSession.id.in_(coming),
            MeetingSession.convened_at.is_not(None),
            MeetingSession.notice_pending_since.is_(None),
            MeetingSession.end_at >= utcnow(),
        )
        .values(notice_pending_since=utcnow())
        .execution_options(synchronize_session=False)
    )


# --- Reconciling --------------------------------------------------------------------------


def _uids(session: MeetingSession, issuer: calendar.Issuer) -> list[str]:
    """The UIDs a session may be in calendars under: its own, and for an occurrence, its
    series' (for those convened to every occurrence) and each occurrence's (for the rest)."""
    if session.series is None:
        return [calendar.occurrence_uid(session, issuer)]
    others = sorted(session.series.sessions, key=lambda s: s.rule_start)
    series_uid = calendar.session_uid(session, issuer)
    return [series_uid] + [calendar.occurrence_uid(s, issuer) for s in others]


def _send(
    db: Session,
    sessions: Iterable[MeetingSession],
    *,
    by: Person | None,
    links: Links,
    sender: str,
) -> QueueResult:
    """Reconcile the UIDs of ``sessions``: those their recipients were last sent them under
    first (a split series' old part, an old install domain), then their own."""
    issuer = calendar.issuer(db, links, sender)
    sessions = list(sessions)
    for session in sessions:
        if session.series is not None:
            for other in session.series.sessions:
                other.notice_pending_since = None
        session.notice_pending_since = None
    uids = list(dict.fromkeys(uid for s in sessions for uid in _uids(s, issuer)))
    ids = [s.id for s in sessions]
    if any(s.series is not None for s in sessions):
        ids += [o.id for s in sessions if s.series is not None for o in s.series.sessions]
    earlier = db.scalars(
        select(CalendarCopy.uid).where(CalendarCopy.session_id.in_(ids)).distinct()
    ).all()
    result = QueueResult()
    for uid in [u for u in earlier if u not in uids] + uids:
        plan = _plan(db, uid, issuer)
        result.merge(_deliver_plan(db, plan, uid, issuer, by=by, sender=sender))
    return result


def _sessions_of(db: Session, uid: str, issuer: calendar.Issuer) -> list[MeetingSession]:
    """The sessions the UID stands for now: a series' occurrences, or one session (none:
    a UID of another install domain, or of a session since deleted)."""
    name, _at, domain = uid.partition("@")
    kind, _dash, number = name.partition("-")
    if domain != issuer.uid_domain or not number.isdigit():
        return []
    # Read afresh (the caller's pending changes are flushed first): a session loaded long
    # ago in the same database session would otherwise be judged as it was then.
    query = select(MeetingSession).options(*LOADING).execution_options(populate_existing=True)
    if kind == SERIES_UID:
        query = query.where(MeetingSession.series_id == int(number))
    elif kind == SESSION_UID:
        query = query.where(MeetingSession.id == int(number))
    else:
        return []
    return list(db.scalars(query))


def _live(session: MeetingSession, as_convened: set[int]) -> bool:
    """Whether the session belongs in calendars: convened (or held after convening)."""
    if session.id in as_convened:
        return True
    return session.convened_at is not None and session.status in (Status.CONVENED, Status.HELD)


def snapshot(session: MeetingSession, *, in_series: bool) -> dict[str, Any]:
    """What a calendar shows of the session (and what the notice's text says changed);
    ``in_series``: as an occurrence of its series' recurring event."""
    series = session.series if in_series else None
    return {
        "title": session.title,
        "start": session.start_at.isoformat(),
        "end": session.end_at.isoformat(),
        "place": session.place,
        "online_url": session.online_url,
        "agenda": calendar.agenda_lines(session),
        "bodies": " / ".join(b.name for b in session.bodies),
        "rrule": series.rrule if series is not None else "",
        "recurrence_id": (session.rule_start.isoformat() if series is not None else None),
        "host": session.host_body.name,
    }


MATERIALS = "materials"


class MaterialsSeen:
    """Per person, the materials of a session they may see, as a notice lists them: number,
    version, and the title only when public (an e-mail carries public titles only, like the
    agenda). Each session's materials are read once per round."""

    def __init__(self, db: Session):
        self.db = db
        self.numbered: dict[int, list[materials.Listed]] = {}

    def of(self, session: MeetingSession, person: Person | None) -> list[dict[str, Any]]:
        if person is None or not person.has_login:  # no way to download: nothing to list
            return []
        if session.id not in self.numbered:
            self.numbered[session.id] = materials.numbered(self.db, session)
        listed = self.numbered[session.id]
        if not listed:
            return []
        access = policy.session_access(self.db, person, session)
        return [
            {
                "id": entry.material.id,
                "number": entry.number,
                "version": entry.material.current.number,
                "title": None if materials.is_closed(entry.material) else entry.material.title,
            }
            for entry in listed
            if access.can_see_material(entry.material)
        ]


def _same(before: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether a person's copy is still what they should have. Materials compare by id and
    version (a number moved by another's material is no change); a copy sent before notices
    listed materials had none."""
    rest = {k: v for k, v in now.items() if k != MATERIALS}
    if {k: v for k, v in before.items() if k != MATERIALS} != rest:
        return False
    return _versions(before.get(MATERIALS, [])) == _versions(now.get(MATERIALS, []))


def _versions(listed: list[dict[str, Any]]) -> dict[int, int]:
    return {entry["id"]: entry["version"] for entry in listed}


def _plan(
    db: Session, uid: str, issuer: calendar.Issuer, *, as_convened: set[int] | None = None
) -> Plan:
    """Per person, the message ``uid`` needs: the series' UID goes to those convened to
    every live occurrence, an occurrence's own UID to those convened to it but not to all."""
    as_convened = as_convened or set()
    found = _sessions_of(db, uid, issuer)
    in_series = calendar.is_series_uid(uid)
    family = found[0].series.sessions if found and found[0].series is not None else found
    live = [s for s in family if _live(s, as_convened)]
    plan = Plan(sessions=found)
    convened: dict[str, tuple[Addressee, list[MeetingSession]]] = {}
    for session in sorted(live, key=lambda s: (s.start_at, s.id)):
        people, missing = addressees(db, session, organizer=issuer.address)
        if session in found:
            plan.without_address += [n for n in missing if n not in plan.without_address]
        for addressee in people:
            key = addressee.recipient.email.lower()
            convened.setdefault(key, (addressee, []))[1].append(session)
    wanted = {}
    for address, (addressee, theirs) in convened.items():
        whole = len(theirs) == len(live)
        if in_series and whole:
            wanted[address] = (addressee, theirs)
        elif not in_series and (found[0] in theirs) and not (whole and found[0].series):
            wanted[address] = (addressee, [found[0]])
    snaps = {s.id: snapshot(s, in_series=in_series) for s in live}
    held: dict[str, list[CalendarCopy]] = defaultdict(list)
    plan.rows = list(db.scalars(select(CalendarCopy).where(CalendarCopy.uid == uid)))
    for row in plan.rows:
        held[row.address].append(row)
    seen = MaterialsSeen(db)
    for address in list(wanted) + [a for a in held if a not in wanted]:
        entry = wanted.get(address)
        rows = held.get(address, [])
        theirs = entry[1] if entry else []
        person = entry[0].recipient.person if entry else None
        mine = {s.id: {**snaps[s.id], MATERIALS: seen.of(s, person)} for s in theirs}
        planned = _decide(uid, entry[0] if entry else None, theirs, rows, mine)
        if planned is not None:
            planned.snapshots = mine
            planned.moved = planned.kind == CANCEL and _elsewhere(
                convened.get(address), live, in_series
            )
            plan.planned.append(planned)
    return plan


def _elsewhere(
    entry: tuple[Addressee, list[MeetingSession]] | None,
    live: list[MeetingSession],
    in_series: bool,
) -> bool:
    """Whether someone losing this UID keeps the session under another: the series' UID
    left for occurrences' own (no longer convened to all), or an occurrence's own UID left
    for the series' (now convened to all)."""
    if entry is None:
        return False
    whole = len(entry[1]) == len(live)
    return not whole if in_series else whole


def _decide(
    uid: str,
    addressee: Addressee | None,
    theirs: list[MeetingSession],
    rows: list[CalendarCopy],
    snaps: dict[int, dict[str, Any]],
) -> Planned | None:
    """The one message a person needs about a UID, or None."""
    had = {row.session_id: row for row in rows}
    if addressee is None:  # convened to none of it any more
        if not rows:
            return None
        first = rows[0]
        recipient = calendar.Recipient(first.name, first.address, None)
        return Planned(Addressee(recipient), CANCEL, uid, withdrawn=rows)
    if not rows:
        return Planned(addressee, INVITE, uid, sessions=theirs)
    now_ids = {s.id for s in theirs}
    same = all(_same(had[s.id].snapshot, snaps[s.id]) for s in theirs if s.id in had)
    if same and now_ids == set(had):
        return None
    gone = [row for row in rows if row.session_id not in now_ids]
    if same and now_ids < set(had):
        return Planned(addressee, CANCEL, uid, sessions=theirs, withdrawn=gone)
    changes = _changes(theirs, had, snaps) + [_gone_line(row) for row in gone]
    return Planned(addressee, UPDATE, uid, sessions=theirs, withdrawn=gone, changes=changes)


# --- Words --------------------------------------------------------------------------------


def _when(snap: dict[str, Any]) -> str:
    start, end = datetime.fromisoformat(snap["start"]), datetime.fromisoformat(snap["end"])
    same_day = format_tokyo(start, "date") == format_tokyo(end, "date")
    return f"{format_tokyo(start)}–{format_tokyo(end, 'time' if same_day else 'datetime')}"


def _changes(
    theirs: list[MeetingSession], had: dict[int, CalendarCopy], snaps: dict[int, dict[str, Any]]
) -> list[str]:
    lines = []
    several = len(theirs) > 1
    for session in theirs:
        now = snaps[session.id]
        row = had.get(session.id)
        if row is None:
            lines.append(_("You are now convened to the session of %(when)s.", when=_when(now)))
            continue
        before = row.snapshot
        day = format_tokyo(session.start_at, "date")
        for line in _differences(before, now):
            lines.append(labelled(day, line) if several else line)
    return lines[:MAX_CHANGE_LINES]


def _differences(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    lines = []
    if (before["start"], before["end"]) != (now["start"], now["end"]):
        old, new = _when(before), _when(now)
        lines.append(_("The date and time have changed: %(old)s → %(new)s", old=old, new=new))
    if before["title"] != now["title"]:
        lines.append(
            _("The title has changed: %(old)s → %(new)s", old=before["title"], new=now["title"])
        )
    if before["place"] != now["place"]:
        lines.append(
            _(
                "The place has changed: %(old)s → %(new)s",
                old=before["place"] or "—",
                new=now["place"] or "—",
            )
        )
    if before["online_url"] != now["online_url"]:
        lines.append(_("The online meeting link has changed."))
    if before["agenda"] != now["agenda"]:
        lines.append(_("The agenda has changed."))
    if before["bodies"] != now["bodies"]:
        lines.append(_("The bodies served have changed: %(new)s", new=now["bodies"]))
    if before["rrule"] != now["rrule"] or before["recurrence_id"] != now["recurrence_id"]:
        lines.append(_("The dates of the series have changed."))
    if MATERIALS in now:
        lines += _material_changes(before.get(MATERIALS, []), now[MATERIALS])
    return lines


def _material_changes(before: list[dict[str, Any]], now: list[dict[str, Any]]) -> list[str]:
    """Materials added, replaced (差し替え) or withdrawn, as the person may see them."""
    had = {entry["id"]: entry for entry in before}
    has = {entry["id"] for entry in now}
    lines = []
    for entry in now:
        earlier = had.get(entry["id"])
        if earlier is None:
            lines.append(_("A material has been added: %(material)s", material=_named(entry)))
        elif earlier["version"] != entry["version"]:
            lines.append(_("A material has been replaced: %(material)s", material=_named(entry)))
    for entry in before:
        if entry["id"] not in has:
            lines.append(_("A material has been withdrawn: %(material)s", material=_named(entry)))
    return lines


def _named(entry: dict[str, Any]) -> str:
    """「資料2 地域資源マップ」, or 「資料3 非公開資料」 for one whose title is not public."""
    # Outside an f-string, where `make messages` (pybabel extract) finds them.
    label, title = _("Material %(n)d", n=entry["number"]), entry["title"] or _("Closed material")
    return f"{label} {title}"


def _materials_block(planned: Planned, links: Links) -> list[str]:
    """The materials the person may see, each as the link that downloads it (never an
    attachment), per session when they are sent several."""
    block: list[str] = []
    several = len(planned.sessions) > 1
    for session in planned.sessions:
        listed = planned.snapshots.get(session.id, {}).get(MATERIALS, [])
        if listed and several:
            block.append(f"  {compose.when(session)}")
        block += [f"  {compose.line(_named(e), links.material(e['id']))}" for e in listed]
    return [_("Materials (download after logging in)"), *block] if block else []


def _gone_line(row: CalendarCopy) -> str:
    return _(
        "The session of %(when)s has been taken out of your calendar.", when=_when(row.snapshot)
    )


def _cancel_reason(sessions: list[MeetingSession], rows: list[CalendarCopy], *, moved: bool) -> str:
    """Why a person's event is withdrawn: the session's cancellation and its reason, or
    that they are no longer convened."""
    by_id = {s.id: s for s in sessions}
    cancelled = [by_id[r.session_id] for r in rows if r.session_id in by_id]
    cancelled = [s for s in cancelled if s.status == Status.CANCELLED]
    if cancelled and len(cancelled) == len(rows):
        changes = cancelled[0].changes
        reasons = [c.detail for c in changes if c.kind == CANCELLED_CHANGE and c.detail]
        text = _("The session has been cancelled.")
        return text + (" " + _("Reason: %(reason)s", reason=reasons[-1]) if reasons else "")
    if moved or not by_id:
        return _("The session is now sent to your calendar as a new entry, in another message.")
    return _(
        "You are no longer convened to this session (the bodies, members or participants "
        "it convenes have changed)."
    )


# --- Sending ------------------------------------------------------------------------------


def _deliver_plan(
    db: Session, plan: Plan, uid: str, issuer: calendar.Issuer, *, by: Person | None, sender: str
) -> QueueResult:
    """Queue the plan's messages, raise the UID's SEQUENCE if it updates or cancels, and
    record what each recipient now holds."""
    result = QueueResult(without_address=plan.without_address)
    if not plan.planned:
        return result
    sessions = plan.sessions
    sequence = _sequence(sessions, plan.rows, plan, uid)
    now = utcnow()
    with force_locale(MAIL_LOCALE):
        for planned in plan.planned:
            message = _message(db, planned, issuer, sessions, sequence, now, by, sender)
            db.add(message)
            result.messages.append(message)
            _record(db, planned, sequence, now)
    db.flush()
    return result


def _sequence(
    sessions: list[MeetingSession], rows: list[CalendarCopy], plan: Plan, uid: str
) -> int:
    """The UID's SEQUENCE for this round: raised (above anything ever sent for it) when
    anyone's event is updated or cancelled; an invitation alone keeps it."""
    counter = calendar.sequence_of(sessions[0], uid) if sessions else 0
    sent = max((row.sequence for row in rows), default=-1)
    if all(p.kind == INVITE for p in plan.planned):
        return max(counter, sent)
    raised = max(counter, sent) + 1
    if sessions:
        series = sessions[0].series
        owner = series if series is not None and calendar.is_series_uid(uid) else sessions[0]
        owner.sequence = raised
    return raised


def _record(db: Session, planned: Planned, sequence: int, now: datetime) -> None:
    for row in planned.withdrawn:
        db.delete(row)
    db.flush()  # the rows go before any of the same session and address is written again
    address = planned.addressee.recipient.email.lower()
    person = planned.addressee.recipient.person
    if planned.kind == CANCEL and not planned.sessions:
        return
    existing = {
        row.session_id: row
        for row in db.scalars(
            select(CalendarCopy).where(
                CalendarCopy.address == address,
                CalendarCopy.session_id.in_([s.id for s in planned.sessions]),
            )
        )
    }
    for session in planned.sessions:
        row = existing.get(session.id) or CalendarCopy(session_id=session.id, address=address)
        row.uid, row.snapshot, row.sequence, row.sent_at = (
            planned.uid,
            planned.snapshots.get(session.id)
            or snapshot(session, in_series=calendar.is_series_uid(planned.uid)),
            sequence,
            now,
        )
        row.person_id = person.id if person is not None else row.person_id
        row.name = planned.addressee.recipient.name[:100]
        db.add(row)


def _message(
    db: Session,
    planned: Planned,
    issuer: calendar.Issuer,
    sessions: list[MeetingSession],
    sequence: int,
    now: datetime,
    by: Person | None,
    sender: str,
) -> MailMessage:
    recipient = planned.addressee.recipient
    if planned.kind == CANCEL:
        ics, subject, body, about = _cancellation(planned, issuer, sessions, sequence, now)
        method, filename = "CANCEL", "cancel.ics"
    else:
        ics = calendar.request(
            planned.sessions,
            recipient,
            issuer,
            uid=planned.uid,
            answer=planned.addressee.answer,
            dtstamp=now,
        )
        subject, body = _request_text(planned, issuer)
        about = planned.sessions[0]
        method, filename = "REQUEST", "invite.ics"
    organizer = by or _last_editor(about)
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
    key = f"{planned.kind}:{planned.uid}:{sequence}:{recipient.email.lower()}"
    return MailMessage(
        session_id=about.id if about is not None else None,
        person=recipient.person,
        recipient_name=recipient.name[:100],
        to_address=recipient.email,
        kind=planned.kind,
        subject=subject[:300],
        content=content,
        dedupe_key=key[:KEY_LENGTH],
        status=MailStatus.PENDING,
        attempts=0,
        error="",
    )


def _last_editor(session: MeetingSession | None) -> Person | None:
    """Whose name the message goes out in when no one is acting (the batch): the last
    person to change the session."""
    if session is None:
        return None
    people = [c.person for c in session.changes if c.person is not None]
    return people[-1] if people else None


def _request_text(planned: Planned, issuer: calendar.Issuer) -> tuple[str, str]:
    theirs = planned.sessions
    first = theirs[0]
    series = first.series is not None
    recipient = planned.addressee.recipient
    subject = compose.subject(planned.kind, first.title, compose.when(first))
    blocks: list[list[str]] = []
    if planned.changes:
        blocks.append([_("What has changed"), *(f"  ・{line}" for line in planned.changes)])
    if series:
        dates = [_("Sessions (%(n)d)", n=len(theirs))]
        dates += [f"  {compose.when(s)}" for s in theirs]
        blocks += [compose.facts(first, with_time=False), dates]
    else:
        blocks += [compose.facts(first), compose.agenda(first)]
    blocks.append(_materials_block(planned, issuer.links))
    blocks.append(compose.page(first, recipient, issuer.links))
    body = compose.body(
        recipient.name,
        compose.intro(planned.kind, series=series),
        blocks,
        compose.calendar_note("REQUEST", "invite.ics", series=series),
    )
    return subject, body


def _cancellation(
    planned: Planned,
    issuer: calendar.Issuer,
    sessions: list[MeetingSession],
    sequence: int,
    now: datetime,
) -> tuple[bytes, str, str, MeetingSession | None]:
    """A cancellation of the person's whole event, or of some occurrences they had."""
    rows = sorted(planned.withdrawn, key=lambda r: r.snapshot["start"])
    whole = not planned.sessions
    withdrawn = [
        calendar.Withdrawn(
            uid=planned.uid,
            title=row.snapshot["title"],
            start=datetime.fromisoformat(row.snapshot["start"]),
            end=datetime.fromisoformat(row.snapshot["end"]),
            recurrence_id=(
                None
                if whole or row.snapshot["recurrence_id"] is None
                else datetime.fromisoformat(row.snapshot["recurrence_id"])
            ),
        )
        for row in (rows[:1] if whole else rows)
    ]
    recipient = planned.addressee.recipient
    ics = calendar.cancel(
        withdrawn,
        recipient,
        issuer,
        organizer_body=rows[0].snapshot.get("host", ""),
        sequence=sequence,
        dtstamp=now,
    )
    first = rows[0].snapshot
    subject = _("Cancelled: %(title)s (%(when)s)", title=first["title"], when=_when(first))[:300]
    lines = [f"■ {first['title']}"] + [f"  {_when(row.snapshot)}" for row in rows]
    body = compose.body(
        recipient.name,
        _cancel_reason(sessions, rows, moved=planned.moved),
        [lines],
        compose.calendar_note("CANCEL", "cancel.ics"),
    )
    by_id = {s.id: s for s in sessions}
    return ics, subject, body, by_id.get(rows[0].session_id)
