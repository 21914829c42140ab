"""Drill: PostgreSQL restarted, and stopped for a few seconds, under the load test's traffic.

Members and secretaries (bench/load_test.py's users, who here start again after an error)
work against gunicorn while the drill runs ``pg_ctl restart -m fast`` and, later,
``pg_ctl stop -m fast``, waits, and ``pg_ctl start``; the app is never restarted, and
/healthz is polled all along. Afterwards:

- errors only while the database was down (a request that failed overlaps an outage, plus
  a grace of a few seconds after PostgreSQL accepts connections again): a stale pooled
  connection after the restart must not fail a request (pre-ping);
- /healthz answered 503 while the database was stopped, never 200, and 200 again after;
- every acknowledged write is in the database, a write whose answer was lost is wholly there
  or not at all, and the audit chain verifies; no traceback in gunicorn's log, and the
  same gunicorn workers ran from start to end.

Figures: restarts, requests, errors inside and outside the outages, /healthz answers and
the time to recover.

    .venv/bin/python drills/drill_db_restart.py [--short] [--record] [--database postgres]

PostgreSQL only (a SQLite file has no server to restart). Exits non-zero when anything was
lost or wrong, and says what.
"""

import argparse
import contextlib
import http.client
import io
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # noqa: E402 (drills/ is on sys.path now)
import under_load as ul  # noqa: E402
from under_load import lt  # noqa: E402

TITLE = "Database restart"
FULL = ul.Options(members=60, secretaries=4, workers=3, seconds=75, ramp=5)
SHORT = ul.Options(members=8, secretaries=3, workers=2, seconds=24, ramp=1, think=(0.2, 0.8))
STOPPED = {"full": 6.0, "short": 3.0}  # seconds PostgreSQL stays stopped
GRACE = 1.0  # seconds after PostgreSQL is back during which a failure still counts as in it
SETTLE = 5.0  # seconds at least between the end of an outage and the next
PROBE_EVERY = 0.2  # seconds between two /healthz probes


@dataclass
class Outage:
    what: str
    began: float  # monotonic: the command was given
    down: float  # the server was stopped (= began for a restart)
    up: float  # PostgreSQL accepts connections again (pg_ctl -w returned)
    resumed: float = 0.0  # the users went on (after a quiet restart: later than ``up``)
    # Until when it was surely down: ``pg_ctl start`` given (a restart's moment of starting
    # again is not known: pg_ctl -w returns a little after the server accepts connections).
    until: float = 0.0


@dataclass
class Probe:
    started: float
    ended: float
    status: int  # 0: no answer


def pg_ctl(postgres: lt.Postgres, *action: str) -> None:
    """pg_ctl on the drill's cluster, with the options it was started with (its port and
    socket folder), logging to its own log file."""
    postgres.run(
        lt.pg_bin("pg_ctl"),
        "-D",
        str(postgres.data),
        "-l",
        str(postgres.log),
        "-o",
        f"-p {postgres.port} -k {postgres.socket_dir} -c listen_addresses=127.0.0.1",
        "-w",
        *action,
    )


def restart(postgres: lt.Postgres) -> Outage:
    began = time.monotonic()
    pg_ctl(postgres, "-m", "fast", "restart")
    return Outage("pg_ctl restart -m fast", began, began, time.monotonic())


def quiet_restart(postgres: lt.Postgres, stats: ul.DrillStats) -> Outage:
    """A restart while nobody works (a patch at night): the users hold their requests, the
    database restarts, and they go on only after the grace. Each worker's pooled connections
    are then stale: without pre-ping the first request on each fails, after the outage."""
    stats.quiet()
    try:
        outage = restart(postgres)
        time.sleep(GRACE + 1.0)
    finally:
        stats.gate.set()
    outage.resumed = time.monotonic()
    outage.what = "pg_ctl restart -m fast while the users pause"
    return outage


def stop_and_start(postgres: lt.Postgres, seconds: float) -> Outage:
    began = time.monotonic()
    pg_ctl(postgres, "-m", "fast", "stop")
    down = time.monotonic()
    time.sleep(seconds)
    until = time.monotonic()
    pg_ctl(postgres, "start")
    what = f"pg_ctl stop -m fast, {seconds:g} s, start"
    return Outage(what, began, down, time.monotonic(), until=until)


def probe_health(
    port: int, probes: list[Probe], done: threading.Event, gate: threading.Event
) -> None:
    while not done.is_set():
        gate.wait()  # the probe pauses with the users (a quiet restart means no requests)
        started = time.monotonic()
        status = 0
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
            finally:
                conn.close()
        probes.append(Probe(started, time.monotonic(), status))
        done.wait(PROBE_EVERY)


def outages(traffic: ul.Traffic, postgres: lt.Postgres, stopped: float) -> list[Outage]:
    """A restart while the users pause at 20 % of the run, a stop and start under traffic at
    55 % (and in the full drill a restart under traffic at 10 % and at 85 %), each at least
    SETTLE seconds after the one before."""
    first = traffic.begin + traffic.options.ramp
    length = traffic.run.deadline - first
    plan = [
        (0.2, lambda: quiet_restart(postgres, traffic.stats)),
        (0.55, lambda: stop_and_start(postgres, stopped)),
    ]
    if length > 30:  # the full drill: a restart under traffic before, and another after
        plan.insert(0, (0.1, lambda: restart(postgres)))
        plan.append((0.85, lambda: restart(postgres)))
    done: list[Outage] = []
    for share, action in plan:
        # Apart enough that the requests held up by one are answered before the next.
        settled = max(done[-1].up, done[-1].resumed) + SETTLE if done else 0.0
        time.sleep(max(0.0, first + share * length - time.monotonic(), settled - time.monotonic()))
        done.append(action())
    return done


def drill(options: ul.Options, stopped: float) -> tuple[bool, list[str]]:
    folder = Path(tempfile.mkdtemp(prefix="renkei-drill-restart-"))
    postgres = traffic = None
    done = threading.Event()
    try:
        url, postgres = ul.open_database("postgres", folder)
        traffic = ul.Traffic(url, options, folder=folder)
        traffic.prepare()
        workers = sorted(ul.children(traffic.server.process.pid))
        probes: list[Probe] = []
        traffic.start()
        prober = threading.Thread(
            target=probe_health,
            args=(traffic.server.port, probes, done, traffic.stats.gate),
            daemon=True,
        )
        prober.start()
        print(f"postgres: traffic on for {options.seconds:g} s, restarting the database...")
        sys.stdout.flush()
        made = outages(traffic, postgres, stopped)
        traffic.join()
        done.set()
        prober.join(15)
        same_workers = sorted(ul.children(traffic.server.process.pid)) == workers
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            problems, counts = traffic.check()
        return judge(traffic, options, made, probes, same_workers, problems, counts, out)
    finally:
        done.set()
        if traffic is not None:
            traffic.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


def inside(started: float, ended: float, made: list[Outage]) -> bool:
    return any(started <= o.up + GRACE and ended >= o.began for o in made)


def recovery(made: list[Outage], probes: list[Probe], stats: ul.DrillStats) -> tuple[float, float]:
    """The longest time from PostgreSQL being back to /healthz answering 200, and to a
    user's request succeeding."""
    health, users = 0.0, 0.0
    for outage in made:
        back = max(outage.up, outage.resumed)
        ok = [p.ended for p in probes if p.started >= back and p.status == 200]
        answered = [end for end, status in stats.ends if end >= back and 0 < status < 400]
        health = max(health, (min(ok) - back) if ok else float("inf"))
        users = max(users, (min(answered) - back) if answered else float("inf"))
    return health, users


def judge(traffic, options, made, probes, same_workers, problems, counts, out):
    stats = traffic.stats
    failures_in = [f for f in stats.failures if inside(f.started, f.ended, made)]
    failures_out = [f for f in stats.failures if not inside(f.started, f.ended, made)]
    statuses_in = sorted({f.status for f in failures_in})
    stopped = [p for p in probes if any(o.down <= p.started and p.ended <= o.until for o in made)]
    outside = [p for p in probes if not inside(p.started, p.ended, made)]
    health_back, users_back = recovery(made, probes, stats)
    tracebacks = ul.log_lines(traffic.server, "Traceback")
    took = sorted(p.ended - p.started for p in probes)
    median = took[len(took) // 2] if took else 0.0
    lines = [
        f"postgres: {options.members} members + {options.secretaries} secretaries, "
        f"{options.workers} gunicorn workers, {options.seconds:g} s after a {options.ramp:g} s "
        f"ramp ({traffic.elapsed:.0f} s with the drain)",
        *(f"  outage: {o.what}: down {o.up - o.began:.1f} s" for o in made),
        f"  restarts: {len(made)}; the app not restarted: "
        f"{'yes, the same workers throughout' if same_workers else 'NO, workers changed'}",
        f"  requests: {traffic.requests()}; errors while the database was down (+{GRACE:g} s): "
        f"{len(failures_in)} (statuses {statuses_in}); errors outside: {len(failures_out)}; "
        f"other errors: {traffic.other_errors()}",
        f"  /healthz: {len(probes)} probes; while stopped: "
        f"{sum(p.status == 503 for p in stopped)} x 503, {sum(p.status == 200 for p in stopped)}"
        f" x 200 of {len(stopped)}; outside the outages: "
        f"{sum(p.status == 200 for p in outside)} x 200 of {len(outside)}; answered in "
        f"{median * 1000:.0f} ms (median), {took[-1] * 1000 if took else 0:.0f} ms (slowest)",
        f"  recovery after PostgreSQL is back: /healthz 200 within {health_back:.1f} s, a "
        f"user's request within {users_back:.1f} s",
        f"  {ul.writes_sent(stats.sent)}; {ul.lost_answers(counts)}",
        f"  {out.getvalue().strip()}",
        f"  gunicorn log: {len(tracebacks)} tracebacks",
    ]
    failures = [f"MISMATCH: {p}" for p in problems[:30]]
    if failures_out:
        failures.append(f"{len(failures_out)} errors outside the outages")
        failures += [f"  {f.method} {f.kind} {f.status}" for f in failures_out[:5]]
    if traffic.other_errors():
        failures.append(f"{traffic.other_errors()} errors that were not a failed request")
    if any(p.status == 200 for p in stopped) or not any(p.status == 503 for p in stopped):
        failures.append("/healthz did not report the stopped database (503)")
    if any(p.status != 200 for p in outside):
        failures.append("/healthz failed outside the outages")
    if tracebacks:
        failures.append(f"{len(tracebacks)} tracebacks in gunicorn's log")
    if not same_workers:
        failures.append("gunicorn's workers changed: the app was restarted")
    if health_back == float("inf") or users_back == float("inf"):
        failures.append("the app did not recover after an outage")
    lines += [f"  FAIL: {f}" for f in failures]
    lines.append(f"  result: {'FAIL' if failures else 'PASS'}")
    return not failures, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about 40 s)")
    parser.add_argument("--record", action="store_true", help="write the figures to RESULTS.md")
    parser.add_argument("--database", choices=("postgres",), default="postgres")
    args = parser.parse_args()
    options = SHORT if args.short else FULL

    started = time.monotonic()
    header = results.machine(results.postgres_version())
    header.append(f"options: {'--short' if args.short else 'full'}")
    print("\n".join(header))
    ok, lines = drill(options, STOPPED["short" if args.short else "full"])
    print("\n".join(lines))
    return results.conclude(TITLE, header, lines, ok, since=started, record_it=args.record)


if __name__ == "__main__":
    sys.exit(main())
