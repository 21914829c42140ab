"""What the templates are given besides a view's own values: the enumerations they compare
with, and the attributes of a form field.

Templates compare an enum with an enum (``session.status == Status.HELD``), never with its
value as a string: a misspelt string compares unequal to everything, and on a page that
decides what is shown a silent ``False`` can open as easily as close. A misspelt member here
(``Status.HLED``) stops the page with an error instead.
"""

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


def install(jinja_env: Environment) -> None:
    jinja_env.globals.update({enum.__name__: StrictEnum(enum) for enum in ENUMS})
    jinja_env.globals["field_attributes"] = field_attributes
    jinja_env.globals["pledge_text"] = pledge_text
