"""Work for real OS processes (tests.support.ledger_workers.run_processes) racing on one pick
face: shipping from it, or checking it, at the same moment."""
from __future__ import annotations


def _app(database_url):
    from tests.conftest import make_app

    return make_app(database_url)


def ship_order(database_url: str, order_number: str, sku: str, quantity: int, *, barrier) -> dict:
    """Ship `quantity` of `sku` on one order through the shipping use case (app.orders.shipping),
    in its own transaction, once every process is ready. This process's stock-moved listener then
    runs the replenishment check in-process (no Redis). What was shipped, and the checks it ran."""
    from sqlmodel import select

    from app import db, replenishment
    from app.models import Order
    from app.orders.shipping import ship

    app = _app(database_url)
    checks: list[str] = []
    real_check = replenishment.run_check

    def counted(product_id, location_id):  # the job's check, its outcome noted
        outcome = real_check(product_id, location_id)
        checks.append(outcome)
        return outcome

    replenishment.run_check = counted
    with app.app_context():

        def go(session):
            order = session.exec(select(Order).where(Order.order_number == order_number)).one()
            return ship(session, order, {sku: quantity}).quantities

        barrier.wait()
        shipped = db.atomic(go)
    app.extensions["wms.engine"].dispose()
    return {"shipped": shipped, "checks": checks}


def check_rounds(database_url: str, product_id: int, location_id: int, rounds: int, leader: bool, *, barrier) -> list[str]:
    """Round after round, check the pick face at the same moment as the other processes; between
    rounds the leader cancels the open task so that the next round has one to create."""
    from sqlmodel import select

    from app import db, replenishment
    from app.models import ReplenishmentTask, TaskStatus

    app = _app(database_url)
    outcomes = []

    def cancel(session):
        for task in session.exec(select(ReplenishmentTask).where(ReplenishmentTask.status == TaskStatus.OPEN)):
            task.status = TaskStatus.CANCELLED

    with app.app_context():
        for _ in range(rounds):
            barrier.wait()
            outcomes.append(db.atomic(replenishment.check_pick_face, product_id, location_id))
            barrier.wait()
            if leader:
                db.atomic(cancel)
            barrier.wait()
    app.extensions["wms.engine"].dispose()
    return outcomes
