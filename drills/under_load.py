"""What the database fault drills share: the load test's traffic (bench/load_test.py: its
dataset, its members and secretaries, its checks) with users who carry on after an error, a
record of every write each user sent and how it ended, and the checks afterwards that allow
for writes whose answer was lost (the worker died, the database went away): such a write is
either wholly in the database or not at all, never half.

Not a drill itself (run_all runs only drill_*.py).
"""

import http.client
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import load_test as lt  # noqa: E402 (the repository root is on sys.path now)

PAUSE_AFTER_ERROR = 1.0  # seconds a user waits before starting again after an error


# --- What the users sent, and what they saw -----------------------------------------------


@dataclass
class Sent:
    """One write (a POST) a user sent and how it ended: the status (0: no answer, the
    connection was lost) and, for a minutes section, the revision the answer gave."""

    user: str
    kind: str
    path: str
    form: dict[str, str]
    started: float
    ended: float
    status: int
    acknowledged: bool
    revision: int | None = None


@dataclass
class Failure:
    started: float
    ended: float
    kind: str
    method: str
    status: int  # 0: the connection was lost, no answer
    timeout: bool = False  # no answer within load_test.REQUEST_TIMEOUT (not a lost connection)


class DrillStats(lt.Stats):
    """The load test's counts, plus every write sent and every request that failed, with
    their times (a failure inside a database outage is expected, one outside is not)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.failures: list[Failure] = []
        self.ends: list[tuple[float, int]] = []  # (monotonic end, status) of every request
        self.local = threading.local()
        # Cleared, the users hold their next request (a quiet moment, as at night) and
        # ``in_flight`` says how many are still being answered.
        self.gate = threading.Event()
        self.gate.set()
        self.in_flight = 0

    def quiet(self, seconds: float = 30.0) -> None:
        """Hold the users' next requests and wait for those in flight to be answered."""
        self.gate.clear()
        deadline = time.monotonic() + seconds
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)

    def add(self, kind: str, status: int, seconds: float) -> None:
        super().add(kind, status, seconds)
        self.local.status = status
        with self.lock:
            self.ends.append((time.monotonic(), status))


class RecordingBrowser(lt.Browser):
    stats: DrillStats

    def request(self, kind, method, path, *, expect, form=None, headers=None):
        self.stats.gate.wait()
        with self.stats.lock:
            self.stats.in_flight += 1
        started = time.monotonic()
        try:
            response, data = super().request(
                kind, method, path, expect=expect, form=form, headers=headers
            )
        except lt.Unexpected as error:
            lost = isinstance(error.__cause__, OSError | http.client.HTTPException)
            status = 0 if lost else self.stats.local.status
            ended = time.monotonic()
            waited = isinstance(error.__cause__, TimeoutError)
            with self.stats.lock:
                self.stats.failures.append(Failure(started, ended, kind, method, status, waited))
            self._note(kind, method, path, form, started, status, acknowledged=False)
            raise
        finally:
            with self.stats.lock:
                self.stats.in_flight -= 1
        revision = None
        if kind == "minutes_save" and response.status == 200:
            revision = int(re.search(rb'"revision":\s*(\d+)', data).group(1))
        self._note(kind, method, path, form, started, response.status, True, revision)
        return response, data

    def _note(self, kind, method, path, form, started, status, acknowledged, revision=None):
        if method != "POST":
            return
        sent = Sent(
            threading.current_thread().name,
            kind,
            path,
            dict(form or {}),
            started,
            time.monotonic(),
            status,
            acknowledged,
            revision,
        )
        with self.stats.lock:
            self.stats.sent.append(sent)


def keep_going(run: lt.Run, loop, *args) -> None:
    """A user who saw an error starts again (logs in again, as a person would reload), until
    the time is up: the load test's users stop at their first error."""
    while time.monotonic() < run.deadline:
        loop(run, *args)
        time.sleep(PAUSE_AFTER_ERROR)


# --- The traffic --------------------------------------------------------------------------


@dataclass
class Options:
    members: int
    secretaries: int
    workers: int
    seconds: float
    ramp: float = 3.0
    think: tuple[float, float] = (0.3, 1.2)
    seed: int = 1


@dataclass
class Traffic:
    """A dataset, gunicorn on it, and the users; ``check`` afterwards."""

    url: str
    options: Options
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="renkei-drill-")))
    server: lt.Server | None = None
    run: lt.Run | None = None
    threads: list[threading.Thread] = field(default_factory=list)

    def prepare(self) -> None:
        started = time.monotonic()
        opts = self.options
        self.dataset = lt.build_dataset(
            self.url, opts.members, opts.secretaries, self.folder / "setup"
        )
        self.poll = add_poll(self.url, self.dataset, self.folder / "setup")
        cheap_logins(self.url)
        key = lt.setup_audit_key(self.folder / "setup")
        self.server = lt.Server(self.url, opts.workers, self.folder, key)
        self.server.wait_healthy()
        self.server.warm_up(opts.workers)
        print(f"setup: {time.monotonic() - started:.1f} s; gunicorn: {opts.workers} workers")

    def start(self) -> None:
        opts = self.options
        self.stats = DrillStats()
        self.begin = time.monotonic()
        self.run = lt.Run(
            port=self.server.port,
            deadline=self.begin + opts.ramp + opts.seconds,
            ramp=opts.ramp,
            think=opts.think,
            stats=self.stats,
            seed=opts.seed,
            duration=opts.seconds,
            browser_class=RecordingBrowser,
        )
        for i, member in enumerate(self.dataset.members):
            args = (self.run, lt.member_loop, member, i)
            self.threads.append(threading.Thread(target=keep_going, args=args, name=f"m{i}"))
        for k, secretary in enumerate(self.dataset.secretaries):
            args = (self.run, lt.secretary_loop, secretary, self.dataset.drafts, k)
            self.threads.append(threading.Thread(target=keep_going, args=args, name=f"s{k}"))
        for name, index, _person in self.poll.answerers:
            args = (self.run, poll_loop, self.poll, self.dataset.members[index], index)
            self.threads.append(threading.Thread(target=keep_going, args=args, name=name))
        for thread in self.threads:
            thread.daemon = True
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(max(0.1, self.run.deadline + lt.DRAIN - time.monotonic()))
        self.elapsed = time.monotonic() - self.begin
        stuck = sum(thread.is_alive() for thread in self.threads)
        if stuck:
            self.stats.error(f"{stuck} users still waiting for an answer after the drain")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def requests(self) -> int:
        return sum(len(times) for times in self.stats.times.values())

    def other_errors(self) -> int:
        """Errors that were not a request failing (a page without what the user needed)."""
        return self.stats.error_count - len(self.stats.failures)

    def check(self) -> tuple[list[str], dict[str, int]]:
        """Problems with the data (empty when none) and the counts of writes whose answer was
        lost, by what became of them."""
        counts: dict[str, int] = defaultdict(int)
        problems = reconcile(self.url, self.run, self.dataset, self.stats, counts)
        problems += check_poll(self.url, self.poll, self.stats.sent, counts)
        problems += lt.verify(self.url, self.run, self.dataset, self.server.audit_key)
        return problems, dict(counts)


def cheap_logins(url: str) -> None:
    """The load accounts' password with a cheap hash: every user logs in again after an
    error, and the drills are about writes, not about the cost of a login (scrypt's, on a
    busy machine, would take the short drill's seconds)."""
    from sqlalchemy import create_engine, update
    from werkzeug.security import generate_password_hash

    from renkei.models import Person

    cheap = generate_password_hash(lt.PASSWORD, "pbkdf2:sha256:1000")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            update(Person).where(Person.email.like("load.%@example.jp")).values(password_hash=cheap)
        )
    engine.dispose()


# --- Poll answers: the writes the load test's users lack ----------------------------------

CHOICES = ("yes", "maybe", "no")


@dataclass
class PollPlan:
    poll_id: int
    slot_ids: list[int]
    answerers: list[tuple[str, int, int]]  # (thread name, member index, person id)


def add_poll(url: str, dataset, instance: Path) -> PollPlan:
    """A date poll of the first load body, three candidate slots; its members answer it
    (each answer writes a row per slot, a history row per change and the invitee's
    comment: a write that can be half done)."""
    from datetime import time as clock
    from datetime import timedelta

    from sqlalchemy import select

    from renkei import create_app
    from renkei.models import Body, Person
    from renkei.services import polls
    from renkei.services.dates import today, tokyo_to_utc

    app = create_app({"DATABASE_URL": url}, instance_path=str(instance))
    with app.app_context():
        db = app.extensions["renkei.sessionmaker"]()
        body = db.scalars(select(Body).where(Body.name == "負荷試験 支援会議")).one()
        days = [today() + timedelta(days=40 + 7 * k) for k in range(3)]
        data = polls.PollData(
            title="負荷試験 日程調整",
            body_ids=[body.id],
            host_body_id=body.id,
            slots=[
                polls.SlotData(tokyo_to_utc(d, clock(14)), tokyo_to_utc(d, clock(16))) for d in days
            ],
        )
        by = db.get(Person, dataset.secretaries[0].person_id)
        poll = polls.create_poll(db, data, by=by)
        db.commit()
        asked = {invitee.person_id for invitee in poll.invitees}
        plan = PollPlan(
            poll.id,
            [slot.id for slot in poll.slots],
            [
                (f"p{i}", i, m.person_id)
                for i, m in enumerate(dataset.members)
                if m.person_id in asked
            ],
        )
        db.close()
    app.extensions["renkei.engine"].dispose()
    return plan


def poll_loop(run: lt.Run, plan: PollPlan, account, index: int) -> None:
    """A member opens the poll and answers it, again and again (changing their mind)."""
    import random
    import uuid

    rng = random.Random(run.seed * 100_003 + 90_000 + index)
    time.sleep(rng.uniform(0, run.ramp))
    browser = run.browser_class(run.port, run.stats)
    counter = 0
    try:
        browser.login(account.email)
        with run.lock:
            run.logins += 1
        while run.pause(rng):
            path = f"/polls/{plan.poll_id}"
            _r, page = browser.request("poll", "GET", path, expect={200})
            if not run.pause(rng):
                break
            counter += 1
            form = {
                "csrf_token": lt.csrf_of(page),
                "comment": f"負荷試験 {index:03d} 日程{counter} {uuid.uuid4().hex[:8]}",
            }
            form.update({f"slot-{slot}": rng.choice(CHOICES) for slot in plan.slot_ids})
            browser.request("poll_answer", "POST", f"{path}/answer", form=form, expect={302})
    except Exception as error:
        lt.stopped(run, f"poll answerer {index}", error)


def check_poll(url: str, plan: PollPlan, sent: list[Sent], counts) -> list[str]:
    """Each answerer's stored answer is exactly one they sent, every slot and the comment
    together: the last acknowledged one, or one sent after it whose answer was lost; and
    the history's last change of each slot is the choice stored."""
    from sqlalchemy import create_engine, select

    from renkei.models.polls import PollAnswer, PollAnswerChange, PollInvitee

    engine = create_engine(url)
    with engine.connect() as connection:
        choices: dict[int, dict[int, str]] = defaultdict(dict)
        for row in connection.execute(
            select(PollAnswer.person_id, PollAnswer.slot_id, PollAnswer.choice).where(
                PollAnswer.poll_id == plan.poll_id
            )
        ):
            choices[row.person_id][row.slot_id] = getattr(row.choice, "value", row.choice)
        comments = dict(
            connection.execute(
                select(PollInvitee.person_id, PollInvitee.comment).where(
                    PollInvitee.poll_id == plan.poll_id
                )
            ).all()
        )
        history: dict[tuple[int, int], str] = {}
        for row in connection.execute(
            select(PollAnswerChange.person_id, PollAnswerChange.slot_id, PollAnswerChange.new)
            .where(PollAnswerChange.poll_id == plan.poll_id)
            .order_by(PollAnswerChange.id)
        ):
            history[(row.person_id, row.slot_id)] = getattr(row.new, "value", row.new)
    engine.dispose()
    problems = []
    for name, index, person in plan.answerers:
        writes = sorted(
            (s for s in sent if s.kind == "poll_answer" and s.user == name), key=lambda s: s.started
        )
        stored = (choices.get(person, {}), comments.get(person, ""))
        last_ack = max((i for i, s in enumerate(writes) if s.acknowledged), default=-1)
        acked = _poll_value(writes[last_ack], plan) if last_ack >= 0 else ({}, "")
        lost = [_poll_value(s, plan) for s in writes[last_ack + 1 :] if not s.acknowledged]
        counts["poll answers unanswered"] += sum(not s.acknowledged for s in writes)
        counts["poll answers acknowledged"] += sum(s.acknowledged for s in writes)
        if stored != acked:
            if stored in lost:
                counts["poll answers unanswered, kept"] += 1
            else:
                problems.append(f"poll answer of member {index}: stored {stored}, sent {acked}")
        for slot, choice in stored[0].items():
            if history.get((person, slot)) != choice:
                problems.append(f"poll answer of member {index}, slot {slot}: history disagrees")
    return problems


def _poll_value(s: Sent, plan: PollPlan) -> tuple[dict[int, str], str]:
    return ({slot: s.form[f"slot-{slot}"] for slot in plan.slot_ids}, s.form["comment"])


# --- The checks ---------------------------------------------------------------------------


def reconcile(url: str, run: lt.Run, dataset, stats: DrillStats, counts) -> list[str]:
    """Count the writes whose answer was lost and that are in the database among the
    acknowledged ones (then ``verify`` checks them like any other); any stored row that is
    not exactly what a user sent is a problem."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            problems = _replies(connection, run, dataset, stats.sent, counts)
            problems += _sections(connection, run, dataset, stats.sent, counts)
            problems += _logins(connection, run, stats.sent, counts)
    finally:
        engine.dispose()
    return problems


def _unanswered(sent: list[Sent], kind: str) -> list[Sent]:
    return [s for s in sent if s.kind == kind and not s.acknowledged]


def _replies(connection, run, dataset, sent, counts) -> list[str]:
    from sqlalchemy import select

    from renkei.models import Reply

    person_of = {f"m{i}": m.person_id for i, m in enumerate(dataset.members)}
    members = list(person_of.values())
    stored = {
        (r.person_id, r.session_id): (r.answer, r.proxy_name, r.comment)
        for r in connection.execute(
            select(
                Reply.person_id, Reply.session_id, Reply.answer, Reply.proxy_name, Reply.comment
            ).where(Reply.person_id.in_(members), Reply.session_id.in_(dataset.upcoming))
        )
    }
    stored = {k: (getattr(a, "value", a), p, c) for k, (a, p, c) in stored.items()}
    by_key: dict[tuple[int, int], list[Sent]] = defaultdict(list)
    for s in sent:
        if s.kind == "reply":
            session_id = int(s.path.split("/")[2])
            by_key[(person_of[s.user], session_id)].append(s)
    problems = []
    for key, writes in by_key.items():
        writes.sort(key=lambda s: s.started)
        last_ack = max((i for i, s in enumerate(writes) if s.acknowledged), default=-1)
        lost = [_reply_value(s) for s in writes[last_ack + 1 :] if not s.acknowledged]
        counts["replies unanswered"] += len([s for s in writes if not s.acknowledged])
        now = stored.get(key)
        if now == run.replies.get(key):
            continue
        if now in lost:
            run.replies[key] = now  # the write was kept though its answer was lost
            counts["replies unanswered, kept"] += 1
        else:
            problems.append(f"reply {key}: stored {now}, which no write explains")
    return problems


def _reply_value(s: Sent) -> tuple[str, str, str]:
    return (s.form["answer"], s.form["proxy_name"], s.form["comment"])


def _sections(connection, run, dataset, sent, counts) -> list[str]:
    from sqlalchemy import select

    from renkei.models import MinutesSection

    saves: dict[int, list[Sent]] = defaultdict(list)
    for s in sent:
        if s.kind == "minutes_save":
            saves[int(s.path.rsplit("/", 1)[1])].append(s)
    stored = {
        row.id: (row.revision, row.text)
        for row in connection.execute(
            select(MinutesSection.id, MinutesSection.revision, MinutesSection.text).where(
                MinutesSection.id.in_(list(saves))
            )
        )
    }
    problems = []
    for section, writes in saves.items():
        counts["section saves unanswered"] += sum(not s.acknowledged for s in writes)
        revision, text = stored[section]
        acked = {s.revision for s in writes if s.acknowledged and s.revision is not None}
        # Each revision no acknowledged save made was made by a save whose answer was lost,
        # sent against the revision before it.
        start = dataset.initial_revisions[section]
        unanswered = [s for s in writes if not s.acknowledged]
        for made in sorted(set(range(start + 1, revision + 1)) - acked):
            based = [s for s in unanswered if int(s.form[f"s{section}-revision"]) == made - 1]
            if made == revision:  # the last one: the text it sent is the one stored
                based.sort(key=lambda s: s.form[f"s{section}-text"] != text)
            if not based:
                problems.append(f"section {section}: revision {made} made by no save sent")
                continue
            unanswered.remove(based[0])
            run.saves += 1
            counts["section saves unanswered, kept"] += 1
            if made == revision:
                if based[0].form[f"s{section}-text"] != text:
                    problems.append(f"section {section}: revision {made} holds a text not sent")
                run.saved[section] = (revision, text)
    return problems


def _logins(connection, run, sent, counts) -> list[str]:
    from sqlalchemy import func, select

    from renkei.models import AuditEntry

    stored = connection.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "login", AuditEntry.actor.like("load.%"))
    )
    lost = len(_unanswered(sent, "login"))
    counts["logins unanswered"] += lost
    if run.logins <= stored <= run.logins + lost:
        counts["logins unanswered, kept"] += stored - run.logins
        run.logins = stored
        return []
    return [f"audit log holds {stored} logins of load users: {run.logins} acknowledged + {lost}"]


def lost_answers(counts: dict[str, int]) -> str:
    """How many writes lost their answer, and how many of those were kept (wholly)."""
    kinds = ("replies", "section saves", "poll answers", "logins")
    parts = [
        f"{counts.get(f'{k} unanswered', 0)} {k} ({counts.get(f'{k} unanswered, kept', 0)} kept)"
        for k in kinds
    ]
    return "answer lost: " + ", ".join(parts)


def writes_sent(sent: list[Sent]) -> str:
    kinds = (("reply", "replies"), ("minutes_save", "section saves"))
    kinds += (("poll_answer", "poll answers"), ("login", "logins"))
    return "writes sent: " + ", ".join(
        f"{sum(s.kind == kind for s in sent)} {name}" for kind, name in kinds
    )


# --- Databases and the server's log -------------------------------------------------------


def open_database(name: str, folder: Path) -> tuple[str, lt.Postgres | None]:
    """The URL of an empty database: a SQLite file in ``folder``, or a throw-away PostgreSQL
    cluster (the caller stops it)."""
    if name == "sqlite":
        return f"sqlite:///{folder / 'drill.sqlite3'}", None
    postgres = lt.Postgres()
    try:
        return postgres.start(), postgres
    except BaseException:
        postgres.stop()
        raise


def log_lines(server: lt.Server, word: str) -> list[str]:
    return lt.lines_with(server.log, (word,))


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
