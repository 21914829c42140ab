"""follow-up tasks of a body: owned by a person or an organisation, created directly or from
minutes, carried onto the body's next sessions

Existing tasks all come from a minutes line: their body is their section's, or (a general
section) their session's host body, and their visibility stays their section's (NULL here).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 06:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SECTION_BODY = (
    "(SELECT s.body_id FROM minutes_sections s WHERE s.id = action_items.section_id)"
)
HOST_BODY = (
    "(SELECT ses.host_body_id FROM minutes_sections s"
    " JOIN minutes_versions v ON v.id = s.version_id"
    " JOIN minutes m ON m.id = v.minutes_id"
    " JOIN sessions ses ON ses.id = m.session_id"
    " WHERE s.id = action_items.section_id)"
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('visibility', sa.Enum('public', 'session', 'body', 'confidential', name='visibility', native_enum=False, length=40), nullable=True))
        batch_op.add_column(sa.Column('owner_organisation_id', sa.Integer(), nullable=True))
    op.execute(f"UPDATE action_items SET body_id = COALESCE({SECTION_BODY}, {HOST_BODY})")
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.alter_column('body_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('section_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_action_items_body_id_bodies', 'bodies', ['body_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key('fk_action_items_owner_organisation_id_organisations', 'organisations', ['owner_organisation_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_index('ix_action_items_body', ['body_id', 'done_at'], unique=False)
        batch_op.create_check_constraint('one_owner', "(owner_id IS NULL AND owner_organisation_id IS NOT NULL) OR (owner_id IS NOT NULL AND owner_organisation_id IS NULL)")
        batch_op.create_check_constraint('one_visibility', "(section_id IS NULL AND visibility IS NOT NULL) OR (section_id IS NOT NULL AND visibility IS NULL)")
    op.create_table(
        'task_carries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=True),
        sa.Column('deferred', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['action_items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'action_id'),
    )
    op.create_table(
        'task_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('change', sa.String(length=40), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['action_id'], ['action_items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_id'], ['people.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index('ix_task_events_action', ['action_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema: tasks created directly or owned by an organisation are dropped."""
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index('ix_task_events_action')
    op.drop_table('task_events')
    op.drop_table('task_carries')
    op.execute("DELETE FROM action_items WHERE section_id IS NULL OR owner_id IS NULL")
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_constraint('one_visibility', type_='check')
        batch_op.drop_constraint('one_owner', type_='check')
        batch_op.drop_index('ix_action_items_body')
        batch_op.drop_constraint('fk_action_items_owner_organisation_id_organisations', type_='foreignkey')
        batch_op.drop_constraint('fk_action_items_body_id_bodies', type_='foreignkey')
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('section_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('owner_organisation_id')
        batch_op.drop_column('visibility')
        batch_op.drop_column('body_id')
