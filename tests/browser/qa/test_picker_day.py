"""A picker's day, on a phone and on a tablet: sign in; move stock; receive a purchase order and put
it away; count a location; fill a pick face; batch-pick two orders and pack one with its label from
the Starshipit simulator. Scans are typed as a keyboard-wedge scanner types them (a fast burst ending
in Enter). Each step is a screenshot (`qa/picker/<device>/<nn>-<step>.png`); what each step did is
asserted on the page and, where stock moved, in the ledger."""
from __future__ import annotations

import pytest

from app import db, replenishment, stocktakes
from app.catalog import create_product
from app.inbound.purchase_orders import create_purchase_order, describe, get_purchase_order
from app.inventory import adjust_stock
from app.outbound import labels, packing, picking, routing
from app.warehouses import create_location, get_warehouse
from tests.browser.qa.conftest import TAGS, ean13
from tests.support.floor import ledger_is_clean, movements, on_hand, scan, sim_call
from tests.support.focus import assert_focus_on
from tests.test_order_events import order_body, send

NAMES = {"MUG": "Enamel mug", "TEE": "Cotton tee", "CAP": "Wool cap", "BOLT": "Steel bolt"}
BOX = "Carton 30"


class Floor:
    """One device's codes on the picker's floor."""

    def __init__(self, tag: str, offset: int):
        self.tag = tag
        self.sku = {key: f"{tag}-{key}" for key in NAMES}
        self.barcode = {key: ean13(offset + number) for number, key in enumerate(NAMES)}
        self.dock, self.count_at = f"{tag}-DOCK", f"{tag}-C-01"
        self.pick = {key: f"{tag}-P-0{number}" for number, key in enumerate(("MUG", "TEE", "CAP", "BOLT"), start=1)}
        self.shelf = {number: f"{tag}-S-0{number}" for number in (1, 2, 3, 4)}  # 4: empty, for the putaway
        self.totes = [f"{tag}-T-{number}" for number in (1, 2, 3)]
        self.po = f"{tag}-PO-1"
        self.orders = {f"{tag}-WEB-1": [("MUG", 1), ("TEE", 1)], f"{tag}-WEB-2": [("TEE", 1)]}
        self.job: dict = {}
        self.stocktake_id = 0


def build(app, sim) -> dict[str, Floor]:
    floors = {device: Floor(tag, offset) for (device, tag), offset in zip(TAGS.items(), (10, 30))}
    with app.app_context():
        def write(session):
            site = get_warehouse(session)
            labels.add_size(session, name=BOX, length_cm=30, width_cm=20, height_cm=15, default_weight_kg=0.4)
            for f in floors.values():
                for key, name in NAMES.items():
                    create_product(session, sku=f.sku[key], name=name, barcodes=[f.barcode[key]])
                create_location(session, warehouse=site, code=f.dock, type="receiving", zone=f.tag, pick_sequence=1)
                for number, code in enumerate(f.pick.values(), start=1):
                    create_location(session, warehouse=site, code=code, type="pick", zone=f.tag, pick_sequence=10 * number)
                for number, code in f.shelf.items():
                    create_location(session, warehouse=site, code=code, type="storage", zone=f.tag,
                                    pick_sequence=100 + number)
                create_location(session, warehouse=site, code=f.count_at, type="storage", zone=f.tag, pick_sequence=200)
                for code in f.totes:
                    create_location(session, warehouse=site, code=code, type="tote", zone="TOTES")
                create_purchase_order(session, po_number=f.po, supplier="Acme Tools", lines=[(f.sku["TEE"], 4)])

        db.atomic(write)
        for f in floors.values():
            for key, location, quantity in (("MUG", f.pick["MUG"], 10), ("MUG", f.shelf[1], 20),
                                            ("TEE", f.pick["TEE"], 10), ("CAP", f.count_at, 6),
                                            ("BOLT", f.shelf[3], 30)):
                db.atomic(adjust_stock, sku=f.sku[key], location=location, quantity=quantity, reason="found")
            replenishment.save_rule(sku=f.sku["BOLT"], location=f.pick["BOLT"], min=2, max=8)  # empty: a task of 8
        opened = db.atomic(stocktakes.open_stocktake, locations=[f.count_at for f in floors.values()])
        db.atomic(routing.replace_rules, [{"name": "QA shop", "match": {"reference_prefix": "qa web"}, "outcome": "WMS"}])

        client = app.test_client()
        destination = {"name": "Kiri Ngata", "street": "1 Cuba St", "city": "Wellington", "post_code": "6011",
                       "country": "NZ"}
        for f in floors.values():
            f.stocktake_id = opened["id"]
            for number, lines in f.orders.items():
                items = [{"sku": f.sku[key], "quantity": quantity} for key, quantity in lines]
                made = sim_call(sim, "POST", "orders", order_number=number, reference=f"qa web {number}", items=items,
                                destination=destination)["order"]
                arrived = send(client, order_body("order_created", number, items=items, order_id=made["order_id"],
                                                  reference=f"qa web {number}", destination=destination))
                assert arrived.status_code in (200, 202), arrived.get_data(as_text=True)
            f.job = db.atomic(picking.create_pick_job, list(f.orders), "batch")
    return floors


@pytest.fixture(scope="module")
def floor(qa_stack):
    return build(qa_stack.app, qa_stack.sim)


def order_status(app, number: str) -> str:
    with app.app_context(), db.reading() as session:
        return packing.get_order(session, number).status


def test_a_picker_signs_in_and_finds_every_section_of_the_day(day, device):
    walk = day("picker", 1)
    page = walk.page
    assert page.locator("h1").inner_text() == "Hello, picker"
    walk.shot("home")
    # The menu: a button opening every section on a phone; in full beside the page on a tablet.
    if device.name == "phone":
        page.get_by_test_id("menu-button").tap()
    menu = page.get_by_test_id("menu")
    menu.wait_for()
    for section in ("moves.index", "receiving.index", "putaway.index", "stocktakes.count_index",
                    "replenishment.tasks", "picking.index", "packing.index", "problems.new"):
        assert menu.locator(f"a[data-section='{section}']").is_visible(), section
    assert menu.locator("a[data-section='picking.release']").count() == 0  # a manager's
    walk.shot("menu")


def test_a_picker_moves_stock_by_scanning(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    walk = day("picker", 10)
    page = walk.page
    page.goto(f"{walk.url}/moves/")
    assert_focus_on(page, "from_location")
    walk.shot("move-page")
    scan(page, f.shelf[1], f.barcode["MUG"])
    page.locator("#product-hint").filter(has_text=NAMES["MUG"]).wait_for()
    page.locator("button[data-step='1']").tap()  # 1 -> 2
    assert_focus_on(page, "to_location")
    walk.shot("move-scanned")
    scan(page, f.shelf[2])
    ok = page.locator("#flash [data-testid=flash-ok]")
    ok.wait_for()
    assert f"Moved 2 × {f.sku['MUG']} ({NAMES['MUG']}) {f.shelf[1]} → {f.shelf[2]}" in ok.inner_text()
    assert_focus_on(page, "from_location")
    walk.shot("moved")
    mugs = on_hand(app, f.sku["MUG"])
    assert (mugs[f.shelf[1]], mugs[f.shelf[2]]) == (18, 2)
    assert movements(app, sku=f.sku["MUG"], type="transfer") == [
        ("transfer", f.sku["MUG"], f.shelf[1], f.shelf[2], 2, None)]
    assert ledger_is_clean(app)


def test_a_picker_receives_a_po_by_scanning_and_puts_it_away(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    tee = f.sku["TEE"]
    walk = day("picker", 20)
    page = walk.page

    page.goto(f"{walk.url}/receiving/")
    assert_focus_on(page, "po")
    walk.shot("receiving")
    scan(page, f.po.lower())
    page.wait_for_url(f"**/receiving/po/{f.po}")
    walk.shot("po-opened")
    page.get_by_test_id("receiving-location").select_text()
    scan(page, f.dock)
    page.locator("#location-hint.scan-hint-ok", has_text=f"{f.dock} · receiving").wait_for()
    assert_focus_on(page, "product")
    scan(page, *[f.barcode["TEE"]] * 4)
    log = page.get_by_test_id("scan-log")
    log.locator("li.ok").nth(3).wait_for()
    assert log.locator("li.error").count() == 0
    assert [(row.get_attribute("data-sku"), row.get_attribute("data-units"))
            for row in page.get_by_test_id("tally-row").all()] == [(tee, "4")]
    walk.shot("items-scanned")
    page.get_by_test_id("confirm-receipt").tap()
    done = page.get_by_test_id("receipt-done")
    done.wait_for()
    assert "Received 4 units" in done.inner_text() and f"into {f.dock}" in done.inner_text()
    assert f"{f.po} is now received" in done.inner_text()
    walk.shot("received")
    with app.app_context(), db.reading() as session:
        order = describe(session, get_purchase_order(session, f.po))
    assert order["status"] == "received"
    assert on_hand(app, tee)[f.dock] == 4
    assert movements(app, reference=f.po) == [("receipt", tee, "@SUPPLIER", f.dock, 4, f.po)]

    # Put away: the task's suggested place, scanned.
    page.goto(f"{walk.url}/putaway/")
    task = page.locator(f"[data-testid^=task-][data-sku={tee}][data-status=open]")
    suggested = task.get_by_test_id("suggested").inner_text()
    assert suggested == f.shelf[4]  # the empty shelf in the dock's zone
    assert_focus_on(page, "from_location")
    walk.shot("putaway-task")
    before = on_hand(app, tee).get(suggested, 0)
    scan(page, f.dock, f.barcode["TEE"], suggested)
    putaway_log = page.get_by_test_id("putaway-log")
    putaway_log.locator("li.ok").first.wait_for()
    assert f"Put 4 × {tee} ({NAMES['TEE']}) {f.dock} → {suggested}. Now {before + 4} at {suggested}." in \
        putaway_log.inner_text()
    page.locator(f"#tasks [data-sku={tee}]").wait_for(state="detached")
    walk.shot("put-away")
    assert f.dock not in on_hand(app, tee) and on_hand(app, tee)[suggested] == before + 4
    assert movements(app, type="putaway", sku=tee) == [("putaway", tee, f.dock, suggested, 4, f.po)]
    assert ledger_is_clean(app)


def test_a_picker_counts_a_location_blind(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    cap = f.sku["CAP"]
    walk = day("picker", 40)
    page = walk.page
    page.goto(f"{walk.url}/count/")
    assert f.count_at in [item.get_attribute("data-location") for item in page.get_by_test_id("count-location").all()]
    walk.shot("to-count")
    assert_focus_on(page, "location")
    scan(page, f.count_at.lower())
    page.wait_for_url("**/count/*")
    page.locator("form[data-count-form][data-ready]").wait_for()
    assert page.get_by_test_id("count-location-code").inner_text() == f.count_at
    assert page.get_by_test_id("count-expected").count() == 0  # blind
    walk.shot("location-scanned")
    scan(page, *[f.barcode["CAP"]] * 5)  # 6 expected: one missing
    count_log = page.get_by_test_id("count-log")
    count_log.locator("li.ok").nth(4).wait_for()
    page.locator(f"[data-testid=count-line][data-sku={cap}]").wait_for()
    counted = {line.get_attribute("data-sku"): line.get_by_test_id("count-line-counted").input_value()
               for line in page.get_by_test_id("count-line").all()}
    assert counted == {cap: "5"}
    walk.shot("items-scanned")
    page.get_by_test_id("count-close").tap()
    page.wait_for_url(f"{walk.url}/count/")
    assert f"{f.count_at} is counted and closed" in page.get_by_test_id("flash-ok").inner_text()
    walk.shot("closed")
    with app.app_context(), db.reading() as session:
        shown = stocktakes.describe(session, f.stocktake_id, hide_while_counting=False)
    assert {place["location"]: place["status"] for place in shown["locations"]}[f.count_at] == "closed"
    assert [(line["expected"], line["counted"], line["variance"]) for line in shown["lines"]
            if line["location"] == f.count_at] == [(6, 5, -1)]
    assert on_hand(app, cap) == {f.count_at: 6}  # counting moves nothing: a manager approves
    assert ledger_is_clean(app)


def test_a_picker_fills_a_pick_face_from_its_replenishment_task(qa_stack, floor, day, device):
    f, app = floor[device.name], qa_stack.app
    bolt = f.sku["BOLT"]
    walk = day("picker", 50)
    page = walk.page
    page.goto(f"{walk.url}/replenishment/")
    task = page.get_by_test_id("replenishment-task").filter(has_text=bolt)
    assert f"8 × {bolt}" in task.inner_text() and f"{f.shelf[3]} → {f.pick['BOLT']}" in task.inner_text()
    walk.shot("tasks")
    task.click()
    page.locator("form[data-scanner][data-ready]").wait_for()
    assert_focus_on(page, "from_location")
    assert page.input_value("#quantity") == "8"
    walk.shot("task-opened")
    scan(page, f.shelf[3], f.barcode["BOLT"])
    page.keyboard.press("Enter")  # the task's quantity as it is
    scan(page, f.pick["BOLT"])
    done = page.get_by_test_id("scan-log").get_by_test_id("flash-ok")
    done.wait_for()
    assert f"Moved 8 × {bolt} {f.shelf[3]} → {f.pick['BOLT']}" in done.inner_text()
    assert f"{f.pick['BOLT']} now holds 8" in done.inner_text()
    walk.shot("filled")
    assert on_hand(app, bolt) == {f.pick["BOLT"]: 8, f.shelf[3]: 22}
    assert ledger_is_clean(app)


def test_a_picker_batch_picks_two_orders_and_packs_one_with_its_label(qa_stack, floor, day, device):
    f, app, sim = floor[device.name], qa_stack.app, qa_stack.sim
    job_id = f.job["id"]
    tote_of = {t["order_number"]: t["tote"] for t in f.job["totes"]}
    walk_plan = [(s["location"], s["sku"], s["quantity"], s["tote"]) for s in f.job["stops"]]
    first, second = list(f.orders)
    walk = day("picker", 60)
    page = walk.page

    page.goto(f"{walk.url}/picking/")
    card = page.get_by_test_id(f"job-{job_id}")
    assert "2 order(s)" in card.inner_text() and "batch" in card.inner_text()
    walk.shot("pick-jobs")
    page.get_by_test_id(f"take-{job_id}").tap()
    page.wait_for_url(f"{walk.url}/picking/{job_id}")
    assert_focus_on(page, "tote")
    walk.shot("job-taken")
    scan(page, *(tote_of[number] for number in f.orders))
    page.get_by_test_id("pick-form").wait_for()
    walk.shot("totes-scanned")

    log = page.get_by_test_id("pick-log")
    picked = 0
    for number, (location, sku, quantity, tote) in enumerate(walk_plan, start=1):
        stop = page.get_by_test_id("current-stop")
        stop_id = stop.get_attribute("data-stop")
        assert (stop.get_attribute("data-location"), stop.get_attribute("data-sku"),
                stop.get_attribute("data-tote")) == (location, sku, tote)
        if page.input_value("[data-testid=pick-location]") != location:
            scan(page, location)
        assert_focus_on(page, "sku")
        key = sku.split("-", 1)[1]
        for _ in range(quantity):
            same_tote = page.input_value("[data-testid=pick-tote]") == tote
            scan(page, f.barcode[key])
            if same_tote:
                page.keyboard.press("Enter")
            else:
                scan(page, tote)
        picked += quantity
        log.locator("li.ok").nth(picked - 1).wait_for()
        if number < len(walk_plan):
            page.locator(f"[data-testid=current-stop]:not([data-stop='{stop_id}'])").wait_for()
        else:
            page.get_by_test_id("job-finished").wait_for()
        walk.shot(f"stop-{number}-picked")
    assert log.locator("li.error").count() == 0
    assert {number: order_status(app, number) for number in f.orders} == dict.fromkeys(f.orders, "PICKED")
    assert sorted(movements(app, type="pick", sku=f.sku["TEE"])) == sorted([
        ("pick", f.sku["TEE"], f.pick["TEE"], tote_of[first], 1, first),
        ("pick", f.sku["TEE"], f.pick["TEE"], tote_of[second], 1, second)])
    assert on_hand(app, f.sku["MUG"])[tote_of[first]] == 1

    # Pack the first order: its tote scanned, its items, a box, Pack and print, the label.
    page.goto(f"{walk.url}/packing/")
    assert_focus_on(page, "scan")
    walk.shot("packing")
    scan(page, tote_of[first])
    page.wait_for_url(f"{walk.url}/packing/{first}")
    assert_focus_on(page, "product")
    scan(page, f.barcode["MUG"], f.barcode["TEE"])
    page.get_by_test_id("scan-log").locator("li.ok").nth(1).wait_for()
    page.locator(f"[data-testid=box-row][data-sku={f.sku['TEE']}][data-units='1']").wait_for()
    assert {row.get_attribute("data-sku"): row.get_attribute("data-units")
            for row in page.get_by_test_id("box-row").all()} == {f.sku["MUG"]: "1", f.sku["TEE"]: "1"}
    page.get_by_test_id("box-size").select_option(BOX)
    page.get_by_test_id("pack-weight").fill("0.9")
    walk.shot("box-packed")
    page.get_by_test_id("pack-and-print").tap()
    page.wait_for_url(f"{walk.url}/order/{first}/label")
    page.locator("[data-testid=label-job][data-status=done]").wait_for(timeout=30_000)
    [shipment] = [o for o in sim_call(sim, "GET", "orders")["orders"] if o["order_number"] == first][0]["shipments"]
    assert shipment["tracking_numbers"][0] in page.get_by_test_id("tracking").inner_text()
    assert page.get_by_test_id("reprint").is_visible()
    pdf = page.request.get(f"{walk.url}/order/{first}/label/pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    walk.shot("label-ready")
    assert order_status(app, first) == "PACKED" and order_status(app, second) == "PICKED"
    assert ledger_is_clean(app)
