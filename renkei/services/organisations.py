"""Organisations (機関)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.i18n import lazy_gettext as _l
from renkei.models import Organisation, OrganisationKind
from renkei.services.errors import DomainError


def list_organisations(db: Session) -> list[Organisation]:
    return list(db.scalars(select(Organisation).order_by(Organisation.name)))


def find_by_name(db: Session, name: str) -> Organisation | None:
    return db.scalar(select(Organisation).where(Organisation.name == name.strip()))


def save_organisation(
    db: Session, organisation: Organisation | None, *, name: str, kind: str, contact: str
) -> Organisation:
    """Create (``organisation`` None) or update an organisation."""
    name = name.strip()
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise DomainError(_l("Choose a kind of organisation."), "kind") from None
    other = find_by_name(db, name)
    if other is not None and other is not organisation:
        raise DomainError(_l("An organisation with this name already exists."), "name")
    if organisation is None:
        organisation = Organisation()
        db.add(organisation)
    organisation.name, organisation.kind, organisation.contact = name, kind, contact.strip()
    db.flush()
    return organisation
