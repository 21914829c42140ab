"""Referrals (つなぎ): record, follow and list the cases organisations pass to each other.

A referral names its case by case number only (services/case_numbers.py): the number must
be one already issued, or the next one is issued for it. Who sees a referral is the
policy's (``policy.referral_filter``, ``policy.can_see_referral``): every list here is
filtered in SQL. Each change is a line of the referral's history (``ReferralEvent``) and an
entry of the audit log; neither holds the note's text, only which fields changed.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    ActionItem,
    AgendaItem,
    Body,
    BodyKind,
    Consent,
    MeetingSession,
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Organisation,
    Person,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Status,
    Topic,
    Visibility,
)
from renkei.models.referrals import NOTE_LENGTH, REASON_LENGTH, TOPIC_LENGTH
from renkei.services import agenda, audit, case_numbers, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden, NotFound

DEFAULT_TOPICS = (
    "家計",
    "住まい",
    "就労",
    "認知症",
    "8050",
    "障害",
    "健康",
    "子ども・若者",
    "債務",
    "その他",
)
MAX_POSITION = 9999  # a topic's place in the list
DEFAULT_CONTACT_DAYS = 14  # REFERRAL_CONTACT_DAYS: still 受付 after this many days is overdue

# Fields whose changes the history names (never their old or new text).
FIELD_LABELS = {
    "referred_on": _l("date referred"),
    "from_organisation_id": _l("from"),
    "to_organisation_id": _l("to"),
    "responsible_id": _l("responsible staff member"),
    "case_number": _l("case number"),
    "consent": _l("consent"),
    "note": _l("note"),
    "topics": _l("topics"),
}


@dataclass
class ReferralData:
    referred_on: date | None
    from_organisation_id: int | None
    to_organisation_id: int | None
    case_number: str = ""
    assign_case_number: bool = False  # issue the next number of the referral's fiscal year
    case_prefix: str = ""  # the installation's CASE_NUMBER_PREFIX
    responsible_id: int | None = None
    topic_ids: Sequence[int] = ()
    consent: str = ""
    note: str = ""


@dataclass
class Filters:
    status: str = ""
    from_organisation_id: int | None = None
    to_organisation_id: int | None = None
    fiscal_year: int | None = None
    overdue: bool = False
    contact_days: int = DEFAULT_CONTACT_DAYS


# --- Topics -------------------------------------------------------------------------------


def seed_topics(db: Session) -> None:
    """The usual topics, on an install that has none (the migration seeds them too)."""
    if db.scalar(select(func.count()).select_from(Topic)):
        return
    for position, name in enumerate(DEFAULT_TOPICS, start=1):
        db.add(Topic(name=name, position=position))
    db.flush()


def list_topics(db: Session, *, active_only: bool = False) -> list[Topic]:
    query = select(Topic).order_by(Topic.position, Topic.id)
    if active_only:
        query = query.where(Topic.active)
    return list(db.scalars(query))


def save_topic(
    db: Session, topic: Topic | None, *, name: str, position: int, active: bool, by: Person
) -> Topic:
    """Add (``topic`` None) or change a topic: administrators only. A topic in use is
    retired (``active`` False) rather than removed, so old referrals keep it."""
    if not policy.can_manage_topics(by):
        raise Forbidden(_l("Only an administrator may change the list of topics."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    if len(name) > TOPIC_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=TOPIC_LENGTH), "name")
    if not 0 <= position <= MAX_POSITION:
        raise DomainError(_l("Enter a number from 0 to %(max)d.", max=MAX_POSITION), "position")
    other = db.scalar(select(Topic).where(Topic.name == name))
    if other is not None and other is not topic:
        raise DomainError(_l("A topic with this name already exists."), "name")
    if topic is None:
        topic = Topic()
        db.add(topic)
    topic.name, topic.position, topic.active = name, position, active
    db.flush()
    audit.record(db, by, audit.ACCOUNT, "referral_topic", subject_type="topic", subject_id=topic.id)
    return topic


# --- Checks -------------------------------------------------------------------------------


def _organisation(db: Session, org_id: int | None, field_name: str) -> Organisation:
    found = db.get(Organisation, org_id) if org_id else None
    if found is None:
        message = (
            _l("Choose the organisation that referred the case.")
            if field_name == "from_organisation_id"
            else _l("Choose the organisation the case was referred to.")
        )
        raise DomainError(message, field_name)
    return found


def _day(day: date | None, field_name: str, *, not_before: date | None = None) -> date:
    if day is None:
        raise DomainError(_l("Enter a date such as 2026-04-01."), field_name)
    if day > today():
        raise DomainError(_l("The date is in the future: enter the day it happened."), field_name)
    if not_before is not None and day < not_before:
        raise DomainError(
            _l("The date is before the referral was made (%(day)s).", day=not_before.isoformat()),
            field_name,
        )
    return day


def _consent(value: str) -> Consent:
    try:
        return Consent(value)
    except ValueError:
        raise DomainError(
            _l("Choose whether the person consented to sharing."), "consent"
        ) from None


def _responsible(db: Session, person_id: int | None, org_ids: set[int]) -> Person | None:
    if person_id is None:
        return None
    person = db.get(Person, person_id)
    if person is None or not person.active or person.organisation_id not in org_ids:
        raise DomainError(
            _l("Choose a staff member of the referring or the receiving organisation."),
            "responsible_id",
        )
    return person


def _topics(db: Session, ids: Iterable[int], current: Iterable[Topic] = ()) -> list[Topic]:
    """The chosen topics; one retired since stays on a referral that had it."""
    wanted = set(ids)
    kept = {t.id for t in current}
    found = list(db.scalars(select(Topic).where(Topic.id.in_(wanted)))) if wanted else []
    usable = [t for t in found if t.active or t.id in kept]
    if len(usable) != len(wanted):
        raise DomainError(_l("Choose topics from the list."), "topic_ids")
    return sorted(usable, key=lambda t: (t.position, t.id))


def _note(text: str) -> str:
    note = (text or "").strip()
    if len(note) > NOTE_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=NOTE_LENGTH), "note")
    return note


def _check_sender(by: Person, from_id: int, to_id: int, consent: Consent) -> None:
    """Staff record what their organisation sends, or, with consent, receives."""
    org = by.organisation_id
    if org is None or org not in (from_id, to_id):
        raise Forbidden(
            _l("You can record only referrals that your organisation makes or receives."),
            "from_organisation_id",
        )
    if org != from_id and consent is not Consent.GIVEN:
        raise DomainError(
            _l(
                "Without the person's consent only the referring organisation keeps the "
                "record: record it there, or record the consent first."
            ),
            "consent",
        )


def _validated(
    db: Session, data: ReferralData, by: Person, before: Referral | None
) -> dict[str, Any]:
    referred_on = _day(data.referred_on, "referred_on")
    source = _organisation(db, data.from_organisation_id, "from_organisation_id")
    target = _organisation(db, data.to_organisation_id, "to_organisation_id")
    if source.id == target.id:
        raise DomainError(
            _l("A referral goes to another organisation than the one it comes from."),
            "to_organisation_id",
        )
    consent = _consent(data.consent)
    _check_sender(by, source.id, target.id, consent)
    return {
        "referred_on": referred_on,
        "from_organisation_id": source.id,
        "to_organisation_id": target.id,
        "consent": consent,
        "responsible_id": getattr(
            _responsible(db, data.responsible_id, {source.id, target.id}), "id", None
        ),
        "note": _note(data.note),
        "topics": _topics(db, data.topic_ids, before.topics if before else ()),
    }


def _case_number(db: Session, data: ReferralData, day: date, current: str | None) -> str:
    """The number typed (issued before) or the next one issued; checked last, since issuing
    writes the counter."""
    typed = (data.case_number or "").strip()
    if data.assign_case_number:
        if typed:
            raise DomainError(
                _l("To assign the next case number, leave the case number empty."), "case_number"
            )
        return str(case_numbers.issue(db, data.case_prefix, day))
    if not typed:
        raise DomainError(
            _l("Enter the case number, or tick “Assign the next case number”."), "case_number"
        )
    return case_numbers.typed(db, typed, data.case_prefix, day, current=current)


# --- Changes ------------------------------------------------------------------------------


def _event(db: Session, referral: Referral, by: Person, kind: str, **values: object) -> None:
    referral.events.append(ReferralEvent(person_id=by.id, kind=kind, **values))
    db.flush()
    audit.record(
        db,
        by,
        audit.CONTENT,
        f"referral_{kind}",
        subject_type="referral",
        subject_id=referral.id,
        detail=str(values.get("note", "")) if kind == "edited" else "",
    )


def create(db: Session, data: ReferralData, *, by: Person) -> Referral:
    values = _validated(db, data, by, None)
    topics = values.pop("topics")
    values["case_number"] = _case_number(db, data, values["referred_on"], None)
    referral = Referral(
        **values,
        status=ReferralStatus.RECEIVED,
        status_on=values["referred_on"],
        created_by_id=by.id,
        created_at=utcnow(),
    )
    referral.topics = topics
    db.add(referral)
    db.flush()
    _event(db, referral, by, "created", on=referral.referred_on, to_status=referral.status)
    return referral


def edit(db: Session, referral: Referral, data: ReferralData, *, by: Person) -> list[str]:
    """Change a referral's facts (not its status); return the fields that changed."""
    if not policy.can_change_referral(by, referral):
        raise Forbidden(_l("Only the organisations that hold this referral may change it."))
    values = _validated(db, data, by, referral)
    received = referral.status is ReferralStatus.RECEIVED
    if not received and referral.status_on < values["referred_on"]:
        raise DomainError(
            _l("The date is after the last change of status: correct that first."),
            "referred_on",
        )
    values["case_number"] = _case_number(
        db, data, values["referred_on"], current=referral.case_number
    )
    changed = [name for name, value in values.items() if getattr(referral, name) != value]
    for name in changed:
        setattr(referral, name, values[name])
    if received:  # still as received: its status dates from the referral
        referral.status_on = referral.referred_on
    if changed:
        fields = ", ".join(str(FIELD_LABELS[name]) for name in changed)
        _event(db, referral, by, "edited", note=fields)
    return changed


def change_status(
    db: Session,
    referral: Referral,
    status: str,
    *,
    on: date | None,
    reason: str = "",
    by: Person,
) -> None:
    """Move the referral on (受付 → 接触済 → 支援開始 → 終了, or 未接触); back only with a
    reason, which the history keeps."""
    if not policy.can_edit_referral(db, by, referral):
        raise Forbidden(_l("Only the organisations that hold this referral may change it."))
    try:
        new = ReferralStatus(status)
    except ValueError:
        raise DomainError(_l("Choose the new status."), "status") from None
    if new == referral.status:
        raise DomainError(_l("The referral already has this status."), "status")
    day = _day(on, "on", not_before=referral.referred_on)
    reason = (reason or "").strip()
    if len(reason) > REASON_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=REASON_LENGTH), "reason")
    if new.stage < referral.status.stage and not reason:
        raise DomainError(
            _l("The status goes back from “%(old)s”: give the reason.", old=referral.status.label),
            "reason",
        )
    old = referral.status
    referral.status, referral.status_on = new, day
    _event(db, referral, by, "status", on=day, from_status=old, to_status=new, reason=reason)


def take_to_meeting(
    db: Session, referral: Referral, session: MeetingSession, *, by: Person, case_prefix: str = ""
) -> AgendaItem:
    """「支援会議で検討する」: add a confidential item for the case to an upcoming session of
    a 支援会議 (through the agenda service, so its checks, history and audit apply)."""
    if not policy.can_see_referral(db, by, referral):
        raise NotFound(_l("This referral does not exist."))
    if referral.agenda_item is not None:
        raise DomainError(
            _l("This case is already on the agenda of a support meeting."), "session_id"
        )
    body = _support_body(session)
    if body is None or session not in upcoming_support_sessions(db, by):
        raise DomainError(
            _l("Choose an upcoming support meeting session whose agenda you prepare."),
            "session_id",
        )
    data = agenda.ItemData(
        title=_("Case %(number)s (referral)", number=referral.case_number),
        body_id=body.id,
        visibility=Visibility.CONFIDENTIAL.value,
        case_number=referral.case_number,
        case_prefix=case_prefix,
    )
    item = agenda.add_item(db, session, data, by=by)
    referral.agenda_item_id = item.id
    db.flush()
    db.expire(referral, ["agenda_item"])
    _event(db, referral, by, "meeting", note=f"session {session.id} item {item.id}")
    return item


def _support_body(session: MeetingSession) -> Body | None:
    return next((b for b in session.bodies if b.kind == BodyKind.SUPPORT_MEETING), None)


def upcoming_support_sessions(db: Session, person: Person) -> list[MeetingSession]:
    """The sessions still to come of a 支援会議 whose agenda ``person`` prepares."""
    managed = policy.secretary_body_ids(db, person)
    if not managed:
        return []
    sessions = db.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.start_at > utcnow(),
            MeetingSession.status.in_((Status.PREPARED, Status.CONVENED)),
        )
        .order_by(MeetingSession.start_at)
        .options(selectinload(MeetingSession.bodies))
    )
    return [
        s for s in sessions if _support_body(s) is not None and {b.id for b in s.bodies} <= managed
    ]


# --- Reading ------------------------------------------------------------------------------


def _loaded(query: Select[Referral]) -> Select[Referral]:
    return query.options(
        selectinload(Referral.from_organisation),
        selectinload(Referral.to_organisation),
        selectinload(Referral.responsible),
        selectinload(Referral.topics),
    )


def _filter_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.status:
        conditions.append(Referral.status == filters.status)
    if filters.from_organisation_id:
        conditions.append(Referral.from_organisation_id == filters.from_organisation_id)
    if filters.to_organisation_id:
        conditions.append(Referral.to_organisation_id == filters.to_organisation_id)
    if filters.fiscal_year:
        start = date(filters.fiscal_year, 4, 1)
        conditions.append(Referral.referred_on >= start)
        conditions.append(Referral.referred_on < date(filters.fiscal_year + 1, 4, 1))
    if filters.overdue:
        conditions.append(Referral.status == ReferralStatus.RECEIVED)
        conditions.append(Referral.referred_on < overdue_before(filters.contact_days))
    return conditions


def overdue_before(contact_days: int) -> date:
    """Referrals made before this day and still 受付 are overdue."""
    return today() - timedelta(days=contact_days)


def list_referrals(db: Session, viewer: Person, filters: Filters | None = None) -> list[Referral]:
    """The referrals ``viewer`` may see, newest first: a fixed number of queries however
    many there are."""
    filters = filters or Filters()
    query = (
        select(Referral)
        .where(policy.referral_filter(db, viewer), *_filter_conditions(filters))
        .order_by(Referral.referred_on.desc(), Referral.id.desc())
    )
    return list(db.scalars(_loaded(query)))


def get_referral(db: Session, viewer: Person, referral_id: int) -> Referral:
    """The referral, or NotFound for one the viewer may not know of."""
    referral = db.get(Referral, referral_id)
    if referral is None or not policy.can_see_referral(db, viewer, referral):
        raise NotFound(_l("This referral does not exist."))
    return referral


def is_overdue(referral: Referral, contact_days: int) -> bool:
    return referral.status is ReferralStatus.RECEIVED and referral.referred_on < overdue_before(
        contact_days
    )


def csv_rows(referrals: Iterable[Referral]) -> list[list[object]]:
    header: list[object] = [
        _("Date referred"),
        _("Case number"),
        _("Referred from"),
        _("Referred to"),
        _("Responsible"),
        _("Topics"),
        _("Consent"),
        _("Status"),
        _("Status since"),
        _("Note"),
    ]
    rows: list[list[object]] = [header]
    for r in referrals:
        rows.append(
            [
                r.referred_on.isoformat(),
                r.case_number,
                r.from_organisation.name,
                r.to_organisation.name,
                r.responsible.name if r.responsible else "",
                "・".join(t.name for t in r.topics),
                r.consent.label,
                r.status.label,
                r.status_on.isoformat(),
                r.note,
            ]
        )
    return rows


def record_export(db: Session, by: Person, count: int) -> None:
    audit.record(
        db, by, audit.CONTENT, "referral_export", subject_type="referral", detail=f"{count} rows"
    )


# --- The case view ------------------------------------------------------------------------


@dataclass
class CaseRecord:
    """What one viewer may see of one case number."""

    case_number: str
    referrals: list[Referral] = field(default_factory=list)
    items: list[AgendaItem] = field(default_factory=list)
    sections: list[MinutesSection] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.referrals or self.items or self.sections)

    @property
    def actions(self) -> list[ActionItem]:
        return [action for section in self.sections for action in section.actions]


def case_record(db: Session, viewer: Person, text: str) -> CaseRecord:
    """The case's referrals, agenda items and approved minutes sections that ``viewer`` may
    see; NotFound when that is nothing (a case one may not see does not exist for one)."""
    number = case_numbers.normal(text)
    record = CaseRecord(number)
    record.referrals = list(
        db.scalars(
            _loaded(
                select(Referral)
                .where(Referral.case_number == number, policy.referral_filter(db, viewer))
                .order_by(Referral.referred_on, Referral.id)
            )
        )
    )
    items = db.scalars(
        select(AgendaItem)
        .where(AgendaItem.case_number == number)
        .options(selectinload(AgendaItem.session).selectinload(MeetingSession.bodies))
    ).all()
    readable = policy.readable_items(db, viewer, items)
    record.items = sorted(
        (i for i in items if i.id in readable), key=lambda i: (i.session.start_at, i.position)
    )
    record.sections = _sections(db, viewer, number)
    if record.empty:
        raise NotFound(_l("This case does not exist."))
    return record


def _sections(db: Session, viewer: Person, number: str) -> list[MinutesSection]:
    """The case's sections in the latest approved version of each session's minutes. Latest
    among all approved versions, not among those naming the case: after a correction to
    another case number, the superseded version no longer speaks for this case."""
    latest = (
        select(MinutesVersion.minutes_id, func.max(MinutesVersion.number).label("number"))
        .where(MinutesVersion.status == MinutesStatus.APPROVED)
        .group_by(MinutesVersion.minutes_id)
        .subquery()
    )
    current = db.scalars(
        select(MinutesSection)
        .join(MinutesVersion, MinutesSection.version_id == MinutesVersion.id)
        .join(
            latest,
            (latest.c.minutes_id == MinutesVersion.minutes_id)
            & (latest.c.number == MinutesVersion.number),
        )
        .where(
            MinutesSection.case_number == number,
            MinutesVersion.status == MinutesStatus.APPROVED,
        )
        .options(
            selectinload(MinutesSection.version)
            .selectinload(MinutesVersion.minutes)
            .selectinload(Minutes.session)
            .selectinload(MeetingSession.bodies),
            selectinload(MinutesSection.actions).selectinload(ActionItem.owner),
            selectinload(MinutesSection.actions).selectinload(ActionItem.owner_organisation),
        )
    ).all()
    readable = policy.readable_sections(db, viewer, current)
    shown = [s for s in current if s.id in readable]
    return sorted(shown, key=lambda s: (s.version.minutes.session.start_at, s.position))
