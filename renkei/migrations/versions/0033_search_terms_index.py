"""search terms (PostgreSQL): the reach index as arrays, with each entry's window of ids

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 18:00:00

The reach index of migration 0029 found every match a viewer may see before any was
ordered, and each had to be read from ``search_entries`` (one or two rows a page: their text,
tokens and ``tsv``) to be sorted: a city's 20,578 matches of 買い物支援 read 18,266 pages
(70 of 127 ms), though a search keeps the latest 500. The index ``ix_search_entries_terms``
holds the same terms (each text token, each scope token with ``@`` before it, each body
scope token joined to each text, day and month token: ``s12|u4ecb8b77``) and the window of
ids the entry lies in (``@w17``: the id's bits above the lowest 16, 65,536 entries a
window), so that a search can ask first for the latest windows and read only their pages
(``search.WINDOW_BITS``). As a ``text[]`` (``@>`` for the words, ``&&`` for the viewer's
scope), GIN answered the same question in 21 ms instead of a tsquery's 36
(bench/RESULTS.md). SQLite: nothing changes.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0033'
down_revision: Union[str, Sequence[str], None] = '0032'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Its body tokens (s, e, c: many entries share each) are joined to its text and date tokens;
# the other scope tokens are few entries' each and are held alone. The same terms in both
# functions: this migration's (with the window) and 0029's (for going back).
_TERMS_OF = r"""
  WITH words AS (
         SELECT DISTINCT w FROM unnest(string_to_array(tokens, ' ')) AS w WHERE w <> ''),
       scopes AS (
         SELECT DISTINCT s FROM unnest(string_to_array(scope, ' ')) AS s WHERE s <> ''),
       joined AS (
         SELECT w FROM words UNION ALL SELECT s FROM scopes WHERE s ~ '^[dn][0-9]+$')
  SELECT %s(ARRAY(
    SELECT w FROM words
    UNION ALL SELECT '@' || s FROM scopes
    UNION ALL SELECT b.s || '|' || j.w FROM scopes AS b, joined AS j WHERE b.s ~ '^[sec][0-9]+$'
    %s
  ))
"""

# The window's 16 bits are search.WINDOW_BITS.
TERMS = (
    "CREATE OR REPLACE FUNCTION renkei_search_terms(id integer, tokens text, scope text) "
    "RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$"
    + _TERMS_OF % ("", "UNION ALL SELECT '@w' || (id >> 16)")
    + "$$"
)

# Migration 0029's reach index, for going back.
REACH_0029 = (
    "CREATE OR REPLACE FUNCTION renkei_search_reach(tokens text, scope text) "
    "RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$"
    + _TERMS_OF % ("array_to_tsvector", "")
    + "$$"
)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entries_reach")
    op.execute("DROP FUNCTION IF EXISTS renkei_search_reach(text, text)")
    op.execute(TERMS)
    op.execute(
        "CREATE INDEX ix_search_entries_terms ON search_entries "
        "USING gin (renkei_search_terms(id, tokens, scope))"
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entries_terms")
    op.execute("DROP FUNCTION IF EXISTS renkei_search_terms(integer, text, text)")
    op.execute(REACH_0029)
    op.execute(
        "CREATE INDEX ix_search_entries_reach ON search_entries "
        "USING gin (renkei_search_reach(tokens, scope))"
    )
