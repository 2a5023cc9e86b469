"""Imports run one way: entrypoints and jobs import the use cases; nothing in app/ imports jobs/
(a job is enqueued by its dotted name through app.tasks, which imports it only when it runs)."""
from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_in_app_imports_jobs():
    offenders = sorted(
        f"{path.relative_to(APP.parent)} imports {name}"
        for path in APP.rglob("*.py")
        for name in imported_modules(path)
        if name == "jobs" or name.startswith("jobs.")
    )
    assert offenders == []
