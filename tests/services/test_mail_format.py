"""The shape of every message: iMIP (RFC 6047) as Exchange sends it, RFC 2047 subjects and
names that keep their spaces in short encoded words, lines any relay passes, and texts in
Japanese that say how to answer."""

import email
import email.policy
import re
from datetime import timedelta
from email.header import decode_header, make_header

import icalendar
import pytest
import vobject
from sqlalchemy import select

from renkei.models import Guest, MailMessage, Membership, Role, SectionKind
from renkei.services import (
    audit_chain,
    calendar,
    logins,
    mail,
    memberships,
    minutes,
    notices,
    polls,
    scheduling,
    series,
)
from renkei.services.dates import today
from renkei.services.mail import compose
from tests.helpers import body_named, person_by_email
from tests.polls_helpers import make_poll
from tests.sessions_helpers import (
    LAYER1,
    SUPPORT,
    make_session,
    mark_held,
    record_attendance,
    session_data,
)

ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:x@example.jp\r\nDTSTAMP:20261201T000000Z\r\n"
    "DTSTART:20261210T050000Z\r\nSUMMARY:地域ケア会議\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


def compose_raw(subject="件名", *, name="兼務 三郎", ics: bytes | None = ICS) -> bytes:
    return compose.message(
        subject=subject,
        body="本文です。\n",
        ics=ics,
        method="REQUEST",
        filename="invite.ics",
        recipient=calendar.Recipient(name, "member@example.jp"),
        organizer=None,
        sender="renkei@example.jp",
    )


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n")[0].decode("ascii")


def raw_field(raw: bytes, name: str) -> str:
    """The field's value as written, its folding line breaks included."""
    found = re.search(rf"^{name}: (.*?)\r\n(?=\S)", header_block(raw) + "\r\nEnd", re.M | re.S)
    assert found, name
    return found[1]


# --- Structure ------------------------------------------------------------------------------


def test_a_calendar_message_is_mixed_alternative_and_attachment(ctx):
    message = parsed(compose_raw())
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, inline = alternative.iter_parts()
    assert text.get_content_type() == "text/plain" and text.get_param("charset") == "utf-8"
    assert text.get_content().splitlines() == ["本文です。"]  # CRLF: the canonical form
    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == "REQUEST" and inline.get_param("charset") == "UTF-8"
    assert inline.get_content_disposition() is None  # shown as the invitation, not a file
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == attachment.get_param("name") == "invite.ics"
    assert inline.get_payload(decode=True) == attachment.get_payload(decode=True) == ICS
    assert [p.get_filename() for p in message.iter_attachments()] == ["invite.ics"]
    event = next(iter(icalendar.Calendar.from_ical(ICS).walk("VEVENT")))
    assert str(event["SUMMARY"]) == "地域ケア会議"
    assert vobject.readOne(inline.get_content()).vevent.summary.value == "地域ケア会議"
    for part in (text, inline, attachment):
        assert part["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
        assert "MIME-Version" not in part
    assert message["MIME-Version"] == "1.0"


def test_a_message_without_calendar_is_plain_text(ctx):
    raw = compose_raw(ics=None)
    message = parsed(raw)
    assert not message.is_multipart()
    assert message.get_content_type() == "text/plain"
    assert message["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert message.get_content().splitlines() == ["本文です。"]


def test_every_line_of_a_message_is_short_and_ascii(ctx):
    """RFC 5322: at most 998 octets a line, 78 where possible; no 8bit data for relays
    without 8BITMIME (a long ics line would otherwise exceed 998)."""
    long_ics = ICS.replace(
        b"SUMMARY:", b"DESCRIPTION:" + "長い説明".encode() * 400 + b"\r\nSUMMARY:"
    )
    raw = compose_raw("長い 件名 " * 40, name="長い 名前 " * 15, ics=long_ics)
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert parsed(raw).get_body(("plain",)).get_content().splitlines() == ["本文です。"]


# --- Subjects ---------------------------------------------------------------------------------

SUBJECTS = [
    "招集：第3回 地域ケア会議 ABC 部会（2025年12月11日（木） 14:00）",
    "日本語 English 日本語 mixed words 連携 Renkei 会議",
    "二重  スペース  と 全角　スペース",
    "ＡＢＣ 全角英字 ｶﾀｶﾅ 半角カナ ABC 半角 １２３ 123 ～ 〜 ①",
    "長い 件名 " * 20,  # 200 characters, spaces every few
    "あ" * 200,
    "支援会議" + "x" * 80 + " 終わり",  # a long ASCII run inside Japanese
    "絵文字 🗓️ と 記号 ™ – —",
    "Plain ASCII subject that is long enough to be folded by the package at its spaces",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_subject_decodes_to_exactly_what_was_written(ctx, subject):
    subject = subject.strip()
    raw = compose_raw(subject)
    written = raw_field(raw, "Subject")
    unfolded = written.replace("\r\n", "")
    assert str(make_header(decode_header(unfolded))) == subject
    assert parsed(raw)["Subject"] == subject
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(written))
    assert all(len(line) <= 78 for line in f"Subject: {written}".split("\r\n"))


def test_a_subject_made_by_compose_keeps_its_spaces(ctx):
    title = "令和8年度 第3回 みどり町 地域ケア 推進会議（ＡＢＣ 部会 / abc 分科会）" * 3
    subject = compose.subject(mail.INVITE, title, "2025年12月11日（木） 14:00")
    assert parsed(compose_raw(subject))["Subject"] == subject


@pytest.mark.parametrize("name", ["兼務 三郎", "山田 太郎（社協）", "Ｙａｍａｄａ ﾀﾛｳ 太郎"])
def test_a_japanese_name_decodes_exactly(ctx, name):
    raw = compose_raw(name=name)
    (to,) = parsed(raw)["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "member@example.jp")
    written = raw_field(raw, "To")
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(written))


def test_a_long_name_is_split_into_short_encoded_words(ctx):
    """Python 3.11's address parser puts a space between adjacent encoded words (cpython
    gh-128110), which RFC 2047 6.2 says to ignore: the RFC's own decoding is checked."""
    name = "北中学校区 生活支援 体制整備 協議体 第2層 事務局 担当 " * 2
    name = name.strip()
    raw = compose_raw(name=name)
    written = raw_field(raw, "To")
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(written))
    assert all(len(line) <= 78 for line in f"To: {written}".split("\r\n"))
    decoded = str(make_header(decode_header(written.replace("\r\n", ""))))
    assert decoded.replace(" <", "<") == f"{name}<member@example.jp>"


# --- Every message the app sends ------------------------------------------------------------

# Two or more ASCII words in a row: an English phrase left untranslated.
ENGLISH = re.compile(r"\b[A-Za-z]+(?:[ \t]+[A-Za-z]+)+\b")
NOT_TEXT = [
    re.compile(r"https?://\S+"),  # page links
    re.compile(r"[\w.+-]+@[\w.-]+"),  # addresses
    re.compile(r"[\w-]+\.ics\b"),  # calendar file names
    re.compile(r"^-- \nRenkei\n?\Z", re.M),  # the signature
    # The audit log's failure notice quotes the command's own output, for the operator to
    # match it with what the command prints.
    re.compile(r"^audit-verify: .*$", re.M),
]
GUEST = "guest@example.jp"
MEMBER = "member.both@example.jp"  # a member with a login


def plain_text(message) -> str:
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    for pattern in NOT_TEXT:
        text = pattern.sub(" ", text)
    return text


@pytest.fixture
def sent(app, world, ctx, smtp, links):
    """Every kind of message the app sends, through its services, delivered over SMTP:
    {MailMessage.kind: [the messages received]}."""
    secretary = person_by_email(world, "secretary@example.jp")
    settings = mail.MailSettings.from_config(app.config, app.instance_path)
    _session_mail(world, secretary, links, settings.sender)
    _series_mail(world, secretary, links, settings.sender)
    _poll_mail(world, secretary, links, settings.sender)
    logins.request_reset(world, MEMBER, links=links, sender=settings.sender)
    _minutes_mail(world, secretary, links, settings.sender)
    _membership_mail(world, secretary, links, settings.sender)
    _anchor_mail(world, settings.sender)
    world.commit()
    mail.deliver(world, settings)
    mail.send_reminders(world, settings, days=3, links=links)
    rows = world.scalars(select(MailMessage).order_by(MailMessage.id)).all()
    by_address = {}
    for received in smtp.received:
        by_address.setdefault(received.rcpt_tos[0], []).append(received.message)
    found: dict[str, list] = {}
    for row in rows:  # in the order sent, to each address
        found.setdefault(row.kind, []).append(by_address[row.to_address].pop(0))
    return found


def _session_mail(world, secretary, links, sender):
    """Convened (invitations), changed (change notices), cancelled (cancellations)."""
    args = {"by": secretary, "links": links, "sender": sender}
    session = make_session(world, SUPPORT, convened=False, title="定例会", place="役場 第1会議室")
    world.add(Guest(session=session, name="外部 講師", email=GUEST))
    world.commit()
    notices.convene(world, session, **args)
    scheduling.update_session(
        world, session, session_data(world, SUPPORT, place="役場 第2会議室"), by=secretary
    )
    notices.send_now(world, session, **args)
    scheduling.cancel_session(world, session, by=secretary)
    notices.send_now(world, session, **args)
    soon = make_session(world, SUPPORT, day=today() + timedelta(days=3))
    world.add(Guest(session=soon, name="外部 講師", email=GUEST))


def _series_mail(world, secretary, links, sender):
    created = series.create_series(
        world,
        session_data(world, LAYER1),
        series.RepeatRule(frequency="weekly", count=3),
        by=secretary,
    )
    notices.convene(world, created.sessions[0], by=secretary, links=links, sender=sender)


def _poll_mail(world, secretary, links, sender):
    poll = make_poll(world, SUPPORT)
    for reminder in (False, True):
        polls.queue_requests(
            world, poll, organizer=secretary, links=links, sender=sender, reminder=reminder
        )


def _minutes_mail(world, secretary, links, sender):
    """Submitted to both chairs, returned by one, submitted again, approved by both."""
    session = make_session(world, SUPPORT, LAYER1, title="合同会議")
    mark_held(world, session)
    record_attendance(world, session)
    version = minutes.open_minutes(world, session, by=secretary)
    decisions = next(s for s in version.sections if s.kind == SectionKind.DECISIONS)
    minutes.save_section(
        world, decisions, "- 次回までに資料を整理する", revision=decisions.revision, by=secretary
    )
    chairs = {
        body_named(world, name).id: person_by_email(world, address)
        for name, address in (
            (SUPPORT, "chair.support@example.jp"),
            (LAYER1, "chair.kyogitai@example.jp"),
        )
    }
    args = {"links": links, "sender": sender}
    minutes.submit(world, version, by=secretary, **args)
    body_id, chair = next(iter(chairs.items()))
    minutes.decide(world, version, body_id, approve=False, comment="修正を", by=chair, **args)
    minutes.submit(world, version, by=secretary, **args)
    for body_id, chair in chairs.items():
        minutes.decide(world, version, body_id, approve=True, by=chair, **args)


def _membership_mail(world, secretary, links, sender):
    support = body_named(world, SUPPORT)
    membership = world.scalar(
        select(Membership).where(Membership.body_id == support.id, Membership.role == Role.MEMBER)
    )
    memberships.announce_to_chairs(
        world,
        support,
        [("added", membership), ("ended", membership)],
        by=secretary,
        sender=sender,
        link=links.body_members(support.id),
    )


def _anchor_mail(world, sender):
    anchor = audit_chain.Anchor(12, "0" * 64, "2026-12-01T09:00:00+09:00")
    for kept, problem in ((anchor, ""), (None, "at entry 3: the log was rewritten")):
        world.add(
            audit_chain.anchor_message(
                "archive@example.jp", anchor=kept, problem=problem, sender=sender
            )
        )


EVERY_KIND = {
    "invite",
    "update",
    "cancel",
    "reminder",
    "poll",
    "poll-reminder",
    "password-reset",
    "minutes_request",
    "minutes_returned",
    "minutes_approved",
    "membership-change",
    "audit_anchor",
}


def test_every_kind_of_message_is_written_in_japanese(sent):
    assert set(sent) >= EVERY_KIND
    english = {
        kind: found
        for kind, messages in sent.items()
        for message in messages
        if (found := ENGLISH.findall(plain_text(message)))
    }
    assert english == {}


def test_every_message_is_well_formed(sent):
    for kind, messages in sent.items():
        for message in messages:
            calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            if calendars:
                assert message.get_content_type() == "multipart/mixed", kind
                assert calendars[0].get_param("method") in ("REQUEST", "CANCEL"), kind
            else:
                assert message.get_content_type() == "text/plain", kind
            assert message["Subject"] and "=?" not in message["Subject"], kind


def test_an_invitation_says_how_to_answer(sent):
    """On the session page's reply form for a member who logs in; by a reply to the
    secretariat for a guest, who has no page; a cancellation asks for no answer."""
    for kind in ("invite", "update", "reminder"):
        (member,) = [m for m in sent[kind] if m["To"].addresses[0].addr_spec == MEMBER][:1]
        text = member.get_body(("plain",)).get_content()
        assert re.search(
            r"出欠は次のページから回答してください：https://\S+/sessions/\d+#reply", text
        )
        guest = [m for m in sent[kind] if m["To"].addresses[0].addr_spec == GUEST]
        if guest:
            text = guest[0].get_body(("plain",)).get_content()
            assert "出欠は、このメールに返信して事務局にお知らせください。" in text
            assert "/sessions/" not in text
    for message in sent["cancel"]:
        assert "出欠" not in message.get_body(("plain",)).get_content()
