"""Case numbers on the agenda form and pages, and the warning about people's names."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from renkei.models import AgendaItem, CaseNumberCounter, MinutesVersion, Pledge
from renkei.services import case_numbers
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import (
    DAY,
    LAYER1,
    SUPPORT,
    case_number,
    full_width,
    make_session,
    mark_held,
)

FIRST = case_number(1)  # the first of DAY's fiscal year: R8-0001 in 令和8年度


def pledge(world, email, body=SUPPORT):
    world.add(
        Pledge(
            person=person_by_email(world, email),
            body=body_named(world, body),
            pledged_on=date(2026, 4, 1),
        )
    )
    world.commit()


def form(world, body=SUPPORT, **extra) -> dict:
    return {
        "title": "個別ケース検討",
        "body_id": body_named(world, body).id,
        "presenter": "",
        "planned_minutes": "20",
        "description": "",
        "visibility": "",
        "case_number": "",
        **extra,
    }


@pytest.fixture
def joint(world):
    """A joint session of the 支援会議 and the public 第1層 協議体, on DAY."""
    return make_session(world, SUPPORT, LAYER1)


def new_item(client, session, data):
    return client.post(f"/sessions/{session.id}/items/new", data=data)


def nothing_written(world, before) -> None:
    world.expire_all()
    assert (count(world, AgendaItem), count(world, CaseNumberCounter)) == before


def counts(world) -> tuple[int, int]:
    return count(world, AgendaItem), count(world, CaseNumberCounter)


def test_the_secretary_assigns_the_next_case_number(as_secretary, world, joint):
    pledge(world, "secretary@example.jp")
    page = as_secretary.get(f"/sessions/{joint.id}/items/new").get_data(as_text=True)
    assert "ケース番号" in page and "次のケース番号を採番する" in page
    assert "支援対象者の氏名を保存しません" in page
    response = new_item(as_secretary, joint, form(world, assign_case_number="y"))
    assert response.status_code == 302
    item = world.scalar(select(AgendaItem))
    assert item.case_number == FIRST
    assert f"ケース番号{FIRST}" in as_secretary.get(f"/sessions/{joint.id}").get_data(as_text=True)


def test_a_case_discussed_again_is_typed(as_secretary, world, joint):
    pledge(world, "secretary@example.jp")
    new_item(as_secretary, joint, form(world, assign_case_number="y"))
    later = make_session(world, SUPPORT, day=DAY + timedelta(weeks=5))
    response = new_item(as_secretary, later, form(world, case_number=full_width(FIRST)))
    assert response.status_code == 302
    assert world.scalars(select(AgendaItem.case_number)).all() == [FIRST, FIRST]


@pytest.mark.parametrize("typed", ["R8-12", "8-0012", "R8/0012", "ケース1"])
def test_a_case_number_in_another_format_is_refused_in_japanese(as_secretary, world, joint, typed):
    before = counts(world)
    response = new_item(as_secretary, joint, form(world, case_number=typed))
    assert response.status_code == 400
    example = case_numbers.example("", DAY)  # R8-0012 in 令和8年度
    assert f"ケース番号は{example}の形式で入力してください。" in response.get_data(as_text=True)
    nothing_written(world, before)


def test_a_case_number_on_a_public_bodys_item_is_refused(as_secretary, world, joint):
    before = counts(world)
    response = new_item(as_secretary, joint, form(world, LAYER1, assign_case_number="y"))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "公開の会議体の議題にはケース番号を付けられません。" in text
    nothing_written(world, before)


def test_the_case_number_is_shown_only_to_those_who_may_see_the_item(client, world, joint):
    pledge(world, "secretary@example.jp")
    new_item(login(client, "secretary@example.jp"), joint, form(world, assign_case_number="y"))
    client.post("/logout")
    for email in ("member.kyogitai@example.jp", "member.both@example.jp", "admin@example.jp"):
        page = login(client, email).get(f"/sessions/{joint.id}").get_data(as_text=True)
        assert FIRST not in page and "非公開議題" in page
        client.post("/logout")
    pledge(world, "member.both@example.jp")
    page = login(client, "member.both@example.jp").get(f"/sessions/{joint.id}")
    assert f"ケース番号{FIRST}" in page.get_data(as_text=True)


def test_the_minutes_section_shows_the_case_number(as_secretary, world, joint):
    pledge(world, "secretary@example.jp")
    new_item(as_secretary, joint, form(world, assign_case_number="y"))
    mark_held(world, joint)
    world.commit()
    edit = as_secretary.post(f"/sessions/{joint.id}/minutes", data={}, follow_redirects=True)
    assert f"個別ケース検討（ケース番号{FIRST}）" in edit.get_data(as_text=True)
    version = world.scalar(select(MinutesVersion))
    page = as_secretary.get(f"/minutes/{version.id}?view=full").get_data(as_text=True)
    assert f"個別ケース検討（ケース番号{FIRST}）" in page
    # The member view leaves the confidential section out, its case number with it.
    page = as_secretary.get(f"/minutes/{version.id}").get_data(as_text=True)
    assert FIRST not in page


# --- The warning about people's names -----------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"title": "プラン協議：Cさん（70代・家計改善）"},
        {"title": "個別ケース検討", "description": "- 山田太郎さんの家賃滞納について"},
    ],
)
def test_a_persons_name_is_warned_about_and_nothing_saved(as_secretary, world, joint, extra):
    pledge(world, "secretary@example.jp")
    before = counts(world)
    response = new_item(as_secretary, joint, form(world, **extra))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "まだ保存していません。人の氏名らしき記載があります。" in text
    assert "このまま保存する" in text and "ケース番号" in text
    assert "「Cさん」" in text or "「山田太郎さん」" in text
    nothing_written(world, before)


def test_save_as_it_is_saves_despite_the_warning(as_secretary, world, joint):
    pledge(world, "secretary@example.jp")
    data = form(world, title="佐藤様（地区の見守り協力者）への謝意", save_anyway="y")
    assert new_item(as_secretary, joint, data).status_code == 302
    assert world.scalar(select(AgendaItem.title)) == "佐藤様（地区の見守り協力者）への謝意"


def test_words_like_minasan_are_no_names(as_secretary, world, joint):
    response = new_item(as_secretary, joint, form(world, LAYER1, title="皆さんへの連絡事項"))
    assert response.status_code == 302


def test_editing_warns_too(as_secretary, world, joint):
    pledge(world, "secretary@example.jp")
    new_item(as_secretary, joint, form(world))
    item = world.scalar(select(AgendaItem))
    response = as_secretary.post(f"/items/{item.id}/edit", data=form(world, title="鈴木氏の件"))
    assert response.status_code == 200 and "「鈴木氏」" in response.get_data(as_text=True)
    world.expire_all()
    assert world.get(AgendaItem, item.id).title == "個別ケース検討"
