"""The login guard without HTTP: when failures lock an address or an IP and for how long,
and the rules of reset links (hashed, once, one hour, voided by a newer one, rate-limited)."""

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import LoginFailure, MailStatus, PasswordReset
from renkei.services import logins
from renkei.services.errors import DomainError
from tests.helpers import count, person_by_email

IP = "192.0.2.1"
MEMBER = "member.both@example.jp"
BASE_URL = "https://renkei.example.jp"
T0 = utcnow()


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def fail_at(db, email, *times, ip=IP):
    for at in times:
        logins.record_failure(db, email, ip, now=minutes(at))


def test_the_fifth_failure_within_15_minutes_locks_for_15_minutes_from_it(db):
    fail_at(db, "x@example.jp", 0, 3, 6, 9)
    assert not logins.is_locked(db, "x@example.jp", "", now=minutes(10))
    fail_at(db, "x@example.jp", 14)
    assert logins.is_locked(db, "x@example.jp", "", now=minutes(14))
    # Counted from the fifth failure, not the first: still locked when the first is 28 old.
    assert logins.is_locked(db, "X@Example.jp ", "", now=minutes(28.9))
    assert not logins.is_locked(db, "x@example.jp", "", now=minutes(29))


def test_failures_further_apart_than_the_window_do_not_lock(db):
    fail_at(db, "x@example.jp", 0, 1, 2, 3, 15.5)
    assert not logins.is_locked(db, "x@example.jp", "", now=minutes(16))


def test_twenty_failures_from_one_ip_lock_it_whatever_the_address(db):
    for n in range(19):
        fail_at(db, f"guess{n}@example.jp", n * 0.5)
    assert not logins.is_locked(db, "anyone@example.jp", IP, now=minutes(10))
    fail_at(db, "guess19@example.jp", 10)
    assert logins.is_locked(db, "anyone@example.jp", IP, now=minutes(10))
    assert not logins.is_locked(db, "anyone@example.jp", "192.0.2.2", now=minutes(10))
    assert not logins.is_locked(db, "anyone@example.jp", IP, now=minutes(25))


def test_clearing_forgets_only_that_address(db):
    fail_at(db, "x@example.jp", 0, 1)
    fail_at(db, "y@example.jp", 2)
    logins.clear_failures(db, "X@example.jp")
    assert db.scalars(select(LoginFailure.email)).all() == ["y@example.jp"]


def test_failures_too_old_to_count_are_deleted(db):
    fail_at(db, "x@example.jp", 0)
    fail_at(db, "y@example.jp", 31)
    assert db.scalars(select(LoginFailure.email)).all() == ["y@example.jp"]


def test_overlong_input_is_stored_cut_short(db, links):
    logins.record_failure(db, "a" * 300 + "@example.jp", "f" * 60)
    db.commit()
    failure = db.scalar(select(LoginFailure))
    assert len(failure.email) == 254 and len(failure.ip) == 45


# --- Reset links --------------------------------------------------------------------------


def request(db, links, email=MEMBER, at=0):
    return logins.request_reset(db, email, links=links, sender="renkei@example.jp", now=minutes(at))


def token_of(message) -> str:
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    body = parsed.get_body(("plain",)).get_content()
    return body.split(f"{BASE_URL}/password/reset/", 1)[1].split()[0]


def test_a_reset_link_is_stored_hashed_and_mailed_pending(world, ctx, links):
    message = request(world, links)
    token = token_of(message)
    reset = world.scalar(select(PasswordReset))
    assert reset.token_hash == logins.token_hash(token) and len(token) >= 40
    assert reset.expires_at == minutes(60)
    assert message.session_id is None and message.status == MailStatus.PENDING
    assert message.dedupe_key == f"password-reset:{reset.id}"


def test_a_link_works_once_and_within_the_hour(world, ctx, links):
    token = token_of(request(world, links))
    assert logins.find_reset(world, token, now=minutes(59)) is not None
    assert logins.find_reset(world, token, now=minutes(60)) is None
    person = logins.use_reset(world, token, "a-long-new-password", now=minutes(5))
    assert person.email == MEMBER
    with pytest.raises(logins.InvalidReset):
        logins.use_reset(world, token, "another-long-password", now=minutes(6))


def test_a_password_against_the_rules_leaves_the_link_unused_after_rollback(world, ctx, links):
    token = token_of(request(world, links))
    world.commit()
    with pytest.raises(DomainError):
        logins.use_reset(world, token, "short", now=minutes(1))
    world.rollback()
    assert logins.find_reset(world, token, now=minutes(1)) is not None


def test_a_newer_link_voids_the_older_and_three_an_hour_are_the_most(world, ctx, links):
    first = token_of(request(world, links, at=0))
    request(world, links, at=10)
    assert logins.find_reset(world, first, now=minutes(11)) is None
    request(world, links, at=20)
    assert request(world, links, at=30) is None  # the fourth within the hour: silently nothing
    assert count(world, PasswordReset) == 3
    assert request(world, links, at=61) is not None  # the first has left the hour


def test_no_link_for_an_unknown_address_or_a_deactivated_account(world, ctx, links):
    person_by_email(world, MEMBER).active = False
    assert request(world, links) is None
    assert request(world, links, "nobody@example.jp") is None
    assert request(world, links, "") is None
    assert count(world, PasswordReset) == 0
