"""Apportionment (按分) of meeting hours between programmes, with worked examples."""

from datetime import date, time
from fractions import Fraction

import pytest

from renkei.models import Programme
from renkei.services import agenda, apportionment, attendance, pledges, posts, scheduling
from renkei.services.agenda import ItemData
from renkei.services.attendance import LineData
from renkei.services.errors import DomainError, Forbidden
from renkei.services.posts import PostData
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import LAYER1, PAST_DAY, REGISTERED_AFTER, SUPPORT, make_session

LIVELIHOOD, CARE = Programme.LIVELIHOOD, Programme.CARE_INSURANCE


pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def both(world):
    """兼務 三郎: on the 支援会議 and the 協議体, holding both posts, pledged for the first."""
    person = person_by_email(world, "member.both@example.jp")
    admin = person_by_email(world, "admin@example.jp")
    start = date(2025, 4, 1)
    posts.add_post(world, person, PostData("livelihood", "相談支援員", start), by=admin)
    posts.add_post(
        world, person, PostData("care_insurance", "生活支援コーディネーター", start), by=admin
    )
    pledges.record_pledge(world, body_named(world, SUPPORT), person, by=person)
    world.commit()
    return person


def held_session(world, secretary, items, day=PAST_DAY, start=time(14), end=time(16)):
    """A held joint session of the 支援会議 and the 協議体 with ``items``: (body, minutes,
    visibility) in agenda order."""
    session = make_session(world, SUPPORT, LAYER1, day=day, start=start, end=end)
    for number, (body, minutes, visibility) in enumerate(items, start=1):
        data = ItemData(
            title=f"議題{number}",
            body_id=body_named(world, body).id,
            planned_minutes=minutes,
            visibility=visibility,
            confirm_wider=True,  # a public item of the 支援会議 in some examples
        )
        agenda.add_item(world, session, data, by=secretary, correction=REGISTERED_AFTER)
    scheduling.set_status(world, session, "held", by=secretary)
    world.commit()
    return session


def record(world, session, secretary, person, line: LineData):
    line.person_id = person.id
    lines = [line] + [
        LineData(i.person.id, "absent")
        for i in scheduling.invitees(world, session)
        if i.person.id != person.id
    ]
    shown = {i.id for i in session.items if i.visibility in ("body", "confidential")}
    attendance.save_record(world, session, lines, by=secretary, shown=shown)
    world.commit()
    return attendance.record_of(world, session).attendances[person.id]


# The joint session of the worked example: 14:00–16:00 is 120 minutes; the items plan
# 40 + 30 + 10 = 80 minutes, so each planned minute stands for 120 / 80 = 1.5 minutes of the
# session (the 40 minutes nobody planned, opening and closing included, are shared alike):
#   item 1, 支援会議 (livelihood), confidential: 40 × 1.5 = 60 min, 14:00–15:00
#   item 2, 協議体 (care insurance), public:     30 × 1.5 = 45 min, 15:00–15:45
#   item 3, 協議体 (care insurance), session:    10 × 1.5 = 15 min, 15:45–16:00
WORKED = [(SUPPORT, 40, "confidential"), (LAYER1, 30, "public"), (LAYER1, 10, "session")]


def test_a_joint_session_is_split_between_the_two_programmes(world, secretary, both):
    session = held_session(world, secretary, WORKED)
    secret = session.items[0].id
    present = record(world, session, secretary, both, LineData(0, "present", item_ids={secret}))
    # Present throughout: livelihood 60 (item 1), care insurance 45 + 15 = 60.
    assert apportionment.split(session, present) == {LIVELIHOOD: 60, CARE: 60}


@pytest.mark.parametrize(
    "arrived, left, expected",
    [
        # Arrived 14:30: item 1 only from 14:30 to 15:00 = 30; items 2 and 3 whole = 60.
        (time(14, 30), None, {LIVELIHOOD: 30, CARE: 60}),
        # Left 15:20: item 1 whole = 60; item 2 from 15:00 to 15:20 = 20; item 3 none.
        (None, time(15, 20), {LIVELIHOOD: 60, CARE: 20}),
        # 14:50 to 15:50: item 1 10; item 2 45; item 3 from 15:45 to 15:50 = 5.
        (time(14, 50), time(15, 50), {LIVELIHOOD: 10, CARE: 50}),
    ],
)
def test_partial_attendance_counts_only_the_part_attended(
    world, secretary, both, arrived, left, expected
):
    session = held_session(world, secretary, WORKED)
    line = LineData(0, "partial", arrived=arrived, left=left, item_ids={session.items[0].id})
    assert apportionment.split(session, record(world, session, secretary, both, line)) == expected


def test_a_confidential_item_not_sat_in_is_not_charged(world, secretary, both):
    session = held_session(world, secretary, WORKED)
    # Not ticked for item 1: its 60 minutes are not charged; items 2 and 3 give 60.
    out = record(world, session, secretary, both, LineData(0, "present"))
    assert apportionment.split(session, out) == {CARE: 60}


def test_a_body_item_is_charged_as_sat_through_and_its_presence_is_the_bodys(
    world, secretary, both
):
    """A 支援会議 `body` item: the 協議体's members left the room for it, so it is charged
    only to those recorded present; who was is for the 支援会議's members to read. 地域 さくら
    (協議体 only) reads 兼務 三郎's hours as if he sat through it (the line says so)."""
    items = [(SUPPORT, 40, "body"), (LAYER1, 30, "public"), (LAYER1, 10, "session")]
    session = held_session(world, secretary, items)
    out = record(world, session, secretary, both, LineData(0, "present"))
    assert apportionment.split(session, out) == {CARE: 60}
    period = apportionment.parse_period("2026")
    other = person_by_email(world, "member.kyogitai@example.jp")
    support_member = person_by_email(world, "chair.support@example.jp")  # no pledge needed
    for reader, minutes, withheld in (
        (both, {LIVELIHOOD: 0, CARE: 60}, False),
        (support_member, {LIVELIHOOD: 0, CARE: 60}, False),
        (other, {LIVELIHOOD: 60, CARE: 60}, True),
    ):
        (line,) = apportionment.report(world, period, [both], reader=reader).people[0].lines
        assert {p: line.minutes.get(p, 0) for p in (LIVELIHOOD, CARE)} == minutes
        assert line.presence_withheld is withheld


def test_without_planned_minutes_the_bodies_share_alike(world, secretary, both):
    session = held_session(world, secretary, [(SUPPORT, 0, "public")], end=time(15, 30))
    present = record(world, session, secretary, both, LineData(0, "present"))
    # 90 minutes, two bodies served: 45 each.
    assert apportionment.split(session, present) == {LIVELIHOOD: 45, CARE: 45}


def test_whole_minutes_add_up_to_the_rounded_total():
    # 50 minutes planned 1 : 2 → 16⅔ and 33⅓; rounded total 50: floors 16 + 33 = 49, the
    # larger remainder (⅔, livelihood) takes the spare minute: 17 and 33.
    exact = {LIVELIHOOD: Fraction(50, 3), CARE: Fraction(100, 3)}
    assert apportionment.whole_minutes(exact) == {LIVELIHOOD: 17, CARE: 33}
    # 20½ + 20½ = 41 exactly: the tie goes to the first programme: 21 and 20.
    halves = {LIVELIHOOD: Fraction(41, 2), CARE: Fraction(41, 2)}
    assert apportionment.whole_minutes(halves) == {LIVELIHOOD: 21, CARE: 20}


def test_the_fiscal_year_report_adds_whole_minutes(world, secretary, both):
    first = held_session(world, secretary, WORKED)
    record(world, first, secretary, both, LineData(0, "present", item_ids={first.items[0].id}))
    # A second session, 13:00–13:50, items 1 : 2 (see the rounding test): 17 and 33.
    second = held_session(
        world,
        secretary,
        [(SUPPORT, 10, "public"), (LAYER1, 20, "public")],
        day=date(2026, 10, 8),
        start=time(13),
        end=time(13, 50),
    )
    record(world, second, secretary, both, LineData(0, "present"))
    report = apportionment.report(world, apportionment.parse_period("2026"), [both], reader=both)
    (mine,) = report.people
    assert [line.session.id for line in mine.lines] == [second.id, first.id]
    assert mine.totals[LIVELIHOOD] == 60 + 17 and mine.totals[CARE] == 60 + 33
    assert mine.total == 170 and apportionment.hours(mine.total) == "2:50"
    assert not any(line.unposted for line in mine.lines)
    # Fiscal year 2025 (April 2025 to March 2026) holds neither; November 2026 the first.
    assert (
        apportionment.report(world, apportionment.parse_period("2025"), [both], reader=both)
        .people[0]
        .lines
        == []
    )
    month = apportionment.report(world, apportionment.parse_period("2026-11"), [both], reader=both)
    assert [line.session.id for line in month.people[0].lines] == [first.id]


def test_hours_charged_where_no_post_was_held_are_marked(world, secretary):
    person = person_by_email(world, "member.both@example.jp")
    admin = person_by_email(world, "admin@example.jp")
    posts.add_post(world, person, PostData("livelihood", "相談支援員", date(2025, 4, 1)), by=admin)
    session = held_session(world, secretary, [(SUPPORT, 30, "public"), (LAYER1, 30, "public")])
    record(world, session, secretary, person, LineData(0, "present"))
    (line,) = (
        apportionment.report(world, apportionment.parse_period("2026"), [person], reader=person)
        .people[0]
        .lines
    )
    assert line.minutes == {LIVELIHOOD: 60, CARE: 60} and line.unposted == {CARE}


@pytest.mark.parametrize(
    "text, first, last",
    [
        ("2026", date(2026, 4, 1), date(2027, 3, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-2", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_periods(text, first, last):
    period = apportionment.parse_period(text)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize(
    "text", ["令和8", "2026-13", "2026-00", "1999", "26", "2026/05", "2026-5-1"]
)
def test_a_period_that_is_none_is_refused(text):
    with pytest.raises(DomainError) as refused:
        apportionment.parse_period(text)
    assert "2026-05のように" in str(refused.value.message)


def test_posts_are_checked_and_kept_to_administrators(world, secretary):
    person = person_by_email(world, "member.both@example.jp")
    admin = person_by_email(world, "admin@example.jp")
    with pytest.raises(Forbidden):
        posts.add_post(
            world, person, PostData("livelihood", "相談支援員", date(2026, 4, 1)), by=secretary
        )
    bad = [
        (PostData("welfare", "相談支援員", date(2026, 4, 1)), "事業を選んで"),
        (PostData("livelihood", " ", date(2026, 4, 1)), "職名を入力"),
        (PostData("livelihood", "相談支援員", date(2026, 4, 1), date(2026, 3, 31)), "開始日より前"),
    ]
    for data, message in bad:
        with pytest.raises(DomainError) as refused:
            posts.add_post(world, person, data, by=admin)
        assert message in str(refused.value.message)
    posts.add_post(world, person, PostData("livelihood", "相談支援員", date(2026, 4, 1)), by=admin)
    with pytest.raises(DomainError) as refused:
        posts.add_post(
            world, person, PostData("livelihood", "相談支援員", date(2026, 10, 1)), by=admin
        )
    assert "重なって" in str(refused.value.message)
    assert len(posts.posts_of(world, person)) == 1


def test_the_csv_table_holds_the_reports_figures_and_marks_withheld_presence(
    world, secretary, both
):
    session = held_session(world, secretary, WORKED)
    record(world, session, secretary, both, LineData(0, "present", item_ids={session.items[0].id}))
    period = apportionment.parse_period("2026")
    admin = person_by_email(world, "admin@example.jp")
    for reader, withheld in ((both, ""), (admin, "†")):
        report = apportionment.report(world, period, [both], reader=reader)
        header, line, total = apportionment.csv_rows(report)
        assert len(header) == len(line) == len(total) == 5 + len(report.programmes) + 4
        assert line[0] == total[0] == both.name and line[2] == session.title
        assert line[-1] == withheld  # the admin may not read presence at the closed item
        assert total[-4:-2] == [line[-4], line[-3]]  # one session: its total is the total
