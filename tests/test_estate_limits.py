"""Limits on what is read (size, rows, columns, archives) and Excel read cell by cell.

Every nasty file is built small inside the test: the limits are patched down where a real
one would take long to write, and the archives are checked on the bytes they really unpack to.
"""

from __future__ import annotations

import re
import struct
import tomllib
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from shapely.geometry import Point

from estate import EstateError, limits, load_estate, read_table
from estate.sheets import read_excel
from tests.conftest import REPO

HEADER = ["building_id", "owner", "lon", "lat"]


def _xlsx(path: Path, rows: list[list[object]], *, header: list[str] = HEADER) -> Path:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _rezip(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    """A copy of the zip `src` with some members' contents replaced."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, replace.get(info.filename, old.read(info)))
    return dst


def _understate(path: Path, member: str, size: int) -> None:
    """Make `member` declare `size` uncompressed bytes, in its local header and central directory."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(member).header_offset
    struct.pack_into("<L", data, offset + 22, size)  # local file header: uncompressed size
    for found in re.finditer(rb"PK\x01\x02", bytes(data)):  # central directory entries
        start = found.start()
        length = struct.unpack_from("<H", data, start + 28)[0]
        if bytes(data[start + 46 : start + 46 + length]) == name:
            struct.pack_into("<L", data, start + 24, size)
    path.write_bytes(bytes(data))


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


# ---------------------------------------------------------------------- the limits themselves
def test_the_app_upload_limit_is_the_named_file_limit():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_FILE_MB


def test_the_limits_are_documented_with_their_values():
    text = (REPO / "docs" / "limits.md").read_text()
    for value in (
        f"{limits.MAX_FILE_MB} MB",
        f"{limits.MAX_ROWS:,}",
        f"{limits.MAX_COLUMNS:,}",
        f"{limits.UNPACK_FACTOR} x",
        f"{limits.MAX_ARCHIVE_MEMBERS:,}",
    ):
        assert value in text, value


def test_an_upload_of_another_type_is_refused():
    assert limits.check_upload("register.exe", 10) == (
        "register.exe: files of type .exe are not accepted. "
        "Upload a register as .gpkg, .geojson, .json, .csv, .xlsx, .zip."
    )


def test_a_file_over_the_size_limit_is_refused_by_the_cli_reader_as_by_the_app(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_MB", 0.001)  # 1,048 bytes
    path = tmp_path / "big.csv"
    path.write_text("building_id,owner,lon,lat\n" + "A,x,-2.3,53.4\n" * 100)
    message = (
        "big.csv: 0.0 MB is over the 0.001 MB limit for registers. Split it by area or partner, "
        "or remove columns you do not need (see docs/limits.md)."
    )
    assert limits.check_upload("big.csv", path.stat().st_size) == message
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == message


def test_a_folder_given_as_a_register_is_refused(tmp_path):
    folder = tmp_path / "register.gpkg"
    folder.mkdir()
    with pytest.raises(EstateError) as err:
        load_estate(folder)
    assert str(err.value) == (
        "register.gpkg: is a folder, not a file. Give the register file itself (for a shapefile, "
        "its .shp file or a .zip of its parts)."
    )


# ---------------------------------------------------------------------- rows and columns
def test_a_csv_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ROWS", 3)
    path = tmp_path / "b.csv"
    path.write_text("building_id,owner,lon,lat\n" + "".join(f"B{i},x,-2.3,53.4\n" for i in range(4)))
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == (
        "b.csv: more than 3 rows, the limit per table. Split the register (by area or partner) "
        "and load the parts separately (see docs/limits.md)."
    )
    path.write_text("building_id,owner,lon,lat\n" + "".join(f"B{i},x,-2.3,53.4\n" for i in range(3)))
    assert len(load_estate(path).buildings) == 3


def test_a_csv_wider_than_the_column_limit_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_COLUMNS", 4)
    path = tmp_path / "b.csv"
    path.write_text("building_id,owner,lon,lat,extra\nA,x,-2.3,53.4,1\n")
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == (
        "b.csv: 5 columns, more than the 4 allowed per table. Remove the columns you do not "
        "need (see docs/limits.md)."
    )


def test_a_geopackage_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame(
        {"building_id": ["A", "B", "C"], "owner": ["x"] * 3},
        geometry=[Point(383880 + i, 398244) for i in range(3)],
        crs=27700,
    ).to_file(path, layer="buildings")
    monkeypatch.setattr(limits, "MAX_ROWS", 2)
    with pytest.raises(EstateError, match=r"^b.gpkg:buildings: more than 2 rows, the limit per table\."):
        load_estate(path)


# ---------------------------------------------------------------------- Excel
def test_a_sheet_whose_dimension_claims_the_whole_grid_reads_only_its_cells(tmp_path):
    path = _xlsx(tmp_path / "plain.xlsx", [["A1", "Council", -2.3, 53.4], ["B2", "NHS", -2.31, 53.41]])
    xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', _sheet_xml(path))
    claimed = _rezip(path, tmp_path / "claimed.xlsx", {"xl/worksheets/sheet1.xml": xml})
    estate = load_estate(claimed)
    assert list(estate.buildings.index) == ["A1", "B2"]


def test_one_far_cell_refuses_the_sheet_at_once(tmp_path):
    path = _xlsx(tmp_path / "far.xlsx", [["A1", "Council", -2.3, 53.4]])
    book = openpyxl.load_workbook(path)
    book.active["XFD1048576"] = "stray"
    book.save(path)
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == (
        "far.xlsx: cell XFD1048576 holds 'stray', beyond column SF; at most 500 columns are read "
        "per table. Delete that cell (and any others right of it) and save again."
    )


def test_a_far_cell_below_the_row_limit_refuses_the_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ROWS", 10)
    path = _xlsx(tmp_path / "deep.xlsx", [["A1", "Council", -2.3, 53.4]])
    book = openpyxl.load_workbook(path)
    book.active["B5000"] = 7
    book.save(path)
    with pytest.raises(EstateError) as err:
        read_table(path, "buildings")
    assert str(err.value) == (
        "deep.xlsx: cell B5000 holds 7, more than 10 rows below the header (row 1), the limit "
        "per table. Delete that cell (and any others below it) and save again, or split the register."
    )


def _bomb(path: Path, padding: int) -> Path:
    """A valid workbook whose sheet XML holds `padding` bytes of spaces (a zip bomb, small)."""
    plain = _xlsx(path.with_name("seed.xlsx"), [["A1", "Council", -2.3, 53.4]])
    xml = _sheet_xml(plain).replace(b"<sheetData>", b"<sheetData>" + b" " * padding, 1)
    return _rezip(plain, path, {"xl/worksheets/sheet1.xml": xml})


def test_an_xlsx_zip_bomb_is_refused_after_reading_no_more_than_the_budget(tmp_path, monkeypatch):
    path = _bomb(tmp_path / "bomb.xlsx", 3 * 1024 * 1024)
    assert path.stat().st_size < 20_000
    monkeypatch.setattr(limits, "MAX_FILE_MB", 0.5)  # budget: 4 x 0.5 MB = 2 MB
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == (
        "bomb.xlsx: xl/worksheets/sheet1.xml unpacks to more than 2 MB, the limit for an archive "
        "(4 x the file size limit); refused as a possible zip bomb."
    )


def test_an_xlsx_that_understates_its_sizes_is_refused(tmp_path):
    path = _bomb(tmp_path / "liar.xlsx", 100_000)
    actual = _actual_size(path, "xl/worksheets/sheet1.xml")
    _understate(path, "xl/worksheets/sheet1.xml", 1_000)
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == (
        f"liar.xlsx: xl/worksheets/sheet1.xml declares 1,000 bytes but unpacks to {actual:,}; the "
        "archive is damaged or built to mislead, so it is refused. Zip the files again."
    )


def _actual_size(path: Path, member: str) -> int:
    with zipfile.ZipFile(path) as archive:
        return len(archive.read(member))


def test_a_formula_with_no_saved_result_is_a_note_naming_the_cell(tmp_path):
    path = _xlsx(
        tmp_path / "f.xlsx",
        [["A1", "Council", -2.3, 53.4, 100], ["B2", "NHS", -2.31, 53.41, "=E2*2"]],
        header=[*HEADER, "gia_m2"],
    )
    with pytest.warns(UserWarning, match=r"f.xlsx: 1 formula cell\(s\) have no saved result"):
        estate = load_estate(path)
    assert estate.buildings["gia_m2"].isna().tolist() == [False, True]
    (note,) = [n for n in estate.notes if n.column == "gia_m2"]
    assert str(note) == (
        "f.xlsx row 2 (B2), column 'gia_m2' = '=E2*2': is a formula with no saved result (cell E3), "
        "so it reads as blank. Open the file in Excel or LibreOffice, let it calculate and save it, "
        "or type the value in."
    )


def test_a_formula_with_a_saved_result_reads_as_that_result(tmp_path):
    path = _xlsx(tmp_path / "seed.xlsx", [["A1", "Council", -2.3, 53.4, "=1+1"]], header=[*HEADER, "gia_m2"])
    xml = _sheet_xml(path)
    cached = re.sub(rb"<f>1\+1</f><v\s*/>|<f>1\+1</f><v></v>|<f>1\+1</f>", b"<f>1+1</f><v>250</v>", xml)
    assert cached != xml
    saved = _rezip(path, tmp_path / "saved.xlsx", {"xl/worksheets/sheet1.xml": cached})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no note, no warning
        estate = load_estate(saved)
    assert estate.buildings.at["A1", "gia_m2"] == 250.0


def test_excel_cells_keep_their_words_and_blank_rows_keep_their_numbers(tmp_path):
    path = _xlsx(
        tmp_path / "w.xlsx",
        [["A1", "NA", -2.3, 53.4, "None"], [], ["C3", "NULL", -2.3, 53.41, "N/A"]],
        header=[*HEADER, "name"],
    )
    frame, formulas = read_excel(path, None, "w.xlsx")
    assert formulas == []
    assert frame["owner"].tolist() == ["NA", None, "NULL"]
    assert frame["name"].tolist() == ["None", None, "N/A"]
    estate = load_estate(path)
    assert estate.buildings.loc[["A1", "C3"], "name"].tolist() == ["None", "N/A"]
    assert estate.rejected["buildings"]["source_row"].tolist() == [2]  # the blank row, kept


def test_a_missing_sheet_is_named_with_the_sheets_there_are(tmp_path):
    path = _xlsx(tmp_path / "s.xlsx", [["A1", "Council", -2.3, 53.4]])
    with pytest.raises(EstateError) as err:
        load_estate(path, layers={"buildings": "assets"})
    assert str(err.value) == "s.xlsx:assets: no sheet 'assets'. Sheets in the file: Sheet."


# ---------------------------------------------------------------------- zipped shapefiles
def _shapefile_parts(tmp_path: Path) -> dict[str, bytes]:
    frame = gpd.GeoDataFrame(
        {"building_id": ["A1", "B2"], "owner": ["Council", "NHS"]},
        geometry=[Point(380000, 400000), Point(380500, 400000)],
        crs=27700,
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(folder / "register.shp")
    return {p.name: p.read_bytes() for p in folder.glob("register.*")}


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_shapefile_in_a_folder_of_the_zip_loads(tmp_path):
    parts = _shapefile_parts(tmp_path)
    path = _zip(
        tmp_path / "register.zip",
        {
            "export/": b"",
            **{f"export/{n}": d for n, d in parts.items()},
            "__MACOSX/export/._register.shp": b"x",
        },
    )
    assert limits.shapefile_in_zip(path, "register.zip") == (None, "export/register.shp")
    assert list(load_estate(path).buildings.index) == ["A1", "B2"]


def test_a_zip_with_two_shapefiles_is_refused(tmp_path):
    parts = _shapefile_parts(tmp_path)
    path = _zip(tmp_path / "two.zip", {**parts, **{f"b/{n}": d for n, d in parts.items()}})
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert (
        str(err.value)
        == "two.zip: a zip must hold exactly one .shp file; found register.shp, b/register.shp."
    )


def test_a_zip_that_understates_its_sizes_is_refused_by_the_app_and_the_cli(tmp_path):
    from pages.common import load_uploads

    parts = _shapefile_parts(tmp_path)
    path = _zip(tmp_path / "register.zip", parts)
    _understate(path, "register.dbf", 10)
    message = (
        f"register.zip: register.dbf declares 10 bytes but unpacks to {len(parts['register.dbf']):,}; "
        "the archive is damaged or built to mislead, so it is refused. Zip the files again."
    )
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == message
    result = load_uploads({"buildings": ("register.zip", path.read_bytes())}, "")
    assert result.estate is None
    assert result.refused == (message,)


def test_a_zipped_shapefile_bomb_is_refused(tmp_path, monkeypatch):
    parts = _shapefile_parts(tmp_path)
    parts["register.xml"] = b" " * (3 * 1024 * 1024)
    path = _zip(tmp_path / "register.zip", parts)
    monkeypatch.setattr(limits, "MAX_FILE_MB", 0.5)
    reason, _ = limits.shapefile_in_zip(path, "register.zip")
    assert reason == (
        "register.zip: register.xml unpacks to more than 2 MB, the limit for an archive "
        "(4 x the file size limit); refused as a possible zip bomb."
    )


def test_a_zip_with_other_files_is_refused_naming_them(tmp_path):
    path = _zip(tmp_path / "r.zip", {"run_me.py": b"print('hi')"})
    assert limits.shapefile_in_zip(path, "r.zip")[0] == (
        "r.zip: a zip may only hold a shapefile (.shp, .shx, .dbf, .prj, .cpg, .qpj, .sbn, .sbx, "
        ".xml); found run_me.py."
    )


def test_a_table_over_the_cell_limit_is_refused_naming_the_rows_it_may_have(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 10)
    path = tmp_path / "b.csv"
    path.write_text("building_id,owner,lon,lat\n" + "".join(f"B{i},x,-2.3,53.4\n" for i in range(3)))
    with pytest.raises(EstateError) as err:
        load_estate(path)
    assert str(err.value) == (
        "b.csv: more than 10 cells (4 columns, so at most 2 rows), the limit per table. Remove the "
        "columns you do not need, or split the register (see docs/limits.md)."
    )
    xlsx = _xlsx(tmp_path / "b.xlsx", [[f"B{i}", "x", -2.3, 53.4] for i in range(3)])
    with pytest.raises(EstateError, match=r"^b.xlsx: more than 10 filled cells, the limit per table\."):
        load_estate(xlsx)


def test_an_empty_sheet_is_named(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "assets"
    book.save(tmp_path / "e.xlsx")
    with pytest.raises(EstateError) as err:
        load_estate(tmp_path / "e.xlsx")
    assert str(err.value) == (
        "e.xlsx: sheet 'assets' is empty. Put the register in the first sheet, or name its sheet "
        "(CLI: --layer TABLE=NAME)."
    )
