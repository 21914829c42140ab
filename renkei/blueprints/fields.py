"""Form fields shared by several blueprints."""

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from renkei.services.accounts import MIN_PASSWORD_LENGTH


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
TIME_MESSAGE = _l("Enter a time such as 14:00.")


class DateField(wtforms.DateField):
    """A date field whose parse error says, in plain words, what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from None


class TimeField(wtforms.TimeField):
    """A time field whose parse error says, in plain words, what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(TIME_MESSAGE)) from None


class NewPasswordForm(FlaskForm):
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
