"""Run every drill (drills/drill_*.py) in its short version, one after another, and print a
summary table: each drill's status (passed, skipped, FAILED, TIMEOUT), wall time and last
line. Exits non-zero if any drill failed or ran out of time. What `make drills` runs, and CI.

    .venv/bin/python drills/run_all.py [--full] [--record] [--timeout SECONDS] [name ...]

``name`` narrows to the drills whose file name contains it (``disk``, ``restore``); ``--full``
runs the full versions instead (minutes each), ``--record`` passes --record on.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT = 180  # seconds one short drill may take before it counts as failed


def drills(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("drill_*.py"))
    return [path for path in found if not names or any(name in path.name for name in names)]


def run(path: Path, extra: list[str], timeout: float) -> tuple[str, float, str]:
    """The drill's status, wall time and last line of output."""
    started = time.monotonic()
    # Its own process group, so that a drill out of time is ended with what it started (its
    # clean-up runs on SIGTERM: servers, clusters, mounts).
    process = subprocess.Popen(
        [sys.executable, str(path), *extra],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        output, _ = process.communicate(timeout=timeout)
        lines = output.splitlines()
        print(output, end="", flush=True)
        status = "passed" if process.returncode == 0 else "FAILED"
        if process.returncode == 0 and any(line.startswith("skipped") for line in lines):
            status = "skipped"
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        lines = (output or "").splitlines()
        print(output or "", end="", flush=True)
        status = "TIMEOUT"
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return status, time.monotonic() - started, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="run only the drills whose name contains one")
    parser.add_argument("--full", action="store_true", help="the full versions (minutes each)")
    parser.add_argument("--record", action="store_true", help="pass --record to each drill")
    parser.add_argument("--timeout", type=float, default=None, help=f"default {TIMEOUT} s")
    args = parser.parse_args()
    extra = ([] if args.full else ["--short"]) + (["--record"] if args.record else [])
    timeout = args.timeout or (TIMEOUT if not args.full else 3600)

    chosen = drills(args.names)
    if not chosen:
        print("no drills found")
        return 1
    summary = []
    for path in chosen:
        print(f"\n=== {path.name} {' '.join(extra)}", flush=True)
        summary.append((path.name, *run(path, extra, timeout)))

    width = max(len(name) for name, *_ in summary)
    print(f"\n{'drill':<{width}}  {'status':<8} {'seconds':>8}  last line")
    for name, status, seconds, last in summary:
        print(f"{name:<{width}}  {status:<8} {seconds:>8.1f}  {last[:90]}")
    total = sum(seconds for _name, _status, seconds, _last in summary)
    failed = [name for name, status, *_ in summary if status in ("FAILED", "TIMEOUT")]
    print(
        f"{len(summary)} drills in {total:.0f} s; "
        + (f"failed: {', '.join(failed)}" if failed else "none failed")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
