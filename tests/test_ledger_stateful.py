"""The ledger against a plain Python model: random receipts, adjustments, transfers,
allocations, releases, picks and shipments on SQLite and PostgreSQL. After every
step each balance and each allocation equals the model and ledger.check() is clean;
a refused operation changes nothing."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func
from sqlmodel import SQLModel, select

from app import db, ledger
from app.catalog import create_product
from app.inventory import adjust_stock, receive_stock, transfer_stock
from app.models import Allocation, Location, LocationType, Movement, MovementType, Product, StockLevel
from app.warehouses import create_location, create_warehouse, virtual_location
from tests.conftest import make_app
from tests.support.emptying import empty_tables

settings.register_profile(
    "ledger-stateful",
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SKUS = ("SKU-A", "SKU-B")
PLACES = ("A-01", "P-01", "PACK-1")  # storage, pick, packing
KINDS = {"A-01": "storage", "P-01": "pick", "PACK-1": "packing"}

skus = st.sampled_from(SKUS)
places = st.sampled_from(PLACES)
any_index = st.integers(min_value=0, max_value=1_000)


def _empty_database() -> None:
    """Every table emptied but the reason codes the migrations seed: each Hypothesis example starts
    from a freshly migrated database."""
    tables = [table for table in SQLModel.metadata.sorted_tables if table.name != "reason_code"]
    with db.engine().begin() as connection:
        empty_tables(connection, tables)


def _build_floor(session):
    site = create_warehouse(session, code="MAIN", name="Main warehouse")
    products = {sku: create_product(session, sku=sku, name=f"Product {sku}").id for sku in SKUS}
    places = {code: create_location(session, warehouse=site, code=code, type=KINDS[code]).id for code in PLACES}
    customer = virtual_location(session, site.id, LocationType.CUSTOMER).id
    return products, places, customer


class LedgerMachine(RuleBasedStateMachine):
    """Model: on_hand/allocated per (sku, place), open allocations by id, a movement count."""

    def __init__(self):
        super().__init__()
        _empty_database()
        self.product_ids, self.place_ids, self.customer_id = db.atomic(_build_floor)
        self.sku_of = {pid: sku for sku, pid in self.product_ids.items()}
        self.place_of = {lid: code for code, lid in self.place_ids.items()}
        self.on_hand = {(s, p): 0 for s in SKUS for p in PLACES}
        self.allocated = {(s, p): 0 for s in SKUS for p in PLACES}
        self.allocations: dict[int, list] = {}  # id -> [sku, place, quantity]
        self.movements = 0

    # -- helpers ---------------------------------------------------------

    def free(self, sku, place):
        return self.on_hand[(sku, place)] - self.allocated[(sku, place)]

    def refused(self, error_type, fn, *args, **kwargs):
        with pytest.raises(error_type):
            db.atomic(fn, *args, **kwargs)

    def pick_allocation(self, index):
        ids = sorted(self.allocations)
        return ids[index % len(ids)]

    # -- receipts, adjustments, transfers --------------------------------

    @rule(sku=skus, place=places, quantity=st.integers(1, 20))
    def receive(self, sku, place, quantity):
        db.atomic(receive_stock, sku=sku, location=place, quantity=quantity)
        self.on_hand[(sku, place)] += quantity
        self.movements += 1

    @rule(
        sku=skus,
        place=places,
        quantity=st.integers(-25, 25).filter(bool),
        reason=st.sampled_from(["found", "damaged", "lost", "correction", "count"]),
    )
    def adjust(self, sku, place, quantity, reason):
        if quantity < 0 and self.free(sku, place) < -quantity:
            self.refused(ledger.InsufficientStock, adjust_stock, sku=sku, location=place, quantity=quantity, reason=reason)
            return
        posted = db.atomic(adjust_stock, sku=sku, location=place, quantity=quantity, reason=reason)
        self.on_hand[(sku, place)] += quantity
        self.movements += 1
        assert posted.on_hand == self.on_hand[(sku, place)]

    @rule(sku=skus, source=places, destination=places, quantity=st.integers(1, 25))
    def transfer(self, sku, source, destination, quantity):
        target = destination
        if source == target:
            return  # refused by validation before the ledger; covered elsewhere
        if self.free(sku, source) < quantity:
            self.refused(
                ledger.InsufficientStock, transfer_stock, sku=sku, from_location=source, to_location=target, quantity=quantity
            )
            return
        db.atomic(transfer_stock, sku=sku, from_location=source, to_location=target, quantity=quantity)
        self.on_hand[(sku, source)] -= quantity
        self.on_hand[(sku, target)] += quantity
        self.movements += 1

    # -- allocations -----------------------------------------------------

    def _location(self, session, code):
        return session.get(Location, self.place_ids[code])

    @rule(sku=skus, place=places, quantity=st.integers(1, 15))
    def allocate(self, sku, place, quantity):
        def run(session):
            return ledger.allocate(
                session, product_id=self.product_ids[sku], location=self._location(session, place), quantity=quantity
            ).id

        if self.free(sku, place) < quantity:
            self.refused(ledger.InsufficientStock, run)
            return
        allocation_id = db.atomic(run)
        self.allocated[(sku, place)] += quantity
        self.allocations[allocation_id] = [sku, place, quantity]

    @precondition(lambda self: self.allocations)
    @rule(index=any_index, quantity=st.none() | st.integers(1, 10))
    def release(self, index, quantity):
        allocation_id = self.pick_allocation(index)
        sku, place, held = self.allocations[allocation_id]

        def run(session):
            return ledger.release(session, session.get(Allocation, allocation_id), quantity)

        if quantity is not None and quantity > held:
            self.refused(ledger.InvalidMovement, run)
            return
        released = db.atomic(run)
        assert released == (held if quantity is None else quantity)
        self.allocated[(sku, place)] -= released
        self.allocations[allocation_id][2] -= released

    @precondition(lambda self: self.allocations)
    @rule(index=any_index, destination=places, quantity=st.integers(1, 10))
    def pick(self, index, destination, quantity):
        """Allocated stock carried to another physical location (a pick to packing)."""
        target = destination
        allocation_id = self.pick_allocation(index)
        sku, place, held = self.allocations[allocation_id]

        def run(session):
            newest = session.scalar(select(func.max(Allocation.id)))
            ledger.post(
                session,
                type=MovementType.PICK,
                product_id=self.product_ids[sku],
                quantity=quantity,
                from_location=self._location(session, place),
                to_location=self._location(session, target),
                allocation=session.get(Allocation, allocation_id),
                reference="ORD-1",
            )
            split = session.scalar(select(func.max(Allocation.id)))
            return split if split != newest else None

        if target == place:
            self.refused(ledger.InvalidMovement, run)
            return
        if quantity > held:
            self.refused(ledger.InsufficientStock, run)
            return
        split_id = db.atomic(run)
        for key in ((sku, place), (sku, target)):
            sign = -1 if key[1] == place else 1
            self.on_hand[key] += sign * quantity
            self.allocated[key] += sign * quantity
        self.movements += 1
        if quantity == held:
            assert split_id is None
            self.allocations[allocation_id][1] = target
        else:
            assert split_id is not None
            self.allocations[allocation_id][2] -= quantity
            self.allocations[split_id] = [sku, target, quantity]

    @precondition(lambda self: self.allocations)
    @rule(index=any_index, quantity=st.integers(1, 10))
    def ship(self, index, quantity):
        """Allocated stock leaving to the customer: the allocation is consumed."""
        allocation_id = self.pick_allocation(index)
        sku, place, held = self.allocations[allocation_id]

        def run(session):
            ledger.post(
                session,
                type=MovementType.SHIPMENT,
                product_id=self.product_ids[sku],
                quantity=quantity,
                from_location=self._location(session, place),
                to_location=session.get(Location, self.customer_id),
                allocation=session.get(Allocation, allocation_id),
                reference="ORD-1",
            )

        if quantity > held:
            self.refused(ledger.InsufficientStock, run)
            return
        db.atomic(run)
        self.on_hand[(sku, place)] -= quantity
        self.allocated[(sku, place)] -= quantity
        self.allocations[allocation_id][2] -= quantity
        self.movements += 1

    # -- after every step ------------------------------------------------

    @invariant()
    def balances_allocations_and_ledger_match_the_model(self):
        with db.reading() as session:
            levels = {
                (self.sku_of[p], self.place_of[loc]): (h, a)
                for p, loc, h, a in session.exec(
                    select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.allocated)
                )
            }
            allocations = {
                a.id: [self.sku_of[a.product_id], self.place_of[a.location_id], a.quantity]
                for a in session.exec(select(Allocation))
            }
            movements = session.exec(select(func.count()).select_from(Movement)).one()
            drifts = ledger.check(session)
            products = session.exec(select(func.count()).select_from(Product)).one()
        assert products == len(SKUS)
        for key in self.on_hand:
            assert levels.get(key, (0, 0)) == (self.on_hand[key], self.allocated[key]), key
        assert set(levels) <= set(self.on_hand)
        assert allocations == self.allocations
        assert movements == self.movements
        assert drifts == []


def test_ledger_matches_a_plain_model_under_random_operations(database_url):
    app = make_app(database_url)
    try:
        with app.app_context():
            run_state_machine_as_test(LedgerMachine, settings=settings.get_profile("ledger-stateful"))
    finally:
        app.extensions["wms.engine"].dispose()
