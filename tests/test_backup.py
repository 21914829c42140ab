"""`flask --app renkei backup DEST` (renkei/services/backup.py): a consistent copy of the
SQLite database taken while the app runs, restored by copying it back; on PostgreSQL the
pg_dump and pg_restore commands instead, with status 2.

Every test here runs on a SQLite file of its own, even when RENKEI_TEST_DATABASE_URL points
the other tests at PostgreSQL.
"""

import re
import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from renkei import create_app, migrate
from renkei.db import make_engine
from renkei.models import Body
from renkei.services import audit_chain, backup
from renkei.services.dates import now_tokyo
from tests.conftest import CsrfClient, login
from tests.helpers import body_named
from tests.sessions_helpers import LAYER1

WRITTEN = re.compile(r"backup written: (?P<path>\S+) \((?P<size>[\d,]+) bytes\)")
DATED = re.compile(r"renkei-(\d{8}-\d{6})\.sqlite3")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backup-template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated, tmp_path) -> str:
    """Overrides conftest's: a freshly migrated SQLite database for this test alone."""
    return f"sqlite:///{_fresh_database(migrated, tmp_path / 'live' / 'renkei.sqlite3')}"


def _fresh_database(migrated: Path, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(migrated) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return path


def database_path(app) -> Path:
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def run_backup(app, *args):
    return app.test_cli_runner().invoke(args=["backup", *map(str, args)])


def written(result) -> Path:
    assert result.exit_code == 0, result.output
    match = WRITTEN.search(result.output)
    assert match, result.output
    path = Path(match["path"])
    assert int(match["size"].replace(",", "")) == path.stat().st_size > 0
    return path


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary files a backup left behind."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- A consistent copy while the app writes ------------------------------------------------


LEDGER = """
CREATE TABLE ledger_batch (id INTEGER PRIMARY KEY, rows INTEGER NOT NULL);
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES ledger_batch (id),
    amount INTEGER NOT NULL
);
"""


def _write_batch(connection, batch_id: int, rows: int = 50, pause=None) -> None:
    """One transaction's worth: ``rows`` ledger rows that sum to zero, and the batch row
    that says how many there are. A copy that cut a transaction breaks one or the other."""
    connection.execute(
        text("INSERT INTO ledger_batch (id, rows) VALUES (:id, :rows)"),
        {"id": batch_id, "rows": rows},
    )
    amounts = [*range(1, rows), -sum(range(1, rows))]
    for n, amount in enumerate(amounts):
        if pause and n == rows // 2:
            pause()
        connection.execute(
            text("INSERT INTO ledger (batch_id, amount) VALUES (:batch, :amount)"),
            {"batch": batch_id, "amount": amount},
        )


def _check_ledger(path: Path) -> list[int]:
    """The copy holds whole transactions only; returns the batches it holds."""
    with sqlite3.connect(path) as copy:
        batches = dict(copy.execute("SELECT id, rows FROM ledger_batch").fetchall())
        counts = dict(copy.execute("SELECT batch_id, count(*) FROM ledger GROUP BY batch_id"))
        sums = dict(copy.execute("SELECT batch_id, sum(amount) FROM ledger GROUP BY batch_id"))
    assert counts == batches, f"{path.name}: a transaction was cut"
    assert set(sums.values()) <= {0}, f"{path.name}: a transaction was cut"
    return sorted(batches)


def test_backup_while_another_connection_writes_is_consistent(app, tmp_path):
    source = database_path(app)
    engine = make_engine(app.config["DATABASE_URL"])  # WAL, as the app opens it
    try:
        with engine.begin() as connection:
            for statement in LEDGER.split(";"):
                if statement.strip():
                    connection.exec_driver_sql(statement)
            _write_batch(connection, 1)
        assert Path(f"{source}-wal").stat().st_size > 0  # batch 1 is in the WAL

        # A writer in the middle of a transaction while the backup runs.
        with engine.connect() as writer:
            writer.begin()
            _write_batch(writer, 2)
            copy = written(run_backup(app, tmp_path / "during.sqlite3"))
            writer.commit()
        assert _check_ledger(copy) == [1]  # committed: in; still open: not
        assert integrity(copy) == "ok"
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert not Path(f"{copy}-wal").exists()  # one self-contained file

        # Backups taken again and again while a thread keeps writing transactions that
        # pause half-way.
        stop, errors, committed = threading.Event(), [], []

        def keep_writing():
            batch = 3
            try:
                while not stop.is_set():
                    with engine.begin() as connection:
                        _write_batch(connection, batch, pause=lambda: stop.wait(0.002))
                    committed.append(batch)
                    batch += 1
            except Exception as error:  # reported by the main thread
                errors.append(error)

        thread = threading.Thread(target=keep_writing)
        thread.start()
        copies = []
        try:
            for n in range(6):
                # Two more commits counted once the last backup is done: at most one of them
                # can have committed before it ended, so each copy holds more than the last.
                target = len(committed) + 2
                while len(committed) < target:
                    assert thread.is_alive(), errors
                    stop.wait(0.005)
                copies.append(written(run_backup(app, tmp_path / f"busy-{n}.sqlite3")))
        finally:
            stop.set()
            thread.join()
        assert not errors, errors
        seen = [_check_ledger(copy) for copy in copies]
        assert all(integrity(copy) == "ok" for copy in copies)
        assert all(len(a) < len(b) for a, b in zip(seen, seen[1:], strict=False))
        assert _check_ledger(source) == [1, 2, *committed]
        assert not leftovers(tmp_path)
    finally:
        engine.dispose()


# --- Restore ----------------------------------------------------------------------------------


def _bodies_page(app_under_test) -> str:
    client = app_under_test.test_client()
    login(client, "secretary@example.jp")
    response = client.get("/bodies/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("where", ["fresh file", "over the stopped app's file"])
def test_restore_brings_back_the_backed_up_state(where, app, as_admin, world, migrated, tmp_path):
    before = "バックアップ前に作った会議"
    response = as_admin.post("/bodies/new", data={"name": before, "kind": "other"})
    assert response.status_code == 302
    folder = tmp_path / "backups"
    folder.mkdir()
    saved = written(run_backup(app, folder))
    assert saved.parent == folder and DATED.fullmatch(saved.name)
    assert integrity(saved) == "ok"

    # After the backup: a body renamed and another added through the app, one deleted.
    layer1 = body_named(world, LAYER1)
    response = as_admin.post(
        f"/bodies/{layer1.id}/edit", data={"name": "改名した協議体", "kind": "consultative_body"}
    )
    assert response.status_code == 302
    after = "バックアップ後に作った会議"
    assert as_admin.post("/bodies/new", data={"name": after, "kind": "other"}).status_code == 302
    world.execute(delete(Body).where(Body.name == before))
    world.commit()
    page = _bodies_page(app)
    assert before not in page and after in page and "改名した協議体" in page

    # Restore.
    if where == "fresh file":
        target = _fresh_database(migrated, tmp_path / "restored" / "renkei.sqlite3")
    else:  # the README's way: stop the app, drop its -wal/-shm files, copy over its file
        target = database_path(app)
        world.close()
        app.extensions["renkei.engine"].dispose()
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)
    shutil.copyfile(saved, target)
    url = f"sqlite:///{target}"
    migrate.upgrade(url)  # what an upgrade after a restore does: nothing to do here
    # On another server the audit key comes back from its own backup (the README says so).
    restored = _restored_app(url, tmp_path, AUDIT_KEY=app.config["AUDIT_KEY"])
    try:
        page = _bodies_page(restored)
        assert before in page and LAYER1 in page
        assert after not in page and "改名した協議体" not in page
        runner = restored.test_cli_runner()
        assert runner.invoke(args=["audit-verify"]).exit_code == 0
    finally:
        restored.extensions["renkei.engine"].dispose()
    assert integrity(target) == "ok"


def _restored_app(url: str, tmp_path: Path, **config):
    restored = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "another-secret", **config},
        instance_path=str(tmp_path / "restored-instance"),
    )
    restored.test_client_class = CsrfClient
    return restored


def test_a_restore_without_the_audit_key_logs_nobody_in(app, as_admin, migrated, tmp_path):
    """The audit log of the backup is sealed with the old key: a server that made itself a
    new one refuses to write to the log (so nobody logs in) rather than mix two keys."""
    saved = written(run_backup(app, tmp_path / "saved.sqlite3"))
    target = _fresh_database(migrated, tmp_path / "restored" / "renkei.sqlite3")
    shutil.copyfile(saved, target)
    restored = _restored_app(f"sqlite:///{target}", tmp_path)
    try:
        with pytest.raises(audit_chain.AuditKeyError, match="bring back the key"):
            login(restored.test_client(), "secretary@example.jp")
        result = restored.test_cli_runner().invoke(args=["audit-verify"])
        assert result.exit_code == 1
        assert "not the one this audit log is sealed with" in result.output
    finally:
        restored.extensions["renkei.engine"].dispose()


# --- Refusals, names, PostgreSQL ----------------------------------------------------------


def test_backup_does_not_overwrite_without_force(app, world, tmp_path):
    target = tmp_path / "renkei.sqlite3"
    first = written(run_backup(app, target))
    content = first.read_bytes()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600  # confidential content: owner only
    world.execute(
        text(
            "UPDATE bodies SET name = '後から改名した会議' WHERE id = (SELECT min(id) FROM bodies)"
        )
    )
    world.commit()

    refused = run_backup(app, target)
    assert refused.exit_code == 1
    assert f"{target} exists; give --force to overwrite it" in refused.output
    assert "backup written" not in refused.output
    assert target.read_bytes() == content
    assert not leftovers(tmp_path)

    replaced = written(run_backup(app, target, "--force"))
    assert replaced == target and target.read_bytes() != content
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT name FROM bodies ORDER BY id LIMIT 1").fetchone() == (
            "後から改名した会議",
        )
    assert integrity(target) == "ok" and not leftovers(tmp_path)


def test_backup_into_a_folder_is_named_by_tokyo_time(app, world, tmp_path):
    started = now_tokyo().replace(microsecond=0)
    saved = written(run_backup(app, tmp_path))
    stamp = datetime.strptime(DATED.fullmatch(saved.name)[1], "%Y%m%d-%H%M%S")
    assert (
        started.replace(tzinfo=None)
        <= stamp
        <= started.replace(tzinfo=None) + timedelta(seconds=30)
    )
    # 15:00 UTC on 31 March is already 1 April in Tokyo.
    assert backup.backup_name(datetime(2025, 3, 31, 15, 0, 5, tzinfo=UTC)) == (
        "renkei-20250401-000005.sqlite3"
    )


def test_backup_refuses_what_it_cannot_copy(app, tmp_path):
    assert "folder not found" in run_backup(app, tmp_path / "missing" / "x.sqlite3").output
    itself = run_backup(app, database_path(app))
    assert itself.exit_code == 1 and "database itself" in itself.output
    gone = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'nowhere.sqlite3'}", "SECRET_KEY": "x"},
        instance_path=str(tmp_path / "instance-gone"),
    )
    result = run_backup(gone, tmp_path / "copy.sqlite3")
    assert result.exit_code == 1 and "database file not found" in result.output
    assert not (tmp_path / "nowhere.sqlite3").exists()  # not created empty by the attempt
    assert not (tmp_path / "copy.sqlite3").exists() and not leftovers(tmp_path)


POSTGRES_URL = "postgresql+psycopg://renkei:s3cret-pw@db.example.jp:5433/renkei"


def test_postgresql_prints_pg_dump_and_exits_2(tmp_path):
    """No server needed: the command never connects."""
    app = create_app(
        {"DATABASE_URL": POSTGRES_URL, "TESTING": True, "SECRET_KEY": "x"},
        instance_path=str(tmp_path / "instance"),
    )
    target = tmp_path / "renkei.dump"
    result = run_backup(app, target)
    assert result.exit_code == 2
    url = "postgresql://renkei@db.example.jp:5433/renkei"
    lines = [line.strip() for line in result.output.splitlines()]
    partial = f"{target}.partial"
    assert (
        f"pg_dump --format=custom --file={partial} {url} && mv {partial} {target} "
        f"|| {{ rm -f {partial}; false; }}"
    ) in lines
    assert f"pg_restore --clean --if-exists --no-owner --dbname={url} {target}" in lines
    assert "s3cret-pw" not in result.output and "backup written" not in result.output
    assert not target.exists()

    into_folder = run_backup(app, tmp_path)
    assert into_folder.exit_code == 2
    assert re.search(
        rf"pg_dump --format=custom --file=(?P<file>{tmp_path}/renkei-\d{{8}}-\d{{6}}\.dump)"
        rf"\.partial {url} && mv (?P=file)\.partial (?P=file) ",
        into_folder.output,
    )


def test_pg_commands_quote_the_url_and_leave_out_every_password():
    commands = backup.postgresql_commands(
        "postgresql+psycopg://ren kei:pw@db/renkei?sslmode=require&password=pw2",
        "/backups/renkei.dump",
    )
    assert commands.dump == (
        "pg_dump --format=custom --file=/backups/renkei.dump.partial "
        "'postgresql://ren%20kei@db/renkei?sslmode=require' "
        "&& mv /backups/renkei.dump.partial /backups/renkei.dump "
        "|| { rm -f /backups/renkei.dump.partial; false; }"
    )
    assert "pw" not in commands.restore.replace("pg_restore", "")
