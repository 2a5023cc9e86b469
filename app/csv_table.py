"""Reading a CSV file strictly, before anything in it is imported: the shape of the file.

The header names known columns (the required ones at least, each once); every row has exactly the
header's number of fields; every quote that opens closes; no field is absurdly long; the file
holds at most a given number of rows. Each problem names its row (the header is row 1) and, when
it can, its column. An importer imports nothing from a file with any such problem, and checks
the values of a well-shaped file row by row with the same use cases as its page.

The one reader of the importers' files (products, pick face min/max, purchase orders), and the
one report of what an import found wrong: problems by row and field.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from app import bounds

MAX_FIELD = 2_000  # characters in any one field, far above every column's own bound


@dataclass(frozen=True)
class Problem:
    row: int  # the row's number in the file, the header being row 1
    field: str | None  # the column at fault, when there is one
    message: str


@dataclass
class Report:
    """What an import found wrong; each importer's report adds what it imported."""
    problems: list[Problem] = field(default_factory=list)
    structural: bool = False  # the file's shape was wrong: nothing was imported

    @property
    def imported(self) -> bool:
        """Whether anything was imported (each importer's report says what)."""
        return False

    def wrong_shape(self, table: Table) -> bool:
        """Whether the file's shape is wrong; if so, its problems are this report's (nothing is imported)."""
        if table.problems:
            self.problems, self.structural = list(table.problems), True
        return self.structural


@dataclass
class Table:
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, column -> value)
    problems: list[Problem] = field(default_factory=list)  # any: the file's shape is wrong


def read_table(text: str, *, columns: tuple[str, ...], required: tuple[str, ...] | None = None, max_rows: int,
               rows_are: str = "rows") -> Table:
    """The header and rows of CSV text, or the problems with its shape. `required` are the columns
    every file names (all of them when not given); `rows_are` names what a row is, for the message
    about too many ("purchase order lines")."""
    required = columns if required is None else required
    table = Table()
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    number = 0
    while True:
        start = reader.line_num + 1  # the physical line this record starts on
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            number += 1
            table.problems.append(_broken_quote(lines, start, number, table.header, error))
            break
        number += 1
        if number == 1:
            table.header = [name.strip().lower() for name in values]
            _check_header(table.header, columns, required, table.problems)
            if table.problems:
                break
            continue
        if not any(value.strip() for value in values):
            continue  # a blank line
        if len(table.rows) >= max_rows:
            table.problems.append(Problem(number, None, f"a file may hold at most {max_rows:,} {rows_are}; split it"))
            break
        _check_shape(number, values, table.header, table.problems)
        table.rows.append((number, dict(zip(table.header, values))))
    if number == 0:
        table.problems.append(Problem(1, None, f"the file is empty: {_header_wanted(columns, required)}"))
    return table


def _check_header(header: list[str], columns: tuple[str, ...], required: tuple[str, ...],
                  problems: list[Problem]) -> None:
    known = ", ".join(columns)
    missing = [name for name in required if name not in header]
    if missing:
        others = f", as {'is' if len(missing) == 2 else 'are'} {_and(missing[1:])}" if len(missing) > 1 else ""
        problems.append(Problem(1, missing[0], f"{_header_wanted(columns, required)}; {missing[0]} is missing{others}"))
    for position, name in enumerate(header):
        if name not in columns:
            problems.append(Problem(1, bounds.shown(name, 20) or f"column {position + 1}",
                                    f"column {position + 1} is {bounds.shown(name, 20)!r}, not one of {known}"))
        elif header.index(name) != position:
            problems.append(Problem(1, name, f"the column {name} is named twice"))


def _header_wanted(columns: tuple[str, ...], required: tuple[str, ...]) -> str:
    at_least = f" ({_and(required)} at least)" if tuple(required) != tuple(columns) else ""
    return f"the first row must name the columns {','.join(columns)}{at_least}"


def _and(names) -> str:
    """Names in words: a; a and b; a, b and c."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _check_shape(number: int, values: list[str], header: list[str], problems: list[Problem]) -> None:
    if len(values) > len(header):
        problems.append(Problem(
            number, None, f"{len(values)} fields but the header names {len(header)}: "
                          f"{len(values) - len(header)} too many after {header[-1]} (a comma inside a "
                          f"value needs the value in double quotes)"))
    elif len(values) < len(header):
        problems.append(Problem(
            number, header[len(values)], f"{len(values)} fields but the header names {len(header)}: "
                                         f"no value for {', '.join(header[len(values):])}"))
    for name, value in zip(header, values):
        if len(value) > MAX_FIELD:
            problems.append(Problem(number, name, f"{name} is {len(value):,} characters long"))


def _broken_quote(lines: list[str], start: int, number: int, header: list[str], error: csv.Error) -> Problem:
    """The problem of a record the csv reader could not read: most often a quote that never closes."""
    position = _open_quote_field(lines[start - 1] if 0 < start <= len(lines) else "")
    column = header[position] if header and position is not None and position < len(header) else None
    where = f" in {column}" if column else (f" in field {position + 1}" if position is not None else "")
    if "expected after" in str(error):
        message = f"text follows a closing quote{where} (line {start}): a quote must open and close a whole value"
    elif "unexpected end of data" in str(error):
        message = f"a quote opened{where} (line {start}) is never closed"
    else:
        message = f"the row cannot be read as CSV (line {start}): a quote must open and close a whole value"
    return Problem(number, column, message)


def _open_quote_field(line: str) -> int | None:
    """Which field of this physical line breaks the quoting (0-based): a quote left open at the end
    of the line, or text after a closing quote. None when the quoting is fine."""
    field_index, quoted, closed, at_start = 0, False, False, True
    index = 0
    while index < len(line):
        char = line[index]
        if quoted:
            if char == '"' and line[index + 1: index + 2] == '"':
                index += 1  # an escaped quote
            elif char == '"':
                quoted, closed = False, True
        elif char == ",":
            field_index, closed, at_start = field_index + 1, False, True
            index += 1
            continue
        elif char in "\r\n":
            break
        elif closed:
            return field_index  # text after the closing quote
        elif char == '"' and at_start:
            quoted = True
        at_start = False
        index += 1
    return field_index if quoted else None
