"""When the database does not answer: a Japanese 503 page, no traceback in the log, nothing
kept, and the next request works once it answers again; on PostgreSQL a connection the
server closed between two requests is replaced unnoticed (pre-ping)."""

import logging
import uuid

import pytest
from sqlalchemy import event, func, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from renkei import create_app
from renkei.db import make_engine
from renkei.models import Body
from tests.conftest import CsrfClient, login

UNAVAILABLE = "ただいまデータベースが応答していません。"


def _no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_a_page_says_in_japanese_that_the_database_is_not_answering(
    app, as_secretary, tmp_path, caplog
):
    working = app.extensions["renkei.sessionmaker"]
    broken = make_engine(f"sqlite:///{tmp_path}/missing-dir/none.sqlite3")
    app.extensions["renkei.sessionmaker"] = sessionmaker(bind=broken)
    with caplog.at_level(logging.WARNING):
        response = as_secretary.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "一時的に利用できません" in page and UNAVAILABLE in page
    assert response.headers["Retry-After"] and response.headers["Cache-Control"] == "no-store"
    assert "database unavailable" in caplog.text
    _no_tracebacks(caplog)

    app.extensions["renkei.sessionmaker"] = working
    assert as_secretary.get("/").status_code == 200


def test_a_commit_the_database_drops_answers_503_and_keeps_nothing(app, as_admin, db, caplog):
    def drop(_session):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    makers = app.extensions["renkei.sessionmaker"]
    event.listen(makers, "before_commit", drop)
    try:
        with caplog.at_level(logging.WARNING):
            response = as_admin.post(
                "/bodies/new", data={"name": "停止中に作った会議", "kind": "community_care"}
            )
    finally:
        event.remove(makers, "before_commit", drop)
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    _no_tracebacks(caplog)
    created = db.scalar(select(func.count()).where(Body.name == "停止中に作った会議"))
    assert created == 0


def test_a_connection_postgresql_closed_between_two_requests_goes_unnoticed(
    database_url, world, db, tmp_path
):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only (RENKEI_TEST_DATABASE_URL)")
    # An app of its own whose connections carry a name, so that only they are terminated.
    name = f"renkei-preping-{uuid.uuid4().hex[:8]}"
    url = make_url(database_url).update_query_dict({"application_name": name})
    app = create_app(
        {
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp_path / "preping-instance"),
    )
    app.test_client_class = CsrfClient
    client = login(app.test_client(), "secretary@example.jp")
    try:
        assert client.get("/").status_code == 200
        terminated = db.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": name},
        )
        db.commit()
        assert terminated >= 1
        assert client.get("/").status_code == 200
    finally:
        app.extensions["renkei.engine"].dispose()
