"""A CSV import page (products, pick face min/max, purchase orders): the upload form, the file
(or the rows pasted in its place) read as text, and what the importer reports.

An upload is refused in words: a file that is not UTF-8 text, or nothing to import, here (400);
a request larger than MAX_CONTENT_LENGTH, by Flask before it gets here (413, app.errors_web).
"""
from __future__ import annotations

from typing import Callable

from flask import render_template, request

from app.csv_table import Report
from app.errors import ValidationFailed


def uploaded_text() -> str:
    """The form's CSV file as text, or else its pasted rows (`text`); a byte-order mark is dropped."""
    upload = request.files.get("file")
    raw = upload.read() if upload and upload.filename else request.form.get("text", "").encode()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the file is not UTF-8 text (save it as CSV UTF-8)", field="file") from None
    if not text.strip():
        raise ValidationFailed("choose a CSV file or paste its rows", field="file")
    return text


def import_page(template: str, run: Callable[[str], Report], **context):
    """GET: the page with its form. POST: the upload given to `run` (the importer, taking the text)
    and the page with its report: 400 when the upload is refused or nothing in it was imported."""
    context = {"report": None, "error": None, **context}
    if request.method == "GET":
        return render_template(template, **context)
    try:
        text = uploaded_text()
    except ValidationFailed as error:
        return render_template(template, **{**context, "error": error.message}), 400
    report = run(text)
    status = 400 if report.problems and not report.imported else 200
    return render_template(template, **{**context, "report": report}), status
