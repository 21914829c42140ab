"""Page addresses for mail, calendar files and feeds: BASE_URL and the path the page's own
route builds, without a request."""

from flask import url_for

from renkei.links import Links

BASE = "https://renkei.example.jp"


def test_each_address_is_base_url_and_the_path_of_its_route(app, links):
    assert links.session(7) == f"{BASE}/sessions/7"
    assert links.session_reply(7) == f"{BASE}/sessions/7#reply"
    assert links.minutes(3) == f"{BASE}/minutes/3"
    assert links.approval(3, 4) == f"{BASE}/minutes/3/approve/4"
    assert links.poll(2) == f"{BASE}/polls/2"
    assert links.poll_answer("t0k-en_") == f"{BASE}/polls/answer/t0k-en_"
    assert links.password_reset("abc") == f"{BASE}/password/reset/abc"
    assert links.body_members(5) == f"{BASE}/bodies/5#members"
    assert links.feed("xyz") == f"{BASE}/calendar/xyz.ics"


def test_the_paths_are_those_the_views_link_to(app, links):
    with app.test_request_context():
        assert links.approval(3, 4) == BASE + url_for("minutes.approve", version_id=3, body_id=4)
        assert links.poll_answer("t") == BASE + url_for("polls.link", poll_token="t")


def test_base_url_with_a_trailing_slash_or_a_path(app):
    assert Links(app.url_map, "http://127.0.0.1:8000/").session(1) == (
        "http://127.0.0.1:8000/sessions/1"
    )
    assert Links(app.url_map, "https://town.example.jp/renkei").session(1) == (
        "https://town.example.jp/renkei/sessions/1"
    )


def test_the_app_makes_them_from_its_base_url(app):
    app.config["BASE_URL"] = "https://town.example.jp"
    assert Links.of(app).minutes(9) == "https://town.example.jp/minutes/9"
