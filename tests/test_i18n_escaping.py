"""User text put into a translated message is escaped in every page, whichever way the message
is made: a template's _(), a lazy message (a service's error, a form label) shown as it is or
passed into another message. Every message in the catalogue that takes a value is tried, in
both languages, with a marker that would be markup if it got through."""

import re

import pytest
from flask import render_template_string
from flask_babel import force_locale
from markupsafe import escape

from renkei.i18n import lazy_gettext
from tests.test_translations import used_messages

MARKER = "<b id=x>org</b>"
PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


def _messages_with_values() -> list[tuple[str, dict]]:
    found = []
    for message in sorted(used_messages()):
        fields = dict(PLACEHOLDER.findall(message))
        if "s" in fields.values():
            values = {name: MARKER if kind == "s" else 1 for name, kind in fields.items()}
            found.append((message, values))
    return found


MESSAGES = _messages_with_values()


def test_the_catalogue_has_messages_that_take_text():
    assert len(MESSAGES) > 20


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_no_message_lets_user_text_through_as_markup(app, locale):
    template = (
        "{{ _(message, **values) }}|{{ lazy }}"
        "|{{ _('Line %(line)d: %(reason)s', line=1, reason=lazy) }}"
    )
    leaked = []
    with app.test_request_context(), force_locale(locale):
        for message, values in MESSAGES:
            lazy = lazy_gettext(message, **values)
            page = render_template_string(template, message=message, values=values, lazy=lazy)
            if MARKER in page or MARKER in str(escape(lazy)):
                leaked.append(message)
            assert str(escape(MARKER)) in page
    assert not leaked, "user text reached the page as markup:\n" + "\n".join(leaked)


def test_a_lazy_message_still_reads_as_plain_text(app):
    with app.test_request_context(), force_locale("en"):
        message = lazy_gettext('The organisation "%(name)s" is not registered.', name=MARKER)
        assert str(message) == f'The organisation "{MARKER}" is not registered.'
