"""Follow-up tasks through the pages: the secretariat's list (/tasks/), creating a task for a
body with Japanese errors for bad input, and the 「前回からの継続事項」 on the next session's
page and 次第 until done, closed, deferred or reordered there."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.models import ActionItem, TaskCarry
from renkei.services import pledges, tasks
from renkei.services.dates import today
from tests.conftest import client_for
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session

SECRET = "CANARY-TASK-世帯の家計状況を確認する"
OPEN_TASK = "通いの場の候補地を調べる"
CARRIED = "前回からの継続事項"
CLOSED = "非公開"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def people(world):
    found = {
        name: person_by_email(world, f"{name}@example.jp")
        for name in ("secretary", "chair.support", "chair.kyogitai", "member.kyogitai", "admin")
    }
    for name in ("secretary", "chair.support"):
        pledges.record_pledge(world, body_named(world, SUPPORT), found[name], by=found[name])
    world.commit()
    return found


@pytest.fixture
def secret(world, people):
    """A task of the 支援会議 (confidential by default) for its pledged chair."""
    task = tasks.add_for_body(
        world,
        body_named(world, SUPPORT).id,
        text=SECRET,
        owner=tasks.Owner(person_id=people["chair.support"].id),
        due_on=today() + timedelta(days=3),
        visibility=None,
        by=people["secretary"],
    )
    world.commit()
    return task


def form(world, people, **values) -> dict:
    return {
        "body_id": body_named(world, LAYER1).id,
        "text": OPEN_TASK,
        "owner_id": f"p{people['chair.kyogitai'].id}",
        "due_on": (today() + timedelta(days=14)).isoformat(),
        **values,
    }


# --- Creating -----------------------------------------------------------------------------


def test_the_secretariat_creates_a_task_for_a_body(app, world, people):
    client = client_for(app, "secretary")
    assert client.get("/tasks/new").status_code == 200
    response = client.post("/tasks/new", data=form(world, people))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tasks/")
    page = text(client.get("/tasks/"))
    assert OPEN_TASK in page and "協議 次郎" in page
    (task,) = world.scalars(select(ActionItem)).all()
    assert (task.owner_id, task.body.name) == (people["chair.kyogitai"].id, LAYER1)
    # The due date reads as the pages' other dates do, never 2026-12-24.
    due = task.due_on
    assert f"{due.month}月{due.day}日" in page and due.isoformat() not in page


@pytest.mark.parametrize(
    "values, message",
    [
        ({"due_on": "2026-13-45"}, "2026-04-01"),
        ({"due_on": "来週"}, "2026-04-01"),
        ({"due_on": "2020-04-01"}, "期限を過去の日付にすることはできません。"),
        ({"text": " "}, "宿題の内容を入力してください。"),
        ({"owner_id": ""}, "担当を選んでください"),
        ({"owner_id": "p999999"}, "担当"),
        ({"owner_id": "x1"}, "担当"),
        ({"body_id": "999999"}, "あなたが事務局を務める会議体を選んでください。"),
        ({"body_id": "abc"}, "あなたが事務局を務める会議体を選んでください。"),
        ({"visibility": "session"}, "この宿題を見られる範囲を選んでください。"),
    ],
)
def test_bad_input_is_said_in_japanese_and_writes_nothing(app, world, people, values, message):
    client = client_for(app, "secretary")
    response = client.post("/tasks/new", data=form(world, people, **values))
    assert response.status_code == 400, values
    assert message in text(response), values
    assert count(world, ActionItem) == 0


def test_an_owner_who_may_not_see_the_task_is_refused(app, world, people):
    client = client_for(app, "secretary")
    data = form(
        world,
        people,
        body_id=body_named(world, SUPPORT).id,
        owner_id=f"p{people['member.kyogitai'].id}",
    )
    response = client.post("/tasks/new", data=data)
    assert response.status_code == 400
    assert "地域 さくらさんはこの宿題の内容を見ることができないため" in text(response)
    public = form(world, people, body_id=body_named(world, SUPPORT).id, visibility="public")
    response = client.post("/tasks/new", data=public)
    assert "会議体の規則より広い範囲に公開することはできません" in text(response)
    assert count(world, ActionItem) == 0


def test_only_a_secretariat_has_the_list(app, world, people):
    for name in ("member.both", "chair.kyogitai"):
        client = client_for(app, name)
        assert client.get("/tasks/").status_code == 403, name
        assert client.post("/tasks/new", data=form(world, people)).status_code == 403, name
    assert count(world, ActionItem) == 0


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_a_closed_task_as_closed_to_the_administrator(app, world, secret):
    page = text(client_for(app, "admin").get("/tasks/"))
    owner = '<td data-label="担当者">支援 一郎</td>'
    assert SECRET not in page and CLOSED in page and owner not in page
    page = text(client_for(app, "secretary").get("/tasks/"))
    assert SECRET in page and owner in page


def test_the_list_filters_by_body_owner_and_overdue(app, world, people, secret):
    client = client_for(app, "secretary")
    client.post("/tasks/new", data=form(world, people))
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    page = text(client.get(f"/tasks/?body={layer1.id}"))
    assert OPEN_TASK in page and SECRET not in page
    page = text(client.get(f"/tasks/?body={support.id}"))
    assert SECRET in page and OPEN_TASK not in page
    page = text(client.get(f"/tasks/?owner=p{people['chair.support'].id}"))
    assert SECRET in page and OPEN_TASK not in page
    secret.due_on = today() - timedelta(days=1)
    world.commit()
    page = text(client.get("/tasks/?overdue=1"))
    assert SECRET in page and OPEN_TASK not in page and "期限超過" in page
    assert 'class="badge warn"' in page  # styled as every other warning (app.css)
    # Nonsense in the query is no filter, not an error.
    assert client.get("/tasks/?body=x&owner=zz&overdue=maybe").status_code == 200


# --- Carried onto the next session --------------------------------------------------------


def test_a_task_is_carried_onto_the_next_agenda_until_done(app, world, people, secret):
    session = make_session(world, SUPPORT, LAYER1)
    client = client_for(app, "secretary")
    page = text(client.get(f"/sessions/{session.id}"))
    assert CARRIED in page and SECRET in page
    assert SECRET in text(client.get(f"/sessions/{session.id}/order"))
    # The 協議体's member in the joint session sees that it exists, not what it says.
    kyogitai = client_for(app, "member.kyogitai")
    page = text(kyogitai.get(f"/sessions/{session.id}"))
    assert CARRIED in page and SECRET not in page and CLOSED in page
    assert SECRET not in text(kyogitai.get(f"/sessions/{session.id}/order"))
    # Closed from the section: gone from the agenda (the session is still to come).
    response = client.post(f"/sessions/{session.id}/carried/{secret.id}/done", data={})
    assert response.status_code == 302
    assert "宿題を完了にしました。" in text(client.get(response.headers["Location"]))
    page = text(client.get(f"/sessions/{session.id}"))
    assert SECRET not in page and CARRIED not in page
    world.expire_all()
    assert world.get(ActionItem, secret.id).done_at is not None


def test_deferring_moves_a_task_to_the_session_after(app, world, people, secret):
    first = make_session(world, SUPPORT)
    second = make_session(world, SUPPORT, day=DAY + timedelta(days=28))
    client = client_for(app, "secretary")
    response = client.post(f"/sessions/{first.id}/carried/{secret.id}/defer", data={})
    assert "宿題を次回に繰り越しました。" in text(client.get(response.headers["Location"]))
    assert SECRET not in text(client.get(f"/sessions/{first.id}"))
    assert SECRET in text(client.get(f"/sessions/{second.id}"))


def test_the_carried_tasks_are_reordered(app, world, people, secret):
    later = tasks.add_for_body(
        world,
        body_named(world, SUPPORT).id,
        text="後回しの宿題",
        owner=tasks.Owner(person_id=people["chair.support"].id),
        due_on=today() + timedelta(days=20),
        visibility=None,
        by=people["secretary"],
    )
    world.commit()
    session = make_session(world, SUPPORT)
    client = client_for(app, "secretary")
    page = text(client.get(f"/sessions/{session.id}"))
    assert page.index(SECRET) < page.index("後回しの宿題")
    response = client.post(
        f"/sessions/{session.id}/carried/order", data={"order": f"{later.id},{secret.id}"}
    )
    assert "継続事項の順序を保存しました。" in text(client.get(response.headers["Location"]))
    page = text(client.get(f"/sessions/{session.id}"))
    assert page.index("後回しの宿題") < page.index(SECRET)
    # A stale or forged order changes nothing.
    for order in (f"{later.id}", f"{later.id},{secret.id},999999", "1,x"):
        response = client.post(f"/sessions/{session.id}/carried/order", data={"order": order})
        assert response.status_code in (302, 400)
    positions = world.scalars(select(TaskCarry.position).order_by(TaskCarry.position)).all()
    assert positions == [1, 2]


def test_only_the_secretariat_changes_the_carried_tasks(app, world, people, secret):
    session = make_session(world, SUPPORT)
    chair = client_for(app, "chair.support")
    for action in ("done", "defer"):
        response = chair.post(f"/sessions/{session.id}/carried/{secret.id}/{action}", data={})
        assert response.status_code == 403
    outsider = client_for(app, "member.kyogitai")
    response = outsider.post(f"/sessions/{session.id}/carried/{secret.id}/done", data={})
    assert response.status_code == 404  # a 支援会議 of its own: not theirs to know of
    world.expire_all()
    assert world.get(ActionItem, secret.id).done_at is None
    assert count(world, TaskCarry) == 0


def test_the_owner_finds_a_task_of_a_body_on_the_home_page_and_closes_it(app, world, secret):
    chair = client_for(app, "chair.support")
    home = text(chair.get("/"))
    assert SECRET in home and "みどり町支援会議" in home
    other = client_for(app, "member.both")  # on the 支援会議, neither owner nor secretariat
    assert other.post(f"/actions/{secret.id}/done", data={"next": "/"}).status_code == 404
    response = chair.post(f"/actions/{secret.id}/done", data={"next": "/"})
    assert response.status_code == 302
    world.expire_all()
    assert world.get(ActionItem, secret.id).done_at is not None
