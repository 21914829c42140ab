"""Agenda items with a case number: issued for the session's fiscal year, typed ones checked,
refused on a public body's items; a refused item writes nothing, not even the counter."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from renkei.models import AgendaItem, CaseNumberCounter, MinutesSection, Pledge
from renkei.services import agenda, case_numbers, minutes, minutes_document
from renkei.services.agenda import ItemData
from renkei.services.dates import fiscal_year_of
from renkei.services.errors import DomainError
from tests.helpers import body_named, count
from tests.sessions_helpers import (
    COORDINATION,
    DAY,
    LAYER1,
    SUPPORT,
    case_number,
    full_width,
    make_session,
    mark_held,
    working_thursday,
)

FIRST = case_number(1)  # the first of DAY's fiscal year: R8-0001 in 令和8年度


def data(world, body=SUPPORT, **extra) -> ItemData:
    return ItemData(
        title=extra.pop("title", "個別ケース検討"), body_id=body_named(world, body).id, **extra
    )


def add(world, session, secretary, **extra) -> AgendaItem:
    item = agenda.add_item(world, session, data(world, **extra), by=secretary)
    world.commit()
    return item


def pledge(world, secretary) -> None:
    """The secretary pledges for the 支援会議, so as to edit its confidential items."""
    world.add(
        Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=date(2026, 4, 1))
    )
    world.commit()


def refused(world, session, secretary, **extra) -> DomainError:
    before = count(world, AgendaItem), count(world, CaseNumberCounter)
    with pytest.raises(DomainError) as error:
        agenda.add_item(world, session, data(world, **extra), by=secretary)
    world.rollback()
    assert (count(world, AgendaItem), count(world, CaseNumberCounter)) == before
    return error.value


def test_the_next_number_is_of_the_sessions_fiscal_year(world, secretary, ctx):
    this_year = make_session(world, SUPPORT)  # on DAY
    april = working_thursday(date(fiscal_year_of(DAY) + 1, 4, 1))  # in the next fiscal year
    next_year = make_session(world, SUPPORT, day=april)
    assert add(world, this_year, secretary, assign_case_number=True).case_number == FIRST
    assert add(world, this_year, secretary, assign_case_number=True).case_number == case_number(2)
    assert add(world, next_year, secretary, assign_case_number=True).case_number == case_number(
        1, april
    )
    assert add(world, this_year, secretary).case_number is None


def test_the_installations_prefix_comes_first(world, secretary, ctx):
    session = make_session(world, COORDINATION)  # closed under municipal rules: allowed
    item = add(
        world, session, secretary, body=COORDINATION, assign_case_number=True, case_prefix="A"
    )
    assert item.case_number == case_number(1, prefix="A")


def test_a_case_discussed_again_keeps_its_number(world, secretary, ctx):
    first = add(world, make_session(world, SUPPORT), secretary, assign_case_number=True)
    later = make_session(world, SUPPORT, day=DAY + timedelta(weeks=5))
    again = add(world, later, secretary, case_number=full_width(FIRST.lower()))
    assert again.case_number == first.case_number == FIRST


def test_a_number_in_another_format_is_refused(world, secretary, ctx):
    error = refused(world, make_session(world, SUPPORT), secretary, case_number="8-12")
    assert error.field == "case_number"
    example = case_numbers.example("", DAY)  # R8-0012 in 令和8年度
    assert str(error.message) == f"ケース番号は{example}の形式で入力してください。"


def test_a_number_not_yet_issued_is_refused(world, secretary, ctx):
    error = refused(world, make_session(world, SUPPORT), secretary, case_number=case_number(50))
    assert error.field == "case_number" and "まだ採番されていません" in str(error.message)


@pytest.mark.parametrize("extra", [{"assign_case_number": True}, {"case_number": FIRST}])
def test_a_public_bodys_item_carries_no_case_number(world, secretary, ctx, extra):
    session = make_session(world, SUPPORT, LAYER1)
    add(world, session, secretary, assign_case_number=True)  # FIRST exists
    counter = world.scalar(select(CaseNumberCounter.last))
    error = refused(world, session, secretary, body=LAYER1, **extra)
    assert error.field == "case_number"
    assert "公開の会議体の議題にはケース番号を付けられません" in str(error.message)
    assert world.scalar(select(CaseNumberCounter.last)) == counter


def test_typing_a_number_and_asking_for_the_next_is_refused(world, secretary, ctx):
    session = make_session(world, SUPPORT)
    add(world, session, secretary, assign_case_number=True)
    error = refused(world, session, secretary, case_number=FIRST, assign_case_number=True)
    assert error.field == "case_number"


def test_a_refused_change_issues_no_number(world, secretary, ctx):
    pledge(world, secretary)
    session = make_session(world, SUPPORT)
    item = add(world, session, secretary)
    with pytest.raises(DomainError, match="件名を入力してください"):
        agenda.update_item(
            world, item, data(world, title="", assign_case_number=True), by=secretary
        )
    world.rollback()
    assert count(world, CaseNumberCounter) == 0


def test_the_case_number_is_changed_and_cleared_by_an_update(world, secretary, ctx):
    pledge(world, secretary)
    session = make_session(world, SUPPORT)
    item = add(world, session, secretary)
    changed = agenda.update_item(world, item, data(world, assign_case_number=True), by=secretary)
    assert changed == ["case_number"] and item.case_number == FIRST
    # The history names the field, never the number.
    assert FIRST not in session.changes[-1].detail
    agenda.update_item(world, item, data(world, case_number=FIRST), by=secretary)
    assert item.case_number == FIRST
    agenda.update_item(world, item, data(world), by=secretary)
    assert item.case_number is None


def test_the_minutes_section_carries_the_case_number(world, secretary, ctx):
    session = make_session(world, SUPPORT)
    item = add(world, session, secretary, assign_case_number=True)
    mark_held(world, session)
    version = minutes.open_minutes(world, session, by=secretary)
    section = world.scalar(select(MinutesSection).where(MinutesSection.agenda_item_id == item.id))
    assert section.case_number == FIRST
    # The hash covers it: a case number changed after approval would show.
    hashed = minutes_document.content_hash(version)
    section.case_number = case_number(2)
    assert minutes_document.content_hash(version) != hashed
