from datetime import date, timedelta

import pytest

from renkei.models import Membership
from renkei.services import memberships
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden
from renkei.services.memberships import MembershipData
from tests.helpers import body_named, count, person_by_email

SUPPORT = "みどり町支援会議"


def test_term_that_ends_before_it_starts_is_refused(world, secretary):
    body = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    before = count(world, Membership)
    data = MembershipData(person.id, "member", date(2026, 4, 1), date(2026, 3, 31))
    with pytest.raises(DomainError) as error:
        memberships.add_membership(world, body, data, by=secretary)
    assert error.value.field == "term_end"
    world.rollback()
    assert count(world, Membership) == before


def test_overlapping_term_of_the_same_person_is_refused(world, secretary):
    body = body_named(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    with pytest.raises(DomainError):
        memberships.add_membership(
            world, body, MembershipData(member.id, "chair", date(2026, 4, 1)), by=secretary
        )


def test_ended_terms_stay_on_record_and_a_new_term_can_follow(world, secretary):
    body = body_named(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    term = next(m for m in memberships.body_memberships(world, body) if m.person == member)
    yesterday = today() - timedelta(days=1)
    memberships.end_membership(world, term, yesterday, by=secretary)
    memberships.add_membership(
        world, body, MembershipData(member.id, "vice_chair", today()), by=secretary
    )
    current, past, _future = memberships.split_current(memberships.body_memberships(world, body))
    assert term in past
    assert any(m.person == member and m.role == "vice_chair" for m in current)


def test_unknown_person_role_and_organisation_are_refused(world, secretary):
    body = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    cases = [
        (MembershipData(999999, "member", today()), "person_id"),
        (MembershipData(person.id, "emperor", today()), "role"),
        (MembershipData(person.id, "member", today(), organisation_id=999999), "organisation_id"),
    ]
    for data, field in cases:
        with pytest.raises(DomainError) as error:
            memberships.add_membership(world, body, data, by=secretary)
        assert error.value.field == field


def test_only_the_secretariat_changes_membership(world):
    body = body_named(world, SUPPORT)
    chair = person_by_email(world, "chair.support@example.jp")
    outsider = person_by_email(world, "chair.kyogitai@example.jp")
    with pytest.raises(Forbidden):
        memberships.add_membership(
            world, body, MembershipData(outsider.id, "member", today()), by=chair
        )


def test_a_term_ending_before_the_session_is_not_current():
    term = Membership(term_start=date(2025, 4, 1), term_end=date(2026, 3, 31))
    assert term.is_current(date(2026, 3, 31))
    assert not term.is_current(date(2026, 4, 1))
    assert not term.is_current(date(2025, 3, 31))


def test_current_terms_of_a_person_leave_out_ended_and_future_terms(world):
    secretary = person_by_email(world, "secretary@example.jp")
    person = person_by_email(world, "member.kyogitai@example.jp")
    before = {m.body.name for m in memberships.current_terms_of(world, person, date(2026, 11, 27))}
    for name, start, end in (
        ("みどり町支援会議", date(2025, 4, 1), date(2026, 3, 31)),  # ended
        ("みどり町支援調整会議", date(2027, 4, 1), None),  # not yet begun
    ):
        data = memberships.MembershipData(
            person_id=person.id, role="member", term_start=start, term_end=end
        )
        memberships.add_membership(world, body_named(world, name), data, by=secretary)
    terms = memberships.current_terms_of(world, person, date(2026, 11, 27))
    names = [m.body.name for m in terms]
    assert before and set(names) == before and len(names) == len(before)
    assert all(m.is_current(date(2026, 11, 27)) for m in terms)
