"""The body register on the web: the body form and page show the setting-up authority, the
設置要綱 and a 協議体's layer; the organisation form and list its municipality; a body set up
by the prefecture lists its members with their towns. Wrong input is said in Japanese and
changes nothing."""

from datetime import date

import pytest
from sqlalchemy import select

from renkei.models import AuditEntry, Authority, Layer, Organisation
from renkei.services import demo
from tests.helpers import body_named


def _form(body, **changes) -> dict:
    """What the body's edit form posts, with ``changes``."""
    data = {
        "name": body.name,
        "kind": body.kind.value,
        "area": body.area,
        "parent_id": str(body.parent_id or ""),
        "programme": "",
        "confidentiality": "",
        "quorum_rule": "majority",
        "description": body.description,
        "layer": body.layer.value if body.layer else "",
        "authority": body.authority.value,
        "rules_title": body.rules_title,
        "rules_enacted_on": body.rules_enacted_on.isoformat() if body.rules_enacted_on else "",
        "rules_amended_on": body.rules_amended_on.isoformat() if body.rules_amended_on else "",
    }
    return {**data, **changes}


def test_the_body_page_shows_the_register_entry(as_secretary, world):
    kyogitai = body_named(world, demo.KYOGITAI)
    page = as_secretary.get(f"/bodies/{kyogitai.id}").get_data(as_text=True)
    assert "第1層（市町村全域）" in page and "設置主体" in page and "市町村" in page
    rules = "みどり町生活支援体制整備事業実施要綱（平成28年4月1日制定、令和4年4月1日最終改正）"
    assert rules in page
    form = as_secretary.get(f"/bodies/{kyogitai.id}/edit").get_data(as_text=True)
    assert '<option selected value="first">' in form
    assert 'value="2016-04-01"' in form and "設置要綱の名称" in form


def test_the_secretary_edits_the_register_entry(as_secretary, world):
    support = body_named(world, demo.SUPPORT)
    response = as_secretary.post(
        f"/bodies/{support.id}/edit",
        data=_form(
            support,
            authority="prefecture",
            rules_title="あおぞら県支援会議設置要綱",
            rules_enacted_on="2019-10-01",
            rules_amended_on="2025-04-01",
        ),
    )
    assert response.status_code == 302
    world.expire_all()
    support = body_named(world, demo.SUPPORT)
    assert support.authority == Authority.PREFECTURE
    assert (support.rules_enacted_on, support.rules_amended_on) == (
        date(2019, 10, 1),
        date(2025, 4, 1),
    )
    page = as_secretary.get(f"/bodies/{support.id}").get_data(as_text=True)
    assert "都道府県" in page and "令和元年10月1日制定" in page
    log = as_secretary.get(f"/audit/?body={support.id}").get_data(as_text=True)
    assert "会議体の登録内容を変更" in log


@pytest.mark.parametrize(
    ("body_name", "changes", "message"),
    [
        (
            demo.SUPPORT,
            {"authority": "village"},
            "設置主体を、市町村・都道府県・広域連合等から選んでください。",
        ),
        (
            demo.SUPPORT,
            {"rules_enacted_on": "2024-04-01", "rules_amended_on": "2019-04-01"},
            "最終改正日が制定日より前になっています。",
        ),
        (demo.SUPPORT, {"layer": "second"}, "層を指定できるのは協議体だけです。"),
        (demo.KYOGITAI, {"layer": "third"}, "第1層か第2層を選んでください。"),
        (demo.SUPPORT, {"rules_title": "要" * 201}, "200文字以内で入力してください。"),
        (demo.SUPPORT, {"rules_enacted_on": "2019-13-01"}, "日付"),
    ],
)
def test_wrong_register_input_is_said_in_japanese_and_changes_nothing(
    as_secretary, world, body_name, changes, message
):
    body = body_named(world, body_name)
    before = (body.authority, body.layer, body.rules_title, body.rules_enacted_on)
    response = as_secretary.post(f"/bodies/{body.id}/edit", data=_form(body, **changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "保存されていません" in page
    world.expire_all()
    body = body_named(world, body_name)
    assert (body.authority, body.layer, body.rules_title, body.rules_enacted_on) == before


def test_control_characters_in_the_rules_title_are_stored_as_one_line(as_secretary, world):
    """A form makes a pasted line break a space (renkei.textnorm): the title stays one line."""
    support = body_named(world, demo.SUPPORT)
    response = as_secretary.post(
        f"/bodies/{support.id}/edit",
        data=_form(support, rules_title="みどり町支援会議\r\n設置要綱\x00"),
    )
    assert response.status_code == 302
    world.expire_all()
    assert body_named(world, demo.SUPPORT).rules_title == "みどり町支援会議 設置要綱"


def test_a_new_consultative_body_gets_its_layer(as_admin, world):
    response = as_admin.post(
        "/bodies/new",
        data={"name": "南中学校区協議体", "kind": "consultative_body", "layer": "second",
              "authority": "municipality"},
    )  # fmt: skip
    assert response.status_code == 302
    assert body_named(world, "南中学校区協議体").layer == Layer.SECOND


def test_the_prefecture_body_lists_its_members_with_their_towns(as_admin, world):
    prefecture = body_named(world, demo.PREFECTURE)
    page = as_admin.get(f"/bodies/{prefecture.id}").get_data(as_text=True)
    assert '<th scope="col">市町村</th>' in page
    towns = (("桜井 和子", "さくら町"), ("福祉 正", "みどり町"), ("東部 秋子", "あおぞら県"))
    for name, town in towns:
        row = page[page.index(name) :].split("</tr>")[0]
        assert f">{town}</td>" in row
    assert "都道府県" in page and "あおぞら県東部地区支援会議設置要綱" in page


def test_a_body_of_one_town_without_municipalities_shows_no_town_column(as_admin, world):
    for organisation in world.scalars(select(Organisation)):
        organisation.municipality = ""
    world.commit()
    support = body_named(world, demo.SUPPORT)
    page = as_admin.get(f"/bodies/{support.id}").get_data(as_text=True)
    assert '<th scope="col">市町村</th>' not in page


def test_the_administrator_records_an_organisations_municipality(as_admin, world):
    response = as_admin.post(
        "/organisations/new",
        data={"name": "さくら町 社会福祉協議会", "kind": "social_welfare_council",
              "municipality": "さくら町", "contact": ""},
    )  # fmt: skip
    assert response.status_code == 302
    page = as_admin.get("/organisations/").get_data(as_text=True)
    row = page[page.index("さくら町 社会福祉協議会") :].split("</tr>")[0]
    assert "<td>さくら町</td>" in row
    made = world.scalar(select(Organisation).where(Organisation.name == "さくら町 社会福祉協議会"))
    entry = world.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject_id) == ("organisation_created", made.id)
    form = as_admin.get(f"/organisations/{made.id}/edit").get_data(as_text=True)
    assert 'value="さくら町"' in form


def test_an_overlong_municipality_is_said_in_japanese_and_changes_nothing(as_admin, world):
    organisation = world.scalar(select(Organisation).where(Organisation.name == "みどり町 税務課"))
    response = as_admin.post(
        f"/organisations/{organisation.id}/edit",
        data={"name": organisation.name, "kind": organisation.kind.value,
              "municipality": "町" * 51, "contact": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert "50文字以内で入力してください。" in response.get_data(as_text=True)
    world.expire_all()
    assert world.get(Organisation, organisation.id).municipality == demo.TOWN


def test_a_secretary_is_offered_only_their_own_bodies_as_parent(as_secretary, world):
    """A subcommittee goes under a body whose secretariat one is: the prefecture's 支援会議,
    run by its own secretariat, is not offered to the town's secretary."""
    form = as_secretary.get("/bodies/new").get_data(as_text=True)
    prefecture = body_named(world, demo.PREFECTURE)
    assert f'<option value="{prefecture.id}">' not in form
    assert f'<option value="{body_named(world, demo.SUPPORT).id}">' in form
