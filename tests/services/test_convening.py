"""Selected members (選定招集) and participants (関係者): the policy, invitees, quorum, mail,
feeds and bad input, through the service functions."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import (
    Answer,
    AuditEntry,
    Body,
    MinutesSection,
    Participant,
    Person,
    QuorumRule,
    Reply,
    SelectedMember,
    Selection,
    SessionPledge,
    Visibility,
)
from renkei.services import convening, feeds, notices, policy, quorum, scheduling
from renkei.services.accounts import PersonData
from renkei.services.convening import ParticipantData
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden
from tests.convening_helpers import CASE2, OPENING, case_session
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, session_data
from tests.test_leaks import message_text


@pytest.fixture
def case(app, world):
    return case_session(app, world)


def person(db, email) -> Person:
    return person_by_email(db, email)


def named(db, name) -> Person:
    return db.scalar(select(Person).where(Person.name == name))


def select_members(db, session, *people, body=SUPPORT, by="secretary@example.jp"):
    changed = convening.set_selection(
        db,
        session,
        body_named(db, body).id,
        [p.id for p in people],
        by=person(db, by),
    )
    db.commit()
    return changed


def item(session, position):
    return next(i for i in session.items if i.position == position)


def access(db, who, session) -> policy.SessionAccess:
    return policy.session_access(db, who, session)


# --- Policy ---------------------------------------------------------------------------------


def test_a_member_not_chosen_knows_the_session_and_sees_nothing_closed(world, case, ctx):
    both, chair = person(world, "member.both@example.jp"), person(world, "chair.support@example.jp")
    assert access(world, both, case).can_see_item(item(case, 2))  # pledged: before, yes
    select_members(world, case, chair)
    seen = access(world, both, case)
    assert seen.can_view and not seen.is_member and not seen.invited
    assert seen.uncalled_body_ids == {body_named(world, SUPPORT).id}
    assert seen.can_see_item(item(case, 1))  # the public item
    assert not seen.can_see_item(item(case, 2)) and not seen.can_see_item(item(case, 3))
    assert not seen.can_see_invitees and not seen.can_see_online_link
    assert seen.bodies_needing_pledge(case) == []  # no pledge would open anything
    chosen = access(world, chair, case)
    assert chosen.is_member and chosen.can_see_item(item(case, 3))


def test_a_member_of_another_body_served_stays_convened_by_it(world, ctx):
    """A joint session: choosing members of the 支援会議 leaves 兼務 三郎 convened as a member
    of the 協議体, with its items, but not the 支援会議's members-only ones."""
    secretary = person(world, "secretary@example.jp")
    session = make_session(world, SUPPORT, LAYER1)
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    from renkei.models import AgendaItem

    for position, (body, visibility) in enumerate(
        [(support, Visibility.SESSION), (layer1, Visibility.SESSION)], start=1
    ):
        world.add(
            AgendaItem(
                session=session, body=body, position=position, title="x", visibility=visibility
            )
        )
    world.commit()
    select_members(world, session, secretary)
    both = access(world, person(world, "member.both@example.jp"), session)
    assert both.is_member and both.invited
    assert both.member_body_ids == {layer1.id} and both.entitled_body_ids == {layer1.id}
    assert both.can_see_item(item(session, 2))
    people = {i.person.email: i for i in scheduling.invitees(world, session)}
    assert [b.id for b in people["member.both@example.jp"].bodies] == [layer1.id]


def test_a_participant_sees_their_item_once_pledged_and_nothing_else(world, case, ctx):
    secretary, sakura = (
        person(world, "secretary@example.jp"),
        person(world, "member.kyogitai@example.jp"),
    )
    other = case_session_like(world, case)
    assert not access(world, sakura, case).can_view
    convening.add_participant(
        world, case, ParticipantData(item_ids=[item(case, 2).id], person_id=sakura.id), by=secretary
    )
    world.commit()
    before = access(world, sakura, case)
    assert before.can_view and before.is_participant and not before.is_member
    assert before.can_see_item(item(case, 1))
    assert not before.can_see_item(item(case, 2))  # confidential: the pledge first
    assert [b.name for b in before.bodies_needing_session_pledge(case)] == [SUPPORT]
    convening.record_session_pledge(world, case, item(case, 2).body_id, sakura, by=sakura)
    world.commit()
    after = access(world, sakura, case)
    assert after.can_see_item(item(case, 2)) and not after.can_see_item(item(case, 3))
    assert after.bodies_needing_session_pledge(case) == []
    assert not after.can_see_invitees and after.can_see_online_link
    assert not access(world, sakura, other).can_view  # another session of the body: 404


def case_session_like(world, case):
    return make_session(world, SUPPORT, title="別の回", day=DAY + timedelta(days=7))


def test_a_participant_reads_their_minutes_section_only_if_allowed(world, case, ctx):
    secretary, sakura = (
        person(world, "secretary@example.jp"),
        person(world, "member.kyogitai@example.jp"),
    )
    convening.add_participant(
        world, case, ParticipantData(item_ids=[item(case, 2).id], person_id=sakura.id), by=secretary
    )
    convening.record_session_pledge(world, case, item(case, 2).body_id, sakura, by=secretary)
    world.commit()
    support = body_named(world, SUPPORT).id
    own = MinutesSection(
        agenda_item_id=item(case, 2).id, body_id=support, visibility=Visibility.CONFIDENTIAL
    )
    others = MinutesSection(
        agenda_item_id=item(case, 3).id, body_id=support, visibility=Visibility.CONFIDENTIAL
    )
    member_view = policy.MinutesView.MEMBER
    closed = access(world, sakura, case)
    assert not closed.can_see_item(own)
    assert not policy.shows_section(closed, own, member_view)
    participant = world.scalar(select(Participant))
    convening.update_participant(world, participant, [item(case, 2).id], True, by=secretary)
    world.commit()
    allowed = access(world, sakura, case)
    assert allowed.can_see_item(own) and policy.shows_section(allowed, own, member_view)
    assert not policy.shows_section(allowed, own, policy.MinutesView.PUBLIC)
    assert not allowed.can_see_item(others)
    assert not policy.can_use_full_view(allowed, [own, others])


# --- Invitees, quorum, mail, feeds ----------------------------------------------------------


def test_only_those_convened_are_invitees(world, case):
    chair, secretary = (
        person(world, "chair.support@example.jp"),
        person(world, "secretary@example.jp"),
    )
    everyone = {i.person.id for i in scheduling.invitees(world, case)}
    select_members(world, case, chair, secretary)
    assert {i.person.id for i in scheduling.invitees(world, case)} == {chair.id, secretary.id}
    assert everyone > {chair.id, secretary.id}
    assert not scheduling.is_invitee(world, case, person(world, "member.both@example.jp"))
    assert scheduling.is_invitee(world, case, chair)
    with pytest.raises(Forbidden):
        scheduling.set_reply(world, case, person(world, "member.both@example.jp"), "attend")


def test_quorum_of_a_selection_is_a_majority_of_those_convened(world, case):
    support = body_named(world, SUPPORT)
    support.quorum_rule, support.quorum_number = QuorumRule.FIXED, 5
    world.commit()
    voters = [
        person(world, "chair.support@example.jp"),
        person(world, "member.both@example.jp"),
        named(world, "税務 健"),
    ]
    whole = quorum.of_session(case, scheduling.invitees(world, case), {}).quorums[0]
    assert whole.required == 5 and not whole.selected  # the body's own rule
    select_members(world, case, person(world, "secretary@example.jp"), *voters)
    for voter in voters[:2]:
        world.add(Reply(session=case, person=voter, answer=Answer.ATTEND))
    world.commit()
    reckoned = quorum.of_session(case, scheduling.invitees(world, case), {}).quorums[0]
    assert reckoned.selected
    assert (reckoned.total, reckoned.present, reckoned.required) == (3, 2, 2)  # not the secretary
    assert reckoned.met


def test_invitations_go_to_those_convened_and_participants(app, world, ctx, links):
    case = case_session(app, world, convened=False)
    secretary, chair = (
        person(world, "secretary@example.jp"),
        person(world, "chair.support@example.jp"),
    )
    select_members(world, case, secretary, chair)
    convening.add_participant(
        world,
        case,
        ParticipantData(
            item_ids=[item(case, 2).id],
            new_person=PersonData(name="学校 先生", email="teacher@school.example.jp"),
        ),
        by=secretary,
    )
    world.commit()
    queued = notices.convene(world, case, by=secretary, links=links, sender="renkei@example.jp")
    addresses = {m.to_address for m in queued.messages}
    assert addresses == {  # the secretary organises: no invitation of their own
        "chair.support@example.jp",
        "teacher@school.example.jp",
    }
    teacher = next(m for m in queued.messages if m.to_address == "teacher@school.example.jp")
    text = message_text(teacher.content)
    assert OPENING in text and "非公開議題" in text and CASE2 not in text


def test_a_participant_added_after_convening_is_invited_with_the_change_notices(
    app, world, ctx, links
):
    """Those convened already hear nothing of it; the participant is sent the invitation
    with the next change notices, and the member no longer chosen a cancellation."""
    case = case_session(app, world, convened=False)
    secretary = person(world, "secretary@example.jp")
    args = {"links": links, "sender": "renkei@example.jp"}
    notices.convene(world, case, by=secretary, **args)
    world.commit()
    select_members(world, case, secretary, person(world, "chair.support@example.jp"))
    convening.add_participant(
        world,
        case,
        ParticipantData(
            item_ids=[item(case, 2).id],
            new_person=PersonData(name="学校 先生", email="teacher@school.example.jp"),
        ),
        by=secretary,
    )
    world.commit()
    assert world.get(type(case), case.id).notice_pending_since is not None
    queued = notices.send_now(world, case, by=secretary, **args)
    sent = {m.to_address: m.kind for m in queued.messages}
    assert sent == {"teacher@school.example.jp": "invite", "member.both@example.jp": "cancel"}
    assert not notices.send_now(world, case, by=secretary, **args).messages


def test_a_member_not_chosen_has_the_session_out_of_their_feed(world, case, links):
    both = person(world, "member.both@example.jp")
    since = utcnow() - timedelta(days=1)
    assert case.id in {s.id for s in scheduling.upcoming_for(world, both, since)}
    before = feeds.version(world, both, locale="ja", links=links).etag
    select_members(world, case, person(world, "chair.support@example.jp"))
    assert case.id not in {s.id for s in scheduling.upcoming_for(world, both, since)}
    assert feeds.version(world, both, locale="ja", links=links).etag != before
    chair = person(world, "chair.support@example.jp")
    assert case.id in {s.id for s in scheduling.upcoming_for(world, chair, since)}
    test = scheduling.invitation_test(world, both)
    assert not test(case) and scheduling.invitation_test(world, chair)(case)


def test_taking_a_body_off_the_session_drops_its_selection(world, ctx):
    secretary = person(world, "secretary@example.jp")
    session = make_session(world, SUPPORT, LAYER1)
    select_members(world, session, secretary)
    data = session_data(world, LAYER1, title=session.title)
    scheduling.update_session(world, session, data, by=secretary)
    world.commit()
    assert count(world, Selection) == 0 and count(world, SelectedMember) == 0


def test_readable_sections_follow_the_selection(world, case, ctx):
    """Lists across sessions (one's tasks) read sections with the same rule."""
    from renkei.models import Minutes, MinutesVersion

    minutes = Minutes(session=case)
    version = MinutesVersion(minutes=minutes, number=1)
    section = MinutesSection(
        version=version,
        position=1,
        kind="item",
        agenda_item_id=item(case, 2).id,
        body_id=item(case, 2).body_id,
        visibility=Visibility.CONFIDENTIAL,
        revision=0,
    )
    world.add_all([minutes, version, section])
    world.commit()
    both = person(world, "member.both@example.jp")
    assert policy.readable_sections(world, both, [section]) == {section.id}
    select_members(world, case, person(world, "chair.support@example.jp"))
    assert policy.readable_sections(world, both, [section]) == set()


# --- Bad input, and the log -----------------------------------------------------------------


def test_bad_selections_change_nothing(world, case):
    secretary = person(world, "secretary@example.jp")
    support = body_named(world, SUPPORT).id
    with pytest.raises(DomainError, match="1人以上|at least one"):
        convening.set_selection(world, case, support, [], by=secretary)
    with pytest.raises(DomainError):
        convening.set_selection(
            world, case, support, [person(world, "member.kyogitai@example.jp").id], by=secretary
        )
    with pytest.raises(Forbidden):
        convening.set_selection(
            world, case, support, [secretary.id], by=person(world, "chair.support@example.jp")
        )
    world.rollback()
    assert count(world, Selection) == 0
    assert not world.scalars(select(AuditEntry).where(AuditEntry.action.like("convened%"))).all()


def test_choosing_the_same_members_again_writes_nothing(world, case):
    chair = person(world, "chair.support@example.jp")
    assert select_members(world, case, chair)
    assert not select_members(world, case, chair)
    entries = world.scalars(select(AuditEntry).where(AuditEntry.action == "convened_selected"))
    assert len(entries.all()) == 1


def test_bad_participants_change_nothing(world, case, ctx):
    secretary = person(world, "secretary@example.jp")
    sakura = person(world, "member.kyogitai@example.jp")
    other = case_session_like(world, case)
    from renkei.models import AgendaItem

    foreign = AgendaItem(
        session=other,
        body=body_named(world, SUPPORT),
        position=1,
        title="別",
        visibility=Visibility.CONFIDENTIAL,
    )
    world.add(foreign)
    world.commit()
    people_before = count(world, Person)
    attempts = [
        ParticipantData(item_ids=[foreign.id], person_id=sakura.id),
        ParticipantData(item_ids=[], person_id=sakura.id),
        ParticipantData(item_ids=[item(case, 2).id]),
        ParticipantData(
            item_ids=[item(case, 2).id], person_id=person(world, "member.both@example.jp").id
        ),
        ParticipantData(
            item_ids=[item(case, 2).id], person_id=sakura.id, new_person=PersonData(name="新人")
        ),
    ]
    for data in attempts:
        with pytest.raises(DomainError):
            convening.add_participant(world, case, data, by=secretary)
        world.rollback()
    assert count(world, Participant) == 0 and count(world, Person) == people_before
    convening.add_participant(
        world, case, ParticipantData(item_ids=[item(case, 2).id], person_id=sakura.id), by=secretary
    )
    with pytest.raises(DomainError):  # twice
        convening.add_participant(
            world,
            case,
            ParticipantData(item_ids=[item(case, 3).id], person_id=sakura.id),
            by=secretary,
        )


def test_a_selection_of_a_cancelled_session_is_refused(world, case, ctx):
    secretary = person(world, "secretary@example.jp")
    scheduling.cancel_session(world, case, by=secretary)
    world.commit()
    with pytest.raises(DomainError):
        convening.set_selection(world, case, case.host_body_id, [secretary.id], by=secretary)


def test_session_pledges_are_the_participants(world, case, ctx):
    secretary = person(world, "secretary@example.jp")
    sakura = person(world, "member.kyogitai@example.jp")
    with pytest.raises(DomainError):  # not a participant
        convening.record_session_pledge(world, case, case.host_body_id, sakura, by=sakura)
    convening.add_participant(
        world, case, ParticipantData(item_ids=[item(case, 2).id], person_id=sakura.id), by=secretary
    )
    with pytest.raises(DomainError):  # dated ahead
        convening.record_session_pledge(
            world, case, case.host_body_id, sakura, by=sakura, on=today() + timedelta(days=3)
        )
    convening.record_session_pledge(world, case, case.host_body_id, sakura, by=sakura)
    with pytest.raises(DomainError):  # twice
        convening.record_session_pledge(world, case, case.host_body_id, sakura, by=sakura)
    world.commit()
    assert count(world, SessionPledge) == 1
    # A session pledge is no body pledge: nothing of the 支援会議 opens elsewhere.
    assert policy.reader_access(world, sakura).pledged_body_ids == set()
    assert world.scalar(select(Body.id).where(Body.name == SUPPORT)) not in (
        policy.pledged_body_ids(world, sakura, {case.host_body_id})
    )
