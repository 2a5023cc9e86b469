"""CSV import is strict: a file whose shape is wrong imports nothing and the report names each row
and field at fault; a row with a bad value is reported with its field and skipped."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from app import db
from app.models import Product
from app.product_import import import_products_csv

HEADER = "sku,name,barcodes,weight\n"


def products() -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Product)).one()


def run(text: str):
    return db.atomic(import_products_csv, text)


@pytest.mark.parametrize(
    "rows, row, field, words",
    [
        ('A-1,Fine,,1\nA-2,"Unclosed quote,,2\nA-3,Fine,,3\n', 3, "name", "quote opened in name (line 3) is never closed"),
        ("A-1,Fine,,1\nA-2,Too,many,2,fields\n", 3, None, "5 fields but the header names 4: 1 too many after weight"),
        ("A-1,Fine,,1\nA-2,Too few\n", 3, "barcodes", "no value for barcodes, weight"),
        ('A-1,Fine,,1\nA-2,"Closed" then text,,2\n', 3, "name", "text follows a closing quote in name"),
    ],
)
def test_a_structural_problem_imports_nothing_and_names_the_row_and_field(any_db_app, rows, row, field, words):
    report = run(HEADER + rows)
    assert report.structural and not report.imported
    assert [(p.row, p.field) for p in report.problems] == [(row, field)]
    assert words in report.problems[0].message
    assert products() == 0


@pytest.mark.parametrize(
    "header, words",
    [("code,title\n", "sku is missing"), ("sku,name,colour\n", "column 3 is 'colour'"), ("sku,name,name\n", "named twice")],
)
def test_a_wrong_header_imports_nothing(any_db_app, header, words):
    report = run(header + "A-1,Fine,x\n")
    assert report.structural and words in report.problems[0].message and report.problems[0].row == 1
    assert products() == 0


@pytest.mark.parametrize(
    "value, words",
    [("inf", "weight must be a number"), ("nan", "weight must be a number"), ("-1", "from 0 to 100,000 kg"),
     ("1e400", "weight must be a number"), ("100001", "from 0 to 100,000 kg")],
)
def test_a_weight_of_inf_nan_or_out_of_range_is_a_row_error_on_the_weight(any_db_app, value, words):
    report = run(HEADER + f"A-1,Fine,,1\nA-2,Bad weight,,{value}\nA-3,Fine,,3\n")
    assert not report.structural and (report.created, report.updated) == (2, 0)
    assert [(p.row, p.field) for p in report.problems] == [(3, "weight")]
    assert words in report.problems[0].message
    assert products() == 2


def test_over_long_fields_are_row_errors_naming_the_field_and_never_echoed_whole(any_db_app):
    long_name, long_sku = "N" * 301, "S" * 65
    report = run(HEADER + f"A-1,{long_name},,\n{long_sku},Fine,,\nA-3,Fine,{'B' * 129},\n")
    assert [(p.row, p.field) for p in report.problems] == [(2, "name"), (3, "sku"), (4, "barcodes")]
    assert all(len(p.message) < 120 for p in report.problems)
    assert products() == 0


def test_a_field_far_past_any_bound_is_a_structural_problem(any_db_app):
    report = run(HEADER + f"A-1,{'x' * 5000},,\n")
    assert report.structural and report.problems[0].field == "name"
    assert products() == 0


def test_a_sku_twice_in_one_file_is_refused_on_the_later_row(any_db_app):
    report = run(HEADER + "A-1,First,,\na-1,Second,,\n")
    assert (report.created, [(p.row, p.field) for p in report.problems]) == (1, [(3, "sku")])
    assert "also on row 2" in report.problems[0].message


def test_blank_lines_quoted_commas_and_inch_marks_are_fine(any_db_app):
    report = run(HEADER + '\nA-1,"Widget, blue",123|456,0.5\n\nA-2,12" ruler,,\n')
    assert (report.created, report.problems) == (2, [])


def tolerances() -> dict[str, int | None]:
    with db.reading() as session:
        return {p.sku: p.receive_tolerance_percent for p in session.exec(select(Product))}


def test_the_receive_tolerance_column_sets_changes_and_clears_a_products_tolerance(any_db_app):
    header = "sku,name,receive_tolerance_percent\n"
    report = run(header + "A-1,Widget,10\nA-2,Gadget,\nA-3,Gizmo, 100 \n")
    assert (report.created, report.problems) == (3, [])
    assert tolerances() == {"A-1": 10, "A-2": None, "A-3": 100}
    report = run(header + "A-1,Widget,0\nA-3,Gizmo,\n")
    assert (report.updated, report.problems) == (2, [])
    assert tolerances() == {"A-1": 0, "A-2": None, "A-3": None}


def test_a_file_without_the_tolerance_column_keeps_each_products_own(any_db_app):
    run("sku,name,receive_tolerance_percent\nA-1,Widget,25\n")
    report = run(HEADER + "A-1,Renamed,,1\nA-2,New,,\n")
    assert (report.created, report.updated, report.problems) == (1, 1, [])
    assert tolerances() == {"A-1": 25, "A-2": None}


@pytest.mark.parametrize(
    "value, words",
    [("101", "from 0 to 100"), ("-1", "from 0 to 100"), ("2.5", "must be a whole number"),
     ("ten", "must be a whole number"), ("9223372036854775807", "from 0 to 100")],
)
def test_a_bad_tolerance_skips_only_its_row_naming_the_row_and_field(any_db_app, value, words):
    run("sku,name,receive_tolerance_percent\nA-2,Kept,5\n")
    rows = f"A-1,Fine,10\nA-2,Bad,{value}\nA-3,Bad too,{value}\nA-4,Fine,\n"
    report = run("sku,name,receive_tolerance_percent\n" + rows)
    assert not report.structural and (report.created, report.updated) == (2, 0)
    assert [(p.row, p.field) for p in report.problems] == [(3, "receive_tolerance_percent"),
                                                           (4, "receive_tolerance_percent")]
    assert all(words in p.message and "over-receipt tolerance (%)" in p.message for p in report.problems)
    assert tolerances() == {"A-1": 10, "A-2": 5, "A-4": None}
