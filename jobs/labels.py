"""Jobs for outbound labels: ask Starshipit for an order's label (or reprint it) and keep what it
gives. Enqueued by name from app.outbound.labels after the label job's row is committed.

Expects an app context: `wms worker` runs jobs inside one; without Redis it runs in-process. Safe to
run again after a crash, or twice: app.outbound.labels.run_label_job claims the job with a lease
and asks Starshipit what it has before it asks for a shipment.
"""
from __future__ import annotations


def print_label(label_job_id: int) -> str:
    """Run one label job: done, failed (with Starshipit's words), "taken over" or "gone"."""
    from app.outbound import labels

    return labels.run_label_job(int(label_job_id))
