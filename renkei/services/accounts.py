"""People and their logins: creating, editing, passwords, deactivation."""

import functools
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from renkei.i18n import lazy_gettext as _l
from renkei.models import Organisation, Person
from renkei.models.people import new_login_token
from renkei.services import audit
from renkei.services.errors import DomainError

MIN_PASSWORD_LENGTH = 10
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# How passwords are hashed (Werkzeug's method string). The app sets it from its
# PASSWORD_HASH_METHOD once at start; the test suite chooses a cheap one.
DEFAULT_HASH_METHOD = "scrypt"
_hashing = {"method": DEFAULT_HASH_METHOD}


def use_hash_method(method: str) -> None:
    _hashing["method"] = method


def hash_method() -> str:
    return _hashing["method"]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hashing["method"])


@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked against when the e-mail is unknown, so that a failed login takes as long
    either way: hashed as real passwords are."""
    return generate_password_hash("renkei-timing-equaliser", method=method)


@dataclass
class PersonData:
    name: str
    kana: str = ""
    email: str | None = None
    phone: str = ""
    organisation_id: int | None = None


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def validate_email(email: str | None) -> str | None:
    email = normalise_email(email)
    if email is not None and not EMAIL_PATTERN.match(email):
        raise DomainError(_l("The e-mail address is not valid."), "email")
    return email


def _check_unique_email(db: Session, email: str | None, person_id: int | None = None) -> None:
    if email is None:
        return
    query = select(Person.id).where(Person.email == email)
    if person_id is not None:
        query = query.where(Person.id != person_id)
    if db.scalar(query) is not None:
        raise DomainError(_l("This e-mail address is already registered to someone else."), "email")


def _check_organisation(db: Session, organisation_id: int | None) -> None:
    if organisation_id is not None and db.get(Organisation, organisation_id) is None:
        raise DomainError(_l("The organisation does not exist."), "organisation_id")


def _validated(db: Session, data: PersonData, person_id: int | None = None) -> PersonData:
    name = data.name.strip()
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    email = validate_email(data.email)
    _check_unique_email(db, email, person_id)
    _check_organisation(db, data.organisation_id)
    return PersonData(name, data.kana.strip(), email, data.phone.strip(), data.organisation_id)


def create_person(db: Session, data: PersonData, *, password: str | None = None) -> Person:
    data = _validated(db, data)
    person = Person(**data.__dict__)
    if password is not None:
        person.password_hash = _hash(password)
    db.add(person)
    db.flush()
    return person


def update_person(db: Session, person: Person, data: PersonData) -> Person:
    data = _validated(db, data, person.id)
    if person.has_login and data.email is None:
        raise DomainError(_l("A person with a login needs an e-mail address."), "email")
    for key, value in data.__dict__.items():
        setattr(person, key, value)
    db.flush()
    return person


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _l("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            "password",
        )
    return hash_password(password)


def set_password(db: Session, person: Person, password: str) -> None:
    """Give a login, or replace the password; every other open session of the person ends."""
    if person.email is None:
        raise DomainError(_l("Enter an e-mail address first: it is the login name."), "email")
    person.password_hash = _hash(password)
    end_sessions(db, person)


def end_sessions(db: Session, person: Person) -> None:
    """Log the person out everywhere: the login cookie holds the login token, and a cookie
    copied before this (from a shared office PC, say) names a token that no longer exists."""
    person.login_token = new_login_token()
    db.flush()


def log_out(db: Session, person: Person) -> None:
    """Logging out ends the person's sessions everywhere, and is logged."""
    audit.record(db, person, audit.ACCOUNT, "logout", subject_type="person", subject_id=person.id)
    end_sessions(db, person)


def change_password(db: Session, person: Person, current: str, new: str) -> None:
    if not person.password_hash or not check_password_hash(person.password_hash, current):
        raise DomainError(_l("The current password is not correct."), "current_password")
    set_password(db, person, new)
    audit.record(
        db, person, audit.ACCOUNT, "password_changed", subject_type="person", subject_id=person.id
    )


def authenticate(db: Session, email: str, password: str) -> Person | None:
    """The active person with this e-mail and password, or None whichever part was wrong."""
    address = normalise_email(email)
    person = db.scalar(select(Person).where(Person.email == address)) if address else None
    if person is None or not person.password_hash:
        check_password_hash(_dummy_hash(hash_method()), password)
        return None
    if not check_password_hash(person.password_hash, password) or not person.active:
        return None
    return person


def set_active(db: Session, person: Person, active: bool, *, by: Person) -> None:
    if person.id == by.id and not active:
        raise DomainError(_l("You cannot deactivate your own account."))
    person.active = active
    end_sessions(db, person)


def set_admin(db: Session, person: Person, is_admin: bool, *, by: Person) -> None:
    if person.id == by.id and not is_admin:
        raise DomainError(_l("You cannot remove your own administrator rights."))
    person.is_admin = is_admin
    db.flush()


def set_account(db: Session, person: Person, *, is_admin: bool, active: bool, by: Person) -> None:
    """An administrator sets the administrator flag and whether the account may log in."""
    set_admin(db, person, is_admin, by=by)
    set_active(db, person, active, by=by)
    _log_account_change(db, person, f"admin={person.is_admin} active={person.active}", by)


def give_login(db: Session, person: Person, password: str, *, by: Person) -> None:
    """An administrator gives the person a login, or a new password."""
    set_password(db, person, password)
    _log_account_change(db, person, "password set", by)


def _log_account_change(db: Session, person: Person, detail: str, by: Person) -> None:
    audit.record(
        db,
        by,
        audit.ACCOUNT,
        "account_changed",
        subject_type="person",
        subject_id=person.id,
        detail=detail,
    )
