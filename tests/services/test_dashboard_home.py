"""What the home page lists for each person: the minutes a chair is to approve, the tasks
one owns, the replies one still owes and last month's sessions."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.links import Links
from renkei.models import Membership, MinutesStatus, SectionKind
from renkei.services import dashboard, minutes, scheduling
from renkei.services.dates import today, tokyo_date
from renkei.services.errors import DomainError
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import (
    COORDINATION,
    LAYER1,
    SUPPORT,
    make_session,
    mark_held,
    submitted,
)

pytestmark = pytest.mark.usefixtures("ctx")

SENDER = "renkei@localhost"


@pytest.fixture
def links(app) -> Links:
    return Links(app.url_map, "http://localhost")


def person(db, name: str):
    return person_by_email(db, f"{name}@example.jp")


def approve(db, links, version, body: str, chair: str, approve: bool = True):
    minutes.decide(
        db,
        version,
        body_named(db, body).id,
        approve=approve,
        comment="" if approve else "日付を直してください。",
        by=person(db, chair),
        links=links,
        sender=SENDER,
    )
    db.commit()


def awaiting(db, name: str) -> list[tuple[int, str]]:
    tile = dashboard.chair_tile(db, person(db, name))
    assert tile is not None
    return [(version.id, body.name) for version, body in tile.awaiting]


# --- The chair's approvals ----------------------------------------------------------------


def test_each_chair_is_asked_for_their_own_bodys_part_until_they_decide(world, links):
    version = submitted(world, links, SUPPORT, LAYER1)
    assert awaiting(world, "chair.support") == [(version.id, SUPPORT)]
    assert awaiting(world, "chair.kyogitai") == [(version.id, LAYER1)]

    approve(world, links, version, SUPPORT, "chair.support")
    assert awaiting(world, "chair.support") == []
    assert awaiting(world, "chair.kyogitai") == [(version.id, LAYER1)]
    assert dashboard.chair_tile(world, person(world, "chair.kyogitai")).total == 1


def test_a_chair_of_two_bodies_approves_each_part(world, links):
    """支援 一郎 chairs both the 支援会議 and the 支援調整会議: one row for each part."""
    version = submitted(world, links, SUPPORT, COORDINATION)
    assert awaiting(world, "chair.support") == [(version.id, SUPPORT), (version.id, COORDINATION)]
    approve(world, links, version, COORDINATION, "chair.support")
    assert awaiting(world, "chair.support") == [(version.id, SUPPORT)]


def test_returned_minutes_leave_the_list_and_come_back_when_submitted_again(world, links):
    version = submitted(world, links, LAYER1)
    approve(world, links, version, LAYER1, "chair.kyogitai", approve=False)
    assert version.status == MinutesStatus.DRAFT
    assert awaiting(world, "chair.kyogitai") == []
    # Submitted again: a new round, to be decided again.
    minutes.submit(world, version, by=person(world, "secretary"), links=links, sender=SENDER)
    world.commit()
    assert awaiting(world, "chair.kyogitai") == [(version.id, LAYER1)]


def test_drafts_and_other_bodies_minutes_are_not_a_chairs_to_approve(world, links):
    submitted(world, links, SUPPORT)
    secretary = person(world, "secretary")
    session = make_session(world, LAYER1, title="下書きの会議")
    mark_held(world, session)
    minutes.open_minutes(world, session, by=secretary)
    world.commit()
    assert awaiting(world, "chair.kyogitai") == []


def test_someone_who_chairs_nothing_has_no_chair_tile(world, links):
    submitted(world, links, SUPPORT)
    assert dashboard.chair_tile(world, person(world, "member.both")) is None
    assert dashboard.chair_tile(world, person(world, "secretary")) is None


def test_the_tile_names_a_few_and_counts_them_all(world, links):
    versions = [
        submitted(world, links, LAYER1, title=f"会議{n}") for n in range(dashboard.LISTED + 2)
    ]
    tile = dashboard.chair_tile(world, person(world, "chair.kyogitai"))
    assert tile.total == len(versions)
    assert [v.id for v, _ in tile.awaiting] == [v.id for v in versions[: dashboard.LISTED]]


# --- Tasks --------------------------------------------------------------------------------


def test_tasks_open_first_then_those_done_lately(world, links):
    version = submitted(world, links, LAYER1)
    secretary, owner = person(world, "secretary"), person(world, "member.kyogitai")
    decisions = next(s for s in version.sections if s.kind == SectionKind.DECISIONS)
    # A task taken from minutes is due no earlier than its session.
    held_on = tokyo_date(version.minutes.session.start_at)
    tasks = {}
    for text, due in (("早い宿題", 1), ("遅い宿題", 20), ("済んだ宿題", 5), ("昔の宿題", 2)):
        tasks[text] = minutes.add_action(
            world,
            decisions,
            text=text,
            owner_id=owner.id,
            due_on=held_on + timedelta(days=due),
            by=secretary,
        )
    minutes.set_action_done(world, tasks["済んだ宿題"], done=True, by=owner)
    tasks["昔の宿題"].done_at = utcnow() - timedelta(days=60)  # done long ago: off the list
    world.commit()
    shown = [(a.text, a.done_at is not None) for a in dashboard.tasks_of(world, owner)]
    assert shown == [("早い宿題", False), ("遅い宿題", False), ("済んだ宿題", True)]
    assert dashboard.tasks_of(world, person(world, "member.both")) == []


# --- Replies ------------------------------------------------------------------------------


def coming(world, *bodies, title="来月の会議", days=10):
    return make_session(world, *bodies, title=title, day=today() + timedelta(days=days))


def open_replies(world, name: str) -> list[str]:
    who = person(world, name)
    sessions = scheduling.upcoming_for(world, who, since=utcnow())
    return [s.title for s in dashboard.replies_open(world, who, sessions)]


def test_a_member_sees_the_replies_they_still_owe(world):
    coming(world, LAYER1, title="協議体の会議")
    first = coming(world, SUPPORT, LAYER1, title="共同開催の会議", days=5)
    assert open_replies(world, "member.both") == ["共同開催の会議", "協議体の会議"]
    scheduling.set_reply(world, first, person(world, "member.both"), "absent")
    world.commit()
    assert open_replies(world, "member.both") == ["協議体の会議"]
    # Each answers for themself: 地域 さくら still owes both.
    assert open_replies(world, "member.kyogitai") == ["共同開催の会議", "協議体の会議"]


def test_cancelled_and_prepared_sessions_ask_for_no_reply(world):
    secretary = person(world, "secretary")
    cancelled = coming(world, LAYER1, title="中止の会議")
    scheduling.cancel_session(world, cancelled, by=secretary)
    make_session(
        world, LAYER1, title="準備中の会議", day=today() + timedelta(days=3), convened=False
    )
    world.commit()
    assert open_replies(world, "member.kyogitai") == []


def test_a_held_session_refuses_a_reply_and_keeps_the_one_given(world):
    session = coming(world, LAYER1)
    member = person(world, "member.kyogitai")
    scheduling.set_reply(world, session, member, "attend", comment="伺います")
    session.start_at -= timedelta(days=20)
    session.end_at -= timedelta(days=20)
    scheduling.set_status(world, session, "held", by=person(world, "secretary"))
    world.commit()
    with pytest.raises(DomainError) as refused:
        scheduling.set_reply(world, session, member, "absent")
    assert str(refused.value.message) == "この会議は開催済のため、出欠の回答は締め切りました。"
    world.rollback()
    (reply,) = session.replies
    assert (reply.answer.value, reply.comment) == ("attend", "伺います")


def test_a_cancelled_session_refuses_a_reply(world):
    session = coming(world, LAYER1)
    scheduling.cancel_session(world, session, by=person(world, "secretary"))
    with pytest.raises(DomainError) as refused:
        scheduling.set_reply(world, session, person(world, "member.kyogitai"), "attend")
    assert str(refused.value.message) == "この会議は中止になりました。"
    assert session.replies == []


# --- Last month ---------------------------------------------------------------------------


def last_month_day(day: int = 15) -> date:
    return (today().replace(day=1) - timedelta(days=1)).replace(day=day)


def held_on(world, day: date, *bodies, title: str):
    session = make_session(world, *bodies, title=title, day=day, start=time(10), end=time(11))
    mark_held(world, session)
    world.commit()
    return session


def titles(sessions) -> list[str]:
    return [s.title for s in sessions]


def test_last_months_held_sessions_for_those_who_may_see_them(world):
    held_on(world, last_month_day(20), LAYER1, title="協議体（先月）")
    held_on(world, last_month_day(3), SUPPORT, title="支援会議（先月）")
    held_on(world, today().replace(day=1), SUPPORT, title="支援会議（今月）")
    held_on(world, last_month_day(1) - timedelta(days=1), SUPPORT, title="支援会議（先々月）")
    cancelled = make_session(world, LAYER1, title="中止（先月）", day=last_month_day(10))
    scheduling.cancel_session(world, cancelled, by=person(world, "secretary"))
    world.commit()

    assert titles(dashboard.last_month(world, person(world, "member.both"))) == [
        "支援会議（先月）",
        "協議体（先月）",
    ]
    # 地域 さくら is not on the 支援会議: its session does not exist for her.
    assert titles(dashboard.last_month(world, person(world, "member.kyogitai"))) == [
        "協議体（先月）"
    ]
    assert dashboard.last_month(world, person(world, "admin")) == []


def test_a_term_that_ended_still_shows_the_sessions_it_covered(world):
    """A member whose term ended yesterday still sees the session held during it; one
    whose term had ended before it does not."""
    session = held_on(world, last_month_day(10), LAYER1, title="協議体（先月）")
    member = person(world, "member.kyogitai")
    term = world.scalar(
        select(Membership).where(
            Membership.person_id == member.id,
            Membership.body_id == body_named(world, LAYER1).id,
        )
    )
    term.term_end = today() - timedelta(days=1)
    world.commit()
    assert titles(dashboard.last_month(world, member)) == [session.title]
    term.term_end = last_month_day(5)
    world.commit()
    assert dashboard.last_month(world, member) == []
