"""Dates typed into a search: 令和8年5月, 令和8年5月12日, R8.5, 2026-05, 2026/5/12, 2026年5月,
令和8年度 (a fiscal year) — read as a range of days and taken out of the words searched for.

Full-width digits are read as ASCII ones (NFKC). 元年 is year 1 of an era. A date that does
not exist (2026-02-30, 令和8年13月) is an error, not a silent miss.
"""

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Year 1 of each era, as the Gregorian year it began in (平成31年 is 2019, 令和元年 too).
_ERA_YEARS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988}
_ERA = r"(?P<era>令和|平成|[rh])\s*(?P<ey>元|\d{1,2})"
_PATTERNS = (
    # 令和8年度, 2026年度: a fiscal year (1 April to 31 March).
    re.compile(rf"(?:{_ERA}|(?P<y>\d{{4}}))\s*年度", re.IGNORECASE),
    # 令和8年5月12日, 2026年5月12日, 令和8年5月, 2026年5月, 令和8年, 2026年
    re.compile(
        rf"(?:{_ERA}|(?P<y>\d{{4}}))\s*年(?:\s*(?P<m>\d{{1,2}})\s*月(?:\s*(?P<d>\d{{1,2}})\s*日)?)?",
        re.IGNORECASE,
    ),
    # R8.5.12, R8.5, 2026-05-12, 2026/5/12, 2026-05, 2026/5, 2026.5
    re.compile(
        rf"(?<![\w.])(?:{_ERA}|(?P<y>\d{{4}}))[./-](?P<m>\d{{1,2}})(?:[./-](?P<d>\d{{1,2}}))?(?![\w.])",
        re.IGNORECASE,
    ),
)
_FISCAL = _PATTERNS[0]


class BadDate(ValueError):
    """A date typed that does not exist."""


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date
    typed: str  # as written in the query


def fiscal_year_range(year: int) -> tuple[date, date]:
    return date(year, 4, 1), date(year + 1, 3, 31)


def _year(match: re.Match[str]) -> int:
    if match.group("y"):
        return int(match.group("y"))
    era_year = match.group("ey")
    number = 1 if era_year == "元" else int(era_year)
    if number < 1:
        raise BadDate(match.group(0))
    return _ERA_YEARS[match.group("era").lower()] + number


def _range(match: re.Match[str], fiscal: bool) -> DayRange:
    year = _year(match)
    typed = match.group(0)
    if fiscal:
        return DayRange(*fiscal_year_range(year), typed)
    month = match.groupdict().get("m")
    day = match.groupdict().get("d")
    try:
        if month is None:
            return DayRange(date(year, 1, 1), date(year, 12, 31), typed)
        m = int(month)
        if day is None:
            last = calendar.monthrange(year, m)[1] if 1 <= m <= 12 else 0
            return DayRange(date(year, m, 1), date(year, m, last), typed)
        exact = date(year, m, int(day))
    except ValueError as error:
        raise BadDate(typed) from error
    return DayRange(exact, exact, typed)


def extract(query: str) -> tuple[str, DayRange | None]:
    """The query without its first date, and that date's range (None if it has none).
    Raises ``BadDate`` for a date that does not exist."""
    text = unicodedata.normalize("NFKC", query)
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        found = _range(match, fiscal=pattern is _FISCAL)
        rest = (text[: match.start()] + " " + text[match.end() :]).strip()
        return rest, found
    return text, None


def day_tokens(day: date) -> list[str]:
    """The scope tokens of an entry's day, so that a date is matched in the index (within
    the viewer's scope) rather than by reading every entry of the range."""
    return [f"d{day:%Y%m%d}", f"n{day:%Y%m}"]


def range_tokens(days: DayRange) -> list[str]:
    """Tokens of which an entry in ``days`` has one: the day's, or each month's."""
    if days.first == days.last:
        return [f"d{days.first:%Y%m%d}"]
    found = []
    year, month = days.first.year, days.first.month
    while (year, month) <= (days.last.year, days.last.month):
        found.append(f"n{year}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found
