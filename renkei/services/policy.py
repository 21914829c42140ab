"""Who may do and see what. Every view, export and service asks here; nothing decides alone.

Administrators manage accounts, organisations and the structure of bodies, but are *not*
entitled to confidential content by that role alone (DESIGN.md, "Confidentiality").
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.models import Body, Membership, Person, Role
from renkei.services.dates import today


def current_membership_filter(on: date):
    return (Membership.term_start <= on) & (
        (Membership.term_end.is_(None)) | (Membership.term_end >= on)
    )


def managed_body_ids(db: Session, person: Person, on: date | None = None) -> set[int]:
    """Bodies the person runs as current secretary; an administrator runs every body."""
    if person.is_admin:
        return set(db.scalars(select(Body.id)))
    on = on or today()
    rows = db.scalars(
        select(Membership.body_id).where(
            Membership.person_id == person.id,
            Membership.role == Role.SECRETARY,
            current_membership_filter(on),
        )
    )
    return set(rows)


def can_manage_body(db: Session, person: Person, body: Body) -> bool:
    """Edit the body, its membership and its subcommittees."""
    return person.is_admin or body.id in managed_body_ids(db, person)


def can_create_body(db: Session, person: Person) -> bool:
    """Administrators create bodies; a secretary creates subcommittees of their own bodies."""
    return person.is_admin or bool(managed_body_ids(db, person))


def can_manage_people(db: Session, person: Person) -> bool:
    """Secretaries add the people they put on bodies (most have no login); admins all."""
    return person.is_admin or bool(managed_body_ids(db, person))


def can_see_contact_details(db: Session, viewer: Person, person: Person) -> bool:
    """E-mail and telephone are for the person, administrators and secretaries."""
    return viewer.id == person.id or can_manage_people(db, viewer)


def can_manage_accounts(person: Person) -> bool:
    """Logins, administrator flags and deactivation are the administrators' alone."""
    return person.is_admin


def can_manage_organisations(person: Person) -> bool:
    return person.is_admin


def can_edit_person(db: Session, viewer: Person, person: Person) -> bool:
    """A secretary edits the people without a login; an account is edited by its holder or
    an administrator, so nobody can take over a login by changing its e-mail address."""
    if viewer.is_admin or viewer.id == person.id:
        return True
    return not person.has_login and can_manage_people(db, viewer)
