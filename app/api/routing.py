"""Outbound routing rules: which orders the WMS picks and packs (WMS) and which Starshipit ships
(STARSHIPIT). Re-routing one order is in app/api/orders.py."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_serializer

from app import bounds, db
from app.api import bp, fields
from app.api.schemas import Answer, Body
from app.api.spec import operation
from app.models import ROUTES
from app.outbound import routing

RouteName = Literal[ROUTES]  # type: ignore[valid-type]
MatchText = fields.text(bounds.ROUTE_MATCH_TEXT_MAX)
SkuList = list[fields.code(bounds.SKU_MAX)]


class MatchIn(Body):
    """All given keys must hold; {} matches every order. Text is compared ignoring case."""

    warehouse: fields.code(bounds.WAREHOUSE_CODE_MAX, description="the order's warehouse code") = None
    channel: MatchText = Field(None, description="the order's channel")
    reference_prefix: MatchText = Field(None, description="the order's reference starts with this")
    country: MatchText = Field(None, description="the destination's country, as Starshipit gives it")
    skus_any: SkuList = Field(None, min_length=1, max_length=bounds.MAX_SKUS_PER_MATCH,
                              description="at least one of the order's SKUs is in this list")
    skus_all: SkuList = Field(None, min_length=1, max_length=bounds.MAX_SKUS_PER_MATCH,
                              description="every SKU of the order is in this list")
    account: MatchText = Field(None, description="the Starshipit account (child account name) the order came from")


class RuleIn(Body):
    name: fields.text(bounds.ROUTING_RULE_NAME_MAX, description="unique, ignoring case; kept on each order it routes")
    enabled: bool = True
    match: MatchIn
    outcome: RouteName


class RulesIn(Body):
    items: list[RuleIn] = Field(max_length=bounds.MAX_ROUTING_RULES, description="the first item is tried first")


class MatchOut(Answer):
    warehouse: str | None = None
    channel: str | None = None
    reference_prefix: str | None = None
    country: str | None = None
    skus_any: list[str] | None = None
    skus_all: list[str] | None = None
    account: str | None = None

    @model_serializer(mode="wrap")
    def _only_given(self, handler):
        return {key: value for key, value in handler(self).items() if value is not None}


class RuleOut(Answer):
    id: int
    position: int = Field(description="1 is tried first")
    name: str
    enabled: bool
    match: MatchOut
    outcome: RouteName


class RuleList(Answer):
    items: list[RuleOut]


@bp.get("/routing-rules")
@operation(response=RuleList, tag="routing")
def routing_rules():
    """The routing rules in the order they are tried; an order no enabled rule matches goes to STARSHIPIT."""
    with db.reading() as session:
        return {"items": routing.list_rules(session)}


@bp.put("/routing-rules")
@operation(body=RulesIn, response=RuleList, tag="routing",
           rules={"items.*.name": "another rule has the same name, ignoring case",
                  "items.*.match.warehouse": "no warehouse has that code"})
def replace_routing_rules(body: RulesIn):
    """Replace the whole ordered list of routing rules (first item first), all or nothing.
    Orders that arrive or change from now on are routed by the new list; orders already routed keep their route."""
    items = [{**item.model_dump(exclude={"match"}), "match": item.match.model_dump(exclude_unset=True)}
             for item in body.items]
    return {"items": db.atomic(routing.replace_rules, items)}
