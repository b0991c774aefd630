"""Sweep jobs: one (place, scenario) each, keyed by what its result depends on, solved on a worker.

`plan_jobs` cuts each place out of the estate (`optimiser.sweep.places`) and keys every job
by the sha256 of the place's data, the scenario and the code (`job_key`); `run_job` builds and
solves one job on a Dask worker and returns its result row with the place's own buildings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from estate import Estate, EstateError
from optimiser.errors import InfeasibleScenarioError, OptimiserError
from optimiser.pipeline import optimise
from optimiser.provenance import code_version
from optimiser.report.kpis import KPI_KEYS
from optimiser.scenario import Scenario
from optimiser.sweep.grid import ScenarioRow
from optimiser.sweep.places import PlaceEstate, boundary_buffer_km, list_places, place_estate, scope_plan

# the plan's headline figures, then two more a sweep compares places by
KPI_COLUMNS = (*KPI_KEYS, "floor_area_released_m2", "running_cost_before_gbp")
LEAD_COLUMNS = (
    "place",
    "place_name",
    "scenario",
    "status",
    "proven_optimal",
    "gap",
    "gap_npv_share",
    "time_s",
)
TAIL_COLUMNS = (
    "build_s",
    "solve_s",
    "cpu_s",
    "objective_gbp_k",
    "bound_gbp_k",
    "gap_gbp",
    "buildings_own",
    "buildings_neighbour",
    "zones",
    "population",
    "buffer_km",
    "occupiers_moved",
    "message",
    "worker",
    "cached",
    "job_key",
)
BUILDING_FIELDS = (
    "building_id",
    "name",
    "owner",
    "owner_type",
    "easting",
    "northing",
    "decision",
    "route",
    "occupiers_in",
    "occupiers_out",
    "receipt_gbp",
    "annual_saving_gbp",
    "reason",
)


def job_key(data_hash: str, scenario: Scenario) -> str:
    """sha256 of the place's input data, the scenario (as its file layout) and the code version."""
    text = json.dumps(
        {"data": data_hash, "scenario": scenario.to_dict(), "code": code_version()},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class Job:
    """One (place, scenario) to solve."""

    key: str
    place: str
    place_name: str
    scenario: Scenario
    part: PlaceEstate
    population: int

    def payload(self) -> dict[str, Any]:
        """What the worker needs (pickled by Dask)."""
        return {
            "key": self.key,
            "place": self.place,
            "place_name": self.place_name,
            "scenario": self.scenario,
            "estate": self.part.estate,
            "own": sorted(self.part.own),
            "neighbours": len(self.part.neighbours),
            "buffer_km": self.part.buffer_km,
            "population": self.population,
        }


def _scenario_for_place(scenario: Scenario, own: frozenset[str]) -> Scenario:
    """Locks that name other places' buildings do not apply to this place."""
    keep = tuple(b for b in scenario.keep if b in own)
    dispose = tuple(b for b in scenario.dispose if b in own)
    if keep == scenario.keep and dispose == scenario.dispose:
        return scenario
    return scenario.with_changes(keep=keep, dispose=dispose)


def plan_jobs(
    estate: Estate, places: Sequence[str], rows: Sequence[ScenarioRow]
) -> tuple[list[Job], list[dict[str, Any]]]:
    """Jobs for every (place, valid row), and failed result rows for every (place, malformed row)."""
    table = list_places(estate).set_index("place")
    jobs: dict[str, Job] = {}
    failed: list[dict[str, Any]] = []
    parts: dict[tuple[str, float], tuple[PlaceEstate, str]] = {}
    for row in rows:
        if row.scenario is None:
            for place in places:
                failed.append(
                    result_row(
                        place=place,
                        place_name=str(table.at[place, "place_name"]),
                        scenario=row.name,
                        status="failed",
                        message=row.error,
                    )
                )
            continue
        buffer = round(boundary_buffer_km(estate, row.scenario), 6)
        for place in places:
            if (place, buffer) not in parts:
                part = place_estate(estate, place, buffer_km=buffer)
                parts[(place, buffer)] = (part, part.data_hash())
            part, data_hash = parts[(place, buffer)]
            scenario = _scenario_for_place(row.scenario, part.own)
            key = job_key(data_hash, scenario)
            jobs.setdefault(
                key,
                Job(
                    key=key,
                    place=place,
                    place_name=part.place_name,
                    scenario=scenario,
                    part=part,
                    population=int(table.at[place, "population"]),
                ),
            )
    return list(jobs.values()), failed


def result_row(**values: Any) -> dict[str, Any]:
    """A result row with every column, the defaults of a job that did not run, and `values`."""
    row: dict[str, Any] = dict.fromkeys((*LEAD_COLUMNS, *KPI_COLUMNS, *TAIL_COLUMNS))
    row.update(proven_optimal=False, gap=math.nan, time_s=math.nan, message="", cached=False)
    row.update(values)
    return row


def _status(info: Any) -> str:
    if info.proven_optimal:
        return "optimal"
    if info.status == "time_limit":
        return "time_limit"
    return "feasible"


def npv_gap(objective_k: float, bound_k: float, npv_gbp: float | None) -> tuple[float, float]:
    """The gap in pounds (|objective - bound|, the solver's proven bound) and as a share of the
    plan's NPV: the most the plan's value could still improve, relative to that value.

    The relative `gap` is of the objective, the estate's whole net present cost, so a small
    gap there can be a large part of what the plan saves; this share says how large. It is
    0 when the gap is 0, infinite when the gap is not 0 but the NPV is, nan without a bound.
    """
    if not (math.isfinite(objective_k) and math.isfinite(bound_k)):
        return math.nan, math.nan
    gap_gbp = abs(objective_k - bound_k) * 1000.0
    npv = abs(float(npv_gbp)) if npv_gbp is not None and math.isfinite(float(npv_gbp)) else math.nan
    if gap_gbp <= 0.0:
        return 0.0, 0.0
    if math.isnan(npv):
        return gap_gbp, math.nan
    return gap_gbp, (gap_gbp / npv if npv > 0 else math.inf)


def run_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Build and solve one job (runs on a Dask worker); returns its result.

    Expected failures (infeasible scenario, bad data, no solution) are returned as results;
    anything else raises, so that Dask retries the job and then reports it failed.
    """
    started, started_cpu = time.perf_counter(), time.process_time()
    estate, scenario = payload["estate"], payload["scenario"]
    common = {
        "place": payload["place"],
        "place_name": payload["place_name"],
        "scenario": scenario.name,
        "buildings_own": len(payload["own"]),
        "buildings_neighbour": payload["neighbours"],
        "zones": len(estate.zones),
        "population": payload["population"],
        "buffer_km": payload["buffer_km"],
        "worker": _worker_name(),
        "job_key": payload["key"],
    }
    try:
        plan = optimise(estate, scenario)  # as `optimiser run` does
    except InfeasibleScenarioError as err:
        row = result_row(
            **common, status="infeasible", message=str(err), time_s=time.perf_counter() - started
        )
        return {"row": row, "buildings": [], "moves": [], "access": []}
    except (OptimiserError, EstateError) as err:
        row = result_row(
            **common,
            status="failed",
            message=f"{type(err).__name__}: {err}",
            time_s=time.perf_counter() - started,
        )
        return {"row": row, "buildings": [], "moves": [], "access": []}
    own_plan = scope_plan(plan, estate, payload["own"])
    info = plan.info
    gap = float(info.gap)  # |objective - bound| / |objective|; the bound is the solver's proven one
    gap_gbp, gap_npv = npv_gap(info.objective, info.bound, own_plan.kpis.get("npv_gbp"))
    moved = own_plan.occupiers[own_plan.occupiers["from_building_id"] != own_plan.occupiers["to_building_id"]]
    row = result_row(
        **common,
        status=_status(info),
        proven_optimal=bool(info.proven_optimal),
        gap=float(gap),
        gap_npv_share=gap_npv,
        gap_gbp=gap_gbp,
        time_s=time.perf_counter() - started,
        build_s=plan.build_s,
        solve_s=info.time_s,
        cpu_s=time.process_time() - started_cpu,  # this worker process's CPU: the job's own work
        objective_gbp_k=info.objective,
        bound_gbp_k=info.bound,
        occupiers_moved=int(moved["occupier_id"].nunique()),
        message=plan.status_words,
        **{k: own_plan.kpis.get(k) for k in KPI_COLUMNS},
    )
    access = own_plan.access
    for _, a in access.iterrows():
        for label in ("before_share", "after_share", "zones_losing_reach"):
            row[f"access_{a['service']}_{label}"] = float(a[label])
    buildings = own_plan.buildings[[c for c in BUILDING_FIELDS if c in own_plan.buildings.columns]]
    moves = moved[["occupier_id", "service", "from_building_id", "to_building_id", "share", "move_km"]]
    return {
        "row": row,
        "buildings": _records(buildings),
        "moves": _records(moves),
        "access": _records(access.drop(columns=["min_share"], errors="ignore")),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return rows


def _worker_name() -> str:
    try:
        from distributed import get_worker  # Dask's heavy import: only where a job runs

        return f"{get_worker().address} pid {os.getpid()}"
    except (ImportError, ValueError):
        return f"local pid {os.getpid()}"


__all__ = [
    "BUILDING_FIELDS",
    "KPI_COLUMNS",
    "LEAD_COLUMNS",
    "TAIL_COLUMNS",
    "Job",
    "job_key",
    "npv_gap",
    "plan_jobs",
    "result_row",
    "run_job",
]
