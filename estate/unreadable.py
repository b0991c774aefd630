"""Plain messages for a register file that cannot be read: what the file is, what was expected, the fix.

`estate.io.read_table` asks `sniff` about a file's first bytes before parsing it (an empty
file, a PDF or workbook renamed .csv, UTF-16 text, a damaged workbook or GeoPackage), `explain`
about an error the readers raised, and `grid_without_crs` about a GeoJSON whose coordinates are
British National Grid metres read as degrees. No reader's exception text or traceback is needed
to understand any of these messages.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd

WHAT = {
    ".csv": "a CSV file (text, one row per line, UTF-8)",
    ".txt": "a CSV file (text, one row per line, UTF-8)",
    ".xlsx": "an Excel workbook (.xlsx)",
    ".xlsm": "an Excel workbook (.xlsm)",
    ".gpkg": "a GeoPackage (.gpkg)",
    ".geojson": "a GeoJSON file",
    ".json": "a GeoJSON file",
    ".zip": "a zipped shapefile (.zip holding .shp, .shx, .dbf and .prj)",
    ".shp": "a shapefile (.shp with its .shx, .dbf and .prj)",
    ".fgb": "a FlatGeobuf file",
}
RESAVE = {
    ".csv": "open it in Excel and use File > Save As > “CSV UTF-8 (Comma delimited)”",
    ".txt": "open it in Excel and use File > Save As > “CSV UTF-8 (Comma delimited)”",
    ".xlsx": "open it in Excel and save it again as an .xlsx workbook",
    ".xlsm": "open it in Excel and save it again as an .xlsm workbook",
    ".gpkg": "export the layer again from QGIS (Export > Save Features As > GeoPackage)",
}
_SIGNATURES = {  # what other kinds of file start with
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (an Excel workbook is one)",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word (.doc) file",
    b"SQLite format 3\x00": "a SQLite database (a GeoPackage is one)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


def _expected(suffix: str, table: str) -> str:
    return f"Expected: a {table} register as {WHAT.get(suffix, 'a supported file')}"


def _fix(suffix: str) -> str:
    return RESAVE.get(suffix, "export the register again from the program that made it and upload that file")


def sniff(path: Path, source: str, table: str) -> str | None:
    """Why the file's first bytes show it cannot be a register of its type, or None."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return None  # its parts are read by GDAL, which says which one is missing
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(4096)
    if size == 0 or not head.strip(b" \t\r\n\x00"):
        return (
            f"{source}: the file is empty ({size:,} bytes{'' if size == 0 else ', all blank'}). "
            f"{_expected(suffix, table)}, holding one row (or feature) per building. "
            f"Fix: {_fix(suffix)}, check it opens and has rows, then upload it again."
        )
    if suffix in (".csv", ".txt"):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return (
                f"{source}: this is UTF-16 text (Excel's “Unicode Text”), not UTF-8. "
                f"{_expected(suffix, table)}. Fix: {_fix(suffix)}."
            )
        for signature, kind in _SIGNATURES.items():
            if head.startswith(signature):
                return (
                    f"{source}: this is {kind}, not a CSV text file, though it is named .csv. "
                    f"{_expected(suffix, table)}. Fix: upload the file with its real name "
                    f"(e.g. .xlsx for a workbook), or {_fix(suffix)}."
                )
        if b"\x00" in head:
            return (
                f"{source}: this holds binary data, not CSV text. {_expected(suffix, table)}. "
                f"Fix: {_fix(suffix)}."
            )
    if suffix in (".xlsx", ".xlsm") and not zipfile.is_zipfile(path):
        return (
            f"{source}: not a readable Excel workbook: the file is damaged or is not really an "
            f".xlsx (a workbook is a zip archive; this one is not a whole one). "
            f"{_expected(suffix, table)}. Fix: {_fix(suffix)}."
        )
    if suffix == ".gpkg" and not head.startswith(b"SQLite format 3\x00"):
        return (
            f"{source}: not a readable GeoPackage: the file is damaged or is not really a "
            f"GeoPackage. {_expected(suffix, table)}. Fix: {_fix(suffix)}."
        )
    return None


def explain(err: BaseException, path: Path, source: str, table: str) -> str:
    """A plain message for an error a reader (pandas, openpyxl, GDAL) raised on this file."""
    suffix = path.suffix.lower()
    name = type(err).__name__
    if isinstance(err, UnicodeDecodeError):
        return (
            f"{source}: the text is not UTF-8 (nor Windows-1252): byte 0x{err.object[err.start]:02x} "
            f"at position {err.start:,} is not a character in either. {_expected(suffix, table)}. "
            f"Fix: {_fix(suffix)}; or name the file's encoding in the mapping's [read] section "
            '(encoding = "latin-1", say).'
        )
    if name == "EmptyDataError":
        return (
            f"{source}: no columns: the file has no header row. {_expected(suffix, table)}, its first "
            f"line naming the columns. Fix: {_fix(suffix)}."
        )
    if name == "ParserError":
        return (
            f"{source}: the rows do not line up with the header (a row has more cells than the header "
            f"names: {str(err).strip()}). {_expected(suffix, table)}. Fix: {_fix(suffix)}, and check "
            "that text with commas in it is in quotes."
        )
    if suffix in (".xlsx", ".xlsm", ".gpkg"):
        what = "Excel workbook" if suffix != ".gpkg" else "GeoPackage"
        return (
            f"{source}: not a readable {what}: the file is damaged, or is another kind of file "
            f"named {suffix}. {_expected(suffix, table)}. Fix: {_fix(suffix)}."
        )
    return (
        f"{source}: cannot be read as {WHAT.get(suffix, 'a register')} (the reader said: {err}). "
        f"{_expected(suffix, table)}. Fix: {_fix(suffix)}."
    )


def grid_without_crs(gdf: gpd.GeoDataFrame, source: str) -> str | None:
    """Why a file read as longitude/latitude holds British National Grid metres instead, or None.

    GeoJSON has no CRS of its own: with none given, readers take degrees (EPSG:4326). Metres
    read as degrees fall far outside -180..180, which is how such a file shows itself.
    """
    if gdf.crs is None or not gdf.crs.is_geographic:
        return None
    valid = gdf.geometry.notna() & ~gdf.geometry.is_empty
    if not valid.any():
        return None
    minx, miny, maxx, maxy = gdf.geometry[valid].total_bounds
    if not (minx >= 0 and miny >= 0 and maxx <= 7.0e5 and maxy <= 1.3e6 and max(maxx, maxy) > 1000):
        return None
    return (
        f"{source}: the coordinates look like British National Grid metres (eastings {minx:,.0f} to "
        f"{maxx:,.0f}, northings {miny:,.0f} to {maxy:,.0f}), but the file gives no CRS, so they were "
        "read as longitude and latitude degrees and fall off the map. Expected: a GeoJSON in "
        'longitude/latitude (WGS84), or one that names its CRS. Fix: add "crs": {"type": "name", '
        '"properties": {"name": "urn:ogc:def:crs:EPSG::27700"}} to the file, or in QGIS set the '
        "layer's CRS to EPSG:27700 and export it again (as a GeoPackage, which keeps its CRS)."
    )


__all__ = ["explain", "grid_without_crs", "sniff"]
