"""outbound labels: the box sizes a manager keeps, and the label jobs that ask Starshipit for an
order's shipment and keep its tracking numbers and label PDF

Revision ID: 0008
Revises: 0007

package_size holds centimetres (Starshipit is sent metres); a size is retired (active false), never
deleted. label_job allows one unfinished job (queued or running) per order: a partial unique index.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table('package_size',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('length_cm', sa.Float(), nullable=False),
    sa.Column('width_cm', sa.Float(), nullable=False),
    sa.Column('height_cm', sa.Float(), nullable=False),
    sa.Column('default_weight_kg', sa.Float(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 64', name='ck_package_size_name_length'),
    sa.CheckConstraint('length_cm > 0 AND length_cm <= 10000', name='ck_package_size_length_range'),
    sa.CheckConstraint('width_cm > 0 AND width_cm <= 10000', name='ck_package_size_width_range'),
    sa.CheckConstraint('height_cm > 0 AND height_cm <= 10000', name='ck_package_size_height_range'),
    sa.CheckConstraint('default_weight_kg IS NULL OR (default_weight_kg >= 0 AND default_weight_kg <= 100000)',
                       name='ck_package_size_weight_range'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )

    op.create_table('label_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('progress', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('starshipit_order_id', sa.BigInteger(), nullable=True),
    sa.Column('carrier_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('tracking_numbers', sa.JSON(), nullable=False),
    sa.Column('label_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('more_labels', sa.JSON(), nullable=False),
    sa.Column('package_size_id', sa.Integer(), nullable=True),
    sa.Column('package', sa.JSON(), nullable=True),
    sa.Column('run_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name='ck_label_job_status'),
    sa.CheckConstraint("kind IN ('label', 'reprint')", name='ck_label_job_kind'),
    sa.CheckConstraint('attempts >= 0 AND attempts <= 1000000', name='ck_label_job_attempts_range'),
    sa.CheckConstraint('error IS NULL OR length(error) <= 2000', name='ck_label_job_error_length'),
    sa.CheckConstraint('starshipit_order_id IS NULL OR (starshipit_order_id >= 1 AND starshipit_order_id <= '
                       '9223372036854775807)', name='ck_label_job_starshipit_id_range'),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.ForeignKeyConstraint(['package_size_id'], ['package_size.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_label_job_order_id'), 'label_job', ['order_id'], unique=False)
    op.create_index('ux_label_job_open_order', 'label_job', ['order_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ux_label_job_open_order', table_name='label_job')
    op.drop_index(op.f('ix_label_job_order_id'), table_name='label_job')
    op.drop_table('label_job')
    op.drop_table('package_size')
