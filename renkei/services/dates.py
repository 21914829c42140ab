"""Dates and times as people in Japanese municipalities see them (Asia/Tokyo).

Times are stored in UTC; everything a person types or reads is Tokyo time.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

TOKYO = ZoneInfo("Asia/Tokyo")


def now_tokyo() -> datetime:
    return datetime.now(TOKYO)


def today() -> date:
    """Today's date in Tokyo: a term that ends "today" is current until midnight there."""
    return now_tokyo().date()


def tokyo_to_utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=TOKYO).astimezone(UTC)


def in_tokyo(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO)


def tokyo_date(moment: datetime) -> date:
    return in_tokyo(moment).date()


def fiscal_year_of(day: date) -> int:
    """The fiscal year (年度, 1 April – 31 March) ``day`` falls in, by the year it starts."""
    return day.year if day.month >= 4 else day.year - 1


def holiday_name(day: date) -> str | None:
    """The Japanese public holiday on ``day``, if any (jpholiday, in Japanese)."""
    return jpholiday.is_holiday_name(day)


def tokyo_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = tokyo_to_utc(day, time(0, 0))
    return start, start + timedelta(days=1)
