"""Local issue pages: the 協議体's list, an issue's page, raising from an item, a session or
the body page, status changes and 「議題に取り上げる」, through HTTP.

Messages are checked in English (one switch away), pages' Japanese in test_wording_pages.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.models import AgendaItem, IssueStatus, LocalIssue, Pledge
from renkei.services import agenda, local_issues
from renkei.services.dates import today
from renkei.services.local_issues import IssueData
from tests.conftest import login
from tests.helpers import body_named, count, counting, person_by_email
from tests.sessions_helpers import LAYER1, LAYER2, SUPPORT, make_session, mark_held

CASE_TITLE = "CASE-ITEM-TITLE-5e1a"


def english(client):
    client.get("/language/en")
    return client


def form(world, **extra) -> dict:
    return {
        "body_id": body_named(world, LAYER2).id,
        "title": "買い物困難",
        "text": "北地区で移動販売の空白地帯がある。",
        "area": "",
        **extra,
    }


def raise_issue(world, title="買い物困難") -> LocalIssue:
    secretary = person_by_email(world, "secretary@example.jp")
    issue = local_issues.raise_directly(
        world,
        IssueData(title=title, text="移動販売がない。", body_id=body_named(world, LAYER2).id),
        by=secretary,
    )
    world.commit()
    return issue


@pytest.fixture
def case_item(world):
    """A confidential case item of the 支援会議, its secretary pledged."""
    secretary = person_by_email(world, "secretary@example.jp")
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    session = make_session(world, SUPPORT, title="支援会議 定例")
    item = agenda.add_item(
        world,
        session,
        agenda.ItemData(
            title=CASE_TITLE, body_id=body_named(world, SUPPORT).id, assign_case_number=True
        ),
        by=secretary,
    )
    world.commit()
    return item


def test_the_body_page_lists_issues_by_status(as_secretary, world):
    first = raise_issue(world)
    raise_issue(world, title="担い手不足")
    local_issues.change_status(
        world, first, "discussing", on=None, by=person_by_email(world, "secretary@example.jp")
    )
    world.commit()
    page = english(as_secretary).get(f"/bodies/{body_named(world, LAYER2).id}").get_data(True)
    assert "Local issues" in page
    assert page.index("Raised") < page.index("担い手不足") < page.index("Under discussion")
    assert page.index("Under discussion") < page.index("買い物困難")
    assert "Raise a local issue" in page


def test_a_non_member_sees_no_issues_of_the_body(client, world):
    raise_issue(world)
    login(client, "chair.support@example.jp")
    page = client.get(f"/bodies/{body_named(world, LAYER2).id}").get_data(True)
    assert "買い物困難" not in page
    issue_id = world.scalar(select(LocalIssue.id))
    assert client.get(f"/local-issues/{issue_id}").status_code == 404


def test_a_member_reads_the_issue_but_may_not_change_it(client, world):
    issue = raise_issue(world)
    login(client, "member.kyogitai@example.jp")
    page = client.get(f"/local-issues/{issue.id}")
    assert page.status_code == 200 and "移動販売がない。" in page.get_data(True)
    assert client.get(f"/local-issues/{issue.id}/edit").status_code == 403
    response = client.post(f"/local-issues/{issue.id}/status", data={"status": "resolved"})
    assert response.status_code == 403
    world.expire_all()
    assert world.get(LocalIssue, issue.id).status == IssueStatus.RAISED


def test_raise_from_the_body_page(as_secretary, world):
    body = body_named(world, LAYER2)
    data = form(world)
    del data["body_id"]
    response = as_secretary.post(f"/local-issues/new/body/{body.id}", data=data)
    assert response.status_code == 302
    issue = world.scalar(select(LocalIssue))
    assert response.headers["Location"].endswith(f"/local-issues/{issue.id}")
    assert (issue.body_id, issue.area) == (body.id, "北中学校区")


def test_raise_from_a_body_that_is_not_a_kyogitai_is_not_found(as_secretary, world):
    support = body_named(world, SUPPORT)
    response = as_secretary.post(f"/local-issues/new/body/{support.id}", data=form(world))
    assert response.status_code == 404
    assert count(world, LocalIssue) == 0


def test_a_double_submission_raises_one_issue(as_secretary, world):
    body = body_named(world, LAYER2)
    data = {**form(world), "form_token": "t" * 32}
    del data["body_id"]
    first = as_secretary.post(f"/local-issues/new/body/{body.id}", data=data)
    second = as_secretary.post(f"/local-issues/new/body/{body.id}", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(world, LocalIssue) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"text": "山田太郎さんが困っている。"}, "looks like a person&#39;s name"),
        ({"text": "R8-0001 の事例から"}, "carries no case number"),
        ({"title": ""}, "Enter a title."),
        ({"body_id": "999999"}, "only a consultative body"),
    ],
)
def test_bad_input_is_said_and_nothing_is_written(as_secretary, world, extra, message):
    session = make_session(world, LAYER2)
    response = english(as_secretary).post(
        f"/local-issues/new/session/{session.id}", data=form(world, **extra)
    )
    assert response.status_code == 400
    assert message in response.get_data(True)
    assert count(world, LocalIssue) == 0


def test_the_error_is_japanese(as_secretary, world):
    session = make_session(world, LAYER2)
    response = as_secretary.post(
        f"/local-issues/new/session/{session.id}", data=form(world, text="佐藤様のこと")
    )
    assert response.status_code == 400
    assert "個人の名前" in response.get_data(True)


def test_raise_from_a_case_item_shows_the_link_only_to_those_who_may_see_it(
    app, as_secretary, world, case_item
):
    english(as_secretary)
    session_page = as_secretary.get(f"/sessions/{case_item.session_id}").get_data(True)
    assert f"/local-issues/new/item/{case_item.id}" in session_page
    response = as_secretary.post(f"/local-issues/new/item/{case_item.id}", data=form(world))
    assert response.status_code == 302
    issue = world.scalar(select(LocalIssue))
    assert issue.source_item_id == case_item.id
    assert case_item.case_number not in issue.text
    page = as_secretary.get(f"/local-issues/{issue.id}").get_data(True)
    assert CASE_TITLE in page and "Raised from" in page
    # A member of the 第2層 reads the issue, not the case it came from.
    other = login(app.test_client(), "member.kyogitai@example.jp")
    page = other.get(f"/local-issues/{issue.id}").get_data(True)
    assert "移動販売の空白地帯" in page
    assert CASE_TITLE not in page and case_item.case_number not in page
    assert f"/sessions/{case_item.session_id}" not in page


def test_an_item_not_seen_offers_no_raise(client, world, case_item):
    login(client, "member.both@example.jp")  # a 支援会議 member, no pledge, not secretariat
    assert client.get(f"/local-issues/new/item/{case_item.id}").status_code == 403
    response = client.post(f"/local-issues/new/item/{case_item.id}", data=form(world))
    assert response.status_code == 403
    assert count(world, LocalIssue) == 0


def test_status_back_without_a_reason_is_refused(as_secretary, world):
    issue = raise_issue(world)
    english(as_secretary)
    as_secretary.post(f"/local-issues/{issue.id}/status", data={"status": "resolved"})
    earlier = today().isoformat()
    response = as_secretary.post(
        f"/local-issues/{issue.id}/status", data={"status": "discussing", "on": earlier}
    )
    # The page comes back with the form as sent and the error on its field, not emptied.
    assert response.status_code == 400
    page = response.get_data(True)
    assert "needs a reason" in page and 'id="reason-error"' in page
    assert f'value="{earlier}"' in page and '<option selected value="discussing">' in page
    world.expire_all()
    assert world.get(LocalIssue, issue.id).status == IssueStatus.RESOLVED
    as_secretary.post(
        f"/local-issues/{issue.id}/status", data={"status": "discussing", "reason": "再燃"}
    )
    world.expire_all()
    found = world.get(LocalIssue, issue.id)
    assert found.status == IssueStatus.DISCUSSING
    page = as_secretary.get(f"/local-issues/{issue.id}").get_data(True)
    assert "再燃" in page and "Resolved → Under discussion" in page


def test_take_onto_the_agenda(as_secretary, world):
    first, second = raise_issue(world), raise_issue(world, title="担い手不足")
    session = make_session(world, LAYER2, title="第2層協議体 定例")
    english(as_secretary)
    page = as_secretary.get(f"/sessions/{session.id}").get_data(True)
    assert f"/sessions/{session.id}/local-issues/take-up" in page
    listing = as_secretary.get(f"/sessions/{session.id}/local-issues/take-up").get_data(True)
    assert "買い物困難" in listing and "担い手不足" in listing
    response = as_secretary.post(
        f"/sessions/{session.id}/local-issues/take-up", data={"issue_ids": [first.id, second.id]}
    )
    assert response.status_code == 302
    titles = world.scalars(select(AgendaItem.title).where(AgendaItem.session_id == session.id))
    assert list(titles) == ["買い物困難", "担い手不足"]
    issue_page = as_secretary.get(f"/local-issues/{first.id}").get_data(True)
    assert "第2層協議体 定例" in issue_page and "Under discussion" in issue_page
    # Posted again (a double click): refused, nothing more added.
    again = as_secretary.post(
        f"/sessions/{session.id}/local-issues/take-up", data={"issue_ids": [first.id]}
    )
    assert again.status_code == 400 and "already on this session" in again.get_data(True)
    assert count(world, AgendaItem) == 2


def test_take_up_of_a_foreign_or_unknown_issue_is_refused(as_secretary, world):
    foreign = local_issues.raise_directly(
        world,
        IssueData(title="他の協議体", text="x", body_id=body_named(world, LAYER1).id),
        by=person_by_email(world, "secretary@example.jp"),
    )
    world.commit()
    session = make_session(world, LAYER2)
    for ids in ([foreign.id], ["abc"], []):
        response = as_secretary.post(
            f"/sessions/{session.id}/local-issues/take-up", data={"issue_ids": ids}
        )
        assert response.status_code == 400
    assert count(world, AgendaItem) == 0


def test_a_session_serving_no_kyogitai_offers_no_take_up(as_secretary, world):
    session = make_session(world, SUPPORT)
    page = as_secretary.get(f"/sessions/{session.id}").get_data(True)
    assert "/local-issues/take-up" not in page


def test_the_issue_page_names_no_session_being_prepared_to_members(app, as_secretary, world):
    issue = raise_issue(world)
    prepared = make_session(world, LAYER2, title="PREPARED-SESSION-9c1d", convened=False)
    as_secretary.post(
        f"/sessions/{prepared.id}/local-issues/take-up", data={"issue_ids": [issue.id]}
    )
    assert "PREPARED-SESSION-9c1d" in as_secretary.get(f"/local-issues/{issue.id}").get_data(True)
    member = login(app.test_client(), "member.kyogitai@example.jp")
    page = member.get(f"/local-issues/{issue.id}")
    assert page.status_code == 200 and "PREPARED-SESSION-9c1d" not in page.get_data(True)


def test_the_body_page_does_not_query_per_issue(app, as_secretary, world):
    url = f"/bodies/{body_named(world, LAYER2).id}"
    for n in range(2):
        raise_issue(world, title=f"課題{n}")

    def queries() -> int:
        as_secretary.get(url)
        with counting(app.extensions["renkei.engine"]) as statements:
            assert as_secretary.get(url).status_code == 200
        return len(statements)

    small = queries()
    for n in range(2, 12):
        raise_issue(world, title=f"課題{n}")
    assert queries() == small


def test_the_issue_page_prints_on_a4(as_secretary, world):
    issue = raise_issue(world)
    page = as_secretary.get(f"/local-issues/{issue.id}").get_data(True)
    assert 'class="noprint" id="status-change"' in page  # the form stays off the paper


def test_status_form_as_a_browser_posts_it(as_secretary, world):
    """The date left empty (posted as "") is today; a date ahead is refused."""
    issue = raise_issue(world)
    english(as_secretary)
    ahead = as_secretary.post(
        f"/local-issues/{issue.id}/status",
        data={
            "status": "discussing",
            "on": (today() + timedelta(days=1)).isoformat(),
            "reason": "",
        },
        follow_redirects=True,
    )
    assert "The date cannot be in the future." in ahead.get_data(True)
    world.expire_all()
    assert world.get(LocalIssue, issue.id).status == IssueStatus.RAISED
    as_secretary.post(
        f"/local-issues/{issue.id}/status", data={"status": "discussing", "on": "", "reason": ""}
    )
    world.expire_all()
    found = world.get(LocalIssue, issue.id)
    assert (found.status, found.status_on) == (IssueStatus.DISCUSSING, today())


def test_a_held_sessions_case_still_offers_the_raise(as_secretary, world, case_item):
    """What a case revealed is raised after the meeting: the link stays on a held agenda."""
    mark_held(world, case_item.session)
    world.commit()
    page = as_secretary.get(f"/sessions/{case_item.session_id}").get_data(True)
    assert f"/local-issues/new/item/{case_item.id}" in page
