"""Minutes citing materials (「[資料2]」): a link for a reader who may see the material, the
number alone for one who may not; approved minutes keep the file as it was at the approval,
downloadable after a 差し替え and marked 「承認時の版」."""

import io

import pytest
from sqlalchemy import select

from renkei.models import MaterialRef, MinutesStatus, SectionKind, Visibility
from renkei.services import agenda, materials, minutes, minutes_document, pledges
from renkei.services.agenda import ItemData
from renkei.services.material_store import store_of
from tests.conftest import client_for
from tests.helpers import body_named, person_by_email
from tests.materials_helpers import PDF
from tests.sessions_helpers import (
    LAYER1,
    SENDER,
    SUPPORT,
    approve_as_chairs,
    make_session,
    mark_held,
    record_attendance,
)

PLAN_V2 = PDF + b"% revised\n"
CITING = "[資料1]について説明があり、［資料２］の事例を確認した。"


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def cited(app, world, links):
    """A held joint session: a public item of the 協議体 with 資料1 (計画案) and a confidential
    item of the 支援会議 with 資料2 (ケース記録); its minutes' decisions cite both. The
    secretary and the 支援会議's chair have pledged. Returns the minutes version."""
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        for email in ("secretary@example.jp", "chair.support@example.jp"):
            person = person_by_email(world, email)
            pledges.record_pledge(world, support, person, by=person)
        session = make_session(world, SUPPORT, LAYER1)
        for title, body, visibility in (
            ("地域の計画", body_named(world, LAYER1), Visibility.PUBLIC),
            ("個別ケース", support, Visibility.CONFIDENTIAL),
        ):
            data = ItemData(
                title=title, body_id=body.id, visibility=visibility.value, confirm_wider=True
            )
            agenda.add_item(world, session, data, by=secretary)
        for item, name in zip(session.items, ("計画案.pdf", "ケース記録.pdf"), strict=True):
            materials.upload(
                world,
                session,
                materials.Upload(io.BytesIO(PDF), name),
                by=secretary,
                store=store_of(app),
                limits=materials.Limits.of(app),
                item=item,
            )
        mark_held(world, session)
        record_attendance(world, session)
        version = minutes.open_minutes(world, session, by=secretary)
        for section in version.sections:
            if section.kind == SectionKind.DECISIONS:
                # Public, so that the public view shows it too (and what it cites).
                section.text, section.visibility = CITING, Visibility.PUBLIC
        world.commit()
    return version


def approve(app, world, version, links) -> None:
    with app.app_context():
        secretary = person_by_email(world, "secretary@example.jp")
        minutes.submit(world, version, by=secretary, links=links, sender=SENDER)
        approve_as_chairs(world, version, links)
        world.commit()
    assert version.status is MinutesStatus.APPROVED


def plan_and_case(world, version):
    plan, case = (entry.material for entry in materials.numbered(world, version.minutes.session))
    return plan, case


def test_the_draft_links_each_cited_material_for_the_secretary(app, world, cited):
    plan, case = plan_and_case(world, cited)
    page = text(client_for(app, "secretary").get(f"/minutes/{cited.id}?view=full"))
    assert f'href="/materials/{plan.id}/download">資料1「計画案」</a>' in page
    assert f'href="/materials/{case.id}/download">資料2「ケース記録」</a>' in page
    assert "[資料1]" not in page


def test_a_reader_who_may_not_see_a_material_reads_its_number_alone(app, world, cited, links):
    plan, case = plan_and_case(world, cited)
    approve(app, world, cited, links)

    page = text(client_for(app, "member.kyogitai").get(f"/minutes/{cited.id}"))

    assert f'href="/materials/{plan.id}/download">資料1「計画案」</a>' in page
    assert "の事例を確認した" in page and "資料2の事例" in page
    assert "ケース記録" not in page and f"/materials/{case.id}/" not in page


def test_the_public_view_links_only_public_materials(app, world, cited, links):
    plan, case = plan_and_case(world, cited)
    approve(app, world, cited, links)
    secretary = client_for(app, "secretary")

    page = text(secretary.get(f"/minutes/{cited.id}?view=public"))

    assert "資料1「計画案」" in page
    assert "ケース記録" not in page and f"/materials/{case.id}/" not in page
    download = text(secretary.get(f"/minutes/{cited.id}/download?view=public"))
    assert f'href="http://localhost/materials/{plan.id}/download"' in download


def test_the_approval_keeps_each_cited_file_and_its_hash(app, world, cited, links):
    plan, case = plan_and_case(world, cited)
    approve(app, world, cited, links)

    refs = world.scalars(select(MaterialRef).where(MaterialRef.version_id == cited.id)).all()

    assert [(r.number, r.material_id, r.material_version_id) for r in refs] == [
        (1, plan.id, plan.current.id),
        (2, case.id, case.current.id),
    ]
    assert all(r.sha256 == r.material_version.sha256 for r in refs)
    assert minutes_document.matches_hash(cited)
    refs[0].sha256 = "0" * 64  # another file than the one approved
    assert not minutes_document.matches_hash(cited)
    world.rollback()


def test_approved_minutes_keep_the_file_as_approved_after_a_replacement(app, world, cited, links):
    plan, _case = plan_and_case(world, cited)
    approved_file = plan.current.id
    approve(app, world, cited, links)
    with app.app_context():
        secretary = person_by_email(world, "secretary@example.jp")
        materials.replace(
            world,
            plan,
            materials.Upload(io.BytesIO(PLAN_V2), "計画案.pdf"),
            by=secretary,
            store=store_of(app),
            limits=materials.Limits.of(app),
        )
        world.commit()
    member = client_for(app, "member.kyogitai")

    page = text(member.get(f"/minutes/{cited.id}"))

    kept = f"/materials/{plan.id}/versions/{approved_file}/download"
    assert f'href="{kept}">資料1「計画案」</a><span class="badge">承認時の版</span>' in page
    response = member.get(kept)
    assert response.status_code == 200 and response.get_data() == PDF
    # An earlier file no approved minutes cite stays the secretariat's.
    assert member.get(f"/materials/{plan.id}/download").get_data() == PLAN_V2


def test_an_earlier_file_not_cited_is_not_found_for_a_member(app, world, cited):
    plan, _case = plan_and_case(world, cited)
    first = plan.current.id
    with app.app_context():
        materials.replace(
            world,
            plan,
            materials.Upload(io.BytesIO(PLAN_V2), "計画案.pdf"),
            by=person_by_email(world, "secretary@example.jp"),
            store=store_of(app),
            limits=materials.Limits.of(app),
        )
        world.commit()
    member = client_for(app, "member.kyogitai")
    assert member.get(f"/materials/{plan.id}/versions/{first}/download").status_code == 404


def test_the_editor_lists_the_materials_that_can_be_cited(app, world, cited):
    page = text(client_for(app, "secretary").get(f"/minutes/{cited.id}/edit"))
    assert "資料の参照" in page
    assert "<code>[資料1]</code> 計画案" in page and "<code>[資料2]</code> ケース記録" in page
