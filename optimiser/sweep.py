"""``python -m optimiser sweep``: many (place x scenario) jobs in parallel on Dask.

A *job* is one place (see `optimiser.places`) under one scenario. The client loads the
estate once, cuts out each place with its boundary buffer, and submits one Dask task per
job; each task builds and solves the model with one solver thread and returns a small
result. The same code runs on a local cluster (``LocalCluster``, the default, ``--workers``
processes of one thread each) or on an existing cluster (``--scheduler ADDRESS``): tasks
carry their own data, so workers need the package but not the data files.

Robustness:

- a job that raises is retried (``retries``, default 2), then recorded as ``failed`` with
  its message; it does not stop the others;
- a job whose worker dies is rescheduled by Dask on another worker (up to Dask's
  ``distributed.scheduler.allowed-failures``), so killing a worker loses no job;
- a malformed scenario row is recorded as ``failed`` for every place, with the message,
  and the other rows run;
- each finished job is written to ``OUT/jobs/<key>.json`` as soon as it returns; its key
  is the sha256 of the place's input data, the scenario and the code version, so a rerun
  skips jobs already done (``--force`` recomputes them). Failed jobs are always rerun.

Outputs in ``--out``: ``results.csv`` (one row per job), ``results.gpkg`` (layer ``jobs``:
one point per job at the place's population-weighted centre, with the KPIs; layer
``buildings``: every own building of every job with its decision), ``run.json`` (the
manifest, see `optimiser.rundir`) and ``jobs/``. The folder is replaced whole at the end, as
``run`` does, with ``jobs/`` carried over; text cells are inert (`optimiser.inert`).
See ``docs/sweep.md`` for the scenario grid format.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from estate.limits import MAX_GRID_SCENARIOS, MAX_SWEEP_JOBS, MAX_SWEEP_RETRIES, cap_to_cores
from estate.settings import check_keys, check_out_folder, nearest_hint, read_toml, shown, table
from optimiser.errors import OptimiserError, ScenarioError
from optimiser.report.inert import csv_text, inert_frame
from optimiser.report.rundir import check_run_target, run_versions, write_run_dir
from optimiser.scenario import SCENARIO_KEYS, SECTIONS, TOP_KEYS, Scenario, check_option

if TYPE_CHECKING:
    from estate import Estate
    from optimiser.places import PlaceEstate

RESULT_FILES = ("results.csv", "results.gpkg")
STATUSES = ("optimal", "feasible", "time_limit", "infeasible", "failed")
DONE = ("optimal", "feasible", "time_limit", "infeasible")  # a rerun skips these
DEFAULT_TIME_LIMIT_S = 30.0
# `sweep --national` without --time-limit or --scenarios: seconds per place, so that every
# English place at full density finishes within 15 minutes on 2 workers (docs/sweep.md)
NATIONAL_TIME_LIMIT_S = 10.0
DEFAULT_ESTATE = Path(__file__).resolve().parents[1] / "data" / "england.gpkg"
GRID_TABLES = ("base", "grid", "scenarios", "description")
ACCESS_FIELDS = ("reach_km", "reach_min", "rule", "min_share", "protect_deprived_deciles")
KPI_COLUMNS = (
    "capital_receipts_gbp",
    "annual_revenue_saving_gbp",
    "annual_revenue_saving_pct",
    "one_off_cost_gbp",
    "move_cost_gbp",
    "backlog_avoided_gbp",
    "npv_gbp",
    "payback_years",
    "land_ha",
    "homes",
    "jobs",
    "carbon_tco2e_saved",
    "buildings_before",
    "buildings_after",
    "floor_area_released_m2",
    "running_cost_before_gbp",
)
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
# optimiser modules whose code a job's result depends on (part of every job key)
CODE_MODULES = ("costs", "errors", "model", "outcomes", "places", "plan", "scenario", "solver", "sweep")
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


class SweepError(OptimiserError):
    """A sweep that cannot start (no places, unreadable grid, no cluster)."""

    exit_code = 2


# ------------------------------------------------------------------------------------------
# scenario grid
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioRow:
    """One scenario of a grid: a valid `scenario`, or the `error` that makes the row malformed."""

    name: str
    scenario: Scenario | None
    error: str = ""
    where: str = ""


def default_base(*, time_limit_s: float | None = None) -> dict[str, Any]:
    """The sweep's defaults in the scenario-file layout: a per-job time limit and one thread."""
    return {"name": "default", "solver": {"time_limit_s": time_limit_s or DEFAULT_TIME_LIMIT_S, "threads": 1}}


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _access_services(access: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The estate's access table as ``[access.services.<service>]`` bodies."""
    out: dict[str, dict[str, Any]] = {}
    for service, row in access.iterrows():
        body: dict[str, Any] = {}
        for name in ACCESS_FIELDS:
            value = row.get(name)
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                continue
            body[name] = (
                int(value)
                if name == "protect_deprived_deciles"
                else (float(value) if name in ("reach_km", "reach_min", "min_share") else str(value))
            )
        out[str(service)] = body
    return out


def _set_key(data: dict[str, Any], key: str, value: Any, access: pd.DataFrame) -> None:
    """Set a dotted scenario key, e.g. ``cat_discount``, ``limits.capital_budget_gbp``,
    ``access.reach_km`` (every standard) or ``access.services.library.reach_km``."""
    parts = key.split(".")
    if len(parts) == 2 and parts[0] == "access" and parts[1] in ACCESS_FIELDS[:4]:
        services = data.setdefault("access", {}).setdefault("services", {})
        for service, body in _access_services(access).items():
            services[service] = {**body, **services.get(service, {})}
        for body in services.values():
            if parts[1] in ("reach_km", "reach_min"):
                body.pop("reach_km", None)
                body.pop("reach_min", None)
            body[parts[1]] = value
        return
    if len(parts) == 1:
        if key == "name":
            data["name"] = value
            return
        sections = [s for s, keys in SECTIONS.items() if key in keys]
        if not sections:
            known = sorted(k for keys in SECTIONS.values() for k in keys)
            msg = (
                f"unknown scenario key {key!r}{nearest_hint(key, known)}. Allowed keys: {', '.join(known)}, or a dotted key "
                "such as limits.capital_budget_gbp, access.reach_km or access.services.library.reach_km."
            )
            raise ScenarioError(msg)
        parts = [sections[0], key]
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            msg = f"key {key!r}: {part!r} is a value, not a table"
            raise ScenarioError(msg)
        node = child
    node[parts[-1]] = value


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e5:
        return f"{value:.0e}".replace("+0", "").replace("+", "")
    return f"{value:g}" if isinstance(value, float) else str(value)


def scenario_row(
    base: dict[str, Any],
    overrides: dict[str, Any],
    *,
    name: str,
    where: str,
    access: pd.DataFrame,
    source: str = "grid",
) -> ScenarioRow:
    """Apply `overrides` (dotted keys) to `base` and build the Scenario; errors make a malformed row."""
    data = copy.deepcopy(base)
    try:
        for key, value in overrides.items():
            if isinstance(value, dict) and "." not in key and key != "access":
                data = _deep_merge(data, {key: value})
            elif key == "access" and isinstance(value, dict):
                data = _deep_merge(data, {"access": value})
            else:
                _set_key(data, key, value, access)
        data["name"] = str(overrides.get("name", name))
        scenario = Scenario.from_dict(data, source=f"{source} {where}")
    except (ScenarioError, TypeError, ValueError, KeyError) as err:
        text = str(err) if isinstance(err, ScenarioError) else f"{type(err).__name__}: {err}"
        if not text.startswith(source):
            text = f"{source} {where}: {text}"
        return ScenarioRow(name=str(overrides.get("name", name)), scenario=None, error=text, where=where)
    return ScenarioRow(name=scenario.name, scenario=scenario, where=where)


def read_grid(
    path: str | Path, *, access: pd.DataFrame, time_limit_s: float | None = None
) -> list[ScenarioRow]:
    """Read a scenario grid TOML into rows (malformed rows carry their error).

    The file holds a base scenario (a ``[base]`` table in the layout of a scenario file, or
    that layout at the top level), then a ``[grid]`` table of dotted keys with lists of values
    (every combination is a row) and/or ``[[scenarios]]`` rows of dotted keys (each applied to
    the base). With neither, the base is the only row.

    Raises
    ------
    SweepError
        If the file is missing, not TOML, or its ``grid``/``scenarios`` are not tables.

    """
    path = Path(path)
    body, grid, rows_in = grid_parts(path)
    base = _deep_merge(default_base(), body)
    if time_limit_s is not None:
        base.setdefault("solver", {})["time_limit_s"] = time_limit_s
    base_name = str(base.get("name", "default"))
    rows: list[ScenarioRow] = []
    if grid:
        keys = list(grid)
        values = [v if isinstance(v, list) else [v] for v in grid.values()]
        for i, combo in enumerate(itertools.product(*values), start=1):
            overrides = dict(zip(keys, combo, strict=True))
            name = ", ".join(
                f"{k.split('.')[-1] if k != 'access.reach_km' else 'reach_km'}={_format_value(v)}"
                for k, v in overrides.items()
            )
            rows.append(
                scenario_row(
                    base,
                    overrides,
                    name=name if base_name == "default" else f"{base_name}: {name}",
                    where=f"[grid] combination {i}",
                    access=access,
                    source=path.name,
                )
            )
    for i, row in enumerate(rows_in, start=1):
        where = f"[[scenarios]] row {i}"
        if not isinstance(row, dict):
            rows.append(
                ScenarioRow(
                    name=f"row {i}",
                    scenario=None,
                    where=where,
                    error=f"{path.name} {where}: must be a table of keys, got {row!r}",
                )
            )
            continue
        rows.append(
            scenario_row(base, row, name=f"{base_name} row {i}", where=where, access=access, source=path.name)
        )
    if not grid and not rows_in:
        rows.append(scenario_row(base, {}, name=base_name, where="[base]", access=access, source=path.name))
    return rows


def grid_parts(path: Path) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """A grid file's base, ``[grid]`` and ``[[scenarios]]``, with its row count checked
    against `MAX_GRID_SCENARIOS` before any row is built.

    Raises
    ------
    SweepError
        The file cannot be read, is not TOML, has an unknown top-level key, its parts are of
        the wrong kind, or it makes too many rows.

    """
    data = read_toml(path, what="Scenario grid", error=SweepError)
    source = path.name
    if "base" in data:
        check_keys(data, GRID_TABLES, source=source, where="", error=SweepError)
        body = table(data["base"], source=source, where="[base]", error=SweepError)
    else:
        allowed = list(dict.fromkeys([*GRID_TABLES, *TOP_KEYS, *SCENARIO_KEYS, "access"]))
        check_keys(data, allowed, source=source, where="", error=SweepError)
        body = {k: v for k, v in data.items() if k not in GRID_TABLES}
    grid = table(data.get("grid", {}), source=source, where="[grid]", error=SweepError)
    rows_in = data.get("scenarios", [])
    if not isinstance(rows_in, list):
        msg = f"{source}: scenarios = {shown(rows_in)} must be a list of tables: write each row as [[scenarios]]."
        raise SweepError(msg)
    count_grid_rows(grid, extra=len(rows_in), source=source)
    return body, grid, rows_in


def count_grid_rows(grid: dict[str, Any], *, extra: int = 0, source: str = "grid") -> int:
    """Scenario rows a grid makes (the product of its value counts, plus `extra` explicit rows),
    computed without listing them; a `SweepError` when a key has no values or the count is over
    `MAX_GRID_SCENARIOS`."""
    sizes = {}
    for key, values in grid.items():
        sizes[key] = len(values) if isinstance(values, list) else 1
        if sizes[key] == 0:
            msg = (
                f"{source}: [grid] {key} = [] has no values. Fix: give at least one value, or remove the key."
            )
            raise SweepError(msg)
    combinations = math.prod(sizes.values()) if grid else 0
    total = combinations + extra
    if total > MAX_GRID_SCENARIOS:
        sizes_text = " x ".join(f"{n:,}" for n in sizes.values()) or "0"
        msg = (
            f"{source}: the grid makes {total:,} scenario rows ([grid] {sizes_text} = {combinations:,} "
            f"combinations, plus {extra:,} [[scenarios]] rows); the limit is {MAX_GRID_SCENARIOS:,}. "
            "Fix: use fewer values per key, or split the grid into several files (see docs/limits.md)."
        )
        raise SweepError(msg)
    return total


# ------------------------------------------------------------------------------------------
# jobs
# ------------------------------------------------------------------------------------------
_CODE_VERSION: list[str] = []


def code_version() -> str:
    """sha256 (16 hex) of the code a job's result depends on, and the solver versions.

    That is every ``estate`` module and the ``optimiser`` modules in `CODE_MODULES`; front
    ends (CLI, app, maps, reports) do not change results and are left out.
    """
    if not _CODE_VERSION:
        import highspy
        import pulp

        root = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256()
        paths = sorted((root / "estate").rglob("*.py")) + [
            root / "optimiser" / f"{m}.py" for m in CODE_MODULES
        ]
        for path in paths:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes() if path.exists() else b"")
        digest.update(f"pulp {pulp.__version__} highspy {getattr(highspy, '__version__', '')}".encode())
        _CODE_VERSION.append(digest.hexdigest()[:16])
    return _CODE_VERSION[0]


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
    from optimiser.places import boundary_buffer_km, list_places, place_estate

    table = list_places(estate).set_index("place")
    jobs: dict[str, Job] = {}
    failed: list[dict[str, Any]] = []
    parts: dict[tuple[str, float], tuple[PlaceEstate, str]] = {}
    for row in rows:
        if row.scenario is None:
            for place in places:
                failed.append(
                    _result_row(
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


def _result_row(**values: Any) -> dict[str, Any]:
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
    from estate import EstateError
    from optimiser.errors import InfeasibleScenarioError
    from optimiser.pipeline import optimise
    from optimiser.places import scope_plan

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
        row = _result_row(
            **common, status="infeasible", message=str(err), time_s=time.perf_counter() - started
        )
        return {"row": row, "buildings": [], "moves": [], "access": []}
    except (OptimiserError, EstateError) as err:
        row = _result_row(
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
    row = _result_row(
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
        from distributed import get_worker

        return f"{get_worker().address} pid {os.getpid()}"
    except (ImportError, ValueError):
        return f"local pid {os.getpid()}"


# ------------------------------------------------------------------------------------------
# running on Dask
# ------------------------------------------------------------------------------------------
class Progress:
    """A text progress bar on stderr: done, failed and running jobs out of the total, with time."""

    def __init__(self, total: int, *, cached: int = 0, stream: Any = None, enabled: bool = True) -> None:
        self.total, self.cached = total, cached
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()
        self.last_print = -math.inf
        self.last_done = -1

    def line(self, done: int, failed: int, running: int) -> str:
        """The bar as text."""
        width = 30
        finished = done + failed
        filled = int(width * finished / self.total) if self.total else width
        elapsed = time.perf_counter() - self.started
        cached = f", {self.cached} cached" if self.cached else ""
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {finished}/{self.total} jobs: {done} done, "
            f"{failed} failed, {running} running{cached}; {int(elapsed // 60):02d}:{elapsed % 60:04.1f} elapsed"
        )

    def update(self, done: int, failed: int, running: int, *, final: bool = False) -> None:
        """Redraw (a TTY) or print a line now and then (a log file)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if final or now - self.last_print >= 0.2:
                end = "\n" if final else ""
                self.stream.write("\r" + self.line(done, failed, running) + end)
                self.stream.flush()
                self.last_print = now
            return
        finished = done + failed
        step = max(1, self.total // 10)
        if final or (
            finished != self.last_done
            and (finished // step != self.last_done // step or now - self.last_print >= 10)
        ):
            self.stream.write(self.line(done, failed, running) + "\n")
            self.stream.flush()
            self.last_print, self.last_done = now, finished


@dataclass
class SweepResult:
    """What a sweep produced."""

    results: pd.DataFrame
    wall_s: float
    compute_s: float
    paths: dict[str, Path] = field(default_factory=dict)
    workers: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Jobs per status."""
        return {
            s: int((self.results["status"] == s).sum())
            for s in STATUSES
            if (self.results["status"] == s).any()
        }


def make_client(*, workers: int = 2, scheduler: str | None = None) -> tuple[Any, Any]:
    """A Dask client: to `scheduler` if given, else to a new LocalCluster of `workers`
    single-threaded processes. Returns ``(client, cluster_or_None)``."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=30), None
        except OSError as err:
            msg = f"Cannot reach the Dask scheduler at {scheduler!r} ({err}). Is it running?"
            raise SweepError(msg) from err
    if workers < 1:
        msg = f"`--workers` must be 1 or more; got {workers}."
        raise SweepError(msg)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _warm_worker(payload: dict[str, Any] | None = None) -> int:
    """Import what a job needs and solve the smallest job once, so that each job's time is
    its own (not the worker's first imports). Returns the worker's process ID."""
    if payload is not None:
        run_job(payload)
    return os.getpid()


def _warm_up(client: Any, job: Job, *, timeout_s: float = 120.0) -> int:
    """Run `_warm_worker` once on every worker, as an ordinary task (so in the thread that
    will run the jobs). Best effort: a worker that fails or dies meanwhile is skipped.
    Returns the number of workers."""
    from distributed import wait

    workers = list(client.scheduler_info(n_workers=-1)["workers"])
    payload = job.payload()
    futures = [
        client.submit(
            _warm_worker,
            payload,
            workers=[w],
            allow_other_workers=False,
            pure=False,
            key=f"warm-up-{i}-{job.key[:12]}-{time.time_ns()}",
        )
        for i, w in enumerate(workers)
    ]
    try:
        wait(futures, timeout=timeout_s)
    except TimeoutError:
        pass
    for future in futures:
        future.cancel()
    return len(workers)


def run_sweep(
    estate: Estate,
    *,
    places: Sequence[str],
    rows: Sequence[ScenarioRow],
    out: str | Path,
    client: Any = None,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    retries: int = 2,
    progress: bool = True,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    job_function: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> SweepResult:
    """Run every (place, scenario row) job and write the results to `out`.

    Parameters
    ----------
    estate
        The estate to split into places (e.g. ``data/england.gpkg``).
    places
        Place codes (see `optimiser.places.resolve_places`).
    rows
        Scenario rows (see `read_grid`); malformed rows give failed results.
    out
        Folder for ``results.csv``, ``results.gpkg`` and ``jobs/``.
    client
        An existing ``distributed.Client``; otherwise one is made (see `make_client`).
    force
        Recompute jobs already done in `out`.
    on_result
        Called with each result row as it arrives.
    job_function
        What runs a job on a worker (default `run_job`); it must be importable by the
        workers. Tests use it to slow jobs down or make them fail.

    """
    started = time.perf_counter()
    if not places:
        msg = "No place to run: give at least one place code or name."
        raise SweepError(msg)
    out = Path(out)
    check_run_target(out, known_files=RESULT_FILES, cache_dirs=("jobs",))
    jobs_dir = out / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    jobs, failed_rows = plan_jobs(estate, places, rows)
    results: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    for job in jobs:
        cached = None if force else _read_job(jobs_dir, job.key)
        if cached is not None and cached["row"].get("status") in DONE:
            cached["row"]["cached"] = True
            cached["row"]["scenario"] = job.scenario.name
            results[job.key] = cached
        else:
            todo.append(job)
    bar = Progress(len(todo) + len(failed_rows), cached=len(results), enabled=progress)
    done = failed = 0
    failed += len(failed_rows)
    compute_started = time.perf_counter()
    own_client = client is None and bool(todo)
    cluster = None
    n_workers = 0
    try:
        if todo:
            if client is None:
                client, cluster = make_client(workers=workers, scheduler=scheduler)
            from distributed import as_completed

            n_workers = _warm_up(client, min(todo, key=lambda j: j.part.size))
            compute_started = time.perf_counter()
            futures = {}
            for job in sorted(todo, key=lambda j: -j.part.size):
                future = client.submit(
                    job_function or run_job,
                    job.payload(),
                    key=f"sweep-{job.key}",
                    pure=False,
                    retries=retries,
                    priority=int(min(job.part.size, 2**30)),
                )
                futures[future] = job
            queue = as_completed(list(futures))
            running, polled = 0, -math.inf
            while not queue.is_empty():
                if not queue.has_ready():
                    if progress and time.perf_counter() - polled >= 0.5:  # one scheduler query a half-second
                        threads = client.nthreads()  # a worker may hold queued tasks beyond its threads
                        running = sum(min(len(v), threads.get(w, 1)) for w, v in client.processing().items())
                        polled = time.perf_counter()
                        bar.update(done, failed, running)
                    time.sleep(0.05)
                    continue
                for future in queue.next_batch(block=False):
                    job = futures.pop(future)
                    result = _collect(future, job)
                    _write_job(jobs_dir, job.key, result)
                    results[job.key] = result
                    if result["row"]["status"] == "failed":
                        failed += 1
                        if progress:
                            sys.stderr.write(
                                f"\nfailed: {job.place_name} / {job.scenario.name}: "
                                f"{result['row']['message']}\n"
                            )
                    else:
                        done += 1
                    if on_result is not None:
                        on_result(result["row"])
                    future.release()
        compute_s = time.perf_counter() - compute_started if todo else 0.0
        bar.update(done, failed, 0, final=True)
    finally:
        if own_client and client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    ordered = [results[j.key] for j in jobs] + [{"row": r, "buildings": []} for r in failed_rows]
    frame = results_frame([r["row"] for r in ordered])
    paths = write_results(out, frame, ordered, estate)
    return SweepResult(
        results=frame,
        wall_s=time.perf_counter() - started,
        compute_s=compute_s,
        paths=paths,
        workers=n_workers,
    )


def _collect(future: Any, job: Job) -> dict[str, Any]:
    """The job's result, or a failed row with the exception's message."""
    base = {
        "place": job.place,
        "place_name": job.place_name,
        "scenario": job.scenario.name,
        "job_key": job.key,
        "buildings_own": len(job.part.own),
        "buildings_neighbour": len(job.part.neighbours),
        "zones": len(job.part.estate.zones),
        "population": job.population,
        "buffer_km": job.part.buffer_km,
    }
    if future.status == "finished":
        result: dict[str, Any] = future.result()
        result["row"]["scenario"] = job.scenario.name
        return result
    try:
        err = future.exception()
        message = f"{type(err).__name__}: {err}"
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
    return {
        "row": _result_row(**base, status="failed", message=message),
        "buildings": [],
        "moves": [],
        "access": [],
    }


def _job_path(jobs_dir: Path, key: str) -> Path:
    return jobs_dir / f"{key}.json"


def _read_job(jobs_dir: Path, key: str) -> dict[str, Any] | None:
    path = _job_path(jobs_dir, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("row"), dict) else None


def _write_job(jobs_dir: Path, key: str, result: dict[str, Any]) -> None:
    path = _job_path(jobs_dir, key)
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
    folder (`optimiser.rundir.write_run_dir`; ``jobs/`` is carried over)."""
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
        cache_dirs=("jobs",),
    )


def _write_result_files(
    out: Path, frame: pd.DataFrame, results: Sequence[dict[str, Any]], estate: Estate
) -> None:
    import geopandas as gpd
    import pyogrio

    from estate.schema import CRS
    from optimiser.places import list_places

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


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------
def add_sweep_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``sweep`` with the CLI's sub-parsers."""
    sweep = sub.add_parser(
        "sweep",
        help="optimise many (place x scenario) jobs in parallel on Dask",
        description=__doc__.splitlines()[0],
    )
    which = sweep.add_mutually_exclusive_group()
    which.add_argument("--national", action="store_true", help="every place of --estate (England by default)")
    which.add_argument("--places", help="comma-separated place codes or names, e.g. Trafford,Kent,E06000001")
    which.add_argument("--list-places", action="store_true", help="print the places and exit")
    sweep.add_argument(
        "--estate",
        type=Path,
        default=DEFAULT_ESTATE,
        help="estate with a place (or borough) column (default data/england.gpkg)",
    )
    sweep.add_argument(
        "--scenarios", type=Path, help="scenario grid TOML (see docs/sweep.md); default: one scenario"
    )
    sweep.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="local worker processes, one thread each (default: one per core)",
    )
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument(
        "--time-limit",
        type=float,
        help=f"solver seconds per job (default {DEFAULT_TIME_LIMIT_S:g}; {NATIONAL_TIME_LIMIT_S:g} with "
        "--national and no --scenarios)",
    )
    sweep.add_argument("--retries", type=int, default=2, help="retries of a job that raises (default 2)")
    sweep.add_argument("--force", action="store_true", help="recompute jobs already done in --out")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument("--out", type=Path, help="folder for results.csv, results.gpkg and jobs/")
    sweep.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from estate import load_estate
    from optimiser.places import list_places, resolve_places

    if not args.estate.exists():
        msg = (
            f"{args.estate} not found. Build the national estate with "
            "`.venv/bin/python scripts/build_national.py`, or give --estate."
        )
        raise SweepError(msg)
    if not args.list_places and args.out is None:
        msg = "Give --out DIR for the results."
        raise SweepError(msg)
    if not (args.national or args.places or args.list_places):
        msg = "Say which places: --national (all), or --places A,B,... (see --list-places)."
        raise SweepError(msg)
    if args.out is not None:
        check_out_folder(args.out, what="--out", error=SweepError)
    if args.time_limit is not None:
        check_option("--time-limit", "time_limit_s", args.time_limit)
    if not 0 <= args.retries <= MAX_SWEEP_RETRIES:
        msg = f"command line: --retries {args.retries} is out of range. Allowed: a whole number from 0 to {MAX_SWEEP_RETRIES}. Fix: e.g. --retries 2."
        raise SweepError(msg)
    if args.workers < 1:
        msg = f"command line: --workers {args.workers} is out of range. Allowed: a whole number, 1 or more. Fix: e.g. --workers 2."
        raise SweepError(msg)
    if not args.scheduler:  # local worker processes: no more than the cores
        args.workers, note = cap_to_cores(args.workers, what=f"--workers {args.workers}")
        if note:
            print(f"warning: {note}", file=sys.stderr)
    if args.scenarios:
        grid_parts(args.scenarios)  # a malformed or oversized grid stops before the estate loads
    loaded = time.perf_counter()
    estate = load_estate(args.estate, name=args.estate.stem)
    table = list_places(estate)
    if args.list_places:
        print(table.drop(columns=["easting", "northing"]).to_string(index=False))
        return 0
    places = list(table["place"]) if args.national else resolve_places(estate, args.places.split(","))
    if args.scenarios:
        rows = read_grid(args.scenarios, access=estate.access, time_limit_s=args.time_limit)
    else:
        limit = args.time_limit
        if limit is None and args.national:
            limit = NATIONAL_TIME_LIMIT_S  # every place of England within 15 minutes on 2 workers
        base = default_base(time_limit_s=limit)
        rows = [scenario_row(base, {}, name="default", where="defaults", access=estate.access)]
    if len(places) * len(rows) > MAX_SWEEP_JOBS:
        msg = (
            f"{len(places):,} place(s) x {len(rows):,} scenario(s) = {len(places) * len(rows):,} jobs; "
            f"the limit is {MAX_SWEEP_JOBS:,} jobs in one sweep. Fix: fewer places or scenario rows, "
            "or several sweeps (see docs/limits.md)."
        )
        raise SweepError(msg)
    bad = [r for r in rows if r.scenario is None]
    progress = not args.no_progress
    print(
        f"{estate.name}: {len(places)} place(s) x {len(rows)} scenario(s) "
        f"({len(bad)} malformed); loaded in {time.perf_counter() - loaded:.1f} s",
        file=sys.stderr,
    )
    for row in bad:
        print(f"malformed scenario row ({row.where}): {row.error}", file=sys.stderr)
    result = run_sweep(
        estate,
        places=places,
        rows=rows,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        retries=args.retries,
        progress=progress,
    )
    print(summarise(result))
    if bad:
        return 2
    return 0 if not (result.results["status"].isin(["failed", "infeasible"])).any() else 3


def summarise(result: SweepResult) -> str:
    """A few lines: counts by status, times, the slowest jobs, the largest gap, files written."""
    r = result.results
    cached = int(r["cached"].sum())
    lines = [
        f"sweep: {len(r)} job(s): "
        + ", ".join(f"{s} {n}" for s, n in result.counts.items())
        + f" ({cached} from cache); wall {result.wall_s:.1f} s, jobs {result.compute_s:.1f} s"
        + (f" on {result.workers} worker(s)" if result.workers else "")
    ]
    solved = r[r["status"].isin(["optimal", "feasible", "time_limit"])]
    if len(solved):
        slow = solved.sort_values("time_s", ascending=False).head(6)
        worst = solved.loc[solved["gap"].idxmax()]
        lines.append(
            f"  time per job: median {solved['time_s'].median():.2f} s, max {solved['time_s'].max():.2f} s; "
            f"max gap {worst['gap']:.4%} ({worst['place_name']}, {worst['scenario']})"
        )
        lines.append(
            "  slowest: "
            + ", ".join(f"{p} {t:.1f} s" for p, t in zip(slow["place_name"], slow["time_s"], strict=True))
        )
        share = solved.sort_values("gap_npv_share", ascending=False, na_position="first").head(6)
        limited = int((solved["status"] == "time_limit").sum())
        lines.append(
            f"  gap as a share of the plan's NPV: median {solved['gap_npv_share'].median():.2%}; largest "
            + ", ".join(
                f"{p} {g:.2%}" for p, g in zip(share["place_name"], share["gap_npv_share"], strict=True)
            )
            + f"; {limited} job(s) stopped at the time limit"
        )
    bad = r[r["status"].isin(["failed", "infeasible"])]
    for _, row in bad.head(10).iterrows():
        lines.append(
            f"  {row['status']}: {row['place_name']} / {row['scenario']}: {str(row['message'])[:300]}"
        )
    if len(bad) > 10:
        lines.append(f"  ... and {len(bad) - 10} more (see results.csv)")
    lines.append(f"  wrote {', '.join(str(p) for p in result.paths.values())}")
    return "\n".join(lines)


__all__ = [
    "Progress",
    "ScenarioRow",
    "SweepError",
    "SweepResult",
    "add_sweep_parser",
    "job_key",
    "make_client",
    "plan_jobs",
    "read_grid",
    "run_job",
    "run_sweep",
    "scenario_row",
]
