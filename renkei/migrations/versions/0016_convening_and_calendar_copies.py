"""the session lifecycle (prepared, convened, held, cancelled), change notices and what each
recipient's calendar holds; one SEQUENCE per series; the installation's calendar UID domain

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:30:00

"""
import os
import secrets
from urllib.parse import urlsplit
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid_domain', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # Made once: calendar UIDs end with it, whatever BASE_URL becomes. An install upgraded
    # with its BASE_URL set keeps the host its UIDs were made with until now, so the events
    # already in members' calendars stay the same events.
    host = urlsplit(os.environ.get("BASE_URL", "")).hostname
    op.execute(
        sa.text("INSERT INTO installation (id, uid_domain) VALUES (1, :domain)").bindparams(
            domain=host or f"{secrets.token_hex(8)}.renkei"
        )
    )
    op.create_table('calendar_copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('uid', sa.String(length=200), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'address')
    )
    with op.batch_alter_table('calendar_copies', schema=None) as batch_op:
        batch_op.create_index('ix_calendar_copies_uid', ['uid'], unique=False)

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('convened_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('notice_pending_since', sa.DateTime(), nullable=True))

    # A series' SEQUENCE was the highest of its occurrences'; every session saved before
    # this revision was mailed when it was saved: it is convened, since then.
    op.execute(
        "UPDATE series SET sequence = COALESCE((SELECT MAX(s.sequence) FROM sessions s "
        "WHERE s.series_id = series.id), 0)"
    )
    op.execute("UPDATE sessions SET convened_at = created_at")
    op.execute("UPDATE sessions SET status = 'convened' WHERE status = 'scheduled'")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("UPDATE sessions SET status = 'scheduled' WHERE status IN ('convened', 'prepared')")
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('notice_pending_since')
        batch_op.drop_column('convened_at')
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_column('sequence')
    with op.batch_alter_table('calendar_copies', schema=None) as batch_op:
        batch_op.drop_index('ix_calendar_copies_uid')
    op.drop_table('calendar_copies')
    op.drop_table('installation')
