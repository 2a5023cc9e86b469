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
