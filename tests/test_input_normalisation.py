"""Control characters and numbers out of range, through the pages (issue 15 item 7).

Each finding is kept here as it was reported: a CR, LF, VT, FF, information separator or
line/paragraph separator in a session title, a guest's name or a person's name made the
page answer 500 (a mail header or calendar line cannot carry one), and every later form of
that body with it; so did CR or LF in the online-meeting link; and so did a page number in
the audit log, or a minutes section's revision, beyond the integer range. Now the text is
stored on one line (or refused, for the link) and the number is taken for none.
Every form and field at once is the walk's job (tests/test_control_characters.py).
"""

import email
import email.policy
import io
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from renkei.models import (
    AgendaItem,
    Guest,
    MeetingSession,
    MinutesSection,
    Person,
    Poll,
    PollInvitee,
)
from renkei.services import minutes
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, mark_held, session_form

# The characters of the finding, NEL, and NUL (which PostgreSQL refuses in any text).
FINDING = ["\r", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029"]
CHARACTERS = [*FINDING, "\x85", "\x00"]
HUGE = "99999999999999999999"
LINK_REFUSED = "会議のリンクは、空白や改行を含まない1つのアドレスとして入力してください。"
EXPIRED = "フォームの有効期限が切れました。ページを再読み込みしてください。"


@pytest.fixture
def outbox(app):
    """Mail to the outbox folder, each message read back as a mail program would."""
    app.config.update(SMTP_HOST="")
    folder = Path(app.instance_path) / "outbox"

    def messages():
        paths = sorted(folder.iterdir()) if folder.exists() else []
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths
        ]

    return messages


def schedule(client, world, **fields):
    """Post the schedule-a-session form (confirming any warnings); the new session."""
    data = session_form(world, SUPPORT, confirmed="", **fields)
    response = client.post("/sessions/new", data=data)
    if response.status_code == 200:  # a warning to confirm: confirm it as a secretary would
        marker = 'name="confirmed" type="hidden" value="'
        page = response.get_data(as_text=True)
        data["confirmed"] = page.split(marker, 1)[1].split('"', 1)[0]
        response = client.post("/sessions/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    world.expire_all()
    return world.scalar(select(MeetingSession).order_by(MeetingSession.id.desc()).limit(1))


def convene(client, session) -> None:
    """Send the session's convening notice, as its secretary (members see it from then on,
    and those convened are mailed)."""
    response = client.post(f"/sessions/{session.id}/convene", data={})
    assert response.status_code == 302, response.get_data(as_text=True)


def send_notices(client, session) -> None:
    """Send the session's change notices now, rather than after the few minutes' wait."""
    response = client.post(f"/sessions/{session.id}/notices", data={})
    assert response.status_code == 302, response.get_data(as_text=True)


def assert_pages_work(client, session, body) -> None:
    """The session's pages and every session form of its body."""
    for path in (
        f"/sessions/{session.id}",
        f"/sessions/{session.id}/edit",
        f"/sessions/{session.id}/cancel",
        f"/sessions/{session.id}/items/new",
        f"/sessions/new?body={body.id}",
        f"/bodies/{body.id}",
        "/",
    ):
        assert client.get(path).status_code == 200, path


def summary_of(client, session) -> str:
    response = client.get(f"/sessions/{session.id}/invite.ics")
    assert response.status_code == 200
    return str(Calendar.from_ical(response.data).walk("VEVENT")[0]["SUMMARY"])


# --- Titles, names and places ------------------------------------------------------------


def test_a_session_title_with_a_control_character_is_kept_on_one_line(as_secretary, world, outbox):
    body = body_named(world, SUPPORT)
    for n, character in enumerate(CHARACTERS):
        session = schedule(as_secretary, world, title=f"第{n}回{character}定例会")
        convene(as_secretary, session)

        # NUL never reaches a form: the request drops it (renkei.app.NulFree).
        title = f"第{n}回定例会" if character == "\x00" else f"第{n}回 定例会"
        assert session.title == title, repr(character)
        assert summary_of(as_secretary, session) == title
        invitations = [m for m in outbox() if f"第{n}回" in str(m["Subject"])]
        assert invitations and all(title in str(m["Subject"]) for m in invitations)
        # The session's pages, and every session form of its body.
        assert_pages_work(as_secretary, session, body)


def test_a_title_after_normalising_is_what_validation_counts(as_secretary, world, outbox):
    """Only controls: as empty as it will be stored, so refused in Japanese; 200 characters
    with a line break around them: 200, so accepted."""
    before = count(world, MeetingSession)
    data = session_form(world, SUPPORT, title="\x00\r\n\u2028")
    response = as_secretary.post("/sessions/new", data=data)
    assert response.status_code == 400
    assert "件名を入力してください。" in response.get_data(as_text=True)
    assert count(world, MeetingSession) == before

    assert schedule(as_secretary, world, title="\r\n" + "題" * 200 + "\n").title == "題" * 200


def test_place_and_notes_keep_what_is_theirs(as_secretary, world, outbox):
    session = schedule(
        as_secretary,
        world,
        title="Cafe\u0301 会議",  # a decomposed accent is composed (NFC)
        place="役場\r\n第1会議室\x1e",
        notes="一行目\r\n二行目\x0c\u2028\t三行目\x00",
    )
    assert session.title == "Café 会議"
    assert session.place == "役場 第1会議室"
    assert session.notes == "一行目\n二行目\n\t三行目"


def test_a_guest_name_with_a_control_character_is_invited_on_one_line(as_secretary, world, outbox):
    session = make_session(world, SUPPORT)
    for n, character in enumerate(FINDING):
        address = f"guest{n}@example.org"
        response = as_secretary.post(
            f"/sessions/{session.id}/guests",
            data={"name": f"来賓{character}一葉", "email": address, "organisation": "所属"},
        )

        assert response.status_code == 302, (character, response.get_data(as_text=True))
        send_notices(as_secretary, session)
        guest = world.scalar(select(Guest).where(Guest.email == address))
        assert guest.name == "来賓 一葉"
        (invitation,) = [m for m in outbox() if address in str(m["To"])]
        assert invitation["To"].addresses[0].display_name == "来賓 一葉"
    assert_pages_work(as_secretary, session, body_named(world, SUPPORT))
    assert summary_of(as_secretary, session)


def test_a_person_name_with_a_control_character_does_not_break_their_bodys_sessions(
    client, world, outbox
):
    member = person_by_email(world, "member.both@example.jp")
    for n, character in enumerate(FINDING):
        login(client, "admin@example.jp")
        response = client.post(
            f"/people/{member.id}/edit",
            data={"name": f"兼務{character}三郎", "kana": "けんむ さぶろう", "email": member.email},
        )
        assert response.status_code == 302, (character, response.get_data(as_text=True))
        world.expire_all()
        assert member.name == "兼務 三郎"

        login(client, "secretary@example.jp")
        session = schedule(client, world, title=f"定例会{n}")
        convene(client, session)
        invitations = [m for m in outbox() if member.email in str(m["To"])]
        assert invitations[-1]["To"].addresses[0].display_name == "兼務 三郎"
        assert summary_of(client, session) == f"定例会{n}"
    assert_pages_work(client, session, body_named(world, SUPPORT))


def test_new_people_bodies_items_and_polls_are_stored_on_one_line(as_admin, world, outbox):
    assert as_admin.post("/people/new", data={"name": "山田\x0b太郎"}).status_code == 302
    assert world.scalar(select(Person).where(Person.name == "山田 太郎")) is not None

    body = body_named(world, LAYER1)
    data = {"name": "協議体\u2029（第1層）", "kind": body.kind.value, "quorum_rule": "majority"}
    assert as_admin.post(f"/bodies/{body.id}/edit", data=data).status_code == 302
    world.expire_all()
    assert body.name == "協議体 （第1層）"

    login(as_admin, "secretary@example.jp")
    session = make_session(world, SUPPORT)
    item = {
        "title": "議題\x1c一",
        "body_id": body_named(world, SUPPORT).id,
        "visibility": "confidential",
    }
    response = as_admin.post(f"/sessions/{session.id}/items/new", data=item)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert world.scalar(select(AgendaItem.title)) == "議題 一"

    poll = {
        "title": "1月\r\n日程",
        "body_ids": [body_named(world, SUPPORT).id],
        "host_body_id": body_named(world, SUPPORT).id,
        "slots-0-day": DAY.isoformat(),
        "slots-0-start": "14:00",
        "slots-0-end": "16:00",
    }
    assert as_admin.post("/polls/new", data=poll).status_code == 302
    assert world.scalar(select(Poll.title)) == "1月 日程"


def test_a_poll_answers_comment_is_normalised_and_keeps_its_lines(client, world):
    """The poll answer's comment is normalised (by its form, and by the database session
    for any other caller), and a comment typed in a text area keeps its lines."""
    login(client, "secretary@example.jp")
    body = body_named(world, SUPPORT)
    poll = {
        "title": "1月日程",
        "body_ids": [body.id],
        "host_body_id": body.id,
        "slots-0-day": DAY.isoformat(),
        "slots-0-start": "14:00",
        "slots-0-end": "16:00",
    }
    assert client.post("/polls/new", data=poll).status_code == 302
    made = world.scalar(select(Poll))
    answer = {f"slot-{made.slots[0].id}": "yes", "comment": "午後なら\r\n可\x00\u2028以上"}
    assert client.post(f"/polls/{made.id}/answer", data=answer).status_code == 302
    me = person_by_email(world, "secretary@example.jp")
    invitee = world.scalar(
        select(PollInvitee).where(PollInvitee.poll_id == made.id, PollInvitee.person_id == me.id)
    )
    assert invitee.comment == "午後なら\n可\n以上"


def test_an_imported_member_list_is_stored_on_one_line(as_secretary, world):
    body = body_named(world, LAYER1)
    text = '氏名,ふりがな,役割,任期開始\n"山田\n太郎",やまだ\x0bたろう,構成員,2026/04/01\n'
    preview = as_secretary.post(
        f"/bodies/{body.id}/members/import",
        data={"file": (io.BytesIO(text.encode()), "members.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)
    committed = as_secretary.post(f"/bodies/{body.id}/members/import/commit", data={"text": text})
    assert committed.status_code == 302, committed.get_data(as_text=True)
    person = world.scalar(select(Person).where(Person.name == "山田 太郎"))
    assert person is not None and person.kana == "やまだ たろう"


# --- The online-meeting link ---------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://meet.example.jp/room\r\nBcc: x@example.org",
        "https://meet.example.jp/\nroom",
        "https://meet.example.jp/\rroom",
        "https://meet.example.jp/\u2028room",
        "https://meet.example.jp/ room",
        "https://meet.example.jp/\x0broom",
    ],
    ids=repr,
)
def test_a_link_with_a_line_break_or_space_is_refused_in_japanese(as_secretary, world, link):
    before = count(world, MeetingSession)
    response = as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, mode="online", online_url=link)
    )
    assert response.status_code == 400
    assert LINK_REFUSED in response.get_data(as_text=True)
    assert count(world, MeetingSession) == before


def test_a_link_with_a_line_break_is_refused_when_editing_too(as_secretary, world):
    session = make_session(world, SUPPORT, online_url="https://meet.example.jp/a")
    data = session_form(world, SUPPORT, confirmed="", online_url="https://meet.example.jp/\r\nb")
    response = as_secretary.post(f"/sessions/{session.id}/edit", data=data)
    assert response.status_code == 400 and LINK_REFUSED in response.get_data(as_text=True)
    world.expire_all()
    assert session.online_url == "https://meet.example.jp/a"


def test_a_link_with_spaces_around_it_is_taken(as_secretary, world, outbox):
    session = schedule(as_secretary, world, online_url="  https://meet.example.jp/room \r\n")
    assert session.online_url == "https://meet.example.jp/room"
    convene(as_secretary, session)
    assert as_secretary.get(f"/sessions/{session.id}/invite.ics").status_code == 200


# --- Numbers beyond any integer -----------------------------------------------------------


@pytest.mark.parametrize(
    "query", [f"page={HUGE}", "page=2147483648", "page=-3", "page=abc", "page=²", ""]
)
def test_the_audit_log_takes_any_page_number(as_secretary, query):
    response = as_secretary.get(f"/audit/?{query}")
    assert response.status_code == 200


def test_other_pages_take_any_number_in_their_query(as_secretary, world):
    body = body_named(world, SUPPORT)
    for path in (
        f"/audit/?body={HUGE}",
        f"/people/?page={HUGE}",
        f"/bodies/{body.id}?page={HUGE}",
        f"/bodies/new?parent={HUGE}",
        f"/bodies/overlap?a={HUGE}&b=1",
        f"/bodies/{body.id}/members/new?person={HUGE}",
        f"/sessions/new?body={HUGE}",
        f"/apportionment/?person={HUGE}",
        "/apportionment/?person=²",
    ):
        assert as_secretary.get(path).status_code < 500, path


@pytest.mark.parametrize("revision", [HUGE, "2147483648", "-1", "1.5", "²", ""])
def test_a_section_revision_out_of_range_is_an_expired_form(app, as_secretary, world, revision):
    session = make_session(world, SUPPORT, day=DAY)
    mark_held(world, session)
    secretary = person_by_email(world, "secretary@example.jp")
    with app.app_context():
        version = minutes.open_minutes(world, session, by=secretary)
        world.commit()
    section = world.scalar(
        select(MinutesSection).where(MinutesSection.version_id == version.id).limit(1)
    )
    before = (section.text, section.revision)
    prefix = f"s{section.id}"
    response = as_secretary.post(
        f"/minutes/sections/{section.id}",
        data={f"{prefix}-text": "書き換え", f"{prefix}-revision": revision},
    )
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    world.expire_all()
    assert (section.text, section.revision) == before


def test_hand_read_ids_out_of_range_are_ignored(as_secretary, world):
    session = make_session(world, SUPPORT)
    mark_held(world, session)
    attendance = as_secretary.post(
        f"/sessions/{session.id}/attendance", data={"person": [HUGE, "²"], f"presence-{HUGE}": "x"}
    )
    assert attendance.status_code == 400
    order = as_secretary.post(f"/sessions/{session.id}/items/order", data={"order": f"{HUGE},²"})
    assert order.status_code < 500


# --- NUL, which PostgreSQL refuses anywhere -------------------------------------------------


def test_nul_in_a_path_or_query_names_nothing(as_secretary, world):
    assert as_secretary.get("/calendar/%00.ics").status_code == 404
    assert as_secretary.get("/polls/answer/abc%00def").status_code == 404
    assert as_secretary.get("/people/?q=%00").status_code == 200
    assert as_secretary.get("/people/?q=事務%00").status_code == 200


def test_a_title_stored_before_is_still_mailed_on_one_line(as_secretary, world, outbox):
    """Text written before normalisation (here, straight into the table) may hold a line
    break; a message's headers still carry it on one line: the convening notice's, and the
    cancellation's, which names the session as the invitation did."""
    session = make_session(world, SUPPORT, convened=False)
    world.execute(
        MeetingSession.__table__.update()
        .where(MeetingSession.id == session.id)
        .values(title="古い\r\n件名")
    )
    world.commit()
    convene(as_secretary, session)
    invited = [str(m["Subject"]) for m in outbox()]
    assert invited and all("古い 件名" in s for s in invited)
    response = as_secretary.post(
        f"/sessions/{session.id}/cancel", data={"reason": "都合により\r\n中止"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    subjects = [str(m["Subject"]) for m in outbox()]
    assert len(subjects) == 2 * len(invited)
    assert all("古い 件名" in s for s in subjects)
