"""Dask worker preload for the distributed sweep test: gate one sweep job, without a clock.

``dask worker ... --preload tests.sweep_gate`` (with the repository on ``PYTHONPATH``)
replaces ``optimiser.sweep.jobs.run_job`` in that worker process by `gated_run_job`. The sweep
submits ``optimiser.sweep.jobs.run_job`` by reference, so the worker runs the wrapper. When the
environment variable ``ESTATE_TEST_SWEEP_GATE`` (set when the worker is started) names a
folder, the first sweep job to start on any worker claims it: an exclusive create of
``claimed``, holding the worker's pid. That job then blocks until the folder holds
``release`` (the test kills its worker long before). Every other job, a retried job and the
sweep's warm-up run at once. Without the variable the wrapper changes nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from optimiser.sweep import jobs

GATE_ENV = "ESTATE_TEST_SWEEP_GATE"
_run_job = jobs.run_job


def _in_sweep_task() -> bool:
    """True inside a sweep job's task (key ``sweep-<job key>``), not the warm-up's."""
    from distributed import get_worker

    try:
        return str(get_worker().get_current_task()).startswith("sweep-")
    except ValueError:  # not on a worker
        return False


def gated_run_job(payload: dict[str, Any]) -> dict[str, Any]:
    """`optimiser.sweep.jobs.run_job`, after the gate (see the module docstring)."""
    gate = os.environ.get(GATE_ENV)
    if gate and _in_sweep_task():
        folder = Path(gate)
        try:
            with (folder / "claimed").open("x") as f:
                f.write(str(os.getpid()))
        except FileExistsError:
            pass  # another job holds the gate (or held it): run now
        else:
            while not (folder / "release").exists():  # the test kills this process first
                time.sleep(0.05)
    return _run_job(payload)


jobs.run_job = gated_run_job


def dask_setup(worker: Any) -> None:
    """Dask calls this when the preload is loaded; the patch above is all there is to do."""
