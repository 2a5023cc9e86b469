"""inbound and stock control: purchase orders in six statuses, receipts, receiving exceptions,
putaway tasks, stocktakes, reason codes as data, replenishment rules and tasks

Revision ID: 0005
Revises: 0004

The seven reason codes the app had as a constant are seeded. SQLite alters product, purchase_order
and discrepancy by copying them (batch mode): the expression index on lower(sku) is dropped first
and made again after, since batch mode cannot carry it.
"""
from datetime import UTC, datetime
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# SQLite's batch copies reflect only the table itself, not the tables its foreign keys name (whose
# expression indexes batch mode cannot reflect).
NO_FK_REFLECTION = {"resolve_fks": False}
SEEDED_REASONS = [
    ("found", "Found"), ("damaged", "Damaged"), ("lost", "Lost"), ("correction", "Correction"),
    ("count", "Count"), ("expired", "Expired"), ("returned", "Returned"),
]


def upgrade() -> None:
    op.create_table('reason_code',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('length(code) BETWEEN 1 AND 32', name='ck_reason_code_code_length'),
    sa.CheckConstraint('length(label) BETWEEN 1 AND 100', name='ck_reason_code_label_length'),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('stocktake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stocktake', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stocktake_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reversed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reversed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_order.id'], ),
    sa.ForeignKeyConstraint(['reversed_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('receiving_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=True),
    sa.Column('scanned', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_order.id'], ),
    sa.ForeignKeyConstraint(['resolved_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('receiving_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receiving_exception_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('replenishment_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('minimum', sa.Integer(), nullable=False),
    sa.Column('maximum', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('minimum >= 0 AND minimum < maximum AND maximum <= 2147483647', name='ck_replenishment_rule_min_max'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('product_id', 'location_id', name='uq_replenishment_rule')
    )
    with op.batch_alter_table('replenishment_rule', schema=None) as batch_op:
        batch_op.create_index('ix_replenishment_rule_location', ['location_id'], unique=False)

    op.create_table('stocktake_location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stocktake_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('counted_by', sa.Integer(), nullable=True),
    sa.Column('previous_counter', sa.Integer(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['counted_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['previous_counter'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['stocktake_id'], ['stocktake.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stocktake_id', 'location_id', name='uq_stocktake_location')
    )
    with op.batch_alter_table('stocktake_location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stocktake_location_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stocktake_location_stocktake_id'), ['stocktake_id'], unique=False)

    op.create_table('receipt_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=False),
    sa.Column('reversal_movement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity >= 1 AND quantity <= 1000000', name='ck_receipt_line_quantity_in_range'),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_line.id'], ),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], ),
    sa.ForeignKeyConstraint(['reversal_movement_id'], ['movement.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('receipt_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_line_purchase_order_line_id'), ['purchase_order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_line_receipt_id'), ['receipt_id'], unique=False)

    op.create_table('replenishment_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('movement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity >= 1 AND quantity <= 1000000', name='ck_replenishment_task_quantity_in_range'),
    sa.ForeignKeyConstraint(['done_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['to_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('replenishment_task', schema=None) as batch_op:
        batch_op.create_index('ix_replenishment_task_warehouse', ['warehouse_id', 'status', 'id'], unique=False)
        batch_op.create_index('uq_replenishment_task_open', ['product_id', 'to_location_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('stocktake_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stocktake_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=True),
    sa.Column('counted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('counted_by', sa.Integer(), nullable=True),
    sa.Column('movement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('counted IS NULL OR (counted >= 0 AND counted <= 1000000)', name='ck_stocktake_line_counted_in_range'),
    sa.CheckConstraint('expected >= 0 AND expected <= 2147483647', name='ck_stocktake_line_expected_in_range'),
    sa.ForeignKeyConstraint(['counted_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['stocktake_id'], ['stocktake.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stocktake_id', 'location_id', 'product_id', name='uq_stocktake_line')
    )
    with op.batch_alter_table('stocktake_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stocktake_line_stocktake_id'), ['stocktake_id'], unique=False)

    op.create_table('putaway_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('suggested_location_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('receipt_line_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('put_location_id', sa.Integer(), nullable=True),
    sa.Column('movement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity >= 1 AND quantity <= 1000000', name='ck_putaway_task_quantity_in_range'),
    sa.ForeignKeyConstraint(['done_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['putaway_task.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['put_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['receipt_line_id'], ['receipt_line.id'], ),
    sa.ForeignKeyConstraint(['suggested_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('putaway_task', schema=None) as batch_op:
        batch_op.create_index('ix_putaway_task_open', ['warehouse_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_putaway_task_receipt_line_id'), ['receipt_line_id'], unique=False)

    with op.batch_alter_table('discrepancy', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column('stocktake_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_discrepancy_stocktake', 'stocktake', ['stocktake_id'], ['id'])

    op.drop_index('uq_product_sku_ci', table_name='product')
    with op.batch_alter_table('product', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column('receive_tolerance_percent', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'ck_product_receive_tolerance_range',
            'receive_tolerance_percent IS NULL OR (receive_tolerance_percent >= 0 AND receive_tolerance_percent <= 100)')
    op.create_index('uq_product_sku_ci', 'product', [sa.text('lower(sku)')], unique=True)

    with op.batch_alter_table('purchase_order', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column('tolerance_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.Integer(), nullable=True))
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=16),
               type_=sqlmodel.sql.sqltypes.AutoString(length=20),
               existing_nullable=False)
        batch_op.create_foreign_key('fk_purchase_order_closed_by', 'app_user', ['closed_by'], ['id'])
        batch_op.create_check_constraint(
            'ck_purchase_order_tolerance_range',
            'tolerance_percent IS NULL OR (tolerance_percent >= 0 AND tolerance_percent <= 100)')
    op.execute("UPDATE purchase_order SET updated_at = created_at")
    with op.batch_alter_table('purchase_order', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)

    reason_code = sa.table('reason_code', sa.column('code', sa.String), sa.column('label', sa.String),
                           sa.column('active', sa.Boolean), sa.column('created_at', sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    op.bulk_insert(reason_code, [{'code': code, 'label': label, 'active': True, 'created_at': now}
                                 for code, label in SEEDED_REASONS])


def downgrade() -> None:
    with op.batch_alter_table('purchase_order', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint('ck_purchase_order_tolerance_range', type_='check')
        batch_op.drop_constraint('fk_purchase_order_closed_by', type_='foreignkey')
        batch_op.alter_column('status',
               existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
               type_=sa.VARCHAR(length=16),
               existing_nullable=False)
        batch_op.drop_column('closed_by')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('note')
        batch_op.drop_column('tolerance_percent')

    op.drop_index('uq_product_sku_ci', table_name='product')
    with op.batch_alter_table('product', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint('ck_product_receive_tolerance_range', type_='check')
        batch_op.drop_column('receive_tolerance_percent')
    op.create_index('uq_product_sku_ci', 'product', [sa.text('lower(sku)')], unique=True)

    with op.batch_alter_table('discrepancy', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint('fk_discrepancy_stocktake', type_='foreignkey')
        batch_op.drop_column('stocktake_id')

    with op.batch_alter_table('putaway_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_putaway_task_receipt_line_id'))
        batch_op.drop_index('ix_putaway_task_open')

    op.drop_table('putaway_task')
    with op.batch_alter_table('stocktake_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stocktake_line_stocktake_id'))

    op.drop_table('stocktake_line')
    with op.batch_alter_table('replenishment_task', schema=None) as batch_op:
        batch_op.drop_index('uq_replenishment_task_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_replenishment_task_warehouse')

    op.drop_table('replenishment_task')
    with op.batch_alter_table('receipt_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_line_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_line_purchase_order_line_id'))

    op.drop_table('receipt_line')
    with op.batch_alter_table('stocktake_location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stocktake_location_stocktake_id'))
        batch_op.drop_index(batch_op.f('ix_stocktake_location_location_id'))

    op.drop_table('stocktake_location')
    with op.batch_alter_table('replenishment_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_replenishment_rule_location')

    op.drop_table('replenishment_rule')
    with op.batch_alter_table('receiving_exception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receiving_exception_purchase_order_id'))

    op.drop_table('receiving_exception')
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_purchase_order_id'))

    op.drop_table('receipt')
    with op.batch_alter_table('stocktake', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stocktake_warehouse_id'))

    op.drop_table('stocktake')
    op.drop_table('reason_code')
