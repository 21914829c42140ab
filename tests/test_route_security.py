"""Security headers, CSRF, the session cookie and not-found-not-forbidden, route by route.

Like the leak test (tests/test_leaks.py), the walks go over every rule in ``app.url_map``
with every value the leak world (tests/leak_world.py) has for its parameters, so a new
route is covered without anyone remembering it (and one with a parameter nobody mapped
fails the walk, see ``parameter_values`` there):

1. every GET answer, whatever its status, carries a Content-Security-Policy whose
   script-src allows no inline script, ``X-Content-Type-Options: nosniff``,
   ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY`` (or CSP
   ``frame-ancestors 'none'``);
2. every rule that takes a POST, posted without a CSRF token, answers 400 with the Japanese
   "page has expired" page and changes nothing in the database (nor in the mail outbox);
3. the session cookie is HttpOnly and SameSite=Lax, and Secure when BASE_URL is https;
4. the ids of a session of a body a member does not belong to answer 404, as an id that
   does not exist does, and never 403, which would tell them the session exists.

Walks 1 and 2 run for the pledged secretary (every page open) and for a visitor who is
not logged in (every page sends them to the login).
"""

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from renkei import create_app
from renkei.blueprints.fields import MAX_ID
from renkei.models import AgendaItem, MeetingSession, MinutesVersion
from renkei.services import minutes
from tests import leak_world
from tests.conftest import DEMO_PASSWORD, CsrfClient, login
from tests.helpers import person_by_email
from tests.sessions_helpers import mark_held
from tests.test_leaks import Request, requests_for

EXPIRED = "ページの有効期限が切れました"  # the CSRF error page (Japanese interface)
NOT_FOUND = "見つかりません"
HTTPS_URL = "https://renkei.example.jp"

WALKERS = {"secretary": "secretary@example.jp", "logged_out": None}

# Requests the URL map does not give with a value of its own: a static file (the rule's
# <path:filename> is not a database id) and answers of the error handlers.
EXTRA_GETS = (
    Request("GET", "/static/app.css", "static"),
    Request("GET", "/no-such-page", "(404)"),
    Request("GET", f"/sessions/{MAX_ID + 1}", "(404, id too large)"),
    Request("GET", "/logout", "(405)"),
)


@pytest.fixture
def routes(app, world) -> leak_world.LeakWorld:
    app.config.update(SMTP_HOST="", BASE_URL=leak_world.BASE_URL)
    return leak_world.build(app, world)


# --- 1. Security headers on every GET --------------------------------------------------------


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


def header_problems(response) -> list[str]:
    problems = []
    policies = response.headers.getlist("Content-Security-Policy")
    if not policies:
        problems.append("no Content-Security-Policy")
    framing_denied = response.headers.get("X-Frame-Options", "").upper() == "DENY"
    for policy in policies:
        directives = csp_directives(policy)
        scripts = directives.get("script-src", directives.get("default-src"))
        if scripts is None:
            problems.append(f"CSP without script-src or default-src: {policy}")
        elif "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts:
            problems.append(f"CSP allows inline script: {policy}")
        framing_denied |= directives.get("frame-ancestors") == ["'none'"]
    if response.headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append(f"X-Content-Type-Options: {response.headers.get('X-Content-Type-Options')}")
    if response.headers.get("Referrer-Policy", "").lower() != "no-referrer":
        problems.append(f"Referrer-Policy: {response.headers.get('Referrer-Policy')}")
    if not framing_denied:
        problems.append("may be framed: neither X-Frame-Options: DENY nor frame-ancestors 'none'")
    return problems


def log_in_as(client, walker: str) -> None:
    if WALKERS[walker]:
        login(client, WALKERS[walker])


@pytest.mark.parametrize("walker", list(WALKERS))
def test_every_get_answer_carries_the_security_headers(walker, app, client, routes):
    log_in_as(client, walker)
    gets = [r for r in requests_for(app, routes) if r.method == "GET"]
    failures, statuses = [], set()
    for request in [*gets, *EXTRA_GETS]:
        response = client.get(request.path)
        statuses.add(response.status_code)
        failures += [
            f"GET {request.path} [{request.endpoint}] ({response.status_code}): {problem}"
            for problem in header_problems(response)
        ]
        failures += [
            f"GET {request.path} [{request.endpoint}]: {problem}"
            for problem in cookie_problems(response, secure=False)
        ]
    assert not failures, "\n".join(failures)
    # Success, redirect and error pages were all among them.
    assert {200, 302, 404, 405} <= statuses


# --- 2. No POST without a CSRF token ---------------------------------------------------------


def post_requests(app, world: leak_world.LeakWorld) -> list[Request]:
    """Every rule that takes a POST, with every value of its parameters: the POST-only ones
    as the leak walk plans them, and the form pages (GET and POST) at the paths of their
    GETs."""
    takes_post = {
        rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())
    }
    plan = requests_for(app, world)
    posts = [r for r in plan if r.method == "POST"]
    forms = [Request("POST", r.path, r.endpoint) for r in plan if r.method == "GET"]
    return posts + [r for r in forms if r.endpoint in takes_post]


class DatabaseState:
    """A digest of every row of every table in the database (Alembic's own included), so
    that any write shows, whatever table it went to."""

    def __init__(self, engine):
        self.engine = engine
        self.metadata = MetaData()
        self.metadata.reflect(bind=engine)
        self.queries = [
            (name, select(table).order_by(*(table.primary_key.columns or table.columns)))
            for name, table in sorted(self.metadata.tables.items())
        ]

    def digest(self) -> str:
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            for name, query in self.queries:
                rows = connection.execute(query).all()
                digest.update(f"{name}:{len(rows)}:{rows!r}".encode())
        return digest.hexdigest()


def outbox_state(app) -> list[str]:
    outbox = Path(app.instance_path) / "outbox"
    return sorted(p.name for p in outbox.iterdir()) if outbox.exists() else []


@pytest.mark.parametrize("walker", list(WALKERS))
def test_every_post_without_csrf_token_is_refused_and_writes_nothing(walker, app, client, routes):
    log_in_as(client, walker)
    engine = app.extensions["renkei.engine"]
    plan = post_requests(app, routes)
    endpoints = {r.endpoint for r in plan}
    assert {"auth.login", "auth.logout", "minutes.start", "agenda.edit"} <= endpoints
    # The convening notice and the change notices (issue 18) are among them.
    assert {"convening.convene", "convening.send_notices"} <= endpoints
    database = DatabaseState(engine)
    state, outbox = database.digest(), outbox_state(app)
    failures = []
    for request in plan:
        where = f"POST {request.path} [{request.endpoint}]"
        response = client.post(request.path, data={"title": "CSRF"}, csrf=False)
        page = response.get_data(as_text=True)
        if response.status_code != 400 or EXPIRED not in page:
            failures.append(f"{where} answered {response.status_code}, not the expired page")
        failures += [f"{where}: {problem}" for problem in header_problems(response)]
        now = database.digest()
        if now != state:
            failures.append(f"{where} changed the database")
            state = now
    assert not failures, "\n".join(failures)
    assert outbox_state(app) == outbox
    # The refused logout left the secretary logged in.
    home = client.get("/")
    assert home.status_code == (200 if WALKERS[walker] else 302)


def test_a_wrong_csrf_token_is_refused_like_none(app, client, routes):
    """A token of another session is no token: the walk above would pass for a check that
    only looked for the field."""
    other = app.test_client()
    login(other, "member.kyogitai@example.jp")
    foreign = other.token()
    login(client, "secretary@example.jp")
    database = DatabaseState(app.extensions["renkei.engine"])
    state = database.digest()
    for path in (f"/sessions/{routes.joint_id}/status", "/logout", "/bodies/new"):
        response = client.post(path, data={"csrf_token": foreign, "status": "held"}, csrf=False)
        assert response.status_code == 400 and EXPIRED in response.get_data(as_text=True), path
    assert database.digest() == state
    assert client.get("/").status_code == 200


# --- 3. The session cookie ------------------------------------------------------------------


def parse_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """A Set-Cookie header: name, value and attributes (lower-case name -> value)."""
    first, *rest = header.split(";")
    name, value = first.strip().split("=", 1)
    attributes = {}
    for part in rest:
        key, _, attribute = part.strip().partition("=")
        attributes[key.lower()] = attribute
    return name, value, attributes


def cookie_problems(response, *, secure: bool | str) -> list[str]:
    """Every cookie a response sets is HttpOnly and SameSite=Lax; ``secure``: every cookie
    (True) or the one of that name must be Secure as well."""
    problems = []
    for header in response.headers.getlist("Set-Cookie"):
        name, value, attributes = parse_cookie(header)
        if not value and attributes.get("max-age") == "0":
            continue  # a cookie being deleted carries nothing to protect
        if "httponly" not in attributes:
            problems.append(f"cookie {name} without HttpOnly")
        if attributes.get("samesite", "").lower() != "lax":
            problems.append(f"cookie {name} without SameSite=Lax")
        if secure in (True, name) and "secure" not in attributes:
            problems.append(f"cookie {name} without Secure")
    return problems


def session_cookie(response) -> dict[str, str]:
    cookies = [parse_cookie(h) for h in response.headers.getlist("Set-Cookie")]
    found = [attributes for name, value, attributes in cookies if name == "session" and value]
    assert found, "no session cookie set"
    return found[0]


def _cookie_round(app, *, secure: bool | str = False) -> list[str]:
    """Log in, switch language and log out; the problems of every cookie set on the way."""
    client = app.test_client()
    problems = cookie_problems(client.get("/login"), secure=secure)
    response = client.post(
        "/login", data={"email": "secretary@example.jp", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    session_cookie(response)
    problems += cookie_problems(response, secure=secure)
    problems += cookie_problems(client.get("/language/en?next=/"), secure=secure)
    problems += cookie_problems(client.post("/logout", data={}), secure=secure)
    return problems


def _app(database_url, tmp_path, **config):
    app = create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "cookie-test", **config},
        instance_path=str(tmp_path / "instance-cookie"),
    )
    app.test_client_class = CsrfClient
    return app


@pytest.fixture
def https_app(app, world, monkeypatch, database_url, tmp_path):
    """An app on the test's database with BASE_URL https, set as the README says: in the
    environment."""
    monkeypatch.setenv("BASE_URL", HTTPS_URL)
    secure = _app(database_url, tmp_path)
    yield secure
    secure.extensions["renkei.engine"].dispose()


def _log_in(app, **kwargs):
    return app.test_client().post(
        "/login", data={"email": "secretary@example.jp", "password": DEMO_PASSWORD}, **kwargs
    )


def test_session_cookie_is_httponly_and_lax_and_not_secure_over_http(
    app, world, monkeypatch, database_url, tmp_path
):
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:5000")
    plain = _app(database_url, tmp_path)
    try:
        assert _cookie_round(plain) == []
        cookie = session_cookie(_log_in(plain))
        assert "httponly" in cookie and cookie["samesite"] == "Lax" and "secure" not in cookie
    finally:
        plain.extensions["renkei.engine"].dispose()


def test_session_cookie_is_secure_when_base_url_is_https(https_app):
    assert https_app.config["BASE_URL"] == HTTPS_URL
    assert _cookie_round(https_app, secure="session") == []
    cookie = session_cookie(_log_in(https_app))
    assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "Lax"


def test_every_cookie_is_secure_when_base_url_is_https(https_app):
    assert _cookie_round(https_app, secure=True) == []


def test_session_cookie_is_secure_when_base_url_is_https_in_the_config(
    app, world, monkeypatch, database_url, tmp_path
):
    monkeypatch.delenv("BASE_URL", raising=False)
    secure = _app(database_url, tmp_path, BASE_URL=HTTPS_URL)
    try:
        assert _cookie_round(secure, secure="session") == []
    finally:
        secure.extensions["renkei.engine"].dispose()


# --- 4. Another body's session: 404, not 403 ----------------------------------------------


def _solo_minutes(app, db, world: leak_world.LeakWorld) -> int:
    """Minutes of the 支援会議-only session, which the 協議体 member has no part in."""
    with app.app_context():
        secretary = person_by_email(db, "secretary@example.jp")
        solo = db.get(MeetingSession, world.solo_id)
        mark_held(db, solo)
        version = minutes.open_minutes(db, solo, by=secretary)
        db.commit()
        return version.id


def same_page(page: str, path: str) -> str:
    """A page as two requests for the same thing should show it: the path aside, and the
    CSRF token of the logout form, which is signed with the second it was made in."""
    page = page.replace(path, "<path>")
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1<token>"', page)


def test_another_bodys_session_is_not_found_for_a_member(app, client, world, routes):
    """member.kyogitai sits on the 第1層 協議体 only: the 支援会議's own sessions, their
    agenda items and minutes do not exist for them, exactly as an id nobody uses."""
    version_id = _solo_minutes(app, world, routes)
    item_id = world.scalar(
        select(AgendaItem.id).where(AgendaItem.session_id == routes.solo_id).limit(1)
    )
    series_session = routes.series_session_ids[0]
    solo = routes.solo_id
    assert world.get(MinutesVersion, version_id) is not None
    login(client, "member.kyogitai@example.jp")

    # (what, method, path with {} for the id, the id)
    hidden = [
        ("session page", "GET", "/sessions/{}", solo),
        ("series occurrence", "GET", "/sessions/{}", series_session),
        ("invite.ics", "GET", "/sessions/{}/invite.ics", solo),
        ("session edit", "GET", "/sessions/{}/edit", solo),
        ("session cancel", "GET", "/sessions/{}/cancel", solo),
        ("convening notice preview", "GET", "/sessions/{}/convene", solo),
        ("convening notice", "POST", "/sessions/{}/convene", solo),
        ("change notices now", "POST", "/sessions/{}/notices", solo),
        ("printed letters", "GET", "/sessions/{}/letters", solo),
        ("new agenda item", "GET", "/sessions/{}/items/new", solo),
        ("attendance reply", "POST", "/sessions/{}/reply", solo),
        ("minutes list", "GET", "/sessions/{}/minutes", solo),
        ("attendance record", "GET", "/sessions/{}/attendance", solo),
        ("attendance record (post)", "POST", "/sessions/{}/attendance", solo),
        ("minutes", "GET", "/minutes/{}", version_id),
        ("minutes download", "GET", "/minutes/{}/download", version_id),
        ("minutes diff", "GET", "/minutes/{}/diff", version_id),
        ("minutes editor", "GET", "/minutes/{}/edit", version_id),
        ("agenda item edit", "GET", "/items/{}/edit", item_id),
        ("agenda item edit (post)", "POST", "/items/{}/edit", item_id),
        ("agenda item move", "POST", "/items/{}/move", item_id),
        ("date poll", "GET", "/polls/{}", routes.poll_ids[0]),
        ("date poll CSV", "GET", "/polls/{}/export.csv", routes.poll_ids[0]),
        ("date poll answer", "POST", "/polls/{}/answer", routes.poll_ids[0]),
        ("date poll decision", "POST", "/polls/{}/decide", routes.poll_ids[0]),
        ("date poll reminder", "POST", "/polls/{}/remind", routes.poll_ids[0]),
    ]
    database = DatabaseState(app.extensions["renkei.engine"])
    state = database.digest()
    failures = []
    for what, method, pattern, real_id in hidden:
        path, unused = pattern.format(real_id), pattern.format(MAX_ID)
        data = {"title": "x", "answer": "yes"} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        page = response.get_data(as_text=True)
        if response.status_code != 404 or NOT_FOUND not in page:
            failures.append(f"{what}: {method} {path} answered {response.status_code}")
            continue
        if "支援会議（漏えい試験）" in page or "支援会議（定例" in page or "POLL-CANARY" in page:
            failures.append(f"{what}: the 404 page names the session")
        absent = client.open(unused, method=method, data=data)
        assert absent.status_code == 404, unused
        if same_page(page, path) != same_page(absent.get_data(as_text=True), unused):
            failures.append(f"{what}: the 404 differs from that of an unused id")
    assert not failures, "\n".join(failures)
    assert database.digest() == state

    # Positive control: their own (joint) session is there, its item closed to editing.
    assert client.get(f"/sessions/{routes.joint_id}").status_code == 200
    assert client.get(f"/sessions/{routes.joint_id}/invite.ics").status_code == 200
    assert client.get(f"/polls/{routes.poll_ids[1]}").status_code == 200  # the joint poll
    own_item = world.scalar(
        select(AgendaItem.id).where(AgendaItem.session_id == routes.joint_id).limit(1)
    )
    assert client.get(f"/items/{own_item}/edit").status_code == 403
    assert client.get(f"/sessions/{routes.joint_id}/edit").status_code == 403
    # ... and its notices the secretariat's: read, sent or printed by no member.
    for method, path in MANAGER_ROUTES:
        response = client.open(path.format(routes.joint_id), method=method, data={})
        assert response.status_code == 403, (method, path)
    assert database.digest() == state


# The convening notice, the change notices and the printed letters (issue 18): the
# secretariat's, as editing and cancelling are.
MANAGER_ROUTES = (
    ("GET", "/sessions/{}/convene"),
    ("POST", "/sessions/{}/convene"),
    ("POST", "/sessions/{}/notices"),
    ("GET", "/sessions/{}/letters"),
)


def test_the_notice_routes_send_a_visitor_to_the_login(app, client, routes):
    """Not logged in, with a valid CSRF token: the login page, and nothing sent."""
    database = DatabaseState(app.extensions["renkei.engine"])
    state, outbox = database.digest(), outbox_state(app)
    for session_id in (routes.prepared_id, routes.solo_id):
        for method, pattern in MANAGER_ROUTES:
            path = pattern.format(session_id)
            response = client.open(path, method=method, data={})
            assert response.status_code == 302, (method, path)
            assert response.location.startswith("/login"), (method, path)
    assert database.digest() == state
    assert outbox_state(app) == outbox
