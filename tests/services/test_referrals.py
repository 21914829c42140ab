"""Referrals (つなぎ): the rules of services/referrals.py and who sees what (policy)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.models import (
    AgendaItem,
    AuditEntry,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Referral,
    ReferralEvent,
    ReferralStatus,
    SectionKind,
    Topic,
    Visibility,
)
from renkei.services import policy, referrals, spreadsheets
from renkei.services.dates import fiscal_year_of, today
from renkei.services.errors import DomainError, Forbidden, NotFound
from tests.helpers import count, counting
from tests.referrals_helpers import (
    AGENCY,
    CENTRE,
    COUNCIL,
    WELFARE,
    approved_section,
    data,
    issued,
    org_id,
    person,
    pledge,
    refer,
    support_session,
)
from tests.sessions_helpers import case_number


def seen_by(db, name: str) -> list[int]:
    return [r.id for r in referrals.list_referrals(db, person(db, name))]


# --- Recording ----------------------------------------------------------------------------


def test_a_referral_is_recorded_with_its_history_and_audit(world):
    topic_ids = list(world.scalars(select(Topic.id).limit(2)))
    referral = refer(world, topic_ids=topic_ids, note="電話で紹介")
    assert referral.status is ReferralStatus.RECEIVED
    assert referral.status_on == referral.referred_on
    assert [t.id for t in referral.topics] == topic_ids
    assert [e.kind for e in referral.events] == ["created"]
    actions = world.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "referral"))
    assert list(actions) == ["referral_created"]


def test_the_default_topics_are_seeded(world):
    names = [t.name for t in referrals.list_topics(world)]
    assert names == list(referrals.DEFAULT_TOPICS)


def test_a_case_number_issued_before_is_accepted_in_any_typing(world):
    number = issued(world)
    typed = number.replace("-", "ー").lower()
    assert refer(world, case_number=typed).case_number == number


def bad(world, message_part: str, field: str, by="secretary", **values):
    """The referral is refused with a Japanese-language message and nothing is written."""
    before = (count(world, Referral), count(world, ReferralEvent))
    with pytest.raises(DomainError) as caught:
        referrals.create(world, data(world, **values), by=person(world, by))
    world.rollback()
    assert caught.value.field == field
    assert message_part in str(caught.value.message)
    assert (count(world, Referral), count(world, ReferralEvent)) == before


def test_a_case_number_in_the_wrong_form_is_refused(world):
    bad(world, "form", "case_number", case_number="山田太郎")


def test_a_case_number_never_issued_is_refused(world):
    number = issued(world)
    world.commit()
    year = fiscal_year_of(today())
    bad(world, "not been issued", "case_number", case_number=case_number(99, today()))
    # Of another fiscal year whose counter never reached it.
    bad(world, "not been issued", "case_number", case_number=f"R{year - 2018 - 1}-0001")
    assert number


def test_a_referral_to_the_organisation_it_came_from_is_refused(world):
    bad(world, "another organisation", "to_organisation_id", source=WELFARE, target=WELFARE)


def test_a_date_in_the_future_is_refused(world):
    bad(world, "future", "referred_on", referred_on=today() + timedelta(days=1))


def test_unknown_ids_are_refused(world):
    values = data(world)
    values.from_organisation_id = 999_999
    with pytest.raises(DomainError) as caught:
        referrals.create(world, values, by=person(world, "secretary"))
    assert caught.value.field == "from_organisation_id"
    bad(world, "topics", "topic_ids", topic_ids=[999_999])
    bad(world, "staff member", "responsible_id", responsible_id=999_999)
    # A person of neither organisation is a foreign id too.
    outsider = person(world, "member.kyogitai").id
    bad(world, "staff member", "responsible_id", responsible_id=outsider)


def test_only_staff_of_either_side_record_a_referral(world):
    with pytest.raises(Forbidden):
        referrals.create(world, data(world, CENTRE, AGENCY), by=person(world, "secretary"))


def test_without_consent_the_receiving_side_cannot_record_it(world):
    bad(world, "consent", "consent", by="chair.support", consent="refused")


def test_a_retired_topic_cannot_be_chosen(world):
    topic = world.scalar(select(Topic).where(Topic.name == "債務"))
    referrals.save_topic(
        world, topic, name=topic.name, position=1, active=False, by=person(world, "admin")
    )
    bad(world, "topics", "topic_ids", topic_ids=[topic.id])


def test_only_an_administrator_changes_topics(world):
    with pytest.raises(Forbidden):
        referrals.save_topic(
            world, None, name="新", position=1, active=True, by=person(world, "secretary")
        )
    topic = referrals.save_topic(
        world, None, name="ひきこもり", position=11, active=True, by=person(world, "admin")
    )
    assert topic.name in [t.name for t in referrals.list_topics(world, active_only=True)]
    with pytest.raises(DomainError) as caught:
        referrals.save_topic(
            world, topic, name="ひきこもり", position=10**20, active=True, by=person(world, "admin")
        )
    assert caught.value.field == "position"


# --- Status -------------------------------------------------------------------------------


def test_the_status_moves_forward_with_its_dates(world):
    referral = refer(world, referred_on=today() - timedelta(days=10))
    day = today() - timedelta(days=2)
    referrals.change_status(world, referral, "contacted", on=day, by=person(world, "chair.support"))
    referrals.change_status(
        world, referral, "supporting", on=today(), by=person(world, "secretary")
    )
    assert (referral.status, referral.status_on) == (ReferralStatus.SUPPORTING, today())
    events = [(e.from_status, e.to_status, e.on) for e in referral.events if e.kind == "status"]
    assert events == [
        (ReferralStatus.RECEIVED, ReferralStatus.CONTACTED, day),
        (ReferralStatus.CONTACTED, ReferralStatus.SUPPORTING, today()),
    ]


def test_the_status_goes_back_only_with_a_reason(world):
    referral = refer(world)
    secretary = person(world, "secretary")
    referrals.change_status(world, referral, "supporting", on=today(), by=secretary)
    world.commit()
    with pytest.raises(DomainError) as caught:
        referrals.change_status(world, referral, "received", on=today(), by=secretary)
    assert caught.value.field == "reason"
    world.rollback()
    assert referral.status is ReferralStatus.SUPPORTING
    referrals.change_status(
        world, referral, "received", on=today(), reason="本人と連絡が取れず", by=secretary
    )
    assert referral.events[-1].reason == "本人と連絡が取れず"


@pytest.mark.parametrize(
    ("status", "offset", "field"),
    [
        ("contacted", 1, "on"),
        ("contacted", -30, "on"),
        ("received", 0, "status"),
        ("x", 0, "status"),
    ],
)
def test_bad_status_changes_are_refused(world, status, offset, field):
    referral = refer(world, referred_on=today() - timedelta(days=5))
    with pytest.raises(DomainError) as caught:
        referrals.change_status(
            world,
            referral,
            status,
            on=today() + timedelta(days=offset),
            by=person(world, "secretary"),
        )
    assert caught.value.field == field
    world.rollback()
    assert len(referral.events) == 1


# --- Who sees what ------------------------------------------------------------------------


def test_with_consent_both_organisations_see_it(world):
    referral = refer(world, consent="given")
    assert referral.id in seen_by(world, "secretary")  # 福祉課, sending
    assert referral.id in seen_by(world, "chair.support")  # 自立相談, receiving
    assert seen_by(world, "member.both") == []  # 地域包括: neither


@pytest.mark.parametrize("consent", ["refused", "asking"])
def test_without_consent_the_receiving_side_sees_nothing(world, consent):
    referral = refer(world, consent=consent)
    assert seen_by(world, "secretary") == [referral.id]
    assert seen_by(world, "chair.support") == []
    assert not policy.can_see_referral(world, person(world, "chair.support"), referral)
    with pytest.raises(NotFound):
        referrals.get_referral(world, person(world, "chair.support"), referral.id)
    with pytest.raises(NotFound):
        referrals.case_record(world, person(world, "chair.support"), referral.case_number)


def test_an_administrator_sees_nothing_by_that_role(world):
    refer(world, by="chair.support", source=AGENCY, target=COUNCIL)
    assert seen_by(world, "admin") == []


def test_the_support_meeting_takes_the_case_and_its_members_see_it(world):
    referral = refer(world, consent="refused")
    session = support_session(world)
    pledge(world, "chair.support")
    item = referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.commit()
    assert item.case_number == referral.case_number
    assert item.visibility.value == "confidential"
    assert referral.agenda_item_id == item.id
    # The chair of the 支援会議 (of the receiving agency), pledged, sees it through the item.
    assert seen_by(world, "chair.support") == [referral.id]
    assert policy.can_edit_referral(world, person(world, "chair.support"), referral)
    # A member without a pledge does not; nor does a 協議体 member.
    assert seen_by(world, "member.both") == []
    assert seen_by(world, "chair.kyogitai") == []
    assert [e.kind for e in referral.events] == ["created", "meeting"]
    record = referrals.case_record(world, person(world, "chair.support"), referral.case_number)
    assert [r.id for r in record.referrals] == [referral.id]
    assert [i.id for i in record.items] == [item.id]


def test_a_case_goes_to_one_upcoming_support_meeting_whose_agenda_one_prepares(world):
    referral = refer(world, consent="refused")
    session = support_session(world)
    other = refer(world, by="chair.support", source=AGENCY, target=WELFARE, consent="given")
    with pytest.raises(DomainError):
        referrals.take_to_meeting(world, other, session, by=person(world, "chair.support"))
    world.rollback()
    referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.commit()
    with pytest.raises(DomainError):
        referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.rollback()
    assert count(world, AgendaItem) == 1


# --- Lists, CSV -----------------------------------------------------------------------------


def test_the_list_filters(world):
    old = refer(world, referred_on=today() - timedelta(days=30))
    recent = refer(world, referred_on=today() - timedelta(days=2))
    council = refer(world, target=COUNCIL, referred_on=today() - timedelta(days=20))
    referrals.change_status(world, council, "contacted", on=today(), by=person(world, "secretary"))
    secretary = person(world, "secretary")

    def ids(**filters):
        found = referrals.list_referrals(world, secretary, referrals.Filters(**filters))
        return {r.id for r in found}

    assert ids(status="contacted") == {council.id}
    assert ids(to_organisation_id=org_id(world, COUNCIL)) == {council.id}
    assert ids(from_organisation_id=org_id(world, WELFARE)) == {old.id, recent.id, council.id}
    assert ids(from_organisation_id=org_id(world, AGENCY)) == set()
    assert ids(overdue=True) == {old.id}
    assert ids(overdue=True, contact_days=40) == set()
    this_year = fiscal_year_of(recent.referred_on)
    assert recent.id in ids(fiscal_year=this_year)
    assert ids(fiscal_year=this_year - 5) == set()


def test_csv_is_utf8_with_bom_or_cp932_with_replacements(world):
    refer(world, note="𠮷野家の近く ①")
    rows = referrals.csv_rows(referrals.list_referrals(world, person(world, "secretary")))
    utf8 = spreadsheets.encode_csv(rows)
    assert utf8.startswith(b"\xef\xbb\xbf") and "𠮷野家".encode() in utf8
    cp932 = spreadsheets.encode_csv(rows, "cp932")
    text = cp932.decode("cp932")
    assert "?野家の近く ①" in text and "自立相談支援センター" in text


def test_the_list_makes_the_same_queries_however_many_referrals(app, world):
    engine = app.extensions["renkei.engine"]
    session = support_session(world)
    secretary = person(world, "secretary")

    def statements() -> int:
        with counting(engine) as seen:
            found = referrals.list_referrals(world, person(world, "chair.support"))
            [r.to_organisation.name for r in found]
        return len(seen)

    for _ in range(2):
        referrals.take_to_meeting(world, refer(world, consent="refused"), session, by=secretary)
        refer(world)
    world.commit()
    few = statements()
    for _ in range(6):
        referrals.take_to_meeting(world, refer(world, consent="refused"), session, by=secretary)
        refer(world)
    world.commit()
    assert statements() == few


def test_the_case_record_makes_the_same_queries_however_many_referrals(app, world):
    engine = app.extensions["renkei.engine"]
    session = support_session(world)
    pledge(world, "chair.support")
    secretary = person(world, "secretary")
    first = refer(world, consent="refused")
    item = referrals.take_to_meeting(world, first, session, by=secretary)
    world.commit()
    approved_section(world, item, "役割分担を確認")

    def statements() -> int:
        with counting(engine) as seen:
            record = referrals.case_record(world, person(world, "chair.support"), first.case_number)
            [r.to_organisation.name for r in record.referrals]
        return len(seen)

    few = statements()
    for _ in range(5):
        refer(world, by="secretary", case_number=first.case_number, consent="given")
    assert statements() == few


def test_the_case_record_shows_only_what_the_viewer_may_see(world):
    session = support_session(world)
    pledge(world, "chair.support")
    referral = refer(world, consent="refused")
    item = referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.commit()
    section = approved_section(world, item, "役割分担を確認")
    chair = referrals.case_record(world, person(world, "chair.support"), referral.case_number)
    assert [s.id for s in chair.sections] == [section.id]
    # The unpledged secretary (sending side) sees the referral, not the item nor its minutes.
    mine = referrals.case_record(world, person(world, "secretary"), referral.case_number)
    assert [r.id for r in mine.referrals] == [referral.id]
    assert (mine.items, mine.sections) == ([], [])
    with pytest.raises(NotFound):
        referrals.case_record(world, person(world, "member.both"), referral.case_number)


def test_the_case_record_follows_a_correction_of_the_case_number(world):
    """Approved minutes corrected to another case number: the earlier, superseded version
    no longer speaks for the first case; the corrected one speaks for the second."""
    session = support_session(world)
    pledge(world, "chair.support")
    referral = refer(world, consent="refused")
    item = referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.commit()
    first = approved_section(world, item, "役割分担を確認")
    other = refer(world).case_number
    corrected = MinutesVersion(
        minutes=first.version.minutes, number=2, status=MinutesStatus.APPROVED
    )
    section = MinutesSection(
        version=corrected,
        position=1,
        kind=SectionKind.ITEM,
        agenda_item_id=item.id,
        body_id=item.body_id,
        visibility=Visibility.CONFIDENTIAL,
        title=item.title,
        case_number=other,
        text="役割分担を確認",
    )
    world.add_all([corrected, section])
    world.commit()
    chair = person(world, "chair.support")
    assert referrals.case_record(world, chair, referral.case_number).sections == []
    assert [s.id for s in referrals.case_record(world, chair, other).sections] == [section.id]


def test_editing_records_the_fields_changed_not_their_text(world):
    referral = refer(world, note="最初")
    values = data(world, case_number=referral.case_number, note="変更後", consent="asking")
    changed = referrals.edit(world, referral, values, by=person(world, "secretary"))
    assert set(changed) == {"note", "consent"}
    assert "最初" not in referral.events[-1].note and "変更後" not in referral.events[-1].note
    with pytest.raises(Forbidden):
        referrals.edit(world, referral, values, by=person(world, "chair.support"))
