"""outbound picking: pick jobs, the totes each fills (one order per tote) and the stops of a walk;
location type `tote`

Revision ID: 0009
Revises: 0008

location.type has no CHECK (app.warehouses refuses a type outside PHYSICAL_TYPES), so the `tote`
type needs no schema change: a tote is a location like any other, created on the locations page or
by POST /api/v1/locations, labelled by zone.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('pick_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('picker_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("mode IN ('single', 'batch')", name='ck_pick_job_mode'),
    sa.CheckConstraint("status IN ('open', 'picking', 'done', 'cancelled')", name='ck_pick_job_status'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['picker_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pick_job_status', 'pick_job', ['warehouse_id', 'status', 'id'], unique=False)

    op.create_table('pick_tote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('tote_location_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('scanned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint('position >= 1 AND position <= 50', name='ck_pick_tote_position_range'),
    sa.ForeignKeyConstraint(['job_id'], ['pick_job.id'], ),
    sa.ForeignKeyConstraint(['tote_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'tote_location_id', name='uq_pick_tote_job_tote'),
    sa.UniqueConstraint('job_id', 'order_id', name='uq_pick_tote_job_order')
    )
    op.create_index('ix_pick_tote_tote', 'pick_tote', ['tote_location_id', 'job_id'], unique=False)
    op.create_index('ix_pick_tote_order', 'pick_tote', ['order_id'], unique=False)

    op.create_table('pick_stop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('tote_location_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('picked', sa.Integer(), nullable=False),
    sa.Column('short', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('quantity >= 0 AND quantity <= 1000000', name='ck_pick_stop_quantity_range'),
    sa.CheckConstraint('picked >= 0 AND picked <= quantity', name='ck_pick_stop_picked_within_quantity'),
    sa.CheckConstraint('short >= 0 AND short <= 1000000', name='ck_pick_stop_short_range'),
    sa.CheckConstraint('sequence >= 1', name='ck_pick_stop_sequence_range'),
    sa.ForeignKeyConstraint(['job_id'], ['pick_job.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], ),
    sa.ForeignKeyConstraint(['tote_location_id'], ['location.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pick_stop_job', 'pick_stop', ['job_id', 'sequence'], unique=False)
    op.create_index('ix_pick_stop_line', 'pick_stop', ['order_line_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pick_stop_line', table_name='pick_stop')
    op.drop_index('ix_pick_stop_job', table_name='pick_stop')
    op.drop_table('pick_stop')
    op.drop_index('ix_pick_tote_order', table_name='pick_tote')
    op.drop_index('ix_pick_tote_tote', table_name='pick_tote')
    op.drop_table('pick_tote')
    op.drop_index('ix_pick_job_status', table_name='pick_job')
    op.drop_table('pick_job')
