"""search reach (SQLite): the text's tokens indexed with each body scope token, so a word
written only in closed entries costs a viewer nothing to look for

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 15:00:00

FTS5 answered ``word AND scope:(the viewer's tokens)`` by stepping each of the viewer's scope
lists to the word's entries, closed ones too: a word held only by 20,000 closed items took
5 ms longer over HTTP than a word held nowhere (bench/RESULTS.md). As PostgreSQL's reach
index does (migration 0029), the FTS5 table gets a third column, ``reach``: each of the
entry's body scope tokens (s, e, c) joined to each of its distinct text tokens
(``s12xu4ecb8b77``: a body token is a letter and digits, so the ``x`` after them cannot be
read otherwise, and unicode61 keeps the whole as one token). A search asks for a token of the
terms joined to the viewer's body tokens, which closed entries do not hold.

The column is made in SQL from the entry's tokens and scope (json_each over the
space-separated strings, which hold ASCII letters and digits only), in the triggers and in
the view ``search_fts_content`` that FTS5 reads as its content. PostgreSQL: nothing changes.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0031'
down_revision: Union[str, Sequence[str], None] = '0030'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRIGGERS = ('search_entries_au', 'search_entries_ad', 'search_entries_ai')


def _words(row: str, column: str) -> str:
    return f"""json_each('["' || replace({row}.{column}, ' ', '","') || '"]')"""


def _reach(row: str) -> str:
    """The reach column of the entry ``row`` (new, old or search_entries)."""
    return (
        f"coalesce((SELECT group_concat(b.value || 'x' || w.value, ' ') "
        f"FROM {_words(row, 'scope')} AS b, "
        f"(SELECT DISTINCT value FROM {_words(row, 'tokens')}) AS w "
        f"WHERE b.value GLOB '[sec][0-9]*'), '')"
    )


def _sqlite_fts(reach: bool) -> list[str]:
    columns = ['tokens', 'scope'] + (['reach'] if reach else [])
    names = ", ".join(columns)
    new, old = (
        ", ".join(_reach(row) if c == 'reach' else f"{row}.{c}" for c in columns)
        for row in ("new", "old")
    )
    delete = f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new});"
    content = 'search_entries'
    statements = []
    if reach:
        content = 'search_fts_content'
        statements.append(
            f"CREATE VIEW search_fts_content AS SELECT id, tokens, scope, "
            f"{_reach('search_entries')} AS reach FROM search_entries"
        )
    return statements + [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, content='{content}', "
        "content_rowid='id', tokenize='unicode61')",
        f"INSERT INTO search_fts(rowid, {names}) SELECT id, {names} FROM {content}",
        f"CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN {insert} END",
        f"CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN {delete} END",
        f"CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN {delete} {insert} END",
    ]


def _drop_sqlite_fts() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP VIEW IF EXISTS search_fts_content")


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    _drop_sqlite_fts()
    for statement in _sqlite_fts(reach=True):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    _drop_sqlite_fts()
    for statement in _sqlite_fts(reach=False):
        op.execute(statement)
