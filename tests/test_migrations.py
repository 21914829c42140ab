"""The Alembic migrations build exactly the schema the models describe."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

import renkei.models  # noqa: F401  (registers every table on Base.metadata)
from renkei.db import Base, make_engine
from renkei.models.search import in_models


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": in_models})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_keeps_every_row(tmp_path):
    """A migration that rebuilds a table (SQLite batch mode) must not cascade-delete the rows
    that refer to it: people's memberships survived neither the copy nor the drop once."""
    from renkei import migrate

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0002")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (id, name, kana, phone, is_admin, active, login_token, "
                "created_at) VALUES (1, '兼務 三郎', '', '', 0, 1, 'tok', '2025-04-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO bodies (id, name, kind, area, programme, confidentiality, "
                "description, created_at) VALUES (1, '支援会議', 'support_meeting', '', "
                "'livelihood', 'statutory', '', '2025-04-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO memberships (person_id, body_id, role, term_start, note, "
                "created_at) VALUES (1, 1, 'member', '2025-04-01', '', '2025-04-01')"
            )
        )
    migrate.upgrade(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM memberships")).scalar() == 1
        token = connection.execute(text("SELECT feed_token FROM people")).scalar()
        assert token and token != "tok"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no tables: a SQLite file, or on PostgreSQL (RENKEI_TEST_DATABASE_URL)
    a schema of its own, so that migrations can be run from the start."""
    url = os.environ.get("RENKEI_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    schema = f"migration_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    options = {"options": f"-csearch_path={schema}"}
    yield make_url(url).update_query_dict(options).render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


KINDS = {
    "support_meeting": "statutory",
    "community_care": "statutory",
    "support_coordination": "closed",
    "other": "closed",
    "consultative_body": "public",
}


def _members_rows(engine) -> dict[str, int]:
    """A session serving a body of each kind, with an agenda item of each and its minutes
    (an item section per item, an attendance section per body, the decisions), all stored
    as `members` as before 0014; and a public and a confidential item that stay as they are.
    Returns the body ids by kind."""
    from renkei.models import (
        AgendaItem,
        Body,
        MeetingSession,
        Minutes,
        MinutesSection,
        MinutesVersion,
        SectionKind,
    )

    with Session(engine) as db:
        bodies = {
            kind: Body(name=kind, kind=kind, programme="other", confidentiality=confidentiality)
            for kind, confidentiality in KINDS.items()
        }
        start = datetime(2026, 4, 9, 5, tzinfo=UTC)
        session = MeetingSession(
            title="定例会",
            host_body=bodies["support_meeting"],
            start_at=start,
            end_at=start + timedelta(hours=2),
            bodies=list(bodies.values()),
        )
        version = MinutesVersion(minutes=Minutes(session=session), number=1)
        for position, (kind, body) in enumerate(bodies.items(), start=1):
            item = AgendaItem(body=body, position=position, title=kind, visibility="public")
            session.items.append(item)
            for section_kind, agenda_item in ((SectionKind.ITEM, item), ("attendance", None)):
                version.sections.append(
                    MinutesSection(
                        position=len(version.sections) + 1,
                        kind=section_kind,
                        agenda_item=agenda_item,
                        body=body,
                        visibility="public",
                    )
                )
        version.sections.append(MinutesSection(position=99, kind="decisions", visibility="public"))
        for title, visibility in (("公開のまま", "public"), ("守秘のまま", "confidential")):
            session.items.append(
                AgendaItem(
                    body=bodies["support_coordination"],
                    position=len(session.items) + 1,
                    title=title,
                    visibility=visibility,
                )
            )
        db.add_all([session, version])
        db.commit()
        ids = {kind: body.id for kind, body in bodies.items()}
    # `members` is no value of today's enum: written as the old code wrote it.
    with engine.begin() as connection:
        for table in ("agenda_items", "minutes_sections"):
            connection.execute(
                text(
                    f"UPDATE {table} SET visibility = 'members' "
                    "WHERE visibility = 'public' AND (title IS NULL OR title NOT LIKE '公開%')"
                )
            )
    return ids


def _visibilities(engine) -> tuple[dict, dict]:
    with engine.connect() as connection:
        items = dict(
            connection.execute(
                text(
                    "SELECT bodies.kind || ':' || agenda_items.title, agenda_items.visibility "
                    "FROM agenda_items JOIN bodies ON bodies.id = agenda_items.body_id"
                )
            ).all()
        )
        sections = dict(
            connection.execute(
                text(
                    "SELECT minutes_sections.kind || ':' || COALESCE(bodies.kind, '-'), "
                    "minutes_sections.visibility FROM minutes_sections "
                    "LEFT JOIN bodies ON bodies.id = minutes_sections.body_id"
                )
            ).all()
        )
    return items, sections


def test_members_becomes_body_or_session_by_the_owning_body_and_back(empty_database_url):
    """0014: `members` items of a 支援調整会議 or an `other` body become `body`, all others
    `session`; only an item's section follows its owner, the general ones become `session`.
    Downgrading writes `members` again; public and confidential rows never change."""
    from renkei import migrate

    url = empty_database_url
    # The rows are written with today's models, so at the head, then taken back to 0013.
    migrate.upgrade(url)
    engine = make_engine(url)
    _members_rows(engine)
    command.downgrade(migrate.alembic_config(url), "0013")
    migrate.upgrade(url, "0014")
    items, sections = _visibilities(engine)
    assert items == {
        "support_meeting:support_meeting": "session",
        "community_care:community_care": "session",
        "support_coordination:support_coordination": "body",
        "other:other": "body",
        "consultative_body:consultative_body": "session",
        "support_coordination:公開のまま": "public",
        "support_coordination:守秘のまま": "confidential",
    }
    assert sections == {
        "item:support_meeting": "session",
        "item:community_care": "session",
        "item:support_coordination": "body",
        "item:other": "body",
        "item:consultative_body": "session",
        **{f"attendance:{kind}": "session" for kind in KINDS},
        "decisions:-": "session",
    }
    command.downgrade(migrate.alembic_config(url), "0013")
    items, sections = _visibilities(engine)
    assert set(sections.values()) == {"members"}
    assert {v for k, v in items.items() if "のまま" not in k} == {"members"}
    assert items["support_coordination:公開のまま"] == "public"
    assert items["support_coordination:守秘のまま"] == "confidential"
    engine.dispose()


def test_a_kyogitai_keeps_the_layer_its_name_gave_and_the_register_goes_back(empty_database_url):
    """0017: a 協議体 whose name says 第1層 or 第2層 (in half- or full-width digits) gets that
    layer as data; another body's name changes nothing. Every body is set up by its
    municipality until someone says otherwise. Downgrading drops the columns again."""
    from renkei import migrate

    url = empty_database_url
    migrate.upgrade(url, "0016")
    engine = make_engine(url)
    names = {
        "みどり町協議体（第1層）": "consultative_body",
        "北中学校区協議体（第２層）": "consultative_body",
        "南地区協議体": "consultative_body",
        "支援会議（第1層の方も出席）": "support_meeting",
    }
    with engine.begin() as connection:
        for number, (name, kind) in enumerate(names.items(), start=1):
            connection.execute(
                text(
                    "INSERT INTO bodies (id, name, kind, area, programme, confidentiality, "
                    "description, created_at) VALUES (:id, :name, :kind, '', 'other', "
                    "'public', '', '2025-04-01')"
                ),
                {"id": number, "name": name, "kind": kind},
            )
        connection.execute(
            text("INSERT INTO organisations (id, name, kind, contact, created_at) "
                 "VALUES (1, '福祉課', 'other', '', '2025-04-01')")
        )  # fmt: skip
    migrate.upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, layer, authority, rules_title FROM bodies ORDER BY id")
        ).all()
        town = connection.execute(text("SELECT municipality FROM organisations")).scalar()
    assert [(name, layer) for name, layer, _, _ in rows] == [
        ("みどり町協議体（第1層）", "first"),
        ("北中学校区協議体（第２層）", "second"),
        ("南地区協議体", None),
        ("支援会議（第1層の方も出席）", None),
    ]
    assert {(authority, title) for _, _, authority, title in rows} == {("municipality", "")}
    assert town == ""
    command.downgrade(migrate.alembic_config(url), "0016")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM bodies")).scalar() == 4
    engine.dispose()


def test_the_fts_reach_column_is_filled_for_the_entries_already_indexed(tmp_path):
    """Migration 0031 (SQLite) remakes the FTS5 table with the reach column, 0032 joins the
    day and month tokens too: the entries written before are matched through it at once,
    later writes and deletions follow it, and going back leaves the text matched as
    before."""
    from renkei import migrate

    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    migrate.upgrade(url, "0030")
    engine = make_engine(url)
    insert = text(
        "INSERT INTO search_entries (id, kind, object_id, title, text, tokens, scope) "
        "VALUES (:id, 'body', :id, '介護', '介護', 'u4ecb8b77', :scope)"
    )
    with engine.begin() as connection:
        connection.execute(insert, {"id": 1, "scope": "a s7 d20260512 n202605"})
    migrate.upgrade(url)

    def found(match: str) -> list[int]:
        with engine.connect() as connection:
            query = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m ORDER BY rowid")
            return list(connection.execute(query, {"m": match}).scalars())

    assert found("reach : s7xu4ecb8b77") == [1]
    assert found("reach : s8xu4ecb8b77") == []
    assert found("reach : axu4ecb8b77") == []  # only body tokens are joined
    assert found("reach : s7xn202605") == found("reach : s7xd20260512") == [1]
    assert found("reach : s7xa") == []  # to words, days and months
    with engine.begin() as connection:
        connection.execute(insert, {"id": 2, "scope": "c8"})
        connection.execute(text("DELETE FROM search_entries WHERE id = 1"))
    assert found("reach : s7xu4ecb8b77") == []
    assert found("reach : c8xu4ecb8b77") == [2]
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"))
    command.downgrade(migrate.alembic_config(url), "0031")
    assert found("reach : c8xu4ecb8b77") == [2]
    with engine.begin() as connection:
        connection.execute(insert, {"id": 3, "scope": "s9 n202605"})
    assert found("reach : s9xu4ecb8b77") == [3]
    assert found("reach : s9xn202605") == []
    command.downgrade(migrate.alembic_config(url), "0030")
    assert found("tokens : u4ecb8b77") == [2, 3]
