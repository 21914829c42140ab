"""Organisations (機関)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei import textnorm
from renkei.i18n import lazy_gettext as _l
from renkei.models import Organisation, OrganisationKind, Person
from renkei.models.organisations import MUNICIPALITY_LENGTH
from renkei.services import audit
from renkei.services.errors import DomainError


def list_organisations(db: Session) -> list[Organisation]:
    return list(db.scalars(select(Organisation).order_by(Organisation.name)))


def find_by_name(db: Session, name: str) -> Organisation | None:
    return db.scalar(select(Organisation).where(Organisation.name == name.strip()))


def save_organisation(
    db: Session,
    organisation: Organisation | None,
    *,
    name: str,
    kind: str,
    contact: str,
    municipality: str = "",
    by: Person | None = None,
) -> Organisation:
    """Create (``organisation`` None) or update an organisation; ``by`` (the administrator)
    is logged with what changed."""
    name = name.strip()
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise DomainError(_l("Choose a kind of organisation."), "kind") from None
    town = check_municipality(municipality)
    other = find_by_name(db, name)
    if other is not None and other is not organisation:
        raise DomainError(_l("An organisation with this name already exists."), "name")
    before = _snapshot(organisation)
    if organisation is None:
        organisation = Organisation()
        db.add(organisation)
    organisation.name, organisation.kind, organisation.contact = name, kind, contact.strip()
    organisation.municipality = town
    db.flush()
    if by is not None:
        _log(db, organisation, before, by)
    return organisation


def check_municipality(value: str) -> str:
    """The municipality's name (「みどり町」, 「あおぞら県さくら町」) as stored."""
    if textnorm.has_controls(value):
        raise DomainError(
            _l("Write this on one line, without line breaks or control characters."),
            "municipality",
        )
    town = value.strip()
    if len(town) > MUNICIPALITY_LENGTH:
        raise DomainError(
            _l("Use at most %(max)d characters.", max=MUNICIPALITY_LENGTH), "municipality"
        )
    return town


FIELDS = ("name", "kind", "contact", "municipality")


def _snapshot(organisation: Organisation | None) -> dict[str, object]:
    return {name: getattr(organisation, name) for name in FIELDS} if organisation else {}


def _log(db: Session, organisation: Organisation, before: dict[str, object], by: Person) -> None:
    """Organisations are the administrators' register: their changes go to the log the
    administrators read (with the accounts), naming the fields changed."""
    changed = [name for name in FIELDS if before and before[name] != getattr(organisation, name)]
    if before and not changed:
        return
    audit.record(
        db,
        by,
        audit.ACCOUNT,
        "organisation_changed" if before else "organisation_created",
        subject_type="organisation",
        subject_id=organisation.id,
        detail="fields=" + ",".join(changed) if changed else "",
    )
