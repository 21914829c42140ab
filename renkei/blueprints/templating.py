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


def is_required(field) -> bool:
    """Whether ``field`` must be filled in, as its validators say (``DataRequired``,
    ``InputRequired`` and renkei's ``Required`` flag it): the one source for the 必須 mark
    and the ``required`` attribute, so that the two never disagree."""
    return bool(getattr(field.flags, "required", False))


def field_attributes(field, required: bool | None = None) -> dict:
    """The attributes a form field is rendered with (``_forms.html``): its hint and error
    named for screen readers, marked invalid when it has errors, and required (as its
    validators say, unless ``required`` says otherwise)."""
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
    if is_required(field) if required is None else required:
        attributes["required"] = True
        attributes["aria-required"] = "true"
    return attributes


CHOICE_GROUPS = ("CheckboxesField", "RadioField", "SelectMultipleField")


def error_target(field) -> str:
    """The id a link to ``field`` goes to: a group of boxes has none of its own, so its
    first box; a list of rows, its first row's first field."""
    if field.type == "FieldList" and field.entries:
        return error_target(field.entries[0])
    if field.type == "FormField":
        return error_target(next(iter(field)))
    return f"{field.id}-0" if field.type in CHOICE_GROUPS else field.id


def field_errors(form) -> list[tuple]:
    """(field, message) for every error on ``form``'s fields, a list of rows' fields
    included (a poll's candidate slots), in the order of the form; the page-expired
    token is left to the summary's own sentence."""
    found = []
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        if field.type in ("FieldList", "FormField"):
            if own := own_errors(field):
                found.append((field, " ".join(own)))
            found.extend(field_errors(field))
        else:
            found.extend((field, message) for message in field.errors)
    return found


def has_errors(form) -> bool:
    """Whether anything is wrong with ``form``: said above it, on a field, or on a row's
    field (which WTForms' ``form.errors``, computed once, may not have seen yet)."""
    csrf = getattr(form, "csrf_token", None)
    return bool(form.form_errors or field_errors(form) or (csrf is not None and csrf.errors))


def own_errors(field) -> list[str]:
    """The messages said of a list of rows itself ("give at least one slot"), without
    those of its rows, which WTForms keeps in the same list (a row's own are a dict)."""
    if isinstance(field.errors, dict):
        return []
    return [message for message in field.errors if isinstance(message, str)]


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
    jinja_env.globals.update(
        field_attributes=field_attributes,
        is_required=is_required,
        error_target=error_target,
        field_errors=field_errors,
        own_errors=own_errors,
        has_errors=has_errors,
    )
    jinja_env.globals["pledge_text"] = pledge_text
