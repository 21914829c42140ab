"""Building date polls in tests."""

from datetime import date, time, timedelta

from sqlalchemy import select

from renkei.models import Person
from renkei.services import polls
from renkei.services.dates import tokyo_to_utc
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import DAY

# Candidate days: DAY (a Thursday, no holiday) and the next two weekdays.
DAYS = (DAY, DAY + timedelta(days=1), DAY + timedelta(days=4))


def slot(day: date, start=time(14), end=time(16)) -> polls.SlotData:
    return polls.SlotData(tokyo_to_utc(day, start), tokyo_to_utc(day, end))


def poll_data(db, *body_names, days=DAYS, **extra) -> polls.PollData:
    bodies = [body_named(db, name) for name in body_names]
    return polls.PollData(
        title=extra.pop("title", "1月合同会議の日程"),
        body_ids=[b.id for b in bodies],
        host_body_id=bodies[0].id,
        slots=extra.pop("slots", [slot(day) for day in days]),
        **extra,
    )


def make_poll(db, *body_names, **extra):
    secretary = person_by_email(db, "secretary@example.jp")
    poll = polls.create_poll(db, poll_data(db, *body_names, **extra), by=secretary)
    db.commit()
    return poll


def person_named(db, name: str) -> Person:
    return db.scalar(select(Person).where(Person.name == name))


def answer_all(db, poll, person, *marks, comment=""):
    """``marks``: one of "yes", "maybe", "no" per slot, in slot order."""
    choices = {s.id: mark for s, mark in zip(poll.slots, marks, strict=True)}
    changes = polls.answer(db, poll, person, choices, comment, by=person)
    db.commit()
    return changes
