"""audit key

The audit log's entries are sealed with a key kept outside the database from now on, over
every column, person_id included. So person_id loses its foreign key (ON DELETE SET NULL
would change a sealed column), and the head records which key seals the chain.

The entries already written stay as they are, sealed without a key, until the operator
runs `flask --app renkei audit-reseal` once (it needs the key, which a migration does not
have): see the README.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite keeps the foreign key unnamed: batch mode finds it under this convention's name.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_FK = "fk_audit_entries_person_id_people"


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table('audit_entries', naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(SQLITE_FK, type_='foreignkey')
    else:
        for key in sa.inspect(bind).get_foreign_keys('audit_entries'):
            if key['referred_table'] == 'people':
                op.drop_constraint(key['name'], 'audit_entries', type_='foreignkey')

    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('key_id')

    # Entries of people deleted meanwhile would violate the key: they go back to NULL.
    op.execute(
        "UPDATE audit_entries SET person_id = NULL "
        "WHERE person_id NOT IN (SELECT id FROM people)"
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_audit_entries_person_id_people', 'people', ['person_id'], ['id'],
            ondelete='SET NULL',
        )
