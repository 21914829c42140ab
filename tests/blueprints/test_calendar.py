"""The personal feed and the invitation download, over HTTP."""

import gzip
from dataclasses import replace
from datetime import time, timedelta

import vobject
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import AgendaItem, MeetingSession, Status, Visibility
from renkei.services import calendar, chunked_gzip, scheduling, series
from renkei.services.dates import TOKYO, tokyo_to_utc
from tests.conftest import login
from tests.helpers import body_named, counting, person_by_email
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, mark_convened, session_data

CANARY = "CANARY-支援会議の事例"


def feed_url(world, email="member.both@example.jp"):
    return f"/calendar/{person_by_email(world, email).feed_token}.ics"


def add_confidential_item(world, session):
    world.add(
        AgendaItem(
            session=session,
            body=body_named(world, SUPPORT),
            position=len(session.items) + 1,
            title=CANARY,
            visibility=Visibility.CONFIDENTIAL,
        )
    )
    world.commit()


def test_feed_publishes_the_persons_sessions_without_confidential_content(client, world):
    session = make_session(world, SUPPORT, LAYER1, title="合同会議")
    add_confidential_item(world, session)
    make_session(world, "みどり町支援調整会議", title="調整会議")  # member.both is not on it
    response = client.get(feed_url(world))
    assert response.status_code == 200
    assert response.content_type.startswith("text/calendar")
    assert CANARY.encode() not in response.data
    parsed = vobject.readOne(response.get_data(as_text=True))
    assert parsed.method.value == "PUBLISH"
    assert [e.summary.value for e in parsed.vevent_list] == ["合同会議"]
    assert parsed.contents["x-wr-calname"][0].value
    assert parsed.contents["refresh-interval"][0].value == "PT1H"


def test_conditional_requests_get_304_until_something_changes(app, client, world):
    session = make_session(world, SUPPORT)
    url = feed_url(world)
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "Date" not in first.headers  # the server writes it: two are refused by nginx
    with counting(app.extensions["renkei.engine"]) as statements:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) == 1  # the feed's version, read with its token
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    add_confidential_item(world, session)
    world.get(MeetingSession, session.id).updated_at += timedelta(seconds=1)
    world.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_unknown_and_renewed_tokens_get_the_same_404(app, client, world):
    old = feed_url(world)
    calendar_app = app.test_client()  # a calendar app: no login
    unknown = calendar_app.get("/calendar/not-a-token.ics")
    login(client, "member.both@example.jp")
    assert client.post("/account/feed/renew", data={}).status_code == 302
    renewed = calendar_app.get(old)
    assert unknown.status_code == renewed.status_code == 404
    assert unknown.data == renewed.data
    assert client.get(feed_url(world)).status_code == 200


def test_account_page_shows_the_feed_in_both_forms(client, world):
    login(client, "member.both@example.jp")
    page = client.get("/account").get_data(as_text=True)
    token = person_by_email(world, "member.both@example.jp").feed_token
    assert f"webcal://localhost/calendar/{token}.ics" not in page  # BASE_URL, not the request
    assert f"/calendar/{token}.ics" in page and "webcal://" in page


def test_invitee_downloads_their_own_invitation(client, world):
    session = make_session(world, SUPPORT)
    add_confidential_item(world, session)
    login(client, "member.both@example.jp")
    response = client.get(f"/sessions/{session.id}/invite.ics")
    assert response.status_code == 200 and CANARY.encode() not in response.data
    # PUBLISH: what the invitation by mail carries, to add by hand (same UID and SEQUENCE).
    assert vobject.readOne(response.get_data(as_text=True)).method.value == "PUBLISH"
    login(client, "admin@example.jp")  # may view the session, is not invited
    assert client.get(f"/sessions/{session.id}/invite.ics").status_code == 404


def _sessions(world, n: int, offset: int) -> None:
    support = body_named(world, SUPPORT)
    for i in range(n):
        start = tokyo_to_utc(DAY + timedelta(days=offset + i), time(14))
        world.add(
            MeetingSession(
                title=f"会議 {offset + i}",
                host_body=support,
                bodies=[support],
                start_at=start,
                end_at=start + timedelta(hours=2),
                status=Status.CONVENED,
                convened_at=start,
            )
        )
    world.commit()


def test_feed_of_a_thousand_sessions_uses_a_bounded_number_of_queries(app, client, world):
    url = feed_url(world)
    _sessions(world, 10, 0)
    with counting(app.extensions["renkei.engine"]) as small:
        assert client.get(url).status_code == 200
    _sessions(world, 990, 10)
    with counting(app.extensions["renkei.engine"]) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert response.data.count(b"BEGIN:VEVENT") == 1000
    # selectinload fetches in batches of 500 ids: two more statements, not one per session.
    # (Eight to choose the sessions, the bodies the person is secretary of (for sessions
    # being prepared), the install's UID domain, the stored copy read, a savepoint around
    # writing it; the stored event texts read, the agendas of those missing loaded, and a
    # savepoint around storing theirs: delete the old ones, insert the new.)
    assert len(small) <= 20 and len(large) <= len(small) + 4
    with counting(app.extensions["renkei.engine"]) as again:
        assert client.get(url).data == response.data
    assert len(again) <= 3  # token, version, stored copy


def test_a_feed_rebuilt_after_a_change_reads_the_stored_texts_and_builds_one(
    app, client, world, monkeypatch
):
    url = feed_url(world)
    built = []
    unit_text = calendar.unit_text
    monkeypatch.setattr(
        calendar, "unit_text", lambda unit, *args: built.append(unit) or unit_text(unit, *args)
    )
    deflated = []  # the chunks of the stored gzip copy compressed anew
    deflate = chunked_gzip._deflate
    monkeypatch.setattr(
        chunked_gzip, "_deflate", lambda raw, window: deflated.append(raw) or deflate(raw, window)
    )
    _sessions(world, 1000, 0)
    first = client.get(url).data
    assert len(built) == 1000 and len(deflated) > 4
    built.clear()
    deflated.clear()
    session = world.scalars(select(MeetingSession).order_by(MeetingSession.id)).first()
    session.title = "臨時会"
    world.commit()
    with counting(app.extensions["renkei.engine"]) as rebuilt:
        response = client.get(url)
    assert response.data.count(b"BEGIN:VEVENT") == 1000 and response.data != first
    assert [unit.name for unit in built] == [f"session-{session.id}"]  # serialised again
    assert 1 <= len(deflated) <= 2 and "臨時会".encode() in deflated[0]  # its chunk
    assert len(rebuilt) <= 22
    body_named(world, SUPPORT).calendar_changed_at = utcnow()  # a new version, no change
    world.commit()
    with counting(app.extensions["renkei.engine"]) as reused:
        assert client.get(url).data == response.data
    assert len(built) == 1  # nothing serialised again
    assert not any("feed_fragments (" in s or "agenda_items" in s for s in reused)
    assert len(reused) <= 15


def test_the_stored_feed_is_sent_gzipped_and_replaced_when_something_changes(client, world):
    session = make_session(world, SUPPORT, title="合同会議")
    url = feed_url(world)
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in plain.vary
    assert gzip.decompress(packed.data) == plain.data
    assert plain.headers["ETag"] == packed.headers["ETag"]
    session.title = "合同会議（会場変更）"
    world.commit()
    changed = client.get(url)
    assert "合同会議（会場変更）" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != plain.headers["ETag"]


def test_the_feed_agrees_with_what_the_session_page_shows(client, world):
    session = make_session(world, SUPPORT, LAYER1, title="合同会議", place="役場 大会議室")
    login(client, "member.both@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    event = vobject.readOne(client.get(feed_url(world)).get_data(as_text=True)).vevent
    start = event.dtstart.value.astimezone(TOKYO)
    weekday = "月火水木金土日"[start.weekday()]
    assert f"{start.year}年{start.month}月{start.day}日（{weekday}） {start:%H:%M}" in page
    assert f"– {event.dtend.value.astimezone(TOKYO):%H:%M}" in page
    assert event.summary.value in page and event.location.value in page
    assert f"/sessions/{session.id}/invite.ics" in page


def test_a_series_joined_once_by_another_body_shows_its_members_that_occurrence_alone(
    client, world
):
    """A weekly 支援会議 series whose second occurrence is joint with the 協議体: a member of
    the 協議体 alone is invited to that occurrence only, and their feed must not carry the
    series rule, which would show them the others and their agenda (even its public
    titles: a 支援会議's own occurrences are not theirs to know)."""
    secretary = person_by_email(world, "secretary@example.jp")
    weekly = series.create_series(
        world,
        session_data(world, SUPPORT, title="支援会議 定例"),
        series.RepeatRule(frequency="weekly", count=3),
        by=secretary,
    )
    for occurrence in weekly.sessions:
        mark_convened(occurrence)
    world.commit()
    first, second, _third = sorted(weekly.sessions, key=lambda s: s.original_start)
    world.add(
        AgendaItem(
            session=first,
            body=body_named(world, SUPPORT),
            position=1,
            title="支援会議だけの公開議題",
            visibility=Visibility.PUBLIC,
        )
    )
    joint = replace(
        session_data(world, SUPPORT, LAYER1, title="支援会議 定例（合同）"),
        start=second.start_at,
        end=second.end_at,
    )
    scheduling.update_session(world, second, joint, by=secretary)
    world.commit()
    support = {m.person_id for m in body_named(world, SUPPORT).memberships}
    outsider = next(
        m.person for m in body_named(world, LAYER1).memberships if m.person_id not in support
    )
    text = client.get(f"/calendar/{outsider.feed_token}.ics").get_data(as_text=True)
    events = vobject.readOne(text).vevent_list
    assert [e.summary.value for e in events] == ["支援会議 定例（合同）"]
    assert "RRULE" not in text and "支援会議だけの公開議題" not in text
    # A member of the 支援会議 is invited to every occurrence: the series, as a rule.
    insider = client.get(feed_url(world)).get_data(as_text=True)
    assert "RRULE" in insider and "支援会議 定例（合同）" in insider


def test_a_client_that_refuses_gzip_gets_the_feed_unpacked(client, world):
    make_session(world, SUPPORT)
    response = client.get(feed_url(world), headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    assert response.data.startswith(b"BEGIN:VCALENDAR")
