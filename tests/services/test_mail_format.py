"""The shape of every message: iMIP (RFC 6047) as Exchange sends it, RFC 2047 subjects and
names that keep their spaces in short encoded words, lines any relay passes, and texts in
Japanese that say how to answer."""

import email
import email.policy
import re
from email.header import decode_header, make_header

import icalendar
import pytest
import vobject

from renkei.services import calendar, mail
from renkei.services.mail import compose

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
    "招集：第3回 地域ケア会議 ABC 部会（2026年12月10日(木) 14:00）",
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
    subject = compose.subject(mail.INVITE, title, "2026年12月10日(木) 14:00")
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
