from tests.conftest import login
from tests.helpers import person_by_email

WRONG = (
    "メールアドレスまたはパスワードが正しくありません。"
    "入力内容をお確かめのうえ、もう一度お試しください。"
)


def test_login_page_has_email_and_password_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page
    assert "ログイン" in page


def test_pages_need_a_login(client):
    response = client.get("/bodies/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_unknown_email_and_wrong_password_get_the_same_message(client, world):
    for email, password in [("nobody@example.jp", "renkei-demo"), ("admin@example.jp", "bad")]:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 400
        assert WRONG in response.get_data(as_text=True)


def test_login_follows_next_only_within_the_site(client, world):
    response = client.post(
        "/login?next=/bodies/", data={"email": "admin@example.jp", "password": "renkei-demo"}
    )
    assert response.headers["Location"] == "/bodies/"
    client.post("/logout", data={})
    response = client.post(
        "/login?next=//evil.example/", data={"email": "admin@example.jp", "password": "renkei-demo"}
    )
    assert response.headers["Location"] == "/"


def test_login_starts_a_fresh_session(client, world):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "admin@example.jp")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_needs_post_and_ends_the_session(as_secretary):
    assert as_secretary.get("/logout").status_code == 405
    as_secretary.post("/logout", data={})
    assert as_secretary.get("/").status_code == 302


def test_a_session_cookie_copied_before_logout_no_longer_works(app, as_secretary):
    copied = app.test_client()
    cookie = as_secretary.get_cookie("session")
    copied.set_cookie("session", cookie.value)
    assert copied.get("/").status_code == 200  # the copy works while the owner is logged in

    as_secretary.post("/logout", data={})

    assert copied.get("/").status_code == 302
    assert copied.get("/").headers["Location"].startswith("/login")


def test_change_password_ends_other_sessions_but_keeps_this_one(app, as_secretary, world):
    other = app.test_client()
    login(other, "secretary@example.jp")
    response = as_secretary.post(
        "/account",
        data={
            "current_password": "renkei-demo",
            "password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert as_secretary.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_change_password_with_mismatch_says_so_in_japanese_and_changes_nothing(as_secretary, world):
    before = person_by_email(world, "secretary@example.jp").password_hash
    response = as_secretary.post(
        "/account",
        data={"current_password": "renkei-demo", "password": "a-new-long-pw", "confirm": "other"},
    )
    assert response.status_code == 400
    assert "新しいパスワードが一致しません。" in response.get_data(as_text=True)
    world.expire_all()
    assert person_by_email(world, "secretary@example.jp").password_hash == before


def test_deactivated_person_is_logged_out_and_cannot_log_in(app, as_admin, world):
    member = app.test_client()
    login(member, "member.both@example.jp")
    person = person_by_email(world, "member.both@example.jp")
    response = as_admin.post(f"/people/{person.id}/account", data={"is_admin": ""})
    assert response.status_code == 302
    assert member.get("/").status_code == 302
    response = member.post(
        "/login", data={"email": "member.both@example.jp", "password": "renkei-demo"}
    )
    assert WRONG in response.get_data(as_text=True)


def test_a_failed_login_says_so_without_talking_of_saving(client, world):
    """Logging in saves nothing: the summary says the login failed, not that nothing was
    saved, and the page speaks to the reader politely."""
    page = client.post("/login", data={"email": "admin@example.jp", "password": "bad"})
    text = page.get_data(as_text=True)
    assert "ログインできませんでした。" in text and WRONG in text
    assert "保存" not in text
    assert "パスワードをお忘れの方" in text
    assert "アカウントをお持ちでない構成員の方には" in text
