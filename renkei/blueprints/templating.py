"""What the templates are given besides a view's own values: the enumerations they compare
with, the attributes of a form field, and dates as letters write them (和暦, DATE_STYLE).

Templates compare an enum with an enum (``session.status == Status.HELD``), never with its
value as a string: a misspelt string compares unequal to everything, and on a page that
decides what is shown a silent ``False`` can open as easily as close. A misspelt member here
(``Status.HLED``) stops the page with an error instead.
"""

from datetime import date, datetime, time

from jinja2 import Environment
from jinja2.exceptions import UndefinedError

from renkei.models import (
    BodyKind,
    Confidentiality,
    Decision,
    MailStatus,
    MinutesStatus,
    Presence,
    QuorumRule,
    SectionKind,
    Status,
    Visibility,
)
from renkei.services import dates
from renkei.services.pledges import pledge_text
from renkei.services.policy import MinutesView

ENUMS = (
    BodyKind,
    Confidentiality,
    Decision,
    MailStatus,
    MinutesStatus,
    MinutesView,
    Presence,
    QuorumRule,
    SectionKind,
    Status,
    Visibility,
)


class StrictEnum:
    """An enumeration as a template sees it: its members by name, and an error for a name
    that is none (Jinja would give an Undefined, equal to nothing)."""

    def __init__(self, enum_class) -> None:
        self._enum = enum_class

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._enum[name]
        except KeyError:
            raise UndefinedError(f"{self._enum.__name__} has no member {name!r}") from None

    def __repr__(self) -> str:
        return f"StrictEnum({self._enum.__name__})"


def field_attributes(field, required: bool = False) -> dict:
    """The attributes a form field is rendered with (``_forms.html``): its hint and error
    named for screen readers, marked invalid when it has errors, and required."""
    described = []
    if field.description:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
    attributes: dict = {}
    if described:
        attributes["aria-describedby"] = " ".join(described)
    if field.errors:
        attributes["aria-invalid"] = "true"
    if required:
        attributes["required"] = True
    return attributes


def date_style() -> str:
    """The install's DATE_STYLE (renkei.config): 和暦 unless it chose the Western calendar."""
    return dates.install_style()


def _day(value: date | datetime) -> date:
    """A date as it is; a stored (UTC) time as its day in Tokyo."""
    return dates.tokyo_date(value) if isinstance(value, datetime) else value


def japanese_date(value: date | datetime | None, weekday: bool = True) -> str:
    """``{{ day|japanese_date }}``: 令和8年12月10日（木）, in the install's DATE_STYLE."""
    return "" if value is None else dates.japanese_date(_day(value), date_style(), weekday=weekday)


def japanese_time(value: datetime | time | None) -> str:
    """``{{ moment|japanese_time }}``: 14時00分 (Tokyo time), or 14:00 in the seireki style."""
    if value is None:
        return ""
    moment = dates.in_tokyo(value).time() if isinstance(value, datetime) else value
    return dates.japanese_time(moment, date_style())


def japanese_fiscal_year(value: int | date | datetime) -> str:
    """``{{ fiscal_year|japanese_fiscal_year }}`` (or of a day): 令和8年度."""
    year = value if isinstance(value, int) else dates.fiscal_year_of(_day(value))
    return dates.japanese_fiscal_year(year, date_style())


def install(jinja_env: Environment) -> None:
    jinja_env.globals.update({enum.__name__: StrictEnum(enum) for enum in ENUMS})
    jinja_env.filters["japanese_date"] = japanese_date
    jinja_env.filters["japanese_time"] = japanese_time
    jinja_env.filters["japanese_fiscal_year"] = japanese_fiscal_year
    jinja_env.globals["field_attributes"] = field_attributes
    jinja_env.globals["pledge_text"] = pledge_text
