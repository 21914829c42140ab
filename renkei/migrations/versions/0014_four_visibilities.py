"""four visibilities: `members` becomes `session` or `body`

`members` meant "members of any body in the session", which let a joint session open one
body's closed items to the other's. It is split in two (docs/architecture.md, "The
confidentiality rule"):

- agenda items and their minutes sections owned by a 支援調整会議 or another closed body
  (kind support_coordination or other) become `body`: its members only, as those bodies
  now default to;
- every other `members` row becomes `session` (everyone convened to the session), which is
  what it showed until now: items of 支援会議, 地域ケア会議 and 協議体 opened to members on
  purpose, and the general sections of minutes (attendance, decisions, next session),
  whose editor offers public and session only.

The columns stay strings of the same length (the enum is not native and has no CHECK), so
only rows change, by plain UPDATEs that SQLite and PostgreSQL read alike. Downgrading
writes `members` for both again.

Approved minutes keep their content hash, taken over `members`: the app verifies it as
written before this revision too (``minutes_document.matches_hash``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kinds of body whose `members` items become `body` (their new default).
BODY_KINDS = "('support_coordination', 'other')"
OWNED_BY_SUCH_A_BODY = f"body_id IN (SELECT id FROM bodies WHERE kind IN {BODY_KINDS})"


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        "UPDATE agenda_items SET visibility = 'body' "
        f"WHERE visibility = 'members' AND {OWNED_BY_SUCH_A_BODY}"
    )
    op.execute("UPDATE agenda_items SET visibility = 'session' WHERE visibility = 'members'")
    # Only an item's section follows its owner; a general section speaks to the session.
    op.execute(
        "UPDATE minutes_sections SET visibility = 'body' "
        f"WHERE visibility = 'members' AND kind = 'item' AND {OWNED_BY_SUCH_A_BODY}"
    )
    op.execute("UPDATE minutes_sections SET visibility = 'session' WHERE visibility = 'members'")


def downgrade() -> None:
    """Downgrade schema."""
    for table in ('agenda_items', 'minutes_sections'):
        op.execute(
            f"UPDATE {table} SET visibility = 'members' WHERE visibility IN ('session', 'body')"
        )
