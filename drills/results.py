"""What the drills share: the repository root on sys.path (to import bench/ and renkei/),
clean-up on SIGTERM, the machine's description and the results page (drills/RESULTS.md:
## <drill title>, a fenced block of figures), the verdict at the end, and the disk, backup
and clock drills' command-line options (--short, --record, --database).

Not a drill itself (run_all runs only drill_*.py).
"""

import argparse
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _stop(_signal, _frame) -> None:
    raise SystemExit(143)


# A drill ended with SIGTERM (run_all's time limit, CI) unwinds: its finally blocks stop the
# servers and clusters it started and unmount what it mounted.
signal.signal(signal.SIGTERM, _stop)
RESULTS_TITLE = "# Fault drills: results"


def arguments(description: str, *, databases: tuple[str, ...]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--short", action="store_true", help="the CI version (~40 s at most)")
    parser.add_argument(
        "--record", action="store_true", help="write the figures to drills/RESULTS.md"
    )
    choices = (*databases, "both") if len(databases) > 1 else databases
    parser.add_argument(
        "--database",
        choices=choices,
        help=f"default: {choices[-1]}; with --short, {choices[0]} (CI's time budget)",
    )
    args = parser.parse_args()
    if args.database is None:
        args.database = choices[0] if args.short else choices[-1]
    return args


def wanted(args: argparse.Namespace, database: str) -> bool:
    return args.database in (database, "both")


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def postgres_version() -> str | None:
    from bench import load_test

    try:
        binary = load_test.pg_bin("postgres")
    except SystemExit:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


def machine(postgres: str | None) -> list[str]:
    return [
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: nproc {len(os.sched_getaffinity(0))}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}" + (f", {postgres}" if postgres else ""),
        f"load average before: {load_average()}",
    ]


def record(title: str, lines: list[str]) -> None:
    """Put ``lines`` under ``## title`` in drills/RESULTS.md, in place of that heading's
    previous section (the other drills' sections stay as they are)."""
    text = RESULTS.read_text() if RESULTS.exists() else f"{RESULTS_TITLE}\n"
    heading = f"## {title}"
    section = "\n".join([heading, "", "```", *lines, "```", ""]) + "\n"
    parts = re.split(r"(?m)^(?=## )", text)
    kept = [part for part in parts if part.split("\n", 1)[0].strip() != heading]
    if len(kept) == len(parts):
        kept.append(section)
    else:
        at = next(i for i, part in enumerate(parts) if part.split("\n", 1)[0].strip() == heading)
        kept.insert(at, section)
    joined = "".join(part if part.endswith("\n\n") else part.rstrip("\n") + "\n\n" for part in kept)
    RESULTS.write_text(joined.rstrip("\n") + "\n")
    print(f"recorded under '{heading}' in {RESULTS.relative_to(REPO)}")


class Report:
    """What a drill prints as it goes, kept for the results page; and what went wrong."""

    def __init__(self, title: str, postgres: bool) -> None:
        self.title = title
        self.lines = machine(postgres_version() if postgres else None)
        self.problems: list[str] = []
        for line in self.lines:
            print(line)

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def check(self, ok: bool, what: str) -> bool:
        """Say ``what`` with ok/FAILED; a failure is kept for the exit status."""
        self.say(f"  {'ok' if ok else 'FAILED'}: {what}")
        if not ok:
            self.problems.append(what)
        return ok

    def finish(self, record_it: bool) -> int:
        self.lines.append(f"load average after: {load_average()}")
        verdict = "PASSED" if not self.problems else f"FAILED ({len(self.problems)} problems)"
        self.say(f"result: {verdict}")
        for problem in self.problems:
            print(f"  - {problem}")
        if record_it:
            record(self.title, self.lines)
        return 1 if self.problems else 0


def run_each(title: str, args: argparse.Namespace, drill) -> int:
    """``drill(report, database, short)`` on each database asked for, then the verdict: a
    drill that breaks on one database is a failure said in one line, and the next still runs."""
    report = Report(title, postgres=wanted(args, "postgres"))
    report.say(f"version: {'short' if args.short else 'full'}")
    for database in ("sqlite", "postgres"):
        if wanted(args, database):
            try:
                drill(report, database, args.short)
            except Exception as error:  # the drill itself broke: say so, fail
                report.check(
                    False, f"{database}: the drill stopped: {type(error).__name__}: {error}"
                )
    return report.finish(args.record)


def conclude(
    title: str, header: list[str], lines: list[str], ok: bool, *, since: float, record_it: bool
) -> int:
    """The end of a drill that prints as it goes: wall time, load, the verdict, the figures
    recorded when asked; the exit status."""
    lines.append(
        f"wall time: {time.monotonic() - since:.0f} s; load average after: {load_average()}"
    )
    print(lines[-1])
    print("result:", "PASS" if ok else "FAIL")
    if record_it:
        record(title, [*header, *lines, f"result: {'PASS' if ok else 'FAIL'}"])
    return 0 if ok else 1
