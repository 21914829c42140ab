"""feeds: each session's calendar version, and the stored event texts feeds are assembled from

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 12:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0025'
down_revision: Union[str, Sequence[str], None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema. Existing sessions start at version 0 with no stored text: the first
    feed built after the upgrade stores them."""
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('calendar_version', sa.Integer(), server_default='0', nullable=False)
        )
    op.create_table(
        'feed_fragments',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('unit', sa.String(length=40), nullable=False),
        sa.Column('variant', sa.String(length=16), nullable=False),
        sa.Column('text', sa.LargeBinary(), nullable=False),
        sa.Column('built_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('feed_fragments', schema=None) as batch_op:
        batch_op.create_index('ix_feed_fragments_unit', ['unit', 'variant'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('feed_fragments', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_fragments_unit')
    op.drop_table('feed_fragments')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('calendar_version')
