"""Load test: simulated members and secretaries against gunicorn on PostgreSQL.

Starts (unless given ``--database-url``) a throw-away PostgreSQL cluster in a temporary
folder, migrates it, loads the demo town and a load dataset (members with logins on four
bodies, upcoming sessions of those bodies, held sessions with minutes drafts open), serves
the app with gunicorn, and lets the simulated people work for ``--seconds``:

- each member logs in, then loops: home page, one of their sessions, their calendar feed
  (with If-None-Match after the first fetch), and now and then changes their attendance
  reply to that session;
- each secretary logs in, then loops: a held session's page, its minutes editor, and a few
  section saves through the editor's autosave route (JSON answer) with the revision last
  seen; on a 409 conflict they reload the editor and save again; now and then (``--edits``)
  they give their upcoming session a new place through its edit form, whose change notice
  goes to every invitee once NOTICE_DELAY_MINUTES (``--notice-delay``) have passed;
- meanwhile each server's cron (``send-notices``, ``send-mail``) runs every
  ``--cron-every`` seconds beside the notice timers of the gunicorn workers.

With ``--servers N`` N gunicorn processes serve the one database on their own ports, with one
secret key, audit key and BASE_URL, and each request goes to the next in turn (a round-robin
proxy's work, done by the client).

Then it reports requests, errors (any unexpected status or exception), latency per kind of
request and the 304 ratio of the feeds, and checks in the database that every reply,
section text and place last written is stored as sent, that the sections' revisions rose by
exactly the number of saves, that the audit log's hash chain is intact, that every e-mail
queued was sent once (one claim, one file among the servers' outboxes), and that no feed
answered after a change had a Last-Modified older than the one its person had. Exits
non-zero on any error or mismatch. Standard library only (plus the app's own dependencies).

    .venv/bin/python bench/load_test.py [--members 200] [--secretaries 5] [--seconds 120]
        [--workers 4] [--servers 1] [--edits 0.1] [--database-url postgresql+psycopg://...]

A ``--database-url`` must name an empty database (it is migrated and filled here).
"""

import argparse
import contextlib
import getpass
import http.client
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from email.utils import parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
PASSWORD = "renkei-demo"  # the demo's password: its hash is reused for the load accounts
ANSWERS = ("attend", "absent", "undecided", "proxy")
REQUEST_TIMEOUT = 30.0  # seconds one request may take before it counts as an error
DRAIN = 35.0  # seconds the users get after the deadline to finish what they started


# --- PostgreSQL ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lines_with(log: Path, words: tuple[str, ...]) -> list[str]:
    """The lines of ``log`` (if it exists) holding any of ``words``."""
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if any(w in line for w in words)]


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        sys.exit(f"{name} not found (install postgresql, or give --database-url)")
    return str(candidates[-1])


class Postgres:
    """A cluster of our own in a temporary folder, on a free port; as .ci/run starts it."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="renkei-load-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.started = False
        # PostgreSQL refuses to run as root: the cluster then belongs to `postgres`.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *command: str) -> None:
        result = subprocess.run(
            [*self.prefix, *command], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            tail = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}{result.stderr}{tail}")

    def start(self) -> str:
        self.socket_dir.mkdir()
        self.log.touch()
        if self.prefix:
            shutil.chown(self.root, "postgres", "postgres")
            for path in (self.socket_dir, self.log):
                shutil.chown(path, "postgres", "postgres")
        self.run(
            pg_bin("initdb"),
            "-D",
            str(self.data),
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )
        self.run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        )
        self.started = True
        superuser = "postgres" if self.prefix else getpass.getuser()
        for sql in (
            f"CREATE ROLE renkei LOGIN PASSWORD '{self.password}'",
            "CREATE DATABASE renkei_load OWNER renkei ENCODING 'UTF8'",
        ):
            self.run(
                pg_bin("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                superuser,
                "-d",
                "postgres",
                "-c",
                sql,
            )
        return f"postgresql+psycopg://renkei:{self.password}@127.0.0.1:{self.port}/renkei_load"

    def pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def version(self) -> str:
        out = subprocess.run([pg_bin("postgres"), "--version"], capture_output=True, text=True)
        return out.stdout.strip()

    def log_problems(self) -> list[str]:
        """The server log's ERROR, FATAL and deadlock lines (startup chatter left out)."""
        return lines_with(self.log, ("ERROR", "FATAL", "PANIC", "deadlock"))

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(RuntimeError):
                self.run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# --- The dataset --------------------------------------------------------------------------


@dataclass
class MemberAccount:
    email: str
    person_id: int
    feed_token: str
    session_ids: list[int]  # upcoming sessions they are invited to


@dataclass
class SecretaryAccount:
    email: str
    person_id: int
    draft_index: int  # the draft they work on most
    session_id: int = 0  # the upcoming session whose place they change now and then (--edits)


@dataclass
class Draft:
    session_id: int
    version_id: int


@dataclass
class Dataset:
    members: list[MemberAccount]
    secretaries: list[SecretaryAccount]
    drafts: list[Draft]
    upcoming: list[int]
    initial_revisions: dict[int, int]  # section id -> revision before the run
    mail_messages: int  # rows in mail_messages before the run
    audit_entries: int
    last_mail_id: int = 0  # the messages queued during the run come after it


def build_dataset(url: str, members: int, secretaries: int, instance: Path) -> Dataset:
    """Migrate, load the demo, then add the load bodies, accounts, sessions and drafts."""
    from sqlalchemy import func, insert, select

    from renkei import create_app, migrate
    from renkei.models import (
        AuditEntry,
        Body,
        BodyKind,
        MeetingSession,
        Membership,
        MinutesSection,
        Person,
        Pledge,
        Role,
    )
    from renkei.models.mail import MailMessage
    from renkei.services import agenda, demo, minutes, scheduling
    from renkei.services.dates import today, tokyo_to_utc
    from renkei.services.scheduling import SessionData

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url}, instance_path=str(instance))
    with app.app_context():
        db = app.extensions["renkei.sessionmaker"]()
        if not demo.is_empty(db):
            sys.exit("the database is not empty: give an empty one (it is filled here)")
        demo.load(db)
        db.commit()

        specs = [
            ("負荷試験 支援会議", BodyKind.SUPPORT_MEETING, None),
            ("負荷試験 支援調整会議", BodyKind.SUPPORT_COORDINATION, None),
            ("負荷試験 協議体（第1層）", BodyKind.CONSULTATIVE_BODY, None),
            ("負荷試験 協議体（第2層 南）", BodyKind.CONSULTATIVE_BODY, 2),
        ]
        bodies = []
        for name, kind, parent in specs:
            body = Body(
                name=name,
                kind=kind,
                area="町全域" if parent is None else "南中学校区",
                parent=bodies[parent] if parent is not None else None,
                programme=kind.default_programme,
                confidentiality=kind.default_confidentiality,
            )
            db.add(body)
            bodies.append(body)
        db.flush()

        password_hash = demo._demo_password_hash()
        rows = [
            {
                "name": f"負荷 構成員{i:03d}",
                "kana": "",
                "email": f"load.member{i:03d}@example.jp",
                "password_hash": password_hash,
            }
            for i in range(members)
        ] + [
            {
                "name": f"負荷 事務局{k}",
                "kana": "",
                "email": f"load.secretary{k}@example.jp",
                "password_hash": password_hash,
            }
            for k in range(secretaries)
        ]
        db.execute(insert(Person), rows)
        db.flush()
        people = {
            p.email: p
            for p in db.scalars(select(Person).where(Person.email.like("load.%@example.jp")))
        }
        start = date(2025, 4, 1)
        terms, pledges = [], []
        member_bodies: dict[str, set[int]] = {}
        for i in range(members):
            person = people[f"load.member{i:03d}@example.jp"]
            # Every member on one body; every third also on the next one (joint sessions
            # must invite them once); the first of each body chairs it.
            chosen = {i % 4} | ({(i + 1) % 4} if i % 3 == 0 else set())
            member_bodies[person.email] = {bodies[b].id for b in chosen}
            for b in chosen:
                role = Role.CHAIR if i < 4 and b == i % 4 else Role.MEMBER
                terms.append((person.id, bodies[b].id, role))
            if 0 in chosen and i % 2 == 0:
                # Half the 支援会議's members have pledged: their session page shows them
                # the confidential items, and logs that view in the audit log.
                pledges.append((person.id, bodies[0].id))
        secretary_people = []
        for k in range(secretaries):
            person = people[f"load.secretary{k}@example.jp"]
            secretary_people.append(person)
            for body in bodies:
                terms.append((person.id, body.id, Role.SECRETARY))
                pledges.append((person.id, body.id))
        db.execute(
            insert(Membership),
            [
                {
                    "person_id": p,
                    "body_id": b,
                    "role": role,
                    "term_start": start,
                    "note": "",
                }
                for p, b, role in terms
            ],
        )
        db.execute(
            insert(Pledge),
            [{"person_id": p, "body_id": b, "pledged_on": start} for p, b in pledges],
        )
        db.commit()
        db.expire_all()

        by = secretary_people[0]
        bodies = [db.get(Body, b.id) for b in bodies]

        def session(title, day, serves, host, items, hour=14):
            created = scheduling.create_session(
                db,
                SessionData(
                    title=title,
                    body_ids=[bodies[b].id for b in serves],
                    host_body_id=bodies[host].id,
                    start=tokyo_to_utc(day, clock(hour)),
                    end=tokyo_to_utc(day, clock(hour + 2)),
                    place="みどり町役場 2階 大会議室",
                ),
                by=by,
            )
            for n, (title_, owner) in enumerate(items, start=1):
                agenda.add_item(
                    db,
                    created,
                    agenda.ItemData(
                        title=title_,
                        body_id=bodies[owner].id,
                        planned_minutes=20,
                        description=f"- 資料{n}を確認する\n- 意見交換",
                    ),
                    by=by,
                    # A session in the past is held from its creation: its agenda is set up
                    # as a correction (renkei.services.agenda.correction_reason).
                    correction=agenda.Correction("負荷試験の準備")
                    if created.status == "held"
                    else None,
                )
            return created

        items = {
            0: [("個別ケースの検討（南地区）", 0), ("見守り体制の確認", 0)],
            1: [("支援プランの評価", 1), ("終結の確認", 1)],
            2: [("地域資源の共有", 2), ("担い手の育成", 2), ("移動支援の検討", 2)],
            3: [("南地区の居場所づくり", 3), ("買い物支援", 3)],
        }
        upcoming_spec = [
            ("負荷試験 支援会議 定例", 1, [0], 0, items[0]),
            ("負荷試験 支援調整会議 定例", 1, [1], 1, items[1]),
            ("負荷試験 協議体 定例", 2, [2], 2, items[2]),
            ("負荷試験 第2層協議体", 2, [3], 3, items[3]),
            ("負荷試験 合同会議（支援会議・協議体）", 3, [0, 2], 0, items[0] + items[2]),
            ("負荷試験 合同会議（支援調整・第2層）", 4, [1, 3], 1, items[1] + items[3]),
        ]
        upcoming = []
        for n, (title, weeks, serves, host, its) in enumerate(upcoming_spec):
            day = today() + timedelta(days=7 * weeks + n)
            upcoming.append(session(title, day, serves, host, its))
        # Members see a session once it is convened. The notices' mail is not what the load
        # test is about: the sessions are marked convened as if their notices had been sent.
        from renkei.db import utcnow
        from renkei.models.sessions import Status

        for created in upcoming:
            created.status = Status.CONVENED
            created.convened_at = utcnow()
        held_spec = [
            ("負荷試験 合同会議（前週）", [0, 2], 0, items[0] + items[2]),
            ("負荷試験 支援調整会議（前週）", [1], 1, items[1]),
            ("負荷試験 協議体 合同（前週）", [2, 3], 2, items[2] + items[3]),
        ]
        drafts = []
        for n, (title, serves, host, its) in enumerate(held_spec):
            held = session(title, today() - timedelta(days=7 + n), serves, host, its, hour=10)
            scheduling.set_status(db, held, "held", by=by)
            version = minutes.open_minutes(db, held, by=by)
            drafts.append((held, version))
        db.commit()

        accounts = []
        body_sessions = {s.id: {b.id for b in s.bodies} for s in upcoming}
        for i in range(members):
            person = people[f"load.member{i:03d}@example.jp"]
            mine = [
                sid for sid, served in body_sessions.items() if served & member_bodies[person.email]
            ]
            accounts.append(MemberAccount(person.email, person.id, person.feed_token, mine))
        # Each secretary changes one upcoming session of their own (one secretary per session
        # while there are enough), so the place last sent is the one stored.
        secretary_accounts = [
            SecretaryAccount(p.email, p.id, k % len(drafts), upcoming[k % len(upcoming)].id)
            for k, p in enumerate(secretary_people)
        ]
        version_ids = [v.id for _s, v in drafts]
        initial = dict(
            db.execute(
                select(MinutesSection.id, MinutesSection.revision).where(
                    MinutesSection.version_id.in_(version_ids)
                )
            ).all()
        )
        dataset = Dataset(
            members=accounts,
            secretaries=secretary_accounts,
            drafts=[Draft(s.id, v.id) for s, v in drafts],
            upcoming=[s.id for s in upcoming],
            initial_revisions=initial,
            mail_messages=db.scalar(select(func.count()).select_from(MailMessage)),
            audit_entries=db.scalar(select(func.count()).select_from(AuditEntry)),
            last_mail_id=db.scalar(select(func.max(MailMessage.id))) or 0,
        )
        invitees = {
            s.title: len(scheduling.invitees(db, db.get(MeetingSession, s.id)))
            for s in upcoming + [s for s, _v in drafts]
        }
        db.close()
    print(
        f"dataset: {members} members and {secretaries} secretaries with logins on 4 bodies; "
        f"{len(upcoming)} upcoming sessions, {len(drafts)} held sessions with minutes drafts "
        f"({len(initial)} sections)"
    )
    for title, count in invitees.items():
        print(f"  {title}: {count} invitees")
    return dataset


# --- gunicorn -----------------------------------------------------------------------------


class Server:
    """gunicorn serving the app from ``folder`` (its log, its instance folder and outbox).

    Several servers on one database (``--servers``) are given the same ``secret_key`` (a
    login on one is good on the other), the same audit key and the same ``base_url`` (the
    address a proxy in front of them would have: feeds and e-mails carry it), and
    ``environment`` (e.g. NOTICE_DELAY_MINUTES) as a deployment sets it on each."""

    def __init__(
        self,
        url: str,
        workers: int,
        folder: Path,
        audit_key: str | None = None,
        *,
        secret_key: str | None = None,
        base_url: str | None = None,
        environment: dict[str, str] | None = None,
    ):
        self.port = free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
        # Given, not generated: the check after the run verifies the audit log with it.
        # The dataset's entries are sealed with the setup's key (setup_audit_key).
        self.audit_key = audit_key or secrets.token_hex(32)
        self.secret_key = secret_key or secrets.token_hex(32)
        self.base_url = base_url or f"http://127.0.0.1:{self.port}"
        env.update(
            DATABASE_URL=url,
            SECRET_KEY=self.secret_key,
            AUDIT_KEY=self.audit_key,
            BASE_URL=self.base_url,
            # No SMTP_HOST: anything sent would land in <instance>/outbox, not in the world;
            # sync: nothing is left in a background thread when the server stops.
            MAIL_DELIVERY="sync",
            **(environment or {}),
        )
        instance = folder / "instance"
        instance.mkdir()
        self.instance = instance
        self.outbox = instance / "outbox"
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--error-logfile",
                str(self.log),
                f"renkei:create_app(instance_path={str(instance)!r})",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to end it and its workers
        )

    def wait_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def warm_up(self, workers: int) -> None:
        """A few rounds of concurrent page loads, uncounted, so that every worker has booted
        and compiled its templates before the clock starts (as a server in use would have)."""

        def fetch():
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", "/login")
                conn.getresponse().read()
                conn.close()

        for _ in range(3):
            threads = [threading.Thread(target=fetch) for _ in range(2 * workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    def log_problems(self) -> list[str]:
        return lines_with(self.log, ("Traceback", "WORKER TIMEOUT", "Error", "exception"))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


# --- HTTP as one browser ------------------------------------------------------------------


class Stats:
    """Every request's kind, status and time, and the errors, shared by all users."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.finished: list[tuple[float, float]] = []  # (monotonic end, seconds) of each
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: list[str] = []
        self.error_count = 0
        self.conflicts = 0
        self.conflicts_unresolved = 0
        self.feed_revalidated_200 = 0  # If-None-Match sent, full feed answered

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.finished.append((time.monotonic(), seconds))
            self.statuses[kind][status] += 1

    def error(self, message: str) -> None:
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 30:
                self.errors.append(message)

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


class Unexpected(Exception):
    pass


class Browser:
    """One simulated person: their own cookies, a new connection per request (gunicorn's
    sync workers close every connection). Given several servers' ``ports``, each request
    goes to the next of them in turn, as a round-robin proxy in front of them would send it
    (the servers share their secret key, so the session cookie is good on each)."""

    _turn = 0  # shared by every browser: the proxy's round robin
    _turn_lock = threading.Lock()

    def __init__(self, port: int, stats: Stats, ports: tuple[int, ...] = ()):
        self.port = port
        self.ports = ports
        self.stats = stats
        self.cookies: dict[str, str] = {}

    def _next_port(self) -> None:
        if len(self.ports) > 1:
            with Browser._turn_lock:
                Browser._turn += 1
                self.port = self.ports[Browser._turn % len(self.ports)]

    def request(self, kind, method, path, *, expect, form=None, headers=None):
        """Send one request; an unexpected status or a failure is recorded and raised."""
        self._next_port()
        headers = {"User-Agent": "renkei-load-test", "Accept": "text/html", **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            elapsed = time.perf_counter() - started
            self.stats.add(kind, 0, elapsed)
            self.stats.error(f"{kind} {method} {path}: {type(error).__name__}: {error}")
            raise Unexpected from error
        elapsed = time.perf_counter() - started
        self.stats.add(kind, response.status, elapsed)
        for header in response.headers.get_all("Set-Cookie") or []:
            self._remember(header)
        if response.status not in expect:
            snippet = data[:300].decode("utf-8", "replace").replace("\n", " ")
            self.stats.error(f"{kind} {method} {path}: HTTP {response.status}: {snippet}")
            raise Unexpected
        return response, data

    def _remember(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        attributes = attributes.lower()
        if not value or "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def login(self, email: str) -> None:
        _response, page = self.request("login_page", "GET", "/login", expect={200})
        response, _page = self.request(
            "login",
            "POST",
            "/login",
            form={"csrf_token": csrf_of(page), "email": email, "password": PASSWORD},
            expect={302},
        )
        if urlsplit(response.getheader("Location", "")).path != "/":
            self.stats.error(f"login {email}: redirected to {response.getheader('Location')}")
            raise Unexpected


CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_of(page: bytes) -> str:
    found = CSRF.search(page)
    if not found:
        raise Unexpected("no CSRF token on the page")
    return unescape(found.group(1).decode())


class _Forms(HTMLParser):
    """The fields of each form on a page, as a browser would submit them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append([])
        elif not self.forms or "name" not in a:
            if tag == "option" and self._select is not None:
                self._options.append((a.get("value", ""), "selected" in a))
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                default = "on" if kind == "checkbox" else ""
                self.forms[-1].append((a["name"], a.get("value", default)))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _s in self._options[:1]
            ]
            self.forms[-1] += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.forms[-1].append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def form_with(page: bytes, field_name: str) -> list[tuple[str, str]]:
    """The fields of the page's form that has ``field_name``."""
    parser = _Forms()
    parser.feed(page.decode("utf-8"))
    for form in parser.forms:
        if any(name == field_name for name, _v in form):
            return form
    raise Unexpected(f"no form with {field_name} on the page")


def editor_sections(page: bytes) -> dict[int, int]:
    """Section id -> revision, from the minutes editor's forms."""
    return {
        int(section): int(revision)
        for section, revision in re.findall(rb'name="s(\d+)-revision"[^>]*value="(\d+)"', page)
    }


# --- The simulated people -----------------------------------------------------------------


@dataclass
class Run:
    port: int
    deadline: float
    ramp: float
    think: tuple[float, float]
    stats: Stats
    seed: int
    duration: float
    # What the users wrote and saw succeed, for the checks afterwards.
    replies: dict[tuple[int, int], tuple[str, str, str]] = field(default_factory=dict)
    saved: dict[int, tuple[int, str]] = field(default_factory=dict)  # section -> (rev, text)
    saves: int = 0
    logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The fault drills (drills/) give a Browser that also records what each write sent.
    browser_class: type[Browser] = Browser
    # Several servers: every request goes to the next (Browser); one: ``port`` alone.
    ports: tuple[int, ...] = ()
    # How often a secretary's round also changes the place of their upcoming session (its
    # change notice goes to every invitee a few minutes later), and what they saved.
    edit_rate: float = 0.0
    places: dict[int, str] = field(default_factory=dict)  # session id -> place last saved
    edits: int = 0
    # Feeds answered in full after a change: their Last-Modified moved on (or did not).
    feed_changes: int = 0
    feed_backwards: int = 0  # older than one already served to the same person
    feed_same_time: int = 0  # a new ETag with the Last-Modified already served

    def browser(self) -> Browser:
        return self.browser_class(self.port, self.stats, self.ports)

    def pause(self, rng: random.Random) -> bool:
        """Think; False once the time is up."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(rng.uniform(*self.think), left))
        return time.monotonic() < self.deadline


def member_loop(run: Run, account: MemberAccount, index: int) -> None:
    rng = random.Random(run.seed * 100_003 + index)
    time.sleep(rng.uniform(0, run.ramp))
    browser = run.browser()
    etag = last_modified = None
    counter = 0
    try:
        browser.login(account.email)
        with run.lock:
            run.logins += 1
        while run.pause(rng):
            browser.request("home", "GET", "/", expect={200})
            if not run.pause(rng):
                break
            session_id = rng.choice(account.session_ids)
            path = f"/sessions/{session_id}"
            _r, page = browser.request("session", "GET", path, expect={200})
            if not run.pause(rng):
                break
            feed = f"/calendar/{account.feed_token}.ics"
            headers = {"Accept": "text/calendar"}
            if etag:
                headers["If-None-Match"] = etag
            response, _data = browser.request(
                "feed", "GET", feed, expect={200, 304}, headers=headers
            )
            if etag and response.status == 200:
                run.stats.count("feed_revalidated_200")
                served = parsedate_to_datetime(response.getheader("Last-Modified"))
                if last_modified is not None and response.getheader("ETag") != etag:
                    check_moved_on(run, last_modified, served, index)
                last_modified = served
            elif response.status == 200:
                last_modified = parsedate_to_datetime(response.getheader("Last-Modified"))
            etag = response.getheader("ETag") or etag
            if rng.random() < 0.35:
                if not run.pause(rng):
                    break
                counter += 1
                answer = rng.choice(ANSWERS)
                proxy = f"代理 {index:03d}-{counter}" if answer == "proxy" else ""
                comment = f"負荷試験 {index:03d} 回答{counter} {uuid.uuid4().hex[:8]}"
                form = {
                    "csrf_token": csrf_of(page),
                    "answer": answer,
                    "proxy_name": proxy,
                    "comment": comment,
                }
                response, _data = browser.request(
                    "reply", "POST", f"{path}/reply", form=form, expect={302}
                )
                with run.lock:
                    run.replies[(account.person_id, session_id)] = (answer, proxy, comment)
                # The browser follows the redirect back to the session page.
                browser.request(
                    "session", "GET", urlsplit(response.getheader("Location")).path, expect={200}
                )
    except Exception as error:  # any failure is counted, and this user stops
        stopped(run, f"member {index}", error)


def check_moved_on(run: Run, before: datetime, after: datetime, index: int) -> None:
    """A feed that changed must say so in Last-Modified too (models/calendar_stamps.py):
    never older than the one already served, and (to the second, HTTP's precision) later
    unless the two changes fell in the same second."""
    with run.lock:
        run.feed_changes += 1
        if after < before:
            run.feed_backwards += 1
            run.stats.error(f"member {index}: feed's Last-Modified went back: {before} -> {after}")
        elif after == before:
            run.feed_same_time += 1


def edit_place(run: Run, browser: Browser, session_id: int, text: str) -> None:
    """Change the session's place through its edit form, as a secretary would."""
    path = f"/sessions/{session_id}/edit"
    _r, page = browser.request("session_edit", "GET", path, expect={200})
    for _attempt in range(2):
        form = [(k, v) for k, v in form_with(page, "place") if k != "place"] + [("place", text)]
        response, page = browser.request("session_save", "POST", path, form=form, expect={200, 302})
        if response.status == 302:
            with run.lock:
                run.places[session_id] = text
                run.edits += 1
            return
        # 200: the form again, with warnings to confirm (their fingerprint is in the form).
    run.stats.error(f"session_save {path}: not saved after confirming the warnings")
    raise Unexpected


def secretary_loop(run: Run, account: SecretaryAccount, drafts: list[Draft], index: int) -> None:
    rng = random.Random(run.seed * 100_003 + 50_000 + index)
    time.sleep(rng.uniform(0, run.ramp))
    browser = run.browser()
    counter = 0
    try:
        browser.login(account.email)
        with run.lock:
            run.logins += 1
        while run.pause(rng):
            if account.session_id and rng.random() < run.edit_rate:
                counter += 1
                place = f"負荷試験 会議室{index}-{counter} {uuid.uuid4().hex[:6]}"
                edit_place(run, browser, account.session_id, place)
                if not run.pause(rng):
                    break
            # Mostly their own draft; now and then a colleague's (edits may then collide).
            draft = drafts[
                account.draft_index if rng.random() < 0.7 else rng.randrange(len(drafts))
            ]
            browser.request("held_session", "GET", f"/sessions/{draft.session_id}", expect={200})
            if not run.pause(rng):
                break
            editor = f"/minutes/{draft.version_id}/edit"
            _r, page = browser.request("minutes_edit", "GET", editor, expect={200})
            token, revisions = csrf_of(page), editor_sections(page)
            if not revisions:
                run.stats.error(f"minutes_edit {editor}: no sections on the page")
                raise Unexpected
            for _ in range(rng.randint(1, 3)):
                if not run.pause(rng):
                    break
                section = rng.choice(sorted(revisions))
                counter += 1
                text = (
                    f"### 負荷試験 事務局{index} 保存{counter}\n\n"
                    f"- 議論の要点 {uuid.uuid4().hex}\n- 次回までに確認する事項\n"
                )
                for _attempt in range(3):
                    form = {
                        f"s{section}-csrf_token": token,
                        f"s{section}-revision": str(revisions[section]),
                        f"s{section}-text": text,
                    }
                    response, data = browser.request(
                        "minutes_save",
                        "POST",
                        f"/minutes/sections/{section}",
                        form=form,
                        headers={"Accept": "application/json"},
                        expect={200, 409},
                    )
                    if response.status == 200:
                        revision = int(re.search(rb'"revision":\s*(\d+)', data).group(1))
                        revisions[section] = revision
                        with run.lock:
                            run.saves += 1
                            if revision > run.saved.get(section, (-1, ""))[0]:
                                run.saved[section] = (revision, text)
                        break
                    # Someone saved it meanwhile: reload the editor and save again.
                    run.stats.count("conflicts")
                    if b'"conflict"' not in data:
                        run.stats.error(
                            f"minutes_save {section}: 409 without a conflict: {data[:200]!r}"
                        )
                        raise Unexpected
                    _r, page = browser.request("minutes_edit", "GET", editor, expect={200})
                    token, revisions = csrf_of(page), editor_sections(page)
                else:
                    run.stats.count("conflicts_unresolved")
    except Exception as error:
        stopped(run, f"secretary {index}", error)


def stopped(run: Run, who: str, error: Exception) -> None:
    """A user stops at an error: a failed request was counted where it happened; anything
    else (a page without what the user needed, a bug here) is counted now."""
    if isinstance(error, Unexpected) and not error.args:
        return
    run.stats.error(f"{who}: {type(error).__name__}: {error}")


# --- Report and checks --------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def report(run: Run, elapsed: float) -> list[str]:
    stats = run.stats
    lines = []
    total = sum(len(v) for v in stats.times.values())
    lines.append(
        f"requests: {total} in {elapsed:.1f} s (ramp and drain included) = "
        f"{total / elapsed:.1f} requests/s"
    )
    # Once everyone has started (and the workers are warm) until the deadline.
    begin = run.deadline - run.duration
    steady = sorted(s for at, s in stats.finished if begin <= at <= run.deadline)
    if steady:
        lines.append(
            f"steady state ({run.duration:g} s after the ramp): {len(steady)} requests = "
            f"{len(steady) / run.duration:.1f} requests/s, p50 "
            f"{percentile(steady, 0.5) * 1000:.0f} ms, p95 {percentile(steady, 0.95) * 1000:.0f} "
            f"ms, max {steady[-1] * 1000:.0f} ms"
        )
    lines.append(f"errors: {stats.error_count}")
    lines.append("")
    lines.append(f"{'kind':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  statuses")
    everything = []
    order = [
        "login_page",
        "login",
        "home",
        "session",
        "feed",
        "reply",
        "held_session",
        "minutes_edit",
        "minutes_save",
    ]
    for kind in order + sorted(set(stats.times) - set(order)):
        times = sorted(stats.times.get(kind, []))
        if not times:
            continue
        everything += times
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(stats.statuses[kind].items()))
        lines.append(
            f"{kind:<14}{len(times):>8}{percentile(times, 0.5) * 1000:>10.0f}"
            f"{percentile(times, 0.95) * 1000:>10.0f}{times[-1] * 1000:>10.0f}  {statuses}"
        )
    everything.sort()
    worst = everything[-1] * 1000 if everything else 0
    lines.append(
        f"{'all':<14}{len(everything):>8}{percentile(everything, 0.5) * 1000:>10.0f}"
        f"{percentile(everything, 0.95) * 1000:>10.0f}{worst:>10.0f}"
    )
    lines.append("")
    feeds = stats.statuses.get("feed", {})
    revalidations = feeds.get(304, 0) + stats.feed_revalidated_200
    if revalidations:
        lines.append(
            f"feeds: {feeds.get(304, 0)} of {revalidations} revalidations answered 304 "
            f"({feeds.get(304, 0) / revalidations:.1%}); "
            f"{feeds.get(304, 0) / max(1, sum(feeds.values())):.1%} of all feed requests"
        )
    lines.append(
        f"logins: {run.logins}; replies sent: {stats.statuses['reply'].get(302, 0)}; "
        f"minutes sections saved: {run.saves}; edit conflicts (409, reloaded and saved "
        f"again): {stats.conflicts}; unresolved after 3 attempts: {stats.conflicts_unresolved}"
    )
    return lines


def verify(
    url: str, run: Run, dataset: Dataset, audit_key: str, *, mail_checked: bool = False
) -> list[str]:
    """Every write the users saw succeed is in the database, and nothing else was written.
    ``mail_checked``: the mail queued is checked apart (verify_mail), not expected to be
    none (the drills, whose users change nothing that notifies anyone)."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from renkei.db import AUDIT_KEY_INFO
    from renkei.models import AuditEntry, MeetingSession, MinutesSection, Reply
    from renkei.models.mail import MailMessage
    from renkei.services import audit_chain

    problems = []
    engine = create_engine(url)
    with Session(engine, info={AUDIT_KEY_INFO: audit_key}) as db:
        members = [m.person_id for m in dataset.members]
        stored = {
            (r.person_id, r.session_id): (r.answer.value, r.proxy_name, r.comment)
            for r in db.scalars(
                select(Reply).where(
                    Reply.person_id.in_(members), Reply.session_id.in_(dataset.upcoming)
                )
            )
        }
        for key, sent in sorted(run.replies.items()):
            if stored.get(key) != sent:
                problems.append(
                    f"reply of person {key[0]} to session {key[1]}: sent {sent}, "
                    f"stored {stored.get(key)}"
                )
        for key in sorted(set(stored) - set(run.replies)):
            problems.append(f"reply of person {key[0]} to session {key[1]} stored but not sent")

        sections = {
            s.id: s
            for s in db.scalars(
                select(MinutesSection).where(MinutesSection.id.in_(list(dataset.initial_revisions)))
            )
        }
        for section_id, (revision, text) in sorted(run.saved.items()):
            section = sections[section_id]
            if section.revision != revision or section.text != text:
                problems.append(
                    f"section {section_id}: last saved revision {revision} "
                    f"{text.splitlines()[0]!r}, stored revision {section.revision} "
                    f"{section.text.splitlines()[0] if section.text else ''!r}"
                )
        risen = sum(s.revision - dataset.initial_revisions[s.id] for s in sections.values())
        if risen != run.saves:
            problems.append(f"sections' revisions rose by {risen}, but {run.saves} saves succeeded")

        mail = db.scalar(select(func.count()).select_from(MailMessage))
        if mail != dataset.mail_messages and not mail_checked:
            problems.append(f"{mail - dataset.mail_messages} e-mail messages were queued")
        stored_places = dict(
            db.execute(
                select(MeetingSession.id, MeetingSession.place).where(
                    MeetingSession.id.in_(list(run.places))
                )
            ).all()
        )
        for session_id, place in sorted(run.places.items()):
            if stored_places.get(session_id) != place:
                problems.append(
                    f"session {session_id}: place last saved {place!r}, stored "
                    f"{stored_places.get(session_id)!r}"
                )
        logins = db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "login", AuditEntry.actor.like("load.%"))
        )
        if logins != run.logins:
            problems.append(f"audit log holds {logins} logins of load users, {run.logins} made")
        entries = db.scalar(select(func.count()).select_from(AuditEntry))
        chain = audit_chain.verify(db)
        if not chain.ok:
            problems.append(f"audit chain broken at entry {chain.broken_id}: {chain.reason}")
    engine.dispose()
    print(
        f"checked: {len(run.replies)} replies, {len(run.saved)} sections (last texts), "
        f"{risen} revisions = {run.saves} saves, audit chain of {chain.checked} entries "
        f"({entries - dataset.audit_entries} written during the run) "
        f"{'intact' if chain.ok else 'BROKEN'}, e-mail queued: {mail - dataset.mail_messages}"
    )
    return problems


class Cron:
    """Each app server's cron jobs (``send-notices``, then ``send-mail``) every ``every``
    seconds, all servers' at once, as the app's own CLI functions in this process with each
    server's configuration and outbox, on top of the notice timer in every gunicorn worker:
    several processes on several servers reach for the same due notices and messages, and
    each must go once."""

    def __init__(self, url: str, servers: list[Server], every: float, delay: str):
        from renkei import create_app

        self.every = every
        self.apps = [
            create_app(
                {
                    "DATABASE_URL": url,
                    "SECRET_KEY": server.secret_key,
                    "AUDIT_KEY": server.audit_key,
                    "BASE_URL": server.base_url,
                    "SMTP_HOST": "",
                    "MAIL_DELIVERY": "sync",
                    "NOTICE_DELAY_MINUTES": delay,
                    "NOTICE_TIMER": "0",
                },
                instance_path=str(server.instance),
            )
            for server in servers
        ]
        self.errors: list[str] = []
        self.rounds = 0
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, args=(app,), daemon=True) for app in self.apps
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _loop(self, app) -> None:
        while not self.stop.wait(self.every):
            try:
                self.round(app)
            except Exception as error:  # counted; the next round tries again
                self.errors.append(f"cron: {type(error).__name__}: {error}")

    def round(self, app, *, final: bool = False) -> None:
        from renkei import notice_timer
        from renkei.db import get_db
        from renkei.links import Links
        from renkei.services import mail, notices

        if final:  # after the run: what waits for its delay is due now
            with app.app_context():
                settings = mail.MailSettings.from_config(app.config, app.instance_path)
                db = get_db()
                links, sender = Links.of(app), settings.sender
                notices.send_due(db, links=links, sender=sender, delay=timedelta(0))
                db.commit()
        else:
            notice_timer.send_due(app)
        with app.app_context():
            settings = mail.MailSettings.from_config(app.config, app.instance_path)
            mail.deliver(get_db(), settings, now=final)
        self.rounds += 1

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        for app in self.apps:
            self.round(app, final=True)
        for app in self.apps:
            app.extensions["renkei.engine"].dispose()


def verify_mail(url: str, run: Run, dataset: Dataset, outboxes: list[Path]) -> list[str]:
    """Every message queued during the run was sent, once: one claim, one file in one
    server's outbox (messages the demo queued before the run go out too: once each); and
    every session whose place changed had its change notice."""
    from sqlalchemy import create_engine, select

    from renkei.models.mail import MailMessage, MailStatus

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                MailMessage.id,
                MailMessage.kind,
                MailMessage.status,
                MailMessage.attempts,
                MailMessage.session_id,
            )
        ).all()
    engine.dispose()
    # The servers' outboxes were empty when they started: every file was sent in the run.
    files = Counter(f.name for outbox in outboxes if outbox.exists() for f in outbox.glob("*.eml"))
    name = {r.id: f"{r.id}-{r.kind}.eml" for r in rows}
    new = [r for r in rows if r.id > dataset.last_mail_id]
    sent = [r for r in rows if name[r.id] in files]
    earlier = len([r for r in sent if r.id <= dataset.last_mail_id])
    problems = []
    unsent = [r.id for r in new if r.status != MailStatus.SENT or name[r.id] not in files]
    if unsent:
        problems.append(f"{len(unsent)} messages queued in the run not sent, e.g. {unsent[:5]}")
    claimed_again = [r.id for r in sent if r.attempts != 1]
    if claimed_again:
        problems.append(f"{len(claimed_again)} messages claimed twice: {claimed_again[:5]}")
    twice = sorted(n for n, count in files.items() if count > 1)
    if twice:
        problems.append(f"{len(twice)} messages written by two servers: {twice[:5]}")
    strays = set(files) - set(name.values())
    if strays:
        problems.append(f"outboxes hold {len(strays)} files no message explains")
    noticed = {r.session_id for r in new}
    for session_id in sorted(set(run.places) - noticed):
        problems.append(f"session {session_id}: its place changed, but no notice was queued")
    print(
        f"mail: {len(new)} messages queued during the run (change notices of "
        f"{len(noticed)} sessions) and {earlier} queued before it "
        "(the demo's); "
        f"{sum(files.values())} files in {len(outboxes)} outbox(es) for {len(sent)} messages "
        f"sent; claimed twice: {len(claimed_again)}, sent twice: {len(twice)}, queued in the "
        f"run and not sent: {len(unsent)}"
    )
    return problems


def cpu_seconds(root_pid: int | None) -> dict[int, float]:
    """CPU seconds (user + system) of a process and its children, by pid, from /proc."""
    if root_pid is None:
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid, parent = int(stat.parent.name), int(fields[1])
            if pid == root_pid or parent == root_pid:
                found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--secretaries", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="app servers (gunicorn processes on their own ports) on the one database; the "
        "users' requests go to each in turn, as a round-robin proxy would send them",
    )
    parser.add_argument(
        "--edits",
        type=float,
        default=0.1,
        help="share of a secretary's rounds that also change their upcoming session's place "
        "(its change notice then goes to every invitee: mail, sent by every server's timer "
        "and cron)",
    )
    parser.add_argument(
        "--cron-every",
        type=float,
        default=10,
        help="seconds between each server's send-notices and send-mail runs",
    )
    parser.add_argument(
        "--notice-delay",
        default="0.25",
        help="NOTICE_DELAY_MINUTES of the servers: change notices wait this long",
    )
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which users start")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database (default: a throw-away cluster of its own)",
    )
    args = parser.parse_args()
    if args.secretaries < 1 or args.members < 1:
        parser.error("at least one member and one secretary")
    if args.servers < 1:
        parser.error("at least one server")

    uptime = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.node()}, nproc {len(os.sched_getaffinity(0))}, "
        f"{platform.platform()}, Python {platform.python_version()}; load average before: "
        f"{' '.join(uptime)}"
    )
    print(
        f"options: --members {args.members} --secretaries {args.secretaries} "
        f"--seconds {args.seconds:g} --workers {args.workers} --servers {args.servers} "
        f"--edits {args.edits:g} --cron-every {args.cron_every:g} --notice-delay "
        f"{args.notice_delay} --ramp {args.ramp:g} --think {args.think[0]:g} {args.think[1]:g} "
        f"--seed {args.seed}"
    )

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    postgres = cron = None
    servers: list[Server] = []
    folder = Path(tempfile.mkdtemp(prefix="renkei-load-"))
    status = 0
    try:
        if args.database_url:
            url = args.database_url
        else:
            postgres = Postgres()
            url = postgres.start()
            print(f"database: {postgres.version()}, throw-away cluster on port {postgres.port}")
        started = time.monotonic()
        dataset = build_dataset(url, args.members, args.secretaries, folder / "setup")
        print(f"setup: {time.monotonic() - started:.1f} s")

        # One secret key, audit key and address for all servers, as behind one proxy.
        audit_key, secret_key = setup_audit_key(folder / "setup"), secrets.token_hex(32)
        environment = {"NOTICE_DELAY_MINUTES": args.notice_delay}
        for k in range(args.servers):
            servers.append(
                Server(
                    url,
                    args.workers,
                    folder / f"server{k + 1}" if args.servers > 1 else folder,
                    audit_key,
                    secret_key=secret_key,
                    base_url=servers[0].base_url if servers else None,
                    environment=environment,
                )
            )
        for server in servers:
            server.wait_healthy()
            server.warm_up(args.workers)
        ports = tuple(s.port for s in servers)
        print(
            f"gunicorn: {args.servers} server(s) of {args.workers} workers on 127.0.0.1 port(s) "
            f"{', '.join(map(str, ports))}"
            + (", each request to the next in turn" if args.servers > 1 else "")
        )
        cron = Cron(url, servers, args.cron_every, args.notice_delay)

        stats = Stats()
        begin = time.monotonic()
        run = Run(
            port=ports[0],
            deadline=begin + args.ramp + args.seconds,
            ramp=args.ramp,
            think=tuple(args.think),
            stats=stats,
            seed=args.seed,
            duration=args.seconds,
            ports=ports,
            edit_rate=args.edits,
        )
        threads = [
            threading.Thread(target=member_loop, args=(run, m, i), daemon=True)
            for i, m in enumerate(dataset.members)
        ] + [
            threading.Thread(target=secretary_loop, args=(run, s, dataset.drafts, k), daemon=True)
            for k, s in enumerate(dataset.secretaries)
        ]
        print(
            f"running {len(threads)} users for {args.seconds:g} s after a {args.ramp:g} s ramp..."
        )
        sys.stdout.flush()
        pg_pid = postgres.pid() if postgres else None
        cpu_before = (
            time.process_time(),
            [cpu_seconds(server.process.pid) for server in servers],
            cpu_seconds(pg_pid),
        )
        cron.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.1, run.deadline + DRAIN - time.monotonic()))
        elapsed = time.monotonic() - begin
        client_cpu = time.process_time() - cpu_before[0]
        server_cpu = sum(
            cpu_used(before, cpu_seconds(server.process.pid))
            for before, server in zip(cpu_before[1], servers, strict=True)
        )
        pg_cpu = cpu_used(cpu_before[2], cpu_seconds(pg_pid))
        cron.finish()  # the notices still waiting, and their mail
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            stats.error(f"{stuck} users still waiting for an answer after the drain")
        print()
        lines = report(run, elapsed)
        print("\n".join(lines))
        cores = len(os.sched_getaffinity(0))
        print(
            f"CPU during the run: gunicorn {server_cpu:.0f} s, PostgreSQL "
            f"{f'{pg_cpu:.0f} s' if pg_pid else 'not measured'}, this client {client_cpu:.0f} s, "
            f"of {cores * elapsed:.0f} s ({cores} CPUs x {elapsed:.0f} s); gunicorn "
            f"{server_cpu * 1000 / max(1, sum(map(len, stats.times.values()))):.0f} ms of CPU "
            "per request"
        )
        later = run.feed_changes - run.feed_same_time - run.feed_backwards
        print(
            f"sessions' places changed: {run.edits}; feeds answered in full after a change: "
            f"{run.feed_changes}, Last-Modified later in {later}, the same second in "
            f"{run.feed_same_time}, earlier in {run.feed_backwards}; cron rounds: {cron.rounds}"
        )
        for message in cron.errors[:10]:
            stats.error(message)
        if stats.errors:
            print("\nfirst errors:")
            for message in stats.errors:
                print(f"  {message}")
            status = 1
        print()
        problems = verify(url, run, dataset, audit_key, mail_checked=True)
        problems += verify_mail(url, run, dataset, [s.outbox for s in servers])
        for problem in problems[:50]:
            print(f"MISMATCH: {problem}")
        if problems:
            status = 1
        for name, found in (
            ("gunicorn", [line for server in servers for line in server.log_problems()]),
            ("postgres", postgres.log_problems() if postgres else []),
        ):
            if found:
                print(f"\n{name} log: {len(found)} problem lines, first ones:")
                for line in found[:10]:
                    print(f"  {line}")
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"\nload average after: {' '.join(load)}")
        print("result:", "PASS" if status == 0 else "FAIL")
    finally:
        if cron is not None:
            cron.stop.set()
        for server in servers:
            server.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return status


def setup_audit_key(instance: Path) -> str:
    """The key ``build_dataset`` sealed the audit log with (renkei.config._audit_key): the
    server must go on with it, or the demo's entries no longer verify and logins fail."""
    return os.environ.get("AUDIT_KEY", "").strip() or (instance / "audit_key").read_text().strip()


if __name__ == "__main__":
    sys.exit(main())
