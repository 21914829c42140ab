"""Every text field of every form survives control characters (issue 15 item 7).

The walk GETs every page the route walks (tests/test_leaks.py) request, as the pledged
secretary and then as the administrator (for the forms only they see), reads every form in
them (so that a new form, or a field a view reads by hand from ``request.form``, is covered
without anyone remembering it) and submits each text field with the control-character
corpus: CR, LF, VT, FF, the information separators, NEL, the line and paragraph
separators, NUL, DEL, a C1 control and a decomposed accent. The other fields keep what the
page filled in (or a plausible value), so that the corpus gets past validation and into
the database. Then every session the walk scheduled is convened and every change notice
sent (a session is mailed from its convening notice on), every page is requested again,
every calendar file is parsed and every queued message is read: no answer may be a 5xx, no
stored text may keep a control character, and no message header carries one.

Numbers get the same treatment: every hidden, numeric or choice field, and every number in
a link's query string, is sent as a number far beyond any integer column.
"""

import email
import email.policy
import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import String, Text, select

from renkei import textnorm
from renkei.blueprints import once
from renkei.db import Base, utcnow
from renkei.models import MailMessage, MeetingSession, Status
from renkei.services import mail
from tests import leak_world
from tests.conftest import login
from tests.sessions_helpers import DAY
from tests.test_leaks import requests_for

# Every character that has broken a page, a mail header or a calendar line, and the rest of
# the controls; each text field is sent each value in turn.
CORPUS = (
    "\x00\r\n",  # nothing but controls: a required field is then empty
    # Last, so that it is what an edited row keeps (the positive control looks for it).
    "題\r名\n改\x0b行\x0c区\x1c切\x1d切\x1e切\x85次\u2028行\u2029段\x00空\x7f削\x9f終e\u0301",
)
HUGE = "99999999999999999999"  # beyond every integer column and Python's C integers
# What no stored text keeps: every control but TAB and LF (which text with lines keeps)...
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# ... and those two as well, on one line.
LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
TEXT_TYPES = {"text", "search", "email", "url", "tel", "password", ""}
# Forms the walk does not post: logging out would end the walker's session; the language
# switch takes no text.
SKIPPED = {"auth.logout", "home.set_language"}
# Posted after every other form: they end what the others need (a cancelled session takes
# no more edits).
LAST = ("polls.decide", "sessions.cancel", "people.set_account")


@dataclass
class Form:
    action: str
    method: str
    endpoint: str
    fields: list[dict] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def field_names(self) -> tuple[str, ...]:
        return tuple(sorted({f["name"] for f in self.fields}))

    def text_fields(self) -> list[str]:
        names = []
        for f in self.fields:
            is_text = f["tag"] == "textarea" or (f["tag"] == "input" and f["type"] in TEXT_TYPES)
            if is_text and f["name"] not in names:
                names.append(f["name"])
        return names

    def number_fields(self) -> list[str]:
        names = []
        for f in self.fields:
            if f["name"].endswith("csrf_token") or f["name"] in names:
                continue
            if f["tag"] == "select" or f["type"] in ("hidden", "number", "checkbox", "radio"):
                names.append(f["name"])
        return names


class FormParser(HTMLParser):
    """The forms of a page: their fields with the values a browser would send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.textarea: dict | None = None
        self.select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.form = Form(a.get("action", ""), a.get("method", "get").lower(), "")
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "submit":
                self.form.buttons.append((a["name"], a.get("value", "")))
            else:
                self.form.fields.append(
                    {
                        "tag": "input",
                        "type": kind,
                        "name": a["name"],
                        "value": a.get("value", ""),
                        "checked": "checked" in a,
                        "required": "required" in a,
                    }
                )
        elif tag == "button" and a.get("name"):
            self.form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self.textarea = {"tag": "textarea", "type": "", "name": a["name"], "value": ""}
            self.textarea["required"] = "required" in a
            self.form.fields.append(self.textarea)
        elif tag == "select" and a.get("name"):
            self.select = {"tag": "select", "type": "", "name": a["name"], "options": []}
            self.select["multiple"] = "multiple" in a
            self.form.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            self.select["options"].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea" and self.textarea is not None:
            # A browser drops the newline that opens a textarea's content.
            value = self.textarea["value"]
            self.textarea["value"] = value[2:] if value[:2] == "\r\n" else value.removeprefix("\n")
            self.textarea = None
        elif tag == "select":
            self.select = None


# Fields a form needs without saying so (a poll needs a candidate slot), or that the walk
# leaves as they are (a series would need an end).
NEEDED = {
    "slots-0-day": DAY.isoformat(),
    "slots-0-start": "14:00",
    "slots-0-end": "16:00",
    "repeat": "",
    "layer": "",  # only a 協議体 has a layer: the first choice would be refused elsewhere
}


def plausible(f: dict, counter: list[int]) -> str:
    """What to type into an empty required field so that the form gets past validation."""
    counter[0] += 1
    return {
        "email": f"walk{counter[0]}@example.jp",
        "url": "https://meet.example.jp/room",
        "date": DAY.isoformat(),
        "time": "14:00",
        "number": "1",
        "password": "",
    }.get(f["type"], "入力試験")


def baseline(form: Form, counter: list[int]) -> list[tuple[str, str]]:
    """The fields as the page filled them in; an empty required one given a plausible
    value, a choice with nothing chosen its first option."""
    data, groups = [], {}
    for f in form.fields:
        name = f["name"]
        if name in NEEDED and not f.get("value"):
            data.append((name, NEEDED[name]))
        elif f["tag"] == "select":
            chosen = [v for v, selected in f["options"] if selected and v]
            data += [(name, v) for v in chosen or [v for v, _ in f["options"] if v][:1]]
        elif f["type"] in ("checkbox", "radio"):
            groups.setdefault(name, []).append(f)
        elif f["value"] or f["type"] == "hidden":
            data.append((name, f["value"]))
        else:
            data.append((name, plausible(f, counter) if f["required"] else ""))
    for name, boxes in groups.items():
        chosen = [b for b in boxes if b["checked"]] or boxes[:1]
        data += [(name, b["value"] or "on") for b in chosen]
    return data + form.buttons[:1]


def with_value(data, name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in data]


def endpoint_of(app, path: str, method: str) -> str:
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(urlsplit(path).path, method=method.upper())[0]
    except Exception:
        return ""


def forms_of(app, client, gets) -> list[Form]:
    """Every form of every page, once per (target endpoint, field names)."""
    seen, found = set(), []
    for request in gets:
        response = client.get(request.path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = FormParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            form.action = form.action or request.path
            form.endpoint = endpoint_of(app, form.action, form.method)
            key = (form.endpoint, form.method, form.field_names())
            if form.endpoint and form.endpoint not in SKIPPED and key not in seen:
                seen.add(key)
                found.append(form)
    found.sort(key=lambda f: LAST.index(f.endpoint) + 1 if f.endpoint in LAST else 0)
    return found


CONFIRMED = re.compile(r'name="confirmed" type="hidden" value="([^"]+)"')


def submit(client, form: Form, data) -> list[str]:
    """Send the form; a schedule that asks to confirm its warnings is confirmed. The
    statuses of the answers, and of the page a success leads to."""
    if form.method == "get":
        path = form.action.split("?")[0] + "?" + urlencode(data)
        return [f"{client.get(path).status_code} GET {path!r}"]
    # Each post stands for the form loaded anew: a one-time token used once (blueprints/once.py).
    data = with_value(data, once.FIELD, secrets.token_urlsafe(24))
    response = client.post(form.action, data=_multi(data))
    results = [f"{response.status_code} POST {form.action} {_shown(data)}"]
    found = CONFIRMED.search(response.get_data(as_text=True))
    if response.status_code == 200 and found:
        confirmed = with_value(data, "confirmed", found.group(1))
        response = client.post(form.action, data=_multi(confirmed))
        results.append(f"{response.status_code} POST (confirmed) {form.action} {_shown(data)}")
    if response.status_code in (302, 303) and response.location.startswith("/"):
        results.append(f"{client.get(response.location).status_code} GET {response.location}")
    return results


def _shown(data) -> str:
    return repr([(n, v) for n, v in data if not n.endswith("csrf_token")])


def _multi(data) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in data:
        out.setdefault(name, []).append(value)
    return out


def server_errors(results: list[str]) -> list[str]:
    return [r for r in results if r.startswith("5")]


def fetch(client, path: str) -> str:
    """GET a path: its status, or 500 for what TESTING lets raise."""
    try:
        return f"{client.get(path).status_code} GET {path}"
    except Exception as error:
        return f"500 GET {path} raised {type(error).__name__}: {error}"


def safely(call, *args) -> list[str]:
    """TESTING lets what would be a 500 raise: count it as one, naming the request."""
    try:
        return call(*args)
    except Exception as error:
        form, data = args[1], args[2]
        return [
            f"500 {form.method} {form.action} {_shown(data)} raised {type(error).__name__}: {error}"
        ]


# Who walks: the secretary (sessions, agenda, minutes, polls, people of their bodies), then
# the administrator for what only they see (organisations, posts, logins, top-level bodies).
WALKERS = ("secretary@example.jp", "admin@example.jp")


@pytest.fixture
def walked(app, world, client):
    app.config.update(SMTP_HOST="", BASE_URL=leak_world.BASE_URL)
    routes = leak_world.build(app, world)
    return [r for r in requests_for(app, routes) if r.method == "GET"]


def each_form(app, client, gets):
    """Every form, as each walker sees it (a form the secretary had is not walked again),
    with the walker logged in."""
    seen = set()
    for walker in WALKERS:
        login(client, walker)
        for form in forms_of(app, client, gets):
            key = (form.endpoint, form.method, form.field_names())
            if key not in seen:
                seen.add(key)
                yield form


def test_every_text_field_survives_the_control_character_corpus(app, client, world, walked):
    counter, results, covered = [0], [], set()
    for form in each_form(app, client, walked):
        data = baseline(form, counter)
        for name in form.text_fields():
            covered.add(form.endpoint)
            for value in CORPUS:
                results += safely(submit, client, form, with_value(data, name, value))
    assert not server_errors(results), "\n".join(server_errors(results))
    # The forms of the finding and the hand-read ones, found by the walk (not listed for it).
    assert {
        "sessions.new",
        "sessions.edit",
        "sessions.add_guest",
        "people.new",
        "bodies.new",
        "agenda.new",
        "polls.new",
        "polls.answer",
        "attendance.record",
        "minutes.save",
        "organisations.new",
        "people.add_post",
    } <= covered, sorted(covered)

    login(client, WALKERS[0])  # who may read every page
    results = notify(client, world)
    results += [fetch(client, r.path) for r in walked]
    assert not server_errors(results), "\n".join(server_errors(results))
    assert not stored_controls(world), stored_controls(world)
    # Positive control: the corpus got past validation into the columns of the finding.
    assert {
        "MeetingSession.title",
        "MeetingSession.place",
        "MeetingSession.notes",
        "Guest.name",
        "Person.name",
        "Body.name",
        "AgendaItem.title",
        "AgendaItem.description",
        "Poll.title",
        "PollInvitee.comment",
        "Organisation.name",
    } <= set(stored_corpus(world)), stored_corpus(world)
    assert_calendars_parse(client, world)
    assert_messages_parse(app)
    # Positive control: the corpus reached the subject of a session's notice, as the title
    # normalised (on one line), through the convening and change notices the walk's
    # sessions were sent.
    notified = world.scalars(
        select(MailMessage.subject).where(MailMessage.kind.in_([mail.INVITE, mail.UPDATE]))
    )
    assert any(textnorm.one_line(sent_corpus()) in subject for subject in notified)


def sent_corpus() -> str:
    return CORPUS[-1].replace("\x00", "")  # the request drops NUL before any form sees it


def notify(client, db) -> list[str]:
    """As the secretary: the convening notice of every session the walk scheduled (still
    to come), then the change notices of every session the walk changed, sent now."""
    db.expire_all()
    results = []
    for session in db.scalars(select(MeetingSession).order_by(MeetingSession.id)):
        if session.status == Status.PREPARED and session.start_at > utcnow():
            response = client.post(f"/sessions/{session.id}/convene", data={})
            results.append(f"{response.status_code} POST convene {session.id}")
    db.expire_all()
    pending = db.scalars(
        select(MeetingSession.id).where(MeetingSession.notice_pending_since.is_not(None))
    )
    for session_id in list(pending):
        response = client.post(f"/sessions/{session_id}/notices", data={})
        results.append(f"{response.status_code} POST notices {session_id}")
    assert results, "the walk scheduled and changed no session"
    return results


def stored_corpus(db) -> list[str]:
    """The text columns (Class.column) that hold the corpus as normalised."""
    sent = sent_corpus()
    found = []
    for mapper, column, lines in text_columns():
        expected = (textnorm.multi_line if lines else textnorm.one_line)(sent)
        values = db.scalars(select(mapper.attrs[column.key].class_attribute))
        if any(isinstance(v, str) and expected in v for v in values):
            found.append(f"{mapper.class_.__name__}.{column.key}")
    return sorted(found)


def text_columns():
    """(mapper, column, whether it keeps lines) for every text column of the models."""
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, String) and column.key in mapper.attrs:
                yield mapper, column, isinstance(column.type, Text) or column.info.get("lines")


def stored_controls(db) -> list[str]:
    """Every stored text that kept a control character (LF and TAB only where a text may
    have lines)."""
    db.expire_all()
    found = []
    for mapper, column, lines in text_columns():
        for value in db.scalars(select(mapper.attrs[column.key].class_attribute)):
            if isinstance(value, str) and (CONTROLS if lines else LINE_CONTROLS).search(value):
                found.append(f"{mapper.class_.__name__}.{column.key}: {value!r}")
    return found


def assert_calendars_parse(client, db) -> None:
    for session_id in db.scalars(select(MeetingSession.id)):
        response = client.get(f"/sessions/{session_id}/invite.ics")
        assert response.status_code == 200, session_id
        event = Calendar.from_ical(response.data).walk("VEVENT")[0]
        assert not CONTROLS.search(str(event["SUMMARY"])), event["SUMMARY"]


def assert_messages_parse(app) -> None:
    outbox = Path(app.instance_path) / "outbox"
    for path in outbox.iterdir() if outbox.exists() else ():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for name in ("Subject", "To", "From"):
            assert not CONTROLS.search(str(message[name] or "")), (path.name, name)


def test_every_number_field_and_link_survives_a_huge_number(app, client, world, walked):
    counter, results = [0], []
    for form in each_form(app, client, walked):
        data = baseline(form, counter)
        for name in form.number_fields():
            if name != "confirmed":
                results += safely(submit, client, form, with_value(data, name, HUGE))
    login(client, WALKERS[0])
    for path in links_with_numbers(client, walked):
        results.append(fetch(client, path))
    for path in ("/audit/?page=" + HUGE, "/people/?page=" + HUGE, "/audit/?body=" + HUGE):
        results.append(fetch(client, path))
    assert not server_errors(results), "\n".join(server_errors(results))


LINK = re.compile(r'href="(/[^"?]*\?[^"]+)"')


def links_with_numbers(client, gets) -> list[str]:
    """Every link with a query string, each number in it replaced by HUGE."""
    found = set()
    for request in gets:
        response = client.get(request.path)
        if response.mimetype != "text/html":
            continue
        for link in LINK.findall(response.get_data(as_text=True)):
            path, query = link.replace("&amp;", "&").split("?", 1)
            pairs = parse_qsl(query, keep_blank_values=True)
            for i, (name, value) in enumerate(pairs):
                if value.isdigit():
                    changed = [*pairs[:i], (name, HUGE), *pairs[i + 1 :]]
                    found.add(path + "?" + urlencode(changed))
    return sorted(found)
