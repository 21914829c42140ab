"""the materials approved minutes cite, as they were at the approval (version and SHA-256)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 06:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0023'
down_revision: Union[str, Sequence[str], None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('minutes_material_refs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('material_version_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_version_id'], ['material_versions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['minutes_versions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'number')
    )
    with op.batch_alter_table('minutes_material_refs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_minutes_material_refs_material_version', ['material_version_id'], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('minutes_material_refs', schema=None) as batch_op:
        batch_op.drop_index('ix_minutes_material_refs_material_version')
    op.drop_table('minutes_material_refs')
