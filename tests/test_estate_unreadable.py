"""Plain messages for unreadable register files: what the file is, what was expected, how to fix it."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from estate.upload import load_uploads
from tests.conftest import REPO


@pytest.fixture(scope="module")
def buildings() -> gpd.GeoDataFrame:
    return gpd.read_file(REPO / "data" / "trafford.gpkg", layer="buildings").head(3)


@pytest.fixture(scope="module")
def good_csv(buildings) -> str:
    frame = pd.DataFrame(buildings.drop(columns="geometry"))
    frame["easting"], frame["northing"] = buildings.geometry.x, buildings.geometry.y
    return frame.to_csv(index=False)


def _message(name: str, data: bytes) -> str:
    result = load_uploads({"buildings": (name, data)}, "")
    assert result.estate is None
    text = "\n".join(result.refused) if result.refused else str(result.error)
    assert "Traceback" not in text and "Error:" not in text  # no exception names, no traceback
    return text


def test_a_windows_1252_csv_is_read_correctly(good_csv):
    text = good_csv.splitlines()
    text[1] = text[1].replace(text[1].split(",")[1], "Café de la Poste", 1)
    with pytest.warns(UserWarning, match="not valid UTF-8; read as Windows-1252"):
        result = load_uploads({"buildings": ("b.csv", "\n".join(text).encode("cp1252"))}, "")
    assert result.estate is not None
    assert "Café de la Poste" in set(result.estate.buildings["name"])


def test_text_in_no_known_encoding_says_not_utf8_and_how_to_resave(good_csv):
    with pytest.warns(UserWarning, match="not valid UTF-8"):  # tried as Windows-1252 first
        text = _message("b.csv", good_csv.encode() + b"\x81\x8d")
    assert text.startswith("b.csv: the text is not UTF-8 (nor Windows-1252): byte 0x81")
    assert "CSV UTF-8 (Comma delimited)" in text and "encoding" in text


def test_utf16_text_is_named(good_csv):
    text = _message("b.csv", good_csv.encode("utf-16"))
    assert text.startswith("b.csv: this is UTF-16 text")
    assert "Fix: open it in Excel" in text


@pytest.mark.parametrize("name", ["b.csv", "b.geojson", "b.xlsx", "b.gpkg"])
def test_an_empty_file_says_it_is_empty(name):
    text = _message(name, b"")
    assert text.startswith(f"{name}: the file is empty (0 bytes). Expected: a buildings register as ")
    assert "Fix:" in text


def test_a_headers_only_csv_says_no_rows(good_csv):
    text = _message("b.csv", good_csv.splitlines()[0].encode() + b"\n")
    assert text.startswith("b.csv: no rows below the header")
    assert "First problems" not in text and "Fix: add one row per building" in text


def test_a_geojson_in_grid_metres_without_a_crs_says_so(buildings):
    data = json.loads(buildings.to_json())  # British National Grid coordinates, no "crs" member
    data.pop("crs", None)
    text = _message("b.geojson", json.dumps(data).encode())
    assert text.startswith("b.geojson: the coordinates look like British National Grid metres")
    assert "the file gives no CRS" in text and "EPSG:27700" in text
    assert "valid shape" not in text  # not blamed on the geometry


def test_a_wrong_file_type_is_refused_with_the_types_accepted():
    text = _message("b.pdf", b"%PDF-1.4")
    assert text.startswith("b.pdf: files of type .pdf are not accepted. Upload a register as .gpkg")


def test_a_pdf_named_csv_is_named_for_what_it_is():
    text = _message("b.csv", b"%PDF-1.4\x00\x01 binary")
    assert text.startswith("b.csv: this is a PDF document, not a CSV text file")


@pytest.mark.parametrize(
    ("name", "data", "start"),
    [
        ("b.xlsx", b"PK\x03\x04garbage", "b.xlsx: not a readable Excel workbook"),
        ("b.xlsx", b"just text", "b.xlsx: not a readable Excel workbook"),
        ("b.gpkg", b"SQLite format 3\x00garbage", "b.gpkg: not a readable GeoPackage"),
        ("b.gpkg", b"not a database", "b.gpkg: not a readable GeoPackage"),
    ],
)
def test_a_damaged_workbook_or_geopackage_says_so(name, data, start):
    text = _message(name, data)
    assert text.startswith(start)
    assert "Expected: a buildings register as " in text and "Fix:" in text
