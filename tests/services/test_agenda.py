"""Agenda items: defaults, checks, order, and a history that never carries a title."""

import pytest
from sqlalchemy import select

from renkei.models import AgendaItem, Pledge, SessionChange, Visibility
from renkei.services import agenda
from renkei.services.agenda import ItemData
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import COORDINATION, LAYER1, SUPPORT, make_session

CANARY = "CANARY-SECRET-123"


@pytest.fixture
def joint(world):
    """A joint session of the 支援会議 (statutory secrecy) and the 第1層 協議体 (public)."""
    return make_session(world, SUPPORT, LAYER1)


def data(world, body=SUPPORT, **extra) -> ItemData:
    return ItemData(title=extra.pop("title", "議題"), body_id=body_named(world, body).id, **extra)


def add(world, session, secretary, **extra) -> AgendaItem:
    item = agenda.add_item(world, session, data(world, **extra), by=secretary)
    world.commit()
    return item


def titles(session) -> list[str]:
    return [item.title for item in session.items]


def positions(session) -> list[int]:
    return [item.position for item in session.items]


def test_default_visibility_follows_the_owning_body(world, joint, secretary):
    secret = add(world, joint, secretary, body=SUPPORT)
    open_ = add(world, joint, secretary, body=LAYER1)
    assert secret.visibility == Visibility.CONFIDENTIAL
    assert open_.visibility == Visibility.PUBLIC


def test_closed_but_not_statutory_body_defaults_to_its_members(world, secretary):
    session = make_session(world, COORDINATION)
    item = add(world, session, secretary, body=COORDINATION)
    assert item.visibility == Visibility.BODY


def test_explicit_visibility_is_kept(world, joint, secretary):
    item = add(world, joint, secretary, body=LAYER1, visibility="session")
    assert item.visibility == Visibility.SESSION


@pytest.mark.parametrize(
    ("body", "visibility"),
    [
        (SUPPORT, "public"),
        (SUPPORT, "session"),
        (SUPPORT, "body"),
        (COORDINATION, "public"),
        (COORDINATION, "session"),
    ],
)
def test_a_visibility_wider_than_the_body_allows_needs_a_confirmation(
    world, secretary, body, visibility
):
    session = make_session(world, body, LAYER1)
    before = count(world, AgendaItem), count(world, SessionChange)
    with pytest.raises(DomainError) as error:
        agenda.add_item(world, session, data(world, body=body, visibility=visibility), by=secretary)
    assert error.value.field == "visibility"
    assert "tick the confirmation" in str(error.value.message)
    world.rollback()
    assert (count(world, AgendaItem), count(world, SessionChange)) == before
    item = add(world, session, secretary, body=body, visibility=visibility, confirm_wider=True)
    assert item.visibility == Visibility(visibility) and agenda.is_wider(item)


@pytest.mark.parametrize(
    ("body", "visibility"),
    [(SUPPORT, "confidential"), (COORDINATION, "body"), (COORDINATION, "confidential")]
    + [(LAYER1, v.value) for v in Visibility],
)
def test_the_bodys_own_rule_or_a_closer_one_needs_no_confirmation(
    world, secretary, body, visibility
):
    session = make_session(world, body)
    item = add(world, session, secretary, body=body, visibility=visibility)
    assert item.visibility == Visibility(visibility) and not agenda.is_wider(item)


def test_a_confirmed_item_is_not_asked_again_until_its_visibility_or_owner_changes(
    world, joint, secretary
):
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    item = add(world, joint, secretary, body=SUPPORT, visibility="session", confirm_wider=True)
    agenda.update_item(world, item, data(world, title="改題", visibility="session"), by=secretary)
    assert item.title == "改題"
    with pytest.raises(DomainError) as error:  # wider still
        agenda.update_item(world, item, data(world, visibility="public"), by=secretary)
    assert error.value.field == "visibility"
    world.rollback()
    opened = add(world, joint, secretary, body=LAYER1, visibility="public")
    with pytest.raises(DomainError) as error:  # moved to a body with a duty of secrecy
        agenda.update_item(world, opened, data(world, visibility="public"), by=secretary)
    assert error.value.field == "visibility"
    world.rollback()
    assert world.get(AgendaItem, opened.id).body_id == body_named(world, LAYER1).id


def test_items_are_appended_at_the_end(world, joint, secretary):
    for title in ("一", "二", "三"):
        add(world, joint, secretary, title=title)
    assert titles(joint) == ["一", "二", "三"]
    assert positions(joint) == [1, 2, 3]


def test_item_of_a_body_the_session_does_not_serve_is_refused(world, joint, secretary):
    before = count(world, AgendaItem), count(world, SessionChange)
    with pytest.raises(DomainError) as error:
        agenda.add_item(world, joint, data(world, body=COORDINATION), by=secretary)
    assert error.value.field == "body_id"
    assert "one of the bodies this session serves" in str(error.value.message)
    world.rollback()
    assert (count(world, AgendaItem), count(world, SessionChange)) == before


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "長" * 201}, "title"),
        ({"presenter": "名" * 101}, "presenter"),
        ({"planned_minutes": -1}, "planned_minutes"),
        ({"planned_minutes": 1441}, "planned_minutes"),
        ({"description": "x" * 20_001}, "description"),
        ({"visibility": "secret"}, "visibility"),
    ],
)
def test_invalid_items_are_refused_and_nothing_is_written(world, joint, secretary, extra, field):
    before = count(world, AgendaItem)
    with pytest.raises(DomainError) as error:
        agenda.add_item(world, joint, data(world, **extra), by=secretary)
    assert error.value.field == field
    world.rollback()
    assert count(world, AgendaItem) == before


def test_limits_themselves_are_accepted(world, joint, secretary):
    item = add(
        world,
        joint,
        secretary,
        title="長" * 200,
        planned_minutes=1440,
        description="x" * 20_000,
    )
    assert item.planned_minutes == 1440


def test_oversized_description_says_how_long_it_is(world, joint, secretary):
    with pytest.raises(DomainError) as error:
        agenda.add_item(world, joint, data(world, description="x" * 20_050), by=secretary)
    message = str(error.value.message)
    assert "20050" in message and "20000" in message


@pytest.mark.parametrize(
    "email", ["admin@example.jp", "member.both@example.jp", "chair.support@example.jp"]
)
def test_only_the_secretariat_of_every_body_changes_the_agenda(world, joint, secretary, email):
    item = add(world, joint, secretary, body=LAYER1)
    other = person_by_email(world, email)
    before = count(world, AgendaItem), count(world, SessionChange)
    with pytest.raises(Forbidden):
        agenda.add_item(world, joint, data(world), by=other)
    with pytest.raises(Forbidden):
        agenda.update_item(world, item, data(world, body=LAYER1, title="x"), by=other)
    with pytest.raises(Forbidden):
        agenda.move_item(world, item, "down", by=other)
    with pytest.raises(Forbidden):
        agenda.reorder(world, joint, [item.id], by=other)
    with pytest.raises(Forbidden):
        agenda.delete_item(world, item, by=other)
    world.rollback()
    assert (count(world, AgendaItem), count(world, SessionChange)) == before


def test_update_changes_the_item_and_can_reset_the_visibility(world, joint, secretary):
    item = add(world, joint, secretary, body=LAYER1, visibility="session")
    changed = agenda.update_item(
        world,
        item,
        data(world, body=LAYER1, title="新しい題", planned_minutes=15, visibility=None),
        by=secretary,
    )
    world.commit()
    assert set(changed) == {"title", "planned_minutes", "visibility"}
    assert item.title == "新しい題" and item.visibility == Visibility.PUBLIC
    assert (
        agenda.update_item(
            world,
            item,
            data(world, body=LAYER1, title="新しい題", planned_minutes=15),
            by=secretary,
        )
        == []
    )


def test_secretary_without_a_pledge_cannot_edit_a_confidential_item(world, joint, secretary):
    """Editing shows the content and could open it up: not without the pledge."""
    item = add(world, joint, secretary, body=SUPPORT, title=CANARY)
    with pytest.raises(Forbidden):
        agenda.update_item(
            world, item, data(world, title=CANARY, visibility="public"), by=secretary
        )
    world.rollback()
    assert world.get(AgendaItem, item.id).visibility == Visibility.CONFIDENTIAL
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    world.commit()
    wider = data(world, title=CANARY, visibility="session", confirm_wider=True)
    agenda.update_item(world, item, wider, by=secretary)
    world.commit()
    assert item.visibility == Visibility.SESSION


def test_move_swaps_with_the_neighbour(world, joint, secretary):
    one, two, three = (add(world, joint, secretary, title=t) for t in ("一", "二", "三"))
    assert agenda.move_item(world, three, "up", by=secretary)
    world.commit()
    assert titles(joint) == ["一", "三", "二"] and positions(joint) == [1, 2, 3]
    assert agenda.move_item(world, one, "down", by=secretary)
    world.commit()
    assert titles(joint) == ["三", "一", "二"]
    assert not agenda.move_item(world, two, "down", by=secretary)  # already last
    assert not agenda.move_item(world, three, "up", by=secretary)  # already first
    with pytest.raises(DomainError):
        agenda.move_item(world, one, "sideways", by=secretary)


def test_reorder_puts_the_items_in_the_order_given(world, joint, secretary):
    one, two, three = (add(world, joint, secretary, title=t) for t in ("一", "二", "三"))
    assert agenda.reorder(world, joint, [three.id, one.id, two.id], by=secretary)
    world.commit()
    assert titles(joint) == ["三", "一", "二"] and positions(joint) == [1, 2, 3]
    assert not agenda.reorder(world, joint, [three.id, one.id, two.id], by=secretary)


def test_reorder_must_name_exactly_the_sessions_items(world, joint, secretary):
    one, two = (add(world, joint, secretary, title=t) for t in ("一", "二"))
    elsewhere = make_session(world, LAYER1)
    foreign = add(world, elsewhere, secretary, body=LAYER1, title="他")
    for order in (
        [one.id],
        [one.id, two.id, foreign.id],
        [one.id, foreign.id],
        [one.id, one.id],
        [one.id, one.id, two.id],
        [],
    ):
        with pytest.raises(DomainError):
            agenda.reorder(world, joint, order, by=secretary)
        world.rollback()
    assert titles(joint) == ["一", "二"] and positions(joint) == [1, 2]
    assert foreign.position == 1


def test_delete_renumbers_the_rest(world, joint, secretary):
    items = [add(world, joint, secretary, title=t) for t in ("一", "二", "三", "四")]
    agenda.delete_item(world, items[1], by=secretary)
    world.commit()
    assert titles(joint) == ["一", "三", "四"] and positions(joint) == [1, 2, 3]
    assert world.get(AgendaItem, items[1].id) is None
    add(world, joint, secretary, title="五")
    assert positions(joint) == [1, 2, 3, 4]


def test_history_names_items_by_id_never_by_content(world, joint, secretary):
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    world.commit()
    item = add(world, joint, secretary, title=CANARY, presenter=CANARY, description=CANARY)
    other = add(world, joint, secretary, title="公開")
    agenda.update_item(
        world,
        item,
        data(world, title=CANARY + "2", presenter=CANARY + "3", description=CANARY + "4"),
        by=secretary,
    )
    agenda.move_item(world, item, "down", by=secretary)
    agenda.reorder(world, joint, [item.id, other.id], by=secretary)
    agenda.delete_item(world, item, by=secretary)
    world.commit()
    changes = world.scalars(
        select(SessionChange).where(
            SessionChange.session_id == joint.id, SessionChange.kind == "agenda"
        )
    ).all()
    assert len(changes) == 6
    details = "\n".join(c.detail for c in changes)
    assert CANARY not in details
    assert f"Item No.{item.position} added." in details
    assert "title changed" in details
    assert "Items reordered." in details
    assert "deleted." in details
