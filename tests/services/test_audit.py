"""The audit log: an append-only chain sealed with the audit key, whose verifier names the
first broken entry, read per body by its secretariat and chair, and per account event by
administrators. (Tampering, anchors and re-sealing: test_audit_chain.py.)"""

import threading

import pytest
from sqlalchemy import delete, select, update

from renkei.models import AuditEntry, AuditHead
from renkei.services import audit, audit_chain
from renkei.services.audit import Actor
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import COORDINATION, LAYER1, SUPPORT


@pytest.fixture
def logged(world):
    """Five entries: an account event and content events of three bodies."""
    secretary = person_by_email(world, "secretary@example.jp")
    actor = Actor(secretary, "192.0.2.7")
    audit.record(world, actor, audit.ACCOUNT, "login")
    for body in (SUPPORT, LAYER1, COORDINATION, SUPPORT):
        audit.record(
            world,
            actor,
            audit.CONTENT,
            "view",
            subject_type="session",
            subject_id=1,
            body_id=body_named(world, body).id,
        )
    world.commit()
    return world.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_entries_are_chained(world, logged):
    assert logged[0].previous_hash == "0" * 64
    for before, after in zip(logged, logged[1:], strict=False):
        assert after.previous_hash == before.hash
    assert [entry.id for entry in logged] == [1, 2, 3, 4, 5]  # their places in the chain
    assert world.get(AuditHead, 1).last_hash == logged[-1].hash
    result = audit_chain.verify(world)
    assert result.ok and result.checked == 5


def test_an_edited_row_breaks_the_chain_there(world, logged):
    world.execute(
        update(AuditEntry).where(AuditEntry.id == logged[2].id).values(actor="someone else")
    )
    world.commit()
    result = audit_chain.verify(world)
    assert (result.ok, result.broken_id, result.checked) == (False, logged[2].id, 2)


def test_a_deleted_row_breaks_the_chain_at_the_next(world, logged):
    world.execute(delete(AuditEntry).where(AuditEntry.id == logged[1].id))
    world.commit()
    assert audit_chain.verify(world).broken_id == logged[2].id


def test_rows_deleted_from_the_end_are_noticed(world, logged):
    world.execute(delete(AuditEntry).where(AuditEntry.id == logged[-1].id))
    world.commit()
    result = audit_chain.verify(world)
    assert not result.ok and result.broken_id is None and result.checked == 4


def test_a_rewritten_chain_does_not_match_its_head(world, logged):
    """Even with the key, re-sealing an edited entry alone leaves the next one pointing
    elsewhere."""
    entry = logged[3]
    entry.detail = "forged"
    entry.hash = audit_chain.entry_hash(audit_chain.audit_key(world), audit_chain.values_of(entry))
    world.commit()
    assert audit_chain.verify(world).broken_id == logged[4].id


def test_cli_verifies_the_chain(app, world, logged):
    runner = app.test_cli_runner()
    good = runner.invoke(args=["audit-verify"])
    assert good.exit_code == 0 and "5 entries" in good.output
    world.execute(update(AuditEntry).where(AuditEntry.id == logged[0].id).values(ip="10.0.0.1"))
    world.commit()
    bad = runner.invoke(args=["audit-verify"])
    assert bad.exit_code == 1 and f"entry {logged[0].id}" in bad.output


def test_who_reads_which_entries(world, logged):
    def actions_for(email):
        scope = audit.scope_for(world, person_by_email(world, email))
        rows, total = audit.entries(world, scope)
        assert total == len(rows)
        return sorted((row.action, row.body_id) for row in rows)

    support, layer1 = body_named(world, SUPPORT).id, body_named(world, LAYER1).id
    coordination = body_named(world, COORDINATION).id
    # The secretariat of every body: every content entry, no account entry.
    assert actions_for("secretary@example.jp") == sorted(
        [("view", support), ("view", support), ("view", layer1), ("view", coordination)]
    )
    # The chair of the 支援会議 (and of the 支援調整会議): those bodies only.
    assert actions_for("chair.support@example.jp") == sorted(
        [("view", support), ("view", support), ("view", coordination)]
    )
    # The administrator: account events only.
    assert actions_for("admin@example.jp") == [("login", None)]
    assert audit.scope_for(world, person_by_email(world, "member.both@example.jp")).empty


def test_first_entries_written_at_the_same_moment_make_one_chain(app):
    """An empty log, and two requests writing its first entry at once: while the first has
    made the chain's head but not committed, the second finds no head and makes one too
    (on PostgreSQL its insert waits for the first, then fails). It must take the head the
    first made, after it: one chain, both entries, no error."""
    maker = app.extensions["renkei.sessionmaker"]
    first, results = maker(), []
    audit.record(first, Actor(None, "192.0.2.7", name="first@example.jp"), "account", "login")

    def second():
        db = maker()
        try:
            audit.record(db, Actor(None, "192.0.2.8", name="second@example.jp"), "account", "login")
            db.commit()
            results.append("ok")
        except Exception as error:  # noqa: BLE001 - reported below
            results.append(repr(error))
        finally:
            db.close()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)  # it waits for the first (PostgreSQL: the insert; SQLite: the lock)
    first.commit()
    first.close()
    thread.join(timeout=60)

    assert results == ["ok"]
    db = maker()
    assert audit_chain.verify(db).ok
    assert db.get(AuditHead, 1).length == 2
    db.close()
