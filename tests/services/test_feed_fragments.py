"""Feeds assembled from stored event texts (models.FeedFragment): byte for byte what icalendar
builds whole, one text per session (or series) shared by every subscriber, and a change to a
session re-serialises that session alone, never serving its old text again."""

from dataclasses import replace
from datetime import time, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from renkei.models import AgendaItem, FeedFragment, MeetingSession, Selection, Series
from renkei.services import agenda, calendar, feeds, scheduling, series
from renkei.services.agenda import ItemData
from tests.helpers import body_named, counting, person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT, make_session, mark_convened, session_data

BOTH = "member.both@example.jp"  # on the 支援会議 and the 協議体 (第1層)
SENDER = "renkei@localhost"


def secretary(db):
    return person_by_email(db, "secretary@example.jp")


def render(db, links, email=BOTH) -> bytes:
    person = person_by_email(db, email)
    return feeds.render(db, person, issuer=calendar.issuer(db, links, SENDER), name="Renkei")


def whole(db, links, email=BOTH) -> bytes:
    """The feed as icalendar builds and serialises it whole, nothing stored (as before)."""
    person = person_by_email(db, email)
    db.expire_all()
    sessions = scheduling.upcoming_for(
        db,
        person,
        feeds.utcnow() - feeds.HISTORY,
        limit=None,
        options=(
            selectinload(MeetingSession.items).joinedload(AgendaItem.body),
            selectinload(MeetingSession.series)
            .selectinload(Series.sessions)
            .options(
                selectinload(MeetingSession.items).joinedload(AgendaItem.body),
                selectinload(MeetingSession.bodies),
                selectinload(MeetingSession.selections).selectinload(Selection.members),
            ),
        ),
    )
    return calendar.feed(
        sessions,
        name="Renkei",
        issuer=calendar.issuer(db, links, SENDER),
        is_invited=scheduling.invitation_test(db, person),
    )


@pytest.fixture
def built(monkeypatch):
    """The units whose text is serialised, in order."""
    names: list[str] = []
    unit_text = calendar.unit_text

    def counted(unit, issuer, sessions):
        names.append(unit.name)
        return unit_text(unit, issuer, sessions)

    monkeypatch.setattr(calendar, "unit_text", counted)
    return names


@pytest.fixture
def town(world):
    """Two one-off sessions of the 支援会議 (one joint with the 協議体) with items of each
    kind, and a monthly series of the 協議体 that member.both is convened to whole."""
    db, by = world, secretary(world)
    plain = make_session(db, SUPPORT, title="定例会", place="役場 2階")
    joint = make_session(db, SUPPORT, LAYER1, title="合同会議", start=time(10), end=time(12))
    for session in (plain, joint):
        for title, visibility in (("報告", "public"), ("個別ケース", None)):
            data = ItemData(
                title=title,
                body_id=session.host_body_id,
                planned_minutes=20,
                visibility=visibility,
                confirm_wider=True,
            )
            agenda.add_item(db, session, data, by=by)
    made = series.create_series(
        db,
        session_data(db, LAYER1, title="協議体 定例会"),
        series.RepeatRule("monthly_by_weekday", count=4),
        by=by,
    )
    for occurrence in made.sessions:
        mark_convened(occurrence)
    db.commit()
    return plain, joint, made


def test_a_feed_from_stored_texts_is_byte_for_byte_the_library_s(world, links, town, built):
    plain, joint, made = town
    expected = whole(world, links)
    assert render(world, links) == expected  # every text built and stored
    assert sorted(built) == sorted(
        [f"session-{plain.id}", f"session-{joint.id}", f"series-{made.id}"]
    )
    assert world.scalar(select(func.count()).select_from(FeedFragment)) == 3
    built.clear()
    assert render(world, links) == expected  # every text stored
    assert built == []
    assert b"RRULE:" in expected and expected.count(b"BEGIN:VEVENT") >= 3


def test_one_text_serves_every_subscriber(world, links, town, built):
    render(world, links)
    others = [m.person for m in body_named(world, SUPPORT).memberships]
    other = next(p for p in others if p.email != BOTH and p.email)
    built.clear()
    assert render(world, links, other.email) == whole(world, links, other.email)
    assert built == []  # the 支援会議's sessions are those member.both's feed stored


def _retitle(db, session):
    data = session_data(db, *[b.name for b in session.bodies], title="臨時会")
    scheduling.update_session(db, session, data, by=secretary(db))
    return b"SUMMARY:\xe8\x87\xa8\xe6\x99\x82\xe4\xbc\x9a"  # 臨時会


def _move(db, session):
    data = session_data(db, *[b.name for b in session.bodies], title=session.title)
    start = session.start_at + timedelta(days=1, hours=1)
    data = replace(data, start=start, end=start + timedelta(hours=2), place=session.place)
    scheduling.update_session(db, session, data, by=secretary(db))
    return None


def _replace(db, session):
    data = session_data(db, *[b.name for b in session.bodies], title=session.title)
    scheduling.update_session(db, session, replace(data, place="福祉センター"), by=secretary(db))
    return "福祉センター".encode()


def _drop_item(db, session):
    agenda.delete_item(db, session.items[0], by=secretary(db))
    return None


def _close_item(db, session):
    item = session.items[0]
    data = ItemData(title=item.title, body_id=item.body_id, planned_minutes=20)
    agenda.update_item(db, item, data, by=secretary(db))
    return None


def _retitle_item(db, session):
    item = session.items[0]
    data = ItemData(
        title="買い物支援", body_id=item.body_id, planned_minutes=20, visibility="public"
    )
    agenda.update_item(db, item, replace(data, confirm_wider=True), by=secretary(db))
    return "買い物支援".encode()


def _retitle_item_alone(db, session):
    """An item's row alone changes (the services also stamp the session's row)."""
    session.items[0].title = "住まい支援"
    return "住まい支援".encode()


def _drop_item_alone(db, session):
    """An item taken off the agenda, the session's row left as it is."""
    session.items.remove(session.items[0])
    return None


def _cancel(db, session):
    scheduling.cancel_session(db, session, by=secretary(db), reason="台風")
    return b"STATUS:CANCELLED"


CHANGES = [
    _retitle,
    _move,
    _replace,
    _drop_item,
    _close_item,
    _retitle_item,
    _retitle_item_alone,
    _drop_item_alone,
    _cancel,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_change_to_one_session_reserialises_that_session_alone(world, links, town, built, change):
    plain, _joint, _made = town
    # A notice already pending: an agenda change then leaves the session's row as it is.
    plain.notice_pending_since = feeds.utcnow()
    world.commit()
    before = render(world, links)
    built.clear()
    shows = change(world, plain)
    world.commit()
    after = render(world, links)
    assert built == [f"session-{plain.id}"]
    assert after != before
    if shows is not None:
        assert shows in after
    assert after == whole(world, links)


def test_a_change_to_an_occurrence_reserialises_its_series_alone(world, links, town, built):
    _plain, _joint, made = town
    for occurrence in made.sessions:
        occurrence.notice_pending_since = feeds.utcnow()
    world.commit()
    render(world, links)
    built.clear()
    agenda.add_item(
        world,
        made.sessions[1],
        ItemData(title="居場所づくり", body_id=made.sessions[1].host_body_id, visibility="public"),
        by=secretary(world),
    )
    world.commit()
    after = render(world, links)
    assert built == [f"series-{made.id}"]
    assert "居場所づくり".encode() in after
    assert after == whole(world, links)


def test_a_renamed_body_reserialises_the_sessions_it_serves(world, links, town, built):
    plain, joint, made = town
    render(world, links)
    built.clear()
    body_named(world, LAYER1).name = "みどり町協議体"
    world.commit()
    world.expire_all()  # a request's sessions list their bodies in the new names' order
    after = render(world, links)
    assert sorted(built) == sorted([f"session-{joint.id}", f"series-{made.id}"])
    assert "みどり町協議体".encode() in after
    assert after == whole(world, links)


def test_a_rebuilt_text_replaces_the_one_before(world, links, town):
    plain, _joint, _made = town
    render(world, links)
    _retitle(world, plain)
    world.commit()
    render(world, links)
    units = world.scalars(select(FeedFragment.unit)).all()
    assert sorted(units) == sorted(set(units))  # one text per unit and variant


def test_another_language_is_another_text(app, world, links, town, built):
    texts = {}
    for language in ("ja", "en"):
        with app.app_context(), force_locale(language):
            texts[language] = render(world, links)
            assert texts[language] == whole(world, links)
    assert len(built) == 6 and texts["ja"] != texts["en"]
    unfolded = {language: text.replace(b"\r\n ", b"") for language, text in texts.items()}
    assert "非公開議題".encode() in unfolded["ja"] and b"Closed agenda item" in unfolded["en"]


def test_a_version_rises_when_the_change_commits_and_not_if_it_is_rolled_back(world, town):
    plain, _joint, _made = town
    version = world.scalar(
        select(MeetingSession.calendar_version).where(MeetingSession.id == plain.id)
    )
    plain.items[0].title = "取り消される変更"
    world.flush()
    world.rollback()
    assert (
        world.scalar(select(MeetingSession.calendar_version).where(MeetingSession.id == plain.id))
        == version
    )
    world.expire_all()
    plain.items[0].title = "残る変更"
    world.commit()
    assert plain.calendar_version == version + 1


def test_a_warm_process_assembles_the_feed_without_reading_the_stored_texts(
    app, world, links, town, built
):
    """The texts a process read or built are kept by key: the next rebuild after a change
    asks the database for the changed session's new text alone (another process may have
    built it), and builds it."""
    plain, _joint, _made = town
    render(world, links)
    plain.title = "題名を変えた会議"
    world.commit()
    built.clear()
    with counting(app.extensions["renkei.engine"]) as statements:
        after = render(world, links)
    assert built == [f"session-{plain.id}"]
    read = [s for s in statements if s.startswith("SELECT") and "FROM feed_fragments" in s]
    assert len(read) == 1 and read[0].split(" IN (")[1].count(",") == 0, read
    assert after == whole(world, links)
