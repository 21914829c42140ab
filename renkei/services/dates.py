"""Dates and times as people in Japanese municipalities see them (Asia/Tokyo)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def now_tokyo() -> datetime:
    return datetime.now(TOKYO)


def today() -> date:
    """Today's date in Tokyo: a term that ends "today" is current until midnight there."""
    return now_tokyo().date()
