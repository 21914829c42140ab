"""A full disk (issue 24's drill, drills/drill_disk_full.py, on a real small mount): uploads,
backups, stored feeds, the mail outbox and the key files fail with a clear Japanese error,
leave nothing half-written, and the app goes on serving pages. Here the full disk is a write
at the storage boundary that raises ENOSPC (or the database's "disk is full")."""

import errno
import os
import sqlite3
import subprocess
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy import event, select

from renkei import create_app
from renkei.models import AuditEntry, FeedCopy, FeedFragment, Material, MaterialVersion
from renkei.models.mail import MailMessage, MailStatus
from renkei.services import audit_chain, backup, mail, material_store
from tests.blueprints.test_calendar import feed_url
from tests.helpers import count
from tests.materials_helpers import PDF
from tests.materials_helpers import upload_by_form as upload
from tests.sessions_helpers import LAYER1, make_session

FULL = "サーバーのディスクに空きがないため保存できませんでした。管理者に連絡してください。"


def enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def full_database(app):
    """``full_database(table)``: from now on the database refuses every INSERT into
    ``table`` as a full disk does (the driver's own error, as SQLite and PostgreSQL raise it)."""
    engine = app.extensions["renkei.engine"]
    tables: set[str] = set()

    def refuse(_conn, _cursor, statement, *_args):
        if any(statement.startswith(f"INSERT INTO {table} ") for table in tables):
            if engine.dialect.name == "postgresql":
                raise psycopg.errors.DiskFull("could not extend file: No space left on device")
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", refuse)
    yield tables.add
    event.remove(engine, "before_cursor_execute", refuse)


# --- Uploads ------------------------------------------------------------------------------


def test_an_upload_on_a_full_disk_says_so_and_keeps_nothing(app, as_secretary, world, monkeypatch):
    session = make_session(world, LAYER1)
    materials_dir = Path(app.config["MATERIALS_DIR"])
    entries = count(world, AuditEntry)
    # The file is written to its temporary name, then the disk refuses to make it durable.
    monkeypatch.setattr(material_store.os, "fsync", enospc)

    response = upload(as_secretary, session, PDF, "資料.pdf")

    assert response.status_code == 400
    assert FULL in response.get_data(as_text=True)
    world.expire_all()
    assert count(world, Material) == count(world, MaterialVersion) == 0
    assert count(world, AuditEntry) == entries
    assert files_under(materials_dir) == []  # no temporary file either
    assert as_secretary.get(f"/sessions/{session.id}").status_code == 200

    monkeypatch.undo()  # space again: the same upload goes through
    assert upload(as_secretary, session, PDF, "資料.pdf").status_code == 302
    assert len(files_under(materials_dir)) == 1


# --- A write the database refuses ---------------------------------------------------------


def test_a_page_whose_writes_the_database_refuses_says_the_disk_is_full(
    app, client, world, full_database
):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the error page, as in production
    full_database("audit_entries")  # a login is logged: its flush fails

    response = client.post(
        "/login", data={"email": "secretary@example.jp", "password": "renkei-demo"}
    )

    assert response.status_code == 503
    assert FULL in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200


def test_a_commit_the_disk_refuses_answers_503_and_the_next_request_is_served(
    app, as_secretary, world
):
    """The commit itself fails (SQLite's write-ahead log cannot grow): the error page is
    drawn for the logged-in person from a session rolled back, not from the failed one."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    session = make_session(world, LAYER1)
    engine = app.extensions["renkei.engine"]

    inserted = []

    def note(_conn, _cursor, statement, *_args):
        inserted.append(statement.startswith("INSERT INTO materials "))

    def refuse(_conn):  # the commit of the upload, not of the form's page before it
        if any(inserted):
            if engine.dialect.name == "postgresql":
                raise psycopg.errors.DiskFull("could not write to file: No space left on device")
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", refuse)
    try:
        response = upload(as_secretary, session, PDF, "資料.pdf")
    finally:
        event.remove(engine, "commit", refuse)
        event.remove(engine, "before_cursor_execute", note)

    assert response.status_code == 503
    assert FULL in response.get_data(as_text=True)
    world.expire_all()
    assert count(world, Material) == 0
    assert as_secretary.get(f"/sessions/{session.id}").status_code == 200


# --- Stored feeds -------------------------------------------------------------------------


def test_a_feed_whose_copy_cannot_be_stored_still_answers(app, client, world, full_database):
    make_session(world, LAYER1, title="全体会議")
    full_database("feed_copies")

    response = client.get(feed_url(world))

    assert response.status_code == 200
    assert "全体会議" in response.get_data(as_text=True)  # sent unpacked: no Accept-Encoding
    world.expire_all()
    assert world.scalars(select(FeedCopy)).all() == []


def test_a_feed_whose_event_texts_cannot_be_stored_still_answers(app, client, world, full_database):
    make_session(world, LAYER1, title="全体会議")
    full_database("feed_fragments")

    response = client.get(feed_url(world))

    assert response.status_code == 200
    assert "全体会議" in response.get_data(as_text=True)
    world.expire_all()
    assert world.scalars(select(FeedFragment)).all() == []
    assert len(world.scalars(select(FeedCopy)).all()) == 1  # the feed itself is kept


def test_a_feed_copy_refused_for_another_reason_is_still_an_error(app, client, world):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    engine = app.extensions["renkei.engine"]

    def refuse(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO feed_copies "):
            if engine.dialect.name == "postgresql":
                raise psycopg.errors.LockNotAvailable("could not obtain lock")
            raise sqlite3.OperationalError("database is locked")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        response = client.get(feed_url(world))
        # The database's own refusal: its 503 page, not the full disk's.
        assert response.status_code == 503
        assert "データベースが応答していません" in response.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


# --- Backups ------------------------------------------------------------------------------


def _half_then(error):
    def copy(_source, target):
        target.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4096)  # a first page, no more
        raise error

    return copy


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
        sqlite3.OperationalError("database or disk is full"),
    ],
    ids=["ENOSPC", "EDQUOT", "SQLITE_FULL"],
)
def test_a_backup_on_a_full_disk_exits_1_in_japanese_and_leaves_nothing(
    tmp_path, monkeypatch, error
):
    url = f"sqlite:///{tmp_path / 'renkei.sqlite3'}"
    sqlite3.connect(tmp_path / "renkei.sqlite3").close()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"}, instance_path=str(tmp_path / "i"))
    folder = tmp_path / "backups"
    folder.mkdir()
    monkeypatch.setattr(backup, "_copy", _half_then(error))

    result = app.test_cli_runner().invoke(args=["backup", str(folder)])

    assert result.exit_code == 1
    assert "のディスクに空きがないため、バックアップを書き込めませんでした" in result.output
    assert str(folder) in result.output
    assert list(folder.iterdir()) == []


def test_a_backup_failing_otherwise_is_not_called_a_full_disk(tmp_path, monkeypatch):
    sqlite3.connect(tmp_path / "renkei.sqlite3").close()
    monkeypatch.setattr(backup, "_copy", _half_then(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        backup.backup_sqlite(f"sqlite:///{tmp_path / 'renkei.sqlite3'}", tmp_path / "b.sqlite3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["renkei.sqlite3"]


# --- The mail outbox and the key files ----------------------------------------------------


def test_a_message_the_outbox_cannot_hold_fails_and_leaves_no_partial_file(app, world, monkeypatch):
    settings = mail.MailSettings.from_config(app.config, app.instance_path)
    message = audit_chain.anchor_message(
        "it@example.jp", anchor=None, problem="test", sender=settings.sender
    )
    world.add(message)
    world.commit()
    real = Path.write_bytes

    def half(path, data):
        real(path, data[: len(data) // 2])
        enospc()

    monkeypatch.setattr(Path, "write_bytes", half)
    with app.app_context():
        result = mail.deliver(world, settings)
    monkeypatch.undo()

    assert result.failed == 1
    world.refresh(message)
    assert message.status == MailStatus.FAILED  # send-mail tries it again
    assert files_under(settings.outbox) == []
    with app.app_context():
        assert mail.deliver(world, settings, now=True).sent == 1
    assert [p.suffix for p in settings.outbox.iterdir()] == [".eml"]
    assert world.get(MailMessage, message.id).status == MailStatus.SENT


def test_a_key_that_cannot_be_written_leaves_no_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("AUDIT_KEY", "a" * 64)
    instance = tmp_path / "instance"
    monkeypatch.setattr("renkei.config.os.fsync", enospc)

    with pytest.raises(OSError) as raised:
        create_app({"DATABASE_URL": "sqlite://"}, instance_path=str(instance))

    assert raised.value.errno == errno.ENOSPC
    assert files_under(instance) == []  # neither an empty secret_key nor a temporary file
    monkeypatch.undo()
    monkeypatch.setenv("AUDIT_KEY", "a" * 64)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (instance / "secret_key").write_text("")  # as the earlier version left it
    app = create_app({"DATABASE_URL": "sqlite://"}, instance_path=str(instance))
    assert len(app.config["SECRET_KEY"]) == 64
    assert (instance / "secret_key").read_text() == app.config["SECRET_KEY"]


@pytest.mark.parametrize("written", [True, False], ids=["complete", "disk-full"])
def test_the_printed_pg_dump_line_leaves_a_dump_only_when_complete(tmp_path, written):
    """pg_dump writes its file as it goes: the line `backup` prints renames it into place only
    when pg_dump succeeded, and removes what a failed one wrote (a fake pg_dump here)."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "pg_dump"
    # Writes part of a dump to --file, then succeeds or fails as pg_dump does on ENOSPC.
    fake.write_text(
        "#!/bin/sh\nfor a; do case $a in --file=*) f=${a#--file=};; esac; done\n"
        f'printf PGDMP > "$f"\nexit {0 if written else 1}\n'
    )
    fake.chmod(0o755)
    folder = tmp_path / "backups"
    folder.mkdir()
    commands = backup.postgresql_commands("postgresql+psycopg://r@db/renkei", folder / "r.dump")
    env = {**os.environ, "PATH": f"{bin_folder}:{os.environ['PATH']}"}

    done = subprocess.run(["sh", "-c", commands.dump], env=env, check=False)

    assert (done.returncode == 0) is written
    assert sorted(p.name for p in folder.iterdir()) == (["r.dump"] if written else [])
