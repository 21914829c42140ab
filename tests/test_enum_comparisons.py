"""Enums are compared with enums, never with their values as strings.

A StrEnum equals its value, so ``item.visibility == "confidental"`` runs and is simply False:
on a page or in a rule that decides what is shown, a typo would open or close something in
silence. These tests keep the class of mistake out: no string comparison against an enum's
value in the code or the templates, no list built by ``append`` inside a template (the
logic belongs in a service or a view), and every enum member a template names exists.
"""

import re
from enum import Enum
from pathlib import Path

import pytest
from jinja2.exceptions import UndefinedError

from renkei import models
from renkei.blueprints import templating
from renkei.models import Status
from renkei.services.policy import MinutesView

ROOT = Path(__file__).resolve().parent.parent / "renkei"
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
PYTHON = sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)

# Every enum of the models, and the minutes' views.
ENUM_CLASSES = [
    value
    for value in (*vars(models).values(), MinutesView)
    if isinstance(value, type) and issubclass(value, Enum)
]


def enum_values() -> list[str]:
    values = {member.value for enum in ENUM_CLASSES for member in enum}
    return sorted(values, key=len, reverse=True)


STRING = r"""["'][^"']*["']"""
VALUE = "[\"'](" + "|".join(map(re.escape, enum_values())) + ")[\"']"
PATTERNS = [
    # x == "held", x.status != 'cancelled', x in ("draft", ...)
    re.compile(rf"\w\s*(==|!=)\s*{VALUE}"),
    re.compile(rf"\w\s+(not\s+)?in\s*[(\[{{]\s*{VALUE}"),
    # x.value == "anything": the enum turned back into a string to be compared
    re.compile(rf"\.value\s*(==|!=)\s*{STRING}"),
    # selectattr("status", "equalto", "failed")
    re.compile(rf"""["']equalto["']\s*,\s*{STRING}"""),
]

# Building a list or a dict inside a template: that computation belongs in a service or view.
WORKAROUNDS = re.compile(
    r"\{%-?\s*set\s+\w+\s*=\s*[\w.\[\]]+\.(append|update|extend|process_data)\("
)


def offending_lines(paths, patterns) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(pattern.search(line) for pattern in patterns):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_the_code_compares_no_enum_with_a_string():
    assert offending_lines(PYTHON, PATTERNS) == []


def test_the_templates_compare_no_enum_with_a_string():
    assert offending_lines(TEMPLATES, PATTERNS) == []


def test_the_templates_build_no_lists_of_their_own():
    assert offending_lines(TEMPLATES, [WORKAROUNDS]) == []


@pytest.mark.parametrize(
    "line",
    [
        "if item.visibility == 'confidential':",
        'if section.visibility.value != "public":',
        'if version.status in ("draft", "submitted"):',
        "{% if session.status.value == 'held' %}",
        '{% if items|selectattr("visibility", "equalto", "confidential")|list %}',
        "{% if entry.section.kind.value == 'item' %}",
    ],
)
def test_the_guard_catches_each_form_of_the_mistake(line):
    assert any(pattern.search(line) for pattern in PATTERNS)


def test_every_enum_member_a_template_names_exists():
    """A misspelt member in a branch no test renders still fails here."""
    named = re.compile(r"\b([A-Z][A-Za-z]+)\.([A-Z][A-Z_]*)\b")
    enums = {enum.__name__: enum for enum in templating.ENUMS}
    wrong = []
    for path in TEMPLATES:
        for name, member in named.findall(path.read_text(encoding="utf-8")):
            if name not in enums or member not in enums[name].__members__:
                wrong.append(f"{path.relative_to(ROOT)}: {name}.{member}")
    assert wrong == []


def test_a_misspelt_member_stops_the_page_rather_than_comparing_unequal(app):
    template = app.jinja_env.from_string("{{ status == Status.HELD }}")
    assert template.render(status=Status.HELD) == "True"
    assert template.render(status=Status.CONVENED) == "False"
    with pytest.raises(UndefinedError):
        app.jinja_env.from_string("{{ status == Status.HLED }}").render(status=Status.HELD)
