"""Figures for the home page."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Location, Movement, Product, StockLevel
from app.models.warehouse import PHYSICAL_TYPES


def home_figures(session: Session) -> dict:
    count = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
    locations = session.exec(
        select(func.count()).select_from(Location).where(Location.type.in_([str(t) for t in PHYSICAL_TYPES]))
    ).one()
    units = session.exec(select(func.coalesce(func.sum(StockLevel.on_hand), 0))).one()
    return {"products": count(Product), "locations": locations, "units": int(units), "movements": count(Movement)}
