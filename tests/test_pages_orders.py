"""The orders pages: the live dashboard, one order, failed events and discrepancies."""
from __future__ import annotations

import pytest

from tests import orders_data as data


def text(response) -> str:
    return response.get_data(as_text=True)


# ---- the dashboard -------------------------------------------------------------------------


def test_picker_sees_orders_and_counts_by_status(picker):
    data.add_order("SO-1", customer="Ada Lovelace")
    data.add_order("SO-2", status="SHIPPED", customer="Grace Hopper")
    response = picker.get("/orders/")
    assert response.status_code == 200
    page = text(response)
    assert "SO-1" in page and "SO-2" in page
    assert 'data-testid="count-PENDING">1<' in page
    assert 'data-testid="count-SHIPPED">1<' in page
    assert 'hx-trigger="every 2s"' in page


def test_search_finds_orders_by_number_reference_or_customer(picker):
    data.add_order("SO-ALPHA", reference="WEB-555", customer="Ada Lovelace")
    data.add_order("SO-BETA", reference="WEB-777", customer="Grace Hopper")
    for query in ("alpha", "web-555", "lovelace"):
        page = text(picker.get("/orders/live", query_string={"q": query}))
        assert "SO-ALPHA" in page and "SO-BETA" not in page, query


def test_filters_by_status_and_unknown_skus(picker):
    data.add_order("SO-1")
    data.add_order("SO-2", status="SHIPPED")
    data.add_order("SO-3", lines=(("GHOST", 1),), unknown=("GHOST",))
    shipped = text(picker.get("/orders/live?status=shipped"))
    assert "SO-2" in shipped and "SO-1" not in shipped
    unknown = text(picker.get("/orders/live?unknown=1"))
    assert "SO-3" in unknown and "SO-1" not in unknown and "unknown SKU" in unknown


def test_the_list_is_paged_newest_first(picker):
    for n in range(30):
        data.add_order(f"SO-{n:03}")
    first = text(picker.get("/orders/live"))
    assert "SO-029" in first and "SO-005" in first and "SO-004" not in first and "Page 1 of 2" in first
    second = text(picker.get("/orders/live?page=2"))
    assert "SO-004" in second and "SO-000" in second and "SO-029" not in second


def test_the_live_partial_is_only_counts_and_list(picker):
    data.add_order("SO-1")
    response = picker.get("/orders/live?q=SO", headers={"HX-Request": "true", "HX-Trigger": "order-filters"})
    page = text(response)
    assert "<html" not in page and "SO-1" in page and 'name="q"' not in page
    assert response.headers["HX-Replace-Url"] == "/orders/?q=SO"
    polled = picker.get("/orders/live?q=SO", headers={"HX-Request": "true", "HX-Trigger": "order-live"})
    assert "HX-Replace-Url" not in polled.headers


@pytest.mark.parametrize("query", ["status=LOST", "page=0", "page=abc", "warehouse=NOPE"])
def test_nonsense_filters_are_a_400_on_the_page(picker, query):
    for path in ("/orders/", "/orders/live"):
        response = picker.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert 'data-testid="flash-error"' in text(response)


def test_sign_in_is_needed_for_the_dashboard(client):
    assert client.get("/orders/").status_code == 302
    assert client.get("/orders/live", headers={"HX-Request": "true"}).status_code == 401


# ---- one order -----------------------------------------------------------------------------


def test_order_page_shows_lines_ordered_allocated_picked_shipped(picker):
    data.stocked_order("SO-100")
    response = picker.get("/order/SO-100")
    assert response.status_code == 200
    page = text(response)
    row = page.split('data-sku="WIDGET"', 1)[1].split("</tr>", 1)[0]
    figures = [cell.split(">")[-1] for cell in row.split("</td>")[2:6]]
    assert figures == ["5", "2", "1", "1"]  # ordered, allocated, picked, shipped
    assert "777" in page and "REF-9" in page and "Grace Hopper" in page and "TRK123" in page and "NZ Post" in page
    assert 'data-testid="unknown-sku"' in page and 'data-sku="MYSTERY"' in page
    assert "Order received from Starshipit" in page and "SKU MYSTERY is not in the catalogue" in page
    movements = page.split('data-testid="order-movements"', 1)[1]
    assert "shipment" in movements and "pick" in movements and "receipt" not in movements


def test_order_page_answers_404_for_an_unknown_order(picker):
    response = picker.get("/order/NOPE-1")
    assert response.status_code == 404
    assert "no order NOPE-1" in text(response)


def test_order_numbers_with_slashes_have_a_page(picker):
    data.add_order("WEB/2026/1")
    assert picker.get("/order/WEB/2026/1").status_code == 200


# ---- failed events -------------------------------------------------------------------------


def test_manager_sees_failed_events_with_payload_and_error(manager):
    failed = data.add_event("evt-1", payload={"event": "order_created", "order": {"order_number": "SO-1", "items": []}})
    data.add_event("evt-2", status="processed")
    page = text(manager.get("/orders/failed-events"))
    assert f'id="event-{failed}"' in page and "boom: no such warehouse" in page
    assert "evt-2" not in page and page.count('data-testid="failed-event"') == 1
    assert "&#34;order_number&#34;: &#34;SO-1&#34;" in page  # pretty JSON, escaped
    assert "<details>" in page


def test_a_payload_that_is_not_json_is_shown_as_it_came(manager):
    data.add_event("evt-raw", payload="<<not json>>")
    assert "&lt;&lt;not json&gt;&gt;" in text(manager.get("/orders/failed-events"))


def test_manager_dismisses_a_failed_event(manager):
    event_id = data.add_event("evt-1")
    response = manager.post(f"/orders/failed-events/{event_id}/dismiss", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "dismissed" in text(response)
    assert data.event(event_id).status == "ignored"
    again = manager.post(f"/orders/failed-events/{event_id}/dismiss", headers={"HX-Request": "true"})
    assert again.status_code == 409 and again.headers["HX-Retarget"] == "#flash"


def test_manager_retries_a_failed_event_and_it_is_processed_again(manager):
    event_id = data.add_event(
        "evt-retry", event_type="order_deleted", order_number="SO-GONE",
        payload={"event": "order_deleted", "event_id": "evt-retry", "occurred_at": "2026-01-01T00:00:00Z",
                 "order": {"order_id": 5, "order_number": "SO-GONE", "items": []}},
    )
    response = manager.post(f"/orders/failed-events/{event_id}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "queued again" in text(response)
    event = data.event(event_id)
    assert event.status != "failed" and event.attempts <= 1  # no Redis: applied in-process right away


def test_retrying_an_unknown_or_processed_event_changes_nothing(manager):
    processed = data.add_event("evt-ok", status="processed")
    assert manager.post("/orders/failed-events/999/retry").status_code == 404
    assert manager.post(f"/orders/failed-events/{processed}/retry").status_code == 409
    assert data.event(processed).status == "processed"


def test_pickers_cannot_see_or_act_on_failed_events(picker):
    event_id = data.add_event("evt-1")
    assert picker.get("/orders/failed-events").status_code == 403
    assert picker.post(f"/orders/failed-events/{event_id}/retry").status_code == 403
    assert picker.post(f"/orders/failed-events/{event_id}/dismiss", headers={"HX-Request": "true"}).status_code == 403
    assert data.event(event_id).status == "failed"


# ---- discrepancies -------------------------------------------------------------------------


def test_manager_sees_open_discrepancies_linked_to_their_order(manager):
    data.add_order("SO-100")
    open_id = data.add_discrepancy("WIDGET", quantity=3, reference="SO-100")
    data.add_discrepancy("OLD", status="resolved", reference="SO-5")
    page = text(manager.get("/orders/discrepancies"))
    assert f'id="discrepancy-{open_id}"' in page and 'href="/order/SO-100"' in page and "shortfall" in page
    assert "OLD" not in page
    resolved = text(manager.get("/orders/discrepancies?status=resolved"))
    assert "OLD" in resolved and "WIDGET" not in resolved
    everything = text(manager.get("/orders/discrepancies?status="))
    assert "OLD" in everything and "WIDGET" in everything


def test_manager_resolves_a_discrepancy_with_a_note(manager):
    item_id = data.add_discrepancy()
    response = manager.post(f"/orders/discrepancies/{item_id}/resolve", data={"note": "counted again: fine"},
                            headers={"HX-Request": "true"})
    assert response.status_code == 200 and "counted again: fine" in text(response) and "manager" in text(response)
    item = data.discrepancy(item_id)
    assert item.status == "resolved" and item.note == "counted again: fine"
    assert item.resolved_by is not None and item.resolved_at is not None


def test_resolving_with_a_stock_correction_posts_an_adjustment(manager):
    data.stocked_order("SO-100")
    item_id = data.add_discrepancy("WIDGET", quantity=3)
    response = manager.post(f"/orders/discrepancies/{item_id}/resolve",
                            data={"note": "found 3 behind the shelf", "location": "A-01", "quantity": "3"})
    assert response.status_code == 302
    (movement,) = data.movements(f"discrepancy-{item_id}")
    assert movement.type == "adjustment" and movement.quantity == 3 and movement.reason == "correction"
    assert data.discrepancy(item_id).status == "resolved"


@pytest.mark.parametrize(
    "form, status",
    [
        ({"note": ""}, 400),
        ({"note": "x" * 1001}, 400),
        ({"note": "fixed", "location": "A-01"}, 400),
        ({"note": "fixed", "location": "NOWHERE", "quantity": "3"}, 404),
        ({"note": "fixed", "location": "A-01", "quantity": "lots"}, 400),
        ({"note": "fixed", "location": "A-01", "quantity": "-50"}, 409),
    ],
)
def test_a_bad_resolution_changes_nothing(manager, form, status):
    data.stocked_order("SO-100")
    item_id = data.add_discrepancy("WIDGET")
    response = manager.post(f"/orders/discrepancies/{item_id}/resolve", data=form, headers={"HX-Request": "true"})
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#flash"
    assert data.discrepancy(item_id).status == "open"
    assert data.movements(f"discrepancy-{item_id}") == []


def test_a_discrepancy_is_resolved_only_once(manager):
    item_id = data.add_discrepancy(status="resolved")
    assert manager.post(f"/orders/discrepancies/{item_id}/resolve", data={"note": "again"}).status_code == 409
    assert manager.post("/orders/discrepancies/999/resolve", data={"note": "x"}).status_code == 404


def test_an_unknown_discrepancy_filter_is_a_400(manager):
    assert manager.get("/orders/discrepancies?status=closed").status_code == 400


def test_pickers_cannot_see_or_resolve_discrepancies(picker):
    item_id = data.add_discrepancy()
    assert picker.get("/orders/discrepancies").status_code == 403
    response = picker.post(f"/orders/discrepancies/{item_id}/resolve", data={"note": "mine"})
    assert response.status_code == 403
    assert data.discrepancy(item_id).status == "open"


def test_navigation_shows_manager_pages_only_to_managers(picker, manager):
    home = text(picker.get("/"))
    assert "/orders/" in home and "/orders/discrepancies" not in home and "/orders/failed-events" not in home
    home = text(manager.get("/"))
    assert "/orders/discrepancies" in home and "/orders/failed-events" in home and "/admin/settings" in home


def test_actions_need_the_csrf_token_when_csrf_is_on(sqlite_url):
    from tests.conftest import PASSWORD, _seed_basics, make_app

    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed_basics()
        item_id = data.add_discrepancy()
    client = app.test_client()
    page = client.get("/login")
    token = text(page).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token})
    refused = client.post(f"/orders/discrepancies/{item_id}/resolve", data={"note": "no token"})
    assert refused.status_code == 400
    with app.app_context():
        assert data.discrepancy(item_id).status == "open"
    accepted = client.post(f"/orders/discrepancies/{item_id}/resolve", data={"note": "with the page's token"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 200
    app.extensions["wms.engine"].dispose()


def test_with_two_warehouses_the_list_filters_by_warehouse(picker):
    from app import db
    from app.warehouses import create_warehouse

    db.atomic(create_warehouse, code="NORTH", name="North")
    data.add_order("SO-MAIN")
    data.add_order("SO-NORTH", warehouse="NORTH")
    page = text(picker.get("/orders/"))
    assert 'name="warehouse"' in page and "<th>Warehouse</th>" in page
    north = text(picker.get("/orders/live?warehouse=north"))
    assert "SO-NORTH" in north and "SO-MAIN" not in north
    assert 'data-testid="count-PENDING">1<' in north


def test_search_counts_and_line_figures_on_sqlite_and_postgres(any_db_app):
    from tests.conftest import sign_in

    data.stocked_order("SO-100")
    data.add_order("SO-200", customer="Ada Lovelace", lines=(("GHOST", 1),), unknown=("GHOST",))
    client = sign_in(any_db_app.test_client(), "picker")
    found = text(client.get("/orders/live?q=LOVELACE&unknown=1"))
    assert "SO-200" in found and "SO-100" not in found
    assert 'data-testid="count-PARTIALLY_SHIPPED">1<' in found
    assert "SO-100" in text(client.get("/orders/live?q=hopper"))
    page = text(client.get("/order/SO-100"))
    row = page.split('data-sku="WIDGET"', 1)[1].split("</tr>", 1)[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[2:6]] == ["5", "2", "1", "1"]
