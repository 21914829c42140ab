from renkei.models import Organisation, Person
from tests.conftest import login
from tests.helpers import count, person_by_email


def test_secretary_registers_a_person_without_login(as_secretary, world):
    response = as_secretary.post(
        "/people/new", data={"name": "住民 はな", "kana": "じゅうみん はな", "email": ""}
    )
    assert response.status_code == 302
    person = world.query(Person).filter_by(name="住民 はな").one()
    assert not person.has_login and person.email is None


def test_duplicate_email_is_refused_in_japanese(as_secretary, world):
    before = count(world, Person)
    response = as_secretary.post(
        "/people/new", data={"name": "別人", "email": "Member.Both@example.jp"}
    )
    assert response.status_code == 400
    assert "このメールアドレスはすでに別の方が登録しています。" in response.get_data(as_text=True)
    assert count(world, Person) == before


def test_unknown_organisation_is_refused_in_japanese(as_secretary, world):
    before = count(world, Person)
    response = as_secretary.post("/people/new", data={"name": "誰か", "organisation_id": "999999"})
    assert "指定された機関は登録されていません。" in response.get_data(as_text=True)
    assert count(world, Person) == before


def test_secretary_cannot_edit_someone_with_a_login(as_secretary, world):
    admin = person_by_email(world, "admin@example.jp")
    response = as_secretary.post(
        f"/people/{admin.id}/edit", data={"name": "管理 太郎", "email": "mine@example.jp"}
    )
    assert response.status_code == 403
    world.expire_all()
    assert person_by_email(world, "admin@example.jp") is not None


def test_administrator_gives_a_login_later(app, as_admin, world):
    as_admin.post("/people/new", data={"name": "住民 はな", "email": "hana@example.jp"})
    person = person_by_email(world, "hana@example.jp")
    response = as_admin.post(
        f"/people/{person.id}/login",
        data={"password": "hana-password-1", "confirm": "hana-password-1"},
    )
    assert response.status_code == 302
    login(app.test_client(), "hana@example.jp", "hana-password-1")


def test_secretary_cannot_give_logins_or_admin_rights(as_secretary, world):
    member = person_by_email(world, "member.both@example.jp")
    response = as_secretary.post(
        f"/people/{member.id}/account", data={"active": "y", "is_admin": "y"}
    )
    assert response.status_code == 403
    world.expire_all()
    assert not person_by_email(world, "member.both@example.jp").is_admin


def test_people_register_is_not_for_plain_members(client, world):
    login(client, "member.kyogitai@example.jp")
    assert client.get("/people/").status_code == 403
    other = person_by_email(world, "member.both@example.jp")
    assert client.get(f"/people/{other.id}").status_code == 403


def test_people_search(as_secretary, world):
    page = as_secretary.get("/people/?q=けんむ").get_data(as_text=True)
    assert "兼務 三郎" in page and "民生 ふみ" not in page


def test_administrator_manages_organisations(as_admin, world):
    response = as_admin.post(
        "/organisations/new", data={"name": "みどり町 住宅課", "kind": "municipal_department"}
    )
    assert response.status_code == 302
    assert world.query(Organisation).filter_by(name="みどり町 住宅課").count() == 1
    response = as_admin.post(
        "/organisations/new", data={"name": "みどり町 住宅課", "kind": "municipal_department"}
    )
    assert "同じ名前の機関がすでにあります。" in response.get_data(as_text=True)


def test_secretary_cannot_manage_organisations(as_secretary, world):
    before = count(world, Organisation)
    response = as_secretary.post("/organisations/new", data={"name": "X", "kind": "npo"})
    assert response.status_code == 403
    assert count(world, Organisation) == before


def test_people_register_is_paginated(as_secretary, world):
    world.add_all(Person(name=f"追加 {i:03d}", kana=f"ん {i:03d}") for i in range(120))
    world.commit()
    first = as_secretary.get("/people/").get_data(as_text=True)
    second = as_secretary.get("/people/?page=2").get_data(as_text=True)
    assert first.count('href="/people/') - second.count('href="/people/') > 50
    assert "追加 119" in second and "追加 119" not in first
    assert "2 / 2ページ" in second
