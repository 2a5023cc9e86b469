"""Work for real OS processes that receive against the same purchase order at once (run with
tests.support.ledger_workers.run_processes)."""
from __future__ import annotations


def receive_one_by_one(database_url: str, po_number: str, sku: str, tries: int, *, barrier) -> dict:
    """`tries` receipts of one unit each, as fast as they go: how many were taken and how many
    were refused as over-receipts."""
    from app import db
    from app.errors import Conflict
    from app.inbound import receiving
    from tests.conftest import make_app

    app = make_app(database_url)
    taken = refused = 0
    with app.app_context():
        barrier.wait()
        for _ in range(tries):
            try:
                db.atomic(receiving.receive, po_number=po_number, location="DOCK", lines=[(sku, 1)])
                taken += 1
            except Conflict as error:
                if error.code not in ("over_receipt", "purchase_order_closed"):
                    raise
                refused += 1
    app.extensions["wms.engine"].dispose()
    return {"received": taken, "refused": refused}
