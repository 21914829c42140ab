"""The audit log as the log page shows it: each entry's action, what it concerns and the
fields of its detail, with labels and values in the reader's language.

An entry's detail is stored as its writer put it (``"person=3 role=member term=..."``,
``"selected: 1,2; added: 2; removed: -"``, ``"version 2 sha256=..."``): it is sealed in the
hash chain, so it is never rewritten, and entries written before this module keep their
form. This module reads every form the services write (``audit.record`` callers) and names
people, bodies and agenda items by what readers know them by.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.i18n import gettext, ngettext
from renkei.i18n import lazy_gettext as _l
from renkei.models import AgendaItem, AuditEntry, Body, Person, Role, Visibility
from renkei.services import agenda
from renkei.services.audit import ACTIONS
from renkei.services.policy import MinutesView

# What an entry concerns (``subject_type``). A session's entries link to it, and the
# attendance record is the session's own: neither needs naming further.
SESSION_SUBJECT = "session"
ATTENDANCE_SUBJECT = "attendance"
SUBJECTS = {
    "session": _l("Session"),
    "agenda_item": _l("Agenda item"),
    "minutes_section": _l("Section of the minutes"),
    "minutes_version": _l("Minutes"),
    "person": _l("Person"),
    "membership": _l("Term of office"),
    "body": _l("Body"),
    "attendance": _l("Attendance record"),
    "material": _l("Material"),
    "task": _l("Task"),
    "tasks": _l("Tasks"),
}

# The names of the detail's fields, as the services write them.
FIELDS = {
    "admin": _l("Administrator rights"),
    "active": _l("Login allowed"),
    "changed": _l("Fields changed"),
    "position": _l("Item number"),
    "visibility": _l("Who may see it"),
    "CSV import": _l("Imported from CSV"),
    "selected": _l("Selected for convening"),
    "added": _l("Convened now"),
    "removed": _l("No longer convened"),
    "before": _l("Convened before"),
    "person": _l("Person"),
    "items": _l("Agenda items for them"),
    "minutes": _l("Permission to read the minutes"),
    "revision": _l("Times saved"),
    "version": _l("Version"),
    "sha256": _l("Value for detecting later changes"),
    "role": _l("Role"),
    "term": _l("Term of office"),
    "view": _l("Version shown"),
    "body": _l("Extract for"),
    "page": _l("Page viewed"),
    "done": _l("What was done"),
}

# Details, or parts of one, that are a phrase rather than a field.
PHRASES = {
    "added": ("done", _l("Added")),
    "password set": ("done", _l("Password set")),
    "diff": ("page", _l("Comparison of versions")),
    "editor": ("page", _l("Minutes editor")),
    "approval": ("page", _l("Approval page")),
}

# Words written as a field's name followed by its value ("version 2", "person 5").
NAMED_BY_WORD = {"version", "revision", "position", "visibility", "person"}

VIEWS = {
    MinutesView.FULL.value: _l("Full"),
    MinutesView.MEMBER.value: _l("Version for members"),
    MinutesView.PUBLIC.value: _l("Version for the public"),
}


@dataclass
class Field:
    label: str
    value: str


@dataclass
class Shown:
    """One entry as the page shows it."""

    entry: AuditEntry
    action: str
    subject: str
    fields: list[Field] = field(default_factory=list)


def parse(detail: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a stored detail, in the order written; a phrase
    ("added", "diff") is a pair without a name."""
    pairs: list[tuple[str, str]] = []
    for segment in (s.strip() for s in detail.split(";")):
        if not segment:
            continue
        if segment in PHRASES:
            pairs.append(("", segment))
        elif ": " in segment:
            name, value = segment.split(": ", 1)
            pairs.append((name.strip(), value.strip()))
        else:
            pairs += _words(segment.split())
    return pairs


def _words(tokens: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if "=" in token:
            name, value = token.split("=", 1)
            pairs.append((name, value))
        elif token in NAMED_BY_WORD and i + 1 < len(tokens):
            pairs.append((token, tokens[i + 1]))
            i += 1
        elif " ".join(tokens[i : i + 2]) in PHRASES:
            pairs.append(("", " ".join(tokens[i : i + 2])))
            i += 1
        else:
            pairs.append(("", token))
        i += 1
    return pairs


@dataclass
class Names:
    """The people, bodies and agenda items a page of entries refers to, by id."""

    people: dict[int, str] = field(default_factory=dict)
    bodies: dict[int, str] = field(default_factory=dict)
    items: dict[int, int] = field(default_factory=dict)  # id → its number in the agenda


PEOPLE_FIELDS = {"person", "selected", "added", "removed", "before"}
BODY_FIELD = "body"


def _ids(value: str) -> list[int]:
    return [int(v) for v in re.findall(r"\d+", value)]


def names_for(db: Session, entries: Iterable[AuditEntry]) -> Names:
    """Three queries for a page of entries, whatever its length."""
    people, bodies, items = set(), set(), set()
    for entry in entries:
        if entry.subject_type == "person" and entry.subject_id is not None:
            people.add(entry.subject_id)
        for name, value in parse(entry.detail):
            if name in PEOPLE_FIELDS and value != "all members":
                people.update(_ids(value))
            elif name == BODY_FIELD:
                bodies.update(_ids(value))
            elif name == "items":
                items.update(_ids(value))
    return Names(
        people=_lookup(db, Person.id, Person.name, people),
        bodies=_lookup(db, Body.id, Body.name, bodies),
        items=_lookup(db, AgendaItem.id, AgendaItem.position, items),
    )


def _lookup(db: Session, key: Any, value: Any, ids: set[int]) -> dict[Any, Any]:
    if not ids:
        return {}
    return {k: v for k, v in db.execute(select(key, value).where(key.in_(ids)))}


def show(db: Session, entries: list[AuditEntry]) -> list[Shown]:
    names = names_for(db, entries)
    return [
        Shown(
            entry=e,
            action=str(ACTIONS.get(e.action, e.action)),
            subject=subject(e, names),
            fields=describe(e.detail, names),
        )
        for e in entries
    ]


def subject(entry: AuditEntry, names: Names) -> str:
    """「議題 #12」, or the person's name; the session is linked apart, the attendance record
    is the session's own."""
    if not entry.subject_type or entry.subject_type == SESSION_SUBJECT:
        return ""
    label = str(SUBJECTS.get(entry.subject_type, entry.subject_type))
    if entry.subject_type == ATTENDANCE_SUBJECT:
        return label
    if entry.subject_type == "person" and entry.subject_id in names.people:
        return names.people[entry.subject_id]
    return f"{label} #{entry.subject_id}" if entry.subject_id is not None else label


def describe(detail: str, names: Names) -> list[Field]:
    fields = []
    for name, value in parse(detail):
        if not name and value in PHRASES:
            name, shown = PHRASES[value]
            fields.append(Field(str(FIELDS[name]), str(shown)))
        elif name in FIELDS:
            fields.append(Field(str(FIELDS[name]), _value(name, value, names)))
        else:  # a form no service writes: shown as stored rather than lost
            fields.append(Field(name, value))
    return fields


def _value(name: str, value: str, names: Names) -> str:
    shown = VALUES.get(name)
    return shown(value, names) if shown else value


def _people(value: str, names: Names) -> str:
    if value == "all members":
        return gettext("every member")
    if value in ("", "-"):
        return "—"
    return "、".join(names.people.get(i, f"#{i}") for i in _ids(value))


def _items(value: str, names: Names) -> str:
    if value in ("", "-"):
        return "—"
    shown = [
        gettext("Item No.%(n)d", n=names.items[i]) if i in names.items else f"#{i}"
        for i in _ids(value)
    ]
    return "、".join(shown)


def _yes_no(value: str, _names: Names) -> str:
    return gettext("Yes") if value in ("True", "yes") else gettext("No")


def _label_of(enum: Any) -> Callable[[str, Names], str]:
    def shown(value: str, _names: Names) -> str:
        try:
            return str(enum(value).label)
        except ValueError:
            return value

    return shown


def _changed(value: str, _names: Names) -> str:
    return "、".join(str(agenda.FIELD_LABELS.get(n, n)) for n in value.split(","))


def _count(value: str, _names: Names) -> str:
    n = int(value) if value.isdigit() else 0
    return ngettext("%(num)d person", "%(num)d people", n)


def _number(template: str) -> Callable[[str, Names], str]:
    def shown(value: str, _names: Names) -> str:
        return gettext(template, n=int(value)) if value.isdigit() else value

    return shown


def _term(value: str, _names: Names) -> str:
    start, _, end = value.partition("..")
    return f"{start}〜{end}"


def _view(value: str, _names: Names) -> str:
    return str(VIEWS.get(value, value))


def _body(value: str, names: Names) -> str:
    return "、".join(names.bodies.get(i, f"#{i}") for i in _ids(value))


VALUES: dict[str, Callable[[str, Names], str]] = {
    "admin": _yes_no,
    "active": _yes_no,
    "minutes": _yes_no,
    "changed": _changed,
    "visibility": _label_of(Visibility),
    "role": _label_of(Role),
    "CSV import": _count,
    "person": _people,
    "selected": _people,
    "added": _people,
    "removed": _people,
    "before": _people,
    "items": _items,
    "version": _number("Version %(n)d"),
    "term": _term,
    "view": _view,
    "body": _body,
}
