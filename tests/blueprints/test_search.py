"""The search page (/search) and the box in the header."""

import re

import pytest

from renkei.models import AgendaItem, Visibility
from renkei.services import search
from tests.conftest import client_for, login
from tests.helpers import body_named, counting
from tests.materials_helpers import upload_by_form
from tests.sessions_helpers import LAYER1, make_session


def add_items(db, session, count: int, word: str = "買い物支援") -> None:
    layer1 = body_named(db, LAYER1)
    start = len(session.items)
    for n in range(count):
        db.add(
            AgendaItem(
                session=session,
                body=layer1,
                position=start + n + 1,
                title=f"{word}の報告{n}",
                description=f"<script>{word}</script>の説明",
                visibility=Visibility.PUBLIC,
            )
        )
    db.commit()


@pytest.fixture
def reported(world):
    session = make_session(world, LAYER1)
    add_items(world, session, 3)
    return session


def test_the_header_has_a_search_box_for_those_logged_in(client, world):
    assert 'role="search"' not in client.get("/login").get_data(as_text=True)
    login(client, "member.kyogitai@example.jp")
    page = client.get("/").get_data(as_text=True)
    assert 'action="/search"' in page


def test_results_show_kind_body_and_marked_escaped_snippets(client, reported):
    login(client, "member.kyogitai@example.jp")
    response = client.get("/search", query_string={"q": "ｶｲﾓﾉ 買い物"})  # half-width: no match
    assert response.status_code == 200
    assert "見つかりませんでした" in response.get_data(as_text=True)
    response = client.get("/search", query_string={"q": "買い物"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark>買い物</mark>支援の報告0" in page
    assert "&lt;script&gt;<mark>買い物</mark>" in page and "<script>買い物" not in page
    assert "議題" in page and LAYER1 in page
    assert "3件見つかりました" in page


def test_beyond_the_cap_the_page_says_how_many_are_shown_and_counts_no_facet(
    client, reported, monkeypatch
):
    monkeypatch.setattr(search, "CAP", 2)
    login(client, "member.kyogitai@example.jp")
    page = client.get("/search", query_string={"q": "買い物"}).get_data(as_text=True)
    assert "2件を超えて見つかりました。新しく書かれた（変更された）2件を表示しています" in page
    assert "件見つかりました。" not in page
    assert "議題（" not in page and ">議題</a>" in page  # the kind offered, not counted
    assert page.count('class="search-hit"') == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "買"}, "2文字以上で検索してください"),
        ({"q": "介護" * 60}, "100文字以内で検索してください"),
        ({"q": "2026-02-30"}, "存在しない日付です"),
        ({"q": "買い物", "kind": "nonsense"}, "種類は一覧から選んでください"),
        ({"q": "買い物", "fy": "1900"}, "年度は一覧から選んでください"),
        ({"q": "買い物", "sort": "size"}, "並び順は関連度か日付を選んでください"),
    ],
)
def test_a_bad_query_gets_a_clear_error(client, reported, query, message):
    login(client, "member.kyogitai@example.jp")
    response = client.get("/search", query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_an_empty_query_shows_the_form_only(client, reported):
    login(client, "member.kyogitai@example.jp")
    response = client.get("/search")
    assert response.status_code == 200
    assert "件見つかりました" not in response.get_data(as_text=True)


def test_logged_out_is_sent_to_log_in(client, reported):
    response = client.get("/search", query_string={"q": "買い物"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_pages_link_to_each_other(client, world, monkeypatch):
    from renkei.services import search

    monkeypatch.setattr(search, "PER_PAGE", 2)
    add_items(world, make_session(world, LAYER1), 5)
    login(client, "member.kyogitai@example.jp")
    page = client.get("/search", query_string={"q": "買い物", "sort": "date", "page": 2})
    text = page.get_data(as_text=True)
    assert "2 / 3ページ" in text and 'rel="prev"' in text and 'rel="next"' in text


def test_the_query_count_does_not_grow_with_the_results(app, client, world):
    session = make_session(world, LAYER1)
    add_items(world, session, 2)
    login(client, "member.kyogitai@example.jp")

    def queries() -> int:
        with counting(app.extensions["renkei.engine"]) as statements:
            response = client.get("/search", query_string={"q": "買い物"})
        assert response.status_code == 200
        return len(statements)

    few = queries()
    add_items(world, make_session(world, LAYER1), 15)
    assert queries() == few


def test_a_member_follows_a_material_found_to_the_session_page_that_lists_it(app, client, reported):
    """The secretariat's page for managing materials is theirs alone: a material found
    leads a member to the session page, where it is listed for them."""
    secretariat = client_for(app, "secretary")
    uploaded = upload_by_form(secretariat, reported, "移動販売ゼクロスの報告".encode(), "報告.txt")
    assert uploaded.status_code == 302
    login(client, "member.kyogitai@example.jp")
    page = client.get("/search", query_string={"q": "ゼクロス"}).get_data(as_text=True)
    link = re.search(r'<p class="search-hit-title"><a href="([^"]+)"', page)
    assert link, page
    path, anchor = link.group(1).split("#")
    assert path == f"/sessions/{reported.id}" and anchor.startswith("material-")
    shown = client.get(path)
    assert shown.status_code == 200
    assert f'id="{anchor}"' in shown.get_data(as_text=True)
