"""Outbound labels: the box sizes a manager keeps, and the label job that asks Starshipit for an
order's shipment at the end of packing (issue 9, item 4).

Who asks
- The pack step (items verified against what was picked: not built yet) calls `request_label` with
  the box; it creates a LabelJob (queued) and hands it to the job `jobs.labels.print_label` after
  the commit (app.tasks: RQ with Redis, else in-process at once). `reprint_label` asks Starshipit
  for the labels it already made (`reprint: true`); `retry_label_job` queues a failed job again.
- Which orders may ask (`refusal`): WMS-routed orders that have not shipped (in full or in part)
  and are not cancelled. The pack step will ask for PACKED orders; any earlier WMS status is
  accepted here, the pack step being the one that checks the items. A STARSHIPIT-routed order gets
  its label in Starshipit. One unfinished job per order (also a partial unique index); an order
  whose label is done is reprinted, not asked for again.

What a run does (`run_label_job`, the job's body), so that a retry or a run after a crash never
creates a second shipment:
1. It claims the job in a short transaction: the row locked, status running, attempts + 1, a run
   token and a lease (LABEL_LEASE_SECONDS). A job done or failed is left alone; a job another run
   holds is waited for until its lease ends (a crashed run's lease just runs out), then claimed.
2. Each round asks Starshipit first: `GET /api/orders?order_id=` (by order number when the mirror
   has no id). An order that already has a label (status Printed or Delivered, or a package with a
   tracking number) is reprinted (`reprint: true`); only an order without one gets
   `POST /api/orders/shipment` with the package. Right before any shipment request is sent the run
   renews its lease, on the condition that it still holds the job: a run whose lease ran out and
   was taken over sends nothing.
3. The client sends each request once (max_retries=0; each call times out after a sixth of the
   lease): after a 5xx, a timeout or a dropped connection nobody knows whether Starshipit acted,
   so the next round (LABEL_ROUNDS in all, LABEL_BACKOFF_SECONDS apart, doubling) asks again
   with the GET, never by resending the POST. 429 is waited out by the client (Retry-After);
   429 after its retries, a 4xx, `success: false`, a label that is not a PDF, or the last round's
   error: failed, with Starshipit's words, and a retry button.
4. The answer is stored in one transaction, on the condition that the run still holds the job:
   tracking numbers, carrier, the label PDF (further labels, one per package, kept as base64).
   Starshipit's `order_shipped` that follows finalises stock (item 5, not here).
The one case this cannot rule out is Starshipit still working on a shipment request a whole lease
after it was sent (each call gives up after a sixth of the lease, LEASE_PER_CALL): a run taking
over then asks before Starshipit has recorded the first shipment.

Box sizes are kept in centimetres (as people measure boxes) and sent to Starshipit in metres; a
size is retired, never deleted (label jobs name the box they used). A package for a label is a kept
size by name (its default weight unless one is given) or explicit length, width and height in
metres with a weight in kg; None lets Starshipit use its default package.
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlmodel import Session

from app import bounds, db, tasks
from app.bounds import shown
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import (
    OPEN_LABEL_STATUSES,
    LabelJob,
    LabelJobKind,
    LabelJobStatus,
    Order,
    OrderStatus,
    OrderTimelineEntry,
    PackageSize,
)
from app.orders import mirror
from app.timeutil import utcnow

log = logging.getLogger(__name__)

JOB = "jobs.labels.print_label"
LEASE_SECONDS = 120.0  # config LABEL_LEASE_SECONDS: how long a run holds a job without renewing
LEASE_PER_CALL = 6  # each Starshipit call times out after lease / this (connect, write, read: well inside)
ROUNDS = 3  # config LABEL_ROUNDS: rounds of "ask, then print or reprint" after a 5xx or a timeout
BACKOFF_SECONDS = 1.0  # config LABEL_BACKOFF_SECONDS: before the second round; doubled after
QUEUED_STALE_SECONDS = 60.0  # a job still queued this long lost its hand-over: it may be queued again
LABELLED_STATUSES = ("Printed", "Delivered")  # Starshipit's order statuses once a label exists

OPEN = tuple(str(s) for s in OPEN_LABEL_STATUSES)
DONE, FAILED = str(LabelJobStatus.DONE), str(LabelJobStatus.FAILED)
QUEUED, RUNNING = str(LabelJobStatus.QUEUED), str(LabelJobStatus.RUNNING)
SHIPPED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED)


def setting(key: str, default: float) -> float:
    """A number from the app's config, else the environment, else the default."""
    value = current_app.config.get(key)
    if value in (None, ""):
        value = os.environ.get(key, "")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


# ---- box sizes (a manager's list) --------------------------------------------------------------


def list_sizes(session: Session, *, active_only: bool = False) -> list[PackageSize]:
    """Every box size (or the active ones), active first, then by name."""
    statement = select(PackageSize).order_by(PackageSize.active.desc(), func.lower(PackageSize.name), PackageSize.id)
    if active_only:
        statement = statement.where(PackageSize.active)
    return list(session.scalars(statement))


def get_size(session: Session, size_id, *, lock: bool = False) -> PackageSize:
    number = bounds.row_id(size_id, "id", label="box size")
    statement = select(PackageSize).where(PackageSize.id == number)
    if lock:
        statement = statement.with_for_update()
    size = session.scalars(statement).first()
    if size is None:
        raise NotFound(f"no box size {number}", field="id")
    return size


def clean_size(*, name, length_cm, width_cm, height_cm, default_weight_kg=None) -> dict:
    """A box size's fields as kept, or the first refusal naming its field."""
    return {
        "name": bounds.text(name, "name", max_length=bounds.PACKAGE_NAME_MAX),
        "length_cm": bounds.package_cm(length_cm, "length_cm", label="length (cm)"),
        "width_cm": bounds.package_cm(width_cm, "width_cm", label="width (cm)"),
        "height_cm": bounds.package_cm(height_cm, "height_cm", label="height (cm)"),
        "default_weight_kg": bounds.measure(default_weight_kg, "default_weight_kg", maximum=bounds.MAX_WEIGHT_KG,
                                            unit="kg", label="default weight (kg)"),
    }


def _name_taken(session: Session, name: str, but: int | None = None) -> None:
    statement = select(PackageSize.id).where(func.lower(PackageSize.name) == name.lower())
    if but is not None:
        statement = statement.where(PackageSize.id != but)
    if session.scalars(statement).first() is not None:
        raise Conflict(f"a box size called {shown(name)} exists already (names are compared ignoring case)",
                       field="name")


def add_size(session: Session, **fields) -> PackageSize:
    """A new, active box size."""
    values = clean_size(**fields)
    _name_taken(session, values["name"])
    size = PackageSize(**values)
    session.add(size)
    session.flush()
    return size


def update_size(session: Session, size_id, **fields) -> PackageSize:
    """New name, sizes and default weight; label jobs keep the package they sent."""
    size = get_size(session, size_id, lock=True)
    values = clean_size(**fields)
    _name_taken(session, values["name"], but=size.id)
    for key, value in values.items():
        setattr(size, key, value)
    size.updated_at = utcnow()
    session.flush()
    return size


def set_size_active(session: Session, size_id, active: bool) -> PackageSize:
    """Retire a box size (packers no longer see it) or bring it back."""
    size = get_size(session, size_id, lock=True)
    size.active = bool(active)
    size.updated_at = utcnow()
    session.flush()
    return size


def size_in_metres(size: PackageSize) -> dict:
    """What Starshipit is sent for a kept box: metres (the table keeps centimetres)."""
    return {"name": size.name, "length": round(size.length_cm / 100, 4), "width": round(size.width_cm / 100, 4),
            "height": round(size.height_cm / 100, 4)}


def resolve_package(session: Session, package) -> tuple[int | None, dict | None]:
    """(the kept size's id or None, the package as sent: {name?, length, width, height} in metres and
    weight in kg), from a kept size by `name` (its default weight unless `weight` is given) or from
    explicit `length`, `width` and `height` in metres with a `weight`. None: Starshipit's default."""
    if package is None:
        return None, None
    if not isinstance(package, dict):
        raise ValidationFailed("package must be an object: a box size's name, or length, width, height and weight",
                               field="package")
    unknown = set(package) - {"name", "weight", "length", "width", "height"}
    if unknown:
        raise ValidationFailed(f"package has no field {shown(sorted(unknown)[0])}", field="package")
    weight = bounds.weight_kg(package.get("weight"), "weight")
    sizes = {key: package.get(key) for key in ("length", "width", "height")}
    given = {key for key, value in sizes.items() if value not in (None, "")}
    size_id = None
    if given:
        missing = [key for key in ("length", "width", "height") if key not in given]
        if missing:
            raise ValidationFailed(f"{missing[0]} (m) is required with the other sizes", field=missing[0])
        sent = {key: bounds.package_m(value, key, label=f"{key} (m)") for key, value in sizes.items()}
        name = bounds.text(package.get("name"), "name", max_length=bounds.PACKAGE_NAME_MAX, required=False,
                           label="box name")
        if name:
            sent = {"name": name, **sent}
    else:
        typed = bounds.scan(package.get("name") if isinstance(package.get("name"), str) else "", "name",
                            label="box size")
        if not typed:
            raise ValidationFailed("choose a box size, or give length, width and height in metres", field="name")
        size = session.scalars(
            select(PackageSize).where(func.lower(PackageSize.name) == typed.lower()[: bounds.PACKAGE_NAME_MAX + 1])
        ).first()
        if size is None or not size.active:
            choices = ", ".join(s.name for s in list_sizes(session, active_only=True)) or "none kept yet"
            state = "is retired" if size is not None else "is not a box size"
            raise ValidationFailed(f"{shown(typed)} {state}: choose one of {choices}", field="name")
        size_id, sent = size.id, size_in_metres(size)
        if weight is None:
            weight = size.default_weight_kg
    if weight is None:
        raise ValidationFailed("weight (kg) is required: this box has no default weight", field="weight")
    if weight <= 0:
        raise ValidationFailed("weight must be more than 0 kg", field="weight")
    return size_id, {**sent, "weight": weight}


# ---- asking for a label --------------------------------------------------------------------------


def refusal(route: str, status: str) -> tuple[str, str] | None:
    """Why an order may not ask for a label, (code, words), or None when it may."""
    if route != "WMS":
        return "not_wms_order", "is routed STARSHIPIT: its label is printed in Starshipit"
    if status in SHIPPED_STATUSES:
        return "order_shipped", f"has {'shipped' if status == OrderStatus.SHIPPED else 'partly shipped'} already"
    if status == OrderStatus.CANCELLED:
        return "order_cancelled", "was cancelled (deleted in Starshipit)"
    return None


def _open_job(session: Session, order_id: int) -> LabelJob | None:
    return session.scalars(select(LabelJob).where(LabelJob.order_id == order_id, LabelJob.status.in_(OPEN))).first()


def _last_done(session: Session, order_id: int) -> LabelJob | None:
    return session.scalars(select(LabelJob).where(LabelJob.order_id == order_id, LabelJob.status == DONE)
                           .order_by(LabelJob.id.desc())).first()


def _refuse_open(order: Order, job: LabelJob | None) -> None:
    if job is not None:
        raise Conflict(f"order {order.order_number} has a label job {job.status} already (job {job.id}): wait for it",
                       code="label_in_progress", field="order_number")


def _queue(session: Session, job: LabelJob) -> None:
    """Queued now; handed to the job after the commit. If nothing picks it up within
    QUEUED_STALE_SECONDS (the hand-over was lost with Redis), it may be queued again."""
    job.status = QUEUED
    job.progress = "Waiting for a worker"
    job.lease_until = utcnow() + timedelta(seconds=QUEUED_STALE_SECONDS)
    job.run_token = None
    session.add(job)
    session.flush()
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _committed, once=True)
        event.listen(session, "after_soft_rollback", _rolled_back)
    pending.append(job.id)


def request_label(session: Session, order_number, *, package, user_id: int | None = None) -> LabelJob:
    """A label job for a packed order (the pack step calls this once the items are verified):
    queued, and run after the commit. `package`: see resolve_package."""
    order = mirror.lock_typed(session, order_number)
    why = refusal(order.route, order.status)
    if why is not None:
        code, words = why
        raise Conflict(f"order {order.order_number} {words}", code=code, field="order_number")
    _refuse_open(order, _open_job(session, order.id))
    done = _last_done(session, order.id)
    if done is not None:
        raise Conflict(f"order {order.order_number} has its label already (tracking "
                       f"{', '.join(done.tracking_numbers) or 'none given'}): reprint it",
                       code="label_exists", field="order_number")
    size_id, sent = resolve_package(session, package)
    job = LabelJob(order_id=order.id, kind=LabelJobKind.LABEL, package_size_id=size_id, package=sent,
                   starshipit_order_id=order.starshipit_order_id, requested_by=user_id)
    _queue(session, job)
    return job


def reprint_label(session: Session, order_number, *, user_id: int | None = None) -> LabelJob:
    """A job that asks Starshipit for the labels it already made for this order (reprint: true)."""
    order = mirror.lock_typed(session, order_number)
    _refuse_open(order, _open_job(session, order.id))
    done = _last_done(session, order.id)
    if done is None:
        raise Conflict(f"order {order.order_number} has no label yet: nothing to reprint", code="no_label",
                       field="order_number")
    job = LabelJob(order_id=order.id, kind=LabelJobKind.REPRINT, package_size_id=done.package_size_id,
                   package=done.package, starshipit_order_id=done.starshipit_order_id or order.starshipit_order_id,
                   requested_by=user_id)
    _queue(session, job)
    return job


def retry_label_job(session: Session, job_id, *, user_id: int | None = None, order_number: str | None = None) -> LabelJob:
    """Queue a job again: a failed one; a running one whose run stopped (its lease ran out: the
    worker died); a queued one nobody picked up. Its run asks Starshipit first, so it never makes
    a second shipment."""
    number = bounds.row_id(job_id, "job", label="label job")
    job = session.scalars(select(LabelJob).where(LabelJob.id == number).with_for_update()
                          .execution_options(populate_existing=True)).first()
    if job is None:
        raise NotFound(f"no label job {number}", field="job")
    order = session.get(Order, job.order_id)
    if order_number is not None and order.order_number != order_number:
        raise NotFound(f"label job {job.id} is not a job of order {shown(order_number)}", field="job")
    now = utcnow()
    if job.status == DONE:
        raise Conflict(f"label job {job.id} is done: reprint the label instead", code="label_job_done", field="job")
    if job.status in OPEN and job.lease_until is not None and _aware(job.lease_until) > now:
        wait = max(1, int((_aware(job.lease_until) - now).total_seconds() + 0.999))
        raise Conflict(f"label job {job.id} is {job.status}: try again in {wait} s if it has not moved by then",
                       code="label_in_progress", field="job")
    if job.status == FAILED and order.status == OrderStatus.CANCELLED:
        raise Conflict(f"order {order.order_number} was cancelled: no label", code="order_cancelled", field="job")
    if job.status == FAILED:
        _refuse_open(order, _open_job(session, job.order_id))  # another job for the order since
    job.error = None
    job.finished_at = None
    if user_id is not None:
        job.requested_by = user_id
    _queue(session, job)
    return job


def _aware(moment):
    """SQLite hands datetimes back naive (UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---- handing the job over after the commit --------------------------------------------------------

_PENDING = "wms.label_jobs_after_commit"


def _rolled_back(session: Session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)


def _committed(session: Session) -> None:
    for job_id in session.info.pop(_PENDING, None) or ():
        try:
            tasks.enqueue(JOB, job_id)
        except Exception:  # noqa: BLE001 - committed; the job stays queued and may be queued again
            log.exception("label job %s was not handed over after its commit; Retry queues it again", job_id)


# ---- reading ---------------------------------------------------------------------------------------


def get_job(session: Session, job_id) -> LabelJob:
    number = bounds.row_id(job_id, "job_id", label="label job")
    job = session.get(LabelJob, number)
    if job is None:
        raise NotFound(f"no label job {number}", field="job_id")
    return job


def job_json(job: LabelJob, order_number: str) -> dict:
    """A job as the API shows it: error only when failed, tracking numbers only when done."""
    answer = {"id": job.id, "order_number": order_number, "kind": job.kind, "status": job.status,
              "attempts": job.attempts, "progress": job.progress}
    if job.status == FAILED:
        answer["error"] = job.error or "failed"
    if job.status == DONE:
        answer["tracking_numbers"] = list(job.tracking_numbers or [])
    return answer


def label_job_for_api(session: Session, job_id) -> dict:
    job = get_job(session, job_id)
    order = session.get(Order, job.order_id)
    return job_json(job, order.order_number)


def order_label(session: Session, order_number, number: int = 1) -> tuple[str, bytes]:
    """(order number, the PDF) of the order's newest done label job: label `number` of its labels
    (one per package). NotFound before a label is ready."""
    typed = bounds.scan(order_number if isinstance(order_number, str) else "", "order_number", label="order number")
    order = session.scalars(select(Order).where(Order.order_number == typed)).first() if typed else None
    if order is None:
        raise NotFound(f"no order {shown(typed)}", field="order_number")
    job = _last_done(session, order.id)
    if job is None or job.label_pdf is None:
        raise NotFound(f"order {order.order_number} has no label yet", code="no_label", field="order_number")
    labels = [job.label_pdf, *(_decoded(text) for text in job.more_labels or [])]
    if not 1 <= number <= len(labels):
        raise NotFound(f"order {order.order_number} has {len(labels)} label{'s' if len(labels) != 1 else ''}, "
                       f"not a label {number}", field="n")
    return order.order_number, labels[number - 1]


def label_json(session: Session, order_number: str) -> dict:
    """The newest done label job of an order as the API gives it with Accept: application/json:
    every label as base64 (one per package) with the carrier and tracking numbers."""
    order = session.scalars(select(Order).where(Order.order_number == order_number)).one()
    job = _last_done(session, order.id)
    return {"order_number": order.order_number, "label_job": job.id, "carrier_name": job.carrier_name,
            "tracking_numbers": list(job.tracking_numbers or []),
            "labels": [base64.b64encode(job.label_pdf).decode(), *(job.more_labels or [])]}


def label_page(session: Session, order_number) -> dict:
    """The label page's context: the order, its newest label job (None before any), how many labels
    the newest done job holds, and what the person may do now."""
    typed = bounds.scan(order_number if isinstance(order_number, str) else "", "order_number", label="order number")
    order = session.scalars(select(Order).where(Order.order_number == typed)).first() if typed else None
    if order is None:
        raise NotFound(f"no order {shown(typed)}", field="order_number")
    job = session.scalars(select(LabelJob).where(LabelJob.order_id == order.id).order_by(LabelJob.id.desc())).first()
    done = job if job is not None and job.status == DONE else _last_done(session, order.id)
    now = utcnow()
    stalled = (job is not None and job.status in OPEN and job.lease_until is not None
               and _aware(job.lease_until) <= now)
    return {
        "order": order,
        "job": job,
        "done": done,
        "labels": (1 + len(done.more_labels or [])) if done is not None and done.label_pdf is not None else 0,
        "stalled": stalled,
        "can_retry": job is not None and (job.status == FAILED or stalled),
        "can_reprint": done is not None and (job is None or job.status not in OPEN),
        "refusal": refusal(order.route, order.status),
    }


def _decoded(text: str) -> bytes:
    return base64.b64decode(text)


# ---- the run (jobs.labels.print_label) ----------------------------------------------------------


class LeaseLost(Exception):
    """Another run holds this job now: this one must not talk to Starshipit about it any more."""


class Unusable(Exception):
    """Starshipit answered success, but not with a label the WMS can keep."""


@dataclass
class Claim:
    status: str  # what the run found: RUNNING (claimed), or DONE / FAILED / "wait" / "gone"
    wait: float = 0.0
    job_id: int = 0
    kind: str = ""
    order_number: str = ""
    starshipit_order_id: int | None = None
    package: dict | None = None
    attempts: int = 0


def _lock_job(session: Session, job_id: int) -> LabelJob | None:
    statement = (select(LabelJob).where(LabelJob.id == job_id).with_for_update()
                 .execution_options(populate_existing=True))
    return session.scalars(statement).first()


def _claim(session: Session, job_id: int, token: str, lease: float) -> Claim:
    job = _lock_job(session, job_id)
    if job is None:
        return Claim("gone")
    if job.status in (DONE, FAILED):
        return Claim(job.status)
    now = utcnow()
    if job.status == RUNNING and job.lease_until is not None and _aware(job.lease_until) > now:
        return Claim("wait", wait=(_aware(job.lease_until) - now).total_seconds())
    order = session.get(Order, job.order_id)
    job.status = RUNNING
    job.attempts += 1
    job.run_token = token
    job.lease_until = now + timedelta(seconds=lease)
    job.started_at = now
    job.progress = "Asking Starshipit about the order" + (" again" if job.attempts > 1 else "")
    job.error = None
    return Claim(RUNNING, job_id=job.id, kind=job.kind, order_number=order.order_number,
                 starshipit_order_id=job.starshipit_order_id or order.starshipit_order_id,
                 package=job.package, attempts=job.attempts)


def _renew(session: Session, job_id: int, token: str, lease: float, progress: str) -> bool:
    """Extend this run's lease (and say what it does) if it still holds the job."""
    result = session.execute(
        update(LabelJob)
        .where(LabelJob.id == job_id, LabelJob.run_token == token, LabelJob.status == RUNNING)
        .values(lease_until=utcnow() + timedelta(seconds=lease), progress=progress[: bounds.LABEL_PROGRESS_MAX])
    )
    return result.rowcount == 1


def _held(session: Session, job_id: int, token: str) -> LabelJob | None:
    job = _lock_job(session, job_id)
    if job is None or job.run_token != token or job.status != RUNNING:
        return None
    return job


def _timeline(session: Session, job: LabelJob, kind: str, message: str) -> None:
    session.add(OrderTimelineEntry(order_id=job.order_id, kind=kind, message=message[:1000], occurred_at=utcnow()))


def _finish_done(session: Session, job_id: int, token: str, answer: dict, labels: list[bytes], reprinted: bool) -> str:
    job = _held(session, job_id, token)
    if job is None:
        return "taken over"
    tracking = [str(t) for t in answer.get("tracking_numbers") or []]
    job.status = DONE
    job.tracking_numbers = tracking
    job.carrier_name = str(answer.get("carrier_name") or "")[:100] or None
    job.label_pdf = labels[0]
    job.more_labels = [base64.b64encode(label).decode() for label in labels[1:]]
    if isinstance(answer.get("order_id"), int) and 1 <= answer["order_id"] <= bounds.MAX_STARSHIPIT_ID:
        job.starshipit_order_id = answer["order_id"]
    job.finished_at = utcnow()
    job.lease_until = None
    job.run_token = None
    job.progress = "Label reprinted" if job.kind == LabelJobKind.REPRINT else (
        "Label ready (Starshipit had made it already: reprinted)" if reprinted else "Label ready")
    what = "reprinted" if reprinted else "created"
    _timeline(session, job, "label", f"Label {what} by Starshipit (label job {job.id}): "
              f"{job.carrier_name or 'carrier not given'}, tracking {', '.join(tracking) or 'none given'}")
    return DONE


def _finish_failed(session: Session, job_id: int, token: str, words: str) -> str:
    job = _held(session, job_id, token)
    if job is None:
        return "taken over"
    job.status = FAILED
    job.error = words[: bounds.LABEL_ERROR_MAX]
    job.finished_at = utcnow()
    job.lease_until = None
    job.run_token = None
    job.progress = "Failed"
    _timeline(session, job, "label_failed", f"Label job {job.id} failed: {words}")
    return FAILED


def has_label(order: dict) -> bool:
    """Whether Starshipit's order already has a label: printed or delivered, or a package with a
    tracking number."""
    if str(order.get("status") or "") in LABELLED_STATUSES:
        return True
    return any(isinstance(p, dict) and p.get("tracking_number") for p in order.get("packages") or [])


def pdf_labels(answer: dict) -> list[bytes]:
    """The labels of a shipment answer as PDF bytes, or Unusable in words."""
    labels = answer.get("labels") or []
    types = answer.get("label_types") or []
    if not isinstance(labels, list) or not labels:
        raise Unusable("Starshipit answered without a label")
    found = []
    for position, text in enumerate(labels):
        kind = str(types[position]) if isinstance(types, list) and position < len(types) else "PDF"
        if kind.upper() != "PDF":
            raise Unusable(f"Starshipit gave the label as {shown(kind)}, not PDF: set the label format to PDF in "
                           "Starshipit's settings, then retry")
        try:
            pdf = base64.b64decode(str(text), validate=True)
        except (binascii.Error, ValueError):
            raise Unusable("Starshipit's label is not valid base64 text") from None
        if not pdf.startswith(b"%PDF"):
            raise Unusable("Starshipit's label is not a PDF file")
        found.append(pdf)
    return found


def _transient(error) -> bool:
    """A 5xx, a timeout or a dropped connection: Starshipit may or may not have acted."""
    return error.status is None or error.status >= 500


def _words(error, rounds: int, transient: bool) -> str:
    if transient:
        return (f"Starshipit did not answer properly on any of {rounds} tries (the last: {error}). "
                "Retry when Starshipit is back: the order is checked first, so no second label is made.")
    if error.status == 429:
        return (f"Starshipit's rate limit was still exceeded after waiting as it asked ({error}). "
                "Retry in a minute.")
    return f"Starshipit refused: {error}"


@dataclass
class _Run:
    """The run this thread is on, for the hook that renews its lease before a shipment request."""

    job_id: int
    token: str
    lease: float
    progress: str = ""


_CURRENT_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("wms_label_run", default=None)
_CLIENTS = "wms.label_clients"  # app.extensions: one Starshipit client per settings, kept by the process
_HOOKED = "_wms_label_hook"


def _before_sending(request) -> None:
    """Every request of a label client (also the client's own 429 resends): right before a shipment
    request goes out, the run renews its lease, or stops if another run holds the job now."""
    run = _CURRENT_RUN.get()
    if run is None or request.method != "POST" or not request.url.path.endswith("/api/orders/shipment"):
        return
    if not db.atomic(_renew, run.job_id, run.token, run.lease, run.progress):
        raise LeaseLost()


def _hooked(client):
    if not getattr(client, _HOOKED, False):
        client._http.event_hooks["request"].append(_before_sending)
        setattr(client, _HOOKED, True)
    return client


def label_client(lease: float):
    """The Starshipit client label jobs use: each request sent once (max_retries=0), timing out
    after lease / LEASE_PER_CALL. Kept by this process per settings (making an HTTP client costs
    about 30 ms, and a kept one reuses its connections); settings saved since make a new one."""
    from app.settings_store import effective
    from app.starshipit.client import client_from_settings

    with db.reading() as session:
        key = tuple(effective(session, name) for name in ("STARSHIPIT_API_URL", "STARSHIPIT_API_KEY",
                                                          "STARSHIPIT_SUBSCRIPTION_KEY", "STARSHIPIT_RATE_LIMIT"))
        key += (lease,)
        clients = current_app.extensions.setdefault(_CLIENTS, {})
        client = clients.get(key)
        if client is None:
            client = clients[key] = _hooked(client_from_settings(session, max_retries=0, timeout=lease / LEASE_PER_CALL))
    return client


def run_label_job(job_id: int, *, client=None) -> str:
    """The job's body: claim, talk to Starshipit, store the answer (see the module's docstring).
    What it ended as: done, failed, "taken over" (another run holds the job) or "gone". `client`:
    a StarshipitClient to use instead of the kept one (tests)."""
    from app.starshipit.client import StarshipitError

    lease = setting("LABEL_LEASE_SECONDS", LEASE_SECONDS)
    rounds = int(setting("LABEL_ROUNDS", ROUNDS))
    backoff = setting("LABEL_BACKOFF_SECONDS", BACKOFF_SECONDS)
    token = uuid.uuid4().hex
    while True:
        claim = db.atomic(_claim, int(job_id), token, lease)
        if claim.status != "wait":
            break
        time.sleep(min(claim.wait + 0.05, 0.5))  # another run holds it: until it ends or its lease runs out
    if claim.status != RUNNING:
        return claim.status
    client = _hooked(client) if client is not None else label_client(lease)
    run = _Run(claim.job_id, token, lease)
    entered = _CURRENT_RUN.set(run)
    try:
        return _converse(client, claim, run, rounds, backoff, StarshipitError)
    except LeaseLost:
        return "taken over"
    except Exception as error:  # noqa: BLE001 - recorded in words, then raised for the worker's log
        try:
            db.atomic(_finish_failed, claim.job_id, token,
                      f"The label job stopped on an unexpected error ({type(error).__name__}: {shown(error, 300)}). "
                      "Retry: the order is checked in Starshipit first, so no second label is made.")
        except Exception:  # noqa: BLE001 - the lease runs out instead, and Retry is offered then
            log.exception("label job %s: the failure could not be recorded", claim.job_id)
        raise
    finally:
        _CURRENT_RUN.reset(entered)


def _converse(client, claim: Claim, run: _Run, rounds: int, backoff: float, StarshipitError) -> str:
    token, lease = run.token, run.lease
    for round_number in range(1, rounds + 1):
        try:
            answer, reprinted = _ask(client, claim, run)
            labels = pdf_labels(answer)
        except StarshipitError as error:
            transient = _transient(error)
            if transient and round_number < rounds:
                wait = backoff * 2 ** (round_number - 1)
                note = (f"Starshipit did not answer properly ({shown(error, 120)}); asking again in {wait:g} s "
                        f"(try {round_number + 1} of {rounds})")
                if not db.atomic(_renew, claim.job_id, token, lease, note):
                    return "taken over"
                time.sleep(wait)
                continue
            return db.atomic(_finish_failed, claim.job_id, token, _words(error, rounds, transient))
        except Unusable as error:
            return db.atomic(_finish_failed, claim.job_id, token, str(error))
        return db.atomic(_finish_done, claim.job_id, token, answer, labels, reprinted)
    raise AssertionError("unreachable")


def _ask(client, claim: Claim, run: _Run) -> tuple[dict, bool]:
    """One round: what Starshipit has for the order, then the shipment or the reprint."""
    if claim.kind == LabelJobKind.REPRINT:
        order_id = claim.starshipit_order_id or client.get_order(order_number=claim.order_number)["order_id"]
        run.progress = "Asking Starshipit to reprint the label"
        return client.create_shipment(order_id, reprint=True), True
    if claim.starshipit_order_id:
        order = client.get_order(order_id=claim.starshipit_order_id)
    else:
        order = client.get_order(order_number=claim.order_number)
    if str(order.get("order_number") or "") != claim.order_number:
        raise Unusable(f"Starshipit's order {order.get('order_id')} is {shown(order.get('order_number'))}, not "
                       f"{claim.order_number}: the order's Starshipit id in the WMS is wrong")
    if has_label(order):
        run.progress = "Starshipit has a label for the order already: reprinting it"
        return client.create_shipment(order["order_id"], reprint=True), True
    run.progress = "Asking Starshipit for the label"
    packages = None
    if claim.package:
        packages = [{key: claim.package[key] for key in ("weight", "length", "width", "height")}]
    return client.create_shipment(order["order_id"], packages=packages), False
