"""Confidentiality pledges (守秘義務の確認): recorded by the member or by the secretariat."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.i18n import lazy_gettext as _l
from renkei.models import Body, Membership, Person, Pledge
from renkei.services import audit, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden


def has_pledge(db: Session, person: Person, body: Body) -> bool:
    return body.id in policy.pledged_body_ids(db, person, {body.id})


def record_pledge(
    db: Session, body: Body, person: Person, *, by: Person, on: date | None = None
) -> Pledge:
    """A member records their own pledge; a secretary of the body records anyone's."""
    on = on or today()
    if by.id != person.id and body.id not in policy.secretary_body_ids(db, by):
        raise Forbidden(_l("Only the secretariat may record a pledge for someone else."))
    is_member = db.scalar(
        select(Membership.id).where(
            Membership.person_id == person.id,
            Membership.body_id == body.id,
            Membership.role.in_(policy.ENTITLED_ROLES),
            policy.current_membership_filter(today()),
        )
    )
    if is_member is None:
        raise DomainError(_l("Only current members of the body can pledge confidentiality."))
    if on > today():
        raise DomainError(_l("A pledge cannot be dated in the future."), "pledged_on")
    if has_pledge(db, person, body):
        raise DomainError(_l("A pledge for this body is already on record."))
    pledge = Pledge(person=person, body=body, pledged_on=on, recorded_by=by)
    db.add(pledge)
    db.flush()
    audit.record(
        db,
        by,
        audit.CONTENT,
        "pledge",
        subject_type="person",
        subject_id=person.id,
        body_id=body.id,
    )
    return pledge
