"""case numbers: a case number on agenda items and minutes sections, and the counters

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00.000000

The new body kind ``multi_agency`` and the programmes ``comprehensive_support`` and
``multi_agency`` need no change: kinds and programmes are plain strings (native_enum=False,
no CHECK constraint).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('case_number_counters',
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'fiscal_year')
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_number', sa.String(length=24), nullable=True))
    with op.batch_alter_table('minutes_sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_number', sa.String(length=24), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('minutes_sections', schema=None) as batch_op:
        batch_op.drop_column('case_number')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_column('case_number')
    op.drop_table('case_number_counters')
