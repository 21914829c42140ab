from renkei.models import Membership
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email

SUPPORT = "みどり町支援会議"


def _form(person_id, **extra):
    return {"person_id": person_id, "role": "member", "term_start": "2026-04-01", **extra}


def test_secretary_adds_a_member(as_secretary, world):
    support = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    response = as_secretary.post(f"/bodies/{support.id}/members/new", data=_form(person.id))
    assert response.status_code == 302
    page = as_secretary.get(f"/bodies/{support.id}").get_data(as_text=True)
    assert "協議 次郎" in page.split("現在の構成員")[1]


def test_term_ending_before_it_starts_is_refused_in_japanese(as_secretary, world):
    support = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    before = count(world, Membership)
    response = as_secretary.post(
        f"/bodies/{support.id}/members/new", data=_form(person.id, term_end="2026-03-01")
    )
    assert response.status_code == 400
    assert "任期の終了日を開始日より前にすることはできません。" in response.get_data(as_text=True)
    assert count(world, Membership) == before


def test_malformed_date_is_refused_in_japanese(as_secretary, world):
    support = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    before = count(world, Membership)
    response = as_secretary.post(
        f"/bodies/{support.id}/members/new", data=_form(person.id, term_start="2026-13-45")
    )
    assert response.status_code == 400
    assert "日付を 2026-04-01 のように入力してください。" in response.get_data(as_text=True)
    assert count(world, Membership) == before


def test_unknown_organisation_and_person_are_refused_in_japanese(as_secretary, world):
    support = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    before = count(world, Membership)
    page = as_secretary.post(
        f"/bodies/{support.id}/members/new", data=_form(person.id, organisation_id="999999")
    ).get_data(as_text=True)
    assert "指定された機関は登録されていません。" in page
    page = as_secretary.post(f"/bodies/{support.id}/members/new", data=_form("999999")).get_data(
        as_text=True
    )
    assert "指定された方は登録されていません。" in page
    assert count(world, Membership) == before


def test_ending_a_term_keeps_it_as_a_past_term(as_secretary, world):
    support = body_named(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    term = world.query(Membership).filter_by(body_id=support.id, person_id=member.id).one()
    response = as_secretary.post(f"/memberships/{term.id}/end", data={"term_end": "2026-03-31"})
    assert response.status_code == 302
    page = as_secretary.get(f"/bodies/{support.id}").get_data(as_text=True)
    assert "兼務 三郎" in page.split("過去の任期")[1]
    assert count(world, Membership) > 0


def test_member_cannot_change_membership(client, world):
    login(client, "member.both@example.jp")
    support = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    before = count(world, Membership)
    response = client.post(f"/bodies/{support.id}/members/new", data=_form(person.id))
    assert response.status_code == 403
    term = world.query(Membership).filter_by(body_id=support.id).first()
    assert (
        client.post(f"/memberships/{term.id}/end", data={"term_end": "2026-03-31"}).status_code
        == 403
    )
    assert count(world, Membership) == before


def test_unknown_membership_is_404(as_secretary):
    assert as_secretary.get("/memberships/999999/edit").status_code == 404
    assert as_secretary.get("/bodies/999999/members/new").status_code == 404
