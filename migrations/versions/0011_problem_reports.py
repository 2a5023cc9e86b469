"""pickers' problem reports (damaged, missing, found) proposed as adjustments

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass  # filled in by the work it is named for


def downgrade() -> None:
    pass
