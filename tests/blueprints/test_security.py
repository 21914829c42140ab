"""Site-wide protections: CSRF, security headers, language switch."""

from renkei.models import Body
from tests.helpers import count


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
