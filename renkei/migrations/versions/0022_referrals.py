"""referrals (つなぎ): referrals, their topics and history

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 05:30:00

The topics are seeded with the usual list; administrators edit it afterwards.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TOPICS = ("家計", "住まい", "就労", "認知症", "8050", "障害", "健康", "子ども・若者", "債務", "その他")


def upgrade() -> None:
    """Upgrade schema."""
    topics = op.create_table('referral_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('from_organisation_id', sa.Integer(), nullable=False),
    sa.Column('to_organisation_id', sa.Integer(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('case_number', sa.String(length=24), nullable=False),
    sa.Column('consent', sa.Enum('given', 'refused', 'asking', name='consent', native_enum=False, length=40), nullable=False),
    sa.Column('status', sa.Enum('received', 'contacted', 'supporting', 'closed', 'unreached', name='referralstatus', native_enum=False, length=40), nullable=False),
    sa.Column('status_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['people.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_organisation_id'], ['organisations.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['responsible_id'], ['people.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['to_organisation_id'], ['organisations.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_case_number', ['case_number'], unique=False)
        batch_op.create_index('ix_referrals_from', ['from_organisation_id', 'status'], unique=False)
        batch_op.create_index('ix_referrals_to', ['to_organisation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_agenda_item_id'), ['agenda_item_id'], unique=False)
    op.create_table('referral_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('on', sa.Date(), nullable=True),
    sa.Column('from_status', sa.Enum('received', 'contacted', 'supporting', 'closed', 'unreached', name='referralstatus', native_enum=False, length=40), nullable=True),
    sa.Column('to_status', sa.Enum('received', 'contacted', 'supporting', 'closed', 'unreached', name='referralstatus', native_enum=False, length=40), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index('ix_referral_events_referral', ['referral_id'], unique=False)
    op.create_table('referral_topic_links',
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['referral_topics.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('referral_id', 'topic_id')
    )
    op.bulk_insert(topics, [{'name': name, 'position': n, 'active': True} for n, name in enumerate(TOPICS, start=1)])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('referral_topic_links')
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_events_referral')
    op.drop_table('referral_events')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_agenda_item_id'))
        batch_op.drop_index('ix_referrals_to')
        batch_op.drop_index('ix_referrals_from')
        batch_op.drop_index('ix_referrals_case_number')
    op.drop_table('referrals')
    op.drop_table('referral_topics')
