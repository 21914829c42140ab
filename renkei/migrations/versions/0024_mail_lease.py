"""mail: the sending worker's lease (claimed at, by whom), the next try and a permanent refusal

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 08:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0024'
down_revision: Union[str, Sequence[str], None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema. A message left 'sending' before this has no claimed_at: its lease
    counts as expired, so the next send-mail takes it up again."""
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('claimed_by', sa.String(length=100), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('refused', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index('ix_mail_messages_status', ['status'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_messages_status')
        batch_op.drop_column('refused')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_at')
