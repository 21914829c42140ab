"""Local issues (地域課題): raising (directly, from a case item, from a session), the text kept
anonymous, status moves, taking issues onto an agenda, and who sees what."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.models import (
    AgendaItem,
    AuditEntry,
    IssueDiscussion,
    IssueStatus,
    LocalIssue,
    LocalIssueEvent,
    Pledge,
    Visibility,
)
from renkei.services import agenda, local_issues, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden
from renkei.services.local_issues import IssueData
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import LAYER1, LAYER2, SUPPORT, make_session, mark_held

TEXT = "北地区では買い物に行けない高齢者が増えている。移動販売の空白地帯がある。"


def data(world, body=LAYER2, **extra) -> IssueData:
    return IssueData(
        title=extra.pop("title", "買い物困難"),
        text=extra.pop("text", TEXT),
        body_id=body_named(world, body).id if body else None,
        **extra,
    )


def raised(world, secretary, **extra) -> LocalIssue:
    issue = local_issues.raise_directly(world, data(world, **extra), by=secretary)
    world.commit()
    return issue


@pytest.fixture
def case_item(world, secretary):
    """A confidential case of the 支援会議, with a case number, seen by the pledged secretary."""
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    session = make_session(world, SUPPORT, title="支援会議")
    item = agenda.add_item(
        world,
        session,
        agenda.ItemData(
            title="個別ケース（買い物）",
            body_id=body_named(world, SUPPORT).id,
            description="単身高齢者。買い物に行けず低栄養。",
            assign_case_number=True,
        ),
        by=secretary,
    )
    world.commit()
    return item


# --- Raising ------------------------------------------------------------------------------


def test_raised_directly_takes_the_bodys_area_and_starts_its_history(world, secretary):
    issue = raised(world, secretary)
    assert issue.status == IssueStatus.RAISED
    assert issue.area == body_named(world, LAYER2).area == "北中学校区"
    assert issue.raised_on == issue.status_on == today()
    assert [(e.kind, e.new_status) for e in issue.events] == [("raised", IssueStatus.RAISED)]
    assert issue.created_by == secretary


def test_an_area_given_is_kept(world, secretary):
    assert raised(world, secretary, area="北中学校区 東部").area == "北中学校区 東部"


@pytest.mark.parametrize("body", [SUPPORT, None])
def test_only_a_consultative_body_takes_issues(world, secretary, body):
    with pytest.raises(DomainError) as error:
        local_issues.raise_directly(world, data(world, body=body), by=secretary)
    assert error.value.field == "body_id"
    world.rollback()
    assert count(world, LocalIssue) == 0


def test_an_unknown_body_is_refused(world, secretary):
    issue = IssueData(title="t", text="x", body_id=999_999)
    with pytest.raises(DomainError):
        local_issues.raise_directly(world, issue, by=secretary)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("text", "山田太郎さんが買い物に困っている。"),
        ("text", "R8-0012 の事例から、買い物支援が足りない。"),
        ("text", "Ｒ８－００１２の事例から"),  # full-width, as a Japanese keyboard types it
        ("text", "A-R8-0012 の事例"),
        ("title", "鈴木様の件"),
    ],
)
def test_names_and_case_numbers_are_refused(world, secretary, field, text):
    with pytest.raises(DomainError) as error:
        local_issues.raise_directly(world, data(world, **{field: text}), by=secretary)
    assert error.value.field == field
    world.rollback()
    assert count(world, LocalIssue) == 0


def test_role_words_are_not_names(world, secretary):
    issue = raised(world, secretary, text="民生委員さんや利用者様から、移動販売の要望が多い。")
    assert issue.id


def test_only_the_kyogitai_secretariat_raises_directly(world):
    chair = person_by_email(world, "member.kyogitai@example.jp")  # chair of the 第2層
    with pytest.raises(Forbidden):
        local_issues.raise_directly(world, data(world), by=chair)


def test_raised_from_a_case_links_the_item_and_copies_no_case_number(world, secretary, case_item):
    issue = local_issues.raise_from_item(world, case_item, data(world), by=secretary)
    world.commit()
    assert issue.source_item == case_item
    assert issue.source_session == case_item.session
    assert case_item.case_number not in issue.text + issue.title
    entry = world.scalar(select(AuditEntry).where(AuditEntry.action == "local_issue_raised"))
    assert entry.body_id == body_named(world, SUPPORT).id
    assert (entry.subject_type, entry.subject_id) == ("local_issue", issue.id)
    assert "買い物" not in entry.detail  # the log names things by id


def test_raising_from_an_item_needs_seeing_it(world, secretary, case_item):
    world.execute(Pledge.__table__.delete())
    world.commit()
    world.expire_all()
    with pytest.raises(Forbidden):
        local_issues.raise_from_item(world, case_item, data(world), by=secretary)


def test_raising_from_an_item_needs_managing_its_session(world, case_item):
    chair = person_by_email(world, "chair.support@example.jp")
    world.add(Pledge(person=chair, body=body_named(world, SUPPORT), pledged_on=today()))
    world.commit()
    with pytest.raises(Forbidden):
        local_issues.raise_from_item(world, case_item, data(world), by=chair)


def test_raised_from_a_closed_session_is_audited(world, secretary):
    session = make_session(world, SUPPORT, LAYER1)
    issue = local_issues.raise_from_session(world, session, data(world), by=secretary)
    world.commit()
    assert issue.source_session == session and issue.source_item is None
    entries = world.scalars(select(AuditEntry).where(AuditEntry.action == "local_issue_raised"))
    assert [e.body_id for e in entries] == [body_named(world, SUPPORT).id]


def test_raised_from_a_public_session_is_not_audited(world, secretary):
    session = make_session(world, LAYER2)
    local_issues.raise_from_session(world, session, data(world), by=secretary)
    world.commit()
    assert (
        world.scalar(select(AuditEntry.id).where(AuditEntry.action == "local_issue_raised")) is None
    )


# --- Editing and status -------------------------------------------------------------------


def test_an_edit_names_the_fields_changed(world, secretary):
    issue = raised(world, secretary)
    changed = local_issues.edit(
        world, issue, IssueData(title="買い物困難（北部）", text=TEXT), by=secretary
    )
    assert changed == ["title"]
    assert issue.events[-1].kind == "edited" and issue.events[-1].fields == "title"
    assert (
        local_issues.edit(
            world, issue, IssueData(title="買い物困難（北部）", text=TEXT), by=secretary
        )
        == []
    )


def test_an_edit_is_checked_like_a_new_issue(world, secretary):
    issue = raised(world, secretary)
    with pytest.raises(DomainError):
        local_issues.edit(world, issue, IssueData(title="x", text="佐藤様のこと"), by=secretary)


def test_status_moves_forward_freely_and_back_only_with_a_reason(world, secretary):
    issue = raised(world, secretary)
    local_issues.change_status(world, issue, "resourced", on=None, by=secretary)
    assert issue.status == IssueStatus.RESOURCED
    with pytest.raises(DomainError) as error:
        local_issues.change_status(world, issue, "discussing", on=None, by=secretary)
    assert error.value.field == "reason"
    assert issue.status == IssueStatus.RESOURCED
    local_issues.change_status(
        world, issue, "discussing", on=None, reason="移動販売が撤退したため", by=secretary
    )
    statuses = [(e.old_status, e.new_status, e.reason) for e in issue.events if e.kind == "status"]
    assert statuses == [
        (IssueStatus.RAISED, IssueStatus.RESOURCED, ""),
        (IssueStatus.RESOURCED, IssueStatus.DISCUSSING, "移動販売が撤退したため"),
    ]


def test_from_one_outcome_to_another_needs_a_reason(world, secretary):
    issue = raised(world, secretary)
    local_issues.change_status(world, issue, "resolved", on=None, by=secretary)
    with pytest.raises(DomainError):
        local_issues.change_status(world, issue, "resourced", on=None, by=secretary)


@pytest.mark.parametrize(
    ("status", "days", "field"),
    [
        ("raised", 0, "status"),
        ("nonsense", 0, "status"),
        ("resolved", 1, "on"),
        ("resolved", -1, "on"),
    ],
)
def test_bad_status_changes_are_refused(world, secretary, status, days, field):
    issue = raised(world, secretary)
    with pytest.raises(DomainError) as error:
        local_issues.change_status(
            world, issue, status, on=today() + timedelta(days=days), by=secretary
        )
    assert error.value.field == field
    assert issue.status == IssueStatus.RAISED and len(issue.events) == 1


def test_only_the_secretariat_moves_the_status(world, secretary):
    issue = raised(world, secretary)
    chair = person_by_email(world, "member.kyogitai@example.jp")
    with pytest.raises(Forbidden):
        local_issues.change_status(world, issue, "discussing", on=None, by=chair)


# --- Taking onto an agenda ----------------------------------------------------------------


@pytest.fixture
def north_session(world):
    return make_session(world, LAYER2, title="第2層協議体")


def test_issues_taken_onto_the_agenda_in_one_action(world, secretary, north_session):
    first = raised(world, secretary)
    second = raised(world, secretary, title="担い手不足", text="サロンの担い手が高齢化している。")
    items = local_issues.take_onto_agenda(world, north_session, [first.id, second.id], by=secretary)
    world.commit()
    assert [i.title for i in north_session.items] == ["買い物困難", "担い手不足"]
    assert items[0].visibility == Visibility.PUBLIC  # the 協議体's default
    assert items[0].case_number is None
    assert TEXT in items[0].description
    for issue, item in zip((first, second), items, strict=True):
        assert issue.status == IssueStatus.DISCUSSING
        assert [(d.session_id, d.item_id) for d in issue.discussions] == [
            (north_session.id, item.id)
        ]
        assert issue.events[-1].kind == "taken_up"
    # Through the agenda service: the session's history names the items added.
    kinds = [c.kind for c in north_session.changes]
    assert kinds.count("agenda") == 2
    assert local_issues.open_issues_for(world, north_session) == []


def test_an_issue_under_discussion_stays_so_when_taken_up_again(world, secretary, north_session):
    issue = raised(world, secretary)
    local_issues.change_status(world, issue, "continuing", on=None, by=secretary)
    local_issues.take_onto_agenda(world, north_session, [issue.id], by=secretary)
    assert issue.status == IssueStatus.CONTINUING


def _refused(world, session, ids, by):
    before = (
        count(world, AgendaItem),
        count(world, IssueDiscussion),
        count(world, LocalIssueEvent),
    )
    with pytest.raises(DomainError) as error:
        local_issues.take_onto_agenda(world, session, ids, by=by)
    world.rollback()
    after = (count(world, AgendaItem), count(world, IssueDiscussion), count(world, LocalIssueEvent))
    assert after == before
    return error.value


def test_take_up_refuses_bad_choices(world, secretary, north_session):
    mine = raised(world, secretary)
    foreign = raised(world, secretary, body=LAYER1)
    closed = raised(world, secretary, title="解決済み")
    local_issues.change_status(world, closed, "resolved", on=None, by=secretary)
    world.commit()
    assert _refused(world, north_session, [], secretary).field == "issue_ids"
    assert _refused(world, north_session, [mine.id, foreign.id], secretary)
    assert _refused(world, north_session, [mine.id, 999_999], secretary)
    assert _refused(world, north_session, [mine.id, closed.id], secretary)


def test_take_up_twice_is_refused(world, secretary, north_session):
    issue = raised(world, secretary)
    local_issues.take_onto_agenda(world, north_session, [issue.id], by=secretary)
    world.commit()
    assert "already" in str(_refused(world, north_session, [issue.id], secretary).message)


def test_take_up_needs_a_session_of_the_kyogitai_still_to_be_held(world, secretary):
    issue = raised(world, secretary)
    support = make_session(world, SUPPORT)
    assert _refused(world, support, [issue.id], secretary)
    held = make_session(world, LAYER2, title="開催済み")
    mark_held(world, held)
    world.commit()
    assert _refused(world, held, [issue.id], secretary)


def test_take_up_is_for_the_sessions_secretariat(world, secretary, north_session):
    issue = raised(world, secretary)
    chair = person_by_email(world, "member.kyogitai@example.jp")
    with pytest.raises(Forbidden):
        local_issues.take_onto_agenda(world, north_session, [issue.id], by=chair)
    world.rollback()
    assert local_issues.load(world, issue.id).status == IssueStatus.RAISED


# --- Who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("secretary@example.jp", True),
        ("member.kyogitai@example.jp", True),  # chair of the 第2層
        ("chair.kyogitai@example.jp", True),  # a member of the 第2層
        ("admin@example.jp", True),
        ("chair.support@example.jp", False),  # the 支援会議 and 支援調整会議 only
        ("member.both@example.jp", False),  # the 支援会議 and the 第1層, not the 第2層
    ],
)
def test_the_kyogitai_members_see_its_issues(world, secretary, email, sees):
    issue = raised(world, secretary)
    person = person_by_email(world, email)
    assert policy.can_see_local_issue(world, person, issue.body, issue.created_by_id) is sees


def test_the_one_who_raised_it_sees_it(world, secretary):
    issue = raised(world, secretary)
    chair = person_by_email(world, "chair.support@example.jp")
    assert policy.can_see_local_issue(world, chair, issue.body, chair.id)


def test_the_case_item_is_linked_only_for_those_who_may_see_it(world, secretary, case_item):
    issue = local_issues.raise_from_item(world, case_item, data(world), by=secretary)
    world.commit()
    member = person_by_email(world, "member.kyogitai@example.jp")
    unpledged = person_by_email(world, "member.both@example.jp")  # 支援会議 member, no pledge
    assert policy.can_see_issue_source(world, secretary, issue.source_item, issue.source_session)
    assert not policy.can_see_issue_source(world, member, issue.source_item, issue.source_session)
    assert not policy.can_see_issue_source(
        world, unpledged, issue.source_item, issue.source_session
    )


def test_by_status_groups_in_status_order(world, secretary):
    first = raised(world, secretary)
    second = raised(world, secretary, title="担い手不足")
    local_issues.change_status(world, second, "discussing", on=None, by=secretary)
    grouped = local_issues.by_status(world, body_named(world, LAYER2))
    assert list(grouped) == [IssueStatus.RAISED, IssueStatus.DISCUSSING]
    assert grouped[IssueStatus.RAISED] == [first]
