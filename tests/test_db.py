"""renkei/db.py's helpers."""

import pytest
from sqlalchemy import Integer, column, select, table, text
from sqlalchemy.dialects import postgresql, sqlite

from renkei.db import insert_if_absent, insert_new, unindexed_on_sqlite
from renkei.models import CaseNumberCounter, FeedFragment, MeetingSession, Status


def _row(key: str, text: bytes) -> dict[str, object]:
    return {"key": key, "unit": "session-1", "variant": "v", "text": text}


def test_insert_new_leaves_out_a_row_already_there_without_an_error(db):
    """Two requests storing the same feed text at once: the second's insert finds the
    first's row and leaves it, and its transaction goes on (PostgreSQL logs no error)."""
    insert_new(db, FeedFragment, [_row("a", b"first")])
    db.commit()
    insert_new(db, FeedFragment, [_row("a", b"second"), _row("b", b"other")])
    db.commit()
    stored = {key: text for key, text in db.execute(select(FeedFragment.key, FeedFragment.text))}
    assert stored == {"a": b"first", "b": b"other"}
    assert db.scalar(select(FeedFragment.built_at).where(FeedFragment.key == "b")) is not None


def test_insert_if_absent_says_whether_it_made_the_row_and_keeps_the_first(db):
    made = insert_if_absent(db, CaseNumberCounter, prefix="", fiscal_year=2026, last=1)
    again = insert_if_absent(db, CaseNumberCounter, prefix="", fiscal_year=2026, last=9)
    db.commit()  # the transaction went on after the second: no error, nothing rolled back
    assert (made, again) == (True, False)
    assert db.scalar(select(CaseNumberCounter.last)) == 1


def test_a_column_hidden_from_sqlites_index_is_bare_elsewhere():
    """SQLite gets ``column + 0`` (so it tests the rows it reads instead of probing the
    index once per listed value); PostgreSQL the bare column, so its index may serve."""
    bodies = table("session_bodies", column("body_id", Integer))
    query = select(bodies).where(unindexed_on_sqlite(bodies.c.body_id).in_([1, 2]))

    def where(dialect) -> str:
        compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        return str(compiled).split("WHERE ")[1]

    assert where(sqlite.dialect()) == "(session_bodies.body_id + 0) IN (1, 2)"
    assert where(postgresql.dialect()) == "session_bodies.body_id IN (1, 2)"


def test_postgresql_connections_plan_each_statement_for_its_values_and_compile_none(db):
    """A search prepared by psycopg got a generic plan from its eleventh run on, four times
    slower, and JIT compiling took 110 of a city search's 250 ms: the app sets both on
    every connection it opens, and the settings outlive its first transaction."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("plan caching and JIT are PostgreSQL's")
    db.rollback()
    assert db.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    assert db.scalar(text("SHOW jit")) == "off"


def test_the_sessions_being_prepared_are_read_from_their_own_index(db):
    """The search's policy and the dashboard ask for the sessions being prepared: both
    databases find them by the partial index, not by reading every session."""
    query = select(MeetingSession.id).where(MeetingSession.status == Status.PREPARED)
    compiled = query.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL enable_seqscan = off"))  # a table of a few rows
        plan = " ".join(db.scalars(text(f"EXPLAIN {compiled}")))
    else:
        plan = " ".join(row[3] for row in db.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_sessions_prepared" in plan
