"""Mail outage drill (issue 24): the mail server refuses connections while sessions are
convened, changed and cancelled; afterwards every queued message is delivered exactly once,
in order per person, and nothing stays 'sending'.

For each database (SQLite, and PostgreSQL on a throw-away cluster of its own):

1. The app on a fresh database with the demo town, pointed at an SMTP port on loopback where
   nothing listens yet (connections refused). Short leases and retries (``--lease``).
2. Outage: the secretary schedules sessions, sends their convening notices, changes the time
   of some (and sends the change notices), cancels others — all through the pages (Flask's
   test client), each request trying to deliver at once and failing. Cron-like
   ``deliver(now=True)`` rounds fail too. The session page shows the backlog to the
   secretary, not to a member.
3. A sender that died mid-send: one invitation (of a session then cancelled) is claimed for
   sending by a "worker" that never finishes.
4. The server comes back (aiosmtpd, same port). Two workers deliver at the same time: all but
   the abandoned message and what waits behind it go out; the abandoned one is not sent
   while its lease runs. After the lease, two workers again deliver the rest.
5. Checks: every row 'sent', each Message-ID received once (duplicates 0), nothing received
   that was not queued, per address in the order queued (the cancellation after the
   invitation), nothing 'sending' (stuck 0), the backlog notice gone.

    .venv/bin/python drills/drill_mail_outage.py [--short] [--record]
        [--database sqlite|postgres|both]

Exits 1 when anything was lost, duplicated, out of order or stuck (and says what).
"""

import argparse
import contextlib
import email
import email.policy
import logging
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.common import fresh_app  # noqa: E402
from bench.load_test import Postgres, pg_bin  # noqa: E402
from renkei.models import Body, MailMessage, MailStatus  # noqa: E402
from renkei.services import demo, mail  # noqa: E402
from renkei.services.dates import today  # noqa: E402
from renkei.services.mail import delivery  # noqa: E402
from tests.smtp import SmtpServer  # noqa: E402

TITLE = "Mail outage"
RESULTS = ROOT / "drills" / "RESULTS.md"
PASSWORD = "renkei-demo"  # the demo accounts'
SECRETARY, MEMBER = "secretary@example.jp", "member.both@example.jp"
BODIES = ("みどり町支援会議", "みどり町生活支援体制整備協議体（第1層）")  # a joint session
NOTICE = 'id="mail-backlog"'
DEAD_WORKER = "drill-dead-worker:0"


@dataclass
class Plan:
    sessions: int  # convened during the outage
    changed: int  # of which get a new time (change notices)
    cancelled: int  # of which are cancelled (cancellation notices)
    rounds: int  # send-mail rounds during the outage
    lease: float  # MAIL_LEASE_SECONDS


SHORT = Plan(sessions=4, changed=1, cancelled=2, rounds=2, lease=3)
FULL = Plan(sessions=12, changed=4, cancelled=4, rounds=5, lease=8)


@dataclass
class Figures:
    database: str
    queued: int = 0
    failed_attempts: int = 0  # attempts that failed while the server was out
    delivered: int = 0  # distinct queued messages the server received
    duplicates: int = 0
    stuck: int = 0  # not 'sent' at the end
    held: int = 0  # times a message waited behind an earlier one to its address
    reclaimed: int = 0  # abandoned claims taken up again after their lease
    max_delay: float = 0.0  # seconds from queued to sent
    outage: float = 0.0  # seconds the server was out
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


# --- Through the pages --------------------------------------------------------------------


def login(app, address: str):
    client = app.test_client()
    response = client.post("/login", data={"email": address, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"login of {address} failed ({response.status_code})")
    return client


def post(client, url: str, data: dict) -> str:
    """Post a form, confirming its warnings (overlaps, holidays) once; the redirect target."""
    response = client.post(url, data=data)
    if response.status_code == 200:
        found = re.search(r'name="confirmed" type="hidden" value="([^"]+)"', response.text)
        if found:
            response = client.post(url, data={**data, "confirmed": found.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"POST {url} answered {response.status_code}")
    return response.headers["Location"]


def session_form(app, title: str, day: date, start: str, end: str) -> dict:
    with app.app_context():
        db = app.extensions["renkei.sessionmaker"]()
        try:
            ids = [db.scalar(select(Body.id).where(Body.name == name)) for name in BODIES]
        finally:
            db.close()
    return {
        "title": title,
        "body_ids": ids,
        "host_body_id": ids[0],
        "start_date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "mode": "in_person",
        "place": "役場 第1会議室",
        "notes": "",
    }


def outage_traffic(app, secretary, plan: Plan) -> tuple[list[int], list[int]]:
    """Schedule and convene sessions, change some, cancel others; (all ids, cancelled)."""
    first = today() + timedelta(days=30)
    sessions, forms = [], {}
    for n in range(plan.sessions):
        form = session_form(app, f"訓練 第{n + 1}回", first + timedelta(days=n), "14:00", "16:00")
        location = post(secretary, "/sessions/new", form)
        session_id = int(location.rstrip("/").split("/")[-1])
        post(secretary, f"/sessions/{session_id}/convene", {})
        sessions.append(session_id)
        forms[session_id] = form
    for session_id in sessions[: plan.changed]:
        moved = {**forms[session_id], "start_time": "15:00", "end_time": "17:00"}
        post(secretary, f"/sessions/{session_id}/edit", {**moved, "confirmed": "yes"})
        post(secretary, f"/sessions/{session_id}/notices", {})
    cancelled = sessions[plan.changed : plan.changed + plan.cancelled]
    for session_id in cancelled:
        post(secretary, f"/sessions/{session_id}/cancel", {"reason": "訓練"})
    return sessions, cancelled


# --- Delivering ---------------------------------------------------------------------------


def workers(app, count: int, *, now: bool) -> list[mail.DeliveryResult]:
    """``count`` send-mail runs at the same time, each with its own database session."""
    settings = mail.MailSettings.from_config(app.config, app.instance_path)
    results: list[mail.DeliveryResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        db = app.extensions["renkei.sessionmaker"]()
        try:
            results.append(mail.deliver(db, settings, now=now))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise RuntimeError(f"a delivery worker failed: {errors[0]!r}")
    return results


def abandon_one(app, cancelled: list[int]) -> int:
    """A worker claims the member's invitation to a cancelled session, then dies."""
    db = app.extensions["renkei.sessionmaker"]()
    try:
        message_id = db.scalar(
            select(MailMessage.id).where(
                MailMessage.session_id == cancelled[0],
                MailMessage.to_address == MEMBER,
                MailMessage.kind == mail.INVITE,
            )
        )
        if message_id is None or not delivery._claim(db, message_id, owner=DEAD_WORKER):
            raise RuntimeError("could not claim a message to abandon")
        return message_id
    finally:
        db.close()


def rows(app) -> list[MailMessage]:
    db = app.extensions["renkei.sessionmaker"]()
    try:
        found = list(db.scalars(select(MailMessage).order_by(MailMessage.id)))
        db.expunge_all()
        return found
    finally:
        db.close()


def message_id_of(content: bytes) -> str:
    return str(email.message_from_bytes(content, policy=email.policy.default)["Message-ID"])


# --- The drill ----------------------------------------------------------------------------


def drill(database: str, plan: Plan) -> Figures:
    figures = Figures(database)
    began = time.monotonic()
    cluster = Postgres() if database == "postgres" else None
    smtp = SmtpServer()  # a port of its own, nobody listening yet: connections refused
    app = None
    try:
        app = fresh_app(cluster.start() if cluster else None)
        app.config.update(
            SMTP_HOST=smtp.host,
            SMTP_PORT=smtp.port,
            SMTP_STARTTLS=False,
            SMTP_USER="",
            SMTP_TIMEOUT=2,
            MAIL_DELIVERY="sync",
            MAIL_FROM="",
            MAIL_LEASE_SECONDS=plan.lease,
            MAIL_RETRY_SECONDS=1,
            NOTICE_TIMER="0",
            BASE_URL="https://renkei.drill.invalid",
        )
        db = app.extensions["renkei.sessionmaker"]()
        with app.app_context():
            demo.load(db, sessions=False)
            db.commit()
        db.close()
        run(app, smtp, plan, figures)
    except Exception as error:  # a failed step is a failed drill, reported with the others
        figures.problems.append(f"{type(error).__name__}: {error}")
    finally:
        smtp.stop()
        if app is not None:
            app.extensions["renkei.engine"].dispose()
            shutil.rmtree(app.instance_path, ignore_errors=True)
        if cluster:
            cluster.stop()
    figures.seconds = time.monotonic() - began
    return figures


def run(app, smtp: SmtpServer, plan: Plan, figures: Figures) -> None:
    secretary, member = login(app, SECRETARY), login(app, MEMBER)
    out_since = time.monotonic()
    sessions, cancelled = outage_traffic(app, secretary, plan)
    for _ in range(plan.rounds):  # cron's send-mail --now, failing
        if sum(result.sent for result in workers(app, 1, now=True)):
            figures.problems.append("a message was sent while the server was out")
    page = secretary.get(f"/sessions/{sessions[0]}").text
    if NOTICE not in page:
        figures.problems.append("the session page did not show the backlog to the secretary")
    if NOTICE in member.get(f"/sessions/{sessions[0]}").text or NOTICE in member.get("/").text:
        figures.problems.append("a member was shown the backlog")
    if NOTICE not in secretary.get("/").text:
        figures.problems.append("the home page did not show the backlog to the secretary")
    abandoned = abandon_one(app, cancelled)
    queued = rows(app)
    figures.queued = len(queued)
    figures.failed_attempts = sum(r.attempts for r in queued)
    if any(r.status == MailStatus.SENT for r in queued):
        figures.problems.append("a message counted as sent during the outage")

    smtp.start()  # the server is back, on the same port
    figures.outage = time.monotonic() - out_since
    claimed_at = time.monotonic()
    early = workers(app, 2, now=True)
    figures.held += sum(r.held for r in early)
    if any(message_id_of(r.content) == _mid(queued, abandoned) for r in smtp.received):
        figures.problems.append("the abandoned message was sent before its lease expired")
    time.sleep(max(0.0, plan.lease - (time.monotonic() - claimed_at)) + 0.5)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # retries are due after 1 s; bounded
        late = workers(app, 2, now=False)
        figures.held += sum(r.held for r in late)
        if all(r.status == MailStatus.SENT for r in rows(app)):
            break
        time.sleep(1)
    check(app, smtp, figures)
    again = next(r for r in rows(app) if r.id == abandoned)
    figures.reclaimed = int(again.status == MailStatus.SENT and again.claimed_by != DEAD_WORKER)
    if not figures.reclaimed:
        figures.problems.append("the abandoned message was not taken up after its lease")
    if NOTICE in secretary.get(f"/sessions/{sessions[0]}").text:
        figures.problems.append("the backlog notice stayed after the mail had gone")


def _mid(queued: list[MailMessage], message_id: int) -> str:
    return next(message_id_of(r.content) for r in queued if r.id == message_id)


def check(app, smtp: SmtpServer, figures: Figures) -> None:
    """Exactly once, in order per address, nothing stuck."""
    final = rows(app)
    by_mid = {message_id_of(r.content): r for r in final}
    received = Counter(message_id_of(r.content) for r in smtp.received)
    figures.delivered = sum(1 for mid in received if mid in by_mid)
    figures.duplicates = sum(n - 1 for n in received.values() if n > 1)
    figures.stuck = sum(1 for r in final if r.status != MailStatus.SENT)
    missing = [r.id for r in final if message_id_of(r.content) not in received]
    strangers = [mid for mid in received if mid not in by_mid]
    order: dict[str, list[int]] = defaultdict(list)
    for item in smtp.received:
        for address in item.rcpt_tos:
            order[address.lower()].append(by_mid[message_id_of(item.content)].id)
    out_of_order = [a for a, ids in order.items() if ids != sorted(ids)]
    delays = [(r.sent_at - r.created_at).total_seconds() for r in final if r.sent_at]
    figures.max_delay = max(delays, default=0.0)
    for count, what in (
        (figures.duplicates, "duplicates"),
        (figures.stuck, "messages not sent (stuck)"),
        (len(missing), "queued messages never received"),
        (len(strangers), "received messages that were not queued"),
        (len(out_of_order), "addresses receiving out of order"),
    ):
        if count:
            figures.problems.append(f"{count} {what}")
    if figures.queued != len(final):
        figures.problems.append(f"{len(final) - figures.queued} messages queued after the outage")


# --- Output -------------------------------------------------------------------------------

COLUMNS = (
    ("database", "database"),
    ("queued", "messages queued"),
    ("failed_attempts", "attempts failed during outage"),
    ("delivered", "delivered"),
    ("duplicates", "duplicates"),
    ("held", "held in order"),
    ("reclaimed", "re-claimed after lease"),
    ("stuck", "stuck"),
    ("max_delay", "max delay (s)"),
    ("outage", "outage (s)"),
    ("seconds", "drill (s)"),
)


def table(all_figures: list[Figures]) -> list[str]:
    lines = [
        "| " + " | ".join(label for _, label in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for f in all_figures:
        cells = []
        for name, _ in COLUMNS:
            value = getattr(f, name)
            cells.append(f"{value:.1f}" if isinstance(value, float) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine(databases: list[str]) -> str:
    versions = [f"SQLite {sqlite3.sqlite_version}"]
    if "postgres" in databases:
        with contextlib.suppress(OSError, SystemExit):
            found = subprocess.run(
                [pg_bin("postgres"), "--version"], capture_output=True, text=True
            )
            versions.append(found.stdout.strip())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs (nproc {_nproc()}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, {', '.join(v for v in versions if v)}; "
        f"load average {load}"
    )


def _nproc() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return "?"


def record(section: list[str]) -> None:
    """Replace this drill's section of drills/RESULTS.md (or add it)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Fault drills: results\n"
    heading = f"## {TITLE}"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    block = "\n".join(section) + "\n\n"
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block
    )
    RESULTS.write_text(text.rstrip() + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about 30 s)")
    parser.add_argument("--record", action="store_true", help=f"write to {RESULTS.name}")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    # A TERM (a CI timeout) unwinds through the finally blocks: servers and clusters stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Each failed attempt is logged as a warning: thousands of lines here, counted instead.
    logging.getLogger("renkei.services.mail.delivery").setLevel(logging.ERROR)
    plan = SHORT if args.short else FULL
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = []
    for database in databases:
        print(
            f"{TITLE} on {database}: {plan.sessions} sessions convened during the outage, "
            f"{plan.changed} moved, {plan.cancelled} cancelled, {plan.rounds} send-mail "
            f"rounds, one sender dead mid-send, lease {plan.lease:g} s",
            flush=True,
        )
        results.append(drill(database, plan))
    lines = table(results)
    print("\n".join(lines))
    failed = [(f.database, p) for f in results for p in f.problems]
    for database, problem in failed:
        print(f"FAILED ({database}): {problem}", file=sys.stderr)
    if args.record:
        section = [
            f"## {TITLE}",
            "",
            f"{today().isoformat()}, {'--short' if args.short else 'full'} run; "
            f"{machine(databases)}.",
            "",
            "SMTP refused connections while sessions were convened, moved and cancelled "
            "through the pages; one sender died holding a claim. After the server came back, "
            "two workers delivered at once, before and after the lease.",
            "",
            *lines,
            "",
            "Result: " + ("FAILED: " + "; ".join(p for _, p in failed) if failed else "passed"),
        ]
        record(section)
    print("passed" if not failed else "FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
