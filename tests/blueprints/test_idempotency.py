"""Every create is made once: a form posted twice (a double click, a reload, a second tab)
makes one row and sends the second answer where the first went, with a calm word; two
requests at the same moment make one row too, and the loser answers with the winner's
result, never an error page. No mail is queued twice.

The races are real: two browsers in two threads, each held at its first write until the
other has reached its own (both have read everything, the worst moment), then let go
together; in SQLite the second writer then waits on the database lock, in PostgreSQL on
the row or the unique index.
"""

import io
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from renkei.db import utcnow
from renkei.models import (
    ActionItem,
    AgendaItem,
    Approval,
    Attendance,
    AuditEntry,
    Body,
    FormSubmission,
    Guest,
    MailMessage,
    MeetingSession,
    Membership,
    Minutes,
    MinutesSection,
    MinutesVersion,
    Organisation,
    Person,
    Pledge,
    Poll,
    PollAnswer,
    PollAnswerChange,
    PollStatus,
    Post,
    SectionKind,
    SessionChange,
)
from renkei.services import demo, scheduling, submissions
from tests.blueprints.test_minutes import (  # noqa: F401  (fixtures)
    approve_url,
    approved,
    draft,
    find,
    joint,
    people,
    secretary,
    submit_through_services,
)
from tests.conftest import client_for
from tests.helpers import body_named, count, person_by_email
from tests.polls_helpers import DAYS, make_poll
from tests.sessions_helpers import LAYER1, PAST_DAY, SUPPORT, make_session, session_form

ALREADY = "この内容はすでに保存されています。"
DECIDED = "この日程調整はすでに決定済みです。"
STARTED = "この開催回の議事録はすでに作成されています。"
CONVENED = "招集通知を送りました。"
ALREADY_CONVENED = "この会議の招集通知は送信済みです。"
TOKEN_FIELD = re.compile(r'<input type="hidden" name="form_token" value="([A-Za-z0-9_-]+)">')


def text(response) -> str:
    return response.get_data(as_text=True)


def token_of(page: str, action: str) -> str:
    """The one-time token of the form that posts to ``action`` (or of the page's form that
    posts back to the page, when ``action`` is the page itself)."""
    for attributes, content in re.findall(r"<form([^>]*)>(.*?)</form>", page, re.S):
        target = re.search(r'action="([^"]*)"', attributes)
        if target is None or target.group(1) == action:
            found = TOKEN_FIELD.search(content)
            if found:
                return found.group(1)
    raise AssertionError(f"no form posting to {action} carries a form_token")


def mail_count(world) -> int:
    return count(world, MailMessage)


# --- The same form posted twice -------------------------------------------------------------


@dataclass
class Create:
    """A create form: who fills it in, the page that shows it, where it posts, what it
    posts, and the rows that one submit adds."""

    who: str
    page: Callable  # (world) -> path of the page showing the form
    action: Callable  # (world) -> path the form posts to
    data: Callable  # (world) -> form data
    model: type
    adds: int = 1
    mails: bool = False  # whether it queues mail


def _session(world) -> MeetingSession:
    return world.scalar(select(MeetingSession)) or make_session(world, SUPPORT)


def _new_session(world):
    return f"/sessions/{_session(world).id}"


def _poll_form(world) -> dict:
    data = {
        "title": "1月合同会議の日程",
        "body_ids": [body_named(world, SUPPORT).id, body_named(world, LAYER1).id],
        "host_body_id": body_named(world, SUPPORT).id,
    }
    for n, day in enumerate(DAYS):
        data.update({f"slots-{n}-day": day.isoformat(), f"slots-{n}-start": "14:00"})
        data[f"slots-{n}-end"] = "16:00"
    return data


def _support_id(world) -> int:
    return body_named(world, SUPPORT).id


def _both(world) -> Person:
    return person_by_email(world, "member.both@example.jp")


CREATES = {
    "session": Create(
        "secretary",
        lambda w: "/sessions/new",
        lambda w: "/sessions/new",
        lambda w: session_form(w, SUPPORT),
        MeetingSession,  # prepared: nothing is sent until its convening notice
    ),
    "series": Create(
        "secretary",
        lambda w: "/sessions/new",
        lambda w: "/sessions/new",
        lambda w: session_form(w, SUPPORT, repeat="monthly_by_date", repeat_count="3"),
        MeetingSession,
        adds=3,
    ),
    "poll": Create(
        "secretary",
        lambda w: "/polls/new",
        lambda w: "/polls/new",
        _poll_form,
        Poll,
        mails=True,
    ),
    "guest": Create(
        "secretary",
        _new_session,
        lambda w: f"{_new_session(w)}/guests",
        lambda w: {"name": "来賓 太郎", "email": "guest@example.jp", "organisation": "県"},
        Guest,  # invited with the session's next change notices, not at once
    ),
    "agenda item": Create(
        "secretary",
        lambda w: f"{_new_session(w)}/items/new",
        lambda w: f"{_new_session(w)}/items/new",
        lambda w: {"title": "地域資源の報告", "body_id": _support_id(w), "planned_minutes": "15"},
        AgendaItem,
    ),
    "membership": Create(
        "secretary",
        lambda w: f"/bodies/{_support_id(w)}/members/new",
        lambda w: f"/bodies/{_support_id(w)}/members/new",
        lambda w: {
            "person_id": person_by_email(w, "chair.kyogitai@example.jp").id,
            "role": "member",
            "term_start": "2026-04-01",
        },
        Membership,
        mails=True,  # the 支援会議's chair is told of every change to its members
    ),
    "person": Create(
        "secretary",
        lambda w: "/people/new",
        lambda w: "/people/new",
        lambda w: {"name": "住民 はな", "kana": "じゅうみん はな"},
        Person,
    ),
    "organisation": Create(
        "admin",
        lambda w: "/organisations/new",
        lambda w: "/organisations/new",
        lambda w: {"name": "NPO ひだまり", "kind": "npo"},
        Organisation,
    ),
    "task": Create(
        "secretary",
        lambda w: "/tasks/new",
        lambda w: "/tasks/new",
        lambda w: {
            "body_id": body_named(w, LAYER1).id,
            "text": "通いの場の候補地を調べる",
            "owner_id": f"p{person_by_email(w, 'chair.kyogitai@example.jp').id}",
        },
        ActionItem,
    ),
    "body": Create(
        "admin",
        lambda w: "/bodies/new",
        lambda w: "/bodies/new",
        lambda w: {"name": "みどり町地域ケア会議", "kind": "community_care", "area": "町全域"},
        Body,
    ),
    "post": Create(
        "admin",
        lambda w: f"/people/{_both(w).id}",
        lambda w: f"/people/{_both(w).id}/posts",
        lambda w: {"programme": "care_insurance", "title": "相談支援員", "start_on": "2026-04-01"},
        Post,
    ),
}


@pytest.mark.parametrize("name", CREATES)
def test_a_create_form_posted_twice_creates_once(app, world, name):
    case = CREATES[name]
    client = client_for(app, case.who)
    page = client.get(case.page(world))
    assert page.status_code == 200
    data = {**case.data(world), "form_token": token_of(text(page), case.action(world))}
    before, mails = count(world, case.model), mail_count(world)

    first = client.post(case.action(world), data=data)
    assert first.status_code == 302, text(first)
    made = count(world, case.model), mail_count(world)
    assert made[0] == before + case.adds
    assert (made[1] > mails) == case.mails

    second = client.post(case.action(world), data=data)
    assert second.status_code == 302, text(second)
    assert second.headers["Location"] == first.headers["Location"]
    assert (count(world, case.model), mail_count(world)) == made  # no row, no mail again
    assert ALREADY in text(client.get(second.headers["Location"].split("#")[0]))


def test_a_corrected_form_is_saved_with_the_same_token(app, world):
    """A refused submit records nothing: the corrected form, same token, is saved."""
    client = client_for(app, "admin")
    token = token_of(text(client.get("/bodies/new")), "/bodies/new")
    refused = client.post("/bodies/new", data={"name": "", "kind": "other", "form_token": token})
    assert refused.status_code == 400
    data = {"name": "新しい会議", "kind": "other", "form_token": token}
    assert client.post("/bodies/new", data=data).status_code == 302
    assert body_named(world, "新しい会議") is not None
    assert ALREADY not in text(client.get("/bodies/"))


def test_a_token_is_the_persons_own(app, world):
    """Another person's token (from a copied page) neither sends them to its result nor
    stops them from creating."""
    token, parent = "t" * 32, body_named(world, LAYER1).id  # a secretary adds subcommittees
    data = {"name": "会議 甲", "kind": "consultative_body", "parent_id": parent}
    made = client_for(app, "admin").post("/bodies/new", data={**data, "form_token": token})
    data = {**data, "name": "会議 乙"}
    other = client_for(app, "secretary").post("/bodies/new", data={**data, "form_token": token})
    assert made.status_code == other.status_code == 302
    assert made.headers["Location"] == f"/bodies/{body_named(world, '会議 甲').id}"
    assert other.headers["Location"] == f"/bodies/{body_named(world, '会議 乙').id}"


def test_old_tokens_are_forgotten_when_a_new_one_is_recorded(app, world):
    admin = person_by_email(world, "admin@example.jp")
    now = utcnow()
    with app.app_context():
        submissions.record(world, admin.id, "a" * 32, "/old", now=now - timedelta(days=4))
        submissions.record(world, admin.id, "b" * 32, "/recent", now=now - timedelta(days=1))
        submissions.record(world, admin.id, "c" * 32, "/new", now=now)
        world.commit()
    assert set(world.scalars(select(FormSubmission.result_url))) == {"/recent", "/new"}


def test_a_pledge_posted_twice_is_recorded_once(app, world):
    session = make_session(world, SUPPORT)
    both = client_for(app, "member.both")
    with app.app_context():
        from renkei.services import agenda
        from renkei.services.agenda import ItemData

        agenda.add_item(
            world,
            session,
            ItemData(
                title="個別ケース",
                body_id=_support_id(world),
                planned_minutes=30,
                visibility="confidential",
            ),
            by=person_by_email(world, "secretary@example.jp"),
        )
        world.commit()
    action = f"/sessions/pledge/{_support_id(world)}"
    token = token_of(text(both.get(f"/sessions/{session.id}")), action)
    data = {"next": f"/sessions/{session.id}", "form_token": token}
    first, second = both.post(action, data=data), both.post(action, data=data)
    assert count(world, Pledge) == 1
    assert first.headers["Location"] == second.headers["Location"] == f"/sessions/{session.id}"
    page = text(both.get(f"/sessions/{session.id}"))
    assert ALREADY in page and "守秘義務の確認はすでに記録" not in page


def test_a_member_import_committed_twice_adds_the_members_once(app, world):
    kyogitai = body_named(world, demo.KYOGITAI)
    client = client_for(app, "secretary")
    csv = (
        "氏名,ふりがな,メールアドレス,電話番号,所属機関,役割,任期開始,任期終了\n"
        "山田 太郎,やまだ たろう,yamada@example.jp,,,構成員,2026-04-01,\n"
    )
    preview = client.post(
        f"/bodies/{kyogitai.id}/members/import",
        data={"file": (io.BytesIO(csv.encode()), "members.csv")},
        content_type="multipart/form-data",
    )
    action = f"/bodies/{kyogitai.id}/members/import/commit"
    data = {"text": csv, "form_token": token_of(text(preview), action)}
    before = count(world, Membership)
    first, second = client.post(action, data=data), client.post(action, data=data)
    assert count(world, Membership) == before + 1
    assert first.headers["Location"] == second.headers["Location"]
    assert ALREADY in text(client.get(second.headers["Location"]))


# --- Minutes: a correction, a task, an approval ----------------------------------------------


def test_a_correction_started_twice_is_one_new_version(secretary, world, approved):  # noqa: F811
    session_id = world.get(MinutesVersion, approved).minutes.session_id
    action = f"/sessions/{session_id}/minutes/correct"
    token = token_of(text(secretary.get(f"/sessions/{session_id}/minutes")), action)
    data = {"reason": "誤字の訂正", "form_token": token}
    first, second = secretary.post(action, data=data), secretary.post(action, data=data)
    assert count(world, MinutesVersion) == 2
    assert second.headers["Location"] == first.headers["Location"]
    page = text(secretary.get(second.headers["Location"]))
    assert ALREADY in page and "承認済みの議事録からのみ" not in page


def test_a_task_added_twice_is_one_task(secretary, world, draft):  # noqa: F811
    section = find(world, draft, SectionKind.DECISIONS)
    action = f"/minutes/sections/{section.id}/actions"
    token = token_of(text(secretary.get(f"/minutes/{draft}/edit")), action)
    owner = person_by_email(world, "secretary@example.jp")
    data = {f"a{section.id}-text": "資料を送る", f"a{section.id}-owner_id": owner.id}
    data["form_token"] = token
    first, second = secretary.post(action, data=data), secretary.post(action, data=data)
    assert count(world, ActionItem) == 1
    assert second.headers["Location"] == first.headers["Location"]


def test_an_approval_sent_twice_is_one_approval(app, world, people, draft, links):  # noqa: F811
    submit_through_services(app, world, people, draft, links)
    chair = client_for(app, "chair.kyogitai")
    url = approve_url(world, draft, LAYER1)
    data = {"decision": "approve", "form_token": token_of(text(chair.get(url)), url)}
    first, second = chair.post(url, data=data), chair.post(url, data=data)
    assert count(world, Approval) == 1
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"] == f"/minutes/{draft}"
    assert ALREADY in text(chair.get(second.headers["Location"]))


# --- Creates with a natural key: the second answer is the first's result ---------------------


def test_the_minutes_started_twice_are_one_draft(secretary, world, joint):  # noqa: F811
    first = secretary.post(f"/sessions/{joint.id}/minutes", data={})
    second = secretary.post(f"/sessions/{joint.id}/minutes", data={})
    assert count(world, Minutes) == 1 and count(world, MinutesVersion) == 1
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    page = text(secretary.get(second.headers["Location"]))
    assert STARTED in page and 'class="flash flash-info"' in page


def test_a_poll_decided_twice_schedules_one_session(app, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    client = client_for(app, "secretary")
    first = client.post(f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[0].id})
    mails = mail_count(world)
    second = client.post(f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[0].id})
    assert count(world, MeetingSession) == 1 and mail_count(world) == mails
    assert second.status_code == 302
    (session,) = world.scalars(select(MeetingSession)).all()
    convene = f"/sessions/{session.id}/convene"
    assert second.headers["Location"] == first.headers["Location"] == convene
    assert DECIDED in text(client.get(convene))
    # Once the notice has gone, a decision posted again leads to the poll.
    assert client.post(convene, data={}).status_code == 302
    again = client.post(f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[0].id})
    assert again.headers["Location"] == f"/polls/{poll.id}"
    assert DECIDED in text(client.get(f"/polls/{poll.id}"))


def attendance_form(world, session) -> dict:
    invited = [i.person.id for i in scheduling.invitees(world, session)]
    return {"person": invited, **{f"presence-{pid}": "present" for pid in invited}}


@pytest.fixture
def held(app, world):
    session = make_session(world, SUPPORT, LAYER1, day=PAST_DAY)
    with app.app_context():
        scheduling.set_status(
            world, session, "held", by=person_by_email(world, "secretary@example.jp")
        )
    world.commit()
    return session


def test_attendance_saved_twice_is_one_record(app, world, held):
    client = client_for(app, "secretary")
    data = attendance_form(world, held)
    for _ in range(2):
        assert client.post(f"/sessions/{held.id}/attendance", data=data).status_code == 302
    assert count(world, Attendance) == len(data["person"])


# --- Races ----------------------------------------------------------------------------------


@contextmanager
def meeting_at_first_write(engine, parties: int = 2):
    """Hold each request thread at its first INSERT, UPDATE or DELETE until every party
    has reached its own (or a few seconds have passed: a request that writes nothing must
    not stop the others)."""
    barrier = threading.Barrier(parties)
    held = set()
    main = threading.get_ident()

    def hold(_conn, _cursor, statement, *_args):
        me = threading.get_ident()
        if me == main or me in held:
            return
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            held.add(me)
            with suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


def race(app, *requests):
    """Run the requests (callables) in threads, all at once; their responses. A request
    that raised (the test client passes a 500's exception on) fails the test."""
    answers, errors = [None] * len(requests), []

    def run(index, request):
        try:
            answers[index] = request()
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
    with meeting_at_first_write(app.extensions["renkei.engine"], len(requests)):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    return answers


def poster(client, url, data):
    """A POST ready to run in a thread: the CSRF token is fetched here, beforehand."""
    data = {**data, "csrf_token": client.token()}
    return lambda: client.post(url, data=data)


def recipients_once(world, kind: str) -> list[str]:
    rows = world.execute(
        select(MailMessage.to_address, func.count())
        .where(MailMessage.kind == kind)
        .group_by(MailMessage.to_address)
    ).all()
    assert all(n == 1 for _, n in rows), rows
    return [address for address, _ in rows]


def test_two_decisions_at_once_schedule_one_session_and_invite_once(app, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    url = f"/polls/{poll.id}/decide"
    answers = race(
        app,
        poster(client_for(app, "secretary"), url, {"slot_id": poll.slots[0].id}),
        poster(client_for(app, "secretary"), url, {"slot_id": poll.slots[1].id}),
    )
    assert [a.status_code for a in answers] == [302, 302], [text(a) for a in answers]
    (session,) = world.scalars(select(MeetingSession)).all()
    convene = f"/sessions/{session.id}/convene"
    assert {a.headers["Location"] for a in answers} == {convene}
    world.expire_all()
    assert world.get(Poll, poll.id).status == PollStatus.DECIDED
    assert world.get(Poll, poll.id).session_id == session.id
    assert mail_count(world) == 0  # prepared: invited by its convening notice
    assert client_for(app, "secretary").post(convene, data={}).status_code == 302
    invited = recipients_once(world, "invite")
    assert len(invited) == 4  # the poll's invitees with an address (not the secretary)
    assert world.scalar(select(func.count()).select_from(MailMessage)) == len(invited)


def test_the_same_form_sent_twice_at_once_schedules_one_session(app, world):
    client = client_for(app, "secretary")
    token = token_of(text(client.get("/sessions/new")), "/sessions/new")
    data = {**session_form(world, SUPPORT), "form_token": token}
    other = client_for(app, "secretary")  # the same person, a second connection
    answers = race(app, poster(client, "/sessions/new", data), poster(other, "/sessions/new", data))
    assert [a.status_code for a in answers] == [302, 302], [text(a) for a in answers]
    (session,) = world.scalars(select(MeetingSession)).all()
    assert {a.headers["Location"] for a in answers} == {f"/sessions/{session.id}"}
    assert count(world, MailMessage) == 0  # prepared: nothing is sent yet
    assert count(world, FormSubmission) == 1


def test_the_minutes_started_twice_at_once_are_one_draft(app, world, joint):  # noqa: F811
    url = f"/sessions/{joint.id}/minutes"
    answers = race(
        app,
        poster(client_for(app, "secretary"), url, {}),
        poster(client_for(app, "secretary"), url, {}),
    )
    assert [a.status_code for a in answers] == [302, 302], [text(a) for a in answers]
    (version,) = world.scalars(select(MinutesVersion)).all()
    assert {a.headers["Location"] for a in answers} == {f"/minutes/{version.id}/edit"}
    assert count(world, Minutes) == 1
    assert count(world, MinutesSection) == len(version.sections)


def test_attendance_saved_twice_at_once_is_one_record(app, world, held):
    data = attendance_form(world, held)
    url = f"/sessions/{held.id}/attendance"
    answers = race(
        app,
        poster(client_for(app, "secretary"), url, data),
        poster(client_for(app, "secretary"), url, data),
    )
    assert [a.status_code for a in answers] == [302, 302], [text(a) for a in answers]
    assert count(world, Attendance) == len(data["person"])


def test_a_first_answer_sent_twice_at_once_is_one_answer(app, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    data = {f"slot-{s.id}": "yes" for s in poll.slots}
    url = f"/polls/{poll.id}/answer"
    answers = race(
        app,
        poster(client_for(app, "member.both"), url, data),
        poster(client_for(app, "member.both"), url, data),
    )
    assert [a.status_code for a in answers] == [302, 302], [text(a) for a in answers]
    assert count(world, PollAnswer) == len(poll.slots)
    assert count(world, PollAnswerChange) == len(poll.slots)  # the second changed nothing


def test_two_convening_notices_at_once_invite_once(app, world):
    """The second finds the session convened: it is told so, sends nothing, and the session
    is convened once in its history and in the audit log."""
    session = make_session(world, SUPPORT, LAYER1, convened=False)
    url = f"/sessions/{session.id}/convene"
    clients = [client_for(app, "secretary"), client_for(app, "secretary")]
    answers = race(app, *(poster(client, url, {}) for client in clients))
    assert [a.status_code for a in answers] == [302, 302], [text(a) for a in answers]
    assert {a.headers["Location"] for a in answers} == {f"/sessions/{session.id}"}
    invited = recipients_once(world, "invite")
    assert len(invited) == 4 and count(world, MailMessage) == len(invited)
    assert world.scalars(select(SessionChange.kind)).all().count("convened") == 1
    assert world.scalars(select(AuditEntry.action)).all().count("session_convened") == 1
    said = [text(c.get(a.headers["Location"])) for a, c in zip(answers, clients, strict=True)]
    assert sorted(CONVENED in page for page in said) == [False, True]
    assert sorted(ALREADY_CONVENED in page for page in said) == [False, True]
