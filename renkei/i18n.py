"""Language of the interface: Japanese first, English one switch away."""

from flask import current_app, has_request_context, request
from flask_babel import Babel

babel = Babel()

LANGUAGE_COOKIE = "lang"


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
    from flask_babel import format_datetime, get_locale

    if moment is None:
        return ""
    japanese = str(get_locale()) == "ja"
    patterns = {
        "datetime": "y年M月d日(E) H:mm" if japanese else "EEE d MMM y, H:mm",
        "date": "y年M月d日(E)" if japanese else "EEE d MMM y",
        "time": "H:mm",
    }
    return format_datetime(moment, patterns[kind])
