"""the sessions being prepared, indexed

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 03:00:00

The search's policy and the secretariat's dashboard ask for the sessions still being
prepared (準備中), a handful of a town's tens of thousands: a partial index holds them alone.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0030'
down_revision: Union[str, Sequence[str], None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PREPARED = sa.text("status = 'prepared'")


def upgrade() -> None:
    op.create_index(
        "ix_sessions_prepared",
        "sessions",
        ["id"],
        sqlite_where=PREPARED,
        postgresql_where=PREPARED,
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_prepared", table_name="sessions")
