"""Login lock-out and password reset through the pages: repeated failures lock an address
(with one message whether or not it has an account) or an IP, and a forgotten password is
set again through a one-time link e-mailed to a real SMTP server (aiosmtpd)."""

import re
import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select, update

from renkei import create_app
from renkei.db import utcnow
from renkei.models import AuditEntry, LoginFailure, MailMessage, PasswordReset
from renkei.services import accounts, logins
from renkei.services.accounts import PersonData
from tests.conftest import DEMO_PASSWORD, login
from tests.helpers import count, person_by_email

LOCKED = (
    "Too many failed logins: you cannot log in for a while. "
    "Please try again in about %(minutes)d minutes."
)
WRONG = "The e-mail address or the password is not correct. Please check them and try again."
CHECK_MAIL = (
    "If an account with a login uses this address, a link to set a new password has been "
    "sent to it. The link is valid for one hour and works only once."
)
INVALID = (
    "This link to set a new password cannot be used: it has expired (links are valid for "
    "one hour), has already been used, has been replaced by a newer one, or is incomplete. "
    "Nothing has been changed."
)
SET = "Your new password has been set. Please log in with it."
MEMBER = "member.both@example.jp"
NEW_PASSWORD = "a-brand-new-password"
LINK = re.compile(r"https://renkei\.example\.jp(/password/reset/[A-Za-z0-9_-]+)")


def ja(app, text, **variables) -> str:
    """What the page shows for an interface string (Japanese once the catalog has it)."""
    with app.test_request_context(), force_locale("ja"):
        return str(escape(gettext(text, **variables)))


def attempt(client, email, password="wrong-password", ip="127.0.0.1"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def fail(app, client, email, times, ip="127.0.0.1"):
    for _ in range(times):
        response = attempt(client, email, ip=ip)
        assert response.status_code == 400
        assert ja(app, WRONG) in response.get_data(as_text=True)


def age_failures(db, minutes):
    """Move every recorded failure back in time, as if the minutes had passed."""
    for failure in db.scalars(select(LoginFailure)):
        failure.at -= timedelta(minutes=minutes)
    db.commit()


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


# --- Lock-out -----------------------------------------------------------------------------


def test_five_failures_lock_known_and_unknown_addresses_with_the_same_message(app, client, world):
    pages = []
    for email in (MEMBER, "nobody@example.jp"):
        fail(app, client, email, 5)
        response = attempt(client, email, DEMO_PASSWORD)
        assert response.status_code == 429
        page = response.get_data(as_text=True)
        assert ja(app, LOCKED, minutes=15) in page
        assert ja(app, WRONG) not in page
        page = page.replace(email, "ADDRESS")  # the form shows back what was typed
        pages.append(re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page))
    assert pages[0] == pages[1]
    assert not logged_in(client)


def test_the_right_password_is_refused_while_locked_and_accepted_after_15_minutes(
    app, client, world
):
    fail(app, client, "Member.Both@Example.jp", 5)  # the address counts lower-cased
    age_failures(world, 14)
    assert attempt(client, MEMBER, DEMO_PASSWORD).status_code == 429
    assert not logged_in(client)
    age_failures(world, 1)
    assert attempt(client, MEMBER, DEMO_PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_locked_address_does_not_lock_others(app, client, world):
    fail(app, client, MEMBER, 5)
    login(client, "secretary@example.jp")


def test_twenty_failures_from_one_ip_lock_that_ip_only(app, client, world):
    for n in range(5):  # four each: no single address reaches its own limit
        fail(app, client, f"guess{n}@example.jp", 4, ip="192.0.2.7")
    response = attempt(client, MEMBER, DEMO_PASSWORD, ip="192.0.2.7")
    assert response.status_code == 429
    assert ja(app, LOCKED, minutes=15) in response.get_data(as_text=True)
    assert attempt(client, MEMBER, DEMO_PASSWORD, ip="198.51.100.3").status_code == 302


def test_a_successful_login_clears_the_address_failures(app, client, world):
    fail(app, client, MEMBER, 4)
    login(client, MEMBER, DEMO_PASSWORD)
    assert world.scalar(select(func.count()).where(LoginFailure.email == MEMBER)) == 0
    client.post("/logout", data={})
    fail(app, client, MEMBER, 4)  # eight in all, but only four since the success
    login(client, MEMBER, DEMO_PASSWORD)


def in_parallel(app, passwords: list[str]) -> list[int]:
    """Send one login attempt for MEMBER per password, all released at the same moment, each
    from its own browser (client); the status codes in no particular order."""
    clients = [app.test_client() for _ in passwords]
    tokens = [c.token() for c in clients]
    barrier = threading.Barrier(len(passwords))
    statuses = []

    def send(c, token, password):
        barrier.wait()
        data = {"email": MEMBER, "password": password, "csrf_token": token}
        statuses.append(c.post("/login", data=data).status_code)

    threads = [
        threading.Thread(target=send, args=args)
        for args in zip(clients, tokens, passwords, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def password_checks(db) -> int:
    """Attempts whose password was checked: failed ones and successful ones."""
    db.expire_all()
    return db.scalar(select(func.count()).where(AuditEntry.action.in_(("login_failed", "login"))))


def test_thirty_parallel_guesses_are_counted_as_if_sent_one_by_one(app, client, world):
    statuses = in_parallel(app, ["wrong-password"] * 30)

    # Only five reached the password check; the right password is refused after them.
    assert sorted(statuses) == [400] * 5 + [429] * 25
    assert password_checks(world) == 5
    assert attempt(client, MEMBER, DEMO_PASSWORD).status_code == 429


def test_an_empty_form_is_no_failed_login(client, world):
    response = client.post("/login", data={"email": MEMBER, "password": ""})
    assert response.status_code == 400
    assert count(world, LoginFailure) == 0


# --- Password reset -----------------------------------------------------------------------


def ask(client, email=MEMBER):
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 200
    return response


def link_in(message) -> str:
    """The path of the reset link in a received message."""
    return LINK.search(message.get_body(("plain",)).get_content()).group(1)


def state(db, email=MEMBER):
    """What a reset changes: the password hash and the login token (other sessions)."""
    db.expire_all()
    person = person_by_email(db, email)
    return person.password_hash, person.login_token


def set_new(client, path, password=NEW_PASSWORD, confirm=None, **kwargs):
    data = {"password": password, "confirm": password if confirm is None else confirm}
    return client.post(path, data=data, **kwargs)


def test_login_page_offers_the_forgotten_password_form(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page
    assert ja(app, "Forgot your password?") in page
    page = client.get("/password/forgot").get_data(as_text=True)
    assert 'name="email"' in page


def test_reset_by_e_mailed_link_end_to_end(app, client, world, smtp):
    other = app.test_client()
    login(other, MEMBER)
    response = ask(client, "Member.Both@Example.jp ")
    assert ja(app, CHECK_MAIL) in response.get_data(as_text=True)
    [message] = smtp.to(MEMBER)
    assert message["Subject"] == ja(app, "Setting a new password for Renkei")
    path = link_in(message)
    token = path.rsplit("/", 1)[1]
    stored = world.scalar(select(PasswordReset))
    assert stored.token_hash == logins.token_hash(token) and token not in stored.token_hash

    page = client.get(path)
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    response = set_new(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert ja(app, SET) in client.get("/login").get_data(as_text=True)

    assert not logged_in(other)  # every other session has ended
    assert attempt(client, MEMBER, DEMO_PASSWORD).status_code == 400
    login(client, MEMBER, NEW_PASSWORD)
    client.post("/logout", data={})

    after = state(world)
    for second in (client.get(path), set_new(client, path, "yet-another-password")):
        assert second.status_code == 404
        assert ja(app, INVALID) in second.get_data(as_text=True)
        assert 'href="/password/forgot"' in second.get_data(as_text=True)
    assert state(world) == after


def test_an_expired_link_is_refused_and_changes_nothing(app, client, world, smtp):
    ask(client)
    path = link_in(smtp.to(MEMBER)[0])
    world.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    world.commit()
    before = state(world)
    for response in (client.get(path), set_new(client, path)):
        assert response.status_code == 404
        assert ja(app, INVALID) in response.get_data(as_text=True)
    assert state(world) == before
    login(client, MEMBER, DEMO_PASSWORD)


def test_a_forged_or_truncated_token_is_refused(app, client, world, smtp):
    ask(client)
    path = link_in(smtp.to(MEMBER)[0])
    before = state(world)
    for bad in (path[:-1], "/password/reset/forged", "/password/reset/" + "x" * 500):
        response = set_new(client, bad)
        assert response.status_code == 404
        assert ja(app, INVALID) in response.get_data(as_text=True)
    assert state(world) == before


def test_an_unknown_address_gets_the_same_page_and_no_mail(app, client, world, smtp):
    resident = accounts.create_person(world, PersonData(name="住民 一", email="res@example.jp"))
    former = person_by_email(world, "member.kyogitai@example.jp")
    former.active = False
    world.commit()
    known = ask(client).get_data(as_text=True)
    smtp.clear()
    for email in ("nobody@example.jp", resident.email, former.email):
        assert ask(client, email).get_data(as_text=True) == known
    assert smtp.received == []
    assert count(world, PasswordReset) == 1 and count(world, MailMessage) == 1


def test_asking_again_voids_the_earlier_link(app, client, world, smtp):
    ask(client)
    ask(client)
    first, second = (link_in(m) for m in smtp.to(MEMBER))
    assert client.get(first).status_code == 404
    assert set_new(client, second).status_code == 302
    login(client, MEMBER, NEW_PASSWORD)


def test_at_most_three_links_an_hour_without_saying_so(app, client, world, smtp):
    pages = {ask(client).get_data(as_text=True) for _ in range(4)}
    assert len(pages) == 1
    assert len(smtp.to(MEMBER)) == 3


def test_a_reset_lifts_the_lock_out(app, client, world, smtp):
    fail(app, client, MEMBER, 5)
    ask(client)
    set_new(client, link_in(smtp.to(MEMBER)[0]))
    login(client, MEMBER, NEW_PASSWORD)


def test_bad_input_is_refused_in_japanese_and_changes_nothing(app, client, world, smtp):
    ask(client)
    path = link_in(smtp.to(MEMBER)[0])
    before = state(world)
    cases = [
        (set_new(client, path, csrf=False), "The page has expired"),
        (set_new(client, path, confirm="different-pw"), "The two new passwords are not the same."),
        (set_new(client, path, "short"), "The password must be at least %(n)d characters long."),
        (set_new(client, path, ""), "Enter a new password."),
    ]
    for response, message in cases:
        assert response.status_code == 400
        assert ja(app, message, n=accounts.MIN_PASSWORD_LENGTH) in response.get_data(as_text=True)
    assert state(world) == before
    assert world.scalar(select(PasswordReset.used_at)) is None
    assert set_new(client, path).status_code == 302  # the link still works


def test_asking_without_csrf_token_sends_nothing(app, client, world, smtp):
    response = client.post("/password/forgot", data={"email": MEMBER}, csrf=False)
    assert response.status_code == 400
    assert ja(app, "The page has expired") in response.get_data(as_text=True)
    assert smtp.received == [] and count(world, PasswordReset) == 0


@pytest.mark.parametrize(("proxies", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_visitors_address_is_believed_only_from_trusted_proxies(app, world, proxies, seen):
    config = {key: value for key, value in app.config.items() if key.isupper()}
    served = create_app({**config, "TRUSTED_PROXIES": proxies}, instance_path=app.instance_path)
    served.test_client_class = type(app.test_client())
    try:
        served.test_client().post(
            "/login",
            data={"email": "nobody@example.jp", "password": "wrong"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    finally:
        served.extensions["renkei.engine"].dispose()
    assert [f.ip for f in world.scalars(select(LoginFailure))] == [seen]
