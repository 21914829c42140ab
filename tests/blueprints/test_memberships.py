from sqlalchemy import select

from renkei.models import Membership
from renkei.services import demo
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
    assert "日付を2026-04-01のように入力してください。" in response.get_data(as_text=True)
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


# --- Who may change a closed body's members, and the chair's notice -------------------------


def test_an_administrator_cannot_make_themselves_a_member_of_a_closed_body(as_admin, world, smtp):
    support = body_named(world, SUPPORT)
    admin = person_by_email(world, "admin@example.jp")
    before = count(world, Membership)

    page = as_admin.get(f"/bodies/{support.id}").get_data(as_text=True)
    response = as_admin.post(
        f"/bodies/{support.id}/members/new", data=_form(admin.id, role="secretary")
    )

    assert f"/bodies/{support.id}/members/new" not in page
    assert "事務局が変更し、変更のたびに議長へ通知されます" in page
    assert response.status_code == 403
    assert as_admin.get(f"/bodies/{support.id}/members/import").status_code == 403
    assert count(world, Membership) == before
    assert smtp.messages == []


def test_an_administrator_cannot_open_a_closed_body_up_to_join_it(as_admin, world):
    support = body_named(world, SUPPORT)
    form = as_admin.get(f"/bodies/{support.id}/edit").get_data(as_text=True)
    assert 'name="confidentiality"' in form

    response = as_admin.post(
        f"/bodies/{support.id}/edit",
        data={
            "name": support.name,
            "kind": "consultative_body",
            "confidentiality": "public",
            "programme": support.programme.value,
            "quorum_rule": "majority",
        },
    )

    assert response.status_code in (400, 403)
    assert "この会議体の公開の範囲を広げられるのは" in response.get_data(as_text=True)
    world.expire_all()
    assert support.confidentiality.value == "statutory" and support.kind.value == "support_meeting"


def test_an_administrator_appoints_the_first_secretariat_of_a_new_closed_body(as_admin, world):
    response = as_admin.post(
        "/bodies/new",
        data={"name": "新しい支援会議", "kind": "support_meeting", "quorum_rule": "majority"},
    )
    assert response.status_code == 302
    body = body_named(world, "新しい支援会議")
    secretary = person_by_email(world, "member.kyogitai@example.jp")
    admin = person_by_email(world, "admin@example.jp")

    first = as_admin.post(
        f"/bodies/{body.id}/members/new", data=_form(secretary.id, role="secretary")
    )
    second = as_admin.post(f"/bodies/{body.id}/members/new", data=_form(admin.id))

    assert first.status_code == 302
    assert second.status_code == 403  # it has a secretariat now, which changes its members


def test_every_change_to_a_closed_bodys_members_is_mailed_to_its_chair(as_secretary, world, smtp):
    support = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")

    as_secretary.post(f"/bodies/{support.id}/members/new", data=_form(person.id))
    term = world.scalars(
        select(Membership).where(
            Membership.body_id == support.id, Membership.person_id == person.id
        )
    ).one()
    as_secretary.post(f"/memberships/{term.id}/end", data={"term_end": "2026-06-30"})

    to_chair = smtp.to("chair.support@example.jp")
    assert len(to_chair) == 2
    first, second = (m.get_body(preferencelist=("plain",)).get_content() for m in to_chair)
    assert to_chair[0]["Subject"] == "みどり町支援会議の構成員が変更されました"
    assert "追加：協議 次郎（構成員、2026-04-01〜）" in first
    assert "任期終了：協議 次郎（構成員、2026-04-01〜2026-06-30）" in second
    assert len(smtp.messages) == 2  # nobody else: the chair alone


def test_a_csv_import_into_a_closed_body_is_mailed_to_its_chair(as_secretary, world, smtp):
    support = body_named(world, SUPPORT)
    text = "氏名,役割,任期開始\n山田 太郎,構成員,2026-04-01\n佐藤 花子,構成員,2026-04-01\n"
    as_secretary.post(f"/bodies/{support.id}/members/import/commit", data={"text": text})

    (notice,) = smtp.to("chair.support@example.jp")
    content = notice.get_body(preferencelist=("plain",)).get_content()
    assert "追加：山田 太郎" in content and "追加：佐藤 花子" in content


def test_a_public_bodys_changes_are_not_mailed(as_secretary, world, smtp):
    kyogitai = body_named(world, demo.KYOGITAI)
    person = person_by_email(world, "chair.support@example.jp")

    response = as_secretary.post(f"/bodies/{kyogitai.id}/members/new", data=_form(person.id))

    assert response.status_code == 302
    assert smtp.messages == []
