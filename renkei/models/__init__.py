"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from renkei.models.bodies import Body, BodyKind, Confidentiality, Membership, Programme, Role
from renkei.models.organisations import Organisation, OrganisationKind
from renkei.models.people import Person

__all__ = [
    "Body",
    "BodyKind",
    "Confidentiality",
    "Membership",
    "Organisation",
    "OrganisationKind",
    "Person",
    "Programme",
    "Role",
]
