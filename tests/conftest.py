"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when RENKEI_TEST_DATABASE_URL
is set), an app per test, a test client that sends CSRF tokens like a browser, and the demo
town as a ready-made world."""

import os

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import make_url, text
from wtforms import SelectChoice, SelectField, SelectMultipleField

from renkei import create_app, migrate
from renkei.db import Base, make_engine
from renkei.links import Links
from renkei.services import demo, feeds
from tests.helpers import body_named
from tests.smtp import smtp, smtp_server  # noqa: F401 (fixtures for every test)

DEMO_PASSWORD = demo.DEMO_PASSWORD
BASE_URL = "https://renkei.example.jp"  # the site's address in the links fixture


@pytest.fixture(autouse=True, scope="session")
def choices_are_select_choices():
    """WTForms 3.3 warns of (value, label) tuples, which 3.4 refuses, only when a field's
    constructor gets them (pyproject makes that warning an error): choices that a view sets
    on a field, or that a callable returns, would pass unnoticed. So every field that lists
    its choices, to render or to validate them, checks they are SelectChoice objects."""
    with pytest.MonkeyPatch.context() as patch:
        for field_class in (SelectField, SelectMultipleField):
            patch.setattr(field_class, "iter_choices", _checked(field_class.iter_choices))
        yield


def _checked(iter_choices):
    def checked(field):
        stray = [c for c in field.choices or () if not isinstance(c, SelectChoice)]
        assert not stray, f"{field.name}: choices must be SelectChoice objects: {stray!r}"
        return iter_choices(field)

    return checked


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("RENKEI_TEST_DATABASE_URL")
    if url:
        # Under pytest-xdist each worker gets a schema of its own in the one database.
        schema = os.environ.get("PYTEST_XDIST_WORKER", "public")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        if schema != "public":
            options = {"options": f"-csearch_path={schema}"}
            url = make_url(url).update_query_dict(options).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.upgrade(url)
    return url


class CsrfClient(FlaskClient):
    """Posts carry the session's CSRF token, as the app's own forms do; pass csrf=False to
    send a request without one."""

    def token(self) -> str:
        """The token the session's forms carry: signed from the one kept in the session
        cookie, as Flask-WTF does, so a post costs no page load; a page is loaded only when
        the session has none yet (a new client, or just after logging in or out)."""
        raw = self._raw_token()
        if raw is None:
            self.get("/login")
            raw = self._raw_token()
        secret = self.application.config["SECRET_KEY"]
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def _raw_token(self) -> str | None:
        if self.get_cookie("session") is None:
            return None
        with self.session_transaction() as session:
            return session.get("csrf_token")

    def open(self, *args, csrf: bool = True, **kwargs):
        method = kwargs.get("method", "GET")
        data = kwargs.get("data")
        if csrf and method == "POST" and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.token()}
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            # Mail is delivered before the response, so no thread outlives its test.
            "MAIL_DELIVERY": "sync",
            # A real hash, cheap: scrypt's 0.1 s a login would add minutes to the suite.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp_path / "instance"),
    )
    app.test_client_class = CsrfClient
    # What the process keeps to build feeds is by digest, right for any database; each
    # test still starts without it, so that what it counts does not depend on the one before.
    feeds.forget()
    yield app
    engine = app.extensions["renkei.engine"]
    _empty_tables(engine)
    engine.dispose()


_RESTART_SEQUENCES = (
    "SELECT setval(oid, 1, false) FROM pg_class"
    " WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"
)


def _empty_tables(engine) -> None:
    """Leave the schema, remove every row, so the next test starts from nothing (but the
    installation's identity, which the migration makes with the schema)."""
    tables = [table.name for table in Base.metadata.sorted_tables if table.name != "installation"]
    if engine.dialect.name == "postgresql":
        # DELETE, children first, in one round trip, and the id sequences back to 1: a
        # TRUNCATE of every table costs PostgreSQL a new file per table (0.4–0.9 s a test on
        # two busy cores, against 0.01–0.08 s for this), most of the suite's time there.
        deletes = "; ".join(f"DELETE FROM {table}" for table in reversed(tables))
        with engine.begin() as connection:
            connection.exec_driver_sql(f"{deletes}; {_RESTART_SEQUENCES}")
        return
    with engine.connect() as connection:
        # Bodies refer to their parent body: switch the checks off rather than order rows.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in tables:
            connection.exec_driver_sql(f"DELETE FROM {table}")
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def db(app):
    """A session of the test's own. No app context is pushed: each request of the test
    client must get its own context (and so its own ``g``), as in production."""
    session = app.extensions["renkei.sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def links(app) -> Links:
    """The addresses of pages on BASE_URL, as the services put them in mail and calendar
    files: made from the app's routes, with no request or app context."""
    return Links(app.url_map, BASE_URL)


@pytest.fixture
def world(db):
    """The demo town: bodies, organisations, overlapping members and the demo accounts."""
    demo.load(db, sessions=False)
    db.commit()
    return db


@pytest.fixture
def kyogitai(world):
    """The demo town's layer-1 協議体 (demo.KYOGITAI)."""
    return body_named(world, demo.KYOGITAI)


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


def login(client, email: str, password: str = DEMO_PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def client_for(app, name: str) -> CsrfClient:
    """A browser of its own, logged in as ``name``@example.jp."""
    return login(app.test_client(), f"{name}@example.jp")


@pytest.fixture
def as_secretary(client, world):
    return login(client, "secretary@example.jp")


@pytest.fixture
def as_admin(client, world):
    return login(client, "admin@example.jp")
