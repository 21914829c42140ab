"""Drill: take a backup while people keep writing, restore it into a fresh database, and check
that the restore is the database as it stood at the backup's moment.

The demo town is served by gunicorn; members keep posting their replies (each with a comment
of its own) from threads. Meanwhile the audit log's anchor is taken (`audit-anchor`), then
the backup: SQLite through the `backup` command, PostgreSQL through the pg_dump line that
command prints and the README documents. The writes go on after it, then the app is stopped
and the backup restored exactly as the README's operator section says (its shell lines are
read from README.md and run, with this drill's paths put in for the example ones). Checked:

- row counts and a checksum per table (every column of every row, in key order) equal those
  of the source at the backup's moment. That moment: on SQLite, the backup is one read
  transaction's copy, so the figures are read from the backup file itself as the command
  left it; on PostgreSQL, the drill opens a REPEATABLE READ transaction, exports its snapshot
  (pg_export_snapshot), reads the figures in it, and runs the documented pg_dump line with
  --snapshot=<that snapshot> added, so pg_dump dumps exactly what the figures were read from;
- every reply acknowledged before the backup began is in it, and none sent after it ended;
- the audit chain verifies against the anchor taken before (`audit-verify --anchor`);
- `migrate` on the restored database changes nothing, the app starts on it and a member's
  feed answers 200 with the same events as before.

    .venv/bin/python drills/drill_backup_restore.py [--short] [--record]
        [--database sqlite|postgres|both]
"""

import contextlib
import hashlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import results  # drills/results.py: puts the repository root on sys.path

from bench import load_test as lt

TITLE = "Backup and restore while writes continue (drills/drill_backup_restore.py)"
README = lt.REPO / "README.md"
MEMBERS = ("member.both@example.jp", "member.kyogitai@example.jp", "chair.kyogitai@example.jp")
FEED_OF = "member.both@example.jp"
# The README's example names, replaced by this drill's own.
EXAMPLE_SQLITE = "/var/backups/renkei/renkei-20250401-020000.sqlite3"
EXAMPLE_DUMP = "/var/backups/renkei/renkei-20250401-020000.dump"
EXAMPLE_SERVER = "@127.0.0.1/"
EXAMPLE_PASSWORD = "renkei:secret@"
RESTORED_DB = "renkei_restored"


# --- The README's steps -------------------------------------------------------------------


def readme_block(after: str) -> list[str]:
    """The lines of the first ```sh block after the sentence starting ``after``."""
    text = README.read_text()
    start = text.index(after)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    if block is None:
        raise RuntimeError(f"no shell block after {after!r} in README.md")
    return [line for line in block.group(1).splitlines() if line.strip()]


def run_lines(lines: list[str], *, cwd: Path, env: dict, prefix: list[str] | None = None):
    """Run the lines as one shell script, as an operator pasting them would (a `cd` holds
    for the lines after it); the status of the last line and everything printed."""
    script = "\n".join(lines)
    command = [*(prefix or []), "sh", "-c", script]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    return done.returncode, f"$ {script}\n{done.stdout}{done.stderr}".rstrip()


# --- Figures of a database ----------------------------------------------------------------


def figures(connection) -> dict[str, tuple[int, str]]:
    """Rows and a SHA-256 of every row (all columns, in primary-key order) per table."""
    from sqlalchemy import inspect, text

    inspector = inspect(connection)
    result = {}
    for table in sorted(inspector.get_table_names()):
        key = inspector.get_pk_constraint(table)["constrained_columns"] or [
            column["name"] for column in inspector.get_columns(table)
        ]
        order = ", ".join(f'"{name}"' for name in key)
        digest, rows = hashlib.sha256(), 0
        for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}')):
            digest.update(repr(tuple(row)).encode())
            rows += 1
        result[table] = (rows, digest.hexdigest()[:16])
    return result


def figures_of(url: str) -> dict[str, tuple[int, str]]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return figures(connection)
    finally:
        engine.dispose()


def compare(report, source: dict, restored: dict) -> None:
    rows = sum(count for count, _digest in source.values())
    differ = [
        f"{table}: {source.get(table)} -> {restored.get(table)}"
        for table in sorted(set(source) | set(restored))
        if source.get(table) != restored.get(table)
    ]
    report.check(
        not differ,
        f"{len(source)} tables, {rows:,} rows: counts and checksums equal the backup's moment"
        + (f"; differ: {differ[:5]}" if differ else ""),
    )


# --- The writers --------------------------------------------------------------------------


@dataclass
class Write:
    person: str
    session_id: int
    comment: str
    sent: float
    acked: float | None = None


@dataclass
class Writers:
    port: int
    sessions: list[int]
    stop: threading.Event = field(default_factory=threading.Event)
    writes: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for index, email in enumerate(MEMBERS):
            thread = threading.Thread(target=self._loop, args=(index, email), daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def _loop(self, index: int, email: str) -> None:
        stats = lt.Stats()
        browser = lt.Browser(self.port, stats)
        try:
            browser.login(email)
            mine = list(self.sessions)
            while not self.stop.is_set() and mine:
                for session_id in list(mine):
                    if self.stop.is_set():
                        return
                    if not self._reply(browser, email, session_id, index):
                        mine.remove(session_id)  # not invited: never one of theirs
                    time.sleep(0.05)
        except lt.Unexpected:
            with self.lock:
                self.errors.extend(stats.errors or [f"{email}: stopped"])

    def _reply(self, browser: lt.Browser, email: str, session_id: int, index: int) -> bool:
        path = f"/sessions/{session_id}"
        response, page = browser.request("session", "GET", path, expect={200, 403, 404})
        if response.status != 200 or f"{path}/reply".encode() not in page:
            return False
        write = Write(email, session_id, f"訓練 {index} {uuid.uuid4().hex[:10]}", time.monotonic())
        form = {
            "csrf_token": lt.csrf_of(page),
            "answer": "attend",
            "proxy_name": "",
            "comment": write.comment,
        }
        with self.lock:
            self.writes.append(write)
        browser.request("reply", "POST", f"{path}/reply", form=form, expect={302})
        write.acked = time.monotonic()
        return True


def check_moment(report, writers: Writers, stored: dict, began: float, ended: float) -> None:
    """Each reply in the backup is the last one acknowledged before it began, or one that was
    on its way while it ran; a pair acknowledged before it began is in it."""
    wrong, pairs = [], 0
    by_pair: dict[tuple[str, int], list[Write]] = {}
    for write in writers.writes:
        by_pair.setdefault((write.person, write.session_id), []).append(write)
    for pair, writes in by_pair.items():
        before = [w for w in writes if w.acked is not None and w.acked < began]
        during = {w.comment for w in writes if w.sent < ended and (w.acked or ended) >= began}
        allowed = ({before[-1].comment} if before else set()) | during
        found = stored.get(pair)
        if before or found is not None:
            pairs += 1
            if found not in allowed and not (found is None and not before):
                wrong.append(f"{pair}: backup holds {found!r}, allowed {sorted(allowed)}")
    acked_before = sum(1 for w in writers.writes if w.acked is not None and w.acked < began)
    after = sum(1 for w in writers.writes if w.sent >= ended)
    report.check(
        not wrong,
        f"replies: {acked_before} acknowledged before the backup, {after} sent after it; "
        f"{pairs} member/session pairs as at the backup's moment"
        + (f": {wrong[:3]}" if wrong else ""),
    )


def replies_in(connection) -> dict[tuple[str, int], str]:
    from sqlalchemy import text

    rows = connection.execute(
        text(
            "SELECT people.email, replies.session_id, replies.comment FROM replies "
            "JOIN people ON people.id = replies.person_id"
        )
    )
    return {(email, session_id): comment for email, session_id, comment in rows}


# --- One database -------------------------------------------------------------------------


class Site:
    """An installation: a folder with instance/ (the SQLite database's home) and .venv (as
    the README's commands expect), the keys in the environment."""

    def __init__(self, root: Path, url: str | None) -> None:
        self.root = root
        (root / "instance").mkdir(parents=True)
        (root / ".venv").symlink_to(Path(sys.executable).parent.parent)
        self.url = url or f"sqlite:///{root / 'instance' / 'renkei.sqlite3'}"
        self.audit_key = secrets.token_hex(32)
        self.env = dict(
            os.environ,
            DATABASE_URL=self.url,
            AUDIT_KEY=self.audit_key,
            SECRET_KEY=secrets.token_hex(32),
            PYTHONPATH=str(lt.REPO),  # this checkout's renkei, wherever the command runs
        )

    def flask(self, *args: str, url: str | None = None) -> subprocess.CompletedProcess:
        env = dict(self.env, DATABASE_URL=url or self.url)
        return subprocess.run(
            [str(self.root / ".venv" / "bin" / "flask"), "--app", "renkei", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
        )

    def build(self) -> None:
        from renkei import create_app, migrate
        from renkei.services import demo

        migrate.upgrade(self.url)
        setup = self.root / "setup"
        app = create_app({"DATABASE_URL": self.url, "AUDIT_KEY": self.audit_key}, str(setup))
        with app.app_context():
            db = app.extensions["renkei.sessionmaker"]()
            demo.load(db, sessions=True)
            db.commit()
            db.close()
        app.extensions["renkei.engine"].dispose()

    def serve(self, url: str, name: str) -> lt.Server:
        folder = self.root / name
        folder.mkdir()
        server = lt.Server(url, 2, folder, self.audit_key)
        server.wait_healthy()
        return server


def upcoming_sessions(url: str) -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT id FROM sessions WHERE status = 'convened' "
                        "AND start_at > CURRENT_TIMESTAMP ORDER BY id"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()


def feed_events(server: lt.Server, url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            token = connection.execute(
                text("SELECT feed_token FROM people WHERE email = :e"), {"e": FEED_OF}
            ).scalar()
    finally:
        engine.dispose()
    status, body, _headers = lt_get(server.port, f"/calendar/{token}.ics")
    return body.count(b"BEGIN:VEVENT") if status == 200 else -status


def lt_get(port: int, path: str):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"User-Agent": "renkei-drill"})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def drill(report: results.Report, database: str, short: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"renkei-drill-restore-{database}-"))
    postgres = lt.Postgres() if database == "postgres" else None
    server = restored_server = writers = None
    try:
        url = postgres.start() if postgres else None
        site = Site(root / "site", url)
        started = time.perf_counter()
        site.build()
        report.say(f"  {database}: demo town built in {time.perf_counter() - started:.1f} s")
        server = site.serve(site.url, "server")
        sessions = upcoming_sessions(site.url)
        events_before = feed_events(server, site.url)
        writers = Writers(server.port, sessions)
        writers.start()
        warm = 2 if short else 10
        time.sleep(warm)

        anchor = site.flask("audit-anchor")
        report.check(anchor.returncode == 0, f"{database}: audit-anchor: {anchor.stdout.strip()}")
        time.sleep(1 if short else 5)

        backups = root / "backups"
        backups.mkdir()
        if postgres is None:
            source, stored, began, ended, backup_path = sqlite_backup(report, site, backups)
        else:
            source, stored, began, ended, backup_path = pg_backup(report, site, backups, postgres)
        time.sleep(1 if short else 5)  # writes go on after the backup: none may be in it
        writers.finish()
        server.stop()
        server = None
        report.check(
            not writers.errors, f"{database}: the writers saw no error {writers.errors[:3]}"
        )
        during = sum(1 for w in writers.writes if w.sent < ended and (w.acked or ended) >= began)
        report.say(
            f"  {database}: {len(writers.writes)} replies posted in all, {during} of them while "
            f"the backup was taken ({ended - began:.2f} s, the command's start-up included)"
        )
        check_moment(report, writers, stored, began, ended)

        if postgres is None:
            restored_url = sqlite_restore(report, site, backup_path)
        else:
            restored_url = pg_restore(report, site, backup_path, postgres)
        compare(report, source, figures_of(restored_url))

        anchor_line = anchor.stdout.strip()
        verified = site.flask("audit-verify", "--anchor", anchor_line, url=restored_url)
        report.check(
            verified.returncode == 0,
            f"{database}: audit-verify against the anchor: "
            f"{(verified.stdout + verified.stderr).strip()}",
        )
        restored_server = site.serve(restored_url, "restored")
        events = feed_events(restored_server, restored_url)
        report.check(
            events == events_before > 0,
            f"{database}: the app starts on the restored database; {FEED_OF}'s feed answers "
            f"with {events} events (before the backup: {events_before})",
        )
        report.say(f"  {database}: drill took {time.perf_counter() - started:.1f} s")
    finally:
        if writers is not None:
            writers.finish()
        for running in (server, restored_server):
            if running is not None:
                running.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def sqlite_backup(report, site: Site, backups: Path):
    """The `backup` command; the figures read from the file it wrote (its one moment)."""
    began = time.monotonic()
    done = site.flask("backup", f"{backups}/")
    ended = time.monotonic()
    written = re.search(r"backup written: (\S+)", done.stdout)
    report.check(
        done.returncode == 0 and written is not None,
        f"sqlite: backup command: {(done.stdout + done.stderr).strip()}",
    )
    path = Path(written.group(1))
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            source, stored = figures(connection), replies_in(connection)
    finally:
        engine.dispose()
    return source, stored, began, ended, path


def sqlite_restore(report, site: Site, backup: Path) -> str:
    """The README's restore steps, run in the installation's folder."""
    lines = [
        line.replace(EXAMPLE_SQLITE, shlex.quote(str(backup)))
        for line in readme_block("To restore a SQLite backup")
    ]
    status, output = run_lines(lines, cwd=site.root, env=site.env)
    report.check(
        status == 0 and "database is up to date" in output,
        f"sqlite: the README's restore steps ran ({len(lines)} lines)"
        + ("" if status == 0 else f":\n{output}"),
    )
    return site.url


def pg_backup(report, site: Site, backups: Path, postgres: lt.Postgres):
    """The documented pg_dump line, given the snapshot whose figures were read."""
    from sqlalchemy import create_engine, text

    from renkei.services import backup

    commands = backup.postgresql_commands(site.url, backups / "renkei.dump")
    engine = create_engine(site.url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as held:
            began = time.monotonic()
            snapshot = held.execute(text("SELECT pg_export_snapshot()")).scalar()
            source, stored = figures(held), replies_in(held)
            line = commands.dump.replace("pg_dump ", f"pg_dump --snapshot={snapshot} ", 1)
            env = dict(site.env, PGPASSWORD=postgres.password)
            done = subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True)
            ended = time.monotonic()
            held.rollback()
    finally:
        engine.dispose()
    report.check(
        done.returncode == 0 and commands.path.is_file(),
        f"postgres: the documented pg_dump line (with --snapshot) wrote "
        f"{commands.path.stat().st_size if commands.path.is_file() else 0:,} bytes "
        f"{done.stderr.strip()}",
    )
    return source, stored, began, ended, commands.path


def pg_restore(report, site: Site, dump: Path, postgres: lt.Postgres) -> str:
    """The README's steps for a new, empty database: createdb (as the cluster's superuser),
    pg_restore, migrate."""
    server = f"@127.0.0.1:{postgres.port}/"
    restored_url = site.url.rsplit("/", 1)[0] + f"/{RESTORED_DB}"
    lines = [
        line.replace(EXAMPLE_DUMP, shlex.quote(str(dump)))
        .replace(EXAMPLE_PASSWORD, f"renkei:{postgres.password}@")
        .replace(EXAMPLE_SERVER, server)
        for line in readme_block("To restore into a new, empty database")
    ]
    superuser = [line for line in lines if line.startswith("createdb")]
    others = [line for line in lines if not line.startswith("createdb")]
    env = dict(
        site.env,
        PGHOST=str(postgres.socket_dir),
        PGPORT=str(postgres.port),
        PGPASSWORD=postgres.password,
    )
    status, output = run_lines(superuser, cwd=site.root, env=env, prefix=postgres.prefix)
    if status == 0:
        env.pop("PGHOST")
        status, more = run_lines(others, cwd=site.root, env=env)
        output += "\n" + more
    report.check(
        status == 0 and "database is up to date" in output,
        f"postgres: the README's restore steps ran ({len(lines)} lines)"
        + ("" if status == 0 else f":\n{output}"),
    )
    return restored_url


def main() -> int:
    args = results.arguments(__doc__.split("\n")[0], databases=("sqlite", "postgres"))
    return results.run_each(TITLE, args, drill)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
