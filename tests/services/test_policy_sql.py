"""The policy's SQL conditions read their own row once: a subquery that names the outer
table in its FROM is no longer correlated to the row tested, and asks about every row of
the table instead (SQLAlchemy correlates automatically one query up only). This happened in
the search's condition for 選定招集; the test guards every condition lists use."""

import re

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from renkei.models import MeetingSession, Person, Referral, SearchEntry
from renkei.services import policy, session_list
from renkei.services.dates import today
from tests import leak_world

CONDITIONS = {
    "search": (SearchEntry, lambda db, person: policy.search_reach(db, person)[0]),
    "session list": (MeetingSession, lambda db, p: session_list.visible_to(db, p, today())),
    "referrals": (Referral, policy.referral_filter),
}


def from_lists(sql: str) -> list[str]:
    """Each FROM clause's list of tables (up to its WHERE, its end or its subquery's)."""
    return re.findall(r"\bFROM\s+(.*?)(?=\s+WHERE\b|\s+GROUP\b|\s+ORDER\b|\)|$)", sql, re.S)


@pytest.mark.parametrize("name", CONDITIONS)
def test_a_condition_reads_its_outer_table_once(app, world, name):
    app.config.update(SMTP_HOST="")
    leak_world.build(app, world)
    model, condition = CONDITIONS[name]
    table = model.__table__.name
    problems = []
    for person in world.scalars(select(Person)):
        statement = select(model.id).where(condition(world, person))
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            sql = str(statement.compile(dialect=dialect))
            reading = [f for f in from_lists(sql) if re.search(rf"\b{table}\b", f)]
            if len(reading) != 1:
                problems.append(f"{person.email or person.name} ({dialect.name}): {reading}")
    assert not problems, "\n".join(problems[:5])
