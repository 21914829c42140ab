"""Drill: the server's time zone changes nothing; times stay Asia/Tokyo.

The demo town is built once; for each time zone the server process runs under (TZ=Asia/Tokyo,
UTC, America/New_York; the full version adds Etc/GMT+12 and Pacific/Kiritimati, the zones
farthest from Tokyo either way) a copy of the database is served by gunicorn, with the clock
set (libfaketime, when installed) to a moment when Tokyo's date is not UTC's nor New York's:
08:30 tomorrow in Tokyo. Compared with the Tokyo server's, byte for byte once the signed
tokens and DTSTAMP are blanked:

- the pages: home, the session list (list and month), an upcoming session's page;
- a member's calendar feed (ICS);
- the reminders `send-reminders --days N` queues (N = 0…20; address, subject and message).

On PostgreSQL the database session's time zone follows too (PGTZ), and every copy is a
database made from the first as a template.

    .venv/bin/python drills/drill_clock_tz.py [--short] [--record] [--database sqlite|postgres|both]
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import results  # drills/results.py: puts the repository root on sys.path

from bench import load_test as lt

TITLE = "Clock and time zone (drills/drill_clock_tz.py)"
ZONES = ("Asia/Tokyo", "UTC", "America/New_York")
FAR_ZONES = ("Etc/GMT+12", "Pacific/Kiritimati")
FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
SECRETARY = "secretary@example.jp"
MEMBER = "member.both@example.jp"
VARYING = (
    re.compile(rb'(name="(?:csrf_token|form_token)"[^>]*value=")[^"]*'),
    re.compile(rb'(value=")[^"]*("[^>]*name="(?:csrf_token|form_token)")'),
    re.compile(rb"^(DTSTAMP:).*$", re.M),
    re.compile(rb"^(Date: |Message-ID: ).*$", re.M),
)


def steady(data: bytes) -> bytes:
    # Each server has its own port, and its links (BASE_URL) name it; unfolded first (ICS
    # folds long lines wherever the 75th byte falls).
    data = re.sub(rb"127\.0\.0\.1:\d+", b"127.0.0.1:PORT", data.replace(b"\r\n ", b""))
    for pattern in VARYING:
        data = pattern.sub(rb"\1-", data)
    return data


def fake_clock() -> tuple[dict[str, str], str]:
    """The environment that sets the clock to 08:30 tomorrow in Tokyo, and what it says."""
    from renkei.services.dates import TOKYO, now_tokyo

    target = datetime.combine(now_tokyo().date() + timedelta(days=1), datetime.min.time())
    target = target.replace(hour=8, minute=30, tzinfo=TOKYO)
    if not FAKETIME.exists():
        return {}, "the real clock (libfaketime not installed)"
    offset = int(target.timestamp() - time.time())
    env = {"LD_PRELOAD": str(FAKETIME), "FAKETIME": f"{offset:+d}", "FAKETIME_DONT_RESET": "1"}
    return env, f"{target:%Y-%m-%d %H:%M} Tokyo ({offset:+d} s, libfaketime)"


class Databases:
    """The demo town once, and a copy of it per time zone."""

    def __init__(self, root: Path, postgres: lt.Postgres | None) -> None:
        self.root = root
        self.postgres = postgres
        self.url = postgres.start() if postgres else f"sqlite:///{root / 'demo.sqlite3'}"
        self.audit_key = secrets.token_hex(32)
        self.copies = 0

    def build(self) -> None:
        from renkei import create_app, migrate
        from renkei.services import demo

        migrate.upgrade(self.url)
        app = create_app(
            {"DATABASE_URL": self.url, "AUDIT_KEY": self.audit_key}, str(self.root / "setup")
        )
        with app.app_context():
            db = app.extensions["renkei.sessionmaker"]()
            demo.load(db, sessions=True)
            db.commit()
            db.close()
        app.extensions["renkei.engine"].dispose()

    def copy(self) -> str:
        self.copies += 1
        if self.postgres is None:
            target = self.root / f"copy-{self.copies}.sqlite3"
            shutil.copyfile(self.root / "demo.sqlite3", target)
            return f"sqlite:///{target}"
        name = f"renkei_tz_{self.copies}"
        pg = self.postgres
        superuser = "postgres" if pg.prefix else os.environ.get("USER", "postgres")
        pg.run(
            lt.pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(pg.socket_dir),
            "-p", str(pg.port), "-U", superuser, "-d", "postgres",
            "-c", f"CREATE DATABASE {name} TEMPLATE renkei_load OWNER renkei",
        )  # fmt: skip
        return self.url.rsplit("/", 1)[0] + f"/{name}"


def under(zone: str, clock: dict[str, str]):
    """os.environ as the server is to inherit it (lt.Server copies it when made)."""

    @contextlib.contextmanager
    def scope():
        saved = {k: os.environ.get(k) for k in ("TZ", "PGTZ", *clock)}
        os.environ.update(TZ=zone, PGTZ=zone, **clock)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    return scope()


def observe(databases: Databases, zone: str, clock: dict[str, str], folder: Path) -> dict:
    """Everything compared, as the server under ``zone`` gives it."""
    url = databases.copy()
    folder.mkdir()
    with under(zone, clock):
        server = lt.Server(url, 1, folder, databases.audit_key)
    seen: dict[str, bytes] = {}
    try:
        server.wait_healthy()
        stats = lt.Stats()
        secretary = lt.Browser(server.port, stats)
        secretary.login(SECRETARY)
        session_id = upcoming(url)
        for path in ("/", "/sessions/", "/sessions/?view=month", f"/sessions/{session_id}"):
            _response, page = secretary.request("page", "GET", path, expect={200})
            seen[path] = steady(page)
        token = scalar(url, "SELECT feed_token FROM people WHERE email = :e", e=MEMBER)
        _response, feed = lt.Browser(server.port, stats).request(
            "feed", "GET", f"/calendar/{token}.ics", expect={200}
        )
        seen["feed"] = steady(feed)
    finally:
        server.stop()
    seen["reminders"] = reminders(url, zone, clock, folder, databases.audit_key)
    return seen


REMINDER_DAYS = 21  # send-reminders --days 0 … 20: the demo's sessions are weeks apart
# The `send-reminders` command itself, for each --days, in one process (one start-up).
REMINDER_SCRIPT = """
import sys
from renkei import create_app
app = create_app(instance_path=sys.argv[1])
for days in range(int(sys.argv[2])):
    result = app.test_cli_runner().invoke(args=["send-reminders", "--days", str(days)])
    if result.exit_code != 0:
        sys.exit(f"send-reminders --days {days}: {result.output}")
"""


def reminders(url: str, zone: str, clock: dict[str, str], folder: Path, key: str) -> bytes:
    env = dict(
        os.environ, DATABASE_URL=url, AUDIT_KEY=key, SECRET_KEY="drill", TZ=zone, PGTZ=zone,
        PYTHONPATH=str(lt.REPO), MAIL_DELIVERY="sync", **clock,
    )  # fmt: skip
    env = {k: v for k, v in env.items() if not k.startswith("SMTP_")}
    done = subprocess.run(
        [sys.executable, "-c", REMINDER_SCRIPT, str(folder / "cli"), str(REMINDER_DAYS)],
        env=env, cwd=lt.REPO, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"send-reminders failed under {zone}: {done.stderr[-500:]}")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT to_address, subject, content FROM mail_messages "
                    "WHERE kind = 'reminder' ORDER BY to_address, subject"
                )
            ).all()
    finally:
        engine.dispose()
    return b"\n".join(
        f"{to}|{subject}|".encode() + steady(bytes(content)) for to, subject, content in rows
    )


def scalar(url: str, sql: str, **params):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def upcoming(url: str) -> int:
    return scalar(
        url,
        "SELECT id FROM sessions WHERE status = 'convened' ORDER BY start_at DESC LIMIT 1",
    )


def drill(report: results.Report, database: str, short: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"renkei-drill-clock-{database}-"))
    postgres = lt.Postgres() if database == "postgres" else None
    try:
        started = time.perf_counter()
        databases = Databases(root, postgres)
        databases.build()
        clock, said = fake_clock()
        report.say(f"{database}: clock at {said}")
        zones = ZONES if short else ZONES + FAR_ZONES
        seen = {
            zone: observe(databases, zone, clock, root / f"z{i}") for i, zone in enumerate(zones)
        }
        tokyo = seen["Asia/Tokyo"]
        reminders_queued = tokyo["reminders"].count(b"\n") + 1 if tokyo["reminders"] else 0
        report.check(
            reminders_queued > 0, f"{database}: reminders queued in Tokyo: {reminders_queued}"
        )
        for zone in zones[1:]:
            differ = [what for what in tokyo if seen[zone][what] != tokyo[what]]
            report.check(
                not differ,
                f"{database}: TZ={zone}: {len(tokyo)} pages, feed and reminders as under "
                f"Asia/Tokyo" + (f"; differ: {differ}" if differ else ""),
            )
            for what in differ[:2]:
                print(first_difference(tokyo[what], seen[zone][what]))
        report.say(f"  {database}: drill took {time.perf_counter() - started:.1f} s")
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def first_difference(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    around = slice(max(at - 80, 0), at + 80)
    return f"    first difference at byte {at}:\n    {a[around]!r}\n    {b[around]!r}"


def main() -> int:
    args = results.arguments(__doc__.split("\n")[0], databases=("sqlite", "postgres"))
    return results.run_each(TITLE, args, drill)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
