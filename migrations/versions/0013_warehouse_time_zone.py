"""each warehouse's time zone, for showing times

Revision ID: 0013
Revises: 0012

warehouse.time_zone: the IANA name (e.g. Pacific/Auckland) a warehouse's pages show times in; NULL
until a manager sets it. Times stay stored in UTC; only their display changes. Length checked as
app.models.warehouse.TIME_ZONE_MAX.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NO_FK_REFLECTION = {"resolve_fks": False}
TIME_ZONE_MAX = 64


def upgrade() -> None:
    with op.batch_alter_table('warehouse', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=TIME_ZONE_MAX),
                                      nullable=True))
        batch_op.create_check_constraint(
            'ck_warehouse_time_zone_length',
            f'time_zone IS NULL OR length(time_zone) BETWEEN 1 AND {TIME_ZONE_MAX}')


def downgrade() -> None:
    with op.batch_alter_table('warehouse', schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint('ck_warehouse_time_zone_length', type_='check')
        batch_op.drop_column('time_zone')
