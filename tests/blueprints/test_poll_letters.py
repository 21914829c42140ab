"""A date poll's printed answer letters (日程調整のお願い): one per person asked without a
login, each with a personal link of their own; only the poll's secretariat prints them, and
only while the poll takes answers."""

import re

from sqlalchemy import func, select

from renkei.models import PollLink
from renkei.services import demo
from tests.conftest import login
from tests.polls_helpers import answer_all, make_poll, person_named

LINK = re.compile(r'<span class="letter-url">[^<]*(/polls/answer/[\w-]+)</span>')
# demo.KYOGITAI's members without a login (its observer 社協 大地 is asked too).
WITHOUT_LOGIN = {"民生 ふみ", "介護 由美", "生協 実", "社協 大地"}


def _links(db) -> int:
    return db.scalar(select(func.count()).select_from(PollLink))


def test_the_secretary_prints_a_letter_with_a_working_link_for_each(as_secretary, world):
    poll = make_poll(world, demo.KYOGITAI, title="協議体 定例会の日程")
    listed = as_secretary.get(f"/polls/{poll.id}/letters").get_data(as_text=True)
    assert all(name in listed for name in WITHOUT_LOGIN)
    assert "協議 次郎" not in listed  # has a login: answers on the poll's page
    response = as_secretary.post(f"/polls/{poll.id}/letters", data={"who": "all"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('<article class="letter"') == len(WITHOUT_LOGIN)
    assert "日程調整のお願い（協議体 定例会の日程）" in page and "回答方法" in page
    assert page.count('<td class="letter-mark"></td>') == len(WITHOUT_LOGIN) * len(poll.slots)
    links = LINK.findall(page)
    assert len(set(links)) == len(WITHOUT_LOGIN) == _links(world)
    # Printed again: new links, and the first ones still work.
    as_secretary.post(f"/polls/{poll.id}/letters", data={"who": "all"})
    assert _links(world) == 2 * len(WITHOUT_LOGIN)
    as_secretary.post("/logout")
    for link in links:
        own = as_secretary.get(link)
        assert own.status_code == 200
        assert sum(name in own.get_data(as_text=True) for name in WITHOUT_LOGIN) == 1


def test_only_those_who_have_not_answered(as_secretary, world):
    poll = make_poll(world, demo.KYOGITAI)
    answer_all(world, poll, person_named(world, "生協 実"), "yes", "no", "yes")
    page = as_secretary.post(f"/polls/{poll.id}/letters", data={"who": "unanswered"})
    text = page.get_data(as_text=True)
    assert text.count('<article class="letter"') == len(WITHOUT_LOGIN) - 1
    assert "生協 実　様" not in text and "民生 ふみ　様" in text


def test_a_member_may_not_print_the_letters(client, world):
    poll = make_poll(world, demo.KYOGITAI)
    login(client, "member.kyogitai@example.jp")
    assert client.get(f"/polls/{poll.id}/letters").status_code == 403
    assert client.post(f"/polls/{poll.id}/letters", data={"who": "all"}).status_code == 403
    assert _links(world) == 0


def test_a_decided_poll_has_no_letters_to_print(as_secretary, world):
    poll = make_poll(world, demo.KYOGITAI)
    decided = as_secretary.post(
        f"/polls/{poll.id}/decide", data={"slot_id": poll.slots[0].id, "place": ""}
    )
    assert decided.status_code == 302
    page = as_secretary.get(f"/polls/{poll.id}/letters").get_data(as_text=True)
    assert "回答を受け付けていないため、印刷する案内状はありません" in page
    assert 'name="who"' not in page
    refused = as_secretary.post(f"/polls/{poll.id}/letters", data={"who": "all"})
    assert refused.status_code == 302
    shown = as_secretary.get(refused.headers["Location"]).get_data(as_text=True)
    assert "回答を受け付けていないため" in shown
    assert _links(world) == 0
