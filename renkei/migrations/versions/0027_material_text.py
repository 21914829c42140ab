"""materials: the plain text of each file version, for the search (issue 25)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 12:05:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0027'
down_revision: Union[str, Sequence[str], None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema. Files stored before this have no text (NULL) until
    `flask material-text` reads them."""
    with op.batch_alter_table('material_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('material_versions', schema=None) as batch_op:
        batch_op.drop_column('text')
