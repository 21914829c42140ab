"""Drill: a gunicorn worker killed (kill -9) at random moments under the load test's traffic.

Members reply to sessions and secretaries save minutes sections (bench/load_test.py's users,
who here start again after an error) against gunicorn with several workers, while a random
worker is killed again and again; gunicorn starts a new one each time. Afterwards:

- every acknowledged write is in the database (replies, section saves, logins), and a write
  whose answer was lost with the worker is either wholly there or not at all: each stored
  reply is exactly one the member sent, each section's text is the one sent with the
  revision it holds, and the revisions rose by exactly the saves that were kept;
- the audit log's hash chain verifies;
- the only errors the users saw are lost connections, no more than the kills (the request
  in flight on the killed worker); any error status (a 500) or broken page fails the drill,
  as does a traceback in gunicorn's log.

    .venv/bin/python drills/drill_worker_kill.py [--short] [--record]
        [--database sqlite|postgres|both] [--kills N] [--seconds S]

Exits non-zero when anything was lost or wrong, and says what.
"""

import argparse
import contextlib
import io
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # noqa: E402 (drills/ is on sys.path now)
import under_load as ul  # noqa: E402

TITLE = "Worker killed mid-write"
FULL = ul.Options(members=20, secretaries=3, workers=3, seconds=200, ramp=5, think=(1.0, 3.0))
SHORT = ul.Options(members=10, secretaries=3, workers=2, seconds=14, ramp=1, think=(0.2, 0.8))
KILLS = {"full": 24, "short": 3}  # per database
# Seconds at least between two kills: a new worker takes seconds of CPU to import the app
# (7 s of wall time on a busy 2-core machine); killing faster would leave the users with
# no worker at all, which is not the fault being drilled.
MIN_GAP = {"full": 6.0, "short": 2.0}


def kill_schedule(traffic: ul.Traffic, kills: int, rng: random.Random, gap: float) -> list[float]:
    """Random moments (monotonic) after the ramp, at least ``gap`` apart, before the end."""
    first = traffic.begin + traffic.options.ramp
    last = traffic.run.deadline - 1.0
    span = last - first - gap * kills
    if span < 0:
        raise SystemExit(f"{kills} kills do not fit in {traffic.options.seconds:g} s")
    offsets = sorted(rng.uniform(0, span) for _ in range(kills))
    return [first + offset + gap * n for n, offset in enumerate(offsets)]


def kill_workers(traffic: ul.Traffic, moments: list[float], rng: random.Random) -> list[int]:
    """At each moment, kill -9 a random worker (once the full set is back up)."""
    master = traffic.server.process.pid
    killed = []
    for moment in moments:
        time.sleep(max(0.0, moment - time.monotonic()))
        workers = ul.children(master)
        waited = time.monotonic() + 10
        while len(workers) < traffic.options.workers and time.monotonic() < waited:
            time.sleep(0.1)
            workers = ul.children(master)
        if not workers:
            continue
        victim = rng.choice(workers)
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    return killed


def drill(
    database: str, options: ul.Options, kills: int, gap: float, seed: int
) -> tuple[bool, list[str]]:
    folder = Path(tempfile.mkdtemp(prefix="renkei-drill-kill-"))
    postgres = traffic = None
    try:
        url, postgres = ul.open_database(database, folder)
        traffic = ul.Traffic(url, options, folder=folder)
        traffic.prepare()
        rng = random.Random(seed)
        traffic.start()
        print(f"{database}: traffic on, killing {kills} workers in {options.seconds:g} s...")
        sys.stdout.flush()
        killed = kill_workers(traffic, kill_schedule(traffic, kills, rng, gap), rng)
        traffic.join()
        time.sleep(2)  # gunicorn starts the last heir
        alive = len(ul.children(traffic.server.process.pid))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            problems, counts = traffic.check()
        return judge(database, traffic, options, killed, alive, problems, counts, out.getvalue())
    finally:
        if traffic is not None:
            traffic.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


def judge(database, traffic, options, killed, alive, problems, counts, checked):
    stats = traffic.stats
    lost = [f for f in stats.failures if f.status == 0 and not f.timeout]
    timeouts = [f for f in stats.failures if f.timeout]
    lost_writes = [f for f in lost if f.method == "POST"]
    statuses = sorted({f.status for f in stats.failures if f.status != 0})
    wrong = [f for f in stats.failures if f.status != 0]
    tracebacks = ul.log_lines(traffic.server, "Traceback")
    lines = [
        f"{database}: {options.members} members + {options.secretaries} secretaries, "
        f"{options.workers} gunicorn workers, {options.seconds:g} s after a "
        f"{options.ramp:g} s ramp ({traffic.elapsed:.0f} s with the drain)",
        f"  kills: {len(killed)} (kill -9 of a random worker); workers alive after: {alive} "
        f"of {options.workers}",
        f"  requests: {traffic.requests()}; connections lost: {len(lost)} "
        f"({len(lost_writes)} of them writes) for {len(killed)} kills; no answer within "
        f"{ul.lt.REQUEST_TIMEOUT:g} s: {len(timeouts)}; error statuses: "
        f"{len(wrong)} {statuses or ''}; other errors: {traffic.other_errors()}",
        f"  {ul.writes_sent(stats.sent)}; {ul.lost_answers(counts)}",
        f"  {checked.strip()}",
        f"  gunicorn log: {len(tracebacks)} tracebacks, "
        f"{len(ul.log_lines(traffic.server, 'SIGKILL'))} 'worker was sent SIGKILL' lines",
    ]
    failures = [f"MISMATCH: {p}" for p in problems[:30]]
    if len(lost) > len(killed):
        failures.append(f"{len(lost)} connections lost for {len(killed)} kills")
    if timeouts:
        failures.append(f"{len(timeouts)} requests not answered within the time allowed")
    if wrong:
        failures.append(f"{len(wrong)} requests answered an error status {statuses}")
        failures += [f"  {e}" for e in stats.errors if "HTTP" in e][:5]
    if traffic.other_errors():
        failures += [f"error: {e}" for e in stats.errors if "Error" not in e][:10]
        failures.append(f"{traffic.other_errors()} errors that were not a lost connection")
    if tracebacks:
        failures.append(f"{len(tracebacks)} tracebacks in gunicorn's log")
    if alive < options.workers:
        failures.append(f"only {alive} of {options.workers} workers running after the drill")
    if len(killed) < KILLS["short"]:
        failures.append(f"only {len(killed)} kills made")
    lines += [f"  FAIL: {f}" for f in failures]
    lines.append(f"  result: {'FAIL' if failures else 'PASS'}")
    return not failures, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about 40 s)")
    parser.add_argument("--record", action="store_true", help="write the figures to RESULTS.md")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--kills", type=int, help="kills per database")
    parser.add_argument("--seconds", type=float, help="seconds of traffic per database")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    options = SHORT if args.short else FULL
    if args.seconds:
        options.seconds = args.seconds
    kills = args.kills or KILLS["short" if args.short else "full"]

    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    started = time.monotonic()
    header = results.machine(results.postgres_version() if "postgres" in databases else None)
    header.append(f"options: {'--short' if args.short else 'full'}, seed {args.seed}")
    print("\n".join(header))
    lines, ok = [], True
    for database in databases:
        gap = MIN_GAP["short" if args.short else "full"]
        passed, figures = drill(database, options, kills, gap, args.seed)
        print("\n".join(figures))
        lines += figures
        ok = ok and passed
    return results.conclude(TITLE, header, lines, ok, since=started, record_it=args.record)


if __name__ == "__main__":
    sys.exit(main())
