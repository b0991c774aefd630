"""Plain tables, CSV and Excel, read cell by cell as written and within the limits of `estate.limits`.

Nothing is coerced: every cell comes back as read (text for CSV; text, number, boolean or date
for Excel), and only a truly empty cell is blank. The words pandas would otherwise turn into
missing values (``NA``, ``None``, ``NULL``, ``N/A``, ...) stay text.

An Excel workbook is first checked as an archive (`estate.limits.check_archive`), then its
sheet is streamed cell by cell: the dimension the sheet claims (``A1:XFD1048576``, say) is not
trusted, only the cells really present count, and a cell beyond the row or column limit
refuses the file at once. Formula cells give their saved result; one with no saved result is
reported as a note naming the cell, not read silently as blank.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from estate import limits
from estate.errors import EstateDataWarning, EstateError, shown_value


@dataclass(frozen=True)
class FormulaCell:
    """A formula cell with no saved result (it reads as blank)."""

    row: int  # 1-based data row (the first row below the header is 1)
    column: str  # the header of its column, as in the file
    cell: str  # e.g. "C5"
    formula: str


# ---------------------------------------------------------------------- CSV
def read_csv(path: Path, source: str, *, encoding: str | None = None) -> pd.DataFrame:
    """Every cell as text; blank cells as ''. Refuses too many columns or rows.

    Tries `encoding` (from the mapping's ``[read]`` section) first, then UTF-8, then falls
    back to Windows-1252 with an `EstateDataWarning`.
    """
    rows = row_budget(_csv_width(path, source))
    encodings = [e for e in (encoding, "utf-8-sig") if e]
    for name in encodings:
        try:
            return _capped(_read_csv(path, name, rows), source)
        except UnicodeDecodeError:
            continue
    warnings.warn(
        f"{source}: not valid UTF-8; read as Windows-1252. Save it as UTF-8, or set "
        "`encoding` in the mapping's [read] section, to silence this.",
        EstateDataWarning,
        stacklevel=4,
    )
    return _capped(_read_csv(path, "cp1252", rows), source)


def _read_csv(path: Path, encoding: str, rows: int) -> pd.DataFrame:
    """At most `rows` + 1 rows: one more than allowed tells that there are too many."""
    return pd.read_csv(path, dtype=object, encoding=encoding, keep_default_na=False, nrows=rows + 1)


def _csv_width(path: Path, source: str) -> int:
    """Count the header's columns before pandas reads the file."""
    with path.open("rb") as stream:
        first = stream.readline(limits.MAX_HEADER_BYTES + 1)
    if len(first) > limits.MAX_HEADER_BYTES:
        msg = (
            f"{source}: the first (header) line is longer than {limits.MAX_HEADER_BYTES // 1024:,} KB; "
            "is this a CSV file with one row per line? Check its line endings."
        )
        raise EstateError(msg)
    fields = next(csv.reader([first.decode("utf-8", errors="replace")]), [])
    check_width(len(fields), source)
    return len(fields)


def check_width(columns: int, source: str) -> None:
    """Refuse a table wider than the column limit."""
    if columns > limits.MAX_COLUMNS:
        msg = (
            f"{source}: {columns:,} columns, more than the {limits.MAX_COLUMNS:,} allowed per table. "
            "Remove the columns you do not need (see docs/limits.md)."
        )
        raise EstateError(msg)


def _capped(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    check_shape(len(frame), len(frame.columns), source)
    return frame


def row_budget(columns: int) -> int:
    """Most data rows a table of `columns` columns may have: the row and the cell limits."""
    return min(limits.MAX_ROWS, limits.MAX_CELLS // max(columns, 1))


def check_shape(rows: int, columns: int, source: str) -> None:
    """Refuse a table with more rows, or more cells, than the limits allow."""
    if rows > limits.MAX_ROWS:
        raise EstateError(too_many_rows(source))
    if rows > row_budget(columns):
        msg = (
            f"{source}: more than {limits.MAX_CELLS:,} cells ({columns:,} columns, so at most "
            f"{row_budget(columns):,} rows), the limit per table. Remove the columns you do not "
            "need, or split the register (see docs/limits.md)."
        )
        raise EstateError(msg)


def too_many_rows(source: str) -> str:
    """The message for a table over the row limit."""
    return (
        f"{source}: more than {limits.MAX_ROWS:,} rows, the limit per table. Split the register "
        "(by area or partner) and load the parts separately (see docs/limits.md)."
    )


# ---------------------------------------------------------------------- Excel
def read_excel(
    path: Path, sheet: str | None, source: str, *, limit_mb: float | None = None
) -> tuple[pd.DataFrame, list[FormulaCell]]:
    """One sheet (the first if `sheet` is None) as a frame of cells, and its uncalculated formulas.

    The header is the first row with any value; data rows follow it, blank ones kept so that
    row numbers match the sheet (data row 1 is the row below the header). Trailing blank rows
    are dropped. Columns without a header are named ``Unnamed: i`` as pandas names them.

    Raises
    ------
    EstateError
        The workbook is not a valid archive, unpacks to too much, has no such sheet, or holds
        a cell beyond the row or column limit.

    """
    reason = limits.check_archive(path, source, limit_mb=limit_mb)
    if reason:
        raise EstateError(reason)
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        ws = _sheet(book, sheet, source)
        cells, formulas = _cells(ws, source)
        if not cells:
            msg = (
                f"{source}: sheet {ws.title!r} is empty. Put the register in the first sheet, or "
                "name its sheet (CLI: --layer TABLE=NAME)."
            )
            raise EstateError(msg)
    finally:
        book.close()
    return _frame(cells, formulas, source)


def _sheet(book: Any, sheet: str | None, source: str) -> Any:
    if sheet is None:
        if not book.worksheets:
            msg = f"{source}: the workbook has no worksheet."
            raise EstateError(msg)
        return book.worksheets[0]
    if sheet not in book.sheetnames:
        msg = f"{source}: no sheet {sheet!r}. Sheets in the file: {', '.join(book.sheetnames)}."
        raise EstateError(msg)
    return book[sheet]


def _cells(ws: Any, source: str) -> tuple[dict[int, dict[int, object]], dict[tuple[int, int], str]]:
    """{sheet row: {column: value}} of the cells present, and {(row, column): formula} of those
    formulas that have no saved result. Stops at the first cell beyond the limits."""
    from openpyxl.utils import get_column_letter

    rows: dict[int, dict[int, object]] = {}
    formulas: dict[tuple[int, int], str] = {}
    header_row = stored = 0
    for cell in _present_cells(ws):
        value = cell["value"]
        formula = cell.get("formula")
        if value is None or value == "":
            if formula is None:
                continue
            value = None
        r, c = cell["row"], cell["column"]
        shown = formula if value is None else value
        if c > limits.MAX_COLUMNS:
            msg = (
                f"{source}: cell {get_column_letter(c)}{r} holds {shown_value(shown)}, beyond column "
                f"{get_column_letter(limits.MAX_COLUMNS)}; at most {limits.MAX_COLUMNS:,} columns are read per "
                "table. Delete that cell (and any others right of it) and save again."
            )
            raise EstateError(msg)
        header_row = header_row or r
        if r - header_row > limits.MAX_ROWS:
            msg = (
                f"{source}: cell {get_column_letter(c)}{r} holds {shown_value(shown)}, more than "
                f"{limits.MAX_ROWS:,} rows below the header (row {header_row}), the limit per table. "
                "Delete that cell (and any others below it) and save again, or split the register."
            )
            raise EstateError(msg)
        rows.setdefault(r, {})[c] = value
        stored += 1
        if stored > limits.MAX_CELLS:
            msg = (
                f"{source}: more than {limits.MAX_CELLS:,} filled cells, the limit per table. Remove "
                "the columns you do not need, or split the register (see docs/limits.md)."
            )
            raise EstateError(msg)
        if value is None:
            formulas[(r, c)] = str(formula)
    return rows, formulas


def _present_cells(ws: Any) -> Iterator[dict[str, Any]]:
    """The cells really in the sheet's XML, with their saved values and formula text.

    `openpyxl`'s own row iterator pads every row to the widest one and every gap between rows,
    which a sheet with one far cell turns into billions of empty cells; its parser yields only
    what is there.
    """
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class _Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)  # data_only: the saved result, or None
            formula = element.find(FORMULA_TAG)
            if formula is not None:
                cell["formula"] = "=" + (formula.text or "")
            return cell

    book = ws.parent
    with book._archive.open(ws._worksheet_path) as source:
        parser = _Parser(
            source,
            ws._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for _row, cells in parser.parse():
            yield from cells


def _frame(
    rows: dict[int, dict[int, object]], formulas: dict[tuple[int, int], str], source: str
) -> tuple[pd.DataFrame, list[FormulaCell]]:
    from openpyxl.utils import get_column_letter

    header_row, last_row = min(rows), max(rows)
    width = max(max(cells) for cells in rows.values())
    check_shape(last_row - header_row, width, source)
    header = rows[header_row]
    names = _unique_names([header.get(c) for c in range(1, width + 1)])
    data = [
        [rows.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(header_row + 1, last_row + 1)
    ]
    frame = pd.DataFrame(data, columns=names, dtype=object)
    notes = [
        FormulaCell(r - header_row, names[c - 1], f"{get_column_letter(c)}{r}", text)
        for (r, c), text in sorted(formulas.items())
        if r > header_row
    ]
    return frame, notes


def _unique_names(header: list[object]) -> list[str]:
    """Header cells as column names, the way pandas names them (``Unnamed: 3``, ``x.1``)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(header):
        name = f"Unnamed: {i}" if value is None or not str(value).strip() else str(value)
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names
