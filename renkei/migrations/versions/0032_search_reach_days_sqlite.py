"""search reach (SQLite): the entry's day and month tokens joined to its body tokens too,
so a search for a date alone costs a viewer nothing for the closed entries of that date

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 17:00:00

Migration 0031 joined each body scope token of an entry to each of its text tokens. A search
for a date alone (令和8年5月, no word) still asked FTS5 for the viewer's scope tokens apart
from the date's, so FTS5 stepped each of the viewer's scope lists to the date's entries,
closed ones too: a day whose entries are all closed could take longer than a day with none.
As PostgreSQL's reach index does (migration 0029), the entry's day and month tokens (``d``
and ``n``) are joined to its body tokens as well (``s12xn202605``), and a date-only search
asks for those. PostgreSQL: nothing changes.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0032'
down_revision: Union[str, Sequence[str], None] = '0031'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRIGGERS = ('search_entries_au', 'search_entries_ad', 'search_entries_ai')


def _words(row: str, column: str) -> str:
    return f"""json_each('["' || replace({row}.{column}, ' ', '","') || '"]')"""


def _reach(row: str, days: bool) -> str:
    """The reach column of the entry ``row`` (new, old or search_entries): each body token
    joined to each distinct text token, and (``days``) to each day and month token."""
    joined = f"SELECT DISTINCT value FROM {_words(row, 'tokens')}"
    if days:  # UNION keeps each value once too
        joined = (
            f"SELECT value FROM {_words(row, 'tokens')} UNION "
            f"SELECT value FROM {_words(row, 'scope')} WHERE value GLOB '[dn][0-9]*'"
        )
    return (
        f"coalesce((SELECT group_concat(b.value || 'x' || w.value, ' ') "
        f"FROM {_words(row, 'scope')} AS b, ({joined}) AS w "
        f"WHERE b.value GLOB '[sec][0-9]*'), '')"
    )


def _sqlite_fts(days: bool) -> list[str]:
    names = 'tokens, scope, reach'
    new, old = (f"{row}.tokens, {row}.scope, {_reach(row, days)}" for row in ("new", "old"))
    delete = f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE VIEW search_fts_content AS SELECT id, tokens, scope, "
        f"{_reach('search_entries', days)} AS reach FROM search_entries",
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, content='search_fts_content', "
        "content_rowid='id', tokenize='unicode61')",
        f"INSERT INTO search_fts(rowid, {names}) SELECT id, {names} FROM search_fts_content",
        f"CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN {insert} END",
        f"CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN {delete} END",
        f"CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN {delete} {insert} END",
    ]


def _remake(days: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP VIEW IF EXISTS search_fts_content")
    for statement in _sqlite_fts(days):
        op.execute(statement)


def upgrade() -> None:
    """Upgrade schema."""
    _remake(days=True)


def downgrade() -> None:
    """Downgrade schema."""
    _remake(days=False)
