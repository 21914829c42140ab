"""Building sessions in tests."""

from datetime import date, time

from renkei.models import Status
from renkei.services import agenda, scheduling
from renkei.services.dates import tokyo_to_utc
from renkei.services.scheduling import SessionData
from tests.helpers import body_named, person_by_email

SUPPORT = "みどり町支援会議"
COORDINATION = "みどり町支援調整会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"
LAYER2 = "北中学校区協議体（第2層）"

# A Thursday that is no public holiday, far enough ahead for terms to be current.
DAY = date(2026, 12, 10)


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
        "title": "12月定例会",
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


# A Thursday in the past (no public holiday), for sessions that must have taken place.
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
