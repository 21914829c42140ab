"""No confidential string leaves Renkei by any route the app registers (docs/architecture.md,
"Confidentiality").

The world (tests/leak_world.py) puts canary strings in the title, description and presenter
of confidential items (owned by the 支援会議), of an attendees' item (`session`, owned by the
第1層 協議体) and of the 支援調整会議's plan review (`body`) in a session it holds jointly
with the 協議体. For each role, every rule in ``app.url_map`` is requested with every value
the world has for its parameters: GET where the rule allows it, and an empty form with a
valid CSRF token for POST-only rules. Any 5xx fails, and so does a canary in a response body
or header the role may not read. Calendar files (feeds and invitation downloads) and e-mail
carry public titles only: no canary at all, whoever receives them. A session still being
prepared (準備中) exists for the secretariat of its bodies alone: to anyone else its pages
are not found and no list, feed, poll or message names it. Positive controls make sure the
canaries are rendered at all where they are allowed.

A new route whose parameter this file does not know makes the test fail (see
``parameter_values``) rather than being skipped.
"""

import email
import email.policy
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import (
    MailMessage,
    Material,
    MeetingSession,
    Membership,
    Person,
    Pledge,
    Series,
    Status,
    Visibility,
)
from renkei.models import Role as TermRole
from renkei.services import agenda, calendar, mail, minutes, policy, polls, scheduling
from renkei.services.dates import fiscal_year_of, in_tokyo, today, tokyo_to_utc
from renkei.services.demo import TERM_START
from tests import leak_world
from tests.conftest import login
from tests.helpers import body_named, person_by_email
from tests.leak_world import (
    ATTENDEES,
    ATTENDEES_ITEM,
    BASE_URL,
    BODY,
    CASE2,
    CONFIDENTIAL,
    POLLS,
    PREPARED,
    SELECTED,
    SELECTED_MEMBERS,
)
from tests.sessions_helpers import COORDINATION, DAY, LAYER1, LAYER2, SUPPORT

CLOSED = "非公開議題"  # what a closed item shows instead of its title (Japanese interface)
REPORT_TABLES = ("sessions_by_body", "cases", "items_by_topic", "referrals_by_source")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Calendar files: public titles only, whoever fetches them.
CALENDAR_ENDPOINTS = {"calendar.feed", "calendar.invitation"}
NOT_PUBLIC = (*CONFIDENTIAL, *ATTENDEES, *BODY, *SELECTED_MEMBERS)

# POST-only rules that change state even with an empty form (delete, deactivate, renew the
# feed address, record the poster's pledge, log out): posted last, in this order, so that
# nothing they change affects the requests before them. Every other POST-only rule is
# posted before them: an empty form is refused there, or changes nothing later requests see.
LAST = (
    "minutes.submit",
    "minutes.withdraw",
    "minutes.action_done",
    "agenda.delete",
    "people.delete_post",
    "sessions.remove_guest",
    "convening.send_notices",
    "convening.remove_participant",
    "convening.pledge",
    "polls.remind",
    "people.set_account",
    "calendar.renew",
    "sessions.pledge",
    "auth.logout",
)


def parameter_values(world: leak_world.LeakWorld) -> dict[str, list]:
    """The values each URL parameter takes; a parameter missing here fails the test."""
    return {
        "session_id": world.session_ids,
        "item_id": world.item_ids,
        "body_id": world.body_ids,
        "person_id": world.person_ids,
        "membership_id": world.membership_ids,
        "guest_id": world.guest_ids,
        "version_id": world.version_ids,
        "section_id": world.section_ids,
        "action_id": world.action_ids,
        "task_id": world.action_ids,
        "organisation_id": world.organisation_ids,
        "post_id": world.post_ids,
        "token": list(world.feed_tokens),
        "poll_id": world.poll_ids,
        "participant_id": world.participant_ids,
        "issue_id": world.issue_ids,
        # Its holder's link, and one nobody was given.
        "poll_token": [*world.poll_tokens, "forged-poll-token"],
        "code": ["ja"],
        "material_id": world.material_ids,
        "material_version_id": world.material_version_ids,
        "referral_id": world.referral_ids,
        "case_number": world.case_numbers,
        "topic_id": world.topic_ids[:1],
        # The fiscal-year report (年度実績): the year of the world's sessions, and a few of
        # its tables (every table is read by test_no_report_output_names_a_closed_item).
        "year": sorted({fiscal_year_of(today()), fiscal_year_of(DAY)}),
        "table_key": list(REPORT_TABLES),
    }


@dataclass
class Role:
    email: str | None
    # Canaries no page may show this role (calendar files add NOT_PUBLIC for everyone).
    forbidden: tuple[str, ...]
    # Positive controls: path (formatted with the world) -> strings the response must show.
    must_see: dict[str, tuple[str, ...]] = field(default_factory=dict)


JOINT_PAGE = "/sessions/{w.joint_id}"
SUPPORT_POLL = "/polls/{w.poll_ids[0]}"
SOLO_PAGE = "/sessions/{w.solo_id}"
APPROVED_MINUTES = "/minutes/{w.version_ids[0]}"  # the member view, by default
DRAFT_EDITOR = "/minutes/{w.version_ids[1]}/edit"
MINUTES_ATTENDEES = (leak_world.MINUTES_ATTENDEES_SECTION, leak_world.MINUTES_DECISIONS, CLOSED)
COORDINATION_PAGE = "/sessions/{w.coordination_joint_id}"
COORDINATION_MINUTES = "/minutes/{w.coordination_version_id}"
# What a 協議体 member reads of the 支援調整会議 + 協議体 session: the public item, the plan
# review as a closed item (with its visibility), and its minutes' section closed too.
COORDINATION_AS_KYOGITAI = {
    COORDINATION_PAGE: (leak_world.COORDINATION_PUBLIC_TITLE, CLOSED, "構成員限り"),
    COORDINATION_MINUTES: (CLOSED,),
}
SELECTED_PAGE = "/sessions/{w.selected_id}"
PREPARED_PAGE = "/sessions/{w.prepared_id}"
SUPPORT_PAGE = "/bodies/{w.support_id}"
# The local issue raised from the joint session's confidential case, and the one taken onto
# the prepared session's agenda: the 協議体's members read both, never the case's title nor
# the prepared session's.
ISSUE_FROM_CASE = "/local-issues/{w.issue_ids[0]}"
ISSUE_TAKEN_UP = "/local-issues/{w.issue_ids[1]}"
# Sessions a participant of the selected session may not know of, even by title.
OTHER_SESSIONS = (
    "合同会議（漏えい試験）",
    "支援会議（漏えい試験）",
    leak_world.SERIES_SESSION_TITLE,
    leak_world.COORDINATION_JOINT_TITLE,
)

# The joint session's materials for those convened to it, of either body.
MATERIALS_ATTENDEES = (leak_world.MATERIAL_ATTENDEES, leak_world.MATERIAL_NARROWED)

ROLES = {
    # The 協議体-only member of a joint 支援調整会議 + 協議体 session (no other body): the
    # public item only of the session, the 支援調整会議's plan review as 非公開議題.
    "kyogitai.only": Role(
        leak_world.KYOGITAI_ONLY,
        CONFIDENTIAL + BODY + POLLS + PREPARED + (leak_world.SERIES_SESSION_TITLE,),
        {
            **COORDINATION_AS_KYOGITAI,
            JOINT_PAGE: (*ATTENDEES_ITEM, CLOSED, *MATERIALS_ATTENDEES),
        },
    ),
    # Member of the other body of both joint sessions (協議体 第1層, and the 第2層's chair):
    # no 支援会議 or 支援調整会議 content, and the 支援会議's own sessions do not exist for them.
    "member.kyogitai": Role(
        "member.kyogitai@example.jp",
        CONFIDENTIAL
        + BODY
        + SELECTED_MEMBERS
        + POLLS
        + PREPARED
        + (leak_world.SERIES_SESSION_TITLE,),
        {
            **COORDINATION_AS_KYOGITAI,
            JOINT_PAGE: (*ATTENDEES_ITEM, leak_world.PUBLIC_TITLE, CLOSED),
            APPROVED_MINUTES: MINUTES_ATTENDEES,
            ISSUE_FROM_CASE: (leak_world.LOCAL_ISSUE_TITLE,),
            ISSUE_TAKEN_UP: (leak_world.LOCAL_ISSUE_TAKEN,),
        },
    ),
    # Current member of the 支援会議 without a pledge, and of the 協議体 (not the 支援調整会議).
    "member.both": Role(
        "member.both@example.jp",
        CONFIDENTIAL + BODY + SELECTED_MEMBERS + PREPARED,
        {
            **COORDINATION_AS_KYOGITAI,
            JOINT_PAGE: (*ATTENDEES_ITEM, CLOSED),
            SOLO_PAGE: (CLOSED,),
            APPROVED_MINUTES: MINUTES_ATTENDEES,
            SUPPORT_POLL: POLLS,  # their own poll and their own comment
        },
    ),
    # Administrator: manages everything, entitled to no content by that role, and no
    # secretariat: a session being prepared is not theirs to know of.
    "admin": Role(
        "admin@example.jp",
        CONFIDENTIAL + ATTENDEES + BODY + SELECTED_MEMBERS + POLLS + PREPARED,
        {
            JOINT_PAGE: (leak_world.PUBLIC_TITLE, CLOSED, leak_world.MATERIAL_PUBLIC),
            COORDINATION_PAGE: (leak_world.COORDINATION_PUBLIC_TITLE, CLOSED),
        },
    ),
    "logged_out": Role(None, CONFIDENTIAL + ATTENDEES + BODY + SELECTED_MEMBERS + POLLS + PREPARED),
    # Secretariat of the 支援会議 and the 協議体, so manager of their sessions (history,
    # replies, mail, agenda buttons and forms), but without a pledge; not of the 支援調整会議.
    "secretary.unpledged": Role(
        leak_world.UNPLEDGED_SECRETARY,
        CONFIDENTIAL + BODY + SELECTED_MEMBERS,
        {
            JOINT_PAGE: (*ATTENDEES_ITEM, CLOSED),
            SOLO_PAGE: (CLOSED, "非公開"),
            DRAFT_EDITOR: (leak_world.MINUTES_ATTENDEES_SECTION, CLOSED),
            # The secretariat's list: the 支援会議's task listed as closed.
            "/tasks/": ("非公開",),
            COORDINATION_PAGE: (leak_world.COORDINATION_PUBLIC_TITLE, CLOSED),
            # Secretariat of the session being prepared: theirs, its confidential item closed.
            PREPARED_PAGE: (*PREPARED, CLOSED),
            # The issue raised from the case they may not see: the issue, not the case.
            ISSUE_FROM_CASE: (leak_world.LOCAL_ISSUE_TITLE,),
            ISSUE_TAKEN_UP: (leak_world.PREPARED_TITLE,),
        },
    ),
    # The pledged secretary: the positive control. Pages may show every current canary (and
    # must, on the session pages); calendar files may not; the text an item had before it
    # was made confidential is in no page (the history names fields, never their content).
    "secretary": Role(
        "secretary@example.jp",
        (leak_world.DRAFT_TITLE, leak_world.DRAFT_DESCRIPTION),
        {
            JOINT_PAGE: (
                leak_world.JOINT_TITLE,
                leak_world.JOINT_DESCRIPTION,
                leak_world.JOINT_PRESENTER,
                *ATTENDEES_ITEM,
            ),
            SOLO_PAGE: (
                leak_world.SOLO_TITLE,
                leak_world.SOLO_DESCRIPTION,
                leak_world.SOLO_PRESENTER,
                leak_world.SOLO_SECOND_TITLE,
                # Carried over: the 支援会議's own task and the one from the joint minutes.
                leak_world.TASK_CONFIDENTIAL,
                leak_world.MINUTES_TASK,
            ),
            SOLO_PAGE + "/order": (leak_world.TASK_CONFIDENTIAL,),
            "/tasks/": (leak_world.TASK_CONFIDENTIAL, leak_world.TASK_BODY),
            DRAFT_EDITOR: (leak_world.MINUTES_CORRECTION, leak_world.MINUTES_ATTENDEES_SECTION),
            "/": (leak_world.MINUTES_TASK,),
            # Convened to the selected session: every item of it.
            SELECTED_PAGE: (*SELECTED_MEMBERS, *CASE2, leak_world.CASE3_TITLE),
            # Presence for the confidential item is recorded under its title.
            JOINT_PAGE + "/attendance": (leak_world.JOINT_TITLE,),
            SUPPORT_POLL: POLLS,
            # A member of the 支援調整会議: its plan review, without any pledge.
            COORDINATION_PAGE: leak_world.BODY_ITEM,
            COORDINATION_PAGE + "/attendance": (leak_world.BODY_TITLE,),
            COORDINATION_MINUTES: (leak_world.MINUTES_BODY_SECTION,),
            # The session being prepared: its page, its body's list of sessions, and the
            # download of the joint session's invitation (public titles only there).
            PREPARED_PAGE: (*PREPARED, leak_world.PREPARED_SECRET_TITLE),
            SUPPORT_PAGE: (leak_world.PREPARED_TITLE,),
            JOINT_PAGE + "/invite.ics": (leak_world.PUBLIC_TITLE, CLOSED),
            # Materials: listed, and downloaded (the confidential item's is the first).
            JOINT_PAGE + "/materials": (
                leak_world.MATERIAL_SECRET,
                leak_world.MATERIAL_ATTENDEES,
                leak_world.MATERIAL_NARROWED,
            ),
            "/materials/{w.material_ids[0]}/download": (f"{leak_world.MATERIAL_SECRET}-CONTENT",),
            # Pledged: the case an issue was raised from, and the session being prepared.
            ISSUE_FROM_CASE: (leak_world.LOCAL_ISSUE_TITLE, leak_world.JOINT_TITLE),
            ISSUE_TAKEN_UP: (leak_world.PREPARED_TITLE,),
        },
    ),
}


# A member of the 支援会議, pledged, not convened to the session of selected members: the
# session exists for them (its public facts), nothing closed in it does; every other
# session of the 支援会議 is theirs in full.
ROLES["member.uncalled"] = Role(
    leak_world.UNCALLED,
    SELECTED + PREPARED,
    {
        SELECTED_PAGE: (leak_world.SELECTED_SESSION_TITLE, CLOSED),
        SOLO_PAGE: (leak_world.SOLO_TITLE,),  # pledged: only the selection keeps them out
    },
)
# A participant of case 2 (item 2), pledged for that session, looking for case 3 and for
# anything else: the minutes of case 2 are not theirs either (no leave given). Assigned to
# the public item of the session being prepared too: it is not theirs until convened.
ROLES["participant"] = Role(
    leak_world.PARTICIPANT,
    tuple(c for c in CONFIDENTIAL if c not in CASE2)
    + ATTENDEES
    + BODY
    + SELECTED_MEMBERS
    + POLLS
    + OTHER_SESSIONS
    + PREPARED,
    {SELECTED_PAGE: (*CASE2, CLOSED)},
)
# Referrals (つなぎ) without consent: the one kept by its sender (member.both's 地域包括) is
# theirs alone — not the receiving agency's, not the 支援会議's; the one the 福祉課 took to
# the 支援会議 is its staff's (both secretaries, and the administrator as 福祉課 staff) and
# the pledged members' of the session it went to (through the item).
KEPT = "/referrals/{w.referral_ids[0]}"
TAKEN = "/referrals/{w.referral_ids[1]}"
TAKEN_CASE = "/cases/{w.case_numbers[1]}"
SENDER_ONLY = (leak_world.REFERRAL_SENDER_NOTE,)
MEETING_NOTE = (leak_world.REFERRAL_MEETING_NOTE,)
for _name, _role in ROLES.items():
    if _name != "member.both":
        _role.forbidden += SENDER_ONLY
    if _name not in ("secretary", "secretary.unpledged", "admin", "member.uncalled"):
        _role.forbidden += MEETING_NOTE
ROLES["member.both"].must_see[KEPT] = SENDER_ONLY
ROLES["secretary"].must_see[TAKEN] = MEETING_NOTE
ROLES["secretary"].must_see[TAKEN_CASE] = (leak_world.REFERRAL_ITEM_TITLE,)
ROLES["secretary.unpledged"].must_see[TAKEN] = MEETING_NOTE
ROLES["member.uncalled"].must_see[TAKEN] = MEETING_NOTE
ROLES["member.uncalled"].must_see[TAKEN_CASE] = (leak_world.REFERRAL_ITEM_TITLE,)

# The secretariat of the session being prepared: the only roles that may know of it.
PREPARERS = {"secretary", "secretary.unpledged"}


# --- Reading what came back -----------------------------------------------------------------


def readable(text: str) -> str:
    """Text as a reader would see it: iCalendar lines unfolded (a long line is cut and goes
    on after CRLF and a space, which would split a canary) and HTML entities resolved."""
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "")
    return html.unescape(unfolded)


def response_text(response) -> str:
    body = response.get_data().decode("utf-8", "replace")
    if response.mimetype == XLSX:  # a workbook: the text of its XML parts, not the zip
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as book:
            body = "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return readable(headers + "\n" + body)


def message_text(content: bytes) -> str:
    """Every header and every decoded text part (base64 or quoted-printable would hide a
    canary from a search of the raw bytes), attachments included."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    found = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        found += [f"{name}: {value}" for name, value in part.items()]
        payload = part.get_content()
        found.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload)
    return readable("\n".join(found))


def leaked(text: str, canaries) -> list[str]:
    return [canary for canary in canaries if canary in text]


# --- Walking the URL map ------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    endpoint: str


def requests_for(app, world: leak_world.LeakWorld) -> list[Request]:
    """Every rule with every value of its parameters: GETs, then the POST-only rules that
    an empty form leaves unchanged, then the LAST ones in their order."""
    values = parameter_values(world)
    unmapped = [
        f"{rule.rule} (<{name}>)"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for name in sorted(rule.arguments)
        if name not in values
    ]
    if unmapped:
        pytest.fail(
            "Route parameters not mapped in tests/test_leaks.py: "
            + ", ".join(unmapped)
            + ". Add them to parameter_values() so that the leak test walks these routes."
        )
    gets, posts, last = [], [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = rule.methods - {"HEAD", "OPTIONS"}
        names = sorted(rule.arguments)
        combinations = [{}]
        for name in names:
            combinations = [{**c, name: v} for c in combinations for v in values[name]]
        for combination in combinations:
            _, path = rule.build(combination, append_unknown=False)
            if "GET" in methods:
                gets.append(Request("GET", path, rule.endpoint))
            elif methods == {"POST"}:
                target = last if rule.endpoint in LAST else posts
                target.append(Request("POST", path, rule.endpoint))
            else:
                pytest.fail(f"{rule.rule}: methods {sorted(methods)} not handled by the walk")
    last.sort(key=lambda r: LAST.index(r.endpoint))
    return gets + posts + last


def forbidden_for(role: Role, request: Request, world: leak_world.LeakWorld) -> set[str]:
    if request.endpoint == "calendar.feed":
        # A feed is its holder's, whoever fetches it (no login: the address is the key):
        # public titles only, whoever holds it, and no session being prepared.
        return set(NOT_PUBLIC) | set(PREPARED)
    if request.endpoint == "polls.link":
        # A personal answer link is its holder's, whoever opens it (no login: the address
        # is the key): the poll's title, but nobody else's answers or comments, no agenda
        # content at all, and no session being prepared (not even as a clash).
        return set(NOT_PUBLIC) | {leak_world.POLL_COMMENT} | set(PREPARED)
    forbidden = set(role.forbidden)
    if request.endpoint in CALENDAR_ENDPOINTS:
        forbidden |= set(NOT_PUBLIC)
    return forbidden


def csrf_token(client) -> str:
    return client.token()  # the token of this client's session (CsrfClient in conftest)


@pytest.fixture
def leaky(app, world):
    app.config.update(SMTP_HOST="", BASE_URL=BASE_URL)
    return leak_world.build(app, world)


@pytest.mark.parametrize("role_name", list(ROLES))
def test_no_route_leaks_to(role_name, app, client, world, leaky):
    role = ROLES[role_name]
    if role.email:
        login(client, role.email)
    token = csrf_token(client)
    must_see = {path.format(w=leaky): wanted for path, wanted in role.must_see.items()}
    failures, controls, seen = [], [], set()
    plan = requests_for(app, leaky)
    for request in plan:
        where = f"{role_name}: {request.method} {request.path} [{request.endpoint}]"
        try:
            if request.method == "GET":
                response = client.get(request.path)
            else:
                response = client.post(request.path, data={"csrf_token": token})
        except Exception as error:  # TESTING propagates what would be a 500: name the route
            failures.append(f"{where} raised {type(error).__name__}: {error} (a 500)")
            continue
        if response.status_code >= 500:
            failures.append(f"{where} answered {response.status_code}")
        text = response_text(response)
        for canary in sorted(leaked(text, forbidden_for(role, request, leaky))):
            failures.append(f"{where} ({response.status_code}) shows {canary}")
        if request.method == "GET" and request.path in must_see:
            seen.add(request.path)
            missing = [s for s in must_see[request.path] if s not in text]
            if response.status_code != 200 or missing:
                controls.append(f"{where} ({response.status_code}) does not show {missing}")
    assert not failures, "\n".join(failures)
    # Positive controls: the canaries are rendered where they are allowed, so that their
    # absence elsewhere means something.
    assert seen == set(must_see), "positive-control pages were not requested"
    assert not controls, "positive control failed:\n" + "\n".join(controls)


@pytest.mark.parametrize("role_name", list(ROLES))
def test_no_minutes_rendering_leaks_to(role_name, app, client, world, leaky):
    """Every view, per-body extract, download and diff of every version: the walk above
    requests each minutes page once, with its default view; these are its variants."""
    role = ROLES[role_name]
    if role.email:
        login(client, role.email)
    failures, statuses = [], set()
    for version_id in leaky.version_ids:
        for page in ("", "/download", "/diff"):
            for view in ("full", "member", "public"):
                for body in ("", *(f"&body={b}" for b in leaky.body_ids)):
                    path = f"/minutes/{version_id}{page}?view={view}{body}"
                    response = client.get(path)
                    statuses.add(response.status_code)
                    if response.status_code >= 500:
                        failures.append(f"{path} answered {response.status_code}")
                    text = response_text(response)
                    failures += [f"{path} shows {c}" for c in leaked(text, role.forbidden)]
    assert not failures, "\n".join(failures)
    if role_name == "secretary":  # positive control: the full view shows the section
        full = client.get(f"/minutes/{leaky.version_ids[0]}?view=full")
        assert leak_world.MINUTES_TITLE_SECTION in response_text(full)
        download = client.get(f"/minutes/{leaky.version_ids[0]}/download?view=full")
        assert leak_world.MINUTES_TITLE_SECTION in response_text(download)
    if role_name in ("member.kyogitai", "member.both", "kyogitai.only"):
        assert 200 in statuses and 403 in statuses  # they read the member view, not the full


def test_unknown_route_parameter_fails_the_walk(app, world, leaky):
    """The walk refuses a route it cannot fill, rather than skipping it."""
    app.add_url_rule("/leak-probe/<int:widget_id>", "leak_probe", lambda widget_id: "")
    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        requests_for(app, leaky)


def test_csrf_token_is_accepted_on_posts(app, client, world, leaky):
    """The empty forms of the walk pass the CSRF check (else every POST would be the same
    400 page and nothing behind it would be tested)."""
    login(client, "member.both@example.jp")
    token = csrf_token(client)
    path = f"/sessions/{leaky.joint_id}/reply"
    refused = client.post(path, data={"csrf_token": "x"}, csrf=False)
    accepted = client.post(path, data={"csrf_token": token})
    assert refused.status_code == accepted.status_code == 400
    page = accepted.get_data(as_text=True)
    assert "reply" in page and leak_world.ATTENDEES_TITLE in page  # the session page again
    assert leak_world.JOINT_TITLE not in page


# --- A session being prepared ----------------------------------------------------------------


def prepared_requests(app, world: leak_world.LeakWorld) -> list[Request]:
    """Every rule about the prepared session (its id, an item, its participant, one of its
    bodies): each GET, and each POST with an empty form."""
    prepared = world.prepared_id
    values = {
        "session_id": [prepared],
        "item_id": world.prepared_item_ids,
        "participant_id": world.participant_ids[-1:],  # the one assigned to it
        "body_id": [world.support_id],
    }
    found = []
    for rule in app.url_map.iter_rules():
        names = set(rule.arguments)
        if not names & {"session_id", "item_id", "participant_id"} or not names <= set(values):
            continue
        combinations = [{}]
        for name in sorted(names):
            combinations = [{**c, name: v} for c in combinations for v in values[name]]
        for combination in combinations:
            _, path = rule.build(combination, append_unknown=False)
            for method in sorted(rule.methods & {"GET", "POST"}):
                found.append(Request(method, path, rule.endpoint))
    return found


@pytest.mark.parametrize("role_name", [name for name in ROLES if name not in PREPARERS])
def test_a_prepared_session_is_not_found_but_by_its_secretariat(
    role_name, app, client, world, leaky
):
    """Members of its bodies, the participant assigned to it, the administrator: every page
    and form of the session being prepared answers 404 (the visitor goes to the login), as
    for a session that does not exist; nothing is written. The lists are the walk's."""
    role = ROLES[role_name]
    if role.email:
        login(client, role.email)
    expected = 404 if role.email else 302
    plan = prepared_requests(app, leaky)
    assert {"sessions.show", "convening.convene", "convening.send_notices"} <= {
        r.endpoint for r in plan
    }
    failures = []
    for request in plan:
        response = client.open(request.path, method=request.method, data={})
        if response.status_code != expected:
            failures.append(f"{request.method} {request.path} answered {response.status_code}")
    assert not failures, "\n".join(failures)
    world.expire_all()
    assert world.get(MeetingSession, leaky.prepared_id).status == Status.PREPARED


def test_a_poll_names_no_prepared_session_but_to_its_secretariat(app, client, world, leaky):
    """A secretary of the 第2層 who sits on the 協議体 (第1層) as a member asks the 第2層
    for a date at the hour of the session being prepared, to which the 第2層's chair is
    convened (as a member of the 協議体): the poll shows the overlap without naming a
    session its secretary may not know of. To the secretariat of that session, it names it."""
    layer1, layer2 = body_named(world, LAYER1), body_named(world, LAYER2)
    secretary = person_by_email(world, "secretary@example.jp")
    asking = Person(
        name="第二 事務",
        kana="だいに じむ",
        email="secretary.layer2@example.jp",
        password_hash=secretary.password_hash,  # the demo password
    )
    world.add(asking)
    for body, role in ((layer2, TermRole.SECRETARY), (layer1, TermRole.MEMBER)):
        world.add(Membership(person=asking, body=body, role=role, term_start=TERM_START))
    world.flush()
    day = DAY + timedelta(days=14)
    slot = polls.SlotData(tokyo_to_utc(day, time(14)), tokyo_to_utc(day, time(16)))
    with app.app_context():
        data = polls.PollData("第2層の日程（漏えい試験）", [layer2.id], layer2.id, [slot])
        poll = polls.create_poll(world, data, by=asking)
        world.commit()
    login(client, asking.email)
    page = response_text(client.get(f"/polls/{poll.id}"))
    assert "他の開催回と重なっています" in page
    assert leaked(page, PREPARED) == []
    login(client, "secretary@example.jp")  # positive control: the overlap is that session
    assert leak_world.PREPARED_TITLE in response_text(client.get(f"/polls/{poll.id}"))


# --- The fiscal-year report ------------------------------------------------------------------


def report_paths(world: leak_world.LeakWorld, keys: list[str]) -> list[str]:
    """Every output of every report of the world's years: the page, the workbook and the
    CSV of each table, for the whole install and for each body."""
    paths = []
    for year in parameter_values(world)["year"]:
        bases = [f"/reports/{year}", *(f"/reports/{year}/bodies/{b}" for b in world.body_ids)]
        for base in bases:
            paths += [base, f"{base}/report.xlsx", *(f"{base}/{key}.csv" for key in keys)]
    return paths


@pytest.mark.parametrize("role_name", list(ROLES))
def test_no_report_output_names_a_closed_item(role_name, app, client, world, leaky):
    """The report counts closed items and cases; no page, workbook cell or CSV of it, for any
    role, shows an item's title, a case number or a participant's name."""
    from sqlalchemy import union

    from renkei.models import AgendaItem, Referral
    from renkei.services import annual_report

    role = ROLES[role_name]
    if role.email:
        login(client, role.email)
    numbers = set(
        world.scalars(
            union(
                select(AgendaItem.case_number).where(AgendaItem.case_number.is_not(None)),
                select(Referral.case_number),
            )
        )
    )
    assert numbers
    canaries = set(NOT_PUBLIC) | set(PREPARED) | set(POLLS) | numbers
    if role.email != leak_world.PARTICIPANT:  # the menu names whoever is logged in
        canaries.add(person_by_email(world, leak_world.PARTICIPANT).name)  # 関係 五郎
    admin = person_by_email(world, "admin@example.jp")
    with app.app_context():
        keys = [t.key for t in annual_report.build(world, DAY.year, reader=admin).tables]
    failures, read = [], 0
    for path in report_paths(leaky, keys):
        response = client.get(path)
        if response.status_code >= 500:
            failures.append(f"{path} answered {response.status_code}")
        read += response.status_code == 200
        text = response_text(response)
        failures += [f"{path} shows {c}" for c in sorted(leaked(text, canaries))]
    assert not failures, "\n".join(failures)
    # Positive control: the administrator and the secretariat read reports at all.
    assert read > 0 or role_name not in ("admin", "secretary", "secretary.unpledged")


# --- Feeds --------------------------------------------------------------------------------


def test_no_feed_carries_anything_but_public_titles(app, world, leaky):
    """Every person's feed, fetched by whoever holds the address (no login). The pledged
    secretary's feed too: feeds carry public titles only, whoever owns them, and no session
    being prepared."""
    feed_reader = app.test_client()
    failures = []
    for token, holder in leaky.feed_tokens.items():
        response = feed_reader.get(f"/calendar/{token}.ics")
        assert response.status_code == 200, holder
        text = response_text(response)
        forbidden = set(NOT_PUBLIC) | set(PREPARED)
        if holder not in leak_world.CONVENED:
            forbidden |= {leak_world.SELECTED_SESSION_TITLE}
        failures += [f"feed of {holder} shows {c}" for c in sorted(leaked(text, forbidden))]
        if holder in (leak_world.KYOGITAI_ONLY, "secretary@example.jp"):  # positive control
            for wanted in (leak_world.COORDINATION_JOINT_TITLE, CLOSED):
                assert wanted in text, f"the feed of {holder} lacks {wanted}"
        if holder == "secretary@example.jp":  # positive control: the feed has the agenda
            for wanted in ("合同会議（漏えい試験）", leak_world.PUBLIC_TITLE, CLOSED):
                assert wanted in text, f"the secretary's feed lacks {wanted}"
            assert "RRULE:FREQ=WEEKLY" in text and "RECURRENCE-ID" in text
    assert not failures, "\n".join(failures)


# --- E-mail and calendar files ------------------------------------------------------------


def _recipients(db, session) -> list[calendar.Recipient]:
    """Everyone a session convenes (members, participants, guests), and a guest more."""
    found, _missing = mail.addressees(db, session)
    recipients = [a.recipient for a in found]
    recipients.append(calendar.Recipient(leak_world.GUEST_NAME, leak_world.GUEST_EMAIL))
    return recipients


def test_no_calendar_file_carries_anything_but_public_titles(app, world, leaky, links):
    """The invitation (REQUEST) for everyone each session convenes, and the download
    (PUBLISH), of every session (the one being prepared too) and of the whole series."""
    failures = []
    with app.app_context():
        issuer = calendar.issuer(world, links, leak_world.SENDER)
        sessions = world.scalars(select(MeetingSession).order_by(MeetingSession.id)).all()
        weekly = world.get(Series, leaky.series_id)
        # Each session under its own UID, and the whole series under the series'.
        units = [([s], calendar.occurrence_uid(s, issuer)) for s in sessions]
        units.append((list(weekly.sessions), calendar.session_uid(weekly.sessions[0], issuer)))
        for theirs, uid in units:
            files = {"download": calendar.download(theirs, issuer, uid=uid)}
            for recipient in _recipients(world, theirs[0]):
                files[f"request for {recipient.name}"] = calendar.request(
                    theirs, recipient, issuer, uid=uid, answer=None, dtstamp=utcnow()
                )
            for what, ics in files.items():
                text = readable(ics.decode("utf-8"))
                failures += [
                    f"{what} of sessions {[s.id for s in theirs]} shows {c}"
                    for c in sorted(leaked(text, NOT_PUBLIC))
                ]
                ids = {s.id for s in theirs}
                if ids == {leaky.joint_id}:  # positive controls
                    assert leak_world.PUBLIC_TITLE in text and CLOSED in text
                if ids == {leaky.coordination_joint_id}:
                    assert leak_world.COORDINATION_PUBLIC_TITLE in text and CLOSED in text
                if ids == {leaky.prepared_id}:
                    assert leak_world.PREPARED_ITEM_TITLE in text and CLOSED in text
                if len(ids) > 1:  # the occurrences differ: exceptions are written
                    assert "RECURRENCE-ID" in text
    assert not failures, "\n".join(failures)


# Confidential items added after convening: the change notices may say the agenda changed,
# never what it now holds.
LATE_TITLE = "CANARY-LATE-TITLE-0e6f"
LATE_DESCRIPTION = "CANARY-LATE-DESCRIPTION-0e6f"
LATE_CASE_PREFIX = "LATE0E6F"
LATE = (LATE_TITLE, LATE_DESCRIPTION, f"{LATE_CASE_PREFIX}-R")


def _add_late_items(app, db, leaky) -> list[int]:
    """A confidential item (of the 支援会議 where it sits, else of the host), with a case
    number, added to every session convened or held by the pledged secretary: the sessions
    whose notices are now pending."""
    secretary = person_by_email(db, "secretary@example.jp")
    support = body_named(db, SUPPORT)
    changed = []
    with app.app_context():
        for session in db.scalars(select(MeetingSession).order_by(MeetingSession.id)):
            if session.status not in (Status.CONVENED, Status.HELD):
                continue
            owner = support if support in session.bodies else session.host_body
            data = agenda.ItemData(
                title=LATE_TITLE,
                body_id=owner.id,
                description=LATE_DESCRIPTION,
                visibility=Visibility.CONFIDENTIAL.value,
                assign_case_number=True,
                case_prefix=LATE_CASE_PREFIX,
            )
            # A held session's agenda changes only as a correction after the session.
            held = session.status == Status.HELD
            correction = agenda.Correction("開催後の訂正") if held else None
            agenda.add_item(db, session, data, by=secretary, correction=correction)
            changed.append(session.id)
        db.commit()
    return changed


def test_no_mail_carries_anything_but_public_titles(app, client, world, leaky, links):
    """Every message, decoded with its attachments: the convening notices of the world (the
    joint session, the series, the selected session); then, through the pages as the pledged
    secretary sends them, the prepared session's convening notice, the change notices of
    every session after a confidential item is added to it, and a cancellation; reminders;
    the minutes' requests and approvals."""
    sent_before = world.scalars(select(MailMessage)).all()
    assert all(m.session_id != leaky.prepared_id for m in sent_before), "mailed while prepared"
    assert leak_world.PREPARED_GUEST_EMAIL not in {m.to_address for m in sent_before}
    preparing = world.scalars(select(MailMessage.content)).all()
    assert not [c for c in preparing if leaked(message_text(c), PREPARED)]

    login(client, "secretary@example.jp")
    convened = client.post(f"/sessions/{leaky.prepared_id}/convene", data={})
    assert convened.status_code == 302, convened.get_data(as_text=True)
    world.expire_all()  # what the requests wrote
    changed = _add_late_items(app, world, leaky)
    assert {leaky.joint_id, leaky.coordination_joint_id, leaky.prepared_id} <= set(changed)
    for session_id in changed:
        response = client.post(f"/sessions/{session_id}/notices", data={})
        assert response.status_code == 302, session_id
    cancelled = client.post(f"/sessions/{leaky.solo_id}/cancel", data={"reason": "都合により"})
    assert cancelled.status_code == 302
    with app.app_context():
        settings = mail.MailSettings.from_config(app.config, app.instance_path)
        first = world.get(Series, leaky.series_id).sessions[0]
        days = (in_tokyo(first.start_at).date() - today()).days
        reminded = mail.send_reminders(world, settings, days=days, links=links)
        assert reminded.sessions >= 1 and reminded.queued.messages
    world.expire_all()
    messages = world.scalars(select(MailMessage).order_by(MailMessage.id)).all()

    kinds = {m.kind for m in messages}
    assert kinds == {
        mail.INVITE,
        mail.UPDATE,
        mail.CANCEL,
        mail.REMINDER,
        minutes.REQUEST,
        minutes.APPROVED,
    }
    uncalled = {leak_world.UNCALLED, "member.both@example.jp", leak_world.UNPLEDGED_SECRETARY}
    failures, controls = [], set()
    for message in messages:
        text = message_text(message.content)
        if message.session_id == leaky.selected_id:
            assert message.to_address not in uncalled, "invited though not convened"
        failures += [
            f"{message.kind} mail {message.id} (session {message.session_id}) to "
            f"{message.to_address} shows {c}"
            for c in sorted(leaked(text, (*NOT_PUBLIC, *LATE)))
        ]
        # Positive controls: the public items, and the closed ones as 非公開議題.
        for session_id, public in (
            (leaky.joint_id, leak_world.PUBLIC_TITLE),
            (leaky.coordination_joint_id, leak_world.COORDINATION_PUBLIC_TITLE),
            (leaky.prepared_id, leak_world.PREPARED_ITEM_TITLE),
        ):
            if message.session_id == session_id and public in text and CLOSED in text:
                controls.add((session_id, message.kind))
    assert not failures, "\n".join(failures)
    _check_material_links(world, messages, leaky)
    assert {
        (leaky.joint_id, mail.INVITE),
        (leaky.joint_id, mail.UPDATE),
        (leaky.prepared_id, mail.INVITE),
        (leaky.prepared_id, mail.UPDATE),
    } <= controls, controls
    assert any(session_id == leaky.coordination_joint_id for session_id, _kind in controls)
    addresses = {m.to_address for m in messages}
    assert {
        "secretary@example.jp",
        "chair.support@example.jp",
        leak_world.GUEST_EMAIL,
        leak_world.KYOGITAI_ONLY,
        leak_world.PREPARED_GUEST_EMAIL,
    } <= addresses
    assert leak_world.PARTICIPANT in addresses  # the participant's invitations


def material_links(text: str) -> set[int]:
    pattern = re.escape(BASE_URL.rstrip("/")) + r"/materials/(\d+)/download"
    return {int(found) for found in re.findall(pattern, text)}


def _check_material_links(db, messages, leaky) -> None:
    """Each message links its recipient to materials they may see and to no other (a guest
    without a login: none); the joint session's change notice (its materials came after
    convening) names the public material and gives the pledged chair the confidential one,
    untitled."""
    wrong, linked, titled = [], set(), False
    for message in messages:
        text = message_text(message.content)
        found = material_links(text)
        person = db.scalar(select(Person).where(Person.email == message.to_address))
        for material_id in found:
            material = db.get(Material, material_id)
            access = policy.session_access(db, person, material.session) if person else None
            if access is None or not access.can_see_material(material):
                wrong.append(f"{message.kind} mail to {message.to_address}: material {material_id}")
        linked |= {(message.to_address, material_id) for material_id in found}
        titled |= message.session_id == leaky.joint_id and leak_world.MATERIAL_PUBLIC in text
    assert not wrong, "\n".join(wrong)
    secret = leaky.material_ids[0]
    assert ("chair.support@example.jp", secret) in linked
    # Convened to the joint session, but not entitled to its confidential item: no link.
    assert not [a for a, m in linked if m == secret and a == "member.both@example.jp"]
    assert any(a == "member.both@example.jp" for a, _m in linked)
    assert titled


@pytest.mark.parametrize("role_name", list(ROLES))
def test_no_materials_zip_leaks_to(role_name, app, client, world, leaky):
    """Every session's ZIP of materials for each role: the names and the content of its
    files hold no canary the role may not read; positive controls where they may."""
    role = ROLES[role_name]
    if role.email:
        login(client, role.email)
    seen: dict[int, str] = {}
    for session_id in leaky.session_ids:
        response = client.get(f"/sessions/{session_id}/materials.zip")
        assert response.status_code in (200, 302, 404), (session_id, response.status_code)
        if response.status_code != 200:
            continue
        archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
        assert archive.testzip() is None
        parts = [name for name in archive.namelist()]
        parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        text = response_text(response) + "\n" + "\n".join(parts)
        seen[session_id] = text
        leaks = leaked(text, role.forbidden)
        assert not leaks, f"{role_name}: ZIP of session {session_id} shows {leaks}"
    for wanted in ZIP_CONTROLS.get(role_name, ()):
        assert wanted in seen.get(leaky.joint_id, ""), (role_name, wanted)
    if not role.email:
        assert seen == {}


# What each role's ZIP of the joint session must hold (positive controls).
ZIP_CONTROLS = {
    "secretary": (
        f"{leak_world.MATERIAL_SECRET}-CONTENT",
        f"{leak_world.MATERIAL_ATTENDEES}-CONTENT",
        f"{leak_world.MATERIAL_PUBLIC}-CONTENT",
        "資料1_",
    ),
    "kyogitai.only": (
        f"{leak_world.MATERIAL_ATTENDEES}-CONTENT",
        f"{leak_world.MATERIAL_NARROWED}-CONTENT",
    ),
    "admin": (f"{leak_world.MATERIAL_PUBLIC}-CONTENT",),
}


def test_the_convening_notice_preview_shows_public_titles_only(client, world, leaky):
    """The pledged secretary reads every item on the pages; the message the preview shows
    (what everyone convened receives) and the printed letters carry public titles only."""
    login(client, "secretary@example.jp")
    page = client.get(f"/sessions/{leaky.prepared_id}/convene")
    assert page.status_code == 200
    text = response_text(page)
    message = text.split('class="mail-preview"', 1)[1].split("</div>", 1)[0]
    assert leaked(message, NOT_PUBLIC) == []
    for wanted in (leak_world.PREPARED_TITLE, leak_world.PREPARED_ITEM_TITLE, CLOSED):
        assert wanted in message, wanted
    recipients = text.split('id="recipients-heading"', 1)[1].split("</section>", 1)[0]
    assert leak_world.PREPARED_GUEST_EMAIL in recipients
    assert leak_world.PARTICIPANT in recipients
    for session_id, public in (
        (leaky.prepared_id, leak_world.PREPARED_ITEM_TITLE),
        (leaky.joint_id, leak_world.PUBLIC_TITLE),
    ):
        letters = client.get(f"/sessions/{session_id}/letters?all=1")
        assert letters.status_code == 200
        printed = response_text(letters)
        assert leaked(printed, NOT_PUBLIC) == [] and public in printed and CLOSED in printed


def test_world_is_what_the_leak_test_assumes(world, leaky):
    """The pledges, invitees and statuses the roles above rely on."""
    pledged = {p.person.email for p in world.scalars(select(Pledge))}
    # member.both and the second secretary: none; the member not convened: one.
    assert pledged == {*leak_world.PLEDGED, leak_world.UNCALLED}
    assert leak_world.UNCALLED in leaky.joint_invitees
    selected = world.get(MeetingSession, leaky.selected_id)
    convened = {i.person.email for i in scheduling.invitees(world, selected)}
    assert convened == set(leak_world.CONVENED)
    assert [p.person.email for p in selected.participants] == [leak_world.PARTICIPANT]
    assert {"member.kyogitai@example.jp", "member.both@example.jp"} <= leaky.joint_invitees
    assert "admin@example.jp" not in leaky.joint_invitees
    # The 協議体-only member sits in the 支援調整会議 + 協議体 session, on no 支援調整会議.
    assert leak_world.KYOGITAI_ONLY in leaky.coordination_invitees
    only = person_by_email(world, leak_world.KYOGITAI_ONLY)
    assert all(m.person_id != only.id for m in body_named(world, COORDINATION).memberships)
    assert leaky.guest_ids and len(leaky.series_session_ids) == 3
    assert today() < DAY - timedelta(days=1)  # the sessions lie ahead: feeds and pages show them
    # Convened by their notices, or as sessions from before them; one still being prepared,
    # which every member of the 協議体 would be invited to, the participant and a guest too.
    for session_id in (*leaky.series_session_ids, leaky.solo_id):
        session = world.get(MeetingSession, session_id)
        assert session.status == Status.CONVENED and session.convened_at is not None
    prepared = world.get(MeetingSession, leaky.prepared_id)
    assert prepared.status == Status.PREPARED and prepared.convened_at is None
    invited = {i.person.email for i in scheduling.invitees(world, prepared)}
    assert {"member.kyogitai@example.jp", leak_world.KYOGITAI_ONLY, leak_world.UNCALLED} <= invited
    assert [p.person.email for p in prepared.participants] == [leak_world.PARTICIPANT]
    assert leak_world.PREPARED_GUEST_EMAIL in {g.email for g in prepared.guests}
    assert not any(m.session_id == prepared.id for m in world.scalars(select(MailMessage)))


# --- Search ---------------------------------------------------------------------------------
#
# Every canary is searched for as every role with a login. What the search page shows of
# its results (the summary, the kinds found, the bodies offered and the results) holds no
# canary the role may not read, and for a canary the role may not read the page's numbers
# are those of a word nobody wrote: a closed item's existence shows in no count, facet or
# page number. The box echoes what was typed, so only the results part of the page is read.

NONSENSE = "NONSENSE-WORD-zq9x"
SEARCHED = tuple(
    sorted(
        {
            *CONFIDENTIAL,
            *leak_world.ATTENDEES,
            *BODY,
            *SELECTED,
            *SELECTED_MEMBERS,
            *POLLS,
            *PREPARED,
            leak_world.REFERRAL_SENDER_NOTE,
            leak_world.REFERRAL_MEETING_NOTE,
            leak_world.PUBLIC_TITLE,
        }
    )
)
RESULTS_PART = re.compile(r'<p class="search-summary">.*?(?=</main>)', re.S)
# What a role must find (positive controls: the search reaches the world at all).
MUST_FIND = {
    "secretary": (leak_world.JOINT_TITLE, leak_world.MATERIAL_SECRET, leak_world.CASE3_TITLE),
    "member.kyogitai": (leak_world.ATTENDEES_TITLE, leak_world.PUBLIC_TITLE),
    "participant": (leak_world.CASE2_TITLE,),
    "admin": (leak_world.PUBLIC_TITLE,),
}


def search_results(client, text: str) -> str:
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200, (text, response.status_code)
    found = RESULTS_PART.search(response.get_data(as_text=True))
    assert found, text
    return readable(found.group(0))


def numbers(results: str) -> list[str]:
    """The page's counts, facets and page numbers, without the words searched for."""
    return re.findall(r"\d+件|（\d+）|\d+ページ", results)


@pytest.mark.parametrize("role_name", [name for name, role in ROLES.items() if role.email])
def test_search_finds_only_what_the_role_may_read(role_name, app, client, world, leaky):
    role = ROLES[role_name]
    login(client, role.email)
    nothing = numbers(search_results(client, NONSENSE))
    failures = []
    for canary in SEARCHED:
        results = search_results(client, canary)
        failures += [f"{canary}: shows {c}" for c in leaked(results, role.forbidden)]
        if canary in role.forbidden and numbers(results) != nothing:
            failures.append(f"{canary}: counts {numbers(results)} differ from {nothing}")
    for canary in MUST_FIND.get(role_name, ()):
        if canary not in search_results(client, canary):
            failures.append(f"{canary}: not found (positive control)")
    assert not failures, "\n".join(failures)
