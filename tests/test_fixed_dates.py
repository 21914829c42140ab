"""No test writes out a date that still lies ahead where the app compares dates with its
clock: a session's or a poll's day, a date typed into a form, a date as pages and letters
write it. Such a test holds only until that day (sessions on it are then held, polls refuse
it): dates ahead are derived from ``tests.sessions_helpers.DAY`` or from today.

A fixed date that lies in the past stays in the past, and stays allowed (PAST_DAY, the era
boundaries, examples in the tests of formatting). So is a year beyond the app's range
(scheduling.LAST_YEAR), which a test writes to be refused. This checks the forms that broke
before; a date written another way (a month and day without a year) it cannot judge.
"""

import re
from datetime import date
from pathlib import Path

from renkei.services.dates import today
from renkei.services.scheduling import LAST_YEAR

TESTS = Path(__file__).parent

# Each pattern captures year, month and day.
PATTERNS = (
    # A session's or a poll's day: day=date(2026, 12, 10), days=(date(…), …).
    re.compile(r"\bdays?=\(?\s*date\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)"),
    # A module's fixed date: DAY = date(2026, 12, 10).
    re.compile(r"^\s*[A-Z][A-Z0-9_]* = date\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)", re.M),
    # A date typed into a form or an address: "start_date": "2026-12-10", week=2026-12-10.
    re.compile(r"(?:start_date|-day|due_on|week)[\"']?\s*[:=]\s*[\"']?(\d{4})-(\d{2})-(\d{2})"),
    # A date as pages, mail and letters write it: 2026年12月10日, 令和8年12月10日.
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
    re.compile(r"(令和)(\d+|元)年(\d{1,2})月(\d{1,2})日"),
)
REIWA_BEFORE_ONE = 2018  # 令和N年 is the year 2018 + N


def dates_ahead(text: str, on: date) -> list[str]:
    """The dates written in ``text`` that lie after ``on`` and within the app's range."""
    found = []
    for pattern in PATTERNS:
        for match in pattern.finditer(text):
            day = _date(match.groups())
            if day is not None and on < day and day.year <= LAST_YEAR:
                found.append(match.group(0).strip())
    return found


def _date(groups: tuple[str, ...]) -> date | None:
    if groups[0] == "令和":
        year = 1 if groups[1] == "元" else int(groups[1])
        groups = (str(REIWA_BEFORE_ONE + year), *groups[2:])
    try:
        return date(*(int(g) for g in groups))
    except ValueError:  # 2026-02-30 and the like: written to be refused
        return None


def test_no_test_writes_out_a_date_ahead():
    on = today()
    written = {
        f"{path.relative_to(TESTS)}: {found}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__)
        for found in dates_ahead(path.read_text(encoding="utf-8"), on)
    }
    assert not written, "derive these from DAY or today (tests/sessions_helpers.py)"


def test_each_form_of_a_date_ahead_is_found():
    on = date(2026, 12, 3)
    text = "\n".join(
        [
            "make_session(world, SUPPORT, day=date(2026, 12, 10))",
            "make_poll(world, SUPPORT, days=(date(2026, 12, 11), DAY))",
            "DAY = date(2027, 1, 7)",
            '"start_date": "2026-12-17", "slots-0-day": "2026-12-18"',
            "page(client, '/sessions/?view=week&week=2026-12-24')",
            "assert '2027年1月14日(木) 14:00' in page and '令和9年1月21日（木）' in page",
        ]
    )
    assert dates_ahead(text, on) == [
        "day=date(2026, 12, 10)",
        "days=(date(2026, 12, 11)",
        "DAY = date(2027, 1, 7)",
        'start_date": "2026-12-17',
        '-day": "2026-12-18',
        "week=2026-12-24",
        "2027年1月14日",
        "令和9年1月21日",
    ]


def test_dates_past_invalid_or_out_of_range_are_not_found():
    on = date(2026, 12, 3)
    text = "\n".join(
        [
            "PAST_DAY = date(2026, 11, 12)",
            "make_session(world, SUPPORT, day=date(2026, 12, 3))",  # today: not ahead
            '"start_date": "2026-02-30"',  # no such day
            'start_date="9999-12-31"',  # beyond the app's range, to be refused
            "assert japanese_date(date(2019, 5, 1)) == '令和元年5月1日（水）'",
        ]
    )
    assert dates_ahead(text, on) == []
