"""search scope: each entry's scope tokens (who could possibly see it, its day), matched
with the text so that a search reads only the entries within the viewer's scope

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 16:00:00

SQLite's FTS5 table gets a second column, ``scope``; PostgreSQL's ``tsv`` holds the text's
tokens with weight D and the scope's with weight A. The entries written before have no
scope and are removed: `flask migrate` writes the index again when it finds it empty.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0028'
down_revision: Union[str, Sequence[str], None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRIGGERS = ('search_entries_au', 'search_entries_ad', 'search_entries_ai')


def _sqlite_fts(columns: list[str]) -> list[str]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, content='search_entries', "
        "content_rowid='id', tokenize='unicode61')",
        f"CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN {insert} END",
        f"CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN {delete} END",
        f"CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN {delete} {insert} END",
    ]


def _drop_sqlite_fts() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")


def _postgres_tsv(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")
    op.execute("ALTER TABLE search_entries DROP COLUMN IF EXISTS tsv")
    op.execute(
        f"ALTER TABLE search_entries ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expression}) STORED"
    )
    op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")


def upgrade() -> None:
    """Upgrade schema."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    if not postgres:
        _drop_sqlite_fts()
    op.execute("DELETE FROM search_entries")
    op.add_column(
        'search_entries', sa.Column('scope', sa.Text(), nullable=False, server_default='')
    )
    if postgres:
        _postgres_tsv(
            "setweight(to_tsvector('simple', tokens), 'D') || "
            "setweight(to_tsvector('simple', scope), 'A')"
        )
    else:
        for statement in _sqlite_fts(['tokens', 'scope']):
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    if not postgres:
        _drop_sqlite_fts()
    op.execute("DELETE FROM search_entries")
    if postgres:
        op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")
        op.execute("ALTER TABLE search_entries DROP COLUMN IF EXISTS tsv")
    with op.batch_alter_table('search_entries') as batch:
        batch.drop_column('scope')
    if postgres:
        _postgres_tsv("to_tsvector('simple', tokens)")
    else:
        for statement in _sqlite_fts(['tokens']):
            op.execute(statement)
