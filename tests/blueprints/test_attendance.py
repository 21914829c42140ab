"""The attendance record form and the quorum on the session page, through HTTP."""

import pytest
from sqlalchemy import select

from renkei.models import Attendance, Person
from renkei.services import agenda, pledges, scheduling
from renkei.services.agenda import ItemData
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import LAYER1, PAST_DAY, REGISTERED_AFTER, SUPPORT, make_session

SECRET = "個別ケース（B氏）"


@pytest.fixture
def held(app, world):
    """A held joint session on PAST_DAY with a confidential 支援会議 item; the secretary
    and 兼務 三郎 have pledged."""
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    for person in (secretary, person_by_email(world, "member.both@example.jp")):
        pledges.record_pledge(world, support, person, by=secretary)
    session = make_session(world, SUPPORT, LAYER1, day=PAST_DAY)
    with app.app_context():
        agenda.add_item(
            world,
            session,
            ItemData(
                title=SECRET, body_id=support.id, planned_minutes=30, visibility="confidential"
            ),
            by=secretary,
            correction=REGISTERED_AFTER,
        )
        scheduling.set_status(world, session, "held", by=secretary)
    world.commit()
    return session


def ids(world) -> dict[str, int]:
    return {p.name: p.id for p in world.scalars(select(Person))}


def form(world, session, **lines) -> dict:
    """Everyone absent, except ``lines``: name -> {field: value} (presence, arrived, ...)."""
    people = ids(world)
    invited = [i.person.name for i in scheduling.invitees(world, session)]
    data = {"person": [people[name] for name in invited]}
    for name in invited:
        values = lines.get(name, {"presence": "absent"})
        for key, value in values.items():
            data[f"{key}-{people[name]}"] = value
    return data


def test_the_form_shows_everyone_with_the_confidential_item_to_the_pledged_secretary(
    as_secretary, world, held
):
    page = as_secretary.get(f"/sessions/{held.id}/attendance").get_data(as_text=True)
    assert "出席記録" in page and SECRET in page
    for name in ("兼務 三郎", "地域 さくら", "社協 大地"):
        assert name in page
    both = ids(world)["兼務 三郎"]
    assert f'name="item-{both}"' in page  # entitled and pledged: can be ticked
    assert f'name="item-{ids(world)["地域 さくら"]}"' not in page  # 協議体 only: cannot


def test_saving_the_record_shows_quorum_per_body_on_the_session_page(as_secretary, world, held):
    present = {"presence": "present"}
    data = form(
        world,
        held,
        **{n: present for n in ("兼務 三郎", "民生 ふみ", "介護 由美", "支援 一郎")},
    )
    response = as_secretary.post(f"/sessions/{held.id}/attendance", data=data)
    assert response.status_code == 302
    page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert "出席記録を保存しました。" in page and "出席記録による" in page
    support_row = page.split(f'<th scope="row">{SUPPORT}</th>')[1].split("</tr>")[0]
    layer1_row = page.split(f'<th scope="row">{LAYER1}</th>')[1].split("</tr>")[0]
    assert ">4<" in support_row and "成立" in support_row and "不成立" not in support_row
    assert ">3<" in layer1_row and "不成立" in layer1_row


def test_a_time_that_is_no_time_is_reported_on_its_row(as_secretary, world, held):
    data = form(world, held, **{"兼務 三郎": {"presence": "partial", "arrived": "25:99"}})
    response = as_secretary.post(f"/sessions/{held.id}/attendance", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "何も保存されていません" in page and "14:00のように" in page
    assert count(world, Attendance) == 0


def test_late_arrival_after_the_end_is_refused(as_secretary, world, held):
    data = form(world, held, **{"兼務 三郎": {"presence": "partial", "arrived": "16:30"}})
    response = as_secretary.post(f"/sessions/{held.id}/attendance", data=data)
    assert response.status_code == 400
    assert "到着時刻が会議の終了（16:00）より後です。" in response.get_data(as_text=True)
    assert count(world, Attendance) == 0


def test_ticking_an_unentitled_person_for_a_confidential_item_is_refused(as_secretary, world, held):
    secret = held.items[0].id
    data = form(world, held, **{"地域 さくら": {"presence": "present", "item": str(secret)}})
    response = as_secretary.post(f"/sessions/{held.id}/attendance", data=data)
    assert response.status_code == 400
    assert "地域 さくらさんは議題1に出席できません" in response.get_data(as_text=True)
    assert count(world, Attendance) == 0


def test_a_session_not_yet_held_has_no_form(as_secretary, world):
    session = make_session(world, SUPPORT)
    page = as_secretary.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "開催済」にしてからつけられます" in page and 'name="person"' not in page
    data = {"person": [ids(world)["兼務 三郎"]], f"presence-{ids(world)['兼務 三郎']}": "present"}
    response = as_secretary.post(f"/sessions/{session.id}/attendance", data=data)
    assert response.status_code == 302
    assert count(world, Attendance) == 0


def test_members_read_the_quorum_but_only_the_secretariat_records(client, world, held):
    login(client, "member.kyogitai@example.jp")
    assert client.get(f"/sessions/{held.id}/attendance").status_code == 403
    page = client.get(f"/sessions/{held.id}").get_data(as_text=True)
    assert "出席と定足数" in page and "出欠の返信による見込み" in page
    data = form(world, held, **{"兼務 三郎": {"presence": "present"}})
    assert client.post(f"/sessions/{held.id}/attendance", data=data).status_code == 403
    assert count(world, Attendance) == 0


def test_someone_elses_session_is_not_found(client, world, held):
    solo = make_session(world, SUPPORT, day=PAST_DAY)
    login(client, "member.kyogitai@example.jp")
    assert client.get(f"/sessions/{solo.id}/attendance").status_code == 404
    assert client.get("/sessions/999999/attendance").status_code == 404


def test_presence_at_the_confidential_item_is_listed_only_for_those_entitled_to_it(
    as_secretary, client, world, held
):
    secret = held.items[0].id
    both = {"presence": "present", "item": str(secret)}
    data = form(world, held, **{"兼務 三郎": both, "支援 一郎": {"presence": "present"}})
    assert as_secretary.post(f"/sessions/{held.id}/attendance", data=data).status_code == 302
    page = as_secretary.get(f"/sessions/{held.id}").get_data(as_text=True)
    assert f"議題1（{SECRET}）の出席者： 兼務 三郎<" in page
    login(client, "member.kyogitai@example.jp")  # on the 協議体 only
    page = client.get(f"/sessions/{held.id}").get_data(as_text=True)
    assert "出席記録による" in page and "の出席者：" not in page and SECRET not in page


# --- Bad input: a Japanese message, nothing written ----------------------------------------

EXPIRED = "フォームの有効期限が切れました。ページを再読み込みしてください。"
NOT_AN_ITEM = "その議題はこの会議の非公開議題ではありません。"
CHOOSE = "出席・遅刻/早退・代理出席・欠席のいずれかを選んでください。"


def saved(world) -> dict[int, str]:
    world.expire_all()
    return {a.person_id: a.presence.value for a in world.scalars(select(Attendance))}


def other_sessions_item(app, world) -> int:
    """A confidential item of another held session of the same body."""
    secretary = person_by_email(world, "secretary@example.jp")
    other = make_session(world, SUPPORT, day=PAST_DAY, title="別の会議")
    with app.app_context():
        item = agenda.add_item(
            world,
            other,
            ItemData(title="別件", body_id=other.bodies[0].id, visibility="confidential"),
            by=secretary,
            correction=REGISTERED_AFTER,
        )
    world.commit()
    return item.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"person": "abc"}, EXPIRED),  # a person's id that is no number
        ({"person": "99999999999"}, EXPIRED),  # beyond any id
        ({"presence": "maybe"}, CHOOSE),
        ({"presence": ""}, CHOOSE),
        ({"arrived": "2時"}, "14:00のように"),
        ({"item": "x"}, NOT_AN_ITEM),
        ({"item": "other"}, NOT_AN_ITEM),  # someone else's: another session's item
        ({"note": "長" * 201}, "200文字以内で入力してください。"),
        ({"proxy": "長" * 101}, "100文字以内で入力してください。"),  # although present
    ],
    ids=[
        "person-not-a-number",
        "person-beyond-ids",
        "unknown-presence",
        "no-presence",
        "no-time",
        "item-not-a-number",
        "item-of-another-session",
        "long-note",
        "long-proxy",
    ],
)
def test_bad_input_on_a_line_is_refused_in_japanese_and_changes_nothing(
    app, as_secretary, world, held, change, message
):
    url = f"/sessions/{held.id}/attendance"
    assert as_secretary.post(url, data=form(world, held)).status_code == 302
    before = saved(world)
    both = ids(world)["兼務 三郎"]
    line = {"presence": "partial", "arrived": "14:30"} | {
        key: value for key, value in change.items() if key != "person"
    }
    if line.get("item") == "other":
        line["item"] = str(other_sessions_item(app, world))
    data = form(world, held, **{"兼務 三郎": line})
    if "person" in change:
        data["person"] = [*data["person"], change["person"]]
    response = as_secretary.post(url, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "何も保存されていません" in page and message in page
    if "person" not in change:  # said on the line, which keeps what was typed
        assert 'class="has-error"' in page.split(f'id="row-{both}"')[1].split(">")[0]
    assert saved(world) == before == dict.fromkeys(before, "absent")


def test_someone_not_invited_is_refused_and_nothing_is_written(as_secretary, world, held):
    """Someone else's id: a person the session did not invite."""
    outsider = person_by_email(world, "admin@example.jp").id
    data = form(world, held, **{"兼務 三郎": {"presence": "present"}})
    data["person"].append(outsider)
    data[f"presence-{outsider}"] = "present"
    response = as_secretary.post(f"/sessions/{held.id}/attendance", data=data)
    assert response.status_code == 302
    page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert "この会議に招集されていない人が含まれています。" in page
    assert count(world, Attendance) == 0


def test_an_empty_form_is_refused(as_secretary, world, held):
    response = as_secretary.post(f"/sessions/{held.id}/attendance", data={})
    assert response.status_code == 400
    assert "入力がありませんでした。" in response.get_data(as_text=True)
    assert count(world, Attendance) == 0
