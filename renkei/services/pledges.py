"""Confidentiality pledges (守秘義務の確認): recorded by the member or by the secretariat,
to the text of the body's law."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.i18n import lazy_gettext as _l
from renkei.models import Body, BodyKind, Membership, Person, Pledge
from renkei.services import audit, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden

# The duty of secrecy of each kind of body whose law imposes one, with its article. A
# penalty's own article is named only where it was checked against the statute's text.
STATUTES = {
    BodyKind.SUPPORT_MEETING: _l(
        "Under Article 9(5) of the Act on Self-Reliance Support for Needy Persons, anyone "
        "engaged, or formerly engaged, in the affairs of a support meeting must not disclose, "
        "without due reason, any secret learned in those affairs; breaking this duty is "
        "punishable by imprisonment of up to one year or a fine of up to one million yen."
    ),
    BodyKind.COMMUNITY_CARE: _l(
        "Under Article 115-48(5) of the Long-Term Care Insurance Act, anyone engaged, or "
        "formerly engaged, in the affairs of a community care meeting must not disclose, "
        "without due reason, any secret learned in those affairs; breaking this duty is an "
        "offence under the Act's penal provisions."
    ),
    BodyKind.MULTI_AGENCY: _l(
        "Under Article 106-6(5) of the Social Welfare Act, anyone engaged, or formerly "
        "engaged, in the affairs of a support meeting of the multi-agency support system "
        "must not disclose, without due reason, any secret learned in those affairs; "
        "breaking this duty is an offence under the Act's penal provisions."
    ),
}


def pledge_text(body: Body) -> str:
    """What a person pledges to for ``body``: the article of its kind's law; for another
    kind, the duty its confidentiality setting states."""
    statute = STATUTES.get(body.kind)
    if statute is not None:
        return str(statute)
    if body.has_duty_of_secrecy:
        return str(
            _l(
                "Anyone engaged, or formerly engaged, in the affairs of %(body)s is bound by a "
                "statutory duty of secrecy: do not disclose, without due reason, any secret "
                "learned in those affairs.",
                body=body.name,
            )
        )
    return str(
        _l(
            "The closed matters of %(body)s are kept under the municipality's rules: do not "
            "disclose what you learn in its affairs to anyone outside it.",
            body=body.name,
        )
    )


def may_pledge(db: Session, person: Person, body: Body) -> bool:
    """Whether ``person`` holds a current term on ``body`` in a role that a pledge opens
    the body's confidential matters to."""
    term = db.scalar(
        select(Membership.id).where(
            Membership.person_id == person.id,
            Membership.body_id == body.id,
            Membership.role.in_(policy.ENTITLED_ROLES),
            policy.current_membership_filter(today()),
        )
    )
    return term is not None


def has_pledge(db: Session, person: Person, body: Body) -> bool:
    return body.id in policy.pledged_body_ids(db, person, {body.id})


def record_pledge(
    db: Session, body: Body, person: Person, *, by: Person, on: date | None = None
) -> Pledge:
    """A member records their own pledge; a secretary of the body records anyone's."""
    on = on or today()
    if by.id != person.id and body.id not in policy.secretary_body_ids(db, by):
        raise Forbidden(_l("Only the secretariat may record a pledge for someone else."))
    if not may_pledge(db, person, body):
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
