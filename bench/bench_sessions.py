"""Benchmark: sessions, agendas and feeds of a large city over ten years.

Builds, in a temporary SQLite database (or DATABASE_URL), the demo town plus 60 bodies that
meet monthly for ten years (7,200 sessions, 5 agenda items each, 20 members per body with
overlaps), then times the pages and the feed a member and a secretary use most.

    .venv/bin/python bench/bench_sessions.py [--bodies 60] [--years 10] [--repeat 5]
"""

import argparse
import random
from datetime import UTC, date, datetime, timedelta

from common import fresh_app, timed  # bench/common.py, beside this script
from sqlalchemy import insert, select

from renkei.models import (
    AgendaItem,
    Body,
    BodyKind,
    MeetingSession,
    Membership,
    Person,
    Role,
    Visibility,
)
from renkei.models.sessions import session_bodies
from renkei.services import demo


def build(app, bodies: int, years: int) -> None:
    db = app.extensions["renkei.sessionmaker"]()
    demo.load(db, sessions=False)
    db.commit()
    kinds = list(BodyKind)
    db.execute(
        insert(Body),
        [
            {
                "name": f"ベンチ会議体 {i:03d}",
                "kind": kinds[i % len(kinds)],
                "area": "",
                "programme": kinds[i % len(kinds)].default_programme,
                "confidentiality": kinds[i % len(kinds)].default_confidentiality,
                "description": "",
            }
            for i in range(bodies)
        ],
    )
    db.execute(
        insert(Person),
        [
            {"name": f"構成員 {i:05d}", "kana": "", "email": f"s{i}@example.jp"}
            for i in range(bodies * 12)
        ],
    )
    db.commit()
    body_ids = list(db.scalars(select(Body.id).where(Body.name.like("ベンチ%"))))
    people = list(db.scalars(select(Person.id).where(Person.email.like("s%@example.jp"))))
    member = db.scalar(select(Person.id).where(Person.email == "member.both@example.jp"))
    secretary = db.scalar(select(Person.id).where(Person.email == "secretary@example.jp"))
    rng = random.Random(7)
    terms = []
    for body_id in body_ids:
        chosen = set(rng.sample(people, 18)) | {member, secretary}
        for person_id in chosen:
            role = Role.SECRETARY if person_id == secretary else Role.MEMBER
            terms.append(
                {
                    "person_id": person_id,
                    "body_id": body_id,
                    "role": role,
                    "term_start": date(2016, 4, 1),
                    "note": "",
                }
            )
    db.execute(insert(Membership), terms)
    first = datetime(2016, 4, 1, 5, 0, tzinfo=UTC)
    sessions, links, items = [], [], []
    session_id = 0
    for body_id in body_ids:
        for month in range(years * 12):
            session_id += 1
            start = first + timedelta(days=30 * month + body_id % 28)
            sessions.append(
                {
                    "id": session_id + 1000,
                    "title": f"定例会 {month + 1}",
                    "host_body_id": body_id,
                    "start_at": start,
                    "end_at": (start + timedelta(hours=2)),
                    "place": "役場",
                    "online_url": "",
                    "mode": "in_person",
                    "notes": "",
                    "status": "held" if start < datetime.now(UTC) else "convened",
                    "sequence": 0,
                    "created_at": start,
                    "updated_at": start,
                }
            )
            links.append({"session_id": session_id + 1000, "body_id": body_id})
            for position in range(1, 6):
                items.append(
                    {
                        "session_id": session_id + 1000,
                        "body_id": body_id,
                        "position": position,
                        "title": f"議題 {position}",
                        "presenter": "",
                        "planned_minutes": 20,
                        "description": "**説明**",
                        "visibility": list(Visibility)[position % 3],
                    }
                )
    db.execute(insert(MeetingSession.__table__), sessions)
    db.execute(insert(session_bodies), links)
    db.execute(insert(AgendaItem.__table__), items)
    db.commit()
    print(
        f"built: {len(body_ids)} bodies, {len(sessions)} sessions, {len(items)} agenda items, "
        f"{len(terms)} terms"
    )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bodies", type=int, default=60)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = fresh_app()
    build(app, args.bodies, args.years)
    db = app.extensions["renkei.sessionmaker"]()
    token = db.scalar(select(Person.feed_token).where(Person.email == "member.both@example.jp"))
    a_session = db.scalar(select(MeetingSession.id).order_by(MeetingSession.start_at.desc()))
    a_body = db.scalar(select(Body.id).where(Body.name.like("ベンチ%")))
    db.close()
    member = app.test_client()
    member.post("/login", data={"email": "member.both@example.jp", "password": demo.DEMO_PASSWORD})
    secretary = app.test_client()
    secretary.post("/login", data={"email": "secretary@example.jp", "password": demo.DEMO_PASSWORD})
    feed = f"/calendar/{token}.ics"
    print(f"{'what':<40}{'median ms':>10}{'max ms':>10}{'KiB':>8}")
    rows = [
        ("member: home", member, "/"),
        ("member: session page", member, f"/sessions/{a_session}"),
        ("secretary: session page", secretary, f"/sessions/{a_session}"),
        ("secretary: body page (sessions)", secretary, f"/bodies/{a_body}"),
        ("feed (full build)", app.test_client(), feed),
    ]
    for label, client, page in rows:
        median, worst, size, response = timed(client, page, args.repeat)
        print(f"{label:<40}{median:>10.1f}{worst:>10.1f}{size / 1024:>8.0f}")
    etag = response.headers["ETag"]
    median, worst, size, response = timed(
        app.test_client(), feed, args.repeat, {"If-None-Match": etag}
    )
    print(f"{'feed (unchanged, 304)':<40}{median:>10.1f}{worst:>10.1f}{size / 1024:>8.0f}")


if __name__ == "__main__":
    main()
