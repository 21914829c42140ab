"""A held session behaves as held: its agenda changes only as a correction after the
session, with its reason, recorded in the history and the audit log; it is marked held only
once it has started."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import AgendaItem, AuditEntry, MeetingSession, SessionChange, Status
from renkei.services import agenda, scheduling
from renkei.services.agenda import Correction, ItemData
from renkei.services.errors import DomainError
from tests.helpers import body_named, count
from tests.sessions_helpers import LAYER1, PAST_DAY, SUPPORT, make_session, mark_held

REASON = "会議では議題2を先に扱ったため、順序を実際に合わせる"
NEEDS_CORRECTION = (
    "変更するには「開催後の訂正として記録する」にチェックを入れ、理由を記入してください。"
)
NEEDS_REASON = "議題を訂正する理由を記入してください。"


@pytest.fixture
def held(world, ctx, secretary):
    """A held session of the 第1層 協議体 with three public items."""
    session = make_session(world, LAYER1)
    for title in ("報告", "協議", "その他"):
        data = ItemData(title=title, body_id=session.host_body_id)
        agenda.add_item(world, session, data, by=secretary)
    mark_held(world, session)
    world.commit()
    return session


def state(world, session) -> tuple:
    """The items as stored, and how many history lines and audit entries there are."""
    world.expire_all()
    items = world.scalars(
        select(AgendaItem).where(AgendaItem.session_id == session.id).order_by(AgendaItem.position)
    ).all()
    rows = [(i.id, i.position, i.title) for i in items]
    return rows, count(world, SessionChange), count(world, AuditEntry)


def _add(world, session, by, **correction):
    data = ItemData(title="追加の報告", body_id=session.host_body_id)
    agenda.add_item(world, session, data, by=by, **correction)


def _edit(world, session, by, **correction):
    item = session.items[0]
    data = ItemData(title="報告（訂正）", body_id=item.body_id)
    agenda.update_item(world, item, data, by=by, **correction)


def _move(world, session, by, **correction):
    agenda.move_item(world, session.items[1], "up", by=by, **correction)


def _reorder(world, session, by, **correction):
    order = [item.id for item in reversed(session.items)]
    agenda.reorder(world, session, order, by=by, **correction)


def _delete(world, session, by, **correction):
    agenda.delete_item(world, session.items[2], by=by, **correction)


CHANGES = {"add": _add, "edit": _edit, "move": _move, "reorder": _reorder, "delete": _delete}


@pytest.mark.parametrize("change", CHANGES)
def test_a_held_sessions_agenda_is_not_changed_without_a_correction(world, held, secretary, change):
    before = state(world, held)
    with pytest.raises(DomainError) as error:
        CHANGES[change](world, held, secretary)
    assert error.value.field == "as_correction"
    assert NEEDS_CORRECTION in str(error.value.message)
    world.rollback()
    assert state(world, held) == before


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("reason", ["", " 　\n"])
def test_a_correction_needs_its_reason(world, held, secretary, change, reason):
    before = state(world, held)
    with pytest.raises(DomainError) as error:
        CHANGES[change](world, held, secretary, correction=Correction(reason))
    assert (error.value.field, str(error.value.message)) == ("correction_reason", NEEDS_REASON)
    world.rollback()
    assert state(world, held) == before


def test_a_reason_too_long_is_refused(world, held, secretary):
    before = state(world, held)
    with pytest.raises(DomainError) as error:
        _add(world, held, secretary, correction=Correction("理" * (agenda.MAX_REASON + 1)))
    assert error.value.field == "correction_reason"
    message = str(error.value.message)
    assert "500" in message and "文字以内" in message
    world.rollback()
    assert state(world, held) == before


@pytest.mark.parametrize("change", CHANGES)
def test_a_correction_is_made_and_recorded_with_its_reason(world, held, secretary, change):
    items_before, changes_before, _audit = state(world, held)
    CHANGES[change](world, held, secretary, correction=Correction(f"  {REASON} "))
    world.commit()
    items_after, changes_after, _audit = state(world, held)
    assert items_after != items_before
    assert changes_after == changes_before + 1
    line = world.scalars(
        select(SessionChange)
        .where(SessionChange.session_id == held.id)
        .order_by(SessionChange.id.desc())
    ).first()
    assert line.kind == agenda.CORRECTION
    assert line.detail.endswith(f"訂正の理由：{REASON}")
    # The audit log says which lines changed, never the free-text reason nor a title.
    (entry,) = world.scalars(
        select(AuditEntry).where(
            AuditEntry.session_id == held.id, AuditEntry.action == agenda.CORRECTION
        )
    ).all()
    assert entry.body_id == held.host_body_id and entry.person_id == secretary.id
    assert entry.detail and REASON not in entry.detail
    assert not any(title in entry.detail for title in ("報告", "協議", "その他"))


def test_a_joint_sessions_correction_is_in_the_log_of_every_body(world, ctx, secretary):
    session = make_session(world, SUPPORT, LAYER1)
    mark_held(world, session)
    data = ItemData(title="地域資源の報告", body_id=body_named(world, LAYER1).id)
    agenda.add_item(world, session, data, by=secretary, correction=Correction(REASON))
    world.commit()
    logged = world.scalars(
        select(AuditEntry.body_id).where(
            AuditEntry.session_id == session.id, AuditEntry.action == agenda.CORRECTION
        )
    ).all()
    assert sorted(logged) == sorted(b.id for b in session.bodies)


def test_a_session_not_yet_held_changes_freely(world, ctx, secretary):
    session = make_session(world, LAYER1)
    data = ItemData(title="報告", body_id=session.host_body_id)
    agenda.add_item(world, session, data, by=secretary)
    # A correction asked of a session not yet held is an ordinary change.
    agenda.add_item(world, session, data, by=secretary, correction=Correction(""))
    world.commit()
    kinds = [c.kind for c in session.changes]
    assert kinds.count("agenda") == 2 and agenda.CORRECTION not in kinds


# --- Marking held ----------------------------------------------------------------------------


def test_a_session_not_yet_started_cannot_be_marked_held(world, ctx, secretary):
    session = make_session(world, LAYER1)  # on DAY, ahead
    changes = count(world, SessionChange)
    with pytest.raises(DomainError) as error:
        scheduling.set_status(world, session, "held", by=secretary)
    assert str(error.value.message) == "まだ始まっていない会議は「開催済」にできません。"
    world.rollback()
    assert world.get(MeetingSession, session.id).status == Status.CONVENED
    assert count(world, SessionChange) == changes


def test_a_session_that_has_started_can_be_marked_held(world, ctx, secretary):
    session = make_session(world, LAYER1)
    # Begun a minute ago: the start, not the day, decides.
    session.start_at = utcnow() - timedelta(minutes=1)
    session.end_at = session.start_at + timedelta(hours=2)
    world.commit()
    scheduling.set_status(world, session, "held", by=secretary)
    world.commit()
    assert world.get(MeetingSession, session.id).status == Status.HELD


def test_a_session_registered_after_its_time_is_held_and_can_be_set_back(world, ctx, secretary):
    session = make_session(world, LAYER1, day=PAST_DAY)
    assert session.status == Status.HELD
    scheduling.set_status(world, session, "convened", by=secretary)
    scheduling.set_status(world, session, "held", by=secretary)
    assert session.status == Status.HELD
