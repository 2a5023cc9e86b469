"""scan actions applied once by their client-made id (offline replay)

Revision ID: 0012
Revises: 0011

One row per scan action applied, keyed by the id the phone made for it (X-Client-Id), written in
the action's own transaction: an action sent again finds its id and is not applied twice.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('client_action',
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('client_id')
    )
    with op.batch_alter_table('client_action', schema=None) as batch_op:
        batch_op.create_index('ix_client_action_applied_at', ['applied_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_action', schema=None) as batch_op:
        batch_op.drop_index('ix_client_action_applied_at')
    op.drop_table('client_action')
