from renkei.models import Body
from tests.conftest import login
from tests.helpers import body_named, count

SUPPORT = "みどり町支援会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"
LAYER2 = "北中学校区協議体（第2層）"


def test_secretary_sees_the_bodies_and_their_members(as_secretary, world):
    page = as_secretary.get("/bodies/").get_data(as_text=True)
    for name in (SUPPORT, LAYER1, LAYER2, "みどり町支援調整会議"):
        assert name in page
    support = body_named(world, SUPPORT)
    page = as_secretary.get(f"/bodies/{support.id}").get_data(as_text=True)
    assert "兼務 三郎" in page and "法定の守秘義務あり" in page
    assert "member.both@example.jp" in page  # the secretariat sees contact details


def test_a_member_sees_the_body_without_contact_details_or_edit_links(client, world):
    login(client, "member.kyogitai@example.jp")
    layer1 = body_named(world, LAYER1)
    page = client.get(f"/bodies/{layer1.id}").get_data(as_text=True)
    assert "兼務 三郎" in page
    assert "member.both@example.jp" not in page
    assert f"/bodies/{layer1.id}/edit" not in page


def test_administrator_creates_a_body(as_admin, world):
    response = as_admin.post(
        "/bodies/new",
        data={"name": "みどり町地域ケア会議", "kind": "community_care", "area": "町全域"},
    )
    assert response.status_code == 302
    body = body_named(world, "みどり町地域ケア会議")
    assert body.confidentiality == "statutory" and body.programme == "comprehensive_support"
    page = as_admin.get(f"/bodies/{body.id}").get_data(as_text=True)
    assert "介護保険・包括的支援事業" in page and "生活支援体制整備事業" not in page


def test_administrator_creates_a_multi_agency_support_meeting(as_admin, world):
    form = as_admin.get("/bodies/new").get_data(as_text=True)
    assert '<option value="multi_agency">重層的支援体制整備事業の支援会議</option>' in form
    response = as_admin.post(
        "/bodies/new",
        data={"name": "みどり町重層的支援会議", "kind": "multi_agency", "area": "町全域"},
    )
    assert response.status_code == 302
    body = body_named(world, "みどり町重層的支援会議")
    assert body.kind == "multi_agency" and body.confidentiality == "statutory"
    assert body.programme == "multi_agency"
    page = as_admin.get(f"/bodies/{body.id}").get_data(as_text=True)
    assert "重層的支援体制整備事業の支援会議" in page and "法定の守秘義務あり" in page


def test_secretary_creates_a_subcommittee(as_secretary, world):
    layer1 = body_named(world, LAYER1)
    response = as_secretary.post(
        "/bodies/new",
        data={
            "name": "南中学校区協議体（第2層）",
            "kind": "consultative_body",
            "parent_id": layer1.id,
        },
    )
    assert response.status_code == 302
    assert body_named(world, "南中学校区協議体（第2層）").parent_id == layer1.id


def test_body_cannot_be_its_own_ancestor(as_secretary, world):
    layer1, layer2 = body_named(world, LAYER1), body_named(world, LAYER2)
    response = as_secretary.post(
        f"/bodies/{layer1.id}/edit",
        data={"name": LAYER1, "kind": "consultative_body", "parent_id": layer2.id},
    )
    assert response.status_code == 400
    assert "分科会の分科会にすることはできません" in response.get_data(as_text=True)
    world.expire_all()
    assert body_named(world, LAYER1).parent_id is None


def test_non_secretary_cannot_edit_a_body(client, world):
    login(client, "chair.support@example.jp")
    support = body_named(world, SUPPORT)
    assert client.get(f"/bodies/{support.id}/edit").status_code == 403
    response = client.post(
        f"/bodies/{support.id}/edit", data={"name": "乗っ取り", "kind": "support_meeting"}
    )
    assert response.status_code == 403
    assert "権限がありません" in response.get_data(as_text=True)
    world.expire_all()
    assert body_named(world, SUPPORT) is not None


def test_member_cannot_create_bodies(client, world):
    login(client, "member.both@example.jp")
    before = count(world, Body)
    response = client.post("/bodies/new", data={"name": "勝手な会議", "kind": "other"})
    assert response.status_code == 403
    assert count(world, Body) == before


def test_secretary_may_not_change_confidentiality(as_secretary, world):
    layer1 = body_named(world, LAYER1)
    response = as_secretary.post(
        f"/bodies/{layer1.id}/edit",
        data={"name": LAYER1, "kind": "consultative_body", "confidentiality": "statutory"},
    )
    assert response.status_code == 400
    assert "管理者だけ" in response.get_data(as_text=True)
    world.expire_all()
    assert body_named(world, LAYER1).confidentiality == "public"


def test_empty_name_and_unknown_kind_are_refused_in_japanese(as_admin, world):
    before = count(world, Body)
    response = as_admin.post("/bodies/new", data={"name": "", "kind": "nonsense"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "名前を入力してください。" in page
    assert count(world, Body) == before
    response = as_admin.post("/bodies/new", data={"name": "謎の会議", "kind": "multi-agency"})
    assert response.status_code == 400
    assert "選択肢が正しくありません。" in response.get_data(as_text=True)
    assert count(world, Body) == before


def test_overlap_matrix_and_shared_people(as_secretary, world):
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    page = as_secretary.get("/bodies/overlap").get_data(as_text=True)
    assert 'class="matrix"' in page
    assert f"a={support.id}&amp;b={layer1.id}" in page
    page = as_secretary.get(f"/bodies/overlap?a={support.id}&b={layer1.id}").get_data(as_text=True)
    shared = page.split('id="shared"')[1]
    assert "兼務 三郎" in shared and "民生 ふみ" in shared
    assert "税務 健" not in shared  # only on the 支援会議


def test_overlap_is_for_secretaries(client, world):
    login(client, "member.both@example.jp")
    assert client.get("/bodies/overlap").status_code == 403
