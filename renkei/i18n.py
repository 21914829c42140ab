"""Language of the interface: Japanese first, English one switch away."""

import functools
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from flask_babel.speaklater import LazyString

babel = Babel()

LANGUAGE_COOKIE = "lang"
TOKYO = ZoneInfo("Asia/Tokyo")


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in languages else languages[0]


# --- Translating strings -------------------------------------------------------------------
#
# Flask-Babel's gettext finds the request's locale and catalogue through half a dozen
# context-local lookups on every call, about 20 µs; a session page translates several
# hundred strings. These do the same with one lookup and a dict, and take the same
# arguments: modules and templates use them in place of Flask-Babel's.

_catalogues: dict = {}


def translations():
    """The catalogue of the locale in force (force_locale included)."""
    try:
        locale = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # the request's first string, or no context
        locale = None
    if locale is None:
        return get_translations()
    found = _catalogues.get(locale)
    if found is None:
        found = _catalogues[locale] = get_translations()
    return found


def gettext(string: str, **variables) -> str:
    translated = translations().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


def install_in_templates(jinja_env) -> None:
    """The templates' _(), gettext() and ngettext() through the same catalogue lookup."""
    jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
    )


def format_tokyo(moment, kind: str = "datetime") -> str:
    """A stored UTC time as people read it: Tokyo time, in the interface language.

    ``kind``: "datetime" (2026年12月3日(木) 14:00), "date", "time" or "weekday_date".
    """
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
