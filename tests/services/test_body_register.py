"""The body register: setting-up authority (設置主体), 設置要綱 and its dates, a 協議体's layer,
and an organisation's municipality; each change audited, each wrong value refused whole."""

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from renkei.models import AuditEntry, Authority, Body, Layer, Organisation
from renkei.services import bodies, demo, organisations
from renkei.services.bodies import BodyData
from renkei.services.errors import DomainError
from tests.helpers import body_named, person_by_email


def _data(body: Body, **changes) -> BodyData:
    """The body's register entry as its edit form would send it, with ``changes``."""
    data = BodyData(
        name=body.name,
        kind=body.kind.value,
        area=body.area,
        parent_id=body.parent_id,
        description=body.description,
        authority=body.authority.value,
        layer=body.layer.value if body.layer else None,
        rules_title=body.rules_title,
        rules_enacted_on=body.rules_enacted_on,
        rules_amended_on=body.rules_amended_on,
    )
    return replace(data, **changes)


def _register(body: Body) -> tuple:
    return (
        body.authority,
        body.layer,
        body.rules_title,
        body.rules_enacted_on,
        body.rules_amended_on,
    )


def test_the_demo_register_is_filled_in(world):
    kyogitai, north = body_named(world, demo.KYOGITAI), body_named(world, demo.NORTH)
    assert (kyogitai.layer, north.layer) == (Layer.FIRST, Layer.SECOND)
    support = body_named(world, demo.SUPPORT)
    assert support.layer is None and support.authority == Authority.MUNICIPALITY
    assert support.rules_title == "みどり町支援会議設置要綱"
    assert support.rules_enacted_on < support.rules_amended_on
    prefecture = body_named(world, demo.PREFECTURE)
    assert prefecture.authority == Authority.PREFECTURE and prefecture.rules_title
    towns = {
        m.organisation.municipality for m in prefecture.memberships if m.role.value == "member"
    }
    assert towns == {demo.TOWN, demo.NEIGHBOUR}


def test_a_secretary_records_the_register_entry_and_it_is_audited(world, secretary):
    support = body_named(world, demo.SUPPORT)
    data = _data(
        support,
        authority="wide_area_union",
        rules_title="みどり広域連合支援会議設置要綱",
        rules_enacted_on=date(2020, 4, 1),
        rules_amended_on=date(2020, 4, 1),  # amended the day it was enacted: allowed
    )
    bodies.save_body(world, support, data, by=secretary)
    world.commit()
    assert support.authority == Authority.WIDE_AREA_UNION
    assert support.rules_amended_on == date(2020, 4, 1)
    entry = world.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.body_id, entry.person_id) == (
        "body_changed",
        support.id,
        secretary.id,
    )
    assert entry.detail == "fields=authority,rules_title,rules_enacted_on,rules_amended_on"


def test_saving_an_unchanged_body_writes_no_audit_entry(world, secretary):
    support = body_named(world, demo.SUPPORT)
    before = len(world.scalars(select(AuditEntry)).all())
    bodies.save_body(world, support, _data(support), by=secretary)
    assert len(world.scalars(select(AuditEntry)).all()) == before


def test_a_new_consultative_body_records_its_layer(world):
    admin = person_by_email(world, "admin@example.jp")
    data = BodyData(name="南中学校区協議体", kind="consultative_body", layer="second")
    body = bodies.save_body(world, None, data, by=admin)
    assert body.layer == Layer.SECOND and body.authority == Authority.MUNICIPALITY
    entry = world.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.body_id) == ("body_created", body.id)


@pytest.mark.parametrize(
    ("body_name", "changes", "field", "message"),
    [
        (demo.SUPPORT, {"authority": "village"}, "authority", "設置主体を"),
        (demo.SUPPORT, {"authority": ""}, "authority", "設置主体を"),
        (
            demo.SUPPORT,
            {"rules_enacted_on": date(2024, 4, 1), "rules_amended_on": date(2019, 4, 1)},
            "rules_amended_on",
            "最終改正日が制定日より前",
        ),
        (demo.SUPPORT, {"layer": "first"}, "layer", "層を指定できるのは協議体だけ"),
        (demo.KYOGITAI, {"layer": "third"}, "layer", "第1層か第2層を選んで"),
        # A 協議体 made a support meeting keeps no layer: the layer must be cleared first.
        (demo.KYOGITAI, {"kind": "support_meeting"}, "layer", "層を指定できるのは協議体だけ"),
        (demo.SUPPORT, {"rules_title": "要" * 201}, "rules_title", "200文字以内"),
        (demo.SUPPORT, {"rules_title": "設置\n要綱"}, "rules_title", "1行で入力"),
        (demo.SUPPORT, {"rules_title": "設置\x00要綱"}, "rules_title", "1行で入力"),
        (
            demo.SUPPORT,
            {"rules_title": "", "rules_enacted_on": date(2020, 4, 1)},
            "rules_title",
            "設置要綱の名称も入力",
        ),
    ],
)
def test_a_wrong_register_entry_is_refused_and_changes_nothing(
    app, world, secretary, body_name, changes, field, message
):
    body = body_named(world, body_name)
    before = _register(body)
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        with pytest.raises(DomainError) as refused:
            bodies.save_body(world, body, _data(body, **changes), by=secretary)
        assert refused.value.field == field
        assert message in str(refused.value.message)
    world.rollback()
    assert _register(body_named(world, body_name)) == before


def test_an_organisation_records_its_municipality_and_is_audited(world):
    admin = person_by_email(world, "admin@example.jp")
    made = organisations.save_organisation(
        world, None, name="さくら町 社会福祉協議会", kind="social_welfare_council", contact="",
        municipality=" さくら町 ", by=admin,
    )  # fmt: skip
    assert made.municipality == "さくら町"
    organisations.save_organisation(
        world, made, name=made.name, kind="social_welfare_council", contact="",
        municipality="あおぞら県さくら町", by=admin,
    )  # fmt: skip
    entries = world.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "organisation")
    ).all()
    assert [(e.action, e.detail, e.category) for e in entries] == [
        ("organisation_created", "", "account"),
        ("organisation_changed", "fields=municipality", "account"),
    ]


@pytest.mark.parametrize(
    ("municipality", "message"),
    [("町" * 51, "50文字以内"), ("さくら\r\n町", "1行で入力"), ("さくら\x7f町", "1行で入力")],
)
def test_a_wrong_municipality_is_refused_and_changes_nothing(app, world, municipality, message):
    admin = person_by_email(world, "admin@example.jp")
    organisation = world.scalar(select(Organisation).where(Organisation.name == "みどり町 税務課"))
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        with pytest.raises(DomainError) as refused:
            organisations.save_organisation(
                world, organisation, name=organisation.name, kind=organisation.kind.value,
                contact="", municipality=municipality, by=admin,
            )  # fmt: skip
        assert refused.value.field == "municipality"
        assert message in str(refused.value.message)
    world.rollback()
    assert world.get(Organisation, organisation.id).municipality == demo.TOWN


def test_a_body_keeps_its_retention_period_of_materials(world, secretary):
    support = body_named(world, demo.SUPPORT)
    with pytest.raises(DomainError) as refused:
        bodies.save_body(world, support, _data(support, retention_years=0), by=secretary)
    assert refused.value.field == "retention_years"
    world.rollback()
    bodies.save_body(world, support, _data(support, retention_years=5), by=secretary)
    world.commit()
    assert support.retention_years == 5
    entry = world.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.detail == "fields=retention_years"
