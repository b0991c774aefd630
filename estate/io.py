"""Read registers from files (GeoPackage, GeoJSON, Shapefile, CSV, Excel) and load an Estate.

``read_table`` turns one file (or layer) into a raw frame plus ``source_row``, mapped to our
column names and reprojected to British National Grid. ``load_estate`` reads every table,
validates it and returns an immutable `Estate`. Nothing read is ever written back.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from estate.errors import EstateDataWarning, EstateError, EstateValidationError, Issue
from estate.mapping import Mapping, TableMapping, apply_mapping, load_mapping
from estate.model import Estate
from estate.schema import CRS, CRS_LONLAT, SPATIAL_TABLES
from estate.travel import read_travel_matrix
from estate.validate import split_rows, validate_table

DATA_DIR = Path(os.environ.get("ESTATE_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))
PLACES = {"greater_manchester": "Greater Manchester", "trafford": "Trafford"}
SPATIAL_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
SUPPORTED = SPATIAL_SUFFIXES + TABLE_SUFFIXES
LONLAT_NAMES = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("long", "lat"))
BNG_NAMES = (("easting", "northing"), ("x_bng", "y_bng"), ("bng_e", "bng_n"))
GB_BOUNDS = (0.0, 0.0, 7.0e5, 1.3e6)  # the British National Grid box around Great Britain
TABLE_NAMES = ("buildings", "occupiers", "zones", "access", "compatibility")


def read_table(
    path: str | Path,
    table: str,
    *,
    layer: str | None = None,
    mapping: TableMapping | None = None,
) -> pd.DataFrame:
    """Read one table from a file, map its columns and add `source_row` (1 = first record).

    Spatial tables come back as a GeoDataFrame in EPSG:27700. A CSV or Excel sheet gets its
    points from `lon`/`lat` (EPSG:4326) or `easting`/`northing` (EPSG:27700) columns.

    Raises
    ------
    EstateError
        If the file is missing, of an unsupported type, unreadable, or has no CRS.

    """
    path = Path(path)
    mapping = mapping or TableMapping()
    source = _source_name(path, layer)
    if not path.exists():
        msg = f"{source}: file not found. Check the path (working directory: {Path.cwd()})."
        raise EstateError(msg)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        msg = f"{source}: unsupported file type {suffix or '(none)'!r}. Use one of {', '.join(SUPPORTED)}."
        raise EstateError(msg)
    spatial = table in SPATIAL_TABLES
    try:
        if suffix in TABLE_SUFFIXES:
            raw = _read_plain(path, layer, mapping, source)
        elif spatial:
            raw = gpd.read_file(path, layer=layer)
        else:
            raw = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except EstateError:
        raise
    except Exception as err:  # pyogrio, pandas and openpyxl raise many kinds
        msg = f"{source}: cannot be read as a {table} table ({type(err).__name__}: {err})."
        raise EstateError(msg) from err
    raw = pd.DataFrame(raw) if not spatial else raw
    if suffix in (".shp", ".zip"):
        raw = _untruncate_shapefile_names(raw, table)
    raw = raw.drop(columns=[c for c in raw.columns if str(c).startswith("Unnamed: ")], errors="ignore")
    if "source_row" in raw.columns:
        raw = raw.rename(columns={"source_row": "source_row_in_file"})
    raw = apply_mapping(raw, mapping)
    raw.insert(0, "source_row", np.arange(1, len(raw) + 1))
    if spatial:
        raw = _to_bng(raw, source, mapping)
    return raw


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


def _read_plain(path: Path, layer: str | None, mapping: TableMapping, source: str) -> pd.DataFrame:
    """CSV or Excel, every cell as read (text for CSV), nothing coerced."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, sheet_name=layer or 0, dtype=object)
    encodings = ["utf-8-sig"]
    if "encoding" in mapping.read:
        encodings.insert(0, mapping.read["encoding"])
    for encoding in encodings:
        try:
            return pd.read_csv(path, dtype=object, encoding=encoding)
        except UnicodeDecodeError:
            continue
    warnings.warn(
        f"{source}: not valid UTF-8; read as Windows-1252. Save it as UTF-8, or set "
        "`encoding` in the mapping's [read] section, to silence this.",
        EstateDataWarning,
        stacklevel=3,
    )
    return pd.read_csv(path, dtype=object, encoding="cp1252")


def _to_bng(raw: pd.DataFrame, source: str, mapping: TableMapping) -> gpd.GeoDataFrame:
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
        return _check_bounds(gdf.to_crs(CRS))
    lower = {str(c).lower(): c for c in raw.columns}
    for names, crs in [*((n, CRS_LONLAT) for n in LONLAT_NAMES), *((n, CRS) for n in BNG_NAMES)]:
        if names[0] in lower and names[1] in lower:
            xcol, ycol = lower[names[0]], lower[names[1]]
            x = pd.to_numeric(raw[xcol].map(_clean_number), errors="coerce")
            y = pd.to_numeric(raw[ycol].map(_clean_number), errors="coerce")
            ok = x.notna() & y.notna() & np.isfinite(x) & np.isfinite(y)
            points = gpd.GeoSeries.from_xy(
                x.where(ok, 0.0), y.where(ok, 0.0), crs=mapping.read.get("crs", crs)
            )
            points = points.where(ok, None)
            gdf = gpd.GeoDataFrame(raw, geometry=points.to_crs(CRS), crs=CRS)
            gdf.attrs["coordinate_columns"] = (str(xcol), str(ycol))
            return _check_bounds(gdf)
    msg = (
        f"{source}: no location. Give `lon` and `lat` columns (WGS84 degrees) or `easting` "
        "and `northing` (British National Grid metres), or map yours to them with `--mapping`. "
        f"Columns found: {', '.join(str(c) for c in raw.columns if c != 'source_row')}."
    )
    raise EstateError(msg)


def _clean_number(value: object) -> object:
    return value.replace(",", "").strip() if isinstance(value, str) else value


def _check_bounds(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mark shapes far outside Great Britain (swapped or wrong-CRS coordinates)."""
    gdf.attrs.setdefault("coordinate_columns", ())
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
        gdf.attrs["outside_gb"] = tuple(int(r) for r in gdf.loc[out[out].index, "source_row"])
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
    buildings = Path(buildings)
    files: dict[str, tuple[Path, str | None]] = {"buildings": (buildings, layers.get("buildings"))}
    given = {"occupiers": occupiers, "zones": zones, "access": access, "compatibility": compatibility}
    available = _gpkg_layers(buildings)
    if available and "buildings" in available and "buildings" not in layers:
        files["buildings"] = (buildings, "buildings")
    for table, path in given.items():
        if path is not None:
            files[table] = (Path(path), layers.get(table))
        elif table in available:
            files[table] = (buildings, table)

    accepted: dict[str, pd.DataFrame] = {}
    rejected: dict[str, pd.DataFrame] = {}
    issues: list[Issue] = []
    sources: dict[str, str] = {}
    for table in TABLE_NAMES:
        if table not in files:
            continue
        path, layer = files[table]
        table_mapping = the_mapping.for_table(table) if the_mapping else None
        raw = read_table(path, table, layer=layer, mapping=table_mapping)
        source = _source_name(path, layer)
        sources[table] = source
        good, bad, found = _validate_with_location(raw, table, source=source, strict=strict)
        accepted[table], rejected[table] = good, bad
        issues.extend(found)

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

    if accepted["buildings"].empty:
        msg = (
            f"{sources['buildings']}: no building was accepted "
            f"({len(rejected['buildings'])} rejected). First problems:\n"
            + "\n".join(f"  - {i}" for i in issues[:10])
        )
        raise EstateError(msg)
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
        sources=sources,
        name=name or buildings.stem,
        travel_matrix=matrix,
    )


def _validate_with_location(
    raw: pd.DataFrame, table: str, *, source: str, strict: bool
) -> tuple[pd.DataFrame, pd.DataFrame, list[Issue]]:
    """validate_table, plus issues that name the coordinate columns of a CSV."""
    extra: list[Issue] = []
    if table in SPATIAL_TABLES:
        coords = raw.attrs.get("coordinate_columns", ())
        outside = set(raw.attrs.get("outside_gb", ()))
        id_col = "building_id" if table == "buildings" else "zone_id"
        geometry = raw.geometry
        missing = geometry.isna() | geometry.is_empty
        suspects = raw.index[(missing & bool(coords)) | raw["source_row"].isin(list(outside))]
        for idx in suspects:  # only rows without a usable location are looked at one by one
            row = int(raw.at[idx, "source_row"])
            rid = raw.at[idx, id_col] if id_col in raw.columns else None
            rid = str(rid) if isinstance(rid, str) and rid.strip() else None
            shape = raw.geometry.at[idx]
            if coords and (shape is None or shape.is_empty):
                values = {c: raw.at[idx, c] for c in coords}
                bad = [c for c, v in values.items() if not _is_blank_coord(v)]
                col = coords[0] if not bad else bad[0]
                problem = "is blank" if not bad else "is not a number"
                extra.append(
                    Issue(
                        source,
                        row,
                        rid,
                        col,
                        values[col],
                        f"location {problem}",
                        f"Give both {coords[0]} and {coords[1]} as numbers.",
                    )
                )
            elif row in outside:
                extra.append(
                    Issue(
                        source,
                        row,
                        rid,
                        "geometry",
                        shape.wkt[:60],
                        "is outside Great Britain",
                        "Check the CRS, or whether x/y (lon/lat) are swapped.",
                    )
                )
    good, bad, issues = validate_table(raw, table, source=source)
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
    for idx in occupiers.index:
        bid = occupiers.at[idx, "building_id"]
        if bid in known:
            continue
        why = "is a building that was rejected" if bid in bad_ids else "is not in the buildings table"
        issues.append(
            Issue(
                source,
                int(occupiers.at[idx, "source_row"]),
                occupiers.at[idx, "occupier_id"],
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
