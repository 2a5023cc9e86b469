"""inbox: the next try's time and the technical detail of a failure

Revision ID: 0004
Revises: 0003

- inbox_event.next_try_at: when a pending event whose try failed is tried again. Kept in the
  database, not only as a job in Redis, so that the stale sweep finds a retry that was lost with
  Redis, and the in-process sweeper (no Redis) knows when a retry is due.
- inbox_event.error_detail: the technical detail of the last failure (the exception's type and
  text), shown to admins only; last_error is the sentence for a manager. The text of events that
  failed before this migration is exception text: it moves to error_detail, and last_error says so
  in words.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


BEFORE_WORDS = ("This event failed before the WMS explained its failures in words; an admin can read the "
                "technical detail. Retry it, or dismiss it.")


def upgrade() -> None:
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('next_try_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    inbox = sa.table('inbox_event', sa.column('status', sa.String), sa.column('last_error', sa.Text),
                     sa.column('error_detail', sa.Text))
    op.execute(
        inbox.update()
        .where(inbox.c.status.in_(('failed', 'pending')), inbox.c.last_error.is_not(None))
        .values(error_detail=inbox.c.last_error, last_error=BEFORE_WORDS)
    )


def downgrade() -> None:
    inbox = sa.table('inbox_event', sa.column('last_error', sa.Text), sa.column('error_detail', sa.Text))
    op.execute(inbox.update().where(inbox.c.error_detail.is_not(None)).values(last_error=inbox.c.error_detail))
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.drop_column('next_try_at')
        batch_op.drop_column('error_detail')
