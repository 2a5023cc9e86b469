"""The outbound dashboard: orders per stage and per route in the warehouse, what shipped today, and
each picker's lines and units today with their rates per hour; for managers only."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock
from app.models import Location, Movement, MovementType, Order, OrderStatus, User
from app.outbound import dashboard
from app.outbound.dashboard import PickerDay
from app.timeutil import isoformat, utcnow
from app.warehouses import create_location, create_warehouse, get_warehouse, set_time_zone

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


# ---- the rates over plain data -------------------------------------------------------------------


def test_a_pickers_rate_is_over_first_to_last_pick_and_never_under_a_quarter_hour():
    day = PickerDay("ana", lines=30, units=45, first=NOON, last=NOON + timedelta(hours=2))
    assert (day.lines_per_hour, day.units_per_hour) == (15, 22.5)
    early = PickerDay("ben", lines=2, units=2, first=NOON, last=NOON + timedelta(minutes=1))
    assert early.hours == 0.25 and early.lines_per_hour == 8


def test_the_day_begins_at_midnight_utc():
    assert dashboard.day_start(NOON) == datetime(2026, 12, 2, tzinfo=UTC)


def test_the_day_begins_at_midnight_in_the_warehouses_time_zone():
    auckland = ZoneInfo("Pacific/Auckland")  # UTC+13 in December: noon UTC is 1 am on the 3rd there
    assert dashboard.day_start(NOON, auckland) == datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    los_angeles = ZoneInfo("America/Los_Angeles")  # UTC-8: noon UTC is 4 am on the 2nd there
    assert dashboard.day_start(NOON, los_angeles) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


# ---- the figures from the database ---------------------------------------------------------------


def orders(*rows):
    """(number, route, status, warehouse code)"""

    def write(session):
        for number, route, status, site in rows:
            session.add(Order(order_number=number, warehouse_id=get_warehouse(session, site).id, route=route,
                              status=status))

    db.atomic(write)


def picks(*rows):
    """(username, units, minutes ago): a pick movement from P-01 into T-01 by that user."""

    def write(session):
        for name, units, ago in rows:
            user = session.scalars(select(User).where(User.username == name)).one()
            moved = ledger.move(session, type=MovementType.PICK, product_id=1, quantity=units,
                                from_location=session.scalars(select(Location).where(Location.code == "P-01")).one(),
                                to_location=session.scalars(select(Location).where(Location.code == "T-01")).one(),
                                user_id=user.id)
            session.execute(update(Movement).where(Movement.id == moved.movement.id)  # back-dated (a test only)
                            .values(created_at=utcnow() - timedelta(minutes=ago)))

    db.atomic(write)


def floor():
    def build(session):
        site = get_warehouse(session)
        create_product(session, sku="SKU-A", name="Apple")
        create_location(session, warehouse=site, code="P-01", type="pick", pick_sequence=1)
        create_location(session, warehouse=site, code="T-01", type="tote")
        create_warehouse(session, code="NORTH", name="North")

    db.atomic(build)
    db.atomic(adjust_stock, sku="SKU-A", location="P-01", quantity=100, reason="found")


def test_orders_are_counted_per_stage_and_route_in_this_warehouse_only(any_db_app):
    floor()
    orders(("SO-1", "WMS", OrderStatus.AWAITING_STOCK, "MAIN"), ("SO-2", "WMS", OrderStatus.ALLOCATED, "MAIN"),
           ("SO-3", "WMS", OrderStatus.ALLOCATED, "MAIN"), ("SO-4", "WMS", OrderStatus.PICKING, "MAIN"),
           ("SO-5", "WMS", OrderStatus.PACKED, "MAIN"), ("SO-6", "WMS", OrderStatus.SHIPPED, "MAIN"),
           ("SO-7", "STARSHIPIT", OrderStatus.SHIPPED, "MAIN"), ("SO-8", "STARSHIPIT", OrderStatus.PENDING, "MAIN"),
           ("SO-9", "WMS", OrderStatus.ALLOCATED, "NORTH"))
    with db.reading() as session:
        figures = dashboard.outbound_figures(session, get_warehouse(session, "MAIN").id)
    assert figures["stages"] == {"AWAITING_STOCK": 1, "ALLOCATED": 2, "PICKING": 1, "PICKED": 0, "PACKED": 1,
                                 "SHIPPED_TODAY": 2}
    assert figures["routes"]["WMS"]["ALLOCATED"] == 2 and figures["routes"]["WMS"]["SHIPPED_TODAY"] == 1
    assert figures["routes"]["STARSHIPIT"]["SHIPPED_TODAY"] == 1 and figures["routes"]["STARSHIPIT"]["ALLOCATED"] == 0


def test_each_pickers_lines_and_units_today_busiest_first(any_db_app):
    floor()
    picks(("picker", 3, 120), ("picker", 2, 60), ("picker", 1, 0), ("manager", 1, 5))
    with db.reading() as session:
        days = dashboard.picker_days(session, get_warehouse(session).id, utcnow() - timedelta(hours=6))
    assert [(d.picker, d.lines, d.units) for d in days] == [("picker", 3, 6), ("manager", 1, 1)]
    assert round(days[0].lines_per_hour, 1) == 1.5 and round(days[0].units_per_hour, 1) == 3.0
    with db.reading() as session:  # nothing picked in NORTH
        assert dashboard.picker_days(session, get_warehouse(session, "NORTH").id, utcnow() - timedelta(hours=6)) == []


# ---- the page ------------------------------------------------------------------------------------


def test_managers_see_the_dashboard_and_pickers_may_not(app, manager, picker):
    floor()
    orders(("SO-1", "WMS", OrderStatus.PICKED, "MAIN"))
    picks(("picker", 4, 0))
    page = manager.get("/outbound/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="stage-PICKED" data-count="1"' in html and 'data-testid="picker-picker"' in html
    assert picker.get("/outbound/").status_code == 403
    assert "/outbound/" in manager.get("/").get_data(as_text=True)


def test_today_on_the_page_begins_at_midnight_in_the_warehouses_time_zone(app, manager):
    floor()
    picks(("picker", 1, 0))
    db.atomic(lambda session: set_time_zone(session, "MAIN", "Pacific/Auckland"))
    html = manager.get("/outbound/").get_data(as_text=True)
    began = dashboard.day_start(utcnow(), ZoneInfo("Pacific/Auckland"))
    assert f'Today: since <time datetime="{isoformat(began)}"' in html
