from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr

from renkei.models import MeetingSession, Series, SessionChange, Status
from renkei.services import scheduling, series
from renkei.services.dates import in_tokyo, tokyo_to_utc
from renkei.services.errors import DomainError
from renkei.services.series import RepeatRule
from tests.helpers import body_named, count
from tests.sessions_helpers import mark_convened

SUPPORT = "みどり町支援会議"


@pytest.fixture
def body(world):
    return body_named(world, SUPPORT)


def data_for(body, day: date, start=time(14, 0), end=time(15, 30), **more):
    return scheduling.SessionData(
        title="支援会議（定例）",
        body_ids=[body.id],
        host_body_id=body.id,
        start=tokyo_to_utc(day, start),
        end=tokyo_to_utc(day, end),
        place="役場 第1会議室",
        **more,
    )


def tokyo_starts(made) -> list[datetime]:
    return [in_tokyo(s.start_at).replace(tzinfo=None) for s in made.sessions]


def at(day: date, clock=time(14, 0)) -> datetime:
    return datetime.combine(day, clock)


# --- Rules --------------------------------------------------------------------------------


def test_rrule_values_follow_rfc_5545_and_parse():
    first = tokyo_to_utc(date(2026, 1, 8), time(14, 0))  # the 2nd Thursday
    values = {
        series.to_rrule(RepeatRule("weekly", 2, count=6), first): "FREQ=WEEKLY;INTERVAL=2;COUNT=6",
        series.to_rrule(RepeatRule("monthly_by_weekday", until=date(2027, 3, 31)), first): (
            "FREQ=MONTHLY;BYDAY=2TH;UNTIL=20270331T145959Z"
        ),
        series.to_rrule(RepeatRule("monthly_by_date", count=3), first): (
            "FREQ=MONTHLY;BYMONTHDAY=8;COUNT=3"
        ),
        # The 5th Friday of January 2026 means "the last Friday".
        series.to_rrule(
            RepeatRule("monthly_by_weekday", count=4), tokyo_to_utc(date(2026, 1, 30), time(10))
        ): "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4",
    }
    for made, expected in values.items():
        assert made == expected
        rrulestr(made, dtstart=datetime(2026, 1, 8, 14, tzinfo=UTC))


def test_weekly_four_times_makes_four_sessions_a_week_apart_at_the_same_tokyo_time(
    world, secretary, body
):
    made = series.create_series(
        world, data_for(body, date(2026, 1, 8)), RepeatRule("weekly", count=4), by=secretary
    )
    world.commit()
    assert made.rrule == "FREQ=WEEKLY;COUNT=4"
    assert tokyo_starts(made) == [at(date(2026, 1, 8) + timedelta(weeks=n)) for n in range(4)]
    for occurrence in made.sessions:
        assert occurrence.original_start == occurrence.start_at
        assert occurrence.minutes_long == 90
        assert occurrence.title == "支援会議（定例）"
        assert [b.id for b in occurrence.bodies] == [body.id]
        assert not occurrence.is_moved
        assert [c.kind for c in occurrence.changes] == ["created"]
    assert count(world, MeetingSession) == 4


def test_every_two_weeks_until_a_date_includes_that_date(world, secretary, body):
    rule = RepeatRule("weekly", interval=2, until=date(2026, 2, 19))
    made = series.create_series(world, data_for(body, date(2026, 1, 8)), rule, by=secretary)
    assert tokyo_starts(made) == [
        at(date(2026, 1, 8)),
        at(date(2026, 1, 22)),
        at(date(2026, 2, 5)),
        at(date(2026, 2, 19)),
    ]
    # One day earlier leaves the 19th out.
    earlier = series.occurrence_starts(
        series.to_rrule(replace(rule, until=date(2026, 2, 18)), made.sessions[0].start_at),
        made.sessions[0].start_at,
    )
    assert len(earlier) == 3


def test_monthly_on_a_date(world, secretary, body):
    rule = RepeatRule("monthly_by_date", count=4)
    made = series.create_series(world, data_for(body, date(2026, 1, 15)), rule, by=secretary)
    assert tokyo_starts(made) == [at(date(2026, m, 15)) for m in (1, 2, 3, 4)]


def test_monthly_on_the_second_thursday_across_months(world, secretary, body):
    rule = RepeatRule("monthly_by_weekday", until=date(2026, 6, 30))
    made = series.create_series(world, data_for(body, date(2026, 1, 8)), rule, by=secretary)
    assert "BYDAY=2TH" in made.rrule
    assert tokyo_starts(made) == [
        at(date(2026, 1, 8)),
        at(date(2026, 2, 12)),
        at(date(2026, 3, 12)),
        at(date(2026, 4, 9)),
        at(date(2026, 5, 14)),
        at(date(2026, 6, 11)),
    ]


def test_monthly_on_the_last_friday_whether_the_month_has_four_or_five(world, secretary, body):
    rule = RepeatRule("monthly_by_weekday", count=5)
    made = series.create_series(
        world, data_for(body, date(2026, 1, 30), time(10), time(11)), rule, by=secretary
    )
    assert "BYDAY=-1FR" in made.rrule
    assert tokyo_starts(made) == [
        at(day, time(10))
        for day in (
            date(2026, 1, 30),
            date(2026, 2, 27),
            date(2026, 3, 27),
            date(2026, 4, 24),
            date(2026, 5, 29),
        )
    ]


def test_a_rule_that_never_ends_is_refused_and_nothing_is_written(world, secretary, body):
    sessions, series_rows = count(world, MeetingSession), count(world, Series)
    with pytest.raises(DomainError) as error:
        series.create_series(
            world, data_for(body, date(2026, 1, 8)), RepeatRule("weekly"), by=secretary
        )
    assert error.value.field == "repeat_until"
    world.commit()
    assert count(world, MeetingSession) == sessions
    assert count(world, Series) == series_rows
    with pytest.raises(DomainError):
        series.occurrence_starts("FREQ=WEEKLY", tokyo_to_utc(date(2026, 1, 8), time(14)))


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (RepeatRule("weekly", count=121), "repeat_count"),
        (RepeatRule("weekly", until=date(2028, 6, 30)), "repeat_until"),  # 130 Thursdays
        (RepeatRule("monthly_by_date", until=date(2031, 1, 9)), "repeat_until"),  # > 5 years
        (RepeatRule("monthly_by_date", interval=12, count=7), "repeat_count"),  # 6 years
        (RepeatRule("weekly", interval=13, count=4), "repeat_interval"),
        (RepeatRule("weekly", interval=0, count=4), "repeat_interval"),
        (RepeatRule("weekly", count=4, until=date(2026, 3, 1)), "repeat_count"),
        (RepeatRule("weekly", until=date(2026, 1, 7)), "repeat_until"),
        (RepeatRule("fortnightly", count=4), "repeat"),
    ],
)
def test_rules_beyond_the_limits_are_refused_and_nothing_is_written(
    world, secretary, body, rule, field
):
    sessions, series_rows = count(world, MeetingSession), count(world, Series)
    with pytest.raises(DomainError) as error:
        series.create_series(world, data_for(body, date(2026, 1, 8)), rule, by=secretary)
    assert error.value.field == field
    world.commit()
    assert count(world, MeetingSession) == sessions
    assert count(world, Series) == series_rows


def test_the_limits_themselves_are_allowed(world, secretary, body):
    first = tokyo_to_utc(date(2026, 1, 8), time(14))
    series.validate_rule(RepeatRule("weekly", count=120), first)
    series.validate_rule(RepeatRule("monthly_by_date", until=date(2031, 1, 8)), first)
    series.validate_rule(RepeatRule("monthly_by_date", interval=12, count=6), first)


def test_the_limit_message_names_the_limit(app, world, secretary, body):
    with pytest.raises(DomainError) as error:
        series.validate_rule(
            RepeatRule("weekly", count=121), tokyo_to_utc(date(2026, 1, 8), time(14))
        )
    with app.app_context():
        assert "120" in str(error.value.message)


def test_invalid_session_data_writes_no_series(world, secretary, body):
    data = data_for(body, date(2026, 1, 8))
    data.title = " "
    with pytest.raises(DomainError) as error:
        series.create_series(world, data, RepeatRule("weekly", count=4), by=secretary)
    assert error.value.field == "title"
    world.commit()
    assert count(world, Series) == 0


# --- One occurrence -----------------------------------------------------------------------


def test_moving_one_occurrence_leaves_the_others_and_shows_as_an_override(world, secretary, body):
    made = series.create_series(
        world, data_for(body, date(2026, 1, 8)), RepeatRule("weekly", count=4), by=secretary
    )
    for occurrence in made.sessions:
        mark_convened(occurrence)
    second = made.sessions[1]
    scheduling.update_session(
        world, second, data_for(body, date(2026, 1, 16), time(10), time(11)), by=secretary
    )
    world.commit()
    assert second.is_moved
    assert in_tokyo(second.original_start).replace(tzinfo=None) == at(date(2026, 1, 15))
    assert second.notice_pending_since is not None  # its calendars are told
    assert series.overrides(made) == [second]
    assert series.exdates(made) == []
    for other in (made.sessions[0], made.sessions[2], made.sessions[3]):
        assert not other.is_moved
        assert other.sequence == 0
        assert other.minutes_long == 90
    assert tokyo_starts(made)[2:] == [at(date(2026, 1, 22)), at(date(2026, 1, 29))]


def test_cancelling_one_occurrence_shows_as_an_exdate(world, secretary, body):
    made = series.create_series(
        world, data_for(body, date(2026, 1, 8)), RepeatRule("weekly", count=4), by=secretary
    )
    third = made.sessions[2]
    scheduling.cancel_session(world, third, by=secretary, reason="会場工事")
    world.commit()
    assert series.exdates(made) == [third.original_start]
    assert series.overrides(made) == []
    assert [s.status for s in made.sessions].count(Status.CANCELLED) == 1


# --- This and following -------------------------------------------------------------------


def test_changing_the_third_of_six_and_the_following(world, secretary, body):
    first_day = date(2026, 1, 8)
    made = series.create_series(
        world, data_for(body, first_day), RepeatRule("weekly", count=6), by=secretary
    )
    occurrences = list(made.sessions)
    for occurrence in occurrences:
        mark_convened(occurrence)
    first_start = occurrences[0].start_at
    scheduling.cancel_session(world, occurrences[4], by=secretary)
    world.commit()
    third = occurrences[2]

    # From the 3rd on: one hour later (15:00–16:00), in another room.
    change = data_for(body, date(2026, 1, 22), time(15), time(16))
    change.place = "保健センター 研修室"
    new = series.update_following(world, third, change, by=secretary)
    world.commit()
    world.expire_all()

    # The first two are unchanged and stay in the old series, whose rule now stops before.
    assert made.id != new.id
    assert [s.id for s in made.sessions] == [occurrences[0].id, occurrences[1].id]
    for old in made.sessions:
        assert old.place == "役場 第1会議室"
        # Their rule was cut: their calendars are told (the SEQUENCE rises as it is sent).
        assert old.notice_pending_since is not None
        assert not old.is_moved
    assert "COUNT" not in made.rrule
    assert "UNTIL=20260122T045959Z" in made.rrule  # 13:59:59 Tokyo on the 22nd
    assert series.occurrence_starts(made.rrule, first_start) == [s.start_at for s in made.sessions]
    assert len(series.occurrence_starts(made.rrule, first_start)) == 2

    # The 3rd to 6th are in the new series, one hour later, in the new room.
    assert [s.id for s in new.sessions] == [s.id for s in occurrences[2:]]
    assert new.rrule == "FREQ=WEEKLY;COUNT=4"
    new_first = series.first_start(new)
    assert in_tokyo(new_first).replace(tzinfo=None) == at(date(2026, 1, 22), time(15))
    assert series.occurrence_starts(new.rrule, new_first) == [
        s.original_start for s in new.sessions
    ]
    for n, occurrence in zip(range(2, 6), new.sessions, strict=True):
        expected = at(first_day + timedelta(weeks=n), time(15))
        assert in_tokyo(occurrence.original_start).replace(tzinfo=None) == expected
        if n == 4:
            # The 5th stays cancelled, at its slot of the new rule (its EXDATE).
            assert occurrence.status == Status.CANCELLED
            assert occurrence.place == "役場 第1会議室"
            continue
        assert occurrence.status == Status.CONVENED
        assert in_tokyo(occurrence.start_at).replace(tzinfo=None) == expected
        assert occurrence.minutes_long == 60
        assert occurrence.place == "保健センター 研修室"
        assert not occurrence.is_moved
        assert occurrence.notice_pending_since is not None
        assert occurrence.changes[-1].kind == "rescheduled"
    assert series.exdates(new) == [new.sessions[2].original_start]
    assert series.overrides(new) == []
    assert series.exdates(made) == []
    for value in (made.rrule, new.rrule):
        rrulestr(value, dtstart=first_start)


def test_following_keeps_the_end_date_and_an_earlier_move(world, secretary, body):
    rule = RepeatRule("weekly", until=date(2026, 2, 12))  # 6 Thursdays from 8 January
    made = series.create_series(world, data_for(body, date(2026, 1, 8)), rule, by=secretary)
    occurrences = list(made.sessions)
    # The 5th was moved on its own to the Friday.
    scheduling.update_session(world, occurrences[4], data_for(body, date(2026, 2, 6)), by=secretary)
    # From the 4th on: half an hour earlier.
    change = data_for(body, date(2026, 1, 29), time(13, 30), time(15))
    new = series.update_following(world, occurrences[3], change, by=secretary)
    world.commit()
    assert new.rrule.endswith("UNTIL=20260212T145959Z")
    assert series.occurrence_starts(new.rrule, series.first_start(new)) == [
        s.original_start for s in new.sessions
    ]
    assert tokyo_starts(new) == [
        at(date(2026, 1, 29), time(13, 30)),
        at(date(2026, 2, 6), time(13, 30)),  # still moved, by the same half hour
        at(date(2026, 2, 12), time(13, 30)),
    ]
    assert series.overrides(new) == [occurrences[4]]
    assert len(series.occurrence_starts(made.rrule, series.first_start(made))) == 3


def test_following_to_another_weekday_of_the_month(world, secretary, body):
    # 2nd Thursdays; from April on, 2nd Fridays.
    rule = RepeatRule("monthly_by_weekday", count=6)
    made = series.create_series(world, data_for(body, date(2026, 1, 8)), rule, by=secretary)
    april = made.sessions[3]
    new = series.update_following(world, april, data_for(body, date(2026, 4, 10)), by=secretary)
    world.commit()
    assert new.rrule == "FREQ=MONTHLY;BYDAY=2FR;COUNT=3"
    assert tokyo_starts(new) == [at(date(2026, 4, 10)), at(date(2026, 5, 8)), at(date(2026, 6, 12))]
    assert series.overrides(new) == []


def test_following_from_the_first_changes_the_whole_series(world, secretary, body):
    made = series.create_series(
        world, data_for(body, date(2026, 1, 8)), RepeatRule("weekly", count=3), by=secretary
    )
    series_rows = count(world, Series)
    change = data_for(body, date(2026, 1, 8))
    change.title = "支援会議"
    same = series.update_following(world, made.sessions[0], change, by=secretary)
    world.commit()
    assert same.id == made.id
    assert count(world, Series) == series_rows
    assert [s.title for s in made.sessions] == ["支援会議"] * 3
    assert [c.kind for c in made.sessions[1].changes] == ["created", "edited"]


def test_following_on_a_one_off_session_is_refused(world, secretary, body):
    one_off = scheduling.create_session(world, data_for(body, date(2026, 1, 8)), by=secretary)
    changes = count(world, SessionChange)
    with pytest.raises(DomainError):
        series.update_following(world, one_off, data_for(body, date(2026, 1, 9)), by=secretary)
    assert count(world, SessionChange) == changes
