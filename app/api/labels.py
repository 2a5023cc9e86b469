"""Labels from Starshipit for WMS-packed orders: a label job's progress, and an order's label PDF.
The pack step (POST /api/v1/orders/<order_number>/pack) queues the job; app.outbound.labels runs it."""
from __future__ import annotations

from typing import Literal

from flask import current_app, request
from pydantic import Field, model_serializer

from app import db
from app.api import bp, fields
from app.api.schemas import Answer, Path
from app.api.spec import operation
from app.models import LabelJobKind, LabelJobStatus
from app.outbound import labels

JobStatusName = Literal[tuple(str(s) for s in LabelJobStatus)]  # type: ignore[valid-type]
JobKindName = Literal[tuple(str(k) for k in LabelJobKind)]  # type: ignore[valid-type]
PDF = "application/pdf"


class JobPath(Path):
    job_id: fields.row_id(description="label job id (the pack step's label_job)")


class OrderPath(Path):
    order_number: fields.lookup(description="order number")


class LabelJobOut(Answer):
    id: int
    order_number: str
    kind: JobKindName = Field(description="label: the shipment (or the label Starshipit has already); "
                                          "reprint: Starshipit's labels again")
    status: JobStatusName = Field(description="queued, running (asking Starshipit), done or failed")
    attempts: int = Field(description="runs started: a retry or a run after a crash adds one")
    progress: str | None = Field(description="what the job is doing, in words")
    error: str | None = Field(None, description="failed only: why, with what Starshipit said")
    tracking_numbers: list[str] | None = Field(None, description="done only: one per package")

    @model_serializer(mode="wrap")
    def _only_given(self, handler):
        return {key: value for key, value in handler(self).items()
                if value is not None or key not in ("error", "tracking_numbers")}


class LabelOut(Answer):
    order_number: str
    label_job: int = Field(description="the label job that fetched the labels")
    carrier_name: str | None
    tracking_numbers: list[str]
    labels: list[str] = Field(description="the label PDFs, base64, one per package (as Starshipit gives them)")


@bp.get("/label-jobs/<job_id>")
@operation(path=JobPath, response=LabelJobOut, errors=(404,), tag="labels")
def label_job(job_id: int):
    """A label job's status: queued, running, done (with the tracking numbers) or failed (with
    Starshipit's words; a retry asks Starshipit first, so it never makes a second shipment)."""
    with db.reading() as session:
        return labels.label_job_for_api(session, job_id)


@bp.get("/orders/<path:order_number>/label")
@operation(path=OrderPath, response=LabelOut, errors=(404,), tag="labels",
           also={PDF: {"type": "string", "format": "binary", "description": "the first label (one per package)"}})
def order_label(order_number: str):
    """An order's label, once its label job is done: the PDF (application/pdf, the first label), or
    with Accept: application/json every label as base64 with the tracking numbers. 404 before."""
    with db.reading() as session:
        number, pdf = labels.order_label(session, order_number)
        if _wants_json():
            return labels.label_json(session, number)
    response = current_app.response_class(pdf, mimetype=PDF)
    response.headers["Content-Disposition"] = f'inline; filename="label-{_safe(number)}.pdf"'
    return response


def _wants_json() -> bool:
    """JSON only when the client prefers it to PDF (no Accept, */* or text/html: the PDF)."""
    accept = request.accept_mimetypes
    return accept["application/json"] > accept[PDF]


def _safe(number: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in number)[:60]

