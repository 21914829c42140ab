"""Date polls as a service: making one (and what is refused), invitees, answers and their
history, the personal link's limits, quorum per body, deciding, reminders."""

from datetime import time, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import (
    Choice,
    MailMessage,
    MeetingSession,
    PollAnswer,
    PollAnswerChange,
    PollLink,
    PollStatus,
)
from renkei.services import polls, scheduling
from renkei.services.dates import holiday_name, tokyo_to_utc
from renkei.services.errors import DomainError, Forbidden
from tests.helpers import count, person_by_email
from tests.polls_helpers import DAYS, answer_all, make_poll, person_named, poll_data, slot
from tests.sessions_helpers import (
    COORDINATION,
    DAY,
    LAYER1,
    SUPPORT,
    holiday_after,
    make_session,
)

NOW = utcnow()


@pytest.fixture
def ctx(app):
    """An application context in English, so that messages read as their msgids."""
    with app.app_context(), force_locale("en"):
        yield


# --- Making a poll ------------------------------------------------------------------------


def test_joint_poll_invites_each_member_of_both_bodies_once(ctx, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    names = sorted(i.person.name for i in poll.invitees)
    expected = sorted(
        i.person.name
        for i in scheduling.invitees(world, make_session(world, SUPPORT, LAYER1, day=DAYS[0]))
    )
    assert names == expected
    assert len(names) == len(set(names)) == 11  # the three shared members once each
    assert [s.start_at for s in poll.slots] == [tokyo_to_utc(d, time(14)) for d in DAYS]
    assert poll.status == PollStatus.OPEN


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slots": []}, "Give at least one candidate slot."),
        ({"slots": [slot(DAY, time(16), time(14))]}, "Slot 1 must end after it starts."),
        ({"slots": [slot(DAY), slot(DAY, time(10), time(10))]}, "Slot 2 must end after it starts."),
        ({"slots": [slot(DAY), slot(DAY - timedelta(days=400))]}, "Slot 2 is in the past."),
        ({"slots": [slot(DAY), slot(DAY)]}, "Slot 2 is given twice."),
        ({"title": "  "}, "Enter a title."),
        ({"deadline": DAY - timedelta(days=400)}, "The deadline has already passed."),
        ({"host_body_id": None}, "The host body must be one of the bodies served."),
    ],
)
def test_bad_polls_are_refused_and_nothing_is_written(ctx, world, secretary, change, message):
    data = poll_data(world, SUPPORT, LAYER1)
    for name, value in change.items():
        setattr(data, name, value)
    with pytest.raises(DomainError) as refused:
        polls.create_poll(world, data, by=secretary)
    assert str(refused.value.message) == message
    world.rollback()
    assert count(world, polls.Poll) == 0


def test_only_the_secretariat_of_every_body_makes_a_poll(ctx, world):
    chair = person_by_email(world, "chair.support@example.jp")
    with pytest.raises(Forbidden):
        polls.create_poll(world, poll_data(world, SUPPORT), by=chair)


# --- Answers and history ------------------------------------------------------------------


def test_answers_can_be_changed_and_every_change_is_kept(ctx, world):
    poll = make_poll(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    first = answer_all(world, poll, member, "yes", "maybe", "no", comment="午後なら")
    assert [(c.old, c.new) for c in first] == [(None, Choice.YES), (None, Choice.MAYBE),
                                               (None, Choice.NO)]  # fmt: skip
    second = answer_all(world, poll, member, "yes", "no", "yes")
    assert [(c.slot_id, c.old, c.new) for c in second] == [
        (poll.slots[1].id, Choice.MAYBE, Choice.NO),
        (poll.slots[2].id, Choice.NO, Choice.YES),
    ]
    assert polls.answers_of(world, poll, member) == {
        poll.slots[0].id: Choice.YES,
        poll.slots[1].id: Choice.NO,
        poll.slots[2].id: Choice.YES,
    }
    assert count(world, PollAnswerChange) == 5
    assert [h.by.id for h in polls.history(world, poll)] == [member.id] * 5


@pytest.mark.parametrize(
    ("choices", "comment", "message"),
    [
        ({0: "yes", 1: "yes"}, "", "Answer every candidate slot."),
        ({0: "yes", 1: "yes", 2: "perhaps"}, "", "Choose ○, △ or × for every candidate slot."),
        (
            {0: "yes", 1: "yes", 2: "yes", 99: "yes"},
            "",
            "This candidate slot is not part of the poll.",
        ),
        ({0: "yes", 1: "yes", 2: "yes"}, "長" * 501, "Use at most 500 characters."),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(ctx, world, choices, comment, message):
    poll = make_poll(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    ids = {n: s.id for n, s in enumerate(poll.slots)}
    posted = {ids.get(n, 10_000 + n): value for n, value in choices.items()}
    with pytest.raises(DomainError) as refused:
        polls.answer(world, poll, member, posted, comment, by=member)
    assert str(refused.value.message) == message
    world.rollback()
    assert count(world, PollAnswer) == count(world, PollAnswerChange) == 0


def test_someone_not_asked_cannot_answer(ctx, world):
    poll = make_poll(world, SUPPORT)
    outsider = person_by_email(world, "member.kyogitai@example.jp")
    with pytest.raises(Forbidden):
        polls.answer(world, poll, outsider, {s.id: "yes" for s in poll.slots}, by=outsider)


def test_a_decided_or_expired_poll_takes_no_answers(ctx, world, secretary):
    poll = make_poll(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    choices = {s.id: "yes" for s in poll.slots}
    poll.deadline_at = NOW - timedelta(minutes=1)
    with pytest.raises(DomainError, match="deadline"):
        polls.answer(world, poll, member, choices, by=member)
    poll.deadline_at = None
    polls.decide(world, poll, poll.slots[0].id, by=secretary)
    with pytest.raises(DomainError, match="decided"):
        polls.answer(world, poll, member, choices, by=member)


# --- The personal link --------------------------------------------------------------------


def test_personal_link_is_stored_only_as_a_hash_and_ends_with_the_poll(ctx, world, secretary):
    poll = make_poll(world, SUPPORT)
    member = person_named(world, "民生 ふみ")
    token = polls.issue_link(world, poll, member)
    world.commit()
    stored = world.scalar(select(PollLink))
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert polls.find_link(world, token).person_id == member.id
    for forged in ("", "x" * 200, token[:-1] + ("A" if token[-1] != "A" else "B")):
        with pytest.raises(polls.LinkRefused) as refused:
            polls.find_link(world, forged)
        assert refused.value.status == 404
    poll.deadline_at = NOW - timedelta(seconds=1)
    with pytest.raises(polls.LinkRefused) as expired:
        polls.find_link(world, token)
    assert expired.value.status == 410
    poll.deadline_at = None
    polls.decide(world, poll, poll.slots[0].id, by=secretary)
    with pytest.raises(polls.LinkRefused) as closed:
        polls.find_link(world, token)
    assert closed.value.status == 410


# --- Quorum per body ----------------------------------------------------------------------


def test_quorum_per_body_for_a_joint_poll_counts_shared_members_for_each_body(ctx, world):
    """支援会議: six voting members (the chair and five members), four needed. 第1層協議体:
    six voting members (chair, vice-chair, four members; the observer and the secretariat
    do not count), four needed. 兼務 三郎, 民生 ふみ and 介護 由美 sit on both."""
    poll = make_poll(world, SUPPORT, LAYER1)
    shared = ["兼務 三郎", "民生 ふみ", "介護 由美"]
    for name in shared:
        answer_all(world, poll, person_named(world, name), "yes", "yes", "no")
    answer_all(world, poll, person_named(world, "支援 一郎"), "yes", "no", "yes")  # 支援 chair
    answer_all(world, poll, person_named(world, "協議 次郎"), "maybe", "yes", "yes")  # 協議 chair
    answer_all(world, poll, person_named(world, "社協 大地"), "yes", "yes", "yes")  # observer
    answer_all(world, poll, person_named(world, "事務 花子"), "yes", "yes", "yes")  # secretariat

    result = polls.results(world, polls.load(world, poll.id))
    first, second, third = result.slots
    by_body = {q.body.name: q for q in first.quorum_yes}
    assert (by_body[SUPPORT].total, by_body[SUPPORT].required) == (6, 4)
    assert (by_body[LAYER1].total, by_body[LAYER1].required) == (6, 4)
    # Slot 1: the shared three and the support chair: the 支援会議 is quorate on ○ alone,
    # the 協議体 (three of its members) only with its chair's △.
    assert by_body[SUPPORT].present == 4 and by_body[SUPPORT].met
    assert by_body[LAYER1].present == 3 and not by_body[LAYER1].met
    likely = {q.body.name: q for q in first.quorum_likely}
    assert likely[LAYER1].present == 4 and likely[LAYER1].met
    assert not first.quorate and first.quorate_likely
    # Slot 2: the shared three and the 協議体 chair: 協議体 quorate, 支援会議 not.
    assert [q.met for q in second.quorum_yes] == [q.body.name == LAYER1 for q in second.quorum_yes]
    # Slot 3: two each: neither.
    assert not third.quorate_likely
    assert first.counts == {Choice.YES: 6, Choice.MAYBE: 1}
    assert [p.name for p in third.declined] == sorted(shared, key=_kana(world))
    assert {p.name for p in result.unanswered} == {
        "地域 さくら", "税務 健", "相談 愛", "生協 実"}  # fmt: skip


def _kana(db):
    return lambda name: person_named(db, name).kana


def test_slots_on_a_holiday_or_clashing_with_an_invitees_session_are_flagged(ctx, world):
    holiday = holiday_after(DAY)  # after DAYS[1]: DAY's fortnight holds none
    make_session(world, COORDINATION, day=DAYS[1])  # 相談 愛 sits on it and on the 支援会議
    poll = make_poll(world, SUPPORT, days=(DAYS[0], DAYS[1], holiday))
    secretary = person_by_email(world, "secretary@example.jp")
    result = polls.results(world, polls.load(world, poll.id), secretary)
    assert [s.holiday for s in result.slots] == [None, None, holiday_name(holiday)]
    assert [len(s.clashes) for s in result.slots] == [0, 1, 0]
    clash = result.slots[1].clashes[0]
    assert clash.other.title == "定例会" and "相談 愛" in clash.people
    # A member of the 支援会議 only does not learn what the coordination session is.
    member = person_by_email(world, "member.both@example.jp")
    hidden = polls.results(world, polls.load(world, poll.id), member).slots[1].clashes[0]
    assert hidden.other is None


# --- Deciding -----------------------------------------------------------------------------


def test_deciding_creates_the_session_with_the_polls_bodies_and_closes_the_poll(
    ctx, world, secretary
):
    poll = make_poll(world, SUPPORT, LAYER1)
    session = polls.decide(world, poll, poll.slots[1].id, by=secretary, place="役場 第1会議室")
    world.commit()
    assert session.start_at == poll.slots[1].start_at and session.end_at == poll.slots[1].end_at
    assert {b.name for b in session.bodies} == {SUPPORT, LAYER1}
    assert session.host_body_id == poll.host_body_id and session.place == "役場 第1会議室"
    assert session.title == poll.title
    assert poll.status == PollStatus.DECIDED and poll.session_id == session.id
    assert poll.chosen_slot.id == poll.slots[1].id
    assert {i.person.id for i in scheduling.invitees(world, session)} == {
        i.person_id for i in poll.invitees
    }
    with pytest.raises(DomainError, match="already been decided"):
        polls.decide(world, poll, poll.slots[0].id, by=secretary)


def test_deciding_a_slot_now_past_or_unknown_is_refused(ctx, world, secretary):
    poll = make_poll(world, SUPPORT)
    poll.slots[0].start_at = NOW - timedelta(hours=1)
    world.commit()
    with pytest.raises(DomainError, match="already begun or passed"):
        polls.decide(world, poll, poll.slots[0].id, by=secretary)
    with pytest.raises(DomainError, match="Choose one of the candidate slots"):
        polls.decide(world, poll, 999_999, by=secretary)
    with pytest.raises(Forbidden):
        polls.decide(
            world, poll, poll.slots[1].id, by=person_by_email(world, "chair.support@example.jp")
        )
    world.rollback()
    assert count(world, MeetingSession) == 0


# --- Requests and reminders ---------------------------------------------------------------


def test_requests_go_to_invitees_with_an_address_and_links_to_those_without_a_login(
    ctx, world, secretary, links
):
    fumi = person_named(world, "民生 ふみ")
    fumi.email = "fumi@example.jp"  # a member without a login, with an address
    poll = make_poll(world, SUPPORT)
    args = {"organizer": secretary, "links": links, "sender": "r@x.jp"}
    queued = polls.queue_requests(world, poll, **args)
    world.commit()
    assert {m.to_address for m in queued.messages} == {
        "secretary@example.jp", "chair.support@example.jp", "member.both@example.jp",
        "fumi@example.jp"}  # fmt: skip
    assert set(queued.without_address) == {"税務 健", "介護 由美", "相談 愛"}
    assert count(world, PollLink) == 1  # only the member without a login has a link
    again = polls.queue_requests(world, poll, **args)
    assert not again.messages and again.already_queued == 4
    member = person_by_email(world, "member.both@example.jp")
    answer_all(world, poll, member, "yes", "yes", "yes")
    reminders = polls.queue_requests(world, poll, reminder=True, **args)
    assert member.email not in {m.to_address for m in reminders.messages}
    assert len(reminders.messages) == 3 and count(world, PollLink) == 2
    assert polls.queue_requests(world, poll, reminder=True, **args).messages == []
    kinds = {m.kind for m in world.scalars(select(MailMessage))}
    assert kinds == {polls.REQUEST, polls.REMINDER}


def test_polls_due_for_a_reminder(ctx, world):
    soon = make_poll(world, SUPPORT, deadline=(NOW + timedelta(days=1)).date())
    later = make_poll(world, SUPPORT, deadline=(NOW + timedelta(days=20)).date())
    due = {p.id for p in polls.due_for_reminder(world, days=3)}
    assert soon.id in due and later.id not in due


def test_the_csv_table_has_every_invitees_marks_the_counts_and_the_quorum(ctx, world):
    poll = make_poll(world, SUPPORT, LAYER1)
    answer_all(
        world, poll, person_named(world, "兼務 三郎"), "yes", "maybe", "no", comment="遅れます"
    )
    with force_locale("ja"):
        rows = polls.csv_rows(polls.results(world, polls.load(world, poll.id)))
    assert rows[0][:2] == ["名前", "会議体"] and rows[0][-1] == "コメント"
    assert len(rows[0]) == 2 + len(DAYS) + 1
    both = next(row for row in rows if row[0] == "兼務 三郎")
    assert both[2:] == ["○", "△", "×", "遅れます"]
    assert ["○", "", "1", "0", "0", ""] in rows
    assert ["定足数（○）", SUPPORT, "不成立 1/4", "不成立 0/4", "不成立 0/4", ""] in rows
