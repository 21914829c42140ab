"""Follow-up tasks (services/tasks.py): owners who may read them, visibility no wider than the
body allows, carry-over onto the body's next sessions until done, deferring and reordering,
the minutes' carried sections, the secretariat's list, history and audit."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from renkei.db import utcnow
from renkei.models import (
    ActionItem,
    AuditEntry,
    Organisation,
    Pledge,
    SectionKind,
    Status,
    TaskEvent,
    Visibility,
)
from renkei.services import minutes, pledges, policy, tasks
from renkei.services.dates import japanese_date, today
from renkei.services.errors import DomainError, Forbidden
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import COORDINATION, DAY, LAYER1, SUPPORT, make_session, mark_held

TEXT = "CANARY-TASK-家計相談の予約を確認する"


@pytest.fixture
def people(world):
    found = {
        name: person_by_email(world, f"{name}@example.jp")
        for name in (
            "secretary",
            "chair.support",
            "chair.kyogitai",
            "member.both",
            "member.kyogitai",
            "admin",
        )
    }
    support = body_named(world, SUPPORT)
    for name in ("secretary", "chair.support"):
        pledges.record_pledge(world, support, found[name], by=found[name])
    world.commit()
    return found


def add(world, people, body=SUPPORT, owner="chair.support", **values):
    values.setdefault("text", TEXT)
    values.setdefault("due_on", None)
    values.setdefault("visibility", None)
    return tasks.add_for_body(
        world,
        body_named(world, body).id,
        owner=tasks.Owner(person_id=people[owner].id),
        by=people["secretary"],
        **values,
    )


def organisation(world, name) -> Organisation:
    return world.scalar(select(Organisation).where(Organisation.name == name))


# --- Creating -----------------------------------------------------------------------------


def test_a_task_of_a_body_takes_its_default_visibility(world, people):
    task = add(world, people)
    assert task.visibility is Visibility.CONFIDENTIAL
    assert add(world, people, LAYER1).visibility is Visibility.PUBLIC
    assert add(world, people, COORDINATION).visibility is Visibility.BODY
    changes = world.scalars(select(TaskEvent.change).where(TaskEvent.action_id == task.id))
    assert list(changes) == ["created"]
    # Closed content: the audit log names the task by id, never its text.
    entry = world.scalar(select(AuditEntry).where(AuditEntry.action == "task_created"))
    assert entry.subject_id == task.id and TEXT not in entry.detail


@pytest.mark.parametrize("visibility", ["public", "session", "members", "body"])
def test_a_visibility_wider_than_the_body_allows_is_refused(world, people, visibility):
    with pytest.raises(DomainError) as refused:
        add(world, people, visibility=visibility)
    assert refused.value.field == "visibility"
    world.rollback()
    assert count(world, ActionItem) == 0


@pytest.mark.parametrize("owner", ["member.kyogitai", "member.both"])
def test_an_owner_who_may_not_see_it_is_refused(world, people, owner):
    """Not on the 支援会議, or on it without a pledge: not for a confidential task."""
    with pytest.raises(DomainError, match="may not see") as refused:
        add(world, people, owner=owner)
    assert refused.value.field == "owner_id"
    world.rollback()
    assert count(world, ActionItem) == 0


def test_an_organisation_owns_a_task_if_one_of_its_people_may_read_it(world, people):
    npo = organisation(world, "NPO法人 ささえあいみどり")
    with pytest.raises(DomainError, match="Nobody of"):
        tasks.add_for_body(
            world,
            body_named(world, SUPPORT).id,
            text=TEXT,
            owner=tasks.Owner(organisation_id=npo.id),
            due_on=None,
            visibility=None,
            by=people["secretary"],
        )
    world.rollback()
    centre = organisation(world, "みどり町 自立相談支援センター")  # the pledged chair's
    task = tasks.add_for_body(
        world,
        body_named(world, SUPPORT).id,
        text=TEXT,
        owner=tasks.Owner(organisation_id=centre.id),
        due_on=None,
        visibility=None,
        by=people["secretary"],
    )
    assert task.owner_name == centre.name and task.owner_id is None


def test_bad_input_writes_nothing(world, people):
    checks = [
        ({"due_on": today() - timedelta(days=1)}, "due_on"),
        ({"text": "   "}, "text"),
        ({"text": "あ" * 501}, "text"),
        ({"visibility": "everyone"}, "visibility"),
    ]
    for values, field in checks:
        with pytest.raises(DomainError) as refused:
            add(world, people, **values)
        assert refused.value.field == field, values
        world.rollback()
    for body_id in (None, 999_999):
        with pytest.raises(DomainError) as refused:
            tasks.add_for_body(
                world,
                body_id,
                text=TEXT,
                owner=tasks.Owner(person_id=people["chair.support"].id),
                due_on=None,
                visibility=None,
                by=people["secretary"],
            )
        assert refused.value.field == "body_id"
        world.rollback()
    for owner in (tasks.Owner(), tasks.Owner(person_id=999_999), tasks.Owner(organisation_id=9)):
        with pytest.raises(DomainError):
            tasks.add_for_body(
                world,
                body_named(world, SUPPORT).id,
                text=TEXT,
                owner=owner,
                due_on=None,
                visibility=None,
                by=people["secretary"],
            )
        world.rollback()
    assert count(world, ActionItem) == 0


def test_a_body_one_does_not_run_is_refused(world, people):
    """A member (not secretary) of the 支援会議 cannot create its tasks."""
    with pytest.raises(DomainError) as refused:
        tasks.add_for_body(
            world,
            body_named(world, SUPPORT).id,
            text=TEXT,
            owner=tasks.Owner(person_id=people["chair.support"].id),
            due_on=None,
            visibility=None,
            by=people["chair.support"],
        )
    assert refused.value.field == "body_id"


def test_a_minutes_task_is_not_due_before_its_session(world, people, ctx):
    session = make_session(world, SUPPORT)
    mark_held(world, session)
    version = minutes.open_minutes(world, session, by=people["secretary"])
    decisions = next(s for s in version.sections if s.kind == SectionKind.DECISIONS)
    with pytest.raises(DomainError) as refused:
        minutes.add_action(
            world,
            decisions,
            text=TEXT,
            owner_id=people["chair.support"].id,
            due_on=DAY - timedelta(days=1),
            by=people["secretary"],
        )
    assert refused.value.field == "due_on"
    task = minutes.add_action(
        world,
        decisions,
        text=TEXT,
        owner_organisation_id=organisation(world, "みどり町 自立相談支援センター").id,
        due_on=DAY,
        by=people["secretary"],
    )
    assert task.body_id == session.host_body_id and task.owner_organisation is not None


# --- Carry-over ---------------------------------------------------------------------------


def seen(world, session, person) -> dict[str, bool]:
    access = policy.session_access(world, person, session)
    return {c.task.text: c.shown for c in tasks.carried(world, session, access)}


def test_open_tasks_are_carried_onto_the_bodys_next_sessions_until_done(world, people):
    task = add(world, people)
    world.commit()
    following = make_session(world, SUPPORT)
    later = make_session(world, SUPPORT, day=DAY + timedelta(days=28))
    other = make_session(world, LAYER1, day=DAY + timedelta(days=1))
    assert seen(world, following, people["secretary"]) == {TEXT: True}
    assert seen(world, later, people["chair.support"]) == {TEXT: True}
    assert seen(world, other, people["secretary"]) == {}
    tasks.set_done(world, task, done=True, by=people["chair.support"])
    assert seen(world, following, people["secretary"]) == {}
    assert seen(world, later, people["secretary"]) == {}


def test_a_session_before_the_task_or_cancelled_carries_nothing(world, people):
    before = make_session(world, SUPPORT)
    task = add(world, people)
    task.created_at = before.start_at + timedelta(hours=3)  # minuted after that session
    cancelled = make_session(world, SUPPORT, day=DAY + timedelta(days=7))
    cancelled.status = Status.CANCELLED
    world.commit()
    assert tasks.carried_tasks(world, before) == []
    assert tasks.carried_tasks(world, cancelled) == []


def test_a_task_done_during_a_session_stays_on_it_marked_done(world, people):
    task = add(world, people)
    session = make_session(world, SUPPORT)
    task.done_at = session.start_at + timedelta(minutes=30)
    world.commit()
    assert [t.id for t in tasks.carried_tasks(world, session)] == [task.id]


def test_a_joint_session_shows_each_body_its_own_tasks(world, people):
    """The 協議体's members sit in the joint session: the 支援会議's task is 非公開 to them."""
    add(world, people)
    add(world, people, LAYER1, owner="member.kyogitai", text="公開の宿題")
    joint = make_session(world, SUPPORT, LAYER1)
    assert seen(world, joint, people["chair.support"]) == {TEXT: True, "公開の宿題": True}
    assert seen(world, joint, people["member.kyogitai"]) == {TEXT: False, "公開の宿題": True}
    assert seen(world, joint, people["member.both"]) == {TEXT: False, "公開の宿題": True}
    assert seen(world, joint, people["admin"]) == {TEXT: False, "公開の宿題": True}


def test_deferring_leaves_a_task_to_the_next_session(world, people):
    task = add(world, people)
    first = make_session(world, SUPPORT)
    second = make_session(world, SUPPORT, day=DAY + timedelta(days=28))
    tasks.defer_carried(world, first, task.id, by=people["secretary"])
    assert tasks.carried_tasks(world, first) == []
    assert tasks.carried_tasks(world, second) == [task]
    changes = world.scalars(select(TaskEvent.change).where(TaskEvent.action_id == task.id))
    assert list(changes) == ["created", "deferred"]


def test_the_secretariat_reorders_the_carried_tasks(world, people):
    a = add(world, people, due_on=today() + timedelta(days=1), text="一つ目")
    b = add(world, people, due_on=today() + timedelta(days=9), text="二つ目")
    session = make_session(world, SUPPORT)
    assert tasks.carried_tasks(world, session) == [a, b]  # soonest due first
    tasks.reorder_carried(world, session, [b.id, a.id], by=people["secretary"])
    assert tasks.carried_tasks(world, session) == [b, a]
    for wrong in ([b.id], [b.id, a.id, a.id], [b.id, a.id, 999_999]):
        with pytest.raises(DomainError):
            tasks.reorder_carried(world, session, wrong, by=people["secretary"])
    with pytest.raises(DomainError):
        tasks.reorder_carried(world, session, [a.id, b.id], by=people["chair.support"])


def test_a_manager_who_may_not_see_a_task_cannot_close_it(world, people):
    """A secretary without a pledge: the confidential task is 非公開 to them."""
    task = add(world, people)
    session = make_session(world, SUPPORT)
    world.execute(delete(Pledge).where(Pledge.person_id == people["secretary"].id))
    world.commit()
    with pytest.raises(DomainError):
        tasks.close_carried(world, session, task.id, by=people["secretary"])
    with pytest.raises(DomainError):
        tasks.close_carried(world, session, 999_999, by=people["secretary"])
    assert task.done_at is None


def test_an_owner_no_longer_entitled_cannot_mark_a_closed_task_done(world, people):
    """The chair's pledge is withdrawn (as when their term ends): the confidential task they
    own leaves their list, and marking it done by its address is refused too."""
    task = add(world, people)
    owner = people["chair.support"]
    assert tasks.may_change(world, owner, task)
    world.execute(delete(Pledge).where(Pledge.person_id == owner.id))
    world.commit()
    assert not tasks.may_change(world, owner, task)
    with pytest.raises(Forbidden):
        tasks.set_done(world, task, done=True, by=owner)
    assert task.done_at is None


def test_an_owner_may_still_mark_a_public_task_done(world, people):
    task = add(world, people, body=LAYER1, owner="member.kyogitai", visibility=Visibility.PUBLIC)
    tasks.set_done(world, task, done=True, by=people["member.kyogitai"])
    assert task.done_at is not None


def test_the_minutes_carry_the_tasks_in_sections_as_closed_as_the_tasks(world, people, ctx):
    add(world, people)
    add(world, people, LAYER1, owner="member.kyogitai", text="公開の宿題")
    joint = make_session(world, SUPPORT, LAYER1)
    mark_held(world, joint)
    version = minutes.open_minutes(world, joint, by=people["secretary"])
    carried = [s for s in version.sections if s.kind == SectionKind.CARRIED]
    assert [(s.body.name, s.visibility) for s in carried] == [
        (SUPPORT, Visibility.CONFIDENTIAL),
        (LAYER1, Visibility.PUBLIC),
    ]
    assert TEXT in carried[0].text and TEXT not in carried[1].text
    with pytest.raises(DomainError):
        minutes.save_section(
            world, carried[0], "x", revision=0, by=people["secretary"], visibility="public"
        )


def test_a_task_for_another_sessions_attendees_reaches_these_minutes_without_its_text(
    world, people, ctx
):
    """Those in this room were not all in that one: the minutes say a closed task is still
    followed, and when it is due, never what it is or who holds it."""
    first = make_session(world, SUPPORT)
    mark_held(world, first)
    version = minutes.open_minutes(world, first, by=people["secretary"])
    section = next(s for s in version.sections if s.visibility is Visibility.SESSION)
    due = DAY + timedelta(days=3)
    minutes.add_action(
        world,
        section,
        text=TEXT,
        owner_id=people["chair.support"].id,
        due_on=due,
        by=people["secretary"],
    )
    following = make_session(world, SUPPORT, day=DAY + timedelta(days=7))
    mark_held(world, following)
    later = minutes.open_minutes(world, following, by=people["secretary"])
    (carried,) = [s for s in later.sections if s.kind == SectionKind.CARRIED]
    assert TEXT not in carried.text and people["chair.support"].name not in carried.text
    assert f"非公開の継続事項（{japanese_date(due, weekday=False)}）" in carried.text


# --- The secretariat's list ----------------------------------------------------------------


def test_the_list_puts_overdue_first_then_open_then_done(world, people):
    done = add(world, people, text="済んだ宿題")
    later = add(world, people, text="まだ先", due_on=today() + timedelta(days=30))
    overdue = add(world, people, text="期限切れ", due_on=today() + timedelta(days=1))
    overdue.due_on = today() - timedelta(days=2)  # entered before, now past
    done.done_at = utcnow()
    world.commit()
    listed = tasks.managed_tasks(world, people["secretary"], tasks.Filters())
    assert [x.task for x in listed] == [overdue, later, done]
    assert [x.overdue for x in listed] == [True, False, False]
    only = tasks.managed_tasks(world, people["secretary"], tasks.Filters(overdue=True))
    assert [x.task for x in only] == [overdue]
    by_body = tasks.Filters(body_id=body_named(world, LAYER1).id)
    assert tasks.managed_tasks(world, people["secretary"], by_body) == []


def test_the_list_shows_closed_tasks_as_closed_and_filters_only_what_is_shown(world, people):
    task = add(world, people)
    listed = tasks.managed_tasks(world, people["admin"], tasks.Filters())
    assert [(x.task.id, x.shown) for x in listed] == [(task.id, False)]
    owner = tasks.Owner(person_id=people["chair.support"].id)
    assert tasks.managed_tasks(world, people["admin"], tasks.Filters(owner=owner)) == []
    mine = tasks.managed_tasks(world, people["secretary"], tasks.Filters(owner=owner))
    assert [x.task.id for x in mine] == [task.id]
    # Not a secretary of anything: no list at all.
    assert tasks.managed_tasks(world, people["member.both"], tasks.Filters()) == []
