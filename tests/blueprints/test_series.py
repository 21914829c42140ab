"""Series through the session forms: create, move one, cancel one, change the following."""

from datetime import time, timedelta

from renkei.models import MeetingSession, Series, Status
from renkei.services.dates import in_tokyo
from tests.helpers import count
from tests.sessions_helpers import DAY, SUPPORT, session_form


def sessions_in_order(world):
    world.expire_all()
    return world.query(MeetingSession).order_by(MeetingSession.original_start).all()


def test_weekly_series_from_the_form(as_secretary, world):
    response = as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, repeat="weekly", repeat_count="4")
    )
    assert response.status_code == 302
    starts = [in_tokyo(s.start_at) for s in sessions_in_order(world)]
    assert [s.date() for s in starts] == [DAY + timedelta(weeks=i) for i in range(4)]
    assert {s.time() for s in starts} == {time(14)}


def test_a_series_that_never_ends_is_refused_in_japanese(as_secretary, world):
    response = as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, repeat="weekly")
    )
    assert response.status_code == 400
    assert "終了日か回数を入力してください" in response.get_data(as_text=True)
    assert count(world, MeetingSession) == 0 and count(world, Series) == 0


def test_move_one_cancel_one_and_change_the_following(as_secretary, world):
    as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, repeat="weekly", repeat_count="5")
    )
    first, second, third, fourth, fifth = sessions_in_order(world)

    # Move the second only.
    moved = session_form(
        world, SUPPORT, start_date=(DAY + timedelta(days=8)).isoformat(), scope="this"
    )
    assert as_secretary.post(f"/sessions/{second.id}/edit", data=moved).status_code == 302
    # Cancel the fourth only.
    assert as_secretary.post(f"/sessions/{fourth.id}/cancel", data={}).status_code == 302
    # From the third on: another place and an hour later.
    following = session_form(
        world,
        SUPPORT,
        start_date=(DAY + timedelta(weeks=2)).isoformat(),
        start_time="15:00",
        end_time="17:00",
        place="北公民館",
        scope="following",
    )
    assert as_secretary.post(f"/sessions/{third.id}/edit", data=following).status_code == 302

    first, second, third, fourth, fifth = sessions_in_order(world)
    assert in_tokyo(first.start_at).time() == time(14) and first.place == "役場 第1会議室"
    assert second.is_moved and in_tokyo(second.start_at).date() == DAY + timedelta(days=8)
    assert fourth.status == Status.CANCELLED
    assert {third.place, fifth.place} == {"北公民館"}
    assert in_tokyo(fifth.start_at).time() == time(15)
    assert third.series_id == fifth.series_id != first.series_id
