"""Site-wide protections: CSRF, security headers, language switch."""

import threading
import urllib.request

from werkzeug.serving import make_server

from renkei.cli import QuietRequestHandler
from renkei.models import Body
from tests.helpers import count
from tests.sessions_helpers import LAYER1, SUPPORT, make_session


def test_post_without_csrf_token_is_refused_in_japanese_and_writes_nothing(as_admin, world):
    before = count(world, Body)
    response = as_admin.post("/bodies/new", data={"name": "CSRFなし", "kind": "other"}, csrf=False)
    assert response.status_code == 400
    assert "ページの有効期限が切れました" in response.get_data(as_text=True)
    assert count(world, Body) == before


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post(
        "/login", data={"email": "admin@example.jp", "password": "renkei-demo"}, csrf=False
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = client.post("/login", data={"email": "admin@example.jp", "password": "renkei-demo"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_interface_is_japanese_by_default_and_english_one_switch_away(client):
    assert "パスワード" in client.get("/login").get_data(as_text=True)
    response = client.get("/language/en?next=/login")
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Password" in page and "パスワード" not in page
    assert '<html lang="en">' in page


def test_unknown_page_gets_a_japanese_404(as_secretary):
    response = as_secretary.get("/bodies/999999")
    assert response.status_code == 404
    assert "見つかりません" in response.get_data(as_text=True)


def test_logged_in_pages_are_not_kept_in_the_browser_cache(as_secretary):
    """Closed content must not come back with Back after logging out on a shared PC."""
    assert as_secretary.get("/").headers["Cache-Control"] == "no-store"
    stylesheet = as_secretary.get("/static/css/app.css")
    assert "no-store" not in stylesheet.headers.get("Cache-Control", "")


def test_every_download_a_logged_in_person_gets_is_kept_out_of_caches(as_secretary, world):
    """The class: not only pages but invitations, CSV files and prints."""
    session = make_session(world, SUPPORT, LAYER1)
    invite = as_secretary.get(f"/sessions/{session.id}/invite.ics")
    assert invite.status_code == 200 and invite.mimetype == "text/calendar"
    assert invite.headers["Cache-Control"] == "no-store"


def test_a_wrong_method_says_which_methods_are_allowed(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"POST"}
    assert "見つかりません" not in response.get_data(as_text=True)


def test_the_development_server_names_no_software_version(app, world):
    """`make run` serves with Werkzeug's server (the `serve` command), which would send
    "Werkzeug/3.x Python/3.11"."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/login", timeout=10) as r:
            servers = r.headers.get_all("Server")
    finally:
        server.shutdown()
    assert servers == ["Renkei"]


def test_hsts_is_sent_only_when_the_site_is_served_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["BASE_URL"] = "https://renkei.example.jp"
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
