import tempfile
from pathlib import Path

import pytest

from renkei.config import load_config
from renkei.models import Person
from renkei.services import accounts
from renkei.services.accounts import PersonData
from renkei.services.errors import DomainError
from tests.helpers import count, person_by_email


def test_password_is_stored_hashed_with_a_current_algorithm(world):
    person = person_by_email(world, "secretary@example.jp")
    assert "renkei-demo" not in person.password_hash
    # The suite hashes cheaply (conftest); an installation uses scrypt unless told otherwise.
    assert person.password_hash.startswith("pbkdf2:sha256:1000$")
    assert load_config(Path(tempfile.mkdtemp()))["PASSWORD_HASH_METHOD"] == "scrypt"
    assert accounts.DEFAULT_HASH_METHOD == "scrypt"


def test_authenticate_accepts_the_right_password_only(world):
    assert accounts.authenticate(world, "Secretary@Example.jp ", "renkei-demo") is not None
    assert accounts.authenticate(world, "secretary@example.jp", "wrong-password") is None
    assert accounts.authenticate(world, "nobody@example.jp", "renkei-demo") is None


def test_person_without_login_cannot_authenticate(world):
    resident = accounts.create_person(
        world, PersonData(name="住民 一", email="resident@example.jp")
    )
    assert not resident.has_login
    assert accounts.authenticate(world, "resident@example.jp", "") is None


def test_a_person_without_login_can_be_given_one_later(world):
    resident = accounts.create_person(
        world, PersonData(name="住民 一", email="resident@example.jp")
    )
    accounts.set_password(world, resident, "a-long-password")
    assert accounts.authenticate(world, "resident@example.jp", "a-long-password") == resident


def test_login_needs_an_email_address(world):
    resident = accounts.create_person(world, PersonData(name="住民 二"))
    with pytest.raises(DomainError) as error:
        accounts.set_password(world, resident, "a-long-password")
    assert error.value.field == "email"


def test_duplicate_email_is_refused_whatever_its_case(world):
    before = count(world, Person)
    with pytest.raises(DomainError) as error:
        accounts.create_person(world, PersonData(name="別人", email="SECRETARY@example.jp"))
    assert error.value.field == "email"
    world.rollback()
    assert count(world, Person) == before


def test_unknown_organisation_is_refused(world):
    with pytest.raises(DomainError) as error:
        accounts.create_person(world, PersonData(name="誰か", organisation_id=999999))
    assert error.value.field == "organisation_id"


def test_invalid_email_is_refused(world):
    with pytest.raises(DomainError):
        accounts.create_person(world, PersonData(name="誰か", email="not-an-address"))


def test_change_password_needs_the_current_one_and_renews_the_login_token(world):
    person = person_by_email(world, "member.both@example.jp")
    old_token = person.login_token
    with pytest.raises(DomainError):
        accounts.change_password(world, person, "wrong", "new-password-123")
    accounts.change_password(world, person, "renkei-demo", "new-password-123")
    assert person.login_token != old_token
    assert accounts.authenticate(world, "member.both@example.jp", "new-password-123")


def test_short_password_is_refused(world):
    person = person_by_email(world, "member.both@example.jp")
    with pytest.raises(DomainError) as error:
        accounts.change_password(world, person, "renkei-demo", "short")
    assert error.value.field == "password"


def test_deactivated_person_cannot_log_in(world):
    admin = person_by_email(world, "admin@example.jp")
    person = person_by_email(world, "member.both@example.jp")
    accounts.set_active(world, person, False, by=admin)
    assert accounts.authenticate(world, "member.both@example.jp", "renkei-demo") is None


def test_administrator_cannot_deactivate_or_demote_themself(world):
    admin = person_by_email(world, "admin@example.jp")
    with pytest.raises(DomainError):
        accounts.set_active(world, admin, False, by=admin)
    with pytest.raises(DomainError):
        accounts.set_admin(world, admin, False, by=admin)
