"""Dates and times as people in Japanese municipalities see them (Asia/Tokyo).

Times are stored in UTC; everything a person types or reads is Tokyo time.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday
from flask import current_app, has_app_context

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


# --- Dates as letters and notices write them (和暦) -----------------------------------------
#
# A municipality writes its documents in the Japanese era (令和8年12月10日) or, where it has
# chosen to, in the Western calendar (2026年12月10日): the install setting DATE_STYLE
# ("wareki", the default, or "seireki"). Two eras suffice: Renkei's dates start in 2000, and a
# date before 平成 is written in the Western calendar whatever the setting.

WAREKI, SEIREKI = "wareki", "seireki"
DATE_STYLES = (WAREKI, SEIREKI)
WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class Era:
    name: str
    first_day: date


ERAS = (Era("令和", date(2019, 5, 1)), Era("平成", date(1989, 1, 8)))  # newest first


def era_of(day: date) -> tuple[str, int] | None:
    """The era and its year (1 for 元年) that ``day`` falls in; None before 平成."""
    era = next((e for e in ERAS if day >= e.first_day), None)
    return None if era is None else (era.name, day.year - era.first_day.year + 1)


def _year(day: date, style: str) -> str:
    era = era_of(day) if style == WAREKI else None
    if era is None:
        return f"{day.year}年"
    name, year = era
    return f"{name}{'元' if year == 1 else year}年"


def install_style() -> str:
    """The install's DATE_STYLE (renkei.config), for what a service writes into a document
    (the next session in a draft of the minutes); 和暦 outside an app."""
    return current_app.config.get("DATE_STYLE", WAREKI) if has_app_context() else WAREKI


def japanese_date(day: date, style: str = WAREKI, *, weekday: bool = True) -> str:
    """令和8年12月10日（木）, or 2026年12月10日（木） in the "seireki" style."""
    text = f"{_year(day, style)}{day.month}月{day.day}日"
    return f"{text}（{WEEKDAYS[day.weekday()]}）" if weekday else text


def japanese_fiscal_year(fiscal_year: int, style: str = WAREKI) -> str:
    """令和8年度 for the fiscal year starting 1 April 2026 (``fiscal_year_of``).

    A fiscal year bears the era of the calendar year it starts in, as that year ended: the
    year from April 2019 is 令和元年度 though it began under 平成, as April 1988 began 昭和63年度.
    """
    return _year(date(fiscal_year, 12, 31), style) + "度"


def japanese_time(moment: time, style: str = WAREKI) -> str:
    """14時00分 as documents in the era style write it; 14:00 in the "seireki" style."""
    if style == WAREKI:
        return f"{moment.hour}時{moment.minute:02d}分"
    return f"{moment.hour}:{moment.minute:02d}"
