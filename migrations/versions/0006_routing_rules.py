"""outbound routing: the ordered routing rules, and each order's route, the rule that chose it and
whether a manager routed it by hand

Revision ID: 0006
Revises: 0005

Every order already mirrored is STARSHIPIT, routed by no rule (the default): what the WMS did with
every order until now. SQLite alters sales_order by copying it (batch mode).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# SQLite's batch copies reflect only the table itself, not the tables its foreign keys name.
NO_FK_REFLECTION = {"resolve_fks": False}


def upgrade() -> None:
    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('match', sa.Text(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('position >= 1 AND position <= 200', name='ck_routing_rule_position_range'),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 100', name='ck_routing_rule_name_length'),
    sa.CheckConstraint("outcome IN ('WMS', 'STARSHIPIT')", name='ck_routing_rule_outcome'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('position')
    )

    with op.batch_alter_table('sales_order', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column('route', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='STARSHIPIT'))
        batch_op.add_column(sa.Column('routing_rule_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('routed_by_hand', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_check_constraint('ck_sales_order_route', "route IN ('WMS', 'STARSHIPIT')")
        batch_op.create_check_constraint(
            'ck_sales_order_routing_rule_name_length',
            'routing_rule_name IS NULL OR length(routing_rule_name) BETWEEN 1 AND 100')


def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint('ck_sales_order_routing_rule_name_length', type_='check')
        batch_op.drop_constraint('ck_sales_order_route', type_='check')
        batch_op.drop_column('routed_by_hand')
        batch_op.drop_column('routing_rule_name')
        batch_op.drop_column('route')

    op.drop_table('routing_rule')
