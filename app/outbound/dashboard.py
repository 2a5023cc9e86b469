"""The outbound dashboard's figures: orders per stage and per route in one warehouse, what shipped
today, and each picker's picks today (lines and units, and per hour of picking).

"Today" is the day in the time zone the manager's pages show (the warehouse's, else the browser's,
else UTC: app.web.site), from its local midnight. A picker's rate is
over the time from their first pick today to their last, at least a quarter of an hour, so that a
picker who has made two picks a minute apart is not shown picking at a thousand lines an hour.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlmodel import Session

from app.models import ROUTES, Location, Movement, MovementType, Order, OrderStatus, User
from app.timeutil import utcnow

STAGES = (OrderStatus.AWAITING_STOCK, OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PICKED,
          OrderStatus.PACKED)
SHIPPED = (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED)
SHORTEST_SHIFT = timedelta(minutes=15)


@dataclass(frozen=True)
class PickerDay:
    picker: str
    lines: int
    units: int
    first: datetime
    last: datetime

    @property
    def hours(self) -> float:
        """The picking time the rates are over: first pick to last, at least SHORTEST_SHIFT."""
        return max(self.last - self.first, SHORTEST_SHIFT).total_seconds() / 3600

    @property
    def lines_per_hour(self) -> float:
        return self.lines / self.hours

    @property
    def units_per_hour(self) -> float:
        return self.units / self.hours


def day_start(now: datetime, zone: tzinfo | None = None) -> datetime:
    """The moment (UTC) the day of `now` began in `zone` (None: UTC)."""
    local = now.astimezone(zone or UTC)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def outbound_figures(session: Session, warehouse_id: int, *, now: datetime | None = None,
                     zone: tzinfo | None = None) -> dict:
    """{stages: {stage: count}, routes: {route: {stage: count}}, shipped_today, pickers: [PickerDay]}:
    stages include SHIPPED_TODAY (orders that shipped, in full or in part, since the day began in
    `zone`; None: UTC)."""
    now = now or utcnow()
    start = day_start(now, zone)
    routes = {route: {stage: 0 for stage in (*STAGES, "SHIPPED_TODAY")} for route in ROUTES}
    for route, status, count in session.execute(
        select(Order.route, Order.status, func.count())
        .where(Order.warehouse_id == warehouse_id, Order.status.in_([str(s) for s in STAGES]))
        .group_by(Order.route, Order.status)
    ):
        routes.setdefault(route, {})[status] = count
    for route, count in session.execute(
        select(Order.route, func.count())
        .where(Order.warehouse_id == warehouse_id, Order.status.in_([str(s) for s in SHIPPED]),
               Order.updated_at >= start)
        .group_by(Order.route)
    ):
        routes.setdefault(route, {})["SHIPPED_TODAY"] = count
    stages = {stage: sum(figures.get(stage, 0) for figures in routes.values()) for stage in (*STAGES, "SHIPPED_TODAY")}
    return {"stages": stages, "routes": routes, "pickers": picker_days(session, warehouse_id, start), "since": start}


def picker_days(session: Session, warehouse_id: int, since: datetime) -> list[PickerDay]:
    """Each picker's picks since `since` in this warehouse (a pick is a movement of type pick, from
    a location of the warehouse into a tote), busiest first."""
    rows = session.execute(
        select(func.coalesce(User.username, "(the API)"), func.count(), func.sum(Movement.quantity),
               func.min(Movement.created_at), func.max(Movement.created_at))
        .select_from(Movement)
        .join(Location, Location.id == Movement.from_location_id)
        .outerjoin(User, User.id == Movement.user_id)
        .where(Movement.type == MovementType.PICK, Movement.created_at >= since, Location.warehouse_id == warehouse_id)
        .group_by(User.username)
    ).all()
    days = [PickerDay(name, int(lines), int(units), _aware(first), _aware(last))
            for name, lines, units, first, last in rows]
    return sorted(days, key=lambda day: (-day.units, day.picker))


def _aware(moment: datetime) -> datetime:
    """SQLite hands the times back without their zone (they are UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
