"""Language of the interface: Japanese first, English one switch away."""

import functools
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup

babel = Babel()

LANGUAGE_COOKIE = "lang"
TOKYO = ZoneInfo("Asia/Tokyo")


def select_locale() -> str:
    languages: list[str] = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen is not None and chosen in languages else languages[0]


# --- Translating strings -------------------------------------------------------------------
#
# Flask-Babel's gettext finds the request's locale and catalogue through half a dozen
# context-local lookups on every call, about 20 µs; a session page translates several
# hundred strings. These look the catalogue up once per request (and again only when
# force_locale swaps the locale), take the same arguments, and serve modules and templates
# alike.


def translations():
    """The catalogue of the locale in force (force_locale included)."""
    try:
        context = g._flask_babel
        locale = context.babel_locale
    except (AttributeError, RuntimeError):  # the request's first string, or no context
        return get_translations()
    if locale is None:
        return get_translations()
    kept = getattr(context, "renkei_catalogue", None)
    if kept is None or kept[0] is not locale:
        kept = context.renkei_catalogue = (locale, get_translations())
    return kept[1]


def gettext(string: str, **variables) -> str:
    translated = translations().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


class LazyText(LazyString):
    """A translation made when it is shown. In a template it is HTML whose fixed text (the
    catalogue's) is trusted and whose variables are escaped.

    Flask-Babel's LazyString answers ``__html__`` with the filled-in string itself, so a
    user's text put into a lazy message (an organisation name in an import error, say) would
    reach the page as markup. Every lazy message goes through this class instead.
    """

    def __html__(self) -> Markup:
        (string,) = self._args
        translated = translations().ugettext(string)
        # Formatted only when there is something to fill in, as gettext() does.
        return _filled_html(translated, self._kwargs) if self._kwargs else Markup(translated)


def lazy_gettext(string: str, **variables) -> LazyText:
    return LazyText(gettext, string, **variables)


def labelled(label: str, value: str) -> str:
    """ "Place: 役場" in English, 「場所：役場」 in Japanese (a full-width colon, no space)."""
    return gettext("%(label)s: %(value)s", label=label, value=value)


def colon() -> str:
    """The colon between a label and its value, for templates that put markup around
    either: the same message as ``labelled``, so both write it alike."""
    return gettext("%(label)s: %(value)s", label="", value="")


def install_in_templates(jinja_env) -> None:
    """The templates' _(), gettext() and ngettext() in place of those Flask-Babel installs:
    the same "newstyle" semantics (autoescaped, always %-formatted) without Jinja's
    wrappers, which cost more than the lookup itself."""
    jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext, colon=colon
    )


@pass_eval_context
def _template_gettext(eval_context, string: str, /, **variables) -> str:
    return _filled(eval_context, translations().ugettext(string), variables)


@pass_eval_context
def _template_ngettext(eval_context, singular: str, plural: str, num: int, /, **variables):
    variables.setdefault("num", num)
    return _filled(eval_context, translations().ungettext(singular, plural, num), variables)


def _filled(eval_context, translated: str, variables: dict) -> str:
    if eval_context.autoescape:
        return _filled_html(translated, variables)
    return translated % variables


def _filled_html(translated: str, variables: dict) -> Markup:
    """The catalogue's text as markup, each variable escaped: Markup's ``%`` escapes what it
    inserts unless the value is markup of ours already (rendered Markdown, a LazyText)."""
    return Markup(translated) % variables


def format_tokyo(moment, kind: str = "datetime") -> str:
    """A stored UTC time as people read it: Tokyo time, in the interface language.

    ``kind``: "datetime" (2026年12月3日（木） 14:00), "date", "time", "day" (12月3日（木）) or
    "month" (2026年12月).
    """
    if moment is None:
        return ""
    return _formatted(moment, kind, str(get_locale()))


PATTERNS = {
    "ja": {
        "datetime": "y年M月d日（E） H:mm",
        "date": "y年M月d日（E）",
        "time": "H:mm",
        "day": "M月d日（E）",
        "month": "y年M月",
    },
    "en": {
        "datetime": "EEE d MMM y, H:mm",
        "date": "EEE d MMM y",
        "time": "H:mm",
        "day": "EEE d MMM",
        "month": "MMMM y",
    },
}


@functools.lru_cache(maxsize=4096)
def _formatted(moment, kind: str, locale: str) -> str:
    # Long lists (a year of sessions) repeat the same few moments; Babel is slow per call.
    patterns = PATTERNS.get(locale, PATTERNS["en"])
    return babel_dates.format_datetime(moment, patterns[kind], tzinfo=TOKYO, locale=locale)
