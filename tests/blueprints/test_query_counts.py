"""No page issues a query per row: the number of SQL statements does not grow with the data."""

from datetime import date

import pytest

from renkei.models import Membership, Person, Role
from tests.helpers import body_named, counting

SUPPORT = "みどり町支援会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"


def add_shared_members(db, start: int, n: int) -> None:
    bodies = [body_named(db, SUPPORT), body_named(db, LAYER1)]
    for i in range(start, start + n):
        person = Person(name=f"追加 {i}", kana=f"ついか {i:04d}", email=f"extra{i}@example.jp")
        db.add(person)
        for body in bodies:
            db.add(
                Membership(person=person, body=body, role=Role.MEMBER, term_start=date(2025, 4, 1))
            )
    db.commit()


def queries_for(app, client, url: str) -> int:
    client.get(url)  # warm-up: login token lookup and the like happen alike each time
    with counting(app.extensions["renkei.engine"]) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/bodies/",
        "/bodies/{support}",
        "/bodies/overlap",
        "/bodies/overlap?a={support}&b={layer1}",
        "/people/",
        "/people/{person}",
    ],
)
def test_query_count_does_not_grow_with_members(app, as_secretary, world, url):
    ids = {
        "support": body_named(world, SUPPORT).id,
        "layer1": body_named(world, LAYER1).id,
        "person": world.query(Person).filter_by(email="member.both@example.jp").one().id,
    }
    url = url.format(**ids)
    add_shared_members(world, 0, 5)
    small = queries_for(app, as_secretary, url)
    add_shared_members(world, 5, 60)
    large = queries_for(app, as_secretary, url)
    assert small == large
