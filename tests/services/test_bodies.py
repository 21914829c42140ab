import pytest

from renkei.models import Body, BodyKind, Confidentiality, Membership, Programme, Role
from renkei.services import bodies
from renkei.services.bodies import BodyData
from renkei.services.errors import DomainError, Forbidden
from tests.helpers import body_named, count, person_by_email

SUPPORT = "みどり町支援会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"
LAYER2 = "北中学校区協議体（第2層）"


@pytest.mark.parametrize(
    ("kind", "confidentiality", "programme"),
    [
        (BodyKind.SUPPORT_MEETING, Confidentiality.STATUTORY, Programme.LIVELIHOOD),
        (BodyKind.SUPPORT_COORDINATION, Confidentiality.CLOSED, Programme.LIVELIHOOD),
        (BodyKind.CONSULTATIVE_BODY, Confidentiality.PUBLIC, Programme.CARE_INSURANCE),
        # 地域ケア会議 are charged to 包括的支援事業, not to 生活支援体制整備事業.
        (BodyKind.COMMUNITY_CARE, Confidentiality.STATUTORY, Programme.COMPREHENSIVE_SUPPORT),
        (BodyKind.MULTI_AGENCY, Confidentiality.STATUTORY, Programme.MULTI_AGENCY),
        (BodyKind.OTHER, Confidentiality.CLOSED, Programme.OTHER),
    ],
)
def test_confidentiality_and_programme_derive_from_kind(world, kind, confidentiality, programme):
    admin = person_by_email(world, "admin@example.jp")
    body = bodies.save_body(world, None, BodyData(name="新しい会議", kind=kind), by=admin)
    assert body.confidentiality == confidentiality
    assert body.programme == programme


def test_administrator_may_set_confidentiality_a_secretary_may_not(world):
    admin = person_by_email(world, "admin@example.jp")
    secretary = person_by_email(world, "secretary@example.jp")
    layer1 = body_named(world, LAYER1)
    data = BodyData(name=LAYER1, kind="consultative_body", parent_id=None, confidentiality="closed")
    with pytest.raises(Forbidden):
        bodies.save_body(world, layer1, data, by=secretary)
    world.rollback()
    bodies.save_body(world, layer1, data, by=admin)
    assert layer1.confidentiality == Confidentiality.CLOSED


def test_subcommittee_created_by_a_secretary_makes_them_its_secretary(world):
    secretary = person_by_email(world, "secretary@example.jp")
    layer1 = body_named(world, LAYER1)
    sub = bodies.save_body(
        world,
        None,
        BodyData(name="南中学校区協議体（第2層）", kind="consultative_body", parent_id=layer1.id),
        by=secretary,
    )
    assert sub.parent == layer1
    roles = [(m.person, m.role) for m in world.query(Membership).filter_by(body_id=sub.id)]
    assert roles == [(secretary, Role.SECRETARY)]


def test_a_non_administrator_cannot_create_a_top_level_body(world):
    secretary = person_by_email(world, "secretary@example.jp")
    with pytest.raises(Forbidden):
        bodies.save_body(world, None, BodyData(name="独自の会議", kind="other"), by=secretary)


def test_a_member_cannot_edit_a_body(world):
    member = person_by_email(world, "member.both@example.jp")
    support = body_named(world, SUPPORT)
    with pytest.raises(Forbidden):
        bodies.save_body(world, support, BodyData(name="改名", kind="support_meeting"), by=member)


@pytest.mark.parametrize("parent", [LAYER1, LAYER2])
def test_a_body_cannot_become_its_own_ancestor(world, parent):
    admin = person_by_email(world, "admin@example.jp")
    layer1 = body_named(world, LAYER1)
    data = BodyData(name=LAYER1, kind="consultative_body", parent_id=body_named(world, parent).id)
    with pytest.raises(DomainError) as error:
        bodies.save_body(world, layer1, data, by=admin)
    assert error.value.field == "parent_id"
    world.rollback()
    assert body_named(world, LAYER1).parent_id is None


def test_duplicate_name_and_unknown_parent_are_refused(world):
    admin = person_by_email(world, "admin@example.jp")
    before = count(world, Body)
    with pytest.raises(DomainError):
        bodies.save_body(world, None, BodyData(name=SUPPORT, kind="support_meeting"), by=admin)
    with pytest.raises(DomainError):
        bodies.save_body(world, None, BodyData(name="X", kind="other", parent_id=999999), by=admin)
    world.rollback()
    assert count(world, Body) == before


def test_list_bodies_puts_subcommittees_after_their_parent(world):
    names = [b.name for b in bodies.list_bodies(world)]
    assert names.index(LAYER2) == names.index(LAYER1) + 1
