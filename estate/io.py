"""Read registers from files (GeoPackage, GeoJSON, Shapefile, CSV, Excel) and load an Estate.

``read_table`` turns one file (or layer) into a raw frame plus ``source_row``, mapped to our
column names and reprojected to British National Grid. ``load_estate`` reads every table,
validates it and returns an immutable `Estate`. Nothing read is ever written back.
"""

from __future__ import annotations

import glob
import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj

from estate import limits, postgis, unreadable
from estate.errors import EstateDataWarning, EstateError, EstateValidationError, Issue
from estate.mapping import Mapping, TableMapping, apply_mapping, load_mapping
from estate.model import Estate
from estate.schema import CRS, CRS_LONLAT, ID_COLUMN, SPATIAL_TABLES, TABLE_NAMES
from estate.sheets import FormulaCell, check_shape, check_width, read_csv, read_excel, row_budget
from estate.travel import read_travel_matrix
from estate.validate import DECIMAL_MARKS, Bad, number_from_text, plain_value, split_rows, validate_table

DATA_DIR = Path(os.environ.get("ESTATE_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))
PLACES = {"greater_manchester": "Greater Manchester", "trafford": "Trafford"}
SPATIAL_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
SUPPORTED = SPATIAL_SUFFIXES + TABLE_SUFFIXES
LONLAT_NAMES = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("long", "lat"))
BNG_NAMES = (("easting", "northing"), ("x_bng", "y_bng"), ("bng_e", "bng_n"))
GB_BOUNDS = (0.0, 0.0, 7.0e5, 1.3e6)  # the British National Grid box around Great Britain
GB_BNG = ((GB_BOUNDS[0], GB_BOUNDS[2]), (GB_BOUNDS[1], GB_BOUNDS[3]))  # easting, northing ranges
GB_LONLAT = ((-9.0, 2.5), (49.0, 61.5))  # longitude, latitude ranges that hold Great Britain


def read_table(
    path: str | Path,
    table: str,
    *,
    layer: str | None = None,
    mapping: TableMapping | None = None,
) -> pd.DataFrame:
    """Read one table from a file, map its columns and add `source_row` (1 = first record).

    Spatial tables come back as a GeoDataFrame in EPSG:27700. A CSV or Excel sheet gets its
    points from `lon`/`lat` (EPSG:4326) or `easting`/`northing` (EPSG:27700) columns. Every
    file is held to the limits of `estate.limits` (size, rows, columns; archives on the bytes
    they really unpack to) before it is parsed. Problems that do not stop the reading (an Excel
    formula with no saved result) are `Issue` objects in ``.attrs["read"].notes``.

    Raises
    ------
    EstateError
        If the file is missing, a folder, of an unsupported type, over a limit, unreadable,
        or has no CRS.

    """
    mapping = mapping or TableMapping()
    if postgis.is_database(path):
        return _read_database(str(path), table, mapping)
    path = Path(path)
    source = _source_name(path, layer)
    if not path.exists():
        msg = f"{source}: file not found. Check the path (working directory: {Path.cwd()})."
        raise EstateError(msg)
    if path.is_dir():
        msg = (
            f"{source}: is a folder, not a file. Give the register file itself (for a shapefile, "
            "its .shp file or a .zip of its parts)."
        )
        raise EstateError(msg)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        msg = f"{source}: unsupported file type {suffix or '(none)'!r}. Use one of {', '.join(SUPPORTED)}."
        raise EstateError(msg)
    decimal = _decimal(mapping, source)
    if (why := unreadable.sniff(path, source, table)) is not None:  # empty, misnamed, damaged
        raise EstateError(why)
    too_big = limits.check_size(source, _size_on_disk(path))
    if too_big:
        raise EstateError(too_big)
    spatial = table in SPATIAL_TABLES
    formulas: list[FormulaCell] = []
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw, formulas = read_excel(path, layer, source)
        elif suffix in TABLE_SUFFIXES:
            raw = read_csv(path, source, encoding=mapping.read.get("encoding"))
        else:
            raw = _read_ogr(path, layer, source, spatial=spatial)
    except EstateError:
        raise
    except Exception as err:  # pyogrio, pandas and openpyxl raise many kinds
        raise EstateError(unreadable.explain(err, path, source, table)) from err
    raw = pd.DataFrame(raw) if not spatial else raw
    if suffix in (".shp", ".zip"):
        raw = _untruncate_shapefile_names(raw, table)
    return _finish_read(raw, table, source, mapping, decimal, formulas)


def _read_database(url: str, table: str, mapping: TableMapping) -> pd.DataFrame:
    """`read_table` for a PostGIS table, view or query (see `estate.postgis`)."""
    src = postgis.parse(url)
    decimal = _decimal(mapping, src.label)
    spatial = table in SPATIAL_TABLES
    raw = postgis.read_relation(src, table, spatial=spatial)
    raw = pd.DataFrame(raw) if not spatial else raw
    return _finish_read(raw, table, src.label, mapping, decimal, [])


def _finish_read(
    raw: pd.DataFrame,
    table: str,
    source: str,
    mapping: TableMapping,
    decimal: str,
    formulas: list[FormulaCell],
) -> pd.DataFrame:
    """Map the columns, number the rows and place spatial tables in EPSG:27700."""
    spatial = table in SPATIAL_TABLES
    raw = raw.drop(columns=[c for c in raw.columns if str(c).startswith("Unnamed: ")], errors="ignore")
    if "source_row" in raw.columns:
        raw = raw.rename(columns={"source_row": "source_row_in_file"})
    raw = apply_mapping(raw, mapping)
    raw.insert(0, "source_row", np.arange(1, len(raw) + 1))
    if spatial:
        raw = _to_bng(raw, source, mapping, decimal)
    facts = raw.attrs.get("read", ReadFacts())
    raw.attrs["read"] = replace(facts, notes=tuple(_formula_notes(raw, formulas, table, source, mapping)))
    return raw


@dataclass(frozen=True)
class ReadFacts:
    """What reading a table found that validating it needs; kept in ``frame.attrs["read"]``.

    Parameters
    ----------
    coordinate_columns
        The (x, y) columns the points came from, for a CSV or Excel sheet.
    coordinate_crs
        Their CRS when guessed from the names ('' when the mapping gave one).
    coordinate_problems
        Per coordinate column, {source_row: (problem, fix)} for cells that are not numbers.
    outside_gb
        Source rows whose shape lies outside Great Britain.
    notes
        Problems that do not reject a row (Excel formulas with no saved result).

    """

    coordinate_columns: tuple[str, ...] = ()
    coordinate_crs: str = ""
    coordinate_problems: dict[str, dict[int, tuple[str, str]]] = field(default_factory=dict)
    outside_gb: frozenset[int] = frozenset()
    notes: tuple[Issue, ...] = ()

    def __deepcopy__(self, memo: dict[int, object]) -> ReadFacts:
        return self  # never changed; pandas deep-copies attrs on every operation


def _read_ogr(path: Path, layer: str | None, source: str, *, spatial: bool) -> pd.DataFrame:
    """A GDAL-readable file (GeoPackage, GeoJSON, shapefile, zipped shapefile) within the limits."""
    target = str(path)
    if path.suffix.lower() == ".zip":
        reason, member = limits.shapefile_in_zip(path, source)
        if reason:
            raise EstateError(reason)
        target = f"/vsizip/{path.resolve()}/{member}"
    info = pyogrio.read_info(target, layer=layer)
    columns = len(info["fields"]) + int(spatial)
    check_width(columns, source)
    check_shape(int(info.get("features", -1)), columns, source)
    most = row_budget(columns)
    raw = pyogrio.read_dataframe(target, layer=layer, read_geometry=spatial, max_features=most + 1)
    check_shape(len(raw), columns, source)
    return raw


def _size_on_disk(path: Path) -> int:
    """Bytes of the file; for a shapefile, of all its parts."""
    if path.suffix.lower() != ".shp":
        return path.stat().st_size
    parts = [
        p
        for p in path.parent.glob(f"{glob.escape(path.stem)}.*")
        if p.suffix.lower() in limits.SHAPEFILE_PARTS
    ]
    return sum(p.stat().st_size for p in parts if p.is_file())


def _decimal(mapping: TableMapping, source: str) -> str:
    """The decimal mark the mapping's ``[read] decimal`` gives ('.' by default)."""
    decimal = mapping.read.get("decimal", ".")
    if decimal not in DECIMAL_MARKS:
        msg = (
            f'{source}: the mapping\'s [read] decimal is {decimal!r}; use "." (the default) or '
            '"," (for a file written with decimal commas, such as 53,45).'
        )
        raise EstateError(msg)
    return decimal


def _formula_notes(
    raw: pd.DataFrame, formulas: list[FormulaCell], table: str, source: str, mapping: TableMapping
) -> list[Issue]:
    """Excel formulas with no saved result, as notes naming the row, column (ours) and cell."""
    if not formulas:
        return []
    ours = {theirs: mine for mine, theirs in mapping.columns.items()}
    id_col = ID_COLUMN[table]
    notes = []
    for cell in formulas:
        rid = raw[id_col].iloc[cell.row - 1] if id_col in raw.columns and cell.row <= len(raw) else None
        notes.append(
            Issue(
                source,
                cell.row,
                str(rid).strip() if isinstance(rid, str) and rid.strip() else None,
                ours.get(cell.column, cell.column),
                cell.formula,
                f"is a formula with no saved result (cell {cell.cell}), so it reads as blank",
                "Open the file in Excel or LibreOffice, let it calculate and save it, or type the value in.",
            )
        )
    return notes


def _untruncate_shapefile_names(raw: pd.DataFrame, table: str) -> pd.DataFrame:
    """Shapefiles cut column names to 10 characters: give ours back their full names."""
    from estate.schema import TABLES

    present = set(map(str, raw.columns))
    rename = {
        col.name[:10]: col.name
        for col in TABLES[table]
        if len(col.name) > 10 and col.name[:10] in present and col.name not in present
    }
    return raw.rename(columns=rename)


def _source_name(path: Path, layer: str | None) -> str:
    return f"{path.name}:{layer}" if layer else path.name


def _to_bng(raw: pd.DataFrame, source: str, mapping: TableMapping, decimal: str) -> gpd.GeoDataFrame:
    """Points from coordinate columns (plain tables) or the file's geometry, in EPSG:27700."""
    if isinstance(raw, gpd.GeoDataFrame) and raw.geometry.name in raw.columns:
        if raw.crs is None:
            msg = (
                f"{source}: the file has no coordinate reference system (CRS), so its "
                "locations cannot be placed. Set one and save again, e.g. in QGIS "
                "(Layer > Set CRS) or with geopandas `gdf.set_crs('EPSG:27700').to_file(...)`."
            )
            raise EstateError(msg)
        gdf = raw.rename_geometry("geometry") if raw.geometry.name != "geometry" else raw
        if (why := unreadable.grid_without_crs(gdf, source)) is not None:
            raise EstateError(why)
        return _check_bounds(gdf.to_crs(CRS))
    lower = {str(c).lower(): c for c in raw.columns}
    for names, crs in [*((n, CRS_LONLAT) for n in LONLAT_NAMES), *((n, CRS) for n in BNG_NAMES)]:
        if names[0] in lower and names[1] in lower:
            xcol, ycol = lower[names[0]], lower[names[1]]
            given_crs = _crs(mapping, source)
            degrees = (given_crs or crs) == CRS_LONLAT
            x, x_bad = _coordinates(raw, xcol, decimal, degrees=degrees)
            y, y_bad = _coordinates(raw, ycol, decimal, degrees=degrees)
            ok = np.isfinite(x) & np.isfinite(y)
            points = gpd.GeoSeries.from_xy(np.where(ok, x, 0.0), np.where(ok, y, 0.0), crs=given_crs or crs)
            points = points.where(ok, None)
            gdf = gpd.GeoDataFrame(raw, geometry=points.to_crs(CRS), crs=CRS)
            gdf.attrs["read"] = ReadFacts(
                coordinate_columns=(str(xcol), str(ycol)),
                coordinate_crs="" if given_crs else crs,
                coordinate_problems={str(xcol): x_bad, str(ycol): y_bad},
            )
            return _check_bounds(gdf)
    msg = (
        f"{source}: no location. Give `lon` and `lat` columns (WGS84 degrees) or `easting` "
        "and `northing` (British National Grid metres), or map yours to them with `--mapping`. "
        f"Columns found: {', '.join(str(c) for c in raw.columns if c != 'source_row')}."
    )
    raise EstateError(msg)


def _crs(mapping: TableMapping, source: str) -> str | None:
    """The CRS the mapping's ``[read] crs`` gives for coordinate columns, checked; None if unset."""
    given = mapping.read.get("crs")
    if given is None:
        return None
    try:
        pyproj.CRS.from_user_input(given)
    except pyproj.exceptions.CRSError as err:
        msg = (
            f"{source}: the mapping's [read] crs = {given!r} is not a coordinate reference system "
            f'this machine knows ({err}). Use an EPSG code such as "EPSG:27700" (British National '
            'Grid) or "EPSG:4326" (longitude/latitude).'
        )
        raise EstateError(msg) from err
    return given


def _coordinates(
    raw: pd.DataFrame, column: object, decimal: str, *, degrees: bool
) -> tuple[np.ndarray, dict[int, tuple[str, str]]]:
    """One coordinate column as floats (NaN where blank or bad), and {source_row: (problem, fix)}
    for the cells that are filled in but are not a usable number."""
    values = np.full(len(raw), np.nan)
    bad: dict[int, tuple[str, str]] = {}
    fix = f"Give {column} as a plain number" + (" of degrees (WGS84)." if degrees else " of metres.")
    for i, (row, value) in enumerate(zip(raw["source_row"], raw[column], strict=True)):
        if _is_blank_coord(value):
            continue
        if isinstance(value, bool):
            number: object = Bad("is true/false, not a number", "")
        elif isinstance(value, (int, float, np.number)):
            number = float(value)
        else:
            number = number_from_text(str(value), decimal=decimal, grouping=not degrees)
        if isinstance(number, float) and not np.isfinite(number):
            number = Bad("is not a finite number", "")
        if isinstance(number, float):
            values[i] = number
        else:
            assert isinstance(number, Bad)
            bad[int(row)] = (number.problem, number.fix or fix)
    return values, bad


def _check_bounds(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mark shapes far outside Great Britain (swapped or wrong-CRS coordinates)."""
    facts = gdf.attrs.get("read", ReadFacts())
    valid = gdf.geometry.notna() & ~gdf.geometry.is_empty
    if valid.any():
        b = gdf.geometry[valid].bounds
        out = (
            (b.minx < GB_BOUNDS[0])
            | (b.miny < GB_BOUNDS[1])
            | (b.maxx > GB_BOUNDS[2])
            | (b.maxy > GB_BOUNDS[3])
        )
        out |= (b.maxx < 1000) & (b.maxy < 1000)  # degrees given as metres
        outside = frozenset(int(r) for r in gdf.loc[out[out].index, "source_row"])
        gdf.attrs["read"] = replace(facts, outside_gb=outside)
    return gdf


def load_estate(
    buildings: str | Path,
    *,
    occupiers: str | Path | None = None,
    zones: str | Path | None = None,
    access: str | Path | None = None,
    compatibility: str | Path | None = None,
    layers: dict[str, str] | None = None,
    mapping: str | Path | Mapping | None = None,
    strict: bool = False,
    name: str | None = None,
    travel_matrix: str | Path | None = None,
) -> Estate:
    """Read, map and validate an estate from files; return an immutable `Estate`.

    Parameters
    ----------
    buildings
        The buildings register. A GeoPackage with layers named ``buildings``,
        ``occupiers``, ``zones``, ``access`` and ``compatibility`` supplies every table
        that is not given separately.
    occupiers, zones, access, compatibility
        Optional separate files for the other tables.
    layers
        Layer (GeoPackage) or sheet (Excel) per table, e.g. ``{"buildings": "assets"}``.
    mapping
        A mapping file, a built-in mapping name (``transparency-code``) or a `Mapping`.
    strict
        Raise `EstateValidationError` on the first table with any issue, instead of
        rejecting the bad rows.
    name
        Name of the place, for reports.
    travel_matrix
        Optional CSV of ``zone_id, building_id, minutes`` that overrides modelled travel times.

    Raises
    ------
    EstateError
        A file is missing, unreadable or has no CRS, or no building is accepted.
    EstateValidationError
        A required column is missing, or `strict` and any issue was found.

    """
    the_mapping = mapping if isinstance(mapping, Mapping) or mapping is None else load_mapping(mapping)
    layers = dict(layers or {})
    buildings = _as_source(buildings)
    files: dict[str, tuple[Path | str, str | None]] = {"buildings": (buildings, layers.get("buildings"))}
    given = {"occupiers": occupiers, "zones": zones, "access": access, "compatibility": compatibility}
    if isinstance(buildings, str):  # a PostGIS URL: the schema's other tables come with #schema.buildings
        missing = tuple(t for t, p in given.items() if p is None)
        beside: dict[str, str] = postgis.siblings(buildings, missing) if missing else {}
        given = {t: p if p is not None else beside.get(t) for t, p in given.items()}
        available: list[str] = []
    else:
        available = _gpkg_layers(buildings)
    if available and "buildings" in available and "buildings" not in layers:
        files["buildings"] = (buildings, "buildings")
    for table, path in given.items():
        if path is not None:
            files[table] = (_as_source(path), layers.get(table))
        elif table in available:
            files[table] = (buildings, table)

    accepted: dict[str, pd.DataFrame] = {}
    rejected: dict[str, pd.DataFrame] = {}
    issues: list[Issue] = []
    notes: list[Issue] = []
    sources: dict[str, str] = {}
    for table in TABLE_NAMES:
        if table not in files:
            continue
        path, layer = files[table]
        table_mapping = the_mapping.for_table(table) if the_mapping else None
        raw = read_table(path, table, layer=layer, mapping=table_mapping)
        source = postgis.parse(path).label if isinstance(path, str) else _source_name(path, layer)
        sources[table] = source
        decimal = _decimal(table_mapping or TableMapping(), source)
        good, bad, found = _validate_with_location(raw, table, source=source, strict=strict, decimal=decimal)
        notes.extend(raw.attrs["read"].notes)
        accepted[table], rejected[table] = good, bad
        issues.extend(found)

    _check_some_buildings(accepted["buildings"], rejected["buildings"], issues, sources["buildings"])
    occ = accepted.get("occupiers")
    if occ is not None:
        occ, bad_occ, found = _check_occupier_buildings(
            occ, accepted["buildings"], rejected["buildings"], source=sources["occupiers"], strict=strict
        )
        accepted["occupiers"] = occ
        rejected["occupiers"] = (
            pd.concat([rejected["occupiers"], bad_occ]) if len(bad_occ) else rejected["occupiers"]
        )
        issues.extend(found)

    _warn_notes(notes)
    matrix = None
    if travel_matrix:
        zone_ids = accepted["zones"]["zone_id"] if "zones" in accepted else ()
        building_ids = accepted["buildings"]["building_id"]
        matrix = read_travel_matrix(travel_matrix, zone_ids=zone_ids, building_ids=building_ids)
    return Estate.from_tables(
        buildings=accepted["buildings"],
        occupiers=accepted.get("occupiers"),
        zones=accepted.get("zones"),
        access=accepted.get("access"),
        compatibility=accepted.get("compatibility"),
        rejected=rejected,
        issues=tuple(issues),
        notes=tuple(notes),
        sources=sources,
        name=name or (postgis.default_name(buildings) if isinstance(buildings, str) else buildings.stem),
        travel_matrix=matrix,
    )


def _validate_with_location(
    raw: pd.DataFrame, table: str, *, source: str, strict: bool, decimal: str = "."
) -> tuple[pd.DataFrame, pd.DataFrame, list[Issue]]:
    """validate_table, plus issues that name the coordinate column that is actually wrong."""
    extra = _location_issues(raw, table, source) if table in SPATIAL_TABLES else []
    good, bad, issues = validate_table(raw, table, source=source, decimal=decimal)
    if extra:
        # the coordinate-column issue replaces the generic "geometry location is missing"
        coord_rows = {i.row for i in extra if i.column != "geometry"}
        issues = [i for i in issues if not (i.column == "geometry" and i.row in coord_rows)] + extra
        issues.sort(key=lambda i: i.row)
    if strict and issues:
        raise EstateValidationError(source, issues)
    if not extra:
        return good, bad, issues
    is_bad, rejected = split_rows(raw, issues, source=source)
    good = good[good["source_row"].isin(raw.loc[~is_bad, "source_row"])]
    return good, rejected, issues


def _location_issues(raw: pd.DataFrame, table: str, source: str) -> list[Issue]:
    """Rows with no usable location or one outside Great Britain, naming the wrong column."""
    facts: ReadFacts = raw.attrs.get("read", ReadFacts())
    coords = facts.coordinate_columns
    id_col = ID_COLUMN[table]
    geometry = raw.geometry
    missing = geometry.isna() | geometry.is_empty
    suspect = ((missing & bool(coords)) | raw["source_row"].isin(list(facts.outside_gb))).to_numpy()
    if not suspect.any():
        return []
    picked = raw.loc[suspect]  # only rows without a usable location are looked at one by one
    ids = picked[id_col].tolist() if id_col in picked.columns else [None] * len(picked)
    values = {col: picked[col].tolist() for col in coords}
    issues: list[Issue] = []
    for pos, (row, shape) in enumerate(
        zip(picked["source_row"].tolist(), picked.geometry.tolist(), strict=True)
    ):
        raw_id = ids[pos]
        rid = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
        cells = {col: values[col][pos] for col in coords}
        found: list[tuple[str, object, str, str]] = []
        if coords and (shape is None or shape.is_empty):
            for col, value in cells.items():
                if _is_blank_coord(value):
                    found.append(
                        (col, value, "is blank (no location)", f"Give both {coords[0]} and {coords[1]}.")
                    )
                elif row in facts.coordinate_problems.get(col, {}):
                    found.append((col, value, *facts.coordinate_problems[col][row]))
        elif coords:
            found.extend(_out_of_range(cells, facts.coordinate_crs))
        else:
            found.append(
                (
                    "geometry",
                    shape.wkt[:60],
                    "is outside Great Britain",
                    "Check the CRS, or whether x/y (lon/lat) are swapped.",
                )
            )
        issues.extend(
            Issue(source, int(row), rid, col, plain_value(v), problem, fix) for col, v, problem, fix in found
        )
    return issues


def _out_of_range(cells: dict[str, object], crs: str) -> list[tuple[str, object, str, str]]:
    """The coordinate column(s) that put a point outside Great Britain."""
    xcol, ycol = cells
    swapped = f"Check whether {xcol} and {ycol} are swapped, and the CRS."
    ranges = GB_LONLAT if crs == CRS_LONLAT else GB_BNG if crs == CRS else None
    numbers = {col: number_from_text(v) if isinstance(v, str) else v for col, v in cells.items()}
    if ranges is not None:
        unit = "degrees" if crs == CRS_LONLAT else "m"
        out = [
            (col, cells[col], f"is outside Great Britain ({low:,g} to {high:,g} {unit} expected)", swapped)
            for (col, number), (low, high) in zip(numbers.items(), ranges, strict=True)
            if isinstance(number, (int, float)) and not low <= float(number) <= high
        ]
        if out:
            return out
        if crs == CRS and all(isinstance(n, (int, float)) and abs(n) < 1000 for n in numbers.values()):
            return [
                (
                    col,
                    cells[col],
                    "looks like degrees, not British National Grid metres",
                    f"Name the columns lon and lat if they hold degrees, or check {col}.",
                )
                for col in cells
            ]
    return [(col, cells[col], "puts the location outside Great Britain", swapped) for col in cells]


def _check_some_buildings(
    accepted: pd.DataFrame, rejected: pd.DataFrame, issues: list[Issue], source: str
) -> None:
    """Refuse an estate with no building: an empty register, or one whose every row is rejected."""
    if not accepted.empty:
        return
    if rejected.empty:
        msg = (
            f"{source}: no rows below the header; a register needs at least one building. The file "
            "names its columns but holds no buildings. Fix: add one row per building under the "
            "header (or upload the file that holds them)."
        )
        raise EstateError(msg)
    first = [i for i in issues if i.source == source][:10]
    if not first:  # rows, but none with a problem named for this file: say what is there
        msg = (
            f"{source}: no building was accepted: its {len(rejected):,} row(s) hold no usable "
            "building (blank, or only a header). Fix: fill in at least one row of the register."
        )
        raise EstateError(msg)
    msg = f"{source}: no building was accepted ({len(rejected):,} rejected). First problems:\n" + "\n".join(
        f"  - {i}" for i in first
    )
    raise EstateError(msg)


def _warn_notes(notes: list[Issue]) -> None:
    """One warning per file for its reading notes (the CLI prints them; the app lists notes)."""
    by_source: dict[str, list[Issue]] = {}
    for note in notes:
        by_source.setdefault(note.source, []).append(note)
    for source, found in by_source.items():
        warnings.warn(
            f"{source}: {len(found):,} formula cell(s) have no saved result and read as blank "
            f"(first: {found[0]}). They are listed in the notes.",
            EstateDataWarning,
            stacklevel=3,
        )


def _is_blank_coord(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _check_occupier_buildings(
    occupiers: pd.DataFrame,
    buildings: pd.DataFrame,
    rejected_buildings: pd.DataFrame,
    *,
    source: str,
    strict: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Issue]]:
    """Reject occupiers whose building is unknown or was itself rejected."""
    known = set(buildings["building_id"])
    bad_ids = set(rejected_buildings.get("building_id", pd.Series(dtype=object)).astype(str))
    issues = []
    columns = (occupiers["building_id"], occupiers["source_row"], occupiers["occupier_id"])
    for bid, row, oid in zip(*columns, strict=True):
        if bid in known:
            continue
        why = "is a building that was rejected" if bid in bad_ids else "is not in the buildings table"
        issues.append(
            Issue(
                source,
                int(row),
                oid,
                "building_id",
                bid,
                why,
                "Fix the building, or the occupier's building_id.",
            )
        )
    if not issues:
        return occupiers, occupiers.iloc[0:0].assign(reasons=pd.Series(dtype=object)), []
    if strict:
        raise EstateValidationError(source, issues)
    bad_rows = {i.row: f"building_id {i.problem}" for i in issues}
    is_bad = occupiers["source_row"].isin(list(bad_rows))
    bad = occupiers[is_bad].assign(reasons=occupiers.loc[is_bad, "source_row"].map(bad_rows))
    return occupiers[~is_bad].copy(), pd.DataFrame(bad), issues


def _as_source(source: str | Path) -> str | Path:
    """A PostGIS URL stays text (a Path would fold its ``//``); anything else is a file path."""
    return source.strip() if isinstance(source, str) and postgis.is_database(source) else Path(source)


def _gpkg_layers(path: Path) -> list[str]:
    if path.suffix.lower() != ".gpkg" or not path.exists():
        return []
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:
        return []


def load_place(place: str, *, strict: bool = False) -> Estate:
    """Load a bundled place: ``greater_manchester`` or ``trafford``.

    Raises
    ------
    EstateError
        If the place is unknown or its file is missing.

    """
    if place not in PLACES:
        msg = f"Unknown place {place!r}. Bundled places: {', '.join(PLACES)}."
        raise EstateError(msg)
    return load_estate(DATA_DIR / f"{place}.gpkg", strict=strict, name=PLACES[place])
