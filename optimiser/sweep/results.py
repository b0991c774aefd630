"""A sweep's results on disk: each job kept in ``jobs/<key>.json`` as it returns, and the whole
run's ``results.csv``, ``results.gpkg`` and ``run.json`` (see ``docs/sweep.md``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from estate import Estate
from estate.schema import CRS
from optimiser.report.inert import csv_text, inert_frame
from optimiser.report.rundir import run_versions, write_run_dir
from optimiser.sweep.jobs import KPI_COLUMNS, LEAD_COLUMNS, TAIL_COLUMNS
from optimiser.sweep.places import list_places

RESULT_FILES = ("results.csv", "results.gpkg")
CACHE_DIRS = ("jobs",)


def job_path(jobs_dir: Path, key: str) -> Path:
    """Where a finished job's result is kept: ``jobs/<key>.json``."""
    return jobs_dir / f"{key}.json"


def read_job(jobs_dir: Path, key: str) -> dict[str, Any] | None:
    """A job's kept result, or None when there is none (or it cannot be read)."""
    path = job_path(jobs_dir, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("row"), dict) else None


def write_job(jobs_dir: Path, key: str, result: dict[str, Any]) -> None:
    """Keep a job's result as soon as it returns (written whole, then renamed into place)."""
    path = job_path(jobs_dir, key)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(result, default=_json_default), encoding="utf-8")
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return str(value)


def results_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per job, columns in a fixed order (access columns after the KPIs)."""
    frame = pd.DataFrame(list(rows))
    extra = sorted(c for c in frame.columns if c.startswith("access_"))
    cols = [*LEAD_COLUMNS, *KPI_COLUMNS, *extra, *TAIL_COLUMNS]
    frame = frame.reindex(columns=cols)
    for col in (
        "gap",
        "gap_npv_share",
        "gap_gbp",
        "time_s",
        *KPI_COLUMNS,
        *extra,
        "build_s",
        "solve_s",
        "cpu_s",
        "objective_gbp_k",
        "bound_gbp_k",
        "buffer_km",
    ):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["proven_optimal"] = frame["proven_optimal"].fillna(False).astype(bool)
    frame["cached"] = frame["cached"].fillna(False).astype(bool)
    return frame.sort_values(["place", "scenario"], kind="stable").reset_index(drop=True)


def write_results(
    out: Path, frame: pd.DataFrame, results: Sequence[dict[str, Any]], estate: Estate
) -> dict[str, Path]:
    """results.csv, results.gpkg (layers ``jobs`` and ``buildings``) and run.json, as one whole
    folder (`optimiser.report.rundir.write_run_dir`; ``jobs/`` is carried over)."""
    identity = {
        "command": "sweep",
        "jobs": {str(r["row"].get("job_key")): str(r["row"].get("status")) for r in results},
        "versions": run_versions(),
    }
    return write_run_dir(
        out,
        lambda folder: _write_result_files(folder, frame, results, estate),
        identity,
        known_files=RESULT_FILES,
        cache_dirs=CACHE_DIRS,
    )


def _write_result_files(
    out: Path, frame: pd.DataFrame, results: Sequence[dict[str, Any]], estate: Estate
) -> None:
    (out / "results.csv").write_bytes(csv_text(frame).encode())

    centres = list_places(estate).set_index("place")
    xy = centres[["easting", "northing"]].reindex(frame["place"]).to_numpy()
    jobs = gpd.GeoDataFrame(
        frame.assign(
            gap=frame["gap"].replace([np.inf, -np.inf], np.nan),
            gap_npv_share=frame["gap_npv_share"].replace([np.inf, -np.inf], np.nan),
        ),
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )
    records = []
    for result in results:
        row = result["row"]
        for b in result.get("buildings", []):
            records.append(
                {
                    "job_key": row.get("job_key"),
                    "place": row.get("place"),
                    "scenario": row.get("scenario"),
                    **b,
                }
            )
    gpkg = out / "results.gpkg"
    pyogrio.write_dataframe(inert_frame(jobs), gpkg, layer="jobs", driver="GPKG")
    if records:
        b = pd.DataFrame(records)
        geo = gpd.GeoDataFrame(b, geometry=gpd.points_from_xy(b["easting"], b["northing"]), crs=CRS)
        pyogrio.write_dataframe(inert_frame(geo), gpkg, layer="buildings", driver="GPKG")


__all__ = [
    "CACHE_DIRS",
    "RESULT_FILES",
    "job_path",
    "read_job",
    "results_frame",
    "write_job",
    "write_results",
]
