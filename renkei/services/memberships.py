"""Memberships: who sits on which body, in which role, for which term."""

import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from renkei.i18n import gettext as _
from renkei.i18n import labelled
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    Body,
    MailMessage,
    Membership,
    Organisation,
    Person,
    Role,
)
from renkei.services import audit, mail, notices, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden


@dataclass
class MembershipData:
    person_id: int
    role: str
    term_start: date
    term_end: date | None = None
    organisation_id: int | None = None
    note: str = ""


def body_memberships(db: Session, body: Body) -> list[Membership]:
    """All terms on the body, current and past, with people and organisations loaded."""
    return list(
        db.scalars(
            select(Membership)
            .where(Membership.body_id == body.id)
            .options(
                joinedload(Membership.person).joinedload(Person.organisation),
                joinedload(Membership.organisation),
            )
            .order_by(Membership.term_start.desc(), Membership.id)
        )
    )


def split_current(
    memberships: list[Membership], on: date | None = None
) -> tuple[list[Membership], list[Membership], list[Membership]]:
    """(current, past, future) terms, current ones ordered by role then name."""
    on = on or today()
    role_order = list(Role)
    current = sorted(
        (m for m in memberships if m.is_current(on)),
        key=lambda m: (role_order.index(m.role), m.person.kana or m.person.name),
    )
    past = [m for m in memberships if m.term_end is not None and m.term_end < on]
    future = [m for m in memberships if m.term_start > on]
    return current, past, future


def municipalities_known(terms: list[Membership]) -> bool:
    """Whether any of the terms' organisations (the one represented, else the person's)
    records its municipality: the body page then says which town each member is from."""
    for m in terms:
        organisation = m.organisation or m.person.organisation
        if organisation is not None and organisation.municipality:
            return True
    return False


def current_member_counts(db: Session, on: date | None = None) -> dict[int, int]:
    """Body id -> number of people with a current term, counted in the database."""
    rows = db.execute(
        select(Membership.body_id, func.count(func.distinct(Membership.person_id)))
        .where(policy.current_membership_filter(on or today()))
        .group_by(Membership.body_id)
    )
    return {body_id: n for body_id, n in rows}


def person_memberships(db: Session, person: Person) -> list[Membership]:
    return list(
        db.scalars(
            select(Membership)
            .where(Membership.person_id == person.id)
            .options(joinedload(Membership.body), joinedload(Membership.organisation))
            .order_by(Membership.term_start.desc())
        )
    )


def current_terms_of(db: Session, person: Person, on: date) -> list[Membership]:
    """The person's terms current on ``on``, with their bodies, by body name (the home
    page's "My bodies")."""
    return list(
        db.scalars(
            select(Membership)
            .join(Membership.body)
            .where(Membership.person_id == person.id, policy.current_membership_filter(on))
            .options(contains_eager(Membership.body))
            .order_by(Body.name, Membership.id)
        )
    )


def validate(
    db: Session, body: Body, data: MembershipData, membership_id: int | None = None
) -> tuple[Person, Role]:
    """Raise DomainError for the first thing wrong with ``data``; return (person, role)."""
    person = db.get(Person, data.person_id) if data.person_id else None
    if person is None:
        raise DomainError(_l("The person does not exist."), "person_id")
    try:
        role = Role(data.role)
    except ValueError:
        raise DomainError(_l("Choose a role."), "role") from None
    if data.organisation_id is not None and db.get(Organisation, data.organisation_id) is None:
        raise DomainError(_l("The organisation does not exist."), "organisation_id")
    if data.term_end is not None and data.term_end < data.term_start:
        raise DomainError(_l("The term cannot end before it starts."), "term_end")
    clash = _overlapping_term(db, body.id, person.id, data, membership_id)
    if clash is not None:
        raise DomainError(
            _l(
                "%(name)s already has a term on this body from %(start)s that overlaps "
                "this one. End that term first.",
                name=person.name,
                start=clash.term_start.isoformat(),
            ),
            "term_start",
        )
    return person, role


def _overlapping_term(
    db: Session, body_id: int, person_id: int, data: MembershipData, membership_id: int | None
) -> Membership | None:
    query = select(Membership).where(
        Membership.body_id == body_id,
        Membership.person_id == person_id,
        (Membership.term_end.is_(None)) | (Membership.term_end >= data.term_start),
    )
    if data.term_end is not None:
        query = query.where(Membership.term_start <= data.term_end)
    if membership_id is not None:
        query = query.where(Membership.id != membership_id)
    return db.scalars(query.limit(1)).first()


def _require_manager(db: Session, body: Body, by: Person) -> None:
    if not policy.can_change_members(db, by, body):
        raise Forbidden(_l("Only the secretariat of this body may change its members."))


def add_membership(db: Session, body: Body, data: MembershipData, *, by: Person) -> Membership:
    _require_manager(db, body, by)
    person, role = validate(db, body, data)
    membership = Membership(
        body=body,
        person=person,
        role=role,
        organisation_id=data.organisation_id,
        term_start=data.term_start,
        term_end=data.term_end,
        note=data.note.strip(),
    )
    db.add(membership)
    db.flush()
    _log(db, by, "membership_added", membership)
    return membership


def _log(db: Session, by: Person, action: str, membership: Membership) -> None:
    """Membership and role changes go to the body's audit log: they decide who sees what;
    and to the body's coming sessions: they decide who is convened."""
    notices.body_changed(db, membership.body_id)
    audit.record(
        db,
        by,
        audit.CONTENT,
        action,
        subject_type="membership",
        subject_id=membership.id,
        body_id=membership.body_id,
        detail=f"person={membership.person_id} role={membership.role.value} "
        f"term={membership.term_start}..{membership.term_end or ''}",
    )


def update_membership(
    db: Session, membership: Membership, data: MembershipData, *, by: Person
) -> Membership:
    """Correct a term's record. The person stays the same: another person is a new term."""
    _require_manager(db, membership.body, by)
    data.person_id = membership.person_id
    _, role = validate(db, membership.body, data, membership.id)
    membership.role = role
    membership.organisation_id = data.organisation_id
    membership.term_start, membership.term_end = data.term_start, data.term_end
    membership.note = data.note.strip()
    db.flush()
    _log(db, by, "membership_changed", membership)
    return membership


def end_membership(db: Session, membership: Membership, on: date, *, by: Person) -> None:
    """End a term on ``on`` (the last day served). The term stays on record."""
    _require_manager(db, membership.body, by)
    if on < membership.term_start:
        raise DomainError(_l("The term cannot end before it starts."), "term_end")
    membership.term_end = on
    db.flush()
    _log(db, by, "membership_removed", membership)


# --- Announcing changes to the chair ---------------------------------------------------------

CHANGE_NOTICE = "membership-change"  # MailMessage.kind


# What happened to a term, as the chair's e-mail says it.
CHANGES = {
    "added": _l("Added: %(term)s"),
    "corrected": _l("Corrected: %(term)s"),
    "ended": _l("Term ended: %(term)s"),
}


def _describe(change: str, membership: Membership) -> str:
    end = membership.term_end.isoformat() if membership.term_end else ""
    term = f"{membership.person.name}（{membership.role.label}、{membership.term_start}〜{end}）"
    return str(CHANGES[change]) % {"term": term}


def announce_to_chairs(
    db: Session,
    body: Body,
    changes: list[tuple[str, Membership]],
    *,
    by: Person,
    sender: str,
    link: str,
) -> mail.QueueResult:
    """Tell the body's current chairs, by e-mail, that its membership changed: membership
    decides who sees a closed body's content, so nobody (an administrator included) changes
    it unseen. ``changes``: ("added" | "corrected" | "ended", the term). A public body's
    changes, and the chair's own, are not announced. Nothing is committed."""
    result = mail.QueueResult()
    if not policy.guards_membership(body):
        return result
    chairs = db.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.body_id == body.id,
            Membership.role == Role.CHAIR,
            policy.current_membership_filter(today()),
            Person.id != by.id,
        )
        .distinct()
    )
    with force_locale(mail.MAIL_LOCALE):
        lines = [_describe(change, membership) for change, membership in changes]
        for chair in chairs:
            address = mail.valid_address(chair.email)
            if address is None:
                result.without_address.append(chair.name)
                continue
            message = _change_notice(chair, address, body, lines, by, sender, link)
            db.add(message)
            result.messages.append(message)
    db.flush()
    return result


def _change_notice(
    chair: Person,
    address: str,
    body: Body,
    changes: list[str],
    by: Person,
    sender: str,
    link: str,
) -> MailMessage:
    return mail.plain_message(
        chair,
        address,
        kind=CHANGE_NOTICE,
        key=f"{CHANGE_NOTICE}:{body.id}:{secrets.token_hex(8)}",
        subject=_("The members of %(body)s have changed", body=body.name),
        intro=_(
            "%(name)s has changed the members of %(body)s, whose chair you are. Who is a "
            "member decides who may see the body's closed agenda items and minutes: if you "
            "did not expect this change, please contact the secretariat.",
            name=by.name,
            body=body.name,
        ),
        blocks=[changes, [labelled(_("Page"), link)]],
        organizer=None,
        sender=sender,
    )
