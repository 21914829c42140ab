"""search: the index of what a search finds (search_entries), with SQLite's FTS5 table
search_fts (kept by triggers) or PostgreSQL's generated tsvector column tsv (GIN)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 12:10:00

The entries are filled by `flask search-rebuild` (and kept by every later change): this
migration makes the empty index only.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0026'
down_revision: Union[str, Sequence[str], None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

VISIBILITY = sa.Enum(
    'public', 'session', 'body', 'confidential',
    name='visibility', native_enum=False, length=40,
)

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "tokens, content='search_entries', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'search_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(
            'kind',
            sa.Enum(
                'session', 'item', 'section', 'material', 'referral', 'issue', 'body',
                'persons', name='searchkind', native_enum=False, length=40,
            ),
            nullable=False,
        ),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('body_id', sa.Integer(), nullable=True),
        sa.Column('visibility', VISIBILITY, nullable=True),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('narrowed_to', VISIBILITY, nullable=True),
        sa.Column('raised_by_id', sa.Integer(), nullable=True),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('tokens', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_search_entries_object', 'search_entries', ['kind', 'object_id'])
    op.create_index('ix_search_entries_session', 'search_entries', ['session_id'])
    op.create_index('ix_search_entries_day', 'search_entries', ['day'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "ALTER TABLE search_entries ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', tokens)) STORED"
        )
        op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != 'postgresql':
        for name in ('search_entries_au', 'search_entries_ad', 'search_entries_ai'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index('ix_search_entries_day', table_name='search_entries')
    op.drop_index('ix_search_entries_session', table_name='search_entries')
    op.drop_index('ix_search_entries_object', table_name='search_entries')
    op.drop_table('search_entries')
