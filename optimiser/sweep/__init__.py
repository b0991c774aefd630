"""Sweeps: many (place x scenario) jobs in parallel on Dask (``python -m optimiser sweep``).

A *job* is one place (a local authority or borough, see `optimiser.sweep.places`) under one
scenario row of a grid (`optimiser.sweep.grid`). The client loads the estate once, cuts out
each place with its boundary buffer, and submits one Dask task per job
(`optimiser.sweep.jobs`); each task builds and solves the model with one solver thread and
returns a small result. The same code runs on a local cluster (``LocalCluster``, the default,
``--workers`` processes of one thread each) or on an existing cluster (``--scheduler
ADDRESS``): tasks carry their own data, so workers need the package but not the data files
(`optimiser.sweep.runner`).

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

Outputs in ``--out`` (`optimiser.sweep.results`): ``results.csv`` (one row per job),
``results.gpkg`` (layer ``jobs``: one point per job at the place's population-weighted
centre, with the KPIs; layer ``buildings``: every own building of every job with its
decision), ``run.json`` (the manifest, see `optimiser.report.rundir`) and ``jobs/``. The folder is
replaced whole at the end, as ``run`` does, with ``jobs/`` carried over; text cells are inert
(`optimiser.report.inert`). See ``docs/sweep.md`` for the scenario grid format. The command line is
in `optimiser.cli`.
"""

from __future__ import annotations

from optimiser.sweep.grid import (
    DEFAULT_TIME_LIMIT_S,
    NATIONAL_TIME_LIMIT_S,
    ScenarioRow,
    count_grid_rows,
    default_base,
    grid_parts,
    read_grid,
    scenario_row,
)
from optimiser.sweep.jobs import KPI_COLUMNS, Job, job_key, npv_gap, plan_jobs, result_row, run_job
from optimiser.sweep.places import (
    NEIGHBOUR_REASON,
    PlaceEstate,
    boundary_buffer_km,
    list_places,
    place_column,
    place_estate,
    resolve_places,
    scope_plan,
)
from optimiser.sweep.results import RESULT_FILES, results_frame, write_results
from optimiser.sweep.runner import STATUSES, SweepProgress, SweepResult, make_client, run_sweep, summarise

__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "KPI_COLUMNS",
    "NATIONAL_TIME_LIMIT_S",
    "NEIGHBOUR_REASON",
    "RESULT_FILES",
    "STATUSES",
    "Job",
    "PlaceEstate",
    "ScenarioRow",
    "SweepProgress",
    "SweepResult",
    "boundary_buffer_km",
    "count_grid_rows",
    "default_base",
    "grid_parts",
    "job_key",
    "list_places",
    "make_client",
    "npv_gap",
    "place_column",
    "place_estate",
    "plan_jobs",
    "read_grid",
    "resolve_places",
    "result_row",
    "results_frame",
    "run_job",
    "run_sweep",
    "scenario_row",
    "scope_plan",
    "summarise",
    "write_results",
]
