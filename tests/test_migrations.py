"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import renkei.models  # noqa: F401  (registers every table on Base.metadata)
from renkei.db import Base, make_engine


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_keeps_every_row(tmp_path):
    """A migration that rebuilds a table (SQLite batch mode) must not cascade-delete the rows
    that refer to it: people's memberships survived neither the copy nor the drop once."""
    from sqlalchemy import text

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
