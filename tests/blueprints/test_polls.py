"""Date polls through the pages, the personal link and the CLI: making a poll (and what is
refused, in Japanese, with nothing written), answering from the home page and through the
link (own row only), the result with quorum per body, deciding a slot (the session is
prepared, and its convening notice sends the invitations through a real SMTP server),
reminders and the CSV."""

import re
from datetime import time, timedelta

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import (
    Choice,
    MeetingSession,
    Poll,
    PollAnswer,
    PollAnswerChange,
    PollStatus,
)
from renkei.services import polls
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.polls_helpers import DAYS, answer_all, make_poll, person_named
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, shown

FUMI = "民生 ふみ"  # a member of both bodies without a login
FUMI_EMAIL = "fumi@example.jp"
LINK = re.compile(r"https://renkei\.example\.jp/polls/answer/([A-Za-z0-9_\-]+)")


@pytest.fixture
def fumi(world):
    person = person_named(world, FUMI)
    person.email = FUMI_EMAIL
    world.commit()
    return person


def ja(app, text, **variables) -> str:
    """What the page shows for an interface string, in Japanese."""
    with app.test_request_context(), force_locale("ja"):
        return str(escape(gettext(text, **variables)))


def poll_form(world, *body_names, slots=(), **extra) -> dict:
    bodies = [body_named(world, name) for name in body_names]
    data = {
        "title": "1月合同会議の日程",
        "body_ids": [b.id for b in bodies],
        "host_body_id": bodies[0].id,
        "deadline": "",
        "comment": "ご都合をお知らせください。",
        **extra,
    }
    for n, (day, start, end) in enumerate(slots):
        data.update({f"slots-{n}-day": day, f"slots-{n}-start": start, f"slots-{n}-end": end})
    return data


SLOTS = [(d.isoformat(), "14:00", "16:00") for d in DAYS]


def answer_form(poll, *marks, **extra) -> dict:
    return {**{f"slot-{s.id}": m for s, m in zip(poll.slots, marks, strict=True)}, **extra}


def link_for(app, world, poll, person) -> str:
    with app.app_context():
        token = polls.issue_link(world, poll, person)
    world.commit()
    return f"/polls/answer/{token}"


# --- Making a poll ------------------------------------------------------------------------


def test_secretary_makes_a_joint_poll_and_invitees_are_asked_by_mail(
    app, as_secretary, world, smtp, fumi
):
    response = as_secretary.post("/polls/new", data=poll_form(world, SUPPORT, LAYER1, slots=SLOTS))
    assert response.status_code == 302, response.get_data(as_text=True)
    poll = world.scalar(select(Poll))
    assert response.headers["Location"] == f"/polls/{poll.id}"
    assert len(poll.slots) == 3 and len(poll.invitees) == 11
    page = as_secretary.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "日程調整" in page and "定足数" in page and "みどり町支援会議" in page

    received = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    assert set(received) == {
        "secretary@example.jp", "chair.support@example.jp", "chair.kyogitai@example.jp",
        "member.both@example.jp", "member.kyogitai@example.jp", FUMI_EMAIL}  # fmt: skip
    member_text = received["member.both@example.jp"].get_body().get_content()
    assert "日程調整：1月合同会議の日程" in str(received["member.both@example.jp"]["Subject"])
    assert f"https://renkei.example.jp/polls/{poll.id}" in member_text
    assert not LINK.search(member_text)  # with a login: the poll's page, no personal link
    fumi_text = received[FUMI_EMAIL].get_body().get_content()
    token = LINK.search(fumi_text).group(1)
    assert f"{shown(DAY, time(14))}–16:00" in fumi_text
    assert token not in "".join(world.scalars(select(polls.PollLink.token_hash)))
    assert as_secretary.get(f"/polls/answer/{token}").status_code == 200


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ([], "Give at least one candidate slot."),
        ([(DAY.isoformat(), "16:00", "14:00")], "Slot %(n)d must end after it starts."),
        (
            [(DAY.isoformat(), "14:00", "16:00"), ("2025-01-06", "14:00", "16:00")],
            "Slot %(n)d is in the past.",
        ),  # fmt: skip
        ([(DAY.isoformat(), "14:00", "")], "Slot %(n)d: give the date, start and end."),
        ([("2026-02-30", "14:00", "16:00")], "Enter a date such as 2026-04-01."),
    ],
)
def test_bad_polls_are_refused_in_japanese_and_nothing_is_written(
    app, as_secretary, world, smtp, slots, message
):
    response = as_secretary.post("/polls/new", data=poll_form(world, SUPPORT, slots=slots))
    assert response.status_code == 400
    expected = ja(app, message, n=len(slots))
    assert expected in response.get_data(as_text=True)
    assert re.search(r"[\u3040-\u30ff]", expected)  # the message really is Japanese
    assert count(world, Poll) == 0 and smtp.messages == []


def test_a_member_who_is_not_secretary_cannot_make_a_poll(client, world):
    login(client, "member.both@example.jp")
    assert client.get("/polls/new").status_code == 403
    assert client.post("/polls/new", data=poll_form(world, SUPPORT, slots=SLOTS)).status_code == 403


# --- Answering from the home page ---------------------------------------------------------


def test_member_answers_from_the_home_page_and_changes_the_answer(app, client, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    login(client, "member.both@example.jp")
    home = client.get("/").get_data(as_text=True)
    assert f"/polls/{poll.id}" in home and "回答を待っている日程調整" in home and "未回答" in home
    other = person_by_email(world, "chair.support@example.jp")
    # A person id posted along is not read: one answers for oneself only.
    form = answer_form(poll, "yes", "maybe", "no", comment="午後なら", person_id=other.id)
    assert client.post(f"/polls/{poll.id}/answer", data=form).status_code == 302
    assert client.post(f"/polls/{poll.id}/answer",
                       data=answer_form(poll, "yes", "yes", "no")).status_code == 302  # fmt: skip
    member = person_by_email(world, "member.both@example.jp")
    answers = world.scalars(select(PollAnswer)).all()
    assert {a.person_id for a in answers} == {member.id}
    assert {a.slot_id: a.choice for a in answers}[poll.slots[1].id] == Choice.YES
    assert count(world, PollAnswerChange) == 4
    assert "回答済み" in client.get("/").get_data(as_text=True)
    # The member sees the counts, not the others' rows.
    answer_all(world, poll, other, "no", "no", "no", comment="CANARY-他人のコメント")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "CANARY-他人のコメント" not in page and other.name not in page
    # The secretary sees everyone's rows and the history of changes.
    login(client, "secretary@example.jp")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "CANARY-他人のコメント" in page and "回答の変更履歴" in page
    assert "△ → ○" in page


@pytest.mark.parametrize(
    ("marks", "extra", "message"),
    [
        (("yes", "yes", ""), {}, "Answer every candidate slot."),
        (("yes", "yes", "sometimes"), {}, "Choose ○, △ or × for every candidate slot."),
        (
            ("yes", "yes", "yes"),
            {"slot-99999": "yes"},
            "This candidate slot is not part of the poll.",
        ),
        (("yes", "yes", "yes"), {"comment": "長" * 501}, "Use at most %(max)d characters."),
    ],
)
def test_bad_answers_are_refused_in_japanese_and_nothing_is_written(
    app, client, world, marks, extra, message
):
    poll = make_poll(world, SUPPORT)
    login(client, "member.both@example.jp")
    response = client.post(f"/polls/{poll.id}/answer", data=answer_form(poll, *marks, **extra))
    assert response.status_code == 400
    assert ja(app, message, max=500) in response.get_data(as_text=True)
    assert count(world, PollAnswer) == count(world, PollAnswerChange) == 0


def test_an_answer_without_csrf_token_is_refused(client, world):
    poll = make_poll(world, SUPPORT)
    login(client, "member.both@example.jp")
    response = client.post(f"/polls/{poll.id}/answer", data=answer_form(poll, "yes", "yes", "yes"),
                           csrf=False)  # fmt: skip
    assert response.status_code == 400 and "ページの有効期限が切れました" in response.get_data(
        as_text=True
    )
    assert count(world, PollAnswer) == 0


def test_a_poll_does_not_exist_for_those_not_asked(client, world):
    """A 支援会議 poll is neither shown to a 協議体-only member nor to an administrator: its
    title and dates could say who is discussed."""
    poll = make_poll(world, SUPPORT, title="CANARY-支援会議の日程")
    for email in ("member.kyogitai@example.jp", "admin@example.jp"):
        login(client, email)
        for path in (f"/polls/{poll.id}", f"/polls/{poll.id}/export.csv"):
            response = client.get(path)
            assert response.status_code == 404, (email, path)
            assert "CANARY" not in response.get_data(as_text=True)
        posted = client.post(
            f"/polls/{poll.id}/answer", data=answer_form(poll, "yes", "yes", "yes")
        )
        assert posted.status_code == 404
        assert "CANARY" not in client.get("/polls/").get_data(as_text=True)
        assert "CANARY" not in client.get("/").get_data(as_text=True)
    assert count(world, PollAnswer) == 0


# --- The personal link --------------------------------------------------------------------


def test_personal_link_answers_only_its_holders_row(app, client, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    fumi = person_named(world, FUMI)
    other = person_by_email(world, "member.both@example.jp")
    answer_all(world, poll, other, "no", "no", "no", comment="CANARY-兼務さんのコメント")
    path = link_for(app, world, poll, fumi)
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert FUMI in text and poll.title in text and shown(DAY, time(14)) in text
    # No one else's name, answer or comment; no quorum or counts.
    for shown_elsewhere in (other.name, "CANARY-兼務さんのコメント", "支援 一郎", "定足数"):
        assert shown_elsewhere not in text
    form = answer_form(poll, "yes", "maybe", "no", comment="午前は不可", person_id=other.id)
    response = client.post(path, data=form)
    assert response.status_code == 302
    mine = polls.answers_of(world, poll, fumi)
    assert [mine[s.id] for s in poll.slots] == [Choice.YES, Choice.MAYBE, Choice.NO]
    theirs = polls.answers_of(world, poll, other)
    assert set(theirs.values()) == {Choice.NO}  # untouched
    change = world.scalars(select(PollAnswerChange).where(PollAnswerChange.person_id == fumi.id))
    assert {c.by_id for c in change} == {None}
    login(client, "secretary@example.jp")
    assert "個人用リンク" in client.get(f"/polls/{poll.id}").get_data(as_text=True)


def test_forged_expired_and_closed_links_are_refused_and_write_nothing(app, client, world):
    poll = make_poll(world, SUPPORT)
    fumi = person_named(world, FUMI)
    path = link_for(app, world, poll, fumi)
    form = answer_form(poll, "yes", "yes", "yes")

    def refused(target, status, message):
        for response in (client.get(target), client.post(target, data=form)):
            text = response.get_data(as_text=True)
            assert response.status_code == status, target
            assert ja(app, message) in text and "Traceback" not in text
            assert poll.title not in text
        assert count(world, PollAnswer) == 0

    invalid = "The link is not valid. Please check that you opened the whole link from the e-mail, or contact the secretariat."  # noqa: E501
    closed = "The date poll is closed or its deadline has passed, so answers can no longer be given or changed. Please contact the secretariat."  # noqa: E501
    refused(path[:-2] + "xx", 404, invalid)
    refused("/polls/answer/" + "a" * 300, 404, invalid)
    poll.deadline_at = utcnow() - timedelta(minutes=1)
    world.commit()
    refused(path, 410, closed)
    poll.deadline_at = None
    poll.status = PollStatus.DECIDED
    world.commit()
    refused(path, 410, closed)


# --- Deciding -----------------------------------------------------------------------------


def test_deciding_a_slot_prepares_the_session_and_its_convening_notice_sends_the_invitations(
    app, as_secretary, world, smtp
):
    poll = make_poll(world, SUPPORT, LAYER1)
    answer_all(world, poll, person_by_email(world, "member.both@example.jp"), "yes", "no", "yes")
    answer_all(world, poll, person_named(world, "介護 由美"), "yes", "no", "maybe")
    response = as_secretary.post(
        f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[1].id, "place": "役場 大会議室"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session = world.scalar(select(MeetingSession))
    assert response.headers["Location"] == f"/sessions/{session.id}/convene"
    assert session.start_at == poll.slots[1].start_at and session.place == "役場 大会議室"
    assert {b.name for b in session.bodies} == {SUPPORT, LAYER1}
    assert session.status.value == "prepared" and smtp.messages == []  # nothing sent yet
    world.refresh(poll)
    assert poll.status == PollStatus.DECIDED and poll.session_id == session.id

    # The convening notice: whom it goes to, and its text, before it is sent.
    preview = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert ja(app, "The date has been decided and the session saved as being prepared. "
              "Read the convening notice and send it.") in preview  # fmt: skip
    assert "member.kyogitai@example.jp" in preview and "介護 由美" in preview  # no address
    assert ja(app, "You are invited to the following session.") in preview
    assert "役場 大会議室" in preview.split('id="message-heading"')[1]
    sent = as_secretary.post(f"/sessions/{session.id}/convene", data={})
    assert sent.status_code == 302
    invited = {m["To"].addresses[0].addr_spec for m in smtp.messages}
    assert invited == {
        "chair.support@example.jp", "chair.kyogitai@example.jp",
        "member.both@example.jp", "member.kyogitai@example.jp"}  # fmt: skip
    message = smtp.to("member.both@example.jp")[0]
    attachments = [p.get_filename() for p in message.iter_attachments()]
    assert attachments == ["invite.ics"]
    assert "1月合同会議の日程" in str(message["Subject"])

    page = as_secretary.get(f"/polls/{poll.id}").get_data(as_text=True)
    declined = page.split('id="declined"')[1].split("</section>")[0]
    assert "兼務 三郎" in declined and "介護 由美" in declined
    assert f"/sessions/{session.id}" in page
    # Answering a decided poll: refused, in Japanese.
    login(as_secretary, "member.both@example.jp")
    refused = as_secretary.post(
        f"/polls/{poll.id}/answer", data=answer_form(poll, "yes", "yes", "yes")
    )
    assert refused.status_code == 400
    assert ja(app, "This poll has been decided: answers can no longer be changed.") in (
        refused.get_data(as_text=True)
    )


def test_deciding_a_past_slot_is_refused_and_nothing_is_written(app, as_secretary, world, smtp):
    poll = make_poll(world, SUPPORT)
    poll.slots[0].start_at = utcnow() - timedelta(hours=2)
    poll.slots[0].end_at = utcnow() - timedelta(hours=1)
    world.commit()
    response = as_secretary.post(f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[0].id})
    assert response.status_code == 400
    message = "This candidate slot has already begun or passed: choose another one."
    assert ja(app, message) in response.get_data(as_text=True)
    assert count(world, MeetingSession) == 0 and smtp.messages == []
    world.refresh(poll)
    assert poll.status == PollStatus.OPEN


def test_only_the_secretariat_decides(client, world):
    poll = make_poll(world, SUPPORT)
    login(client, "chair.support@example.jp")
    response = client.post(f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[0].id})
    assert response.status_code == 403
    assert count(world, MeetingSession) == 0


# --- Reminders and the CSV ----------------------------------------------------------------


def test_reminders_go_to_those_who_have_not_answered_by_button_and_by_cli(
    app, as_secretary, world, smtp, fumi
):
    poll = make_poll(world, SUPPORT, deadline=(utcnow() + timedelta(days=1)).date())
    answer_all(world, poll, person_by_email(world, "member.both@example.jp"), "yes", "yes", "yes")
    assert as_secretary.post(f"/polls/{poll.id}/remind", data={}).status_code == 302
    reminded = {m["To"].addresses[0].addr_spec for m in smtp.messages}
    assert reminded == {"secretary@example.jp", "chair.support@example.jp", FUMI_EMAIL}
    assert "【催促】" in str(smtp.to(FUMI_EMAIL)[0]["Subject"])
    token = LINK.search(smtp.to(FUMI_EMAIL)[0].get_body().get_content()).group(1)
    assert as_secretary.get(f"/polls/answer/{token}").status_code == 200
    # The CLI (for cron) sends today's reminder once: the button already did.
    smtp.clear()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-poll-reminders", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "polls: 1, reminders queued: 0, already queued earlier: 3" in result.output
    assert smtp.messages == []


def test_cli_reminds_of_polls_due_soon(app, world, smtp, fumi):
    soon = make_poll(world, SUPPORT, deadline=(utcnow() + timedelta(days=1)).date())
    make_poll(world, LAYER1, deadline=(utcnow() + timedelta(days=20)).date(), title="先の話")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-poll-reminders", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "polls: 1, reminders queued: 4" in result.output
    assert all(soon.title in str(m["Subject"]) for m in smtp.messages)
    assert len(smtp.messages) == 4


def test_csv_export_has_a_bom_the_answers_and_quorum_per_body(app, as_secretary, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    answer_all(world, poll, person_by_email(world, "member.both@example.jp"), "yes", "maybe", "no",
               comment="=HYPERLINK(1)")  # fmt: skip
    response = as_secretary.get(f"/polls/{poll.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(f"名前,会議体,{shown(DAY, time(14))}–16:00")
    row = next(line for line in lines if line.startswith("兼務 三郎"))
    assert row.endswith(",○,△,×,'=HYPERLINK(1)")
    assert any(line.startswith(f"定足数（○）,{SUPPORT},不成立 1/4") for line in lines)
    assert any(line.startswith(f"定足数（○△）,{LAYER1},不成立 1/4") for line in lines)
    login(as_secretary, "member.both@example.jp")
    assert as_secretary.get(f"/polls/{poll.id}/export.csv").status_code == 403


def test_answering_after_the_deadline_is_refused_in_japanese(app, client, world):
    poll = make_poll(world, SUPPORT)
    poll.deadline_at = utcnow() - timedelta(minutes=1)
    world.commit()
    login(client, "member.both@example.jp")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert ja(app, "This poll no longer takes answers.") in page
    response = client.post(f"/polls/{poll.id}/answer", data=answer_form(poll, "yes", "yes", "yes"))
    assert response.status_code == 400
    assert ja(app, "The deadline for answers has passed.") in response.get_data(as_text=True)
    assert count(world, PollAnswer) == 0
    assert poll.title not in client.get("/").get_data(as_text=True)  # no longer awaiting


def test_a_bad_answer_through_the_link_is_refused_and_writes_nothing(app, client, world):
    poll = make_poll(world, SUPPORT)
    path = link_for(app, world, poll, person_named(world, FUMI))
    response = client.post(path, data=answer_form(poll, "yes", "no", "whenever"))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert ja(app, "Choose ○, △ or × for every candidate slot.") in text
    assert count(world, PollAnswer) == count(world, PollAnswerChange) == 0


# --- Answers heard by telephone -----------------------------------------------------------


def test_the_secretariat_enters_an_answer_heard_by_telephone(client, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    fumi = person_named(world, FUMI)  # no login, no address: she answers by telephone
    login(client, "secretary@example.jp")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "電話や紙で聞いた回答を入力" in page
    form = answer_form(poll, "yes", "no", "maybe", comment="電話で確認", person_id=fumi.id)
    response = client.post(f"/polls/{poll.id}/answer-for", data=form)
    assert response.status_code == 302
    answers = {a.slot_id: a.choice for a in world.scalars(select(PollAnswer))}
    assert answers == {
        poll.slots[0].id: Choice.YES,
        poll.slots[1].id: Choice.NO,
        poll.slots[2].id: Choice.MAYBE,
    }
    secretary = person_by_email(world, "secretary@example.jp")
    change = world.scalars(select(PollAnswerChange)).first()
    assert (change.person_id, change.by_id) == (fumi.id, secretary.id)


def test_only_the_secretariat_enters_answers_for_others(client, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    fumi = person_named(world, FUMI)
    login(client, "member.both@example.jp")
    form = answer_form(poll, "yes", "yes", "yes", person_id=fumi.id)
    assert client.post(f"/polls/{poll.id}/answer-for", data=form).status_code == 403
    login(client, "secretary@example.jp")
    for person_id in ("", "abc", str(person_by_email(world, "admin@example.jp").id), "99999999"):
        form = answer_form(poll, "yes", "yes", "yes", person_id=person_id)
        response = client.post(f"/polls/{poll.id}/answer-for", data=form)
        assert response.status_code == 400
        assert "日程調整で聞いている人から選んでください。" in response.get_data(as_text=True)
    assert count(world, PollAnswer) == 0


# --- Who may still see a poll -------------------------------------------------------------


def test_a_member_who_left_the_bodies_no_longer_sees_the_poll(client, world):
    poll = make_poll(world, SUPPORT, title="支援会議の日程（退任者）")
    member = person_by_email(world, "member.both@example.jp")
    login(client, "member.both@example.jp")
    assert client.get(f"/polls/{poll.id}").status_code == 200
    support = body_named(world, SUPPORT)
    term = next(m for m in support.memberships if m.person_id == member.id)
    term.term_end = polls.today() - timedelta(days=1)
    world.commit()
    assert client.get(f"/polls/{poll.id}").status_code == 404
    assert "支援会議の日程（退任者）" not in client.get("/").get_data(as_text=True)
    assert "支援会議の日程（退任者）" not in client.get("/polls/").get_data(as_text=True)


def test_only_the_secretariat_is_told_of_clashes(client, world):
    """A 支援会議 session at the hour of a 協議体 poll's slot: the 協議体-only member may not
    learn that anything meets then, not even unnamed."""
    from tests.sessions_helpers import make_session

    make_session(world, SUPPORT, title="支援会議（重なり）")
    poll = make_poll(world, LAYER1)
    login(client, "member.kyogitai@example.jp")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "重なっています" not in page and "支援会議（重なり）" not in page
    login(client, "secretary@example.jp")
    assert "重なっています" in client.get(f"/polls/{poll.id}").get_data(as_text=True)


def test_a_poll_past_its_deadline_says_so_until_it_is_decided(app, client, world):
    poll = make_poll(world, SUPPORT)
    login(client, "member.both@example.jp")
    open_label = ja(app, "Open for answers")
    passed = ja(app, "Deadline passed, not yet decided")
    assert open_label in client.get("/polls/").get_data(as_text=True)
    poll.deadline_at = utcnow() - timedelta(minutes=1)
    world.commit()
    for page in (client.get("/polls/"), client.get(f"/polls/{poll.id}")):
        text = page.get_data(as_text=True)
        assert passed in text and open_label not in text


# --- Bad input to the answer and decide forms ---------------------------------------------


def checked(page: str) -> list[str]:
    """The values of the ticked radio buttons, in page order."""
    return re.findall(r'name="slot-\d+" value="(\w+)" checked', page)


def test_an_answer_for_another_polls_slot_is_refused(app, client, world):
    """Someone else's id: a candidate slot of a poll the member is not answering."""
    poll = make_poll(world, SUPPORT)
    other = make_poll(world, SUPPORT, title="別の日程")
    login(client, "member.both@example.jp")
    form = answer_form(poll, "yes", "yes", "yes", **{f"slot-{other.slots[0].id}": "no"})
    response = client.post(f"/polls/{poll.id}/answer", data=form)
    assert response.status_code == 400
    assert ja(app, "This candidate slot is not part of the poll.") in response.get_data(
        as_text=True
    )
    assert count(world, PollAnswer) == count(world, PollAnswerChange) == 0


def test_a_refused_answer_is_shown_as_it_was_typed(app, client, world):
    poll = make_poll(world, SUPPORT)
    login(client, "member.both@example.jp")
    form = answer_form(poll, "no", "maybe", "", comment="午後なら")
    response = client.post(f"/polls/{poll.id}/answer", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ja(app, "Answer every candidate slot.") in page
    mine = page.split('id="my-answer"')[1].split("</section>")[0]
    assert checked(mine) == ["no", "maybe"] and ">午後なら</textarea>" in mine
    path = link_for(app, world, poll, person_named(world, FUMI))
    response = client.post(path, data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert checked(page) == ["no", "maybe"] and ">午後なら</textarea>" in page
    assert count(world, PollAnswer) == 0


def test_an_answer_entered_for_someone_with_too_long_a_comment_is_refused(app, client, world):
    poll = make_poll(world, SUPPORT)
    fumi = person_named(world, FUMI)
    login(client, "secretary@example.jp")
    form = answer_form(poll, "yes", "no", "yes", person_id=fumi.id, comment="長" * 501)
    response = client.post(f"/polls/{poll.id}/answer-for", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ja(app, "Use at most %(max)d characters.", max=500) in page
    entered = page.split('id="answer-for"')[1].split("</section>")[0]
    assert "<details open>" in entered and f'value="{fumi.id}" selected' in entered
    assert checked(entered) == ["yes", "no", "yes"]
    assert count(world, PollAnswer) == count(world, PollAnswerChange) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose one of the candidate slots."),
        ({"slot_id": "abc"}, "Choose one of the candidate slots."),
        ({"slot_id": "99999999999999999999"}, "Choose one of the candidate slots."),
        ({"slot_id": "other"}, "Choose one of the candidate slots."),  # another poll's
        ({"slot_id": "first", "place": "会" * 201}, "Use at most %(max)d characters."),
    ],
    ids=["no-slot", "not-a-number", "beyond-ids", "another-polls-slot", "long-place"],
)
def test_deciding_with_bad_input_is_refused_and_nothing_is_written(
    app, as_secretary, world, smtp, data, message
):
    poll = make_poll(world, SUPPORT)
    other = make_poll(world, SUPPORT, title="別の日程")
    named = {"other": other.slots[0].id, "first": poll.slots[0].id}
    if data.get("slot_id") in named:
        data = {**data, "slot_id": named[data["slot_id"]]}
    response = as_secretary.post(f"/polls/{poll.id}/decide", data=data)
    assert response.status_code == 400
    assert ja(app, message, max=200) in response.get_data(as_text=True)
    assert count(world, MeetingSession) == 0 and smtp.messages == []
    world.expire_all()
    assert {p.status for p in world.scalars(select(Poll))} == {PollStatus.OPEN}
