"""Scan actions applied once, by the id the phone made for each (the X-Client-Id header).

A phone that was offline sends its saved scans again when it is back; a phone that lost an answer
sends the scan again. Each scan action's use case calls `claim` first, in its own transaction: the
id is recorded there with the action, and an id recorded before raises `AlreadyApplied` (nothing is
applied again; the page answers "Already saved"). The primary key settles two sends of one id
racing each other: on PostgreSQL the second insert waits for the first transaction and then finds
the row (INSERT ... ON CONFLICT DO NOTHING), on SQLite writers take turns. If the action itself is
refused, its transaction rolls back with the claim, so the id stays free.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from app.bounds import shown
from app.errors import ValidationFailed
from app.models.client_actions import ACTION_MAX, ClientAction
from app.timeutil import utcnow

HEADER = "X-Client-Id"
# A UUID in its usual text form (any version; the phones make version 4): 8-4-4-4-12 hex digits.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class AlreadyApplied(Exception):
    """The scan action with this client id was applied before; nothing was applied now.
    Not a WmsError (it is not a refusal): the pages answer it 200 "Already saved"."""

    def __init__(self, client_id: str, action: str, applied_at: datetime, user_id: int | None = None):
        self.client_id = client_id
        self.action = action
        self.applied_at = applied_at
        self.user_id = user_id
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return (f"Already saved: this {self.action} was applied at {self.applied_at:%H:%M} UTC "
                f"({self.applied_at:%d %b}), so it was not applied again.")


def clean_id(client_id) -> str | None:
    """The id in its canonical form (lower case), None when none was sent; refused in words when
    it is not a UUID."""
    if client_id is None:
        return None
    text = str(client_id).strip().lower()
    if not text:
        return None
    if not _UUID.fullmatch(text):
        raise ValidationFailed(
            f"the scan's id ({HEADER}: {shown(client_id)}) is not a UUID like 1b4e28ba-2fa1-41d2-883f-0016d3cca427, "
            "so nothing was saved. Reload the page and scan again.", field="client_id")
    return text


def claim(session: Session, client_id, action: str, *, user_id: int | None = None) -> str | None:
    """Record that the scan action `client_id` is being applied now, in the caller's transaction.
    Call it first thing in the action's use case. No id (None or blank): nothing recorded, nothing
    checked. An id applied before: raises AlreadyApplied. Returns the id recorded."""
    client_id = clean_id(client_id)
    if client_id is None:
        return None
    action = action[:ACTION_MAX]
    values = {"client_id": client_id, "action": action, "user_id": user_id, "applied_at": utcnow()}
    dialect = session.get_bind().dialect.name
    table = ClientAction.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    inserted = session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["client_id"])
                               .returning(table.c.client_id)).first()
    if inserted is not None:
        return client_id
    before = session.exec(select(ClientAction).where(ClientAction.client_id == client_id)).one()
    raise AlreadyApplied(client_id=client_id, action=before.action, applied_at=before.applied_at,
                         user_id=before.user_id)


def applied(session: Session, client_id) -> ClientAction | None:
    """The record of the scan action `client_id`, if it was applied."""
    client_id = clean_id(client_id)
    if client_id is None:
        return None
    return session.get(ClientAction, client_id)
