"""The feed's version: read from calendar stamps, it must change whenever what the feed shows
changes, and only then (models/calendar_stamps.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.models import Membership
from renkei.services import agenda, feeds, memberships, scheduling
from renkei.services.agenda import ItemData
from renkei.services.scheduling import SessionData
from tests.helpers import body_named, counting, person_by_email
from tests.sessions_helpers import COORDINATION, DAY, LAYER1, SUPPORT, make_session

BOTH = "member.both@example.jp"  # on the 支援会議 and the 協議体 (第1層)


def etag(db, links, email=BOTH, **kwargs) -> str:
    return feeds.version(db, person_by_email(db, email), locale="ja", links=links, **kwargs).etag


def secretary(db):
    return person_by_email(db, "secretary@example.jp")


def layer1_only(db):
    """A member of the 協議体 who is on no other body the tests touch."""
    support = {m.person_id for m in body_named(db, SUPPORT).memberships}
    return next(m.person for m in body_named(db, LAYER1).memberships if m.person_id not in support)


def test_a_new_session_of_ones_body_changes_the_version(world, links):
    before = etag(world, links)
    make_session(world, SUPPORT)
    assert etag(world, links) != before


def test_a_session_of_another_body_leaves_the_version_alone(world, links):
    before = etag(world, links)
    make_session(world, COORDINATION)  # member.both is not on it
    assert etag(world, links) == before


def test_agenda_changes_change_the_version(world, links):
    session = make_session(world, SUPPORT)
    before = etag(world, links)
    item = agenda.add_item(
        world, session, ItemData(title="報告", body_id=session.host_body_id), by=secretary(world)
    )
    world.commit()
    added = etag(world, links)
    assert added != before
    agenda.delete_item(world, item, by=secretary(world))
    world.commit()
    assert etag(world, links) not in (before, added)


def test_taking_a_body_off_a_session_changes_the_version_of_its_members(world, links):
    session = make_session(world, SUPPORT, LAYER1)
    member = layer1_only(world)
    before = etag(world, links, member.email)
    data = SessionData(
        title=session.title,
        body_ids=[body_named(world, SUPPORT).id],
        host_body_id=session.host_body_id,
        start=session.start_at,
        end=session.end_at,
    )
    assert scheduling.update_session(world, session, data, by=secretary(world))
    world.commit()
    assert etag(world, links, member.email) != before


def test_replies_leave_the_version_alone(world, links):
    session = make_session(world, SUPPORT)
    before = etag(world, links)
    scheduling.set_reply(world, session, person_by_email(world, BOTH), "attend")
    world.commit()
    assert etag(world, links) == before


def test_a_renamed_body_changes_every_version(world, links):
    make_session(world, SUPPORT, LAYER1)
    before = etag(world, links)
    body_named(world, LAYER1).name = "みどり町協議体"
    world.commit()
    assert etag(world, links) != before


def test_a_changed_term_changes_the_version_and_last_modified(world, links):
    person = person_by_email(world, BOTH)
    before = feeds.version(world, person, locale="ja", links=links)
    term = world.scalars(select(Membership).where(Membership.person_id == person.id)).first()
    memberships.end_membership(world, term, DAY, by=person_by_email(world, "secretary@example.jp"))
    world.commit()
    after = feeds.version(world, person, locale="ja", links=links)
    assert after.etag != before.etag
    assert after.last_modified and (
        before.last_modified is None or after.last_modified > before.last_modified
    )


def test_the_version_moves_with_the_language(world, links):
    person = person_by_email(world, BOTH)
    assert feeds.version(world, person, locale="en", links=links).etag != etag(world, links)


@pytest.mark.parametrize("sessions", [1, 30])
def test_the_version_costs_one_statement_however_many_sessions(app, world, sessions, links):
    for offset in range(sessions):
        make_session(world, SUPPORT, day=DAY + timedelta(days=offset))
    person = person_by_email(world, BOTH)
    with counting(app.extensions["renkei.engine"]) as statements:
        feeds.version(world, person, locale="ja", links=links)
    assert len(statements) == 1


def test_a_token_of_someone_no_longer_active_finds_no_feed(world, links):
    person = person_by_email(world, BOTH)
    assert feeds.version_for_token(world, person.feed_token, locale="ja", links=links)
    person.active = False
    world.commit()
    assert feeds.version_for_token(world, person.feed_token, locale="ja", links=links) is None
    assert feeds.version_for_token(world, "no-such-token", locale="ja", links=links) is None
