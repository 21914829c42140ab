"""the body register: a body's setting-up authority (設置主体) and its 設置要綱 with dates, a
協議体's layer (第1層/第2層) as data, and the municipality of each organisation

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 22:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Until now a 協議体's layer was written only in its name (「…協議体（第1層）」): an upgraded
# install keeps it as data. A name that says neither leaves the layer to be stated.
LAYER_NAMES = {
    "first": ("%第1層%", "%第１層%"),
    "second": ("%第2層%", "%第２層%"),
}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layer', sa.Enum('first', 'second', name='layer', native_enum=False, length=40), nullable=True))
        batch_op.add_column(sa.Column('authority', sa.Enum('municipality', 'prefecture', 'wide_area_union', name='authority', native_enum=False, length=40), server_default='municipality', nullable=False))
        batch_op.add_column(sa.Column('rules_title', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('rules_enacted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rules_amended_on', sa.Date(), nullable=True))

    for layer, patterns in LAYER_NAMES.items():
        for pattern in patterns:
            op.execute(
                sa.text(
                    "UPDATE bodies SET layer = :layer WHERE kind = 'consultative_body' "
                    "AND layer IS NULL AND name LIKE :pattern"
                ).bindparams(layer=layer, pattern=pattern)
            )

    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'rules_order',
            'rules_amended_on IS NULL OR rules_enacted_on IS NULL OR rules_amended_on >= rules_enacted_on',
        )
        batch_op.create_check_constraint(
            'layer_of_kyogitai', "layer IS NULL OR kind = 'consultative_body'"
        )

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('municipality', sa.String(length=50), server_default='', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('municipality')

    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.drop_constraint('layer_of_kyogitai', type_='check')
        batch_op.drop_constraint('rules_order', type_='check')
        batch_op.drop_column('rules_amended_on')
        batch_op.drop_column('rules_enacted_on')
        batch_op.drop_column('rules_title')
        batch_op.drop_column('authority')
        batch_op.drop_column('layer')
