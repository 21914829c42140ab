"""The server's own time zone changes nothing (issue 24's clock drill, drills/drill_clock_tz.py,
runs gunicorn under each): with TZ=UTC, Asia/Tokyo or America/New_York the pages, the feed and
the reminders queued are the same, their times Tokyo's. The class fix is ruff's DTZ rules
(pyproject.toml) for datetime; the time module's local-time functions are checked here."""

import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from renkei.models.mail import MailMessage
from renkei.services.dates import today
from renkei.services.mail.queue import queue_reminders
from tests.blueprints.test_calendar import feed_url
from tests.sessions_helpers import LAYER1, SUPPORT, make_session

RENKEI = Path(__file__).resolve().parent.parent / "renkei"
# Besides UTC and New York, the zones farthest from Tokyo either way: at any moment one of them
# is on another date than Tokyo, so a date taken from the server's clock shows.
ZONES = ("Asia/Tokyo", "UTC", "America/New_York", "Etc/GMT+12", "Pacific/Kiritimati")
# What differs between two renders whatever the clock: signed tokens, and stamps of "now".
VARYING = (
    re.compile(rb'(name="(?:csrf_token|form_token)"[^>]*value=")[^"]*'),
    re.compile(rb'(value=")[^"]*("[^>]*name="(?:csrf_token|form_token)")'),
    re.compile(rb"^(DTSTAMP:).*$", re.M),
    re.compile(rb"^(Date: |Message-ID: ).*$", re.M),
)
LOCAL_TIME = re.compile(r"\btime\.(localtime|mktime|ctime|strftime|asctime)\(|\btzset\(")


@pytest.fixture
def server_zone():
    """``server_zone(name)`` sets the process's TZ, as a server configured so would run."""
    before = os.environ.get("TZ")

    def use(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def steady(data: bytes) -> bytes:
    for pattern in VARYING:
        data = pattern.sub(rb"\1-", data)
    return data


def test_pages_feed_and_reminders_are_the_same_in_every_server_time_zone(
    app, world, as_secretary, server_zone, links
):
    session = make_session(world, SUPPORT, LAYER1, title="年末の会議")
    make_session(world, LAYER1, title="明日の会議", day=today() + timedelta(days=1))
    seen = {}
    for zone in ZONES:
        server_zone(zone)
        pages = [
            steady(as_secretary.get(path).data)
            for path in ("/", "/sessions", f"/sessions/{session.id}", feed_url(world))
        ]
        with app.test_request_context():
            for days in range(0, 8):
                queue_reminders(world, days=days, links=links, sender="renkei@localhost")
            messages = sorted(
                (m.to_address, m.subject, steady(m.content))
                for m in world.scalars(select(MailMessage))
            )
            world.rollback()
        seen[zone] = (pages, messages)
    assert seen["Asia/Tokyo"][1], "no reminder queued: the check would prove nothing"
    assert b"14:00" in seen["Asia/Tokyo"][0][2] or "14時" in seen["Asia/Tokyo"][0][2].decode()
    for zone in ZONES[1:]:
        assert seen[zone][0] == seen["Asia/Tokyo"][0], zone
        assert seen[zone][1] == seen["Asia/Tokyo"][1], zone


def test_the_app_never_reads_the_servers_local_time():
    found = [
        f"{path.relative_to(RENKEI.parent)}:{number}: {line.strip()}"
        for path in RENKEI.rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if LOCAL_TIME.search(line)
    ]
    assert found == []
