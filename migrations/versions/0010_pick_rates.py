"""outbound dashboard: the day's picks by time, for each picker's lines and units per hour

Revision ID: 0010
Revises: 0009

A partial index (pick movements only), so that the ledger's other movements pay nothing for it.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PICKS = sa.text("type = 'pick'")


def upgrade() -> None:
    op.create_index('ix_movement_picks_by_time', 'movement', ['created_at'], unique=False,
                    sqlite_where=PICKS, postgresql_where=PICKS)


def downgrade() -> None:
    op.drop_index('ix_movement_picks_by_time', table_name='movement')
