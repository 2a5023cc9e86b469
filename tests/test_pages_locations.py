"""The locations pages: filtered list for everyone; create, edit, labels and warehouses for managers."""
import re

from sqlalchemy import func
from sqlmodel import select

from app import db
from app.models import Location, Warehouse
from app.warehouses import create_location, find_location, get_warehouse

HTMX = {"HX-Request": "true"}


def add_bins():
    def build(session):
        site = get_warehouse(session)
        for code, kind, zone in (("A-01", "storage", "A"), ("A-02", "pick", "A"), ("B-01", "storage", "B")):
            create_location(session, warehouse=site, code=code, type=kind, zone=zone)

    db.atomic(build)


def location(code):
    with db.reading() as session:
        return find_location(session, get_warehouse(session).id, code)


def location_count() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Location)).one()


def codes_in(html: str) -> list[str]:
    return re.findall(r"<strong>([A-Z]-\d\d)</strong>", html)


def test_picker_lists_locations_filtered_by_zone_type_and_code(app, picker):
    add_bins()
    assert codes_in(picker.get("/locations/").get_data(as_text=True)) == ["A-01", "A-02", "B-01"]
    assert codes_in(picker.get("/locations/?zone=a").get_data(as_text=True)) == ["A-01", "A-02"]
    assert codes_in(picker.get("/locations/?type=pick").get_data(as_text=True)) == ["A-02"]
    assert codes_in(picker.get("/locations/?q=B-").get_data(as_text=True)) == ["B-01"]


def test_virtual_locations_are_not_listed(app, picker):
    assert "@ADJUSTMENT" not in picker.get("/locations/").get_data(as_text=True)


def test_the_filter_answers_htmx_with_the_results_only(app, picker):
    add_bins()
    html = picker.get("/locations/?zone=B", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and codes_in(html) == ["B-01"]


def test_an_unknown_type_filter_is_400(app, picker):
    response = picker.get("/locations/?type=cupboard")
    assert response.status_code == 400
    assert "type must be one of" in response.get_data(as_text=True)


def test_manager_creates_a_location(app, manager):
    response = manager.post(
        "/locations/new", data={"warehouse": "MAIN", "code": "c-07", "type": "pick", "zone": "c", "pick_sequence": "70"}
    )
    assert response.status_code == 302
    made = location("C-07")
    assert (made.type, made.zone, made.pick_sequence, made.barcode) == ("pick", "C", 70, "C-07")


def test_bad_location_input_is_4xx_on_the_page_and_nothing_is_added(app, manager):
    add_bins()
    before = location_count()
    cases = [
        ({"code": "A-01", "type": "storage"}, 409, "already uses that code"),
        ({"code": "Z-01", "type": "cupboard"}, 400, "location type must be one of"),
        ({"code": "Z-01", "type": "storage", "pick_sequence": "first"}, 400, "pick sequence must be a whole number"),
        ({"code": "", "type": "storage"}, 400, "location code is required"),
        ({"code": "Z-01", "type": "storage", "pick_sequence": "99999999999999999999"}, 400,
         "pick sequence must be a whole number from 0 to 2,000,000,000"),
        ({"code": "Z-01", "type": "storage", "pick_sequence": "-1"}, 400, "pick sequence must be a whole number from 0"),
        ({"code": "Z" * 65, "type": "storage"}, 400, "at most 64 are allowed"),
        ({"code": "@X", "type": "storage"}, 400, "cannot start with @"),
    ]
    for data, status, message in cases:
        response = manager.post("/locations/new", data=data)
        assert response.status_code == status, data
        assert message in response.get_data(as_text=True), data
    assert location_count() == before


def test_manager_edits_a_location_and_can_deactivate_it(app, manager):
    add_bins()
    bin_id = location("A-01").id
    assert "A-01" in manager.get(f"/locations/{bin_id}/edit").get_data(as_text=True)
    response = manager.post(
        f"/locations/{bin_id}/edit", data={"code": "A-01", "type": "storage", "zone": "A", "barcode": "LOC-A01", "pick_sequence": "5"}
    )
    assert response.status_code == 302
    with db.reading() as session:
        changed = session.get(Location, bin_id)
        assert (changed.barcode, changed.pick_sequence, changed.active) == ("LOC-A01", 5, False)


def test_editing_to_a_taken_code_is_409_and_changes_nothing(app, manager):
    add_bins()
    bin_id = location("A-01").id
    response = manager.post(f"/locations/{bin_id}/edit", data={"code": "B-01", "type": "storage", "active": "1"})
    assert response.status_code == 409
    with db.reading() as session:
        assert session.get(Location, bin_id).code == "A-01"


def test_editing_a_virtual_or_missing_location_is_404(app, manager):
    with db.reading() as session:
        virtual = session.exec(select(Location).where(Location.code == "@ADJUSTMENT")).first()
    assert manager.get(f"/locations/{virtual.id}/edit").status_code == 404
    assert manager.get("/locations/99999/edit").status_code == 404


def test_labels_print_one_barcode_per_location_of_the_zone(app, manager):
    add_bins()
    html = manager.get("/locations/labels?zone=A").get_data(as_text=True)
    assert html.count('data-testid="label"') == 2
    assert html.count("<svg") == 2
    assert 'aria-label="Barcode A-01"' in html and 'aria-label="Barcode A-02"' in html
    assert "B-01" not in html


def test_labels_for_an_unknown_zone_are_404(app, manager):
    add_bins()
    response = manager.get("/locations/labels?zone=Q")
    assert response.status_code == 404
    assert "no zone Q" in response.get_data(as_text=True)


def test_manager_adds_a_warehouse_and_makes_it_the_default(app, manager):
    response = manager.post("/locations/warehouses", data={"code": "north", "name": "North site"})
    assert response.status_code == 302
    response = manager.post("/locations/warehouses/NORTH/default")
    assert response.status_code == 302
    with db.reading() as session:
        assert get_warehouse(session).code == "NORTH"
    html = manager.get("/locations/warehouses").get_data(as_text=True)
    assert "NORTH is now the default warehouse." in html


def test_a_duplicate_or_unnamed_warehouse_is_refused(app, manager):
    assert manager.post("/locations/warehouses", data={"code": "MAIN", "name": "Again"}).status_code == 409
    assert manager.post("/locations/warehouses", data={"code": "X", "name": ""}).status_code == 400
    assert manager.post("/locations/warehouses/NOPE/default").status_code == 404
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Warehouse)).one() == 1
        assert get_warehouse(session).code == "MAIN"


def test_picker_may_look_but_not_change_locations(app, picker):
    add_bins()
    bin_id = location("A-01").id
    before = location_count()
    for path in ("/locations/new", f"/locations/{bin_id}/edit", "/locations/labels?zone=A", "/locations/warehouses"):
        assert picker.get(path).status_code == 403, path
        assert picker.get(path, headers=HTMX).status_code == 403, path
    assert picker.post("/locations/new", data={"code": "Z-09", "type": "storage"}).status_code == 403
    assert picker.post("/locations/warehouses", data={"code": "X", "name": "Y"}).status_code == 403
    assert picker.post("/locations/warehouses/MAIN/default").status_code == 403
    assert location_count() == before


def add_many_bins():
    """60 locations: 30 in zone A, 25 in zone B, 5 without a zone."""
    def build(session):
        site = get_warehouse(session)
        for n in range(30):
            create_location(session, warehouse=site, code=f"A-{n:02d}", type="pick" if n < 3 else "storage", zone="A",
                            pick_sequence=n)
        for n in range(25):
            create_location(session, warehouse=site, code=f"B-{n:02d}", type="storage", zone="B")
        for n in range(5):
            create_location(session, warehouse=site, code=f"X-{n:02d}", type="receiving")

    db.atomic(build)


def test_more_than_a_page_of_locations_opens_on_its_zones_folded_with_their_counts(app, picker):
    add_many_bins()
    html = picker.get("/locations/").get_data(as_text=True)
    assert codes_in(html) == []  # no location listed until a zone is opened or a search made
    zones = re.findall(r'data-zone="([^"]+)"', html)
    counts = re.findall(r'data-testid="zone-count">([\d,]+)<', html)
    assert list(zip(zones, counts)) == [("A", "30"), ("B", "25"), ("-", "5")]
    assert "27 storage · 3 pick" in html
    assert 'data-testid="location-search"' in html.split('data-testid="zones"')[0]  # search comes first


def test_opening_a_folded_zone_shows_its_first_locations_and_a_way_to_all(app, picker):
    add_many_bins()
    html = picker.get("/locations/?zone=A&peek=1", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html
    assert codes_in(html) == [f"A-{n:02d}" for n in range(20)]
    assert 'data-testid="zone-all"' in html and "All 30 in zone A" in html
    without = picker.get("/locations/?zone=-&peek=1", headers=HTMX).get_data(as_text=True)
    assert codes_in(without) == [f"X-{n:02d}" for n in range(5)] and "zone-all" not in without


def test_a_zone_pages_through_its_locations_and_a_search_lists_under_zone_headings(app, picker):
    add_many_bins()
    assert len(codes_in(picker.get("/locations/?zone=A").get_data(as_text=True))) == 30
    html = picker.get("/locations/?q=-").get_data(as_text=True)  # every code has a dash: all 60
    assert len(codes_in(html)) == 50 and "page=2" in html
    assert "<h2>Zone A</h2>" in html and "<h2>Zone B</h2>" in html and "<h2>No zone</h2>" not in html
    second = picker.get("/locations/?q=-&page=2").get_data(as_text=True)
    assert codes_in(second) == [f"B-{n:02d}" for n in range(20, 25)] + [f"X-{n:02d}" for n in range(5)]
    assert "<h2>Zone B</h2>" in second and "<h2>No zone</h2>" in second  # locations without a zone come last
