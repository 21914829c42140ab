"""Building sessions in tests."""

from datetime import date, time, timedelta

from babel.dates import format_datetime

from renkei.i18n import PATTERNS
from renkei.models import SectionKind, Status
from renkei.services import agenda, minutes, scheduling
from renkei.services.agenda import ItemData
from renkei.services.case_numbers import CaseNumber
from renkei.services.dates import TOKYO, fiscal_year_of, holiday_name, today, tokyo_to_utc
from renkei.services.scheduling import SessionData
from tests.helpers import body_named, person_by_email

SUPPORT = "みどり町支援会議"
COORDINATION = "みどり町支援調整会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"
LAYER2 = "北中学校区協議体（第2層）"

THURSDAY = 3
SENDER = "renkei@localhost"  # the From of the mail the minutes' workflow sends


def is_day_off(day: date) -> bool:
    """A public holiday, or one of the New-Year days (29 December to 3 January) on which a
    town hall is closed."""
    month_day = (day.month, day.day)
    return bool(holiday_name(day)) or month_day >= (12, 29) or month_day <= (1, 3)


def working_thursday(on_or_after: date, *, free_days: int = 14) -> date:
    """The first Thursday on or after ``on_or_after`` such that neither it nor any of the
    ``free_days`` days after it is a day off (``is_day_off``)."""
    day = on_or_after + timedelta(days=(THURSDAY - on_or_after.weekday()) % 7)
    while any(is_day_off(day + timedelta(days=n)) for n in range(free_days + 1)):
        day += timedelta(weeks=1)
    return day


# The tests' session day, from the real today (the app's clock), so the suite passes on any
# date: a Thursday at least a week ahead, the sessions on it still to come, the demo's terms
# current (they run from TERM_START without end). The tests also put sessions, poll slots
# and series on the fortnight after it, so that fortnight holds no day off either.
DAY = working_thursday(today() + timedelta(weeks=1))


def case_number(sequence: int, day: date = DAY, prefix: str = "") -> str:
    """The case number ``sequence`` of ``day``'s fiscal year as the app writes it (R8-0001
    for the first of 令和8年度)."""
    return str(CaseNumber(prefix, fiscal_year_of(day), sequence))


def full_width(text: str) -> str:
    """``text`` typed in full-width characters (Ｒ８－０００１), as a Japanese keyboard may."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def holiday_after(day: date) -> date:
    """The first public holiday after ``day`` (for the warnings about holidays)."""
    day += timedelta(days=1)
    while not holiday_name(day):
        day += timedelta(days=1)
    return day


def shown(day: date, at: time | None = None, kind: str | None = None) -> str:
    """``day`` (at ``at``, Tokyo time) as the Japanese interface and mail write it, by the
    app's own patterns (renkei.i18n.format_tokyo): "2025年12月11日（木） 14:00", without a
    time "2025年12月11日（木）"; ``kind`` "day" gives "12月11日（木）", "month" "2025年12月"."""
    kind = kind or ("datetime" if at else "date")
    moment = tokyo_to_utc(day, at or time(0))
    return format_datetime(moment, PATTERNS["ja"][kind], tzinfo=TOKYO, locale="ja")


def session_data(db, *body_names, day=DAY, start=time(14), end=time(16), **extra) -> SessionData:
    bodies = [body_named(db, name) for name in body_names]
    return SessionData(
        title=extra.pop("title", "定例会"),
        body_ids=[b.id for b in bodies],
        host_body_id=bodies[0].id,
        start=tokyo_to_utc(day, start),
        end=tokyo_to_utc(day, end),
        **extra,
    )


def make_session(db, *body_names, convened=True, **kwargs):
    """A session on DAY by the demo secretary; ``convened`` (unless asked otherwise) as a
    session saved before notices were kept is: members see it, and no message was recorded
    (tests of the notices convene through ``services.notices`` themselves)."""
    secretary = person_by_email(db, "secretary@example.jp")
    session = scheduling.create_session(db, session_data(db, *body_names, **kwargs), by=secretary)
    if convened and session.status == Status.PREPARED:
        mark_convened(session)
    db.commit()
    return session


def mark_convened(session) -> None:
    session.status, session.convened_at = Status.CONVENED, session.created_at


def session_form(db, *body_names, **extra) -> dict:
    """What the schedule-a-session form posts, for a session on DAY, 14:00-16:00."""
    bodies = [body_named(db, name) for name in body_names]
    return {
        "title": f"{DAY.month}月定例会",
        "body_ids": [b.id for b in bodies],
        "host_body_id": bodies[0].id,
        "start_date": DAY.isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "mode": "in_person",
        "place": "役場 第1会議室",
        "notes": "",
        **extra,
    }


# A Thursday in the past (no public holiday), for sessions that must have taken place. Fixed,
# unlike DAY: a day past stays past, within the demo's terms (from TERM_START), and the
# apportionment tests count the fiscal year it falls in (2026) with other fixed past days.
PAST_DAY = date(2026, 11, 12)
# A session registered after its time is held at once: its agenda goes in as a correction
# after the session, with this reason (services.agenda).
REGISTERED_AFTER = agenda.Correction("開催後に登録した会議の議題を入力するため")


def mark_held(db, session) -> None:
    """Arrange a held session whatever its date, for fixtures that need minutes or an
    attendance record of a session on DAY. That a session must have started before the
    secretariat marks it held is the service's rule, tested on its own."""
    session.status = Status.HELD
    db.flush()


def record_attendance(db, session) -> None:
    """Arrange the attendance record of a held session (one invitee present), for fixtures
    whose minutes are asked for approval: without the record, only with a reason
    (services.minutes.submit). Recording it through the form is the attendance tests'."""
    from renkei.models import Attendance, Presence

    first = scheduling.invitees(db, session)[0]
    db.add(Attendance(session=session, person=first.person, presence=Presence.PRESENT))
    db.flush()


def submitted(db, links, *body_names, title="定例会"):
    """A held session of ``body_names`` with one public item each, its minutes written and
    submitted to the chairs: the version."""
    secretary = person_by_email(db, "secretary@example.jp")
    session = make_session(db, *body_names, title=title)
    for name in body_names:
        item = ItemData(
            title=f"{name}の報告",
            body_id=body_named(db, name).id,
            visibility="public",
            confirm_wider=True,
        )
        agenda.add_item(db, session, item, by=secretary)
    mark_held(db, session)
    record_attendance(db, session)
    version = minutes.open_minutes(db, session, by=secretary)
    for section in version.sections:
        if section.kind == SectionKind.DECISIONS:
            section.text = "- 次回までに確認する。"
    minutes.submit(db, version, by=secretary, links=links, sender=SENDER)
    db.commit()
    return version


# The demo's chairs of the bodies of the joint sessions the tests build.
CHAIRS = {SUPPORT: "chair.support@example.jp", LAYER1: "chair.kyogitai@example.jp"}


def approve_as_chairs(db, version, links, sender=SENDER) -> None:
    """The chairs of the 支援会議 and the 第1層 協議体 each approve the submitted minutes
    ``version`` (left for the caller to commit)."""
    for name, email in CHAIRS.items():
        chair = person_by_email(db, email)
        body_id = body_named(db, name).id
        minutes.decide(db, version, body_id, approve=True, by=chair, links=links, sender=sender)
