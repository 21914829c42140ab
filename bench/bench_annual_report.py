"""Benchmark: the fiscal-year report (年度実績) of the large city, as a page and as a workbook.

Builds the city of bench/bench_city.py (its ``build``, at ``--scale``: 1.0 = 300 bodies and
60,000 held sessions over ten years with ten items each) and adds to its last full fiscal
year what the city builder leaves out: an attendance record of every held session (eight
members each, one in five absent), referrals with their status history, local issues and
follow-up tasks, all in proportion to the scale. Then, in-process as the administrator,
times the install-wide report of that year (the page, and the .xlsx) and counts its SQL
statements; the same on a second, small city (``--small-scale``) shows that the count does
not grow with the year's size.

    .venv/bin/python bench/bench_annual_report.py [--scale 1.0] [--small-scale 0.05] [--repeat 5]

Figures and what they mean: bench/RESULTS.md.
"""

import argparse
import random
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench_city import build as build_city  # bench/bench_city.py, beside this script
from bench_city import machine
from common import bulk, fresh_app, next_id, statements  # bench/common.py
from sqlalchemy import select

from renkei.models import (
    ActionItem,
    Attendance,
    Body,
    BodyKind,
    IssueStatus,
    LocalIssue,
    MeetingSession,
    Membership,
    Organisation,
    Presence,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Status,
    Visibility,
)
from renkei.services import demo
from renkei.services.annual_report import Year
from renkei.services.dates import fiscal_year_of, today

ADMIN = "admin@example.jp"


def last_year() -> int:
    return fiscal_year_of(today()) - 1


def add_the_year(app, scale: float) -> dict[str, int]:
    """Attendance, referrals, issues and tasks in the last fiscal year; returns the sizes."""
    db = app.extensions["renkei.sessionmaker"]()
    year = Year.of(last_year())
    rng = random.Random(22)
    held = db.execute(
        select(MeetingSession.id, MeetingSession.host_body_id).where(
            MeetingSession.status == Status.HELD,
            MeetingSession.start_at >= year.start,
            MeetingSession.start_at < year.end,
        )
    ).all()
    members: dict[int, list[int]] = {}
    for body_id, person_id in db.execute(select(Membership.body_id, Membership.person_id)):
        members.setdefault(body_id, []).append(person_id)
    first = next_id(db, Attendance.__table__)
    rows = []
    for session_id, body_id in held:
        for person_id in sorted(set(members.get(body_id, [])))[:8]:
            presence = Presence.ABSENT if rng.random() < 0.2 else Presence.PRESENT
            rows.append(
                {"id": first + len(rows), "session_id": session_id, "person_id": person_id,
                 "presence": presence.value, "proxy_name": "", "note": ""}
            )  # fmt: skip
    sizes = {"held sessions in the year": len(held)}
    sizes["attendance lines"] = bulk(db, Attendance.__table__, rows)
    orgs = list(db.scalars(select(Organisation.id)))
    n_referrals = max(20, round(4000 * scale))
    first = next_id(db, Referral.__table__)
    referrals, events = [], []
    for i in range(n_referrals):
        on = year.first + timedelta(days=rng.randrange(365))
        status = rng.choice(list(ReferralStatus))
        referral_id = first + i
        referrals.append(
            {"id": referral_id, "referred_on": on, "from_organisation_id": rng.choice(orgs),
             "to_organisation_id": rng.choice(orgs), "case_number": f"B-{i:06d}",
             "consent": rng.choice(["given", "refused", "asking"]), "status": status.value,
             "status_on": on, "note": ""}
        )  # fmt: skip
        events.append(
            {"referral_id": referral_id, "kind": "created", "on": on, "from_status": None,
             "to_status": "received", "reason": "", "note": "", "at": datetime.now(UTC)}
        )  # fmt: skip
        if status != ReferralStatus.RECEIVED:
            events.append(
                {"referral_id": referral_id, "kind": "status",
                 "on": on + timedelta(days=rng.randrange(30)), "from_status": "received",
                 "to_status": status.value, "reason": "", "note": "", "at": datetime.now(UTC)}
            )  # fmt: skip
    sizes["referrals"] = bulk(db, Referral.__table__, referrals)
    bulk(db, ReferralEvent.__table__, events)
    kyogitai = list(db.scalars(select(Body.id).where(Body.kind == BodyKind.CONSULTATIVE_BODY)))
    issues = [
        {"body_id": rng.choice(kyogitai), "title": f"課題 {i}", "text": "", "area": f"地区{i % 7}",
         "status": rng.choice(list(IssueStatus)).value, "raised_on": year.first,
         "status_on": year.last, "created_at": datetime.now(UTC)}
        for i in range(max(10, round(600 * scale)))
    ]  # fmt: skip
    sizes["local issues"] = bulk(db, LocalIssue.__table__, issues)
    bodies = list(db.scalars(select(Body.id)))
    secretary = db.scalar(select(Membership.person_id).limit(1))
    tasks = [
        {"body_id": rng.choice(bodies), "visibility": Visibility.BODY.value, "text": f"宿題 {i}",
         "owner_id": secretary, "due_on": year.first + timedelta(days=rng.randrange(365)),
         "created_at": year.start + timedelta(days=rng.randrange(300)),
         "done_at": None if i % 3 else year.start + timedelta(days=330)}
        for i in range(max(10, round(3000 * scale)))
    ]  # fmt: skip
    sizes["tasks"] = bulk(db, ActionItem.__table__, tasks)
    db.commit()
    db.close()
    return sizes


def measure(app, repeat: int) -> dict[str, tuple[float, int]]:
    """Median milliseconds and SQL statements of the page and the workbook."""
    client = app.test_client()
    client.post("/login", data={"email": ADMIN, "password": demo.DEMO_PASSWORD})
    found = {}
    for label, path in (
        ("report page", f"/reports/{last_year()}"),
        ("report workbook (.xlsx)", f"/reports/{last_year()}/report.xlsx"),
    ):
        assert client.get(path).status_code == 200, path  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        found[label] = (statistics.median(times), statements(app, client, path))
    return found


def city(scale: float, repeat: int, folders: list[str]) -> dict[str, tuple[float, int]]:
    app = fresh_app()
    folders.append(app.instance_path)
    start = time.perf_counter()
    built = build_city(app, scale, feed_target=max(10, round(1000 * scale)))
    sizes = {**built["sizes"], **add_the_year(app, scale)}
    print(f"city at scale {scale}: built in {time.perf_counter() - start:.0f} s")
    print("  " + ", ".join(f"{k}: {v:,}" for k, v in sizes.items()))
    try:
        return measure(app, repeat)
    finally:
        print("\n".join(machine(app)))
        app.extensions["renkei.engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 300 bodies, 60,000")
    parser.add_argument("--small-scale", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folders: list[str] = []
    try:
        small = city(args.small_scale, args.repeat, folders)
        large = city(args.scale, args.repeat, folders)
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"fiscal year {last_year()}, as the administrator (install-wide):")
    print(f"{'':<28}{'ms (small)':>11}{'ms (large)':>11}{'SQL small':>10}{'SQL large':>10}")
    for label in large:
        print(
            f"{label:<28}{small[label][0]:>11.0f}{large[label][0]:>11.0f}"
            f"{small[label][1]:>10}{large[label][1]:>10}"
        )


if __name__ == "__main__":
    main()
