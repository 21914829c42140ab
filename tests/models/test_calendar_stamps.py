"""Calendar stamps with several workers on one database (models/calendar_stamps.py): two
transactions stamping bodies in opposite order do not deadlock, a stamp is later than every
stamp committed before it (whatever the clock says, however long the transaction), and a
renamed body stamps only the bodies that share a session with it."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import make_url, select

from renkei.models import AgendaItem, Body, Person, Visibility
from renkei.models import calendar_stamps as stamps
from renkei.services import audit, audit_chain, feeds
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import COORDINATION, LAYER1, SUPPORT, make_session

BOTH = "member.both@example.jp"  # on the 支援会議 and the 協議体 (第1層)
WAIT = 3.0  # seconds a thread waits for the other to reach the same step


@pytest.fixture
def postgresql(database_url):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("row locks and advisory locks are PostgreSQL's (SQLite has one writer)")


def version(db, links, email=BOTH):
    db.expire_all()
    return feeds.version(db, person_by_email(db, email), locale="ja", links=links)


def stamp_of(db, name):
    db.expire_all()
    return db.scalar(select(Body.calendar_changed_at).where(Body.name == name))


def add_item(db, session_id, body_id, title):
    db.add(
        AgendaItem(
            session_id=session_id,
            body_id=body_id,
            position=99,
            title=title,
            visibility=Visibility.PUBLIC,
        )
    )
    db.flush()


def run_both(*targets):
    errors = []

    def guarded(target):
        try:
            target()
        except Exception as error:  # the test reports what went wrong in the thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "a transaction is still waiting"
    return errors


def test_two_transactions_stamping_bodies_in_opposite_order_do_not_deadlock(app, world, postgresql):
    """Each adds an agenda item to one body's session, then to the other's: before, each
    flush stamped its body's row at once, and the second flushes waited for each other."""
    support, coordination = make_session(world, SUPPORT), make_session(world, COORDINATION)
    sessions = [(support.id, support.host_body_id), (coordination.id, coordination.host_body_id)]
    before = {name: stamp_of(world, name) for name in (SUPPORT, COORDINATION)}
    flushed = [threading.Event(), threading.Event()]
    maker = app.extensions["renkei.sessionmaker"]

    def transaction(mine: int):
        with maker() as db:
            first, second = sessions[mine], sessions[1 - mine]
            add_item(db, *first, f"議題{mine}-1")
            flushed[mine].set()
            flushed[1 - mine].wait(WAIT)  # both have stamped their first body, if they can
            add_item(db, *second, f"議題{mine}-2")
            db.commit()

    assert run_both(lambda: transaction(0), lambda: transaction(1)) == []
    world.expire_all()
    assert len(world.scalars(select(AgendaItem.id)).all()) == 4
    for name in (SUPPORT, COORDINATION):
        assert before[name] is None or stamp_of(world, name) > before[name]


def test_a_change_audited_before_and_one_audited_after_do_not_deadlock(app, world, postgresql):
    """Most changes write the audit log, whose head is locked to the end of the transaction:
    one writes it before changing a session, the other after. The stamps' turn is taken at
    commit, after the head, so the two never wait for each other."""
    support, coordination = make_session(world, SUPPORT), make_session(world, COORDINATION)
    secretary = person_by_email(world, "secretary@example.jp").id
    maker = app.extensions["renkei.sessionmaker"]
    audited, changed = threading.Event(), threading.Event()

    def audit_first():
        with maker() as db:
            audit.record(db, db.get(Person, secretary), "session", "test_first")
            audited.set()
            changed.wait(WAIT)
            add_item(db, support.id, support.host_body_id, "先に記録")
            db.commit()

    def change_first():
        audited.wait(WAIT)
        with maker() as db:
            add_item(db, coordination.id, coordination.host_body_id, "後で記録")
            changed.set()
            audit.record(db, db.get(Person, secretary), "session", "test_second")
            db.commit()

    assert run_both(audit_first, change_first) == []
    assert audit_chain.verify(world).ok


def test_a_transaction_that_commits_last_stamps_last(app, world, links, postgresql):
    """A long transaction that changed the 支援会議's session before a short one changed the
    協議体's, but commits after it: the feed of a member of both has a later Last-Modified
    after each commit (before, the long one's stamp was the time of its change)."""
    support, layer1 = make_session(world, SUPPORT), make_session(world, LAYER1)
    maker = app.extensions["renkei.sessionmaker"]
    changed, seen = threading.Event(), []
    lock = threading.Lock()

    def committed(db):
        with lock:  # each commit and the read after it, before the other's
            db.commit()
            with maker() as reader:
                seen.append(version(reader, links).last_modified)

    def long_one():
        with maker() as db:
            add_item(db, support.id, support.host_body_id, "長い処理")
            changed.set()
            threading.Event().wait(1.0)  # the other transaction tries to commit meanwhile
            committed(db)

    def short_one():
        changed.wait(WAIT)
        with maker() as db:
            add_item(db, layer1.id, layer1.host_body_id, "短い処理")
            committed(db)

    first = version(world, links).last_modified
    assert run_both(long_one, short_one) == []
    assert first is not None and seen[0] > first
    assert seen[1] > seen[0]


def test_a_stamp_is_later_than_every_stamp_before_it_whatever_the_clock(world, links, monkeypatch):
    """Another app server's clock is an hour slow: its change still moves Last-Modified on."""
    support, layer1 = make_session(world, SUPPORT), make_session(world, LAYER1)
    add_item(world, support.id, support.host_body_id, "報告")
    world.commit()
    before = version(world, links)
    slow = stamps.utcnow() - timedelta(hours=1)
    monkeypatch.setattr(stamps, "utcnow", lambda: slow)
    add_item(world, layer1.id, layer1.host_body_id, "報告")
    world.commit()
    after = version(world, links)
    assert after.etag != before.etag
    assert before.last_modified and after.last_modified > before.last_modified


def test_a_stamp_is_taken_when_the_transaction_commits(world):
    support = make_session(world, SUPPORT)
    before = stamp_of(world, SUPPORT)
    add_item(world, support.id, support.host_body_id, "報告")  # flushed, not committed
    assert stamp_of(world, SUPPORT) == before
    world.commit()
    assert stamp_of(world, SUPPORT) > before


def test_a_rolled_back_change_stamps_nothing(world, links):
    support = make_session(world, SUPPORT)
    before = version(world, links)
    add_item(world, support.id, support.host_body_id, "取り消す")
    world.rollback()
    world.commit()
    assert version(world, links) == before


def test_a_renamed_body_stamps_only_the_bodies_that_share_sessions_with_it(world, links):
    make_session(world, SUPPORT, LAYER1)
    make_session(world, COORDINATION)
    before = {name: stamp_of(world, name) for name in (SUPPORT, LAYER1, COORDINATION)}
    both = version(world, links)
    body_named(world, LAYER1).name = "みどり町協議体"
    world.commit()
    assert version(world, links).etag != both.etag
    assert stamp_of(world, SUPPORT) > before[SUPPORT]
    assert stamp_of(world, "みどり町協議体") > before[LAYER1]
    assert stamp_of(world, COORDINATION) == before[COORDINATION]


def test_a_body_renamed_with_no_sessions_stamps_only_itself(world):
    before = {name: stamp_of(world, name) for name in (SUPPORT, COORDINATION)}
    body_named(world, COORDINATION).name = "みどり町調整会議"
    world.commit()
    assert stamp_of(world, SUPPORT) == before[SUPPORT]
    renamed = stamp_of(world, "みどり町調整会議")
    assert renamed is not None and (before[COORDINATION] is None or renamed > before[COORDINATION])
