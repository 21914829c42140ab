"""why minutes were submitted for approval while the session had no attendance record

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 22:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('minutes_versions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('attendance_reason', sa.String(length=500), server_default='', nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('minutes_versions', schema=None) as batch_op:
        batch_op.drop_column('attendance_reason')
