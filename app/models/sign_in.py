"""Sign-in attempts counted for the rate limit, shared by every web process (without Redis)."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

LIMIT_KEY_MAX = 255


class SignInCounter(SQLModel, table=True):
    """One Flask-Limiter fixed-window counter: how many attempts `limit_key` (the limit, the
    client's address and the name tried) made in the window that ends at `expires_at` (Unix
    seconds, as the `limits` library counts time). A row past its window counts as zero; the
    next attempt starts a new window in it, and rows nobody reuses are swept away
    (app.limiter_storage)."""

    __tablename__ = "sign_in_counter"
    __table_args__ = (
        CheckConstraint("hits >= 0", name="ck_sign_in_counter_hits_not_negative"),
        Index("ix_sign_in_counter_expires_at", "expires_at"),
    )

    limit_key: str = Field(primary_key=True, max_length=LIMIT_KEY_MAX)
    hits: int = 0
    expires_at: float
