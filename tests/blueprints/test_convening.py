"""Selected members (選定招集) and participants (関係者) through HTTP: the secretariat's
pages, what each convened and not-convened reader sees, bad input, the audit log."""

from datetime import timedelta

from sqlalchemy import select

from renkei.models import (
    AuditEntry,
    MailMessage,
    Participant,
    Person,
    SelectedMember,
    Selection,
    SessionPledge,
)
from tests.conftest import login
from tests.convening_helpers import CASE2, CASE2_TEXT, CASE3, CASE3_TEXT, OPENING, case_session
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import DAY, SUPPORT, make_session


def _ids(db, *emails):
    return [person_by_email(db, e).id for e in emails]


def _convene(client, db, session, *emails):
    support = body_named(db, SUPPORT)
    return client.post(
        f"/sessions/{session.id}/convene/{support.id}",
        data={"mode": "selected", "person_ids": _ids(db, *emails)},
    )


def _section(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"')[1].split("</section>")[0]


# --- Selected members -----------------------------------------------------------------------


def test_secretary_convenes_selected_members(app, as_secretary, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    form = as_secretary.get(f"/sessions/{session.id}/convene/{support.id}")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert "構成員を選んで招集" in text and "税務 健" in text and "兼務 三郎" in text
    response = _convene(
        as_secretary, world, session, "secretary@example.jp", "chair.support@example.jp"
    )
    assert response.status_code == 302
    page = as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "構成員を選んで招集（2名）" in _section(page, "convening")
    invitees = _section(page, "invitees")
    assert "支援 一郎" in invitees and "兼務 三郎" not in invitees and "税務 健" not in invitees
    # Of those convened, only the chair votes: the quorum is a majority of one.
    assert "定足数は、招集した構成員1名の過半数で数えます。" in page
    entry = world.scalar(select(AuditEntry).where(AuditEntry.action == "convened_selected"))
    assert entry.category == "content" and entry.body_id == support.id
    assert entry.session_id == session.id and "兼務" not in entry.detail


def test_a_pledged_member_not_convened_sees_the_session_but_no_closed_item(app, client, world):
    session = case_session(app, world)
    login(client, "member.both@example.jp")
    before = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert CASE2 in before and CASE3_TEXT in before  # pledged and convened: everything
    secretary = login(app.test_client(), "secretary@example.jp")
    assert _convene(secretary, world, session, "chair.support@example.jp").status_code == 302
    response = client.get(f"/sessions/{session.id}")
    assert response.status_code == 200  # the session exists for every member of the body
    page = response.get_data(as_text=True)
    assert OPENING in page and "非公開議題" in page
    for secret in (CASE2, CASE2_TEXT, CASE3, CASE3_TEXT):
        assert secret not in page
    assert "あなたは招集されていません" in page
    assert 'id="invitees"' not in page and 'id="reply"' not in page
    assert client.get(f"/sessions/{session.id}/invite.ics").status_code == 404
    assert (
        client.post(f"/sessions/{session.id}/reply", data={"answer": "attend"}).status_code == 403
    )
    assert "支援会議 個別ケース検討" not in client.get("/").get_data(as_text=True)
    # The chair, convened, still reads the cases.
    chair = login(app.test_client(), "chair.support@example.jp")
    assert CASE3_TEXT in chair.get(f"/sessions/{session.id}").get_data(as_text=True)


def test_convening_every_member_again_opens_the_session_to_them(app, as_secretary, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    _convene(as_secretary, world, session, "chair.support@example.jp")
    response = as_secretary.post(
        f"/sessions/{session.id}/convene/{support.id}", data={"mode": "all"}
    )
    assert response.status_code == 302
    assert count(world, Selection) == 0 and count(world, SelectedMember) == 0
    member = login(app.test_client(), "member.both@example.jp")
    assert CASE2 in member.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert world.scalar(select(AuditEntry.id).where(AuditEntry.action == "convened_all"))


def test_convening_nobody_is_refused_in_japanese(app, as_secretary, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    response = as_secretary.post(
        f"/sessions/{session.id}/convene/{support.id}", data={"mode": "selected"}
    )
    assert response.status_code == 400
    assert "招集する構成員を1人以上選ぶか、全員を招集してください。" in response.get_data(
        as_text=True
    )
    assert count(world, Selection) == 0


def test_convening_someone_who_is_not_a_member_is_refused(app, as_secretary, world):
    session = case_session(app, world)
    response = _convene(
        as_secretary, world, session, "chair.support@example.jp", "member.kyogitai@example.jp"
    )
    assert response.status_code == 400
    assert "開催日に" in response.get_data(as_text=True)
    assert count(world, Selection) == 0 and count(world, SelectedMember) == 0
    entries = world.scalars(select(AuditEntry.action)).all()
    assert "convened_selected" not in entries


def test_a_member_whose_term_ends_before_the_day_cannot_be_convened(app, as_secretary, world):
    from renkei.models import Membership

    session = case_session(app, world)
    zeimu = world.scalar(select(Person).where(Person.name == "税務 健"))
    term = world.scalar(select(Membership).where(Membership.person_id == zeimu.id))
    term.term_end = DAY - timedelta(days=1)
    world.commit()
    support = body_named(world, SUPPORT)
    response = as_secretary.post(
        f"/sessions/{session.id}/convene/{support.id}",
        data={"mode": "selected", "person_ids": [zeimu.id]},
    )
    assert response.status_code == 400 and count(world, Selection) == 0


def test_only_the_secretariat_chooses(app, client, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    login(client, "chair.support@example.jp")
    assert client.get(f"/sessions/{session.id}/convene/{support.id}").status_code == 403
    response = _convene(client, world, session, "chair.support@example.jp")
    assert response.status_code == 403 and count(world, Selection) == 0
    admin = login(app.test_client(), "admin@example.jp")
    assert _convene(admin, world, session, "chair.support@example.jp").status_code == 403


def test_a_body_the_session_does_not_serve_is_404(app, as_secretary, world, kyogitai):
    session = case_session(app, world)
    assert as_secretary.get(f"/sessions/{session.id}/convene/{kyogitai.id}").status_code == 404


def test_selection_needs_a_csrf_token(app, as_secretary, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    response = as_secretary.post(
        f"/sessions/{session.id}/convene/{support.id}",
        data={"mode": "selected", "person_ids": _ids(world, "chair.support@example.jp")},
        csrf=False,
    )
    assert response.status_code == 400 and count(world, Selection) == 0


# --- Participants ---------------------------------------------------------------------------


def _add(client, session, **data):
    return client.post(f"/sessions/{session.id}/participants/new", data=data)


def _item(session, position):
    return next(i for i in session.items if i.position == position)


def test_a_participant_pledges_and_then_sees_their_item_only(app, as_secretary, world):
    session = case_session(app, world)
    other = make_session(world, SUPPORT, title="支援会議（別の回）", day=DAY + timedelta(days=7))
    sakura = person_by_email(world, "member.kyogitai@example.jp")  # not on the 支援会議
    response = _add(as_secretary, session, person_id=sakura.id, item_ids=[_item(session, 2).id])
    assert response.status_code == 302
    client = login(app.test_client(), "member.kyogitai@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert OPENING in page and CASE2 not in page and CASE3 not in page
    assert "関係者としての出席" in page and "生活困窮者自立支援法" in page
    support = body_named(world, SUPPORT)
    pledged = client.post(f"/sessions/{session.id}/session-pledge/{support.id}", data={})
    assert pledged.status_code == 302
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert CASE2 in page and CASE2_TEXT in page
    assert CASE3 not in page and CASE3_TEXT not in page
    assert 'id="invitees"' not in page  # the members' list is not theirs
    # Nothing else of the 支援会議 is theirs: another session, the body's sessions.
    assert client.get(f"/sessions/{other.id}").status_code == 404
    assert "支援会議（別の回）" not in client.get(f"/bodies/{support.id}").get_data(as_text=True)
    # The pledge and the page view are in the 支援会議's log.
    pledge = world.scalar(select(SessionPledge))
    assert (pledge.person_id, pledge.body_id, pledge.session_id) == (
        sakura.id,
        support.id,
        session.id,
    )
    actions = set(world.scalars(select(AuditEntry.action).where(AuditEntry.body_id == support.id)))
    assert {"participant_added", "session_pledge", "view"} <= actions


def test_a_participant_answers_and_takes_a_calendar_file_without_closed_titles(
    app, as_secretary, world
):
    session = case_session(app, world)
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    _add(as_secretary, session, person_id=sakura.id, item_ids=[_item(session, 2).id])
    client = login(app.test_client(), "member.kyogitai@example.jp")
    support = body_named(world, SUPPORT)
    client.post(f"/sessions/{session.id}/session-pledge/{support.id}", data={})
    assert (
        client.post(f"/sessions/{session.id}/reply", data={"answer": "attend"}).status_code == 302
    )
    assert "支援会議 個別ケース検討" in client.get("/").get_data(as_text=True)  # on their home page
    page = as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    replies = _section(page, "convening")
    assert "出席" in replies and "未回答" not in replies  # the secretariat reads their reply
    ics = client.get(f"/sessions/{session.id}/invite.ics")
    assert ics.status_code == 200
    text = ics.get_data(as_text=True)
    assert OPENING in text and CASE2 not in text and CASE3 not in text


def test_a_new_person_is_registered_as_participant_and_invited(app, as_secretary, world):
    session = case_session(app, world, convened=False)
    assert as_secretary.post(f"/sessions/{session.id}/convene", data={}).status_code == 302
    invited = count(world, MailMessage)
    response = _add(
        as_secretary,
        session,
        name="学校 先生",
        email="teacher@school.example.jp",
        item_ids=[_item(session, 2).id],
        may_read_minutes="y",
    )
    assert response.status_code == 302
    participant = world.scalar(select(Participant))
    assert participant.person.name == "学校 先生" and participant.may_read_minutes
    assert count(world, MailMessage) == invited  # with the change notices, not at once
    sent = as_secretary.post(f"/sessions/{session.id}/notices", data={})
    assert sent.status_code == 302
    messages = world.scalars(select(MailMessage).where(MailMessage.id > invited)).all()
    assert [(m.to_address, m.kind) for m in messages] == [("teacher@school.example.jp", "invite")]
    content = messages[0].content.decode("utf-8", "replace")
    assert "R8-0002" not in content  # encoded or not, no closed title
    page = as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "学校 先生" in _section(page, "convening") and CASE2 in _section(page, "convening")


def test_participant_of_an_item_of_another_session_is_refused(app, as_secretary, world):
    session = case_session(app, world)
    other = case_session(app, world, day=DAY + timedelta(days=7))
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    response = _add(as_secretary, session, person_id=sakura.id, item_ids=[_item(other, 2).id])
    assert response.status_code == 400
    assert "この開催回の議題から選んでください" in response.get_data(as_text=True)
    assert count(world, Participant) == 0


def test_participant_who_is_a_member_of_the_owning_body_is_refused(app, as_secretary, world):
    session = case_session(app, world)
    both = person_by_email(world, "member.both@example.jp")
    response = _add(as_secretary, session, person_id=both.id, item_ids=[_item(session, 2).id])
    assert response.status_code == 400
    assert "構成員として招集してください" in response.get_data(as_text=True)
    assert count(world, Participant) == 0


def test_participant_without_items_or_person_is_refused(app, as_secretary, world):
    session = case_session(app, world)
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    people_before = count(world, Person)
    no_items = _add(as_secretary, session, person_id=sakura.id)
    assert no_items.status_code == 400
    assert "議題を1つ以上選んでください" in no_items.get_data(as_text=True)
    nobody = _add(as_secretary, session, item_ids=[_item(session, 2).id])
    assert nobody.status_code == 400
    assert "人を選ぶか、新しい人の氏名を入力してください" in nobody.get_data(as_text=True)
    assert count(world, Participant) == 0 and count(world, Person) == people_before


def test_an_unpledged_secretary_cannot_assign_an_item_they_cannot_see(app, client, world):
    from renkei.models import Membership, Role

    session = case_session(app, world)
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    tax = world.scalar(select(Person).where(Person.name == "税務 健"))
    tax.email, tax.password_hash = "tax@example.jp", sakura.password_hash
    world.add(
        Membership(
            person=tax,
            body=body_named(world, SUPPORT),
            role=Role.SECRETARY,
            term_start=DAY - timedelta(days=400),
        )
    )
    world.commit()
    login(client, "tax@example.jp")
    response = _add(client, session, person_id=sakura.id, item_ids=[_item(session, 2).id])
    assert response.status_code == 400  # the choice is not offered, and refused if sent
    assert count(world, Participant) == 0


def test_secretary_changes_and_removes_a_participant(app, as_secretary, world):
    session = case_session(app, world)
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    _add(as_secretary, session, person_id=sakura.id, item_ids=[_item(session, 2).id])
    participant = world.scalar(select(Participant))
    form = as_secretary.get(f"/participants/{participant.id}/edit")
    assert form.status_code == 200 and CASE3 in form.get_data(as_text=True)
    items = [_item(session, 2).id, _item(session, 3).id]
    changed = as_secretary.post(f"/participants/{participant.id}/edit", data={"item_ids": items})
    assert changed.status_code == 302
    world.expire_all()
    assert world.get(Participant, participant.id).item_ids == set(items)
    refused = as_secretary.post(f"/participants/{participant.id}/edit", data={})
    assert refused.status_code == 400
    world.expire_all()
    assert world.get(Participant, participant.id).item_ids == set(items)
    removed = as_secretary.post(f"/participants/{participant.id}/delete", data={})
    assert removed.status_code == 302 and count(world, Participant) == 0
    actions = world.scalars(select(AuditEntry.action)).all()
    assert {"participant_changed", "participant_removed"} <= set(actions)
    client = login(app.test_client(), "member.kyogitai@example.jp")
    assert client.get(f"/sessions/{session.id}").status_code == 404


def test_participant_pages_are_the_secretariats(app, as_secretary, world):
    session = case_session(app, world)
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    _add(as_secretary, session, person_id=sakura.id, item_ids=[_item(session, 2).id])
    participant = world.scalar(select(Participant))
    member = login(app.test_client(), "member.both@example.jp")
    assert member.get(f"/sessions/{session.id}/participants/new").status_code == 403
    assert member.get(f"/participants/{participant.id}/edit").status_code == 403
    assert member.post(f"/participants/{participant.id}/delete", data={}).status_code == 403
    outsider = login(app.test_client(), "member.kyogitai@example.jp")
    assert outsider.get(f"/participants/{participant.id}/edit").status_code == 403
    # A pledge for someone else is the secretariat's to record.
    support = body_named(world, SUPPORT)
    other = member.post(
        f"/sessions/{session.id}/session-pledge/{support.id}", data={"person_id": sakura.id}
    )
    assert other.status_code == 403 and count(world, SessionPledge) == 0
    recorded = as_secretary.post(
        f"/sessions/{session.id}/session-pledge/{support.id}", data={"person_id": sakura.id}
    )
    assert recorded.status_code == 302 and count(world, SessionPledge) == 1


def test_a_member_cannot_pledge_as_a_participant(app, world):
    session = case_session(app, world)
    member = login(app.test_client(), "member.both@example.jp")
    support = body_named(world, SUPPORT)
    response = member.post(f"/sessions/{session.id}/session-pledge/{support.id}", data={})
    assert response.status_code == 302 and count(world, SessionPledge) == 0
    page = member.get(response.headers["Location"]).get_data(as_text=True)
    assert "関係者だけです" in page


# --- The convening notice -------------------------------------------------------------------

ALREADY_SENT = "この会議の招集通知は送信済みです。"
STARTED = "この会議は開始時刻を過ぎているため、招集通知は送れません。開催済にして記録してください。"


def _status(db, session):
    db.expire_all()
    found = db.get(type(session), session.id)
    return found.status.value, found.convened_at


def test_the_convening_notice_is_the_secretariats(app, world):
    """A member of the body (or the administrator) may know of a convened session but not
    send its notice (403); of a prepared one they may not know at all (404), nor may a
    member of another body know of either."""
    convened = make_session(world, SUPPORT)
    prepared = make_session(world, SUPPORT, convened=False, day=DAY + timedelta(days=7))
    for name in ("member.both", "chair.support", "admin"):
        client = login(app.test_client(), f"{name}@example.jp")
        for session, status in ((convened, 403), (prepared, 404)):
            url = f"/sessions/{session.id}/convene"
            assert client.get(url).status_code == status, name
            assert client.post(url, data={}).status_code == status, name
        assert client.post(f"/sessions/{convened.id}/notices", data={}).status_code == 403
        assert client.post(f"/sessions/{prepared.id}/notices", data={}).status_code == 404
    outsider = login(app.test_client(), "member.kyogitai@example.jp")  # the 協議体 only
    for session in (convened, prepared):
        assert outsider.get(f"/sessions/{session.id}/convene").status_code == 404
        assert outsider.post(f"/sessions/{session.id}/convene", data={}).status_code == 404
        assert outsider.post(f"/sessions/{session.id}/notices", data={}).status_code == 404
    assert _status(world, prepared) == ("prepared", None)
    assert count(world, MailMessage) == 0


def test_convening_twice_is_refused_and_sends_nothing_again(app, as_secretary, world):
    session = make_session(world, SUPPORT, convened=False)
    url = f"/sessions/{session.id}/convene"
    first = as_secretary.post(url, data={})
    assert first.status_code == 302 and first.headers["Location"] == f"/sessions/{session.id}"
    sent = count(world, MailMessage)
    assert sent == 2  # the chair and 兼務 三郎 (the secretary organises it)
    status, convened_at = _status(world, session)
    assert status == "convened" and convened_at is not None
    for again in (lambda: as_secretary.post(url, data={}), lambda: as_secretary.get(url)):
        response = again()
        assert response.status_code == 302
        page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
        assert ALREADY_SENT in page
    assert count(world, MailMessage) == sent
    assert _status(world, session) == (status, convened_at)
    assert world.scalars(select(AuditEntry.action)).all().count("session_convened") == 1


def test_a_session_already_started_cannot_be_convened(app, as_secretary, world):
    from renkei.db import utcnow

    session = make_session(world, SUPPORT, convened=False)
    session.start_at = utcnow() - timedelta(minutes=10)  # prepared, and the time has come
    session.end_at = utcnow() + timedelta(hours=1)
    world.commit()
    url = f"/sessions/{session.id}/convene"
    for attempt in (lambda: as_secretary.get(url), lambda: as_secretary.post(url, data={})):
        response = attempt()
        assert response.status_code == 302
        page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
        assert STARTED in page
    assert _status(world, session) == ("prepared", None)
    assert count(world, MailMessage) == 0


def test_convening_needs_a_csrf_token(app, as_secretary, world):
    session = make_session(world, SUPPORT, convened=False)
    response = as_secretary.post(f"/sessions/{session.id}/convene", data={}, csrf=False)
    assert response.status_code == 400
    assert _status(world, session) == ("prepared", None)
    assert count(world, MailMessage) == 0
    assert "session_convened" not in world.scalars(select(AuditEntry.action)).all()


def test_send_the_change_notices_with_nothing_waiting_says_so(app, as_secretary, world):
    session = make_session(world, SUPPORT, convened=False)
    as_secretary.post(f"/sessions/{session.id}/convene", data={})
    sent = count(world, MailMessage)
    response = as_secretary.post(f"/sessions/{session.id}/notices", data={})
    assert response.status_code == 302
    page = as_secretary.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "変更を通知する必要のある方はいませんでした。" in page
    assert count(world, MailMessage) == sent
