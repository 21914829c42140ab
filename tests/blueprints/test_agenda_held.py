"""A held session's agenda on its pages: no plain edit buttons, only the correction path;
each change refused without the tick and the reason (a Japanese message, nothing changed),
made with them and shown in the history. Marking held only once the session has started."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import AgendaItem, MeetingSession, SessionChange, Status, Visibility
from renkei.services import agenda
from renkei.services.agenda import ItemData
from tests.conftest import login
from tests.helpers import count
from tests.sessions_helpers import LAYER1, make_session, mark_held

NEEDS_CORRECTION = (
    "変更するには「開催後の訂正として記録する」にチェックを入れ、理由を記入してください。"
)
NEEDS_REASON = "議題を訂正する理由を記入してください。"
REASON = "会議では協議を先に扱ったため"
CORRECTED = {"as_correction": "y", "correction_reason": REASON}


@pytest.fixture
def held(world, app):
    """A held session of the 第1層 協議体 (public items: the secretary sees each)."""
    session = make_session(world, LAYER1)
    secretary = session.changes[0].person
    with app.app_context():
        for title in ("報告", "協議", "その他"):
            data = ItemData(title=title, body_id=session.host_body_id, planned_minutes=10)
            agenda.add_item(world, session, data, by=secretary)
    mark_held(world, session)
    world.commit()
    return session


def page(client, session, **args) -> str:
    response = client.get(f"/sessions/{session.id}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def state(world, session) -> tuple:
    world.expire_all()
    items = world.scalars(
        select(AgendaItem).where(AgendaItem.session_id == session.id).order_by(AgendaItem.position)
    ).all()
    return [(i.id, i.position, i.title) for i in items], count(world, SessionChange)


def item_form(session, **extra) -> dict:
    return {
        "title": "報告（訂正）",
        "body_id": session.host_body_id,
        "presenter": "",
        "planned_minutes": "10",
        "description": "",
        "visibility": "",
        **extra,
    }


# --- The session page -----------------------------------------------------------------------


def test_a_held_session_offers_only_the_correction_path(as_secretary, held):
    agenda_section = page(as_secretary, held).split('<section id="agenda">')[1]
    table, _sep, correction = agenda_section.partition('id="agenda-correction"')
    assert correction, "the correction box is on the page"
    # No plain edit buttons before it: no move, edit or delete form, no drag, no plain add.
    for plain in ("/items/", "data-sortable"):
        assert plain not in table, plain
    assert "開催後の訂正として記録する" in correction
    assert 'formaction="/items/' in correction and f"/sessions/{held.id}/items/new" in correction


def test_a_session_not_yet_held_keeps_its_plain_buttons(as_secretary, world):
    session = make_session(world, LAYER1)
    world.add(
        AgendaItem(
            session=session,
            body_id=session.host_body_id,
            position=1,
            title="報告",
            visibility=Visibility.PUBLIC,
        )
    )
    world.commit()
    text = page(as_secretary, session)
    assert "data-sortable" in text and f"/sessions/{session.id}/items/new" in text
    assert 'id="agenda-correction"' not in text


# --- Each change: refused without the correction, made with it --------------------------------


def _move(client, session):
    return f"/items/{session.items[1].id}/move", {"direction": "up"}


def _delete(client, session):
    return f"/items/{session.items[2].id}/delete", {}


def _reorder(client, session):
    order = ",".join(str(i.id) for i in reversed(session.items))
    return f"/sessions/{session.id}/items/order", {"order": order}


BUTTONS = {"move": _move, "delete": _delete, "reorder": _reorder}


@pytest.mark.parametrize("button", BUTTONS)
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, NEEDS_CORRECTION),
        ({"correction_reason": REASON}, NEEDS_CORRECTION),  # a reason, but no tick
        ({"as_correction": "y"}, NEEDS_REASON),
        ({"as_correction": "y", "correction_reason": "　 "}, NEEDS_REASON),
    ],
)
def test_a_button_without_the_correction_changes_nothing(
    as_secretary, world, held, button, extra, message
):
    before = state(world, held)
    url, data = BUTTONS[button](as_secretary, held)
    response = as_secretary.post(url, data={**data, **extra})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/sessions/{held.id}" and "correcting=1" in location.query
    text = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert message in text
    assert 'id="agenda-correction" open' in text  # the box is open again to try once more
    assert state(world, held) == before


@pytest.mark.parametrize("button", BUTTONS)
def test_a_button_with_the_correction_changes_the_agenda_and_shows_why(
    as_secretary, world, held, button
):
    items, changes = state(world, held)
    url, data = BUTTONS[button](as_secretary, held)
    response = as_secretary.post(url, data={**data, **CORRECTED})
    assert response.status_code == 302
    after, changes_after = state(world, held)
    assert after != items and changes_after == changes + 1
    text = page(as_secretary, held)
    assert "開催後に議題を訂正" in text  # the history's label
    assert f"訂正の理由：{REASON}" in text


def test_the_edit_form_of_a_held_session_asks_for_the_correction(as_secretary, world, held):
    target = held.items[0]
    form_page = as_secretary.get(f"/items/{target.id}/edit").get_data(as_text=True)
    assert "開催後の訂正" in form_page and 'name="correction_reason"' in form_page
    before = state(world, held)
    response = as_secretary.post(f"/items/{target.id}/edit", data=item_form(held))
    assert response.status_code == 400
    assert NEEDS_CORRECTION in response.get_data(as_text=True)
    response = as_secretary.post(
        f"/items/{target.id}/edit", data=item_form(held, as_correction="y")
    )
    assert response.status_code == 400
    assert NEEDS_REASON in response.get_data(as_text=True)
    assert state(world, held) == before

    response = as_secretary.post(f"/items/{target.id}/edit", data=item_form(held, **CORRECTED))
    assert response.status_code == 302
    assert state(world, held)[0][0][2] == "報告（訂正）"


def test_an_item_is_added_to_a_held_session_only_as_a_correction(as_secretary, world, held):
    before = state(world, held)
    url = f"/sessions/{held.id}/items/new"
    response = as_secretary.post(url, data=item_form(held, title="追加の報告"))
    assert response.status_code == 400
    assert NEEDS_CORRECTION in response.get_data(as_text=True)
    assert state(world, held) == before
    response = as_secretary.post(url, data=item_form(held, title="追加の報告", **CORRECTED))
    assert response.status_code == 302
    assert [title for _id, _n, title in state(world, held)[0]][-1] == "追加の報告"


def test_members_see_that_the_agenda_was_corrected(app, client, world, held):
    with app.app_context():
        agenda.move_item(
            world,
            held.items[1],
            "up",
            by=held.changes[0].person,
            correction=agenda.Correction(REASON),
        )
    world.commit()
    text = page(login(client, "member.kyogitai@example.jp"), held)
    assert "この議題は開催後に訂正されています" in text
    assert REASON not in text  # the reason is the secretariat's history


# --- Marking held -----------------------------------------------------------------------------


def test_mark_held_is_not_offered_nor_accepted_before_the_start(as_secretary, world):
    session = make_session(world, LAYER1)  # ahead: on DAY
    assert "開催済にする" not in page(as_secretary, session)
    changes = count(world, SessionChange)
    response = as_secretary.post(f"/sessions/{session.id}/status", data={"status": "held"})
    assert response.status_code == 302
    text = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert "まだ始まっていない会議は「開催済」にできません。" in text
    world.expire_all()
    assert world.get(MeetingSession, session.id).status == Status.CONVENED
    assert count(world, SessionChange) == changes


def test_mark_held_is_offered_once_the_session_has_started(as_secretary, world):
    session = make_session(world, LAYER1)
    session.start_at = utcnow() - timedelta(minutes=5)
    session.end_at = session.start_at + timedelta(hours=1)
    world.commit()
    assert "開催済にする" in page(as_secretary, session)
    response = as_secretary.post(f"/sessions/{session.id}/status", data={"status": "held"})
    assert response.status_code == 302
    world.expire_all()
    assert world.get(MeetingSession, session.id).status == Status.HELD
