"""selected members (選定招集) and participants (関係者) of sessions, and their session pledges

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:45:43.820977

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('may_read_minutes', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['people.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'person_id')
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_person', ['person_id'], unique=False)

    op.create_table('session_pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('pledged_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['people.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'person_id', 'body_id')
    )
    op.create_table('session_selections',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['people.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('session_id', 'body_id')
    )
    op.create_table('participant_items',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participant_id', 'agenda_item_id')
    )
    with op.batch_alter_table('participant_items', schema=None) as batch_op:
        batch_op.create_index('ix_participant_items_item', ['agenda_item_id'], unique=False)

    op.create_table('selected_members',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id', 'body_id'], ['session_selections.session_id', 'session_selections.body_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'body_id', 'person_id')
    )
    with op.batch_alter_table('selected_members', schema=None) as batch_op:
        batch_op.create_index('ix_selected_members_person', ['person_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('selected_members', schema=None) as batch_op:
        batch_op.drop_index('ix_selected_members_person')

    op.drop_table('selected_members')
    with op.batch_alter_table('participant_items', schema=None) as batch_op:
        batch_op.drop_index('ix_participant_items_item')

    op.drop_table('participant_items')
    op.drop_table('session_selections')
    op.drop_table('session_pledges')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_person')

    op.drop_table('participants')
