"""Work for real OS processes (tests.support.ledger_workers.run_processes) allocating orders at the
same moment, through the allocation job (jobs.allocation.allocate_orders) as a worker runs it."""
from __future__ import annotations


def allocate_batches(database_url: str, batches: list[list[int]], *, barrier) -> list[dict]:
    """Once every process is ready, run the allocation job on each batch of order ids in turn (each
    order in a transaction of its own); what each batch found."""
    from jobs.allocation import allocate_orders
    from tests.conftest import make_app

    app = make_app(database_url)
    with app.app_context():
        barrier.wait()
        found = [allocate_orders(batch) for batch in batches]
    app.extensions["wms.engine"].dispose()
    return found
