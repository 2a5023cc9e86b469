"""outbound allocation: find the orders waiting for stock per warehouse, oldest first, and the
orders asking for one product

Revision ID: 0007
Revises: 0006

AWAITING_STOCK needs no schema: sales_order.status is free text (no CHECK names the statuses).
The setting that allows partial allocation lives in the settings table (app.settings_store, key
ALLOCATE_PARTIALLY), which needs no schema either.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

AWAITING = sa.text("status = 'AWAITING_STOCK'")


def upgrade() -> None:
    op.create_index('ix_sales_order_awaiting', 'sales_order', ['warehouse_id', 'created_at', 'id'], unique=False,
                    sqlite_where=AWAITING, postgresql_where=AWAITING)
    op.create_index('ix_order_line_product', 'order_line', ['product_id', 'order_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_order_line_product', table_name='order_line')
    op.drop_index('ix_sales_order_awaiting', table_name='sales_order')
