"""The sweep on a real multi-process Dask cluster, started as a user with a cluster would.

``dask scheduler`` and two ``dask worker`` processes (one process, one thread each) run as
separate OS processes on 127.0.0.1; ``python -m optimiser sweep --scheduler`` runs the
two-place estate of ``tests/test_places.py`` under two scenarios (4 jobs) on them. One job
is held by a gate (``tests/sweep_gate.py``, preloaded into the workers) until the test has
killed its worker with SIGKILL: no clock decides when. The sweep must lose no job and give
the same statuses and objectives as the same sweep on a LocalCluster.

Every wait is on a condition (the scheduler answering, both workers registered, the gate
claimed, the job listed on its worker), with generous timeouts as a safety net only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

# GATE_ENV is the variable tests/sweep_gate.py reads in the workers; that module is not imported
# here, as importing it patches optimiser.sweep.jobs.run_job in this process too.
from tests.test_sweep import GATE_ENV, _wait_for, _write_estate

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
TIMEOUT_S = 900  # a safety net on a busy machine, never a measurement
GRID = """\
[base]
name = "base"

[[scenarios]]
name = "default"

[[scenarios]]
name = "no moves"
allow_moves = false
"""

pytestmark = [pytest.mark.solver, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen) -> None:
    """End a process this test started, and its children (its own session), by its id."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)


def _client(address: str, timeout_s: float = 10) -> Any:
    from distributed import Client

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Client(address, timeout=timeout_s)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A scheduler and two single-threaded workers, each its own OS process (and session)."""
    if not DASK.exists():
        pytest.fail(f"the dask command line is missing next to {sys.executable}")
    gate = tmp_path / "gate"
    gate.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, GATE_ENV: str(gate), "PYTHONPATH": str(REPO)}
    procs: list[subprocess.Popen] = []
    client = None

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("w") as log:
            procs.append(
                subprocess.Popen(
                    [str(DASK), *args],
                    cwd=tmp_path,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    try:
        port = address.rsplit(":", 1)[1]
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")

        def connect() -> bool:
            nonlocal client
            if procs[0].poll() is not None:
                pytest.fail(f"dask scheduler exited: {(logs / 'scheduler.log').read_text()[-2000:]}")
            try:
                client = _client(address)
            except (OSError, TimeoutError):
                return False
            return True

        _wait_for(connect, what="the scheduler to answer", timeout_s=TIMEOUT_S)
        for i in (1, 2):
            start(
                f"worker{i}",
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(tmp_path / f"worker{i}"),
                "--preload",
                "tests.sweep_gate",
            )
        client.wait_for_workers(2, timeout=TIMEOUT_S)
        yield {"address": address, "client": client, "gate": gate, "logs": logs}
    finally:
        (gate / "release").touch()  # never leave a worker blocked
        if client is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client.close()
        for proc in reversed(procs):
            _stop(proc)


def _sweep_command(estate: Path, grid: Path, out: Path, *where: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "optimiser",
        "sweep",
        "--estate",
        str(estate),
        "--places",
        "A,B",
        "--scenarios",
        str(grid),
        "--no-progress",
        "--out",
        str(out),
        *where,
    ]


def test_a_sweep_on_a_scheduler_and_two_worker_processes_survives_a_killed_worker(tmp_path, cluster):
    estate = _write_estate(tmp_path / "two.gpkg")
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    client, gate = cluster["client"], cluster["gate"]
    pids = client.run(os.getpid)  # worker address -> pid of the process that runs its tasks
    assert len(pids) == 2

    with (tmp_path / "sweep.log").open("w") as log:
        sweep = subprocess.Popen(
            _sweep_command(estate, grid, tmp_path / "distributed", "--scheduler", cluster["address"]),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        claimed = gate / "claimed"
        _wait_for(
            lambda: sweep.poll() is None and claimed.exists() and claimed.read_text().strip(),
            what="a job to claim the gate",
            timeout_s=TIMEOUT_S,
        )
        victim_pid = int(claimed.read_text())
        victim = next(w for w, pid in pids.items() if pid == victim_pid)
        _wait_for(
            lambda: any(str(k).startswith("sweep-") for k in client.processing().get(victim, ())),
            what="the scheduler to list the gated job on its worker",
            timeout_s=TIMEOUT_S,
        )
        interrupted = [str(k).removeprefix("sweep-") for k in client.processing()[victim]]
        os.kill(victim_pid, signal.SIGKILL)
        code = sweep.wait(timeout=TIMEOUT_S)
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait(timeout=60)
    assert code == 0, (tmp_path / "sweep.log").read_text()[-3000:]
    distributed = pd.read_csv(tmp_path / "distributed" / "results.csv")

    local = subprocess.run(
        _sweep_command(estate, grid, tmp_path / "local", "--workers", "2"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert local.returncode == 0, local.stderr[-3000:]
    reference = pd.read_csv(tmp_path / "local" / "results.csv")

    # no job lost: every job of the LocalCluster run is here, once, with a plan
    assert len(distributed) == len(reference) == 4
    assert sorted(distributed["job_key"]) == sorted(reference["job_key"])
    assert set(distributed["status"]) == {"optimal"}
    assert interrupted
    redone = distributed[distributed["job_key"].isin(interrupted)]
    assert len(redone) == len(interrupted)  # the killed worker's job finished after all
    assert not redone["worker"].str.endswith(f"pid {victim_pid}").any()
    assert distributed["worker"].str.startswith("tcp://127.0.0.1:").all()  # on the hand-started workers
    assert (distributed["gap_npv_share"] >= 0).all()  # reported for every job
    # the same results as the LocalCluster's
    a = distributed.set_index("job_key").sort_index()
    b = reference.set_index("job_key").sort_index()
    assert list(a["status"]) == list(b["status"])
    assert list(a["buildings_after"]) == list(b["buildings_after"])
    for key in a.index:
        assert a.at[key, "objective_gbp_k"] == pytest.approx(b.at[key, "objective_gbp_k"], rel=1e-6, abs=1e-6)
        assert a.at[key, "npv_gbp"] == pytest.approx(b.at[key, "npv_gbp"], rel=1e-6, abs=1e-6)
