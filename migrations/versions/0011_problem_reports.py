"""pickers' problem reports (damaged, missing, found) proposed as adjustments

Revision ID: 0011
Revises: 0010

A report holds the adjustment it proposes (action, reason, the quarantine location for damaged
stock when the warehouse has one) and, once a manager decides, who, when, the quantity posted and
the movement. The same bounds as app.bounds and app.problem_reports, as CHECKs: a quantity of 1 to
1,000,000 units, a note of at most 1,000 characters, an approved report always names its movement.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('problem_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=True),
    sa.Column('reported_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('approved_quantity', sa.Integer(), nullable=True),
    sa.Column('movement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('damaged', 'missing', 'found')", name='ck_problem_report_kind'),
    sa.CheckConstraint("status IN ('open', 'approved', 'rejected')", name='ck_problem_report_status'),
    sa.CheckConstraint("action IN ('quarantine', 'remove', 'add')", name='ck_problem_report_action'),
    sa.CheckConstraint('quantity >= 1 AND quantity <= 1000000', name='ck_problem_report_quantity_range'),
    sa.CheckConstraint('approved_quantity IS NULL OR (approved_quantity >= 1 AND approved_quantity <= 1000000)',
                       name='ck_problem_report_approved_quantity_range'),
    sa.CheckConstraint('length(reason) BETWEEN 1 AND 32', name='ck_problem_report_reason_length'),
    sa.CheckConstraint('note IS NULL OR length(note) BETWEEN 1 AND 1000', name='ck_problem_report_note_length'),
    sa.CheckConstraint('decision_note IS NULL OR length(decision_note) BETWEEN 1 AND 1000',
                       name='ck_problem_report_decision_note_length'),
    sa.CheckConstraint("(action = 'quarantine') = (to_location_id IS NOT NULL)",
                       name='ck_problem_report_quarantine_target'),
    sa.CheckConstraint("(status = 'open') = (decided_at IS NULL)", name='ck_problem_report_decided'),
    sa.CheckConstraint("(status = 'approved') = (movement_id IS NOT NULL AND approved_quantity IS NOT NULL)",
                       name='ck_problem_report_approved_posted'),
    sa.CheckConstraint("status <> 'rejected' OR decision_note IS NOT NULL", name='ck_problem_report_rejected_why'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['to_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['reported_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_problem_report_queue', 'problem_report', ['warehouse_id', 'status', 'id'], unique=False)
    op.create_index('ix_problem_report_reporter', 'problem_report', ['reported_by', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_problem_report_reporter', table_name='problem_report')
    op.drop_index('ix_problem_report_queue', table_name='problem_report')
    op.drop_table('problem_report')
