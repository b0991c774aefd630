"""Text cells a spreadsheet will not run: the one escaping rule for every file we write. No Streamlit.

A spreadsheet that opens a CSV (or an HTML table) treats a cell starting with ``=``, ``+``,
``-`` or ``@`` as a formula, and some also act on a leading tab, carriage return or line feed
(OWASP, "CSV injection"). A building called ``=HYPERLINK("http://x","y")`` would become a
live link in an estates officer's copy of the disposal list. So every text cell we write goes
through `inert_text`: if the text, after any apostrophes it already starts with, begins with
one of `ACTIVE`, one apostrophe is put in front. Numbers are never touched: the rule applies
to text (``str``) values only, so a numeric column such as ``running_cost_gbp = -2.5`` stays
a number.

The rule is reversible: `original_text` takes the apostrophe off again. Anyone reading our
files back and comparing names must use it (IDs never need it: they match ``[A-Za-z0-9_]+``).

`csv_text` and `excel_bytes` are the only CSV and Excel writers; `inert_frame` is what the
GeoPackage and the board pack use.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

ACTIVE = ("=", "+", "-", "@", "\t", "\r", "\n")
"""First characters a spreadsheet may act on: OWASP's six, and line feed (some importers trim it)."""
PREFIX = "'"


def inert_text(text: str) -> str:
    """`text`, with an apostrophe in front if a spreadsheet could run it.

    ``=1+1`` becomes ``'=1+1``; ``'=1`` (already quoted) becomes ``''=1`` so that
    `original_text` gives it back exactly; ``Town Hall`` and ``'s-Hertogenbosch`` are unchanged.
    """
    return PREFIX + text if text.lstrip(PREFIX).startswith(ACTIVE) else text


def original_text(text: str) -> str:
    """The text `inert_text` was given (for readers of our own files)."""
    if text.startswith(PREFIX) and text.lstrip(PREFIX).startswith(ACTIVE):
        return text[len(PREFIX) :]
    return text


def inert_value(value: Any) -> Any:
    """`inert_text` for a string; any other value (number, bool, None, list) as it is."""
    return inert_text(value) if isinstance(value, str) else value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell (and column name) made inert; numbers untouched.

    Only object, string and category columns can hold text, and within them only ``str``
    values are changed, so a column that is numeric by type stays numeric.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(inert_value, na_action="ignore")
    return out.rename(columns=lambda c: inert_text(c) if isinstance(c, str) else c)


def csv_text(frame: pd.DataFrame) -> str:
    """The table as CSV with every text cell inert (no index; CRLF line ends, RFC 4180).

    CRLF line ends make the writer quote a value holding a bare carriage return, which
    pandas otherwise leaves unquoted, so the row would split in two when read.
    """
    return str(inert_frame(frame).to_csv(index=False, lineterminator="\r\n"))


def excel_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, one sheet per table: text as text cells, never formulas.

    Every ``str`` value is made inert and written as a string cell (openpyxl data type
    ``s``); numbers and booleans as numbers and booleans; blanks, NaN and infinities as
    empty cells. Nothing is ever written as a formula.
    """
    from openpyxl import Workbook  # only when a workbook is written: 0.2 s to import
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title=title)
        header = []
        for name in frame.columns:
            cell = _text_cell(sheet, str(name), WriteOnlyCell)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_excel_cell(sheet, value, WriteOnlyCell) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Any, text: str, make: Any) -> Any:
    cell = make(sheet, value=inert_text(text))
    cell.data_type = "s"  # a string cell, whatever the text looks like
    return cell


def _excel_cell(sheet: Any, value: Any, make: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple, set, frozenset)):
        value = ";".join(map(str, value))
    return _text_cell(sheet, str(value), make)
