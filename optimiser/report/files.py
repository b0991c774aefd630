"""Every file a plan is exported as: the run folder, Excel, GeoJSON, GeoPackage and the CSV zip. No Streamlit.

`write_plan` writes the CLI's run folder (`optimiser.report.rundir`); `plan_to_excel`,
`plan_to_geojson`, `plan_to_geopackage_bytes` and `csv_zip` are the app's downloads. Every text
cell goes through `optimiser.report.inert`. The tables are the plan's own (`plan_tables`) plus
`zones_table`, which says per zone and service whether it is within reach before and after.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString

from estate import Estate
from estate.schema import CRS
from optimiser.access import reach_pairs, standards_for
from optimiser.jsonable import jsonable
from optimiser.outcomes import sites_by_service
from optimiser.plan import Plan
from optimiser.provenance import estate_digest
from optimiser.report.inert import csv_text, excel_bytes, inert_frame
from optimiser.report.kpis import MODELLED_FILE_NOTE, disposals_table
from optimiser.report.programme import PROGRAMME_TABLES
from optimiser.report.rundir import checkpoint, run_versions, write_run_dir
from optimiser.report.words import column_name, readable_table
from optimiser.scenario import Scenario

PLAN_TABLES = ("buildings", "occupiers", "partners", "access", "zones")
"""The tables of a plan as saved, compared and exported: the plan's own four, and `zones_table`."""


def plan_tables(estate: Estate, plan: Plan) -> dict[str, pd.DataFrame]:
    """The plan's tables by name (`PLAN_TABLES`): copies of its own, and the per-zone reach table."""
    return {
        "buildings": plan.buildings.copy(),
        "occupiers": plan.occupiers.copy(),
        "partners": plan.partners.copy(),
        "access": plan.access.copy(),
        "zones": zones_table(estate, plan),
    }


def zones_table(estate: Estate, plan: Plan) -> pd.DataFrame:
    """Zones with, per access standard, whether each is within reach before and after."""
    z = estate.zones
    out = pd.DataFrame(
        {
            "zone_id": z.index.to_numpy(),
            "name": z["name"].to_numpy(),
            "borough": z["borough"].to_numpy(),
            "easting": z["easting"].round(1).to_numpy(),
            "northing": z["northing"].round(1).to_numpy(),
            "population": z["population"].to_numpy(),
            "imd_decile": z["imd_decile"].to_numpy(),
        }
    )
    if z.empty or plan.access.empty:
        return out
    parts = plan.occupiers.rename(columns={})
    before = sites_by_service(estate, parts, after=False)
    after = sites_by_service(estate, parts, after=True)
    standards = {s.service: s for s in standards_for(estate, plan.scenario)}
    for service in plan.access["service"]:
        reach = reach_pairs(estate, standards[service])
        for label, sites in (("before", before.get(service, set())), ("after", after.get(service, set()))):
            covered = set(reach.loc[reach["building_id"].isin(sites), "zone_id"])
            out[f"reach_{service}_{label}"] = out["zone_id"].isin(covered).to_numpy()
    return out


def moves_lines(estate: Estate, plan: Plan) -> gpd.GeoDataFrame:
    """One line per occupier part that changes building, from old to new building."""
    moved = plan.occupiers[plan.occupiers["from_building_id"] != plan.occupiers["to_building_id"]]
    xy = estate.buildings[["easting", "northing"]]
    lines = [
        LineString([tuple(xy.loc[a]), tuple(xy.loc[b])])
        for a, b in zip(moved["from_building_id"], moved["to_building_id"], strict=True)
    ]
    return gpd.GeoDataFrame(moved.reset_index(drop=True), geometry=lines, crs=CRS)


def buildings_frame(estate: Estate, plan: Plan) -> gpd.GeoDataFrame:
    """The plan's building table with point geometry."""
    geometry = gpd.points_from_xy(plan.buildings["easting"], plan.buildings["northing"], crs=CRS)
    return gpd.GeoDataFrame(plan.buildings.copy(), geometry=geometry, crs=CRS)


def zones_frame(estate: Estate, plan: Plan) -> gpd.GeoDataFrame:
    """The zones table with point geometry."""
    table = zones_table(estate, plan)
    geometry = gpd.points_from_xy(table["easting"], table["northing"], crs=CRS)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)


RUN_FILES = (
    "buildings.csv",
    "occupiers.csv",
    "zones.csv",
    "partners.csv",
    "access.csv",
    "summary.json",
    "plan.gpkg",
    "coalitions.csv",
    "shapley.csv",
    "scenario.toml",
    "programme.csv",  # a phased plan's three tables (optimiser.programme)
    "cashflow.csv",
    "partners_by_year.csv",
)


def programme_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """A phased plan's programme, cash flow and cash per partner by year ({} for a static plan)."""
    if plan.programme is None:
        return {}
    p = plan.programme
    return {
        "programme": p.events.copy(),
        "cashflow": p.cashflow.copy(),
        "partners_by_year": p.partners_by_year.copy(),
    }


def write_plan(
    estate: Estate,
    plan: Plan,
    out_dir: str | Path,
    *,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
    extra_runs: Mapping[str, Plan] | None = None,
    extra_summary: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write buildings.csv, occupiers.csv, zones.csv, partners.csv, access.csv, summary.json,
    plan.gpkg, scenario.toml and the manifest run.json to `out_dir`, as one whole run or not at all.

    `extra_tables` (file name -> table) are written beside them, `extra_runs` (folder name ->
    plan) as run folders of their own inside it (e.g. ``alt_1/``, each with its run.json),
    `extra_summary` joins summary.json; all of them are in the run's manifest.

    The files are written into a fresh folder beside `out_dir`, which then replaces it
    (`optimiser.report.rundir.write_run_dir`); every text cell is inert (`optimiser.report.inert`).
    Returns file name -> path (run.json not included).

    Raises
    ------
    optimiser.report.rundir.RunDirError
        If `out_dir` holds anything that is not a run (it is left as it is).

    """
    tables = {f"{name}.csv": frame for name, frame in plan_tables(estate, plan).items()}
    summary = plan.summary_dict() | dict(extra_summary or {}) | {"note": MODELLED_FILE_NOTE}
    tables |= {f"{name}.csv": frame for name, frame in programme_tables(plan).items()}
    tables |= dict(extra_tables or {})

    def write(folder: Path) -> None:
        for name, frame in tables.items():
            (folder / name).write_bytes(csv_text(frame).encode())
            checkpoint(f"wrote {name}")
        (folder / "summary.json").write_bytes(json.dumps(summary, indent=2).encode())
        checkpoint("wrote summary.json")
        (folder / "scenario.toml").write_bytes(plan.scenario.to_toml().encode())  # for `report`
        write_geopackage(estate, plan, folder / "plan.gpkg")
        checkpoint("wrote plan.gpkg")
        for name, other in (extra_runs or {}).items():
            write_plan(estate, other, folder / name)

    return write_run_dir(out_dir, write, run_identity(estate, plan, command="run"), known_files=RUN_FILES)


def run_identity(estate: Estate, plan: Plan, *, command: str) -> dict[str, object]:
    """What a run was, for its manifest: place, scenario and its hash, input data and versions."""
    return {
        "command": command,
        "place": estate.name,
        "scenario": plan.scenario.name,
        "scenario_sha256": hashlib.sha256(plan.scenario.to_toml().encode()).hexdigest(),
        "estate_sha256": estate_digest(estate),
        "sources": dict(estate.sources),
        "status": plan.info.status,
        "versions": run_versions(),
    }


def write_geopackage(estate: Estate, plan: Plan, path: Path) -> Path:
    """Layers buildings, moves, zones (for QGIS), written to a temporary file then renamed.

    Text attributes are inert (`optimiser.report.inert`): the layers' tables are opened in
    spreadsheets too.
    """
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    inert_frame(buildings_frame(estate, plan)).to_file(tmp, layer="buildings", driver="GPKG")
    lines = moves_lines(estate, plan)
    if len(lines):
        inert_frame(lines).to_file(tmp, layer="moves", driver="GPKG")
    inert_frame(zones_frame(estate, plan)).to_file(tmp, layer="zones", driver="GPKG")
    os.replace(tmp, path)
    return path


def plan_to_excel(estate: Estate, plan: Plan) -> bytes:
    """An .xlsx workbook with a sheet per table; text cells are text, never formulas.

    The data sheets keep the codes and column names of the run folder's CSVs; the summary gives
    each field its display name, and two sheets, "disposal list" and "per partner", are the
    board's readable tables (`optimiser.report.words.readable_table`).
    """
    rows = [(k, v) for k, v in plan.summary_dict().items() if not isinstance(v, dict)] + [
        (f"kpi.{k}", v) for k, v in plan.kpis.items()
    ]
    summary = pd.DataFrame(
        [(field, column_name(field.removeprefix("kpi.")), value) for field, value in rows],
        columns=["field", "label", "value"],
    )
    readable = {
        "disposal list": readable_table(disposals_table(plan.buildings)),
        "per partner": readable_table(plan.partners),
    }
    return excel_bytes(
        {"summary": summary, **plan_tables(estate, plan), **programme_tables(plan), **readable}
    )


def plan_to_geojson(estate: Estate, plan: Plan) -> str:
    """The buildings with decisions, in WGS84 GeoJSON."""
    return str(buildings_frame(estate, plan).to_crs(4326).to_json(drop_id=True))


def plan_to_geopackage_bytes(estate: Estate, plan: Plan) -> bytes:
    """The GeoPackage as bytes (for downloads)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_geopackage(estate, plan, Path(tmp) / "plan.gpkg")
        return path.read_bytes()


def csv_zip(tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any], scenario: Scenario) -> bytes:
    """A zip of a run's tables as CSV, the disposal list, its summary.json and scenario.toml.

    Every text cell is inert (`optimiser.report.inert.csv_text`).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in PLAN_TABLES:
            if table in tables:
                archive.writestr(f"{table}.csv", csv_text(tables[table]))
        for table in PROGRAMME_TABLES:  # a phased plan's programme.csv, cashflow.csv, partners_by_year.csv
            if table in tables:
                archive.writestr(f"{table}.csv", csv_text(tables[table]))
        buildings = tables.get("buildings")
        if buildings is not None:
            archive.writestr("disposals.csv", csv_text(buildings[buildings["decision"] == "dispose"]))
        archive.writestr("summary.json", json.dumps(jsonable(dict(summary)), indent=2))
        archive.writestr("scenario.toml", scenario.to_toml())
    return buffer.getvalue()
