"""The attendance record: quorum per body, partial attendance, confidential items, and the
minutes' attendance sections following it."""

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from renkei.models import Attendance, ItemPresence, Person, QuorumRule, SectionKind, Status
from renkei.services import agenda, attendance, minutes, pledges, quorum, scheduling
from renkei.services.agenda import ItemData
from renkei.services.attendance import LineData, RecordErrors
from renkei.services.errors import DomainError
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import LAYER1, PAST_DAY, REGISTERED_AFTER, SUPPORT, make_session


def named(db, name: str) -> Person:
    return db.scalar(select(Person).where(Person.name == name))


# Messages and times are rendered in the app's language (Japanese).
pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def held(world, secretary):
    """The joint session of the 支援会議 and the 第1層 協議体 on PAST_DAY, 14:00–16:00, held,
    with a confidential 支援会議 item first. The secretary and 兼務 三郎 have pledged."""
    support = body_named(world, SUPPORT)
    for person in (secretary, person_by_email(world, "member.both@example.jp")):
        pledges.record_pledge(world, support, person, by=secretary)
    session = make_session(world, SUPPORT, LAYER1, day=PAST_DAY)
    for title, body, minutes_, visibility in (
        ("個別ケース（A氏）", SUPPORT, 40, "confidential"),
        ("地域資源マップ", LAYER1, 30, "public"),
        ("担い手の確保", LAYER1, 10, "session"),
    ):
        agenda.add_item(
            world,
            session,
            ItemData(
                title=title,
                body_id=body_named(world, body).id,
                planned_minutes=minutes_,
                visibility=visibility,
            ),
            by=secretary,
            correction=REGISTERED_AFTER,
        )
    scheduling.set_status(world, session, "held", by=secretary)
    world.commit()
    return session


def everyone(world, session, presence="absent", **overrides) -> list[LineData]:
    """A line per invitee: ``presence`` for all, except ``overrides`` (name -> LineData)."""
    record = attendance.record_of(world, session)
    lines = []
    for line in record.lines:
        given = overrides.get(line.person.name)
        if given is not None:
            given.person_id = line.person.id
            lines.append(given)
        else:
            lines.append(LineData(line.person.id, presence))
    return lines


def quorum_by_body(world, session) -> dict:
    """The quorum per body from the saved record, as the session page reckons it."""
    people = scheduling.invitees(world, session)
    record = attendance.attendances_of(world, session)
    return {q.body.name: q for q in quorum.from_record(session.bodies, people, record)}


def present(**kwargs) -> LineData:
    return LineData(0, "present", **kwargs)


def secret_item(session):
    return session.items[0]


def test_a_session_not_marked_held_refuses_a_record(world, secretary):
    session = make_session(world, SUPPORT, day=PAST_DAY)
    session.status = Status.CONVENED  # convened before it took place, never marked held
    with pytest.raises(DomainError) as refused:
        attendance.save_record(world, session, everyone(world, session), by=secretary, shown=set())
    assert "開催済" in str(refused.value.message)
    assert count(world, Attendance) == 0


def test_a_session_still_ahead_cannot_be_marked_held(world, secretary):
    session = make_session(world, SUPPORT)  # DAY lies ahead
    with pytest.raises(DomainError) as refused:
        scheduling.set_status(world, session, "held", by=secretary)
    assert "まだ始まっていない" in str(refused.value.message)
    assert session.status == Status.CONVENED


def test_quorum_per_body_in_a_joint_session(world, secretary, held):
    """Six voting members each (the secretariat and the observer do not count), so each
    body needs four. Present: the 支援会議's chair and the three members shared by both
    bodies, so the 支援会議 has 4 of 6 (quorate) and the 協議体 3 of 6 (not quorate)."""
    shared = ["兼務 三郎", "民生 ふみ", "介護 由美"]
    lines = everyone(
        world,
        held,
        **{name: present() for name in [*shared, "支援 一郎", "事務 花子", "社協 大地"]},
    )
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    by_body = quorum_by_body(world, held)
    support, layer1 = by_body[SUPPORT], by_body[LAYER1]
    assert (support.present, support.total, support.required, support.met) == (4, 6, 4, True)
    assert (layer1.present, layer1.total, layer1.required, layer1.met) == (3, 6, 4, False)


def test_a_fixed_quorum_and_proxies_follow_the_bodys_rule(world, secretary, held):
    layer1 = body_named(world, LAYER1)
    layer1.quorum_rule, layer1.quorum_number, layer1.quorum_counts_proxy = (
        QuorumRule.FIXED,
        3,
        True,
    )
    lines = everyone(
        world,
        held,
        **{
            "兼務 三郎": present(),
            "民生 ふみ": present(),
            "生協 実": LineData(0, "proxy", proxy_name="生協 代理人"),
        },
    )
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    by_body = quorum_by_body(world, held)
    assert (by_body[LAYER1].present, by_body[LAYER1].required, by_body[LAYER1].met) == (3, 3, True)
    # The 支援会議 keeps the default: its proxies would not count, and 2 of 6 is too few.
    assert (by_body[SUPPORT].present, by_body[SUPPORT].met) == (2, False)


def replied_before(world, session, person, answer, **extra) -> None:
    """A reply given while the session was still to come: a held session takes none."""
    session.status = Status.CONVENED
    scheduling.set_reply(world, session, person, answer, **extra)
    session.status = Status.HELD
    world.flush()


def test_the_form_starts_from_the_replies(world, secretary, held):
    both = person_by_email(world, "member.both@example.jp")
    kyogitai = person_by_email(world, "member.kyogitai@example.jp")
    replied_before(world, held, both, "attend")
    replied_before(world, held, kyogitai, "proxy", proxy_name="地域 代理")
    world.commit()
    record = attendance.record_of(world, held)
    entered = {line.person.name: line.entered() for line in record.lines}
    assert entered["兼務 三郎"].presence == "present"
    # Entitled and pledged: present for the confidential item unless the secretary unticks.
    assert entered["兼務 三郎"].item_ids == {secret_item(held).id}
    assert (entered["地域 さくら"].presence, entered["地域 さくら"].proxy_name) == (
        "proxy",
        "地域 代理",
    )
    assert entered["民生 ふみ"].presence is None  # no reply: the secretary chooses


def test_partial_attendance_is_kept_with_its_times(world, secretary, held):
    lines = everyone(world, held, **{"兼務 三郎": LineData(0, "partial", arrived=time(14, 40))})
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    row = attendance.record_of(world, held).attendances[named(world, "兼務 三郎").id]
    assert row.presence == "partial" and row.left_at is None
    assert attendance.partial_times(row) == "14:40から"


@pytest.mark.parametrize(
    "entry, field, message",
    [
        (LineData(0, "partial", arrived=time(16, 30)), "arrived", "終了（16:00）より後"),
        (LineData(0, "partial", arrived=time(16, 0)), "arrived", "終了（16:00）より後"),
        (LineData(0, "partial", arrived=time(13, 0)), "arrived", "開始（14:00）より前"),
        (LineData(0, "partial", left=time(17, 0)), "left", "終了（16:00）より後"),
        (LineData(0, "partial", arrived=time(15), left=time(14, 30)), "left", "到着より後"),
        (LineData(0, "partial"), "arrived", "到着または退出の時刻"),
        (LineData(0, "proxy"), "proxy_name", "代理で出席した人"),
        (LineData(0, "maybe"), "presence", "選んでください"),
        (LineData(0, None), "presence", "選んでください"),
        (LineData(0, "present", note="長" * 201), "note", "200文字以内"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(
    world, secretary, held, entry, field, message
):
    lines = everyone(world, held, **{"兼務 三郎": entry})
    with pytest.raises(RecordErrors) as refused:
        attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.rollback()
    errors = refused.value.lines[named(world, "兼務 三郎").id]
    assert message in str(errors[field]), errors
    assert count(world, Attendance) == 0


def test_nobody_unentitled_is_present_for_a_confidential_item(world, secretary, held):
    """民生 ふみ is a 支援会議 member without a pledge; 地域 さくら is on the 協議体 only."""
    secret = secret_item(held)
    for name in ("民生 ふみ", "地域 さくら"):
        lines = everyone(world, held, **{name: present(item_ids={secret.id})})
        with pytest.raises(RecordErrors) as refused:
            attendance.save_record(world, held, lines, by=secretary, shown={secret.id})
        world.rollback()
        message = str(refused.value.lines[named(world, name).id]["items"])
        assert f"{name}さんは議題1に出席できません" in message and SUPPORT in message
        assert "個別ケース" not in message  # the error names the item by number only
    assert count(world, Attendance) == 0 and count(world, ItemPresence) == 0


def add_body_item(world, secretary, session):
    """A 支援会議 item for its members only (no pledge needed), fourth on the agenda."""
    data = ItemData(
        title="支援方針の共有",
        body_id=body_named(world, SUPPORT).id,
        planned_minutes=10,
        visibility="body",
        confirm_wider=True,
    )
    item = agenda.add_item(world, session, data, by=secretary, correction=REGISTERED_AFTER)
    world.commit()
    return item


def test_presence_at_a_body_item_is_recorded_for_its_members_only(world, secretary, held):
    """In a joint session the 協議体's members leave the room for a 支援会議 `body` item:
    民生 ふみ (支援会議 member, no pledge) may be present for it, 地域 さくら (協議体 only)
    may not; a first record starts from the members of the owning body present."""
    item = add_body_item(world, secretary, held)
    record = attendance.record_of(world, held)
    assert [i.id for i in record.owned_items] == [secret_item(held).id, item.id]
    lines = everyone(world, held, **{"地域 さくら": present(item_ids={item.id})})
    with pytest.raises(RecordErrors) as refused:
        attendance.save_record(world, held, lines, by=secretary, shown={item.id})
    world.rollback()
    message = str(refused.value.lines[named(world, "地域 さくら").id]["items"])
    assert "地域 さくらさんは議題4に出席できません" in message and SUPPORT in message
    assert "守秘義務" not in message
    assert count(world, Attendance) == 0
    lines = everyone(world, held, **{"民生 ふみ": present(), "地域 さくら": present()})
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    saved = attendance.record_of(world, held).attendances
    assert saved[named(world, "民生 ふみ").id].item_ids == {item.id}
    assert saved[named(world, "地域 さくら").id].item_ids == set()


def test_presence_for_items_the_form_did_not_show_is_kept(world, secretary, held):
    secret = secret_item(held)
    lines = everyone(world, held, **{"兼務 三郎": present(item_ids={secret.id})})
    attendance.save_record(world, held, lines, by=secretary, shown={secret.id})
    world.commit()
    # Saved again by someone whose form did not show the item, ticking nothing.
    lines = everyone(world, held, **{"兼務 三郎": present()})
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    row = attendance.record_of(world, held).attendances[named(world, "兼務 三郎").id]
    assert row.item_ids == {secret.id}
    # An absent member is present for nothing.
    lines = everyone(world, held, **{"兼務 三郎": LineData(0, "absent")})
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    assert count(world, ItemPresence) == 0


def test_someone_not_invited_is_refused(world, secretary, held):
    lines = [
        *everyone(world, held),
        LineData(person_by_email(world, "admin@example.jp").id, "present"),
    ]
    with pytest.raises(DomainError):
        attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.rollback()
    assert count(world, Attendance) == 0


def test_only_the_secretariat_records(world, held):
    chair = person_by_email(world, "chair.support@example.jp")
    with pytest.raises(DomainError):
        attendance.save_record(world, held, everyone(world, held), by=chair, shown=set())


def attendance_section(world, version, body):
    return next(
        s
        for s in version.sections
        if s.kind == SectionKind.ATTENDANCE and s.body_id == body_named(world, body).id
    )


def test_the_draft_minutes_follow_the_record_unless_edited(world, secretary, held):
    version = minutes.open_minutes(world, held, by=secretary)
    edited = attendance_section(world, version, LAYER1)
    minutes.save_section(
        world, edited, "出席者は別紙のとおり", revision=edited.revision, by=secretary
    )
    world.commit()
    lines = everyone(world, held, **{"兼務 三郎": present(), "支援 一郎": present()})
    _, refreshed = attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    assert (refreshed.updated, refreshed.kept) == (1, 1)
    support = attendance_section(world, version, SUPPORT).text
    assert "**定足数**：委員6名のうち2名が出席（必要4名）— 不成立" in support
    assert "支援 一郎" in support and "**欠席**（5）" in support
    assert attendance_section(world, version, LAYER1).text == "出席者は別紙のとおり"


def test_a_new_draft_is_laid_out_from_the_record(world, secretary, held):
    lines = everyone(world, held, presence="present")
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    version = minutes.open_minutes(world, held, by=secretary)
    text = attendance_section(world, version, LAYER1).text
    assert "委員6名のうち6名が出席（必要4名）— 成立" in text


def test_a_person_twice_in_the_form_is_refused(world, secretary, held):
    lines = everyone(world, held)
    with pytest.raises(DomainError) as refused:
        attendance.save_record(world, held, [*lines, lines[0]], by=secretary, shown=set())
    assert "2回" in str(refused.value.message)
    world.rollback()
    assert count(world, Attendance) == 0


def test_a_first_record_counts_the_entitled_present_for_items_the_form_hid(world, secretary, held):
    """An unpledged secretary's form does not show the confidential item: those entitled
    to it who were present count as present for it, as the pledged secretary's form would
    have started; a later save by the same form keeps what a pledged one corrected."""
    secret = secret_item(held)
    lines = everyone(world, held, **{"兼務 三郎": present(), "民生 ふみ": present()})
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    saved = attendance.record_of(world, held).attendances
    assert saved[named(world, "兼務 三郎").id].item_ids == {secret.id}  # pledged
    assert saved[named(world, "民生 ふみ").id].item_ids == set()  # not pledged


def test_a_session_past_midnight_takes_times_after_midnight(world, secretary):
    session = make_session(world, SUPPORT, day=PAST_DAY, start=time(22), end=time(23))
    session.end_at = session.start_at + timedelta(hours=3)  # until 1:00 the next day
    scheduling.set_status(world, session, "held", by=secretary)
    world.commit()
    for arrived, field, message in (
        (time(21, 30), "arrived", "開始（22:00）より前"),
        (time(1, 30), "arrived", "終了（1:00）より後"),
    ):
        late = LineData(0, "partial", arrived=arrived)
        with pytest.raises(RecordErrors) as refused:
            attendance.save_record(
                world,
                session,
                everyone(world, session, **{"兼務 三郎": late}),
                by=secretary,
                shown=set(),
            )
        world.rollback()
        assert message in str(refused.value.lines[named(world, "兼務 三郎").id][field])
    after_midnight = LineData(0, "partial", arrived=time(0, 30))
    lines = everyone(world, session, **{"兼務 三郎": after_midnight})
    attendance.save_record(world, session, lines, by=secretary, shown=set())
    row = attendance.record_of(world, session).attendances[named(world, "兼務 三郎").id]
    assert row.arrived_at - session.start_at == timedelta(hours=2, minutes=30)


def test_the_quorum_is_expected_from_the_replies_until_there_is_a_record(world, secretary, held):
    people = scheduling.invitees(world, held)
    layer1 = body_named(world, LAYER1)
    layer1.quorum_counts_proxy = True
    for name, answer in (("兼務 三郎", "attend"), ("民生 ふみ", "attend"), ("生協 実", "proxy")):
        replied_before(world, held, named(world, name), answer, proxy_name="代理人")
    world.commit()
    expected = quorum.of_session(held, people, attendance.attendances_of(world, held))
    assert not expected.recorded
    by_body = {q.body.name: q.present for q in expected.quorums}
    assert by_body == {SUPPORT: 2, LAYER1: 3}  # the 支援会議 does not count proxies
    lines = everyone(world, held, **{"兼務 三郎": present()})
    attendance.save_record(world, held, lines, by=secretary, shown=set())
    world.commit()
    recorded = quorum.of_session(held, people, attendance.attendances_of(world, held))
    assert recorded.recorded
    assert {q.body.name: q.present for q in recorded.quorums} == {SUPPORT: 1, LAYER1: 1}


def test_presence_at_each_item_lists_the_invitees_recorded_for_it(world, secretary, held):
    secret = secret_item(held)
    lines = everyone(
        world, held, **{"兼務 三郎": present(item_ids={secret.id}), "支援 一郎": present()}
    )
    attendance.save_record(world, held, lines, by=secretary, shown={secret.id})
    world.commit()
    people = scheduling.invitees(world, held)
    record = attendance.attendances_of(world, held)
    assert attendance.present_for([secret], people, record) == [(secret, ["兼務 三郎"])]
    assert attendance.present_for([], people, record) == []


def test_a_fixed_quorum_names_its_number(world):
    layer1 = body_named(world, LAYER1)
    assert quorum.fixed_number(layer1) is None
    layer1.quorum_rule, layer1.quorum_number = QuorumRule.FIXED, 3
    assert quorum.fixed_number(layer1) == 3 and quorum.required(layer1, 10) == 3
