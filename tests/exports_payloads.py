"""A plan whose every name is a formula-injection payload, and readers that find live cells.

Used by tests/test_exports_inert.py. `payload_estate` builds an estate whose building names,
partners, boroughs, occupier names and zone names hold each of `PAYLOADS`; `scan_*` read a
written file back (with ``csv``, ``openpyxl``, ``sqlite3`` or ``html.parser``) and return
the cells that a spreadsheet would run: formula cells, and text cells starting with an
active character.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import openpyxl

from estate import Estate
from tests.conftest import _building, table

PAYLOADS = (
    '=HYPERLINK("http://x","y")',
    "=1+1",
    "+cmd",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
    "+1",
    "-1",
    "@x",
    "=",
    "-",
    '"=1"',
    "\n=1",
    "%0A=1",
)
ACTIVE = ("=", "+", "-", "@", "\t", "\r", "\n")  # the characters a spreadsheet may act on


@dataclass(frozen=True)
class Cell:
    """One cell read back: where it is, and its text."""

    where: str
    column: str
    text: str
    formula: bool = False
    number: bool = False  # a typed number cell (openpyxl data type ``n``)


def payload_estate() -> Estate:
    """Sixteen buildings 300 m apart, one occupier each; every name is a payload.

    Validation strips surrounding white space, so the names are set after validation (as a
    register read by other means could hold them), and tab, CR and LF payloads reach the
    writers as they are.
    """
    n = len(PAYLOADS)
    buildings = [
        _building(
            f"B{i}",
            380000 + 300 * (i % 4),
            400000 + 300 * (i // 4),
            800 if i % 4 == 0 else 200,
            40_000 + 5_000 * i,
            300_000 + 10_000 * i,
            "office;public_counter;library",
        )
        for i in range(n)
    ]
    occupiers = [
        {
            "occupier_id": f"o{i}",
            "partner": "P",
            "service": "library" if i % 4 == 0 else "office_team",
            "building_id": f"B{i}",
            "space_m2": 40,
            "space_type": "library" if i % 4 == 0 else "office",
            "public_facing": i % 4 == 0,
        }
        for i in range(n)
    ]
    zones = [
        {"zone_id": f"Z{i}", "x": 380150 + 300 * (i % 4), "y": 400150 + 300 * (i // 4), "population": 1000}
        for i in range(n)
    ]
    access = [{"service": "library", "reach_km": 3, "rule": "min_share", "min_share": 0.5}]
    compatibility = [
        {"service": "office_team", "host_service": "library"},
        {"service": "library", "host_service": "office_team"},
    ]
    b = table(buildings, "buildings")
    o = table(occupiers, "occupiers")
    z = table(zones, "zones")
    for k, column in enumerate(("name", "owner", "borough", "protected_reason", "data_source")):
        b[column] = [PAYLOADS[(i + k) % n] for i in range(n)]
    for k, column in enumerate(("name", "partner")):
        o[column] = [PAYLOADS[(i + 5 + k) % n] for i in range(n)]
    for k, column in enumerate(("name", "borough")):
        z[column] = [PAYLOADS[(i + 9 + k) % n] for i in range(n)]
    return Estate.from_tables(
        buildings=b,
        occupiers=o,
        zones=z,
        access=table(access, "access"),
        compatibility=table(compatibility, "compatibility"),
        name="payloads",
    )


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("£", ""))
    except ValueError:
        return False
    return True


def live(cells: Iterable[Cell], numeric: set[str]) -> list[Cell]:
    """Cells a spreadsheet would run: formulas, and text starting with an active character
    (a number in a numeric column, such as ``-2.5``, is a number, not text)."""
    out = []
    for cell in cells:
        if cell.formula:
            out.append(cell)
        elif (
            not cell.number
            and cell.text.startswith(ACTIVE)
            and not (cell.column in numeric and _is_number(cell.text))
        ):
            out.append(cell)
    return out


def scan_csv(text: str, where: str) -> list[Cell]:
    """Every cell of a CSV, headers included, as the ``csv`` module reads it."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return []
    header = rows[0]
    cells = [Cell(where, "(header)", h) for h in header]
    for row in rows[1:]:
        cells.extend(Cell(where, header[j], value) for j, value in enumerate(row))
    return cells


def scan_xlsx(data: bytes, where: str) -> tuple[list[Cell], list[tuple[str, str, object, str]]]:
    """Every cell of a workbook (openpyxl), and (sheet, column, value, data_type) for typing checks."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells: list[Cell] = []
    typed: list[tuple[str, str, object, str]] = []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        if not rows:
            continue
        header = [str(c.value) for c in rows[0]]
        for row in rows:
            for j, c in enumerate(row):
                column = header[j] if row is not rows[0] else "(header)"
                typed.append((sheet.title, column, c.value, c.data_type))
                if c.value is None:
                    continue
                cells.append(
                    Cell(
                        f"{where}:{sheet.title}",
                        column,
                        str(c.value),
                        formula=c.data_type == "f",
                        number=c.data_type == "n",
                    )
                )
    return cells, typed


def scan_gpkg(path: Path, where: str) -> list[Cell]:
    """Every attribute value of every layer of a GeoPackage (read with sqlite3)."""
    cells: list[Cell] = []
    with sqlite3.connect(path) as conn:
        layers = [r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")]
        for layer in layers:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{layer}")')]
            for row in conn.execute(f'SELECT * FROM "{layer}"'):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str):
                        cells.append(Cell(f"{where}:{layer}", column, value))
    return cells


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[tuple[str, bool]] = []
        self._open: list[str] | None = None
        self._num = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self._open = []
            self._num = ("class", "num") in attrs

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._open is not None:
            self.cells.append(("".join(self._open), self._num))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)


def scan_html(text: str, where: str) -> list[Cell]:
    """Every table cell of an HTML page (cells marked class="num" count as numeric)."""
    parser = _Cells()
    parser.feed(text)
    return [Cell(where, "(number)" if num else "(text)", value) for value, num in parser.cells]


def payloads_in(cells: Iterable[Cell]) -> set[str]:
    """Which payloads appear as a whole cell, as they are (not escaped)."""
    texts = {c.text for c in cells}
    return {p for p in PAYLOADS if p in texts}
