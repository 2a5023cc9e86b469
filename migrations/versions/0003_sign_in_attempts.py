"""sign-in attempts shared by every worker

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # The sign-in rate limit's counters when there is no Redis (app/limiter_storage.py).
    op.create_table('sign_in_counter',
    sa.Column('limit_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.CheckConstraint('hits >= 0', name='ck_sign_in_counter_hits_not_negative'),
    sa.PrimaryKeyConstraint('limit_key')
    )
    with op.batch_alter_table('sign_in_counter', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_counter_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_counter', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_counter_expires_at')
    op.drop_table('sign_in_counter')
