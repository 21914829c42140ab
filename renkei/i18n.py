"""Language of the interface: Japanese first, English one switch away."""

import functools
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import current_app, has_request_context, request
from flask_babel import Babel

babel = Babel()

LANGUAGE_COOKIE = "lang"
TOKYO = ZoneInfo("Asia/Tokyo")


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in languages else languages[0]


def format_tokyo(moment, kind: str = "datetime") -> str:
    """A stored UTC time as people read it: Tokyo time, in the interface language.

    ``kind``: "datetime" (2026年12月3日(木) 14:00), "date", "time" or "weekday_date".
    """
    from flask_babel import get_locale

    if moment is None:
        return ""
    return _formatted(moment, kind, str(get_locale()))


PATTERNS = {
    "ja": {"datetime": "y年M月d日(E) H:mm", "date": "y年M月d日(E)", "time": "H:mm"},
    "en": {"datetime": "EEE d MMM y, H:mm", "date": "EEE d MMM y", "time": "H:mm"},
}


@functools.lru_cache(maxsize=4096)
def _formatted(moment, kind: str, locale: str) -> str:
    # Long lists (a year of sessions) repeat the same few moments; Babel is slow per call.
    patterns = PATTERNS.get(locale, PATTERNS["en"])
    return babel_dates.format_datetime(moment, patterns[kind], tzinfo=TOKYO, locale=locale)
