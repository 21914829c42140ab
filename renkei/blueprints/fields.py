"""Form fields shared by several blueprints."""

import unicodedata
from collections.abc import Callable, Iterable
from operator import attrgetter

import wtforms
from flask import flash, request
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from renkei import textnorm
from renkei.i18n import lazy_gettext as _l
from renkei.services.accounts import MIN_PASSWORD_LENGTH

# Ids are 32-bit integers in PostgreSQL (SQLite's are wider): a larger number names nothing,
# and asking PostgreSQL for one would be an error instead of a 404.
MAX_ID = 2**31 - 1


def _address(value):
    """A web address as typed, less the spaces around it: one with a line break inside is
    refused by the service (renkei.services.scheduling), not silently joined up."""
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


def text_filter(field_class):
    """How a field's typed text is normalised (renkei.textnorm), or None: passwords are
    compared as typed, hidden fields carry the app's own values."""
    if not issubclass(field_class, wtforms.StringField):
        return None
    if issubclass(field_class, wtforms.PasswordField | wtforms.HiddenField):
        return None
    if issubclass(field_class, wtforms.URLField):
        return _address
    if issubclass(field_class, wtforms.TextAreaField):
        return textnorm.multi_line
    return textnorm.one_line


def _normalised(unbound_field, options: dict) -> dict:
    """The binding ``options`` with the field's text normalisation as its first filter."""
    normalise = text_filter(unbound_field.field_class)
    if normalise is None:
        return options
    return {**options, "filters": (normalise, *unbound_field.kwargs.get("filters", ()))}


class InputForm(FlaskForm):
    """The form every view uses: each text field is normalised before it is validated, so
    that a length check counts what will be stored, and a title of nothing but control
    characters is as empty as it will be."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            return super().bind_field(form, unbound_field, _normalised(unbound_field, options))


class RowForm(wtforms.Form):
    """One row of a larger form (an invitee's line of the attendance record): no CSRF token
    of its own, the same normalised text as ``InputForm``. Its fields are posted as
    ``<field>-<key>`` (``presence-12``), the key naming the row (a person's id), so that a
    row is found by what it is about rather than by its place in the list."""

    def __init__(self, formdata=None, *, key: int, **kwargs):
        self.key = key
        super().__init__(formdata, **kwargs)

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options = {**options, "name": f"{options['name']}-{form.key}"}
            return super().bind_field(form, unbound_field, _normalised(unbound_field, options))


def whole_number(value, *, default=None, minimum=1, maximum=MAX_ID):
    """A whole number as sent (digits only), or ``default`` when ``value`` is none, or out
    of ``minimum``..``maximum``: the default maximum fits an integer column, where a larger
    number makes PostgreSQL refuse the query and SQLite overflow."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
        if minimum <= number <= maximum:
            return number
    return default


def query_int(name: str, default=None):
    """A number from the query string (``?page=2``), or ``default``: see whole_number."""
    return whole_number(request.args.get(name), default=default)


def optional_int(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else -1
    return whole_number(str(value).strip(), default=-1)  # -1: never an id, reported unknown


class IdSelectField(SelectField):
    """A choice of a database row by id. The service, not the field, checks the id exists,
    so that an unknown id gets the service's clear message ("…does not exist")."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", optional_int)
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)


class CheckboxesField(SelectMultipleField):
    """Several choices, one checkbox each. Give ``validate_choice=False`` and let the service
    name an unknown id: WTForms' own message for it has no Japanese translation."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def none_choice(label=None) -> SelectChoice:
    return SelectChoice("", label or _l("(none)"))


def row_choices(rows: Iterable, label: Callable = attrgetter("name")) -> list[SelectChoice]:
    """A choice for each row (a person, a body, an organisation), sent as its id."""
    return [SelectChoice(str(row.id), label(row)) for row in rows]


DATE_MESSAGE = _l("Enter a date such as 2026-04-01.")
TIME_MESSAGE = _l("Enter a time such as 14:00.")
EXPIRED_MESSAGE = _l("The page had expired. Please check your entries and send them again.")
YEAR_MESSAGE = _l("Enter a date between %(first)d and %(last)d.", first=2000, last=2099)


class Required:
    """Like DataRequired, but keeps the field's own parse error ("2026-02-30 is no date")
    instead of replacing it with "required". Flags the field required, as DataRequired does
    (the 必須 mark and the ``required`` attribute follow from it)."""

    field_flags = {"required": True}

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        if field.data is None or field.data == "" or field.data == []:
            raise StopValidation(str(self.message))


class OneOf:
    """The value must be one of ``values`` (an enum's, a button's), else ``message``: unlike
    WTForms' AnyOf, the message is the sentence given, with no list of values in it."""

    def __init__(self, values: Iterable[str], message):
        self.values = {str(value) for value in values}
        self.message = message

    def __call__(self, form, field):
        if field.data not in self.values:
            raise StopValidation(str(self.message))


class DateField(wtforms.DateField):
    """A date field whose parse error says, in plain words, what to type; years outside
    2000–2099 are taken for typing mistakes."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from None
        if self.data is not None and not 2000 <= self.data.year <= 2099:
            self.data = None
            raise ValueError(str(YEAR_MESSAGE))


class TimeField(wtforms.TimeField):
    """A time field whose parse error says, in plain words, what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(TIME_MESSAGE)) from None


class WholeNumberField(wtforms.IntegerField):
    """A whole number; anything else gets ``message``, which says what to type."""

    def __init__(self, label=None, validators=None, *, message, **kwargs):
        self.message = message
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(self.message)) from None


class WholeNumbersField(wtforms.Field):
    """Several whole numbers under one name (hidden fields, ticked boxes), in the order
    sent; anything else among them gets ``message``, and the data is then empty."""

    def __init__(self, label=None, validators=None, *, message, **kwargs):
        self.message = message
        kwargs.setdefault("default", list)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        numbers = [whole_number(value) for value in valuelist]
        if None in numbers:
            self.data = []
            raise ValueError(str(self.message))
        self.data = numbers


class CommaNumbersField(WholeNumbersField):
    """Whole numbers sent as one text, separated by commas (``3,1,2``: an order a script
    posts)."""

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        super().process_formdata([part.strip() for part in text.split(",") if part.strip()])


def error_messages(form: wtforms.Form) -> list[str]:
    """Every message of ``form``, those above it first, each once: for a button's form,
    whose page has no field to show them on."""
    messages = [str(message) for message in form.form_errors]
    for field in form:
        if field.errors and field.type == "CSRFTokenField":
            messages.append(str(EXPIRED_MESSAGE))  # WTForms' own words are English
        else:
            messages.extend(str(message) for message in field.errors)
    return list(dict.fromkeys(messages))


def flash_errors(form: wtforms.Form) -> None:
    """Say what is wrong with a button's form above the page it goes back to."""
    for message in error_messages(form):
        flash(message, "error")


class NewPasswordForm(InputForm):
    """A new password typed twice, for the person's own change and an administrator's reset."""

    password = wtforms.PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l(
                    "The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH
                ),
            ),
        ],
    )
    confirm = wtforms.PasswordField(
        _l("New password again"),
        validators=[EqualTo("password", _l("The two new passwords are not the same."))],
    )
