"""Outbound routing: the ordered rules that send an order through WMS pick and pack or leave it
to Starshipit (issue 9). The order keeps its route on the order mirror (app.models.orders)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel

from app import bounds
from app.timeutil import utcnow


class Route(StrEnum):
    WMS = "WMS"  # allocated, picked and packed in the WMS; Starshipit prints the label
    STARSHIPIT = "STARSHIPIT"  # Starshipit picks and ships; the WMS mirrors (headless)


ROUTES = tuple(str(route) for route in Route)
DEFAULT_ROUTE = Route.STARSHIPIT


class RoutingRule(SQLModel, table=True):
    """One rule of the ordered list: the first enabled rule whose match holds routes the order."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        CheckConstraint(f"position >= 1 AND position <= {bounds.MAX_ROUTING_RULES}", name="ck_routing_rule_position_range"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {bounds.ROUTING_RULE_NAME_MAX}", name="ck_routing_rule_name_length"),
        CheckConstraint("outcome IN ('WMS', 'STARSHIPIT')", name="ck_routing_rule_outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(unique=True)  # 1 is tried first
    name: str = Field(max_length=bounds.ROUTING_RULE_NAME_MAX)
    enabled: bool = True
    match: str = Field(sa_column=Column(Text, nullable=False))  # JSON object: app.outbound.routing.MATCH_KEYS
    outcome: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
