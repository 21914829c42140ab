"""Form fields shared by several blueprints."""

import wtforms
from flask_babel import lazy_gettext as _l
from wtforms import SelectField


def optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never an id: the service reports it as unknown


class IdSelectField(SelectField):
    """A choice of a database row by id. The service, not the field, checks the id exists,
    so that an unknown id gets the service's clear message ("…does not exist")."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", optional_int)
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)


def none_choice(label=None):
    return ("", label or _l("(none)"))


DATE_MESSAGE = _l("Enter a date such as 2026-04-01.")


class DateField(wtforms.DateField):
    """A date field whose parse error says, in plain words, what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from None
