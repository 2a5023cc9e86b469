"""Scan actions applied once: the client-made id of every scan action the server applied."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.timeutil import utcnow

CLIENT_ID_LENGTH = 36  # a UUID in its canonical text form: 8-4-4-4-12 hex digits
ACTION_MAX = 32


class ClientAction(SQLModel, table=True):
    """One scan action the server applied, by the id the phone made when the scan was captured
    (header X-Client-Id). Written in the same transaction as the action itself, so a phone that
    sends the action again (a replay after being offline, a resend after a lost answer) finds it
    here and nothing is applied twice; the primary key settles two replays racing each other."""

    __tablename__ = "client_action"
    __table_args__ = (Index("ix_client_action_applied_at", "applied_at"),)

    client_id: str = Field(primary_key=True, max_length=CLIENT_ID_LENGTH)
    action: str = Field(max_length=ACTION_MAX)  # what was applied: move, receive, put away, count...
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    applied_at: datetime = Field(default_factory=utcnow)
