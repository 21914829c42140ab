import socket
import time

import pytest

from renkei import create_app


def _app_on(url: str, tmp_path):
    return create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test-secret"},
        instance_path=str(tmp_path / "other-instance"),
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_the_database_does_not(app, client, tmp_path):
    from sqlalchemy.orm import sessionmaker

    from renkei.db import make_engine

    broken = make_engine(f"sqlite:///{tmp_path}/missing-dir/none.sqlite3")
    app.extensions["renkei.sessionmaker"] = sessionmaker(bind=broken)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_healthz_fails_while_the_sqlite_file_cannot_be_opened_and_recovers(tmp_path):
    folder = tmp_path / "data"
    app = _app_on(f"sqlite:///{folder}/renkei.sqlite3", tmp_path)
    client = app.test_client()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_data(as_text=True) == "database unavailable"
    assert down.headers["Cache-Control"] == "no-store"
    folder.mkdir()  # the volume is back: the same app answers without a restart
    assert client.get("/healthz").status_code == 200
    app.extensions["renkei.engine"].dispose()


def test_healthz_fails_at_once_when_postgresql_refuses_connections(tmp_path):
    pytest.importorskip("psycopg")
    app = _app_on(f"postgresql+psycopg://renkei:x@127.0.0.1:{_closed_port()}/renkei", tmp_path)
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert time.monotonic() - started < 5
    app.extensions["renkei.engine"].dispose()
