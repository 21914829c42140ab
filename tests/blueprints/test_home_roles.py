"""The home page per role, through HTTP: a chair's minutes to approve (a link straight to the
approval page), a member's replies still open, last month's sessions; and the reply form,
whose confirmation shows where the reply was given and which a held session does not offer."""

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from renkei.links import Links
from renkei.models import Answer, Reply
from renkei.services.dates import today
from tests import sessions_helpers
from tests.blueprints.test_query_counts import add_shared_members, queries_for
from tests.conftest import login
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT, make_session, mark_held

SAVED = "回答を保存しました。"


def text(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, section_id: str) -> str:
    """The HTML of ``<section id=section_id>`` on ``page`` ("" if there is none)."""
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    return found.group(0) if found else ""


def submitted(app, db, *bodies, title="承認待ちの会議"):
    """A held session of ``bodies``, its minutes submitted to the chairs: the version."""
    with app.app_context():
        links = Links(app.url_map, "http://localhost")
        return sessions_helpers.submitted(db, links, *bodies, title=title)


# --- The chair ----------------------------------------------------------------------------


def test_a_chairs_home_links_straight_to_the_approval_of_their_part(app, world):
    version = submitted(app, world, SUPPORT, LAYER1)
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    chair = login(app.test_client(), "chair.kyogitai@example.jp")
    tile = section(text(chair.get("/")), "approvals")
    assert "承認待ちの議事録" in tile and "承認待ちの会議" in tile
    assert f'href="/minutes/{version.id}/approve/{layer1.id}"' in tile
    assert f"/approve/{support.id}" not in tile  # the other chair's part
    # The link's page is the approval form itself: one click, then 承認する.
    page = text(chair.get(f"/minutes/{version.id}/approve/{layer1.id}"))
    assert 'name="decision" value="approve"' in page
    approved = chair.post(
        f"/minutes/{version.id}/approve/{layer1.id}", data={"decision": "approve", "comment": ""}
    )
    assert approved.status_code == 302
    tile = section(text(chair.get("/")), "approvals")
    assert "承認待ちの議事録はありません。" in tile and "/approve/" not in tile


def test_a_member_who_chairs_nothing_has_no_approvals_section(app, world):
    submitted(app, world, SUPPORT, LAYER1)
    member = login(app.test_client(), "member.both@example.jp")
    assert section(text(member.get("/")), "approvals") == ""


def test_the_chairs_home_does_not_query_per_minutes_awaiting_approval(app, world):
    """The approvals (and tasks) are loaded with a fixed number of queries."""
    chair = login(app.test_client(), "chair.kyogitai@example.jp")
    submitted(app, world, LAYER1, title="会議1")
    small = queries_for(app, chair, "/")
    for n in range(2, 6):
        submitted(app, world, SUPPORT, LAYER1, title=f"会議{n}")
    add_shared_members(world, 0, 5)
    large = queries_for(app, chair, "/")
    assert section(text(chair.get("/")), "approvals").count("/approve/") == 5
    assert small == large


# --- The member's replies -----------------------------------------------------------------


def coming(world, *bodies, title="来月の協議体", days=10):
    return make_session(world, *bodies, title=title, day=today() + timedelta(days=days))


def test_a_members_home_lists_the_replies_still_open_with_a_link_to_the_form(app, world):
    session = coming(world, LAYER1)
    member = login(app.test_client(), "member.kyogitai@example.jp")
    replies = section(text(member.get("/")), "replies")
    assert "出欠をまだ回答していない会議" in replies and "来月の協議体" in replies
    assert f'href="/sessions/{session.id}#reply"' in replies

    member.post(f"/sessions/{session.id}/reply", data={"answer": "attend"})
    assert section(text(member.get("/")), "replies") == ""


def test_the_confirmation_shows_in_the_reply_section_with_the_answer_given(app, world):
    session = coming(world, LAYER1)
    member = login(app.test_client(), "member.kyogitai@example.jp")
    before = section(text(member.get(f"/sessions/{session.id}")), "reply")
    assert "回答を送る" in before and "回答済み" not in before
    # The form comes back at its section, should it be refused.
    assert f'action="/sessions/{session.id}/reply#reply"' in before

    sent = member.post(
        f"/sessions/{session.id}/reply", data={"answer": "proxy", "proxy_name": "地域 代理"}
    )
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/sessions/{session.id}#reply")
    page = text(member.get(sent.headers["Location"]))
    reply = section(page, "reply")
    # In the section the page opens at, not above the page where it would be scrolled past.
    assert reply.count(SAVED) == 1 and page.count(SAVED) == 1
    assert 'role="status"' in reply
    assert "回答済み" in reply and "代理出席" in reply and "地域 代理" in reply
    # And a way to change it: the form, filled in, with its button saying so.
    assert "回答を変更する" in reply and re.search(
        r'checked[^>]*value="proxy"|value="proxy"[^>]*checked', reply
    )
    # Once read, the confirmation is gone; the answer stays.
    again = section(text(member.get(f"/sessions/{session.id}")), "reply")
    assert SAVED not in again and "回答済み" in again


def test_other_messages_still_show_at_the_top_of_the_page(app, world):
    """Only the reply's confirmation moves into its section."""
    secretary = login(app.test_client(), "secretary@example.jp")
    session = coming(world, LAYER1)
    response = secretary.post(
        f"/sessions/{session.id}/guests", data={"name": "来賓 一", "email": ""}
    )
    page = text(secretary.get(response.headers["Location"]))
    assert re.search(r'<main id="main">\s*<p class="flash flash-success"', page)


@pytest.fixture
def held(world):
    """A session of the 協議体 held last month; 地域 さくら replied she would attend."""
    day = (today().replace(day=1) - timedelta(days=1)).replace(day=10)
    session = make_session(world, LAYER1, title="先月の協議体", day=day, start=time(10))
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    world.add(Reply(session=session, person=sakura, answer=Answer.ATTEND, comment="伺います"))
    mark_held(world, session)
    world.commit()
    return session


def test_a_held_session_shows_the_answer_recorded_and_no_form(app, world, held):
    member = login(app.test_client(), "member.kyogitai@example.jp")
    reply = section(text(member.get(f"/sessions/{held.id}")), "reply")
    assert "回答済み" in reply and "出席" in reply and "伺います" in reply
    assert "この会議は開催済のため、出欠の回答は締め切りました。" in reply
    assert "<form" not in reply and 'name="answer"' not in reply
    # Who did not reply sees that, and no form either.
    other = login(app.test_client(), "member.both@example.jp")
    reply = section(text(other.get(f"/sessions/{held.id}")), "reply")
    assert "回答はありませんでした。" in reply and "<form" not in reply


def test_a_reply_to_a_held_session_is_refused_in_japanese_and_changes_nothing(app, world, held):
    member = login(app.test_client(), "member.kyogitai@example.jp")
    response = member.post(f"/sessions/{held.id}/reply", data={"answer": "absent"})
    assert response.status_code == 400
    reply = section(text(response), "reply")
    assert "この会議は開催済のため、出欠の回答は締め切りました。" in reply
    assert "<form" not in reply
    world.expire_all()
    (kept,) = world.scalars(select(Reply).where(Reply.session_id == held.id)).all()
    assert (kept.answer.value, kept.comment) == ("attend", "伺います")


def test_a_cancelled_session_shows_the_answer_and_no_form(app, world):
    session = coming(world, LAYER1)
    member = login(app.test_client(), "member.kyogitai@example.jp")
    member.post(f"/sessions/{session.id}/reply", data={"answer": "absent"})
    secretary = login(app.test_client(), "secretary@example.jp")
    assert secretary.post(f"/sessions/{session.id}/cancel", data={"reason": "台風"}).status_code
    reply = section(text(member.get(f"/sessions/{session.id}")), "reply")
    assert "回答済み" in reply and "欠席" in reply and "この会議は中止になりました。" in reply
    assert "<form" not in reply
    refused = member.post(f"/sessions/{session.id}/reply", data={"answer": "attend"})
    assert refused.status_code == 400
    world.expire_all()
    assert world.scalar(select(Reply.answer).where(Reply.session_id == session.id)).value == (
        "absent"
    )


# --- Last month ---------------------------------------------------------------------------


def test_last_months_sessions_are_reachable_from_home(app, world, held):
    member = login(app.test_client(), "member.kyogitai@example.jp")
    last = section(text(member.get("/")), "last-month")
    assert "先月の開催回" in last
    assert f'href="/sessions/{held.id}"' in last and "先月の協議体" in last
    assert 'href="/sessions/"' in last
    # 支援 一郎 is not on the 協議体: its session does not exist for him.
    chair = login(app.test_client(), "chair.support@example.jp")
    last = section(text(chair.get("/")), "last-month")
    assert "先月の協議体" not in last and "先月開催された会議はありません。" in last
