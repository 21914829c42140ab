"""The fiscal-year report's figures (services/annual_report.py), counted by hand from the demo
town's last fiscal year (services/demo_history.py), the arithmetic in the comments.

The year: the 支援調整会議 monthly (12 sessions, recorded), the 協議体 (第1層) in May, August
(書面開催), November (cancelled) and February, three 支援会議 case reviews (June convened with
selected members and recorded; October; January), one joint 支援会議・協議体 session in
September (recorded) and the 第2層 (a subcommittee) in July and December.
"""

import pytest
from sqlalchemy import select

from renkei.models import Attendance, Body, MeetingSession, Status
from renkei.services import (
    annual_report,
    attendance,
    demo,
    demo_history,
    policy,
    quorum,
    scheduling,
)
from renkei.services.dates import fiscal_year_of, today
from tests.helpers import body_named, counting, person_by_email

SUPPORT, COORDINATION, KYOGITAI, NORTH = demo.SUPPORT, demo.COORDINATION, demo.KYOGITAI, demo.NORTH


@pytest.fixture
def history(app, world):
    with app.app_context():
        demo_history.load(world)
        world.commit()
    return world


@pytest.fixture
def admin(world):
    return person_by_email(world, "admin@example.jp")


def build(app, db, reader, body=None, year=None):
    with app.app_context():
        return annual_report.build(db, year or demo_history.year(), reader=reader, body=body)


def rows(report, key):
    return {row[0]: row[1:] for row in report.table(key).rows}


def test_sessions_by_body_and_form(app, history, admin):
    report = build(app, history, admin)
    # Columns: 単独, 共同開催, 分科会, 書面開催, 開催済, 中止.
    assert rows(report, "sessions_by_body") == {
        # Three case reviews (単独) and the joint session: 4 held.
        SUPPORT: [3, 1, 0, 0, 4, 0],
        # Twelve monthly sessions.
        COORDINATION: [12, 0, 0, 0, 12, 0],
        # May and February in person, August written, September joint; November cancelled.
        KYOGITAI: [2, 1, 0, 1, 4, 1],
        # The 第2層 has a parent: its two sessions are 分科会.
        NORTH: [0, 0, 2, 0, 2, 0],
    }
    # The joint session once: 3 + 12 + 2 = 17 単独, 1 共同, 2 分科会, 1 書面 = 21 held.
    assert report.table("sessions_by_body").total[1:] == [17, 1, 2, 1, 21, 1]


def test_sessions_by_month(app, history, admin):
    report = build(app, history, admin)
    table = report.table("sessions_by_month")
    held = [row[5] for row in table.rows]
    # April: 支援調整会議. May: + 協議体. June: + case review. July: + 第2層. August: + 書面.
    # September: + joint. October: + case review. November: 支援調整会議 (協議体 cancelled).
    # December: + 第2層. January: + case review. February: + 協議体. March: 支援調整会議.
    assert held == [1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 1]
    assert [row[6] for row in table.rows] == [0] * 7 + [1] + [0] * 4
    (chart,) = report.chart_for("sessions_by_month")
    assert [s.values[5] for s in chart.series] == [1, 1, 0, 0]  # September: 単独 + 共同
    assert len(chart.categories) == 12 and sum(sum(s.values) for s in chart.series) == 21


def test_attendance_rate_and_quorum_per_body(app, history, admin):
    report = build(app, history, admin)
    figures = rows(report, "attendance")
    # 支援会議: June, selected (chair, 相談 愛, 介護 由美 vote): 3/3; September: of six voting
    # members 一郎, 三郎, ふみ, 由美 came: 4/6, quorate (4 needed). (1 + 2/3) / 2 = 5/6.
    assert figures[SUPPORT][0] == 2 and figures[SUPPORT][2] == 2
    assert figures[SUPPORT][1] == pytest.approx(5 / 6)
    # 支援調整会議: 3 voting members; 3/3 April–September, 2/3 October–March:
    # (6 × 1 + 6 × 2/3) / 12 = 10/12; 2 needed, so all 12 quorate.
    assert figures[COORDINATION][0] == 12 and figures[COORDINATION][2] == 12
    assert figures[COORDINATION][1] == pytest.approx(10 / 12)
    # 協議体: six voting members (the observer and the secretariat do not vote). May 4/6
    # (4 needed: quorate), September 5/6 (quorate), February 3/6 (not): (4 + 5 + 3) / 18.
    assert figures[KYOGITAI][0] == 3 and figures[KYOGITAI][2] == 2
    assert figures[KYOGITAI][1] == pytest.approx(12 / 18)
    assert NORTH not in figures  # no record
    monthly = {(row[0], row[1]): row[2:] for row in report.table("attendance_by_month").rows}
    year = demo_history.year()
    assert monthly[(KYOGITAI, f"{year + 1}年2月")] == [1, 0.5, 0]
    assert monthly[(COORDINATION, f"{year}年10月")][1] == pytest.approx(2 / 3)
    (chart,) = report.chart_for("attendance")
    assert chart.percent and chart.categories == [SUPPORT, COORDINATION, KYOGITAI]


def test_attendance_agrees_with_the_session_pages(app, history, admin):
    """Each recorded session's quorum, as the session page reckons it (services/quorum.py),
    gives the same averages as the report."""
    rates: dict[str, list[float]] = {}
    quorate: dict[str, int] = {}
    with app.app_context():
        recorded = history.scalars(
            select(MeetingSession).where(
                MeetingSession.id.in_(select(Attendance.session_id)),
                MeetingSession.status == Status.HELD,
            )
        ).all()
        for session in recorded:
            record = attendance.attendances_of(history, session)
            invitees = scheduling.invitees(history, session)
            for counted in quorum.of_session(session, invitees, record).quorums:
                rates.setdefault(counted.body.name, []).append(counted.present / counted.total)
                quorate[counted.body.name] = quorate.get(counted.body.name, 0) + counted.met
    figures = rows(build(app, history, admin), "attendance")
    for name, values in rates.items():
        assert figures[name] == [
            len(values),
            pytest.approx(sum(values) / len(values)),
            quorate[name],
        ]


def test_agenda_items_by_visibility_and_topic_and_cases(app, history, admin):
    report = build(app, history, admin)
    # Columns: 公開, 出席者限り, 構成員限り, 非公開, 計.
    assert rows(report, "items_by_visibility") == {
        # Case reviews 2 + 2 + 2 confidential, the joint session's case (confidential) and
        # its report of the meetings held (session): 7 + 1.
        SUPPORT: [0, 1, 0, 7, 8],
        COORDINATION: [0, 0, 12, 0, 12],  # a plan review a month
        # May 2, August 1, February 2, the joint session's 1 (November's was cancelled).
        KYOGITAI: [6, 0, 0, 0, 6],
        NORTH: [0, 2, 0, 0, 2],
    }
    assert report.table("items_by_visibility").total[1:] == [6, 3, 12, 7, 28]
    # Two referrals were taken to cases: 家計・住まい (June) and 8050 (October); 28 − 2 none.
    assert rows(report, "items_by_topic") == {"家計": [1], "住まい": [1], "8050": [1], "なし": [26]}
    # Six cases (家計, 住まい, 8050, 就労, 見守り, 地域) in seven items: 家計 came back in January.
    assert rows(report, "cases") == {SUPPORT: [6, 7]}
    assert report.table("cases").total[1:] == [6, 7]


def test_referrals(app, history, admin):
    report = build(app, history, admin)
    # Six referrals; contacted after 4, 10, 2 and 7 days: median (4 + 7) / 2 = 5.5.
    assert report.table("referrals_summary").rows == [[6, 4, 5.5]]
    assert rows(report, "referrals_by_source") == {
        "みどり町 地域包括支援センター": [2],
        "みどり町 介護保険課": [1],
        "みどり町 社会福祉協議会": [1],
        "みどり町 福祉課": [1],
        "みどり町 自立相談支援センター": [1],
    }
    assert rows(report, "referrals_by_destination")["みどり町 自立相談支援センター"] == [3]
    topics = {"家計": [1], "住まい": [1], "就労": [2], "認知症": [1], "8050": [1], "健康": [1]}
    assert rows(report, "referrals_by_topic") == {**topics, "債務": [1]}
    assert rows(report, "referrals_by_consent") == {"有": [4], "無": [1], "確認中": [1]}
    # Now: 受付 1 (November), 接触済 1 (February), 支援開始 2, 終了 1, 未接触 1. Reached:
    # all 6 received; contacted 4; support started 2; closed 1 (contacted, then closed).
    assert rows(report, "referrals_by_status") == {
        "受付": [1, 6], "接触済": [1, 4], "支援開始": [2, 2], "終了": [1, 1], "未接触": [1, 1]
    }  # fmt: skip
    (funnel,) = report.chart_for("referrals_by_status")
    assert funnel.series[0].values == [6, 4, 2, 1]


def test_local_issues(app, history, admin):
    report = build(app, history, admin)
    # 協議体: two raised (August, January), one discussed (February), one resolved (February).
    # 第2層: two raised (May, November), both discussed (July, December), one resourced.
    assert rows(report, "local_issues") == {
        KYOGITAI: ["町全域", 2, 1, 1],
        NORTH: ["北中学校区", 2, 2, 1],
    }
    assert report.table("local_issues").total[2:] == [4, 3, 2]
    assert rows(report, "issues_by_status") == {
        "提起": [1], "協議中": [1], "継続": [0], "資源化": [1], "解決": [1]
    }  # fmt: skip


def test_meeting_hours_of_staff_with_two_posts(app, history, admin):
    """兼務 三郎 (two posts): May's 協議体, 13:30–15:30, 120 min of 協議体 items (care
    insurance); September's joint session, 14:00–16:00, items of 30 (協議体), 30 (支援会議,
    for the session) and 60 minutes (支援会議, a case he left the room for)."""
    both = person_by_email(history, "member.both@example.jp")
    # As the administrator reads it (not entitled to the case, so not told he left the
    # room: counted as there): livelihood 30 + 60 = 90 min, care 120 + 30 = 150 min.
    assert rows(build(app, history, admin), "hours") == {"兼務 三郎": [1.5, 2.5, 4.0]}
    # As he reads it himself: livelihood 30 min only.
    assert rows(build(app, history, both), "hours") == {"兼務 三郎": [0.5, 2.5, 3.0]}
    # The 支援会議's report: his hours in its sessions only (the joint one): 90 and 30 min.
    support = body_named(history, SUPPORT)
    secretary = person_by_email(history, "secretary@example.jp")
    assert rows(build(app, history, secretary, support), "hours") == {"兼務 三郎": [1.5, 0.5, 2.0]}


def test_follow_up_tasks(app, history, admin):
    report = build(app, history, admin)
    # 支援調整会議: opened May (done June) and October (due November, done only after the
    # year): 2 opened, 1 done, 1 overdue. 協議体: opened August, done October. 支援会議:
    # opened January, due after the year: not overdue.
    assert rows(report, "tasks") == {
        SUPPORT: [1, 0, 0],
        COORDINATION: [2, 1, 1],
        KYOGITAI: [1, 1, 0],
    }
    assert report.table("tasks").total[1:] == [4, 2, 1]


def test_a_bodys_report_counts_its_own(app, history):
    support = body_named(history, SUPPORT)
    secretary = person_by_email(history, "secretary@example.jp")
    report = build(app, history, secretary, support)
    assert report.scope == SUPPORT
    assert rows(report, "sessions_by_body") == {SUPPORT: [3, 1, 0, 0, 4, 0]}
    assert report.table("sessions_by_month").total[1:] == [3, 1, 0, 0, 4, 0]
    assert rows(report, "items_by_visibility") == {SUPPORT: [0, 1, 0, 7, 8]}
    # The two referrals taken to its cases: 4 and 2 days to contact, median 3.
    assert report.table("referrals_summary").rows == [[2, 2, 3]]
    assert rows(report, "tasks") == {SUPPORT: [1, 0, 0]}
    assert report.table("local_issues").rows == []


def test_no_title_case_number_or_name_of_a_closed_item_in_any_table(app, history, admin):
    """Counts only: no item's title, no case number, no supported person is in the report."""
    closed = history.scalars(select(MeetingSession)).all()
    secrets = {i.title for s in closed for i in s.items if policy.is_owned(i)}
    secrets |= {i.case_number for s in closed for i in s.items if i.case_number}
    assert secrets
    report = build(app, history, admin)
    cells = [
        str(value)
        for table in report.tables
        for row in [*table.rows, table.total or []]
        for value in row
    ]
    cells += [
        c for chart in report.charts for c in (*chart.categories, chart.title, chart.description)
    ]
    assert [cell for cell in cells if any(secret in cell for secret in secrets)] == []


def test_statements_do_not_grow_with_the_year(app, history, admin):
    """The year loaded twice over (twice the sessions, items, records, referrals, issues and
    tasks): the same number of SQL statements, and twice the figures."""
    engine = app.extensions["renkei.engine"]
    history.expire_all()  # both runs start from nothing loaded
    with counting(engine) as before:
        build(app, history, admin)
    with app.app_context():
        demo_history.load(history)
        history.commit()
    history.expire_all()
    with counting(engine) as after:
        report = build(app, history, admin)
    assert len(after) == len(before)
    assert report.table("sessions_by_body").total[1:] == [34, 2, 4, 2, 42, 2]
    assert report.table("referrals_summary").rows == [[12, 8, 5.5]]


def test_available_years(app, history):
    this_year = fiscal_year_of(today())
    assert annual_report.available_years(history) == [this_year, this_year - 1]


def test_no_years_without_records(app, world):
    assert annual_report.available_years(world) == []


@pytest.mark.parametrize(
    ("email", "visible"),
    [
        # The secretariat of every town body (not of the prefecture's 支援会議).
        ("secretary@example.jp", {SUPPORT, COORDINATION, KYOGITAI, NORTH}),
        # Chair of the 支援会議 and the 支援調整会議.
        ("chair.support@example.jp", {SUPPORT, COORDINATION}),
        # Member of the 支援会議 (a duty of secrecy: not theirs) and of the 協議体.
        ("member.both@example.jp", {KYOGITAI}),
        # Chair of the 協議体, member of the 第2層.
        ("chair.kyogitai@example.jp", {KYOGITAI, NORTH}),
        # An administrator sits on no body: the whole install's report only.
        ("admin@example.jp", set()),
        ("pref.secretary@example.jp", {demo.PREFECTURE}),
    ],
)
def test_who_reads_which_body_report(world, email, visible):
    person = person_by_email(world, email)
    bodies = world.scalars(select(Body)).all()
    allowed = set(policy.report_body_ids(world, person, bodies))
    assert {b.name for b in bodies if b.id in allowed} == visible
    assert policy.can_see_install_report(person) == (email == "admin@example.jp")
    assert policy.can_see_some_report(world, person)
