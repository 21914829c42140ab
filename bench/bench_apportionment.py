"""Benchmark: the apportionment report (按分) of a large city's staff over ten years.

Builds, in a temporary SQLite database (or DATABASE_URL), the demo town plus ``--staff``
people holding both posts and ``--sessions`` held joint sessions a year for ten years, each
of a livelihood body and a care-insurance body, with five agenda items (one confidential)
and an attendance record of 20 staff (one in four late or leaving early). Then times the
report, as a page and as CSV, for one person and for all staff, for a fiscal year and a
month, and prints the SQL statements each needs.

    .venv/bin/python bench/bench_apportionment.py [--staff 100] [--sessions 200] [--repeat 5]
"""

import argparse
import random
from datetime import UTC, date, datetime, timedelta

from common import fresh_app, statements, timed  # bench/common.py, beside this script
from sqlalchemy import insert, select

from renkei.models import (
    AgendaItem,
    Attendance,
    Body,
    BodyKind,
    ItemPresence,
    MeetingSession,
    Person,
    Post,
)
from renkei.models.sessions import session_bodies
from renkei.services import demo

YEARS = 10
FIRST = datetime(2016, 4, 4, 5, 0, tzinfo=UTC)  # 14:00 in Tokyo


def build(app, staff: int, per_year: int) -> None:
    db = app.extensions["renkei.sessionmaker"]()
    demo.load(db, sessions=False)
    db.commit()
    db.execute(
        insert(Body),
        [
            {
                "name": f"ベンチ{kind.label}",
                "kind": kind,
                "area": "",
                "programme": kind.default_programme,
                "confidentiality": kind.default_confidentiality,
                "description": "",
            }
            for kind in (BodyKind.SUPPORT_MEETING, BodyKind.CONSULTATIVE_BODY)
        ],
    )
    db.execute(
        insert(Person),
        [
            {"name": f"職員 {i:04d}", "kana": "", "email": f"staff{i}@example.jp"}
            for i in range(staff)
        ],
    )
    db.commit()
    support, care = db.scalars(select(Body.id).where(Body.name.like("ベンチ%")).order_by(Body.id))
    people = list(db.scalars(select(Person.id).where(Person.email.like("staff%"))))
    db.execute(
        insert(Post),
        [
            {"person_id": p, "programme": programme, "title": title, "start_on": date(2016, 4, 1)}
            for p in people
            for programme, title in (
                ("livelihood", "相談支援員"),
                ("care_insurance", "生活支援コーディネーター"),
            )
        ],
    )
    rng = random.Random(7)
    sessions, links, items, attendances, presences = [], [], [], [], []
    item_id = attendance_id = 0
    for number in range(1, YEARS * per_year + 1):
        session_id = number + 1000
        start = FIRST + timedelta(days=(number * 365 * YEARS) // (YEARS * per_year))
        sessions.append(
            {
                "id": session_id,
                "title": f"合同会議 {number}",
                "host_body_id": support,
                "start_at": start,
                "end_at": start + timedelta(hours=2),
                "place": "役場",
                "online_url": "",
                "mode": "in_person",
                "notes": "",
                "status": "held",
                "sequence": 0,
                "created_at": start,
                "updated_at": start,
            }
        )
        links += [{"session_id": session_id, "body_id": b} for b in (support, care)]
        secret = None
        for position in range(1, 6):
            item_id += 1
            confidential = position == 2
            secret = item_id if confidential else secret
            items.append(
                {
                    "id": item_id,
                    "session_id": session_id,
                    "body_id": support if position <= 2 else care,
                    "position": position,
                    "title": f"議題 {position}",
                    "presenter": "",
                    "planned_minutes": rng.choice((10, 15, 20, 30)),
                    "description": "",
                    "visibility": "confidential" if confidential else "public",
                }
            )
        for person_id in rng.sample(people, 20):
            attendance_id += 1
            late = rng.random() < 0.25
            attendances.append(
                {
                    "id": attendance_id,
                    "session_id": session_id,
                    "person_id": person_id,
                    "presence": "partial" if late else "present",
                    "arrived_at": start + timedelta(minutes=30) if late else None,
                    "left_at": None,
                    "proxy_name": "",
                    "note": "",
                    "updated_at": start,
                }
            )
            if rng.random() < 0.7:
                presences.append({"attendance_id": attendance_id, "agenda_item_id": secret})
    db.execute(insert(MeetingSession.__table__), sessions)
    db.execute(insert(session_bodies), links)
    db.execute(insert(AgendaItem.__table__), items)
    db.execute(insert(Attendance.__table__), attendances)
    db.execute(insert(ItemPresence.__table__), presences)
    db.commit()
    print(
        f"built: {staff} staff with two posts, {len(sessions)} held sessions, "
        f"{len(items)} agenda items, {len(attendances)} attendance lines"
    )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=200, help="held sessions a year")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = fresh_app()
    build(app, args.staff, args.sessions)
    db = app.extensions["renkei.sessionmaker"]()
    one = db.scalar(select(Person.id).where(Person.email == "staff0@example.jp"))
    db.close()
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@example.jp", "password": demo.DEMO_PASSWORD})
    year = "2020"
    print(f"{'what':<44}{'median ms':>10}{'max ms':>10}{'KiB':>8}{'SQL':>6}")
    for label, url in (
        ("one person, fiscal year: page", f"/apportionment/?period={year}&person={one}"),
        ("one person, fiscal year: CSV", f"/apportionment/report.csv?period={year}&person={one}"),
        ("all staff, one month: page", f"/apportionment/?period={year}-10&person=all"),
        ("all staff, fiscal year: page", f"/apportionment/?period={year}&person=all"),
        ("all staff, fiscal year: CSV", f"/apportionment/report.csv?period={year}&person=all"),
    ):
        median, worst, size, _ = timed(admin, url, args.repeat)
        count = statements(app, admin, url)
        print(f"{label:<44}{median:>10.1f}{worst:>10.1f}{size / 1024:>8.0f}{count:>6}")


if __name__ == "__main__":
    main()
