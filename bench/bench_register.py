"""Benchmark: the register pages of a large city.

Builds, in a temporary SQLite database (or DATABASE_URL), 120 bodies, 6,000 people and about
20,000 terms, then times the pages a secretary opens most and prints the figures.

    .venv/bin/python bench/bench_register.py [--people 6000] [--repeat 5]
"""

import argparse
import random
from datetime import date

from common import fresh_app, timed  # bench/common.py, beside this script
from sqlalchemy import insert

from renkei.models import Body, BodyKind, Membership, Person, Role
from renkei.services import demo


def build(app, people: int, bodies: int) -> None:
    session = app.extensions["renkei.sessionmaker"]()
    demo.load(session)
    session.commit()
    kinds = list(BodyKind)
    session.execute(
        insert(Body),
        [
            {
                "name": f"ベンチ会議体 {i:03d}",
                "kind": kinds[i % len(kinds)],
                "area": f"第{i % 12 + 1}地区",
                "programme": kinds[i % len(kinds)].default_programme,
                "confidentiality": kinds[i % len(kinds)].default_confidentiality,
                "description": "",
            }
            for i in range(bodies)
        ],
    )
    session.execute(
        insert(Person),
        [
            {
                "name": f"構成員 {i:05d}",
                "kana": f"こうせいいん {i:05d}",
                "email": f"b{i}@example.jp",
            }
            for i in range(people)
        ],
    )
    session.commit()
    body_ids = [b.id for b in session.query(Body.id)]
    person_ids = [p.id for p in session.query(Person.id)]
    rng = random.Random(42)
    rows = []
    for person_id in person_ids:
        for body_id in rng.sample(body_ids, rng.choice([1, 2, 3, 4, 5])):
            rows.append(
                {
                    "person_id": person_id,
                    "body_id": body_id,
                    "role": Role.MEMBER,
                    "term_start": date(2025, 4, 1),
                    "note": "",
                }
            )
    session.execute(insert(Membership), rows)
    # Make the secretary run every body so the overlap matrix covers them all.
    secretary = session.query(Person).filter_by(email="secretary@example.jp").one()
    session.execute(
        insert(Membership),
        [
            {
                "person_id": secretary.id,
                "body_id": b,
                "role": Role.SECRETARY,
                "term_start": date(2025, 4, 1),
                "note": "",
            }
            for b in body_ids[4:]
        ],
    )
    session.commit()
    print(f"built: {len(body_ids)} bodies, {len(person_ids)} people, {len(rows)} terms")
    session.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--bodies", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = fresh_app()
    build(app, args.people, args.bodies)
    client = app.test_client()
    client.post("/login", data={"email": "secretary@example.jp", "password": demo.DEMO_PASSWORD})
    print(f"{'page':<34}{'median ms':>10}{'max ms':>10}{'KiB':>8}")
    for page in [
        "/",
        "/bodies/",
        "/bodies/5",
        "/bodies/overlap",
        "/bodies/overlap?a=5&b=6",
        "/people/",
    ]:
        median, worst, size, _response = timed(client, page, args.repeat)
        print(f"{page:<34}{median:>10.1f}{worst:>10.1f}{size / 1024:>8.0f}")


if __name__ == "__main__":
    main()
