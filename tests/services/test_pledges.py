from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.models import Membership, Pledge
from renkei.services import pledges
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT


def test_member_records_own_pledge_once(world):
    member = person_by_email(world, "member.both@example.jp")
    support = body_named(world, SUPPORT)
    pledges.record_pledge(world, support, member, by=member)
    assert pledges.has_pledge(world, member, support)
    with pytest.raises(DomainError):
        pledges.record_pledge(world, support, member, by=member)


def test_secretary_records_a_pledge_for_a_member(world):
    secretary = person_by_email(world, "secretary@example.jp")
    member = person_by_email(world, "member.both@example.jp")
    pledge = pledges.record_pledge(world, body_named(world, SUPPORT), member, by=secretary)
    assert pledge.recorded_by == secretary and pledge.pledged_on == today()


def test_nobody_else_records_pledges_for_others_or_for_bodies_they_are_not_on(world):
    member = person_by_email(world, "member.both@example.jp")
    other = person_by_email(world, "member.kyogitai@example.jp")
    before = count(world, Pledge)
    with pytest.raises(Forbidden):
        pledges.record_pledge(world, body_named(world, LAYER1), other, by=member)
    with pytest.raises(DomainError):
        pledges.record_pledge(world, body_named(world, SUPPORT), other, by=other)
    with pytest.raises(DomainError):
        pledges.record_pledge(
            world, body_named(world, SUPPORT), member, by=member, on=today() + timedelta(days=1)
        )
    assert count(world, Pledge) == before


def test_a_pledge_ends_with_the_term_it_was_made_in(world):
    """Reappointed for a new term, a member pledges again before seeing confidential items."""
    member = person_by_email(world, "member.both@example.jp")
    support = body_named(world, SUPPORT)
    term = world.scalars(
        select(Membership).where(
            Membership.person_id == member.id, Membership.body_id == support.id
        )
    ).one()
    pledges.record_pledge(world, support, member, by=member, on=term.term_start)
    assert pledges.has_pledge(world, member, support)
    # The term ends yesterday; a new one starts today.
    term.term_end = today() - timedelta(days=1)
    world.add(Membership(person=member, body=support, role=term.role, term_start=today()))
    world.flush()
    assert not pledges.has_pledge(world, member, support)
    pledges.record_pledge(world, support, member, by=member)
    assert pledges.has_pledge(world, member, support)
