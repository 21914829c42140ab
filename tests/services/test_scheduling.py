from datetime import date, time, timedelta

import pytest

from renkei.models import Answer, MeetingSession, Membership, Status
from renkei.services import memberships, scheduling
from renkei.services.dates import tokyo_to_utc
from renkei.services.errors import DomainError, Forbidden
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import (
    COORDINATION,
    DAY,
    LAYER1,
    LAYER2,
    SUPPORT,
    make_session,
    session_data,
)


def names(invitees):
    return [i.person.name for i in invitees]


def test_joint_session_invites_each_shared_member_once_with_their_bodies(world):
    session = make_session(world, SUPPORT, LAYER1)
    invitees = scheduling.invitees(world, session)
    assert len(names(invitees)) == len(set(names(invitees)))
    both = next(i for i in invitees if i.person.name == "兼務 三郎")
    assert {b.name for b in both.bodies} == {SUPPORT, LAYER1}
    support = {m.person_id for m in body_named(world, SUPPORT).memberships}
    layer1 = {m.person_id for m in body_named(world, LAYER1).memberships}
    assert {i.person.id for i in invitees} == support | layer1


def test_subcommittee_session_invites_its_own_members_only(world):
    session = make_session(world, LAYER2)
    invited = set(names(scheduling.invitees(world, session)))
    assert "地域 さくら" in invited and "北 町子" in invited
    assert "生協 実" not in invited  # on the parent body only
    assert session.bodies[0].parent.name == LAYER1


def test_member_whose_term_ended_before_the_session_is_not_invited(world, secretary):
    support = body_named(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    term = world.query(Membership).filter_by(body_id=support.id, person_id=member.id).one()
    memberships.end_membership(world, term, DAY - timedelta(days=1), by=secretary)
    session = make_session(world, SUPPORT)
    assert "兼務 三郎" not in names(scheduling.invitees(world, session))


def test_end_before_start_and_longer_than_a_day_are_refused(world, secretary):
    before = count(world, MeetingSession)
    for data, field in [
        (session_data(world, SUPPORT, start=time(16), end=time(14)), "end_time"),
        (session_data(world, SUPPORT, start=time(9), end=time(9)), "end_time"),
    ]:
        with pytest.raises(DomainError) as error:
            scheduling.create_session(world, data, by=secretary)
        assert error.value.field == field
    long = session_data(world, SUPPORT)
    long.end = long.start + timedelta(hours=24, minutes=1)
    with pytest.raises(DomainError):
        scheduling.create_session(world, long, by=secretary)
    world.rollback()
    assert count(world, MeetingSession) == before


def test_host_must_be_served_and_bodies_must_be_the_secretarys(world, secretary):
    data = session_data(world, SUPPORT)
    data.host_body_id = body_named(world, LAYER1).id
    with pytest.raises(DomainError):
        scheduling.create_session(world, data, by=secretary)
    chair = person_by_email(world, "chair.support@example.jp")
    with pytest.raises(Forbidden):
        scheduling.create_session(world, session_data(world, SUPPORT), by=chair)


def test_online_link_must_be_http(world, secretary):
    with pytest.raises(DomainError) as error:
        scheduling.create_session(
            world, session_data(world, SUPPORT, online_url="javascript:alert(1)"), by=secretary
        )
    assert error.value.field == "online_url"


def test_holiday_warning_names_the_holiday(world):
    data = session_data(world, SUPPORT, day=date(2026, 11, 23))
    found = scheduling.warnings(world, data)
    assert [w.kind for w in found] == ["holiday"]
    assert found[0].holiday == "勤労感謝の日"


def test_clash_warning_names_the_shared_invitees(world, secretary):
    other = make_session(world, LAYER1, title="協議体 定例会")
    data = session_data(world, SUPPORT, start=time(15), end=time(17))
    clash = next(w for w in scheduling.warnings(world, data, by=secretary) if w.kind == "clash")
    assert "兼務 三郎" in clash.people and "民生 ふみ" in clash.people
    assert "税務 健" not in clash.people
    assert clash.other == other
    later = session_data(world, SUPPORT, start=time(16), end=time(17))
    assert scheduling.warnings(world, later) == []  # touching is not overlapping


def test_reschedule_and_cancel_keep_history_and_raise_sequence(world, secretary):
    session = make_session(world, SUPPORT)
    data = session_data(world, SUPPORT, start=time(15), end=time(17), place="役場2階")
    changed = scheduling.update_session(world, session, data, by=secretary)
    assert {"start_at", "end_at", "place"} <= set(changed)
    # Its calendars are told a few minutes later (the SEQUENCE rises as the notice goes).
    assert session.notice_pending_since is not None and session.sequence == 0
    scheduling.cancel_session(world, session, by=secretary, reason="台風のため")
    assert session.status == Status.CANCELLED
    kinds = [c.kind for c in session.changes]
    assert kinds == ["created", "rescheduled", "cancelled"]
    assert "15:00" in session.changes[1].detail and "台風" in session.changes[2].detail
    assert all(c.person == secretary for c in session.changes)


def test_only_invitees_reply_and_proxy_needs_a_name(world):
    session = make_session(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    outsider = person_by_email(world, "member.kyogitai@example.jp")
    with pytest.raises(Forbidden):
        scheduling.set_reply(world, session, outsider, "attend")
    with pytest.raises(DomainError):
        scheduling.set_reply(world, session, member, "proxy")
    reply = scheduling.set_reply(world, session, member, "proxy", proxy_name="代理 花")
    assert reply.answer == Answer.PROXY
    scheduling.set_reply(world, session, member, "attend")
    assert len(session.replies) == 1 and reply.proxy_name == ""


def test_tally_counts_a_shared_member_for_each_body(world):
    session = make_session(world, SUPPORT, LAYER1)
    member = person_by_email(world, "member.both@example.jp")
    scheduling.set_reply(world, session, member, "attend")
    people = scheduling.invitees(world, session)
    tallies = {t.body.name: t for t in scheduling.tally(session, people, session.replies)}
    assert tallies[SUPPORT].counts["attend"] == tallies[LAYER1].counts["attend"] == 1
    assert tallies[SUPPORT].unanswered == tallies[SUPPORT].total - 1


def test_upcoming_sessions_across_bodies(world):
    make_session(world, SUPPORT, title="支援会議 定例")
    make_session(world, LAYER1, title="協議体 定例", day=DAY + timedelta(days=1))
    make_session(world, COORDINATION, title="調整会議 定例")
    member = person_by_email(world, "member.both@example.jp")
    since = tokyo_to_utc(DAY - timedelta(days=1), time(0))
    titles = [s.title for s in scheduling.upcoming_for(world, member, since)]
    assert titles == ["支援会議 定例", "協議体 定例"]


def test_upcoming_sessions_follow_the_terms_to_the_day_in_tokyo(world):
    """A term from DAY+1 to DAY+2: sessions at 00:30 on its first day and at 23:30 on its
    last are the member's; those just outside, and the same times on another body, are not."""
    newcomer = person_by_email(world, "member.kyogitai@example.jp")  # not on the 支援会議
    secretary = person_by_email(world, "secretary@example.jp")
    first, last = DAY + timedelta(days=1), DAY + timedelta(days=2)
    data = memberships.MembershipData(
        person_id=newcomer.id, role="member", term_start=first, term_end=last
    )
    memberships.add_membership(world, body_named(world, SUPPORT), data, by=secretary)
    late, early = time(23, 30), time(0, 30)
    for day, start, end, title in (
        (DAY, late, time(23, 59), "前日"),
        (first, early, time(1, 30), "初日"),
        (last, late, time(23, 59), "最終日"),
        (last + timedelta(days=1), early, time(1, 30), "翌日"),
    ):
        make_session(world, SUPPORT, day=day, start=start, end=end, title=title)
    make_session(world, COORDINATION, day=first, start=early, end=time(1, 30), title="他の会議")
    since = tokyo_to_utc(DAY, time(0))
    titles = [s.title for s in scheduling.upcoming_for(world, newcomer, since)]
    assert "初日" in titles and "最終日" in titles
    assert not {"前日", "翌日", "他の会議"} & set(titles)


def test_upcoming_sessions_stop_at_the_limit_in_order(world):
    for offset in (3, 1, 2, 0):
        make_session(world, SUPPORT, day=DAY + timedelta(days=offset), title=f"第{offset}回")
    member = person_by_email(world, "member.both@example.jp")
    since = tokyo_to_utc(DAY, time(0))
    titles = [s.title for s in scheduling.upcoming_for(world, member, since, limit=2)]
    assert titles == ["第0回", "第1回"]


def test_clash_with_a_session_one_may_not_see_does_not_name_it(world):
    make_session(world, SUPPORT, title="支援会議（B氏世帯の件）")
    north_only = person_by_email(world, "member.kyogitai@example.jp")  # chairs the layer-2 body
    data = session_data(world, LAYER2)
    clash = next(w for w in scheduling.warnings(world, data, by=north_only) if w.kind == "clash")
    assert clash.other is None and clash.people


def test_a_cancelled_session_cannot_be_revived_or_given_guests(world, secretary):
    session = make_session(world, SUPPORT)
    scheduling.cancel_session(world, session, by=secretary)
    with pytest.raises(DomainError):
        scheduling.set_status(world, session, "held", by=secretary)
    with pytest.raises(DomainError):
        scheduling.add_guest(world, session, name="客", email="", organisation="", by=secretary)
    assert session.status == Status.CANCELLED


def test_a_body_that_owns_items_cannot_be_taken_off_the_session(world, secretary):
    from renkei.models import AgendaItem

    session = make_session(world, SUPPORT, LAYER1)
    world.add(
        AgendaItem(
            session=session,
            body=body_named(world, LAYER1),
            position=1,
            title="議題",
            visibility="session",
        )
    )
    world.commit()
    with pytest.raises(DomainError) as error:
        scheduling.update_session(world, session, session_data(world, SUPPORT), by=secretary)
    assert error.value.field == "body_ids"


def test_dates_far_from_now_are_refused(world, secretary):
    with pytest.raises(DomainError) as error:
        scheduling.create_session(
            world, session_data(world, SUPPORT, day=date(2150, 1, 1)), by=secretary
        )
    assert error.value.field == "start_date"


def test_a_change_no_calendar_shows_tells_nobody(world, secretary):
    """Notes, the way it is held or who presides are on the page, not in calendars: no
    change notice waits for them."""
    session = make_session(world, SUPPORT)
    data = session_data(world, SUPPORT, notes="資料は当日配布します", mode="hybrid")
    assert "notes" in scheduling.update_session(world, session, data, by=secretary)
    assert session.notice_pending_since is None
    moved = session_data(world, SUPPORT, start=time(15), end=time(17))
    scheduling.update_session(world, session, moved, by=secretary)
    assert session.notice_pending_since is not None
