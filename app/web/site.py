"""The warehouse a person is working in: kept in their session, switchable from the header,
the default warehouse until they choose one. Pages that list per warehouse start from it and take
?warehouse=CODE to look at another."""
from __future__ import annotations

from flask import request, session as cookie
from sqlmodel import Session

from app.models import Warehouse
from app.warehouses import get_warehouse

SESSION_KEY = "warehouse"


def current_warehouse(session: Session, code: str | None = None) -> Warehouse:
    """The warehouse named by `code` (or the request's ?warehouse=), else the person's current
    one, else the default warehouse; a current warehouse that no longer exists falls back too."""
    asked = code if code is not None else request.args.get("warehouse", "")
    if asked and asked.strip():
        return get_warehouse(session, asked)
    kept = cookie.get(SESSION_KEY)
    if kept:
        found = session.get(Warehouse, kept) if isinstance(kept, int) else None
        if found is not None:
            return found
    return get_warehouse(session)


def choose_warehouse(warehouse: Warehouse) -> None:
    """Make this the person's current warehouse."""
    cookie[SESSION_KEY] = warehouse.id
