"""Running a sweep on Dask: the client, the workers' warm-up, the jobs' futures, progress and summary.

The client loads the estate once, cuts out each place with its boundary buffer
(`optimiser.sweep.jobs.plan_jobs`) and submits one Dask task per job that is not already done
in ``OUT/jobs/``; each finished job is kept there as soon as it returns, and the whole folder
is written at the end (`optimiser.sweep.results`). See the package docstring for robustness.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from estate import Estate
from optimiser.errors import SweepError
from optimiser.report.rundir import check_run_target
from optimiser.sweep.grid import ScenarioRow
from optimiser.sweep.jobs import Job, plan_jobs, result_row, run_job
from optimiser.sweep.results import (
    CACHE_DIRS,
    RESULT_FILES,
    read_job,
    results_frame,
    write_job,
    write_results,
)

STATUSES = ("optimal", "feasible", "time_limit", "infeasible", "failed")
DONE = ("optimal", "feasible", "time_limit", "infeasible")  # a rerun skips these


class SweepProgress:
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


# ------------------------------------------------------------------------------------------
# the Dask client and its workers
# ------------------------------------------------------------------------------------------
def make_client(*, workers: int = 2, scheduler: str | None = None) -> tuple[Any, Any]:
    """A Dask client: to `scheduler` if given, else to a new LocalCluster of `workers`
    single-threaded processes. Returns ``(client, cluster_or_None)``."""
    from distributed import Client, LocalCluster  # Dask's heavy import: only when jobs run

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
        dashboard_address=":0",  # a free port: None still binds 8787, so a second cluster at once warned (an error under pytest)
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
    from distributed import wait  # Dask's heavy import: only when jobs run

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


# ------------------------------------------------------------------------------------------
# a sweep
# ------------------------------------------------------------------------------------------
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
        Place codes (see `optimiser.sweep.places.resolve_places`).
    rows
        Scenario rows (see `optimiser.sweep.grid.read_grid`); malformed rows give failed results.
    out
        Folder for ``results.csv``, ``results.gpkg`` and ``jobs/``.
    client
        An existing ``distributed.Client``; otherwise one is made (see `make_client`).
    force
        Recompute jobs already done in `out`.
    on_result
        Called with each result row as it arrives.
    job_function
        What runs a job on a worker (default `optimiser.sweep.jobs.run_job`); it must be
        importable by the workers. Tests use it to slow jobs down or make them fail.

    """
    started = time.perf_counter()
    if not places:
        msg = "No place to run: give at least one place code or name."
        raise SweepError(msg)
    out = Path(out)
    check_run_target(out, known_files=RESULT_FILES, cache_dirs=CACHE_DIRS)
    jobs_dir = out / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    jobs, failed_rows = plan_jobs(estate, places, rows)
    results, todo = _kept_results(jobs, jobs_dir, force=force)
    bar = SweepProgress(len(todo) + len(failed_rows), cached=len(results), enabled=progress)
    counts = {"done": 0, "failed": len(failed_rows)}
    compute_s, n_workers = 0.0, 0
    own_client = client is None and bool(todo)
    cluster = None
    try:
        if todo:
            if client is None:
                client, cluster = make_client(workers=workers, scheduler=scheduler)
            n_workers = _warm_up(client, min(todo, key=lambda j: j.part.size))
            compute_started = time.perf_counter()
            _run_jobs(
                client,
                todo,
                jobs_dir=jobs_dir,
                results=results,
                counts=counts,
                bar=bar,
                retries=retries,
                progress=progress,
                on_result=on_result,
                job_function=job_function or run_job,
            )
            compute_s = time.perf_counter() - compute_started
        bar.update(counts["done"], counts["failed"], 0, final=True)
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


def _kept_results(
    jobs: Sequence[Job], jobs_dir: Path, *, force: bool
) -> tuple[dict[str, dict[str, Any]], list[Job]]:
    """The results already done in ``jobs/`` (unless `force`), and the jobs still to run."""
    results: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    for job in jobs:
        cached = None if force else read_job(jobs_dir, job.key)
        if cached is not None and cached["row"].get("status") in DONE:
            cached["row"]["cached"] = True
            cached["row"]["scenario"] = job.scenario.name
            results[job.key] = cached
        else:
            todo.append(job)
    return results, todo


def _run_jobs(
    client: Any,
    todo: Sequence[Job],
    *,
    jobs_dir: Path,
    results: dict[str, dict[str, Any]],
    counts: dict[str, int],
    bar: SweepProgress,
    retries: int,
    progress: bool,
    on_result: Callable[[dict[str, Any]], None] | None,
    job_function: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Submit `todo` (largest first) and take each result as it finishes: keep it in ``jobs/``
    and `results`, count it in `counts` and on the bar, report a failure, call `on_result`."""
    from distributed import as_completed  # Dask's heavy import: only when jobs run

    futures = {}
    for job in sorted(todo, key=lambda j: -j.part.size):
        future = client.submit(
            job_function,
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
                bar.update(counts["done"], counts["failed"], running)
            time.sleep(0.05)
            continue
        for future in queue.next_batch(block=False):
            job = futures.pop(future)
            result = _collect(future, job)
            write_job(jobs_dir, job.key, result)
            results[job.key] = result
            if result["row"]["status"] == "failed":
                counts["failed"] += 1
                if progress:
                    sys.stderr.write(
                        f"\nfailed: {job.place_name} / {job.scenario.name}: {result['row']['message']}\n"
                    )
            else:
                counts["done"] += 1
            if on_result is not None:
                on_result(result["row"])
            future.release()


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
        "row": result_row(**base, status="failed", message=message),
        "buildings": [],
        "moves": [],
        "access": [],
    }


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


__all__ = ["DONE", "STATUSES", "SweepProgress", "SweepResult", "make_client", "run_sweep", "summarise"]
