"""Applying one inbox event to the order mirror and the stock ledger.

`apply_event` runs inside the caller's transaction with the inbox row and the order row locked
(SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers), and marks the event processed
or ignored in that same transaction: a crash can only mean "not applied yet".

Out-of-order delivery: each order remembers the occurred_at of the newest event applied
(`last_event_at`). An older order_created or order_changed changes nothing (timeline note, event
ignored); an order_deleted never cancels an order that shipped; a shipment is always applied for
quantities not yet shipped. Shipments are applied as cumulative targets where the sender says what
has shipped so far (items' quantity - quantity_to_ship), so shipments arriving in any order, or
again under another id (a poll, a tracking webhook), never ship anything twice.

Decision on order_changed (and a newer order_created of a known order): the order goes back to
PENDING when its lines changed; an address-only change keeps the order's place in the workflow.
A WMS-routed order that is PENDING afterwards has its unpicked allocations released at once and
is allocated after the commit (app.outbound.allocation.after_order_event); order_deleted releases
every allocation of the order in its transaction. An order that an open pick job holds (PICKING)
stays PICKING on order_changed: app.outbound.picking.reconcile_order drops the job's unpicked stops
that no longer fit and adds stops for lines that grew; order_deleted drops its unpicked stops.

After picking (issue 9, item 6): picked units an order no longer wants (a line shrank or vanished,
mid-pick or once PICKED or PACKED; the order deleted) are released and stay in their tote with a
return-to-stock task (a putaway task from the tote, suggesting where they were picked from:
app.outbound.returns). A PICKED or PACKED order whose lines changed is PICKED when what is in its
totes still covers every line (a PACKED order must be packed again: the box it was packed in no
longer matches), else PENDING and allocated again for what grew (picked into another tote when a
manager releases it).

Shipments of a WMS order (item 5): shipping takes the order's picked stock first, then what it has
allocated, then free stock (app.orders.shipping). After any shipment the WMS picks no more of it
(`_finish_shipment`): unpicked allocations are released and its open pick-job stops closed, so no
picker is sent for an order that has left; picked units left over once it shipped in full get
return-to-stock tasks. A repeated order_shipped or a tracking event for the same shipment ships
nothing more (cumulative targets, above).
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from app.errors import ValidationFailed
from app.models import InboxEvent, InboxStatus, LabelJob, LabelJobStatus, Order, OrderStatus
from app.orders import mirror, payloads, shipping
from app.orders.payloads import SHIPPING_TRACKING_STATUSES, OrderData
from app.outbound import allocation, picking, returns, routing
from app.timeutil import isoformat, utcnow
from app.warehouses import get_warehouse


def apply_event(session: Session, event: InboxEvent, fetched_order: dict | None = None) -> str:
    """Apply a locked, pending inbox event; set and return its new status."""
    body = json.loads(event.payload)
    if event.kind == "tracking":
        status = _apply_tracking(session, event, body, fetched_order)
    else:
        status = _apply_order_event(session, event, body)
    event.status = status
    event.processed_at, event.next_try_at = utcnow(), None
    session.flush()
    return status


def needs_api_order(session: Session, event: InboxEvent) -> bool:
    """A Printed/Dispatched tracking update for an order the WMS has not shipped in full."""
    if event.kind != "tracking" or event.event_type not in SHIPPING_TRACKING_STATUSES:
        return False
    order = mirror.find_order(session, event.order_number)
    return order is None or order.status != OrderStatus.SHIPPED


# ---- order events ---------------------------------------------------------------------------


ROUTED_BY = ("order_created", "order_changed")  # the events after which the routing rules decide again


def _apply_order_event(session: Session, event: InboxEvent, body: dict) -> str:
    data = payloads.order_data(body.get("order"))
    occurred = mirror.aware(event.occurred_at)
    order, created = _lock(session, data, occurred, new_likely=event.event_type == "order_created")
    newer = created or order.last_event_at is None or occurred >= mirror.aware(order.last_event_at)
    handler = {
        "order_created": _created,
        "order_changed": _changed,
        "order_deleted": _deleted,
        "order_shipped": _shipped,
    }.get(event.event_type)
    if handler is None:
        raise ValidationFailed(f"unknown order event {event.event_type!r}")
    status, message = handler(session, order, data, body, created=created, newer=newer)
    if status == InboxStatus.PROCESSED and (newer or order.last_event_at is None):
        order.last_event_at = occurred
    if not created:  # a new order's updated_at is its INSERT's
        order.updated_at = utcnow()
    kind = event.event_type if status == InboxStatus.PROCESSED else "warning"
    mirror.note(session, order, kind, message, occurred_at=occurred, inbox_event_id=event.id)
    if status == InboxStatus.PROCESSED and event.event_type in ROUTED_BY:  # WMS or Starshipit outbound
        routed_before = order.route
        routing.route_order(session, order, skus=[line.sku for line in data.lines], account=routing.account_of(body))
        allocation.after_order_event(session, order, routed_before)  # a WMS order is allocated after the commit
    elif status == InboxStatus.PROCESSED and event.event_type == "order_deleted":
        allocation.after_order_deleted(session, order)  # what it held is free for the orders awaiting it
    return status


def _lock(session: Session, data: OrderData, occurred=None, *, new_likely: bool = False) -> tuple[Order, bool]:
    """The event's order, locked; created (with the event's fields) if the mirror lacks it.
    `new_likely` (an order_created): try the INSERT first instead of looking for the order."""
    order = None if new_likely else mirror.lock_existing(session, data.order_number)
    created = False
    if order is None:
        warehouse_id = get_warehouse(session, data.warehouse_code).id
        order, created = mirror.lock_order(
            session, data.order_number, warehouse_id=warehouse_id, data=data, last_event_at=occurred
        )
    if not created and data.warehouse_code and not mirror.lines_of(session, order):
        order.warehouse_id = get_warehouse(session, data.warehouse_code).id
    return order, created


def _older(order: Order, what: str) -> str:
    return f"{what} older than the last event applied ({isoformat(mirror.aware(order.last_event_at))}): nothing changed"


def _created(session, order, data, body, *, created, newer):
    if not newer:
        return InboxStatus.IGNORED, _older(order, "order_created")
    changed = mirror.update_order(session, order, data, new=created)
    if created:  # nothing has shipped from lines made just now
        order.status = OrderStatus.PENDING
        return InboxStatus.PROCESSED, f"order created with {len(data.lines)} line(s)"
    shipped = mirror.shipped_status(session, order)
    if shipped:
        order.status = shipped
    elif changed or order.status == OrderStatus.CANCELLED:
        order.status = OrderStatus.PENDING
    return InboxStatus.PROCESSED, "order created again: details refreshed" + (", lines changed" if changed else "")


def _changed(session, order, data, body, *, created, newer):
    if not newer:
        return InboxStatus.IGNORED, _older(order, "order_changed")
    if not created and order.status == OrderStatus.SHIPPED:
        return InboxStatus.IGNORED, "order_changed ignored: the order has already shipped"
    if not created and order.status == OrderStatus.CANCELLED:
        return InboxStatus.IGNORED, "order_changed ignored: the order was deleted in Starshipit"
    picking_now = not created and order.status == OrderStatus.PICKING and picking.in_open_job(session, order.id)
    was = order.status
    before = {} if created else returns.picked_held(session, order)
    changed = mirror.update_order(session, order, data, new=created)
    returned = returns.return_released(session, order, before) if before else []
    shipped = None if created else mirror.shipped_status(session, order)
    back = _returned_words(returned)
    if shipped:
        order.status = shipped
    elif picking_now:  # a pick job holds it: it stays PICKING, the job's stops follow the new lines
        if changed:
            return InboxStatus.PROCESSED, "order changed mid-pick: " + (picking.reconcile_order(session, order) or "") + back
    elif changed and was in (OrderStatus.PICKED, OrderStatus.PACKED):
        return InboxStatus.PROCESSED, _changed_after_picking(session, order, was) + back
    elif changed or created:
        order.status = OrderStatus.PENDING
    if created:
        return InboxStatus.PROCESSED, f"order changed (first seen): {len(data.lines)} line(s)"
    return InboxStatus.PROCESSED, "order changed: " + ("lines refreshed, back to PENDING" if changed else "details refreshed") + back


def _changed_after_picking(session, order: Order, was: str) -> str:
    """A PICKED or PACKED order whose lines changed (what it no longer wants released already):
    PICKED when its totes still hold every line, to be packed (again); else PENDING, allocated
    again after the commit for what grew."""
    withdrawn = _withdraw_queued_label(session, order) if was == OrderStatus.PACKED else ""
    if allocation.fully_picked(session, mirror.lines_of(session, order)):
        order.status = OrderStatus.PICKED
        return ("order changed after packing: back to PICKED, to be packed again" if was == OrderStatus.PACKED
                else "order changed after picking: still PICKED") + withdrawn
    order.status = OrderStatus.PENDING
    return f"order changed after {'packing' if was == OrderStatus.PACKED else 'picking'}: lines grew, " \
           "back to PENDING to allocate and pick what is missing" + withdrawn


def _withdraw_queued_label(session, order: Order) -> str:
    """A label job still queued for a packed order that changed asks for a box that is no longer
    right: it fails with words (packing again queues a new one). A job already running, or done
    (the label exists in Starshipit, whose order_shipped follows), is left alone. The job row is
    locked, so a run claiming it at the same moment either finds it failed or has it running."""
    job = session.scalars(
        select(LabelJob).where(LabelJob.order_id == order.id, LabelJob.status == LabelJobStatus.QUEUED)
        .with_for_update().execution_options(populate_existing=True)).first()
    if job is None:
        return ""
    job.status, job.progress = LabelJobStatus.FAILED, "Failed"
    job.error = "the order changed in Starshipit after it was packed: pack it again"
    job.finished_at, job.lease_until, job.run_token = utcnow(), None, None
    return f"; label job {job.id} withdrawn (it was still queued)"


def _returned_words(returned: list[dict]) -> str:
    if not returned:
        return ""
    return "; picked units no longer wanted stay in their tote to go back to stock: " + ", ".join(
        f"{r['quantity']} x {r['sku']} in {r['tote']}" for r in returned)


def _deleted(session, order, data, body, *, created, newer):
    if created:
        mirror.update_order(session, order, data)
    if mirror.shipped_status(session, order):
        return InboxStatus.IGNORED, "order_deleted ignored: the order has already shipped"
    before = returns.picked_held(session, order)
    released = mirror.release_all(session, order)
    returned = returns.return_released(session, order, before)  # the tote's content for it goes back to stock
    order.status = OrderStatus.CANCELLED
    picking.reconcile_order(session, order)  # an open pick job drops its stops for the order
    return InboxStatus.PROCESSED, "order deleted in Starshipit: cancelled" + (
        f", {released} allocated unit(s) released" if released else ""
    ) + _returned_words(returned)


def _shipped(session, order, data, body, *, created, newer):
    if newer:
        before = {} if created else returns.picked_held(session, order)
        mirror.update_order(session, order, data)
        returns.return_released(session, order, before)
    else:
        mirror.add_missing_lines(session, order, data)
    wanted = _shipment_wanted(session, order, data, body)
    result = shipping.ship(session, order, wanted)
    _record_shipment(session, order, body)
    _finish_shipment(session, order)
    return InboxStatus.PROCESSED, result.describe()


def _shipment_wanted(session, order: Order, data: OrderData, body: dict) -> dict[str, int]:
    """What this shipment adds, per SKU, given what has shipped already.
    - shipment.items absent: every line in full.
    - the order's items say what has shipped so far (quantity_to_ship) and that covers this
      shipment: the cumulative target, less what the WMS shipped already.
    - otherwise the shipment's items as they are, unless its tracking numbers were all seen."""
    lines = {line.sku: line for line in mirror.lines_of(session, order)}
    items = payloads.shipment_items(body)
    if items is None:
        return {sku: line.quantity - line.shipped_quantity for sku, line in lines.items()}
    so_far = {line.sku: line.shipped for line in data.lines}
    if all(so_far.get(sku) is not None and so_far[sku] >= quantity for sku, quantity in items.items()):
        return {sku: so_far[sku] - lines[sku].shipped_quantity for sku in items if sku in lines}
    numbers = payloads.tracking_numbers(body)
    if numbers and set(numbers) <= set(order.tracking_numbers or []):
        return {}
    return items


def _record_shipment(session, order: Order, body: dict) -> None:
    numbers = payloads.tracking_numbers(body)
    known = list(order.tracking_numbers or [])
    new = [n for n in numbers if n not in known]
    if new:
        order.tracking_numbers = known + new
    carrier = payloads.carrier_name(body)
    if carrier:
        order.carrier_name = carrier


def _finish_shipment(session, order: Order) -> None:
    """After a shipment: the order's status; once anything has shipped the WMS picks no more of it:
    its unpicked allocations are released and its open pick-job stops closed (no picker is sent
    for it; Starshipit ships the rest, if any). Picked units stay the order's while part of it is
    still to ship (they are in its tote); once it has shipped in full, picked units left over (none,
    normally) go back to stock from their tote with a task."""
    status = mirror.shipped_status(session, order)
    if status:
        order.status = status
        allocation.release_unpicked(session, order)  # free again for the orders awaiting it
        if status == OrderStatus.SHIPPED:  # picked units left over (none, normally) go back to stock
            before = returns.picked_held(session, order)
            mirror.release_all(session, order)
            returns.return_released(session, order, before)
        if order.route == "WMS":  # only a WMS order is ever in a pick job
            picking.reconcile_order(session, order)


# ---- tracking updates -----------------------------------------------------------------------


def _apply_tracking(session: Session, event: InboxEvent, body: dict, fetched_order: dict | None) -> str:
    status_word = event.event_type
    occurred = mirror.aware(event.occurred_at)
    if status_word in SHIPPING_TRACKING_STATUSES and fetched_order is not None:
        data = payloads.order_data(fetched_order)
        order, created = _lock(session, data, occurred)
        if created or not mirror.lines_of(session, order):
            mirror.update_order(session, order, data)
            order.status = OrderStatus.PENDING
            order.last_event_at = occurred
        else:
            mirror.add_missing_lines(session, order, data)
        result = shipping.ship(session, order, _tracking_wanted(session, order, data))
        _record_shipment(session, order, body)
        _finish_shipment(session, order)
        order.updated_at = utcnow()
        message = f"tracking {status_word}: {result.describe()} (lines fetched from Starshipit)"
        mirror.note(session, order, "tracking", message, occurred_at=occurred, inbox_event_id=event.id)
        return InboxStatus.PROCESSED
    order = mirror.find_order(session, event.order_number)
    if order is None:
        event.last_error = f"tracking {status_word} for order {event.order_number}, which the WMS does not have: recorded only"
        return InboxStatus.PROCESSED
    order, _ = mirror.lock_order(session, event.order_number, warehouse_id=order.warehouse_id)
    numbers = payloads.tracking_numbers(body)
    carrier = payloads.carrier_name(body)
    message = f"tracking {status_word}" + (f" ({carrier or 'carrier not named'} {numbers[0]})" if numbers else "")
    mirror.note(session, order, "tracking", message, occurred_at=occurred, inbox_event_id=event.id)
    return InboxStatus.PROCESSED


def _tracking_wanted(session, order: Order, data: OrderData) -> dict[str, int]:
    """What Starshipit says has shipped (quantity - quantity_to_ship); every line in full when it
    does not say, or says nothing has shipped although the label is printed."""
    lines = {line.sku: line for line in mirror.lines_of(session, order)}
    so_far = {line.sku: line.shipped for line in data.lines if line.shipped}
    if so_far:
        return {sku: q - lines[sku].shipped_quantity for sku, q in so_far.items() if sku in lines}
    return {sku: line.quantity - line.shipped_quantity for sku, line in lines.items()}
