"""Who a session convenes: selected members of a body (選定招集) and participants (関係者).

Both change who may see a session's closed items, so the secretariat of the session alone
makes them, bad input changes nothing, and every change is written to the audit log here,
one entry per body concerned (never a name or a title: ids only). Nothing is mailed but a
new participant's invitation, which the view queues; telling those no longer convened is
the change notices' work.

A participant is someone who is *not* a member of the body owning their items: a member is
convened as a member (chosen, if the body is convened with selected members), and holds
the body's pledge, not a session's.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from renkei.db import utcnow
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Body,
    MeetingSession,
    Membership,
    Participant,
    Person,
    SelectedMember,
    Selection,
    SessionPledge,
    Status,
)
from renkei.services import audit, policy, scheduling
from renkei.services.accounts import PersonData, create_person
from renkei.services.dates import today, tokyo_date
from renkei.services.errors import DomainError, Forbidden, NotFound

# --- Selected members -----------------------------------------------------------------------


def members_on_the_day(db: Session, session: MeetingSession, body: Body) -> list[Membership]:
    """The body's terms current on the session's date, each person once, in kana order:
    those who may be chosen (an ended term cannot be convened)."""
    terms = db.scalars(
        select(Membership)
        .join(Membership.person)
        .where(
            Membership.body_id == body.id,
            policy.current_membership_filter(tokyo_date(session.start_at)),
        )
        .options(contains_eager(Membership.person))
        .order_by(Person.kana, Person.name, Person.id)
    )
    found: dict[int, Membership] = {}
    for term in terms:
        found.setdefault(term.person_id, term)
    return list(found.values())


def set_selection(
    db: Session,
    session: MeetingSession,
    body_id: int,
    person_ids: list[int] | None,
    *,
    by: Person,
) -> bool:
    """Convene every member of the body (``person_ids`` None) or only those of
    ``person_ids``. Returns whether anything changed; each change is audited."""
    body = _served_body(session, body_id)
    _require_open(db, session, by)
    selection = session.selection_of(body.id)
    before = selection.person_ids if selection is not None else None
    if person_ids is None:
        if selection is None:
            return False
        session.selections.remove(selection)
        session.note_change()
        db.flush()
        _audit(db, by, "convened_all", session, body.id, _change(before, None))
        return True
    chosen = _check_chosen(db, session, body, person_ids)
    if chosen == before:
        return False
    if selection is None:
        selection = Selection(body_id=body.id)
        session.selections.append(selection)
    selection.set_by_id, selection.set_at = by.id, utcnow()
    selection.members = [m for m in selection.members if m.person_id in chosen]
    kept = selection.person_ids
    selection.members.extend(SelectedMember(person_id=p) for p in sorted(chosen - kept))
    session.note_change()
    db.flush()
    _audit(db, by, "convened_selected", session, body.id, _change(before, chosen))
    return True


def _served_body(session: MeetingSession, body_id: int) -> Body:
    body = next((b for b in session.bodies if b.id == body_id), None)
    if body is None:
        raise NotFound(_l("This body is not served by this session."))
    return body


def _require_open(db: Session, session: MeetingSession, by: Person) -> None:
    if not policy.session_access(db, by, session).can_manage:
        raise Forbidden(_l("Only the secretariat of the bodies served may change this session."))
    if session.status == Status.CANCELLED:
        raise DomainError(_l("This session has been cancelled."))


def _check_chosen(
    db: Session, session: MeetingSession, body: Body, person_ids: list[int]
) -> set[int]:
    chosen = set(person_ids)
    if not chosen:
        raise DomainError(
            _l(
                "Choose at least one member of %(body)s to convene, or convene every member.",
                body=body.name,
            ),
            "person_ids",
        )
    members = {term.person_id for term in members_on_the_day(db, session, body)}
    if not chosen <= members:
        raise DomainError(
            _l(
                "Only current members of %(body)s on the day of the session can be convened. "
                "Reload the page and choose again.",
                body=body.name,
            ),
            "person_ids",
        )
    return chosen


def _change(before: set[int] | None, after: set[int] | None) -> str:
    """What the audit entry says: person ids convened and let go (no names)."""

    def ids(values: set[int]) -> str:
        return ",".join(str(v) for v in sorted(values)) or "-"

    if after is None:
        return f"all members; before: {ids(before or set())}"
    if before is None:
        return f"selected: {ids(after)}; before: all members"
    return f"selected: {ids(after)}; added: {ids(after - before)}; removed: {ids(before - after)}"


def _audit(
    db: Session, by: Person, action: str, session: MeetingSession, body_id: int, detail: str
) -> None:
    audit.record(
        db,
        by,
        audit.CONTENT,
        action,
        subject_type="session",
        subject_id=session.id,
        body_id=body_id,
        session_id=session.id,
        detail=detail,
    )


# --- Participants ---------------------------------------------------------------------------


@dataclass
class ParticipantData:
    """An existing person (``person_id``) or a new one (``new_person``), their items, and
    whether they may read those items' minutes sections."""

    item_ids: list[int] = field(default_factory=list)
    person_id: int | None = None
    new_person: PersonData | None = None
    may_read_minutes: bool = False


def add_participant(
    db: Session, session: MeetingSession, data: ParticipantData, *, by: Person
) -> Participant:
    access = _require_participant_manager(db, session, by)
    items = _check_items(session, data.item_ids, access)
    person = _person(db, session, data)
    _check_not_member(db, session, person, items)
    participant = Participant(
        person=person, items=items, may_read_minutes=data.may_read_minutes, added_by_id=by.id
    )
    session.participants.append(participant)
    session.note_change()
    db.flush()
    for body_id in _owners(items):
        _audit(db, by, "participant_added", session, body_id, _assignment(participant))
    return participant


def update_participant(
    db: Session,
    participant: Participant,
    item_ids: list[int],
    may_read_minutes: bool,
    *,
    by: Person,
) -> bool:
    """Change a participant's items and minutes permission; items the changer may not see
    stay as they were (nobody opens what they cannot read). Returns whether it changed."""
    session = participant.session
    access = _require_participant_manager(db, session, by)
    unseen = [i for i in participant.items if not access.can_see_item(i)]
    items = _check_items(session, item_ids, access, keep=unseen)
    _check_not_member(db, session, participant.person, items)
    before_owners = _owners(participant.items)
    if {i.id for i in items} == participant.item_ids and (
        may_read_minutes == participant.may_read_minutes
    ):
        return False
    participant.items = items
    participant.may_read_minutes = may_read_minutes
    db.flush()
    for body_id in sorted(before_owners | _owners(items)):
        _audit(db, by, "participant_changed", session, body_id, _assignment(participant))
    return True


def remove_participant(db: Session, participant: Participant, *, by: Person) -> None:
    session = participant.session
    _require_participant_manager(db, session, by)
    # Items deleted since leave no owner: the entry then goes to the host body's log.
    owners = _owners(participant.items) or {session.host_body_id}
    detail = f"person {participant.person_id}"
    session.participants.remove(participant)
    session.note_change()
    db.flush()
    for body_id in sorted(owners):
        _audit(db, by, "participant_removed", session, body_id, detail)


def _require_participant_manager(
    db: Session, session: MeetingSession, by: Person
) -> policy.SessionAccess:
    _require_open(db, session, by)
    return policy.session_access(db, by, session)


def _check_items(
    session: MeetingSession,
    item_ids: list[int],
    access: policy.SessionAccess,
    keep: list[AgendaItem] | None = None,
) -> list[AgendaItem]:
    """The session's items of ``item_ids`` (with ``keep``), each one the changer may see:
    assigning an item opens it to the participant."""
    keep = keep or []
    wanted = set(item_ids) - {i.id for i in keep}
    if not wanted and not keep:
        raise DomainError(_l("Choose at least one agenda item for the participant."), "item_ids")
    ours = {item.id: item for item in session.items}
    if not wanted <= set(ours):
        raise DomainError(
            _l("A participant can only be assigned to agenda items of this session."),
            "item_ids",
        )
    items = [ours[i] for i in sorted(wanted)]
    if not all(access.can_see_item(item) for item in items):
        raise Forbidden(
            _l("You can only assign a participant to agenda items you may see yourself."),
            "item_ids",
        )
    return sorted([*items, *keep], key=lambda i: i.position)


def _person(db: Session, session: MeetingSession, data: ParticipantData) -> Person:
    new = data.new_person if data.new_person and data.new_person.name.strip() else None
    if new is not None and data.person_id is not None:
        raise DomainError(
            _l("Choose a registered person or enter a new one, not both."), "person_id"
        )
    if new is not None:
        return create_person(db, new)
    if data.person_id is None:
        raise DomainError(_l("Choose the person, or enter the name of a new person."), "person_id")
    person = db.get(Person, data.person_id)
    if person is None or not person.active:
        raise DomainError(_l("The person does not exist."), "person_id")
    if any(p.person_id == person.id for p in session.participants):
        raise DomainError(
            _l("%(name)s is already a participant of this session.", name=person.name),
            "person_id",
        )
    return person


def _check_not_member(
    db: Session, session: MeetingSession, person: Person, items: list[AgendaItem]
) -> None:
    """A member of an owning body is convened as a member: they hold the body's pledge and
    its duty, and would else be entitled by two routes at once."""
    owners = _owners(items)
    days = (today(), tokyo_date(session.start_at))
    terms = db.scalars(
        select(Membership).where(Membership.person_id == person.id, Membership.body_id.in_(owners))
    )
    term = next((t for t in terms if any(t.is_current(day) for day in days)), None)
    if term is not None:
        raise DomainError(
            _l(
                "%(name)s is a member of %(body)s. Convene them as a member (choose them "
                "among the members convened) rather than as a participant.",
                name=person.name,
                body=term.body.name,
            ),
            "person_id",
        )


def _owners(items: list[AgendaItem]) -> set[int]:
    return {item.body_id for item in items}


def _assignment(participant: Participant) -> str:
    items = ",".join(str(i) for i in sorted(participant.item_ids)) or "-"
    minutes = "yes" if participant.may_read_minutes else "no"
    return f"person {participant.person_id}; items: {items}; minutes: {minutes}"


def session_pledges(db: Session, session: MeetingSession) -> set[tuple[int, int]]:
    """(person id, body id) of every pledge recorded for ``session``: one query."""
    rows = db.execute(
        select(SessionPledge.person_id, SessionPledge.body_id).where(
            SessionPledge.session_id == session.id
        )
    )
    return {(row.person_id, row.body_id) for row in rows}


def participant_of(session: MeetingSession, person: Person) -> Participant | None:
    return next((p for p in session.participants if p.person_id == person.id), None)


# --- Session pledges ------------------------------------------------------------------------


def record_session_pledge(
    db: Session,
    session: MeetingSession,
    body_id: int,
    person: Person,
    *,
    by: Person,
    on: date | None = None,
) -> SessionPledge:
    """A participant pledges for this session and the body owning some of their items (to
    the text of that body's law): themself, or the secretariat records it for them."""
    on = on or today()
    body = _served_body(session, body_id)
    if by.id != person.id:
        scheduling.require_manager(db, session, by)
    participant = participant_of(session, person)
    if participant is None or body.id not in _owners(participant.items):
        raise DomainError(
            _l(
                "Only a participant assigned to an item of %(body)s in this session can "
                "pledge for it here.",
                body=body.name,
            )
        )
    if on > today():
        raise DomainError(_l("A pledge cannot be dated in the future."), "pledged_on")
    existing = db.scalar(
        select(SessionPledge.id).where(
            SessionPledge.session_id == session.id,
            SessionPledge.person_id == person.id,
            SessionPledge.body_id == body.id,
        )
    )
    if existing is not None:
        raise DomainError(_l("A pledge for this session is already on record."))
    pledge = SessionPledge(
        session_id=session.id,
        person_id=person.id,
        body_id=body.id,
        pledged_on=on,
        recorded_by_id=by.id,
    )
    db.add(pledge)
    db.flush()
    audit.record(
        db,
        by,
        audit.CONTENT,
        "session_pledge",
        subject_type="person",
        subject_id=person.id,
        body_id=body.id,
        session_id=session.id,
    )
    return pledge
