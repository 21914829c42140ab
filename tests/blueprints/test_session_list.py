"""The list of sessions (/sessions/) and its month and week calendars: what each person may
know of, the filters, what a filter not understood does, and the calendar's days."""

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import MeetingSession, Membership, Person, Status
from renkei.services import demo, policy, session_list
from renkei.services.dates import fiscal_year_of, japanese_fiscal_year, today
from tests.conftest import client_for, login
from tests.helpers import body_named, counting, person_by_email
from tests.sessions_helpers import (
    COORDINATION,
    DAY,
    LAYER1,
    LAYER2,
    PAST_DAY,
    SUPPORT,
    make_session,
    shown,
)

SUPPORT_TITLE = "支援会議 定例会"
PREPARED_TITLE = "第2層協議体（準備中）"
KYOGITAI_TITLE = "協議体 定例会"
# DAY's month and week in the calendar's addresses, and its fiscal year in the filter's.
MONTH = f"{DAY:%Y-%m}"
WEEK = DAY.isoformat()
YEAR = fiscal_year_of(DAY)


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def day_cell(html: str, day: int) -> str:
    """The month grid's cell of ``day`` of the month shown (not of a neighbouring month)."""
    cells = re.findall(r'<td class="day(?![^"]*outside)[^"]*"[^>]*>.*?</td>', html, re.S)
    found = [c for c in cells if f'<span class="day-number">{day}</span>' in c]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def sessions(world):
    """A 支援会議 session, a 協議体 one (both convened) and a prepared 第2層 one, on DAY."""
    make_session(world, SUPPORT, title=SUPPORT_TITLE)
    make_session(world, LAYER1, title=KYOGITAI_TITLE)
    make_session(world, LAYER2, title=PREPARED_TITLE, convened=False)
    return world


# --- Who sees what --------------------------------------------------------------------------


def test_a_member_sees_only_the_sessions_of_their_bodies_and_nothing_prepared(app, sessions):
    """地域 さくら sits on the 協議体 and chairs the 第2層: not the 支援会議's session, and not
    the 第2層's while it is being prepared, in the list, the month or the week."""
    member = client_for(app, "member.kyogitai")
    for url in (
        "/sessions/",
        f"/sessions/?view=month&month={MONTH}",
        f"/sessions/?view=week&week={WEEK}",
    ):
        html = page(member, url)
        assert KYOGITAI_TITLE in html
        assert SUPPORT_TITLE not in html
        assert PREPARED_TITLE not in html


def test_the_secretariat_sees_its_prepared_session(app, sessions):
    secretary = client_for(app, "secretary")
    for url in ("/sessions/", f"/sessions/?view=month&month={MONTH}"):
        html = page(secretary, url)
        assert PREPARED_TITLE in html and SUPPORT_TITLE in html and KYOGITAI_TITLE in html


def test_an_administrator_sees_no_prepared_session(app, sessions):
    html = page(client_for(app, "admin"), "/sessions/")
    assert SUPPORT_TITLE in html and KYOGITAI_TITLE in html
    assert PREPARED_TITLE not in html


def test_a_member_cannot_filter_by_a_body_they_do_not_sit_on(app, sessions):
    """The 支援会議 is not offered to 地域 さくら; asked for by its id, it is named as not
    understood, and the list is shown without it: still nothing of the 支援会議."""
    support = body_named(sessions, SUPPORT)
    member = client_for(app, "member.kyogitai")
    html = page(member, "/sessions/")
    assert f'<option value="{support.id}"' not in html
    html = page(member, f"/sessions/?body={support.id}", 400)
    assert "会議体は一覧から選んでください。" in html
    assert SUPPORT_TITLE not in html
    assert KYOGITAI_TITLE in html


def test_the_list_shows_what_the_policy_lets_each_person_see(app, db):
    """Session by session, the list agrees with ``policy.session_access().can_view`` for
    every person of the demo town (a participant, a member not chosen for a case review, an
    administrator), and for a former member, who still knows of the sessions of their term."""
    with app.app_context():
        demo.load(db)
        db.commit()
        former = person_by_email(db, "chair.kyogitai@example.jp")
        term = db.scalar(
            select(Membership).where(
                Membership.person_id == former.id,
                Membership.body_id == body_named(db, LAYER1).id,
            )
        )
        term.term_end = date(2026, 1, 31)
        held = make_session(db, LAYER1, title="昨年度の協議体", day=date(2026, 1, 15))
        assert held.status == Status.HELD
        db.commit()
        everyone = db.scalars(select(MeetingSession)).all()
        for person in db.scalars(select(Person)):
            access = {s.id for s in everyone if policy.session_access(db, person, s).can_view}
            assert listed(db, person) == access, person.name
        assert held.id in listed(db, former)
        # The case review convened with selected members, and its participant, are among
        # those compared.
        assert any(s.selections for s in everyone)
        assert any(s.participants for s in everyone)


def listed(db, person) -> set[int]:
    found = session_list.listing(db, person, session_list.Filters(), now=utcnow(), on=today())
    return {s.id for s in [*found.coming, *found.past]}


# --- Filters ----------------------------------------------------------------------------------


def test_filter_by_body(app, sessions):
    layer1 = body_named(sessions, LAYER1)
    html = page(client_for(app, "secretary"), f"/sessions/?body={layer1.id}")
    assert KYOGITAI_TITLE in html
    assert SUPPORT_TITLE not in html and PREPARED_TITLE not in html


def test_filter_by_status(app, sessions):
    secretary = client_for(app, "secretary")
    html = page(secretary, "/sessions/?status=prepared")
    assert PREPARED_TITLE in html and KYOGITAI_TITLE not in html
    html = page(secretary, f"/sessions/?status=convened&view=month&month={MONTH}")
    assert PREPARED_TITLE not in html and KYOGITAI_TITLE in html


def test_the_prepared_status_is_offered_to_a_secretariat_only(app, sessions):
    assert 'value="prepared"' in page(client_for(app, "secretary"), "/sessions/")
    member = client_for(app, "member.kyogitai")
    assert 'value="prepared"' not in page(member, "/sessions/")
    html = page(member, "/sessions/?status=prepared", 400)
    assert "状態は一覧から選んでください。" in html
    assert PREPARED_TITLE not in html


def test_filter_by_fiscal_year_runs_from_april_to_march(app, world):
    """31 March is in the fiscal year that began the April before, 1 April in the next."""
    make_session(world, LAYER1, title="年度末の会議", day=date(YEAR + 1, 3, 31))
    make_session(world, LAYER1, title="新年度の会議", day=date(YEAR + 1, 4, 1))
    secretary = client_for(app, "secretary")
    html = page(secretary, f"/sessions/?year={YEAR}")
    assert "年度末の会議" in html and "新年度の会議" not in html
    html = page(secretary, f"/sessions/?year={YEAR + 1}")
    assert "新年度の会議" in html and "年度末の会議" not in html
    # The years are offered by their Japanese names (令和9年度).
    option = f'<option value="{YEAR + 1}">{japanese_fiscal_year(YEAR + 1)}</option>'
    assert option in page(secretary, "/sessions/")


def test_past_sessions_are_listed_apart_newest_first(app, world):
    make_session(world, LAYER1, title="前回の会議", day=PAST_DAY)
    make_session(world, LAYER1, title="前々回の会議", day=PAST_DAY - timedelta(weeks=5))
    make_session(world, LAYER1, title="次回の会議", day=DAY)
    html = page(client_for(app, "secretary"), "/sessions/")
    coming, past = html.split('id="past-heading"')
    assert "次回の会議" in coming and "前回の会議" not in coming
    assert past.index("前回の会議") < past.index("前々回の会議")


def test_a_session_under_way_is_still_coming(app, world):
    """The coming list walks the start index from a day before now (no session lasts
    longer): one that began hours ago and has not ended is still in it."""
    session = make_session(world, LAYER1, title="開催中の会議")
    session.start_at, session.end_at = utcnow() - timedelta(hours=23), utcnow() + timedelta(hours=1)
    world.commit()
    coming, _past = page(client_for(app, "secretary"), "/sessions/").split('id="past-heading"')
    assert "開催中の会議" in coming


def test_the_years_offered_run_from_the_viewers_first_session_to_their_last(app, world):
    """A session the viewer may not know of widens nothing."""
    make_session(world, LAYER1, title="三年前", day=date(YEAR - 3, 6, 1))
    make_session(world, LAYER1, title="来年度", day=date(YEAR + 1, 6, 1))
    make_session(world, SUPPORT, title="支援会議だけの昔", day=date(YEAR - 6, 6, 1))
    member = client_for(app, "member.kyogitai")
    offered = re.findall(r'<option value="(\d{4})">', page(member, "/sessions/"))
    assert sorted(int(y) for y in offered) == list(range(YEAR - 3, YEAR + 2))


# --- What is not understood -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("body=abc", "会議体は一覧から選んでください。"),
        ("body=999999", "会議体は一覧から選んでください。"),
        ("status=postponed", "状態は一覧から選んでください。"),
        ("year=R8", "年度は2026のように"),
        ("year=20266", "年度は2026のように"),
        ("year=1999", "年度は2026のように"),
        ("view=month&month=2026-13", "月は2026-12のように"),
        ("view=month&month=december", "月は2026-12のように"),
        ("view=week&week=2026-02-30", "週は2026-12-10のように"),
        ("view=year", "表示は一覧・月・週から選んでください。"),
    ],
)
def test_a_filter_not_understood_is_named_and_narrows_nothing(app, sessions, query, message):
    html = page(client_for(app, "secretary"), f"/sessions/?{query}", 400)
    assert message in html
    assert 'class="error-summary"' in html
    if "view=month" in query:  # this month is shown
        assert f'<h2 id="month-heading">{today().year}年{today().month}月</h2>' in html
    elif "view=week" in query:  # this week is shown
        assert 'aria-current="date"' in html
    else:  # nothing is narrowed: the sessions of every body are listed
        assert SUPPORT_TITLE in html and KYOGITAI_TITLE in html


def test_a_filter_not_understood_keeps_those_understood(app, sessions):
    layer1 = body_named(sessions, LAYER1)
    html = page(client_for(app, "secretary"), f"/sessions/?body={layer1.id}&year=abc", 400)
    assert KYOGITAI_TITLE in html and SUPPORT_TITLE not in html


def test_a_page_beyond_the_last_shows_the_last(app, sessions):
    assert page(client_for(app, "secretary"), "/sessions/?page=99")


# --- The month and the week -----------------------------------------------------------------


def test_the_month_starts_on_sunday_and_shows_its_neighbours_greyed(app, world):
    """December 2026 starts on a Tuesday: its grid starts on Sunday 29 November."""
    html = page(client_for(app, "secretary"), "/sessions/?view=month&month=2026-12")
    assert "2026年12月" in html
    first = re.search(
        r'<td class="([^"]*)"[^>]*>\s*<span class="day-head"><span class="day-number">(\d+)', html
    )
    assert first[2] == "29" and "outside" in first[1] and "rest-day" in first[1]
    assert html.index(">日</th>") < html.index(">月</th>") < html.index(">土</th>")
    assert 'href="/sessions/?view=month&amp;month=2026-11"' in html
    assert 'href="/sessions/?view=month&amp;month=2027-01"' in html


def test_a_session_late_on_the_last_day_stays_in_its_month(app, world):
    """23:00 on 31 December (Tokyo) is 14:00 UTC the same day; 00:30 on 1 January is still
    31 December in UTC. Each session is on its own Tokyo day, in its own month."""
    eve = date(DAY.year, 12, 31)  # DAY is never in the New-Year days: this lies ahead
    new_year = eve + timedelta(days=1)
    make_session(world, LAYER1, title="大晦日の会議", day=eve, start=time(23), end=time(23, 30))
    make_session(world, LAYER1, title="元日の会議", day=new_year, start=time(0, 30), end=time(1))
    secretary = client_for(app, "secretary")
    december = page(secretary, f"/sessions/?view=month&month={eve:%Y-%m}")
    assert "大晦日の会議" in day_cell(december, 31)
    assert "元日の会議" not in december
    january = page(secretary, f"/sessions/?view=month&month={new_year:%Y-%m}")
    assert "元日の会議" in day_cell(january, 1)
    assert "0:30" in day_cell(january, 1)
    assert "大晦日の会議" not in january


def test_public_holidays_are_named_and_marked(app, world):
    html = page(client_for(app, "secretary"), "/sessions/?view=month&month=2027-01")
    new_year = day_cell(html, 1)
    assert "元日" in new_year and "rest-day" in new_year
    assert "成人の日" in day_cell(html, 11)  # the second Monday of January 2027
    assert "saturday" in day_cell(html, 2)
    assert "rest-day" not in day_cell(html, 4)


def test_today_is_marked(app, world):
    html = page(client_for(app, "secretary"), "/sessions/?view=month")
    assert html.count('aria-current="date"') == 1
    assert 'aria-current="date"' in day_cell(html, today().day)
    assert 'aria-current="date"' not in page(
        client_for(app, "secretary"), "/sessions/?view=month&month=2020-01"
    )


def test_the_day_links_each_session_with_its_time(app, sessions):
    session = sessions.scalar(select(MeetingSession).where(MeetingSession.title == KYOGITAI_TITLE))
    html = page(client_for(app, "secretary"), f"/sessions/?view=month&month={MONTH}")
    cell = day_cell(html, DAY.day)
    assert f'href="/sessions/{session.id}"' in cell
    assert "14:00" in cell and KYOGITAI_TITLE in cell


def test_the_week_lists_seven_days_from_sunday(app, sessions):
    html = page(client_for(app, "secretary"), f"/sessions/?view=week&week={WEEK}")
    days = re.findall(r'<span class="day-date">([^<]+)</span>', html)
    sunday = DAY - timedelta(days=4)  # DAY is a Thursday
    saturday = sunday + timedelta(days=6)
    assert days[0] == shown(sunday, kind="day") and days[-1] == shown(saturday, kind="day")
    assert len(days) == 7
    assert KYOGITAI_TITLE in html
    assert f'href="/sessions/?view=week&amp;week={sunday - timedelta(weeks=1)}"' in html
    assert f'href="/sessions/?view=week&amp;week={sunday + timedelta(weeks=1)}"' in html


def test_the_filters_follow_the_calendar_from_page_to_page(app, sessions):
    layer1 = body_named(sessions, LAYER1)
    html = page(
        client_for(app, "secretary"), f"/sessions/?view=month&month={MONTH}&body={layer1.id}"
    )
    following = session_list.next_month(DAY.replace(day=1))
    assert f"month={following:%Y-%m}&amp;body={layer1.id}" in html


# --- Where it is reached, and what it costs -------------------------------------------------


def test_the_list_is_in_the_menu_and_on_the_home_page(app, world):
    secretary = client_for(app, "secretary")
    home = page(secretary, "/")
    menu = home.split('class="site-nav"')[1].split("</nav>")[0]
    assert 'href="/sessions/"' in menu
    main = home.split('<main id="main">')[1]
    assert 'href="/sessions/"' in main
    assert 'aria-current="page">会議</a>' in page(secretary, "/sessions/")


def test_a_visitor_is_sent_to_the_login(client, world):
    assert client.get("/sessions/").status_code == 302


def _add_sessions(db, n: int, first: int) -> None:
    for i in range(first, first + n):
        # Past ones up to PAST_DAY, coming ones from DAY on: both lists are never empty.
        offset = timedelta(days=i % 28)
        day = PAST_DAY - offset if i % 2 else DAY + offset
        make_session(db, LAYER1, COORDINATION, title=f"会議{i}", day=day)


@pytest.mark.parametrize(
    "url",
    ["/sessions/", f"/sessions/?view=month&month={MONTH}", f"/sessions/?view=week&week={WEEK}"],
)
def test_query_count_does_not_grow_with_sessions(app, world, url):
    member = login(app.test_client(), "member.both@example.jp")
    engine = app.extensions["renkei.engine"]

    def queries() -> int:
        member.get(url)
        with counting(engine) as statements:
            assert member.get(url).status_code == 200
        return len(statements)

    _add_sessions(world, 2, 0)
    small = queries()
    _add_sessions(world, 40, 2)
    assert queries() == small


def test_on_paper_the_list_says_what_it_was_narrowed_to(app, sessions):
    """The filter form is not printed: the page names the body, status and fiscal year."""
    layer1 = body_named(sessions, LAYER1)
    html = page(
        client_for(app, "secretary"), f"/sessions/?body={layer1.id}&status=convened&year={YEAR}"
    )
    assert f'<p class="print-only">{LAYER1}、招集済、{japanese_fiscal_year(YEAR)}</p>' in html
