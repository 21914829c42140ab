"""The audit log's chain sealed with the audit key: what someone who can write the database
tries (edit any column, delete, insert, renumber, rewind the head, recompute the hashes with
plain SHA-256 or another key), what anchors catch that the key cannot, re-sealing a log
written before the key, and where the key comes from."""

import hashlib
import json
import os
import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from renkei import config as renkei_config
from renkei import create_app
from renkei.db import AUDIT_KEY_INFO
from renkei.models import AuditEntry, AuditHead, Person
from renkei.models.audit import GENESIS
from renkei.services import audit, audit_chain
from renkei.services.audit import Actor
from tests.conftest import DEMO_PASSWORD, CsrfClient
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT
from tests.smtp import use_smtp

TABLE = AuditEntry.__table__
ANCHOR_LINE = re.compile(r"renkei-audit-anchor v1 length=\d+ hash=[0-9a-f]{64} at=\S+")
OTHER_KEY = b"not-the-audit-key-but-just-as-long-as-one-0123456789"


@pytest.fixture
def logged(world):
    """Six entries: logins, a failed login without a person, views of two bodies."""
    secretary = person_by_email(world, "secretary@example.jp")
    actor = Actor(secretary, "192.0.2.7")
    audit.record(world, actor, audit.ACCOUNT, "login")
    audit.record(world, Actor(None, "198.51.100.4", name="nobody@example.jp"), "account", "x")
    for body, session_id in ((SUPPORT, 1), (LAYER1, 2), (SUPPORT, 3)):
        audit.record(
            world,
            actor,
            audit.CONTENT,
            "view",
            subject_type="session",
            subject_id=session_id,
            body_id=body_named(world, body).id,
            session_id=session_id,
            detail="view=full",
        )
    audit.record(world, actor, audit.ACCOUNT, "logout")
    world.commit()
    return world.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def key_of(world) -> bytes:
    return audit_chain.audit_key(world)


def old_sha256(values) -> str:
    """How the log was hashed before the key (a copy of the old code): plain SHA-256, and
    person_id left out."""
    at = values["at"].astimezone(UTC).isoformat(timespec="microseconds")
    names = ("actor", "category", "action", "subject_type", "subject_id", "body_id")
    content = [values["previous_hash"], at, *(values[n] for n in names)]
    content += [values["session_id"], values["detail"], values["ip"]]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_of_sealed_text(values) -> str:
    """The keyed scheme's text hashed with plain SHA-256, as if the key were not needed."""
    content = {name: values[name] for name in audit_chain.SEALED_COLUMNS}
    content["at"] = content["at"].astimezone(UTC).isoformat(timespec="microseconds")
    text = json.dumps(
        [audit_chain.SCHEME, content], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def relink(world, start_id: int, hasher) -> None:
    """What someone who can write the database does after a change: recompute the hashes
    from ``start_id`` on with ``hasher``, chain them, and move the head to the new end."""
    world.expire_all()
    previous = world.scalar(
        select(AuditEntry.hash)
        .where(AuditEntry.id < start_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    previous = previous or GENESIS
    rows = world.execute(select(TABLE).where(TABLE.c.id >= start_id).order_by(TABLE.c.id))
    for row in rows.mappings().all():
        sealed = hasher({**row, "previous_hash": previous})
        world.execute(
            update(TABLE).where(TABLE.c.id == row["id"]).values(previous_hash=previous, hash=sealed)
        )
        previous = sealed
    count = world.scalar(select(func.count()).select_from(AuditEntry))
    world.execute(update(AuditHead).values(last_hash=previous, length=count))
    world.commit()


def change(world, entry_id: int, **values) -> None:
    world.execute(update(TABLE).where(TABLE.c.id == entry_id).values(**values))
    world.commit()


# --- Tampering: each is caught by the key, or by an anchor taken before it ----------------


def edit_person_id(world, logged):
    change(world, 3, person_id=logged[0].person_id + 1000)  # was not hashed before the key
    return 3


def edit_at(world, logged):
    change(world, 3, at=logged[2].at + timedelta(seconds=1))
    return 3


def edit_ip(world, logged):
    change(world, 3, ip="10.0.0.1")
    return 3


def edit_and_recompute_with_old_sha256(world, logged):
    change(world, 3, detail="view=member")
    relink(world, 3, old_sha256)
    return 3


def edit_and_recompute_with_plain_sha256(world, logged):
    change(world, 3, body_id=None)
    relink(world, 3, sha256_of_sealed_text)
    return 3


def edit_and_recompute_with_another_key(world, logged):
    change(world, 3, actor="someone.else@example.jp")
    relink(world, 3, lambda values: audit_chain.entry_hash(OTHER_KEY, values))
    return 3


def delete_middle_row(world, logged):
    world.execute(delete(AuditEntry).where(AuditEntry.id == 3))
    world.commit()
    return 4


def delete_middle_row_and_renumber(world, logged):
    world.execute(delete(AuditEntry).where(AuditEntry.id == 3))
    for entry_id in (4, 5, 6):
        change(world, entry_id, id=entry_id - 1)
    relink(world, 3, old_sha256)
    return 3


def insert_row(world, logged):
    for entry_id in (6, 5, 4):  # make room at 4
        change(world, entry_id, id=entry_id + 1)
    forged = {**audit_chain.values_of(logged[2]), "id": 4, "detail": "forged", "hash": "f" * 64}
    world.execute(insert(TABLE).values(**forged))
    world.commit()
    relink(world, 4, old_sha256)
    return 4


def delete_tail_and_rewind_head(world, logged):
    world.execute(delete(AuditEntry).where(AuditEntry.id > 4))
    world.execute(update(AuditHead).values(last_hash=logged[3].hash, length=4))
    world.commit()
    return None  # every remaining hash is genuine: only an anchor tells


def rewrite_with_the_key(world, logged):
    change(world, 3, detail="view=public")
    relink(world, 3, lambda values: audit_chain.entry_hash(key_of(world), values))
    return None  # someone who holds the key: only an anchor tells


TAMPERING = [
    edit_person_id,
    edit_at,
    edit_ip,
    edit_and_recompute_with_old_sha256,
    edit_and_recompute_with_plain_sha256,
    edit_and_recompute_with_another_key,
    delete_middle_row,
    delete_middle_row_and_renumber,
    insert_row,
    delete_tail_and_rewind_head,
    rewrite_with_the_key,
]


@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda f: f.__name__)
def test_tampering_is_caught_by_the_service(world, logged, tamper):
    anchor = audit_chain.anchor_of(audit_chain.verify(world))
    assert audit_chain.verify(world).ok and audit_chain.anchor_mismatch(world, [anchor]) is None
    broken_id = tamper(world, logged)
    world.expire_all()
    result = audit_chain.verify(world)
    if broken_id is None:
        assert result.ok
        assert audit_chain.anchor_mismatch(world, [anchor])[0] == anchor
    else:
        assert (result.ok, result.broken_id) == (False, broken_id)


@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda f: f.__name__)
def test_tampering_is_caught_by_audit_verify(app, world, logged, tamper):
    runner = app.test_cli_runner()
    anchor = runner.invoke(args=["audit-anchor"]).output.strip()
    assert runner.invoke(args=["audit-verify", "--anchor", anchor]).exit_code == 0
    broken_id = tamper(world, logged)
    plain = runner.invoke(args=["audit-verify"])
    anchored = runner.invoke(args=["audit-verify", "--anchor", anchor])
    assert anchored.exit_code == 1
    if broken_id is None:
        assert plain.exit_code == 0
        assert f"does NOT match the anchor {anchor}" in anchored.output
    else:
        assert plain.exit_code == 1 and f"BROKEN at entry {broken_id}:" in plain.output
        assert f"BROKEN at entry {broken_id}:" in anchored.output


def test_every_column_is_sealed(world, logged):
    columns = {column.name for column in TABLE.columns} - {"hash"}
    assert set(audit_chain.SEALED_COLUMNS) == columns
    entry = audit_chain.values_of(logged[2])
    for name in sorted(columns - {"id"}):
        value = entry[name]
        if isinstance(value, str):
            altered = value + "x" if name != "previous_hash" else "1" * 64
        elif isinstance(value, int):
            altered = value + 1
        elif value is None:
            altered = 7
        else:
            altered = value + timedelta(microseconds=1)
        changed = {**entry, name: altered}
        assert audit_chain.entry_hash(key_of(world), changed) != entry["hash"], name


def test_plain_sha256_recomputation_is_named_as_such(world, logged):
    edit_and_recompute_with_old_sha256(world, logged)
    assert audit_chain.verify(world).reason == audit_chain.UNKEYED


def test_an_entry_keeps_verifying_after_its_persons_row_is_deleted(app, world):
    temporary = Person(name="一時 太郎", email="temporary@example.jp")
    world.add(temporary)
    world.flush()
    person_id = temporary.id
    audit.record(world, Actor(temporary, "192.0.2.9"), audit.ACCOUNT, "login")
    world.commit()
    world.delete(temporary)
    world.commit()
    world.expire_all()
    assert audit_chain.verify(world).ok
    entry = world.scalar(select(AuditEntry))
    assert entry.person_id == person_id and entry.person is None
    assert entry.actor == "temporary@example.jp"


def test_entries_appended_while_verifying_are_walked_too(app, world, logged, monkeypatch):
    """A daily check on a busy server: the head moves on between the walk and its read."""
    read_end = audit_chain._end
    appended = []

    def end_after_an_append(db):
        if not appended:
            with app.extensions["renkei.sessionmaker"]() as other:
                audit.record(other, Actor(None, "192.0.2.3", name="x"), audit.ACCOUNT, "login")
                other.commit()
            appended.append(True)
        return read_end(db)

    monkeypatch.setattr(audit_chain, "_end", end_after_an_append)
    result = audit_chain.verify(world)
    assert result.ok and result.checked == len(logged) + 1


# --- The key ------------------------------------------------------------------------------


def test_nothing_is_written_without_the_key(app, world):
    engine = app.extensions["renkei.engine"]
    with Session(engine) as keyless:
        with pytest.raises(audit_chain.AuditKeyError):
            audit.record(keyless, Actor(None, "192.0.2.1", name="x"), audit.ACCOUNT, "login")
        with pytest.raises(audit_chain.AuditKeyError):
            audit_chain.verify(keyless)
    assert world.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_an_app_without_a_key_refuses_to_log_in_anyone(database_url, tmp_path, world):
    keyless = create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "AUDIT_KEY": ""},
        instance_path=str(tmp_path / "keyless"),
    )
    keyless.test_client_class = CsrfClient
    try:
        with pytest.raises(audit_chain.AuditKeyError):
            keyless.test_client().post(
                "/login", data={"email": "secretary@example.jp", "password": DEMO_PASSWORD}
            )
    finally:
        keyless.extensions["renkei.engine"].dispose()
    assert world.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_another_key_neither_writes_nor_verifies(app, world, logged):
    engine = app.extensions["renkei.engine"]
    other = {AUDIT_KEY_INFO: OTHER_KEY.decode()}
    with Session(engine, info=other) as stranger:
        with pytest.raises(audit_chain.AuditKeyError, match="not the one"):
            audit.record(stranger, Actor(None, "192.0.2.1", name="x"), audit.ACCOUNT, "login")
        stranger.rollback()
        result = audit_chain.verify(stranger)
        assert not result.ok and result.reason == audit_chain.WRONG_KEY
    assert world.scalar(select(func.count()).select_from(AuditEntry)) == len(logged)


def test_the_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    first = renkei_config.load_config(tmp_path)["AUDIT_KEY"]
    key_file = tmp_path / "audit_key"
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert key_file.read_text() == first
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert renkei_config.load_config(tmp_path)["AUDIT_KEY"] == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_key_comes_from_the_environment_and_must_be_long(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_KEY", "k" * 40)
    assert renkei_config.load_config(tmp_path)["AUDIT_KEY"] == "k" * 40
    assert not (tmp_path / "audit_key").exists()
    monkeypatch.setenv("AUDIT_KEY", "short")
    with pytest.raises(ValueError, match="at least 32 characters"):
        renkei_config.load_config(tmp_path)


# --- Anchors ------------------------------------------------------------------------------


def test_audit_anchor_prints_one_line_that_verifies(app, world, logged):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-anchor"])
    assert result.exit_code == 0
    line = result.output.strip()
    assert ANCHOR_LINE.fullmatch(line)
    assert f"length=6 hash={logged[-1].hash} " in line
    assert runner.invoke(args=["audit-verify", "--anchor", line]).output == (
        "audit log intact: 6 entries; 1 anchors match\n"
    )


def test_an_empty_log_has_an_anchor_too(app, world):
    runner = app.test_cli_runner()
    line = runner.invoke(args=["audit-anchor"]).output.strip()
    assert f"length=0 hash={GENESIS}" in line
    audit.record(world, Actor(None, "192.0.2.1", name="x"), audit.ACCOUNT, "login")
    world.commit()
    assert runner.invoke(args=["audit-verify", "--anchor", line]).exit_code == 0


def test_audit_verify_reads_an_anchors_file_and_names_the_first_failing(
    app, world, logged, tmp_path
):
    runner = app.test_cli_runner()
    early = audit_chain.Anchor(3, logged[2].hash, "2026-04-01T06:00:00+09:00").line
    late = runner.invoke(args=["audit-anchor"]).output.strip()
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# mailed every morning\n\n{early}\n2026-04-02 {late}\n")
    result = runner.invoke(args=["audit-verify", "--anchors", str(anchors)])
    assert result.exit_code == 0 and "2 anchors match" in result.output

    delete_tail_and_rewind_head(world, logged)
    result = runner.invoke(args=["audit-verify", "--anchors", str(anchors)])
    assert result.exit_code == 1
    assert f"does NOT match the anchor {late}: the chain has only 4 entries" in result.output
    assert early not in result.output


def test_audit_verify_refuses_what_is_not_an_anchor(app, world, logged, tmp_path):
    runner = app.test_cli_runner()
    anchors = tmp_path / "anchors.txt"
    anchors.write_text("renkei-audit-anchor v1 length=3 hash=abc\n")
    result = runner.invoke(args=["audit-verify", "--anchors", str(anchors)])
    assert result.exit_code == 2 and "line 1: not an audit anchor" in result.output
    result = runner.invoke(args=["audit-verify", "--anchor", "length=3"])
    assert result.exit_code == 2 and "not an audit anchor" in result.output


def test_audit_anchor_mails_the_anchor(app, world, logged, smtp_server):
    use_smtp(app, smtp_server)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-anchor", "--mail", "archive@example.jp"])
    assert result.exit_code == 0
    line = result.output.strip()
    assert ANCHOR_LINE.fullmatch(line)  # stdout holds the anchor alone, for >> anchors.txt
    [message] = smtp_server.to("archive@example.jp")
    assert "監査ログ" in message["Subject"] and "6" in message["Subject"]
    assert line in message.get_content()


def test_audit_anchor_says_when_the_log_is_broken(app, world, logged, smtp_server):
    use_smtp(app, smtp_server)
    edit_ip(world, logged)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-anchor", "--mail", "archive@example.jp"])
    assert result.exit_code == 1
    assert "renkei-audit-anchor" not in result.output and "at entry 3" in result.output
    [message] = smtp_server.to("archive@example.jp")
    assert "失敗" in message["Subject"]
    assert "at entry 3" in message.get_content()


def test_audit_anchor_warns_when_the_mail_stays_on_the_server(app, world, logged):
    use_smtp(app, None)
    result = app.test_cli_runner().invoke(args=["audit-anchor", "--mail", "archive@example.jp"])
    assert result.exit_code == 0 and "no SMTP server configured" in result.output
    assert len(os.listdir(os.path.join(app.instance_path, "outbox"))) == 1


# --- Re-sealing a log from before the key -------------------------------------------------


@pytest.fixture
def old_log(world):
    """A log as the version before the key left it: plain SHA-256 without person_id, ids
    with gaps (rolled-back transactions), a head that names no key."""
    secretary = person_by_email(world, "secretary@example.jp")
    previous, at = GENESIS, audit_chain.now_tokyo()
    for number, entry_id in enumerate((1, 2, 4, 7)):
        values = {
            "id": entry_id,
            "at": at + timedelta(minutes=number),
            "person_id": secretary.id,
            "actor": secretary.email,
            "category": audit.CONTENT,
            "action": "view",
            "subject_type": "session",
            "subject_id": number,
            "body_id": None,
            "session_id": number,
            "detail": "",
            "ip": "192.0.2.7",
            "previous_hash": previous,
        }
        values["hash"] = previous = old_sha256(values)
        world.execute(insert(TABLE).values(**values))
    world.execute(delete(AuditHead))  # a freshly migrated database has one already
    world.add(AuditHead(id=1, last_hash=previous, length=4, key_id=None))
    world.commit()
    return world.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)).all()


def test_a_log_from_before_the_key_asks_to_be_resealed(app, world, old_log):
    result = audit_chain.verify(world)
    assert (result.broken_id, result.reason) == (1, audit_chain.UNKEYED_LOG)
    output = app.test_cli_runner().invoke(args=["audit-verify"]).output
    assert "audit-reseal" in output


def test_audit_reseal_seals_the_old_log_and_what_was_written_since(app, world, old_log):
    # The app keeps logging between the upgrade and the re-seal.
    audit.record(world, Actor(None, "192.0.2.1", name="x"), audit.ACCOUNT, "login")
    world.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-reseal"])
    assert result.exit_code == 0, result.output
    assert "re-sealed: 5 entries, 4 of them written before the key" in result.output
    anchor = result.output.strip().splitlines()[-1]
    assert ANCHOR_LINE.fullmatch(anchor)
    world.expire_all()
    assert audit_chain.verify(world).ok
    rows = world.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [row.id for row in rows] == [1, 2, 3, 4, 5]
    assert [row.subject_id for row in rows] == [0, 1, 2, 3, None]
    assert runner.invoke(args=["audit-verify", "--anchor", anchor]).exit_code == 0
    again = runner.invoke(args=["audit-reseal"])
    assert again.exit_code == 0 and "nothing to re-seal: all 5 entries" in again.output


def test_audit_reseal_refuses_an_old_log_that_does_not_fit(app, world, old_log):
    change(world, 2, actor="someone.else@example.jp")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-reseal"])
    assert result.exit_code == 1 and "NOT re-sealed: it does not fit at entry 2" in result.output
    world.expire_all()
    assert world.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)).all() == old_log
    assert world.get(AuditHead, 1).key_id is None

    forced = runner.invoke(args=["audit-reseal", "--accept-broken"])
    assert forced.exit_code == 0 and "WARNING: sealed although" in forced.output
    assert audit_chain.verify(world).ok


def test_audit_reseal_refuses_an_unkeyed_entry_after_keyed_ones(app, world, logged):
    """Someone without the key appends an entry the old way: no downgrade."""
    values = {**audit_chain.values_of(logged[-1]), "id": 7, "previous_hash": logged[-1].hash}
    values["hash"] = old_sha256(values)
    world.execute(insert(TABLE).values(**values))
    world.execute(update(AuditHead).values(last_hash=values["hash"], length=7))
    world.commit()
    assert audit_chain.verify(world).reason == audit_chain.UNKEYED
    result = app.test_cli_runner().invoke(args=["audit-reseal"])
    assert result.exit_code == 1 and "does not fit at entry 7" in result.output


def test_audit_reseal_refuses_another_key(app, world, logged):
    world.execute(update(AuditHead).values(key_id="0123456789abcdef"))
    world.commit()
    result = app.test_cli_runner().invoke(args=["audit-reseal"])
    assert result.exit_code == 1 and "not the one this audit log is sealed with" in result.output


def test_upgrading_an_old_log_then_resealing_it(tmp_path):
    """The operator's path: `migrate` keeps the old entries as they are (and drops the
    foreign key that would null a sealed person_id); `audit-reseal` seals them."""
    from sqlalchemy import text

    from renkei import migrate
    from renkei.db import make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0010")
    engine = make_engine(url)
    previous = GENESIS
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (id, name, kana, phone, is_admin, active, login_token, "
                "feed_token, created_at) VALUES (5, '旧 太郎', '', '', 0, 1, 't', 'f', "
                "'2025-04-01')"
            )
        )
        for number in (1, 2, 3):
            values = {
                "id": number * 2,
                "at": audit_chain.now_tokyo() + timedelta(seconds=number),
                "person_id": 5,
                "actor": "old@example.jp",
                "category": "account",
                "action": "login",
                "subject_type": "",
                "subject_id": None,
                "body_id": None,
                "session_id": None,
                "detail": "",
                "ip": "192.0.2.1",
                "previous_hash": previous,
            }
            values["hash"] = previous = old_sha256(values)
            connection.execute(insert(TABLE).values(**values))
        connection.execute(update(AuditHead).values(last_hash=previous, length=3))
    migrate.upgrade(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM people WHERE id = 5"))
        kept = connection.execute(text("SELECT person_id FROM audit_entries")).scalars()
        assert kept.all() == [5, 5, 5]
    engine.dispose()

    upgraded = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "s"},
        instance_path=str(tmp_path / "instance"),
    )
    try:
        runner = upgraded.test_cli_runner()
        before = runner.invoke(args=["audit-verify"])
        assert before.exit_code == 1 and "audit-reseal" in before.output
        assert runner.invoke(args=["audit-reseal"]).exit_code == 0
        after = runner.invoke(args=["audit-verify"])
        assert after.exit_code == 0 and "3 entries" in after.output
    finally:
        upgraded.extensions["renkei.engine"].dispose()


@pytest.mark.parametrize("edited", [False, True])
def test_audit_reseal_with_anchors_refuses_a_log_rewritten_the_old_way(app, world, logged, edited):
    """Someone without the key rewrites the whole sealed log the old way, hoping for a
    re-seal: given the anchors, audit-reseal re-seals only what matches them."""
    runner = app.test_cli_runner()
    anchor = runner.invoke(args=["audit-anchor"]).output.strip()
    if edited:
        change(world, 3, detail="view=public")
    relink(world, 1, old_sha256)
    assert audit_chain.verify(world).reason == audit_chain.UNKEYED_LOG
    result = runner.invoke(args=["audit-reseal", "--anchor", anchor])
    world.expire_all()
    if edited:
        assert result.exit_code == 1 and f"does NOT match the anchor {anchor}" in result.output
        assert not audit_chain.verify(world).ok  # nothing was changed
    else:  # the same entries sealed again give the same hashes
        assert result.exit_code == 0 and audit_chain.verify(world).ok
        assert world.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)).all() == [
            entry.hash for entry in logged
        ]


def test_audit_reseal_leaves_entries_numbered_below_one_to_the_operator(app, world, old_log):
    forged = {**audit_chain.values_of(world.get(AuditEntry, 1)), "id": 0, "hash": "e" * 64}
    world.execute(insert(TABLE).values(**forged))
    world.commit()
    result = app.test_cli_runner().invoke(args=["audit-reseal", "--accept-broken"])
    assert result.exit_code == 1 and "numbered below 1" in result.output
    world.expire_all()
    assert world.scalars(select(AuditEntry.hash).where(AuditEntry.id > 0)).all() == old_log
