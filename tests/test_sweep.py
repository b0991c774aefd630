"""The sweep: (place x scenario) jobs on a Dask LocalCluster, results, caching, failures.

Uses the two-place estate of ``tests/test_places.py`` (each job solves in milliseconds).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from optimiser.cli import main
from optimiser.errors import SweepError
from optimiser.sweep import (
    SweepProgress,
    count_grid_rows,
    default_base,
    job_key,
    plan_jobs,
    read_grid,
    run_job,
    run_sweep,
    scenario_row,
)
from tests.test_places import two_place_estate, two_place_rows

REQUIRED = [
    "place",
    "scenario",
    "status",
    "proven_optimal",
    "gap",
    "time_s",
    "capital_receipts_gbp",
    "annual_revenue_saving_gbp",
    "one_off_cost_gbp",
    "npv_gbp",
    "land_ha",
    "carbon_tco2e_saved",
    "buildings_before",
    "buildings_after",
]


def _cluster(workers: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dask start-up chatter (ports, resource tracker)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
        return Client(cluster), cluster


@pytest.fixture(scope="module")
def client():
    dask_client, cluster = _cluster(2)
    yield dask_client
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dask_client.close()
        cluster.close()


def _rows(*overrides: dict[str, Any]) -> list:
    estate = two_place_estate()
    base = default_base(time_limit_s=20)
    return [
        scenario_row(base, o, name=o.get("name", "default"), where=f"row {i}", access=estate.access)
        for i, o in enumerate(overrides, start=1)
    ]


TWO_SCENARIOS = ({"name": "default"}, {"name": "no moves", "allow_moves": False})


GATE_ENV = "ESTATE_TEST_SWEEP_GATE"


def _gated_job(payload: dict[str, Any]) -> dict[str, Any]:
    """The first job to start claims the gate and blocks until its worker is killed.

    The claim (an exclusive create) holds the worker's pid, so the test knows which worker to
    kill and when: no clock is involved. A retried job finds the gate claimed and runs at once.
    """
    gate = Path(os.environ[GATE_ENV])
    try:
        with (gate / "claimed").open("x") as f:
            f.write(str(os.getpid()))
    except FileExistsError:
        return run_job(payload)
    while not (gate / "release").exists():  # the test kills this process long before that
        time.sleep(0.05)
    return run_job(payload)


def _fails_in_b(payload: dict[str, Any]) -> dict[str, Any]:
    if payload["place"] == "B":
        msg = "boom in place B"
        raise RuntimeError(msg)
    return run_job(payload)


@pytest.mark.solver
def test_two_places_by_two_scenarios_on_two_workers_write_one_row_per_job(client, tmp_path):
    result = run_sweep(
        two_place_estate(),
        places=["A", "B"],
        rows=_rows(*TWO_SCENARIOS),
        out=tmp_path,
        client=client,
        progress=False,
    )
    table = pd.read_csv(tmp_path / "results.csv")
    assert set(REQUIRED) <= set(table.columns)
    assert list(zip(table["place"], table["scenario"], strict=True)) == [
        ("A", "default"),
        ("A", "no moves"),
        ("B", "default"),
        ("B", "no moves"),
    ]
    assert set(table["status"]) == {"optimal"}
    assert table["proven_optimal"].all() and (table["gap"] <= 1e-4).all()
    by_job = table.set_index(["place", "scenario"])
    assert by_job.at[("A", "default"), "buildings_after"] == 1  # LIB_A1 goes (tests/test_places.py)
    assert by_job.at[("A", "no moves"), "buildings_after"] == 2
    assert result.workers == 2
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "results.gpkg")] == ["jobs", "buildings"]
    buildings = gpd.read_file(tmp_path / "results.gpkg", layer="buildings")
    assert len(buildings) == 6  # own buildings only: 2 in A and 1 in B, for each scenario
    assert len(list((tmp_path / "jobs").glob("*.json"))) == 4


@pytest.mark.solver
def test_a_rerun_skips_the_jobs_already_done(client, tmp_path):
    estate, rows = two_place_estate(), _rows(*TWO_SCENARIOS)
    run_sweep(estate, places=["A", "B"], rows=rows, out=tmp_path, client=client, progress=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "jobs").glob("*.json")}
    again = run_sweep(estate, places=["A", "B"], rows=rows, out=tmp_path, progress=False)  # no client given
    assert again.workers == 0  # no cluster was even started
    assert again.results["cached"].all()
    assert set(again.results["status"]) == {"optimal"}
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "jobs").glob("*.json")} == stamps


@pytest.mark.solver
def test_a_job_that_raises_is_recorded_failed_and_the_others_finish(client, tmp_path):
    result = run_sweep(
        two_place_estate(),
        places=["A", "B"],
        rows=_rows({"name": "default"}),
        out=tmp_path,
        client=client,
        progress=False,
        retries=0,
        job_function=_fails_in_b,
    )
    status = result.results.set_index("place")["status"]
    assert status.to_dict() == {"A": "optimal", "B": "failed"}
    message = result.results.set_index("place").at["B", "message"]
    assert "RuntimeError: boom in place B" in message


@pytest.mark.solver
def test_a_malformed_grid_row_is_reported_and_the_rest_complete(tmp_path, capsys):
    estate_file = _write_estate(tmp_path / "two.gpkg")
    grid = tmp_path / "grid.toml"
    grid.write_text('name = "base"\n[grid]\ncat_discount = [0.5, 2.0]\n', encoding="utf-8")
    code = main(
        [
            "sweep",
            "--estate",
            str(estate_file),
            "--places",
            "A,B",
            "--scenarios",
            str(grid),
            "--workers",
            "1",
            "--no-progress",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2  # bad input reported
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(table) == 4
    bad = table[table["scenario"] == "base: cat_discount=2"]
    assert list(bad["status"]) == ["failed", "failed"]
    assert (
        bad["message"]
        == "grid.toml [grid] combination 2: costs.cat_discount = 2.0 is out of range. Allowed: a number "
        "from 0 to 1. Fix: e.g. cat_discount = 1.0."
    ).all()
    good = table[table["scenario"] == "base: cat_discount=0.5"]
    assert set(good["status"]) == {"optimal"}
    assert "malformed scenario row ([grid] combination 2)" in capsys.readouterr().err


@pytest.mark.solver
@pytest.mark.slow
def test_killing_a_worker_mid_sweep_loses_no_job(tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv(GATE_ENV, str(gate))  # before the cluster starts, so its workers inherit it
    dask_client, cluster = _cluster(2)
    thread = None
    try:
        pids = dask_client.run(os.getpid)
        outcome: dict[str, Any] = {}

        def sweep() -> None:
            outcome["result"] = run_sweep(
                two_place_estate(),
                places=["A", "B"],
                rows=_rows(*TWO_SCENARIOS),
                out=tmp_path / "out",
                client=dask_client,
                progress=False,
                job_function=_gated_job,
            )

        thread = threading.Thread(target=sweep)
        thread.start()
        claimed = gate / "claimed"
        _wait_for(lambda: claimed.exists() and claimed.read_text().strip(), what="a job to claim the gate")
        victim_pid = int(claimed.read_text())
        victim = next(w for w, pid in pids.items() if pid == victim_pid)
        _wait_for(
            lambda: any("sweep-" in str(k) for k in dask_client.processing().get(victim, ())),
            what="the scheduler to list the blocked job on its worker",
        )
        interrupted = [str(k).removeprefix("sweep-") for k in dask_client.processing()[victim]]
        os.kill(victim_pid, signal.SIGKILL)
        thread.join(timeout=600)
        assert not thread.is_alive()
        table = outcome["result"].results
        assert len(table) == 4
        assert set(table["status"]) == {"optimal"}
        assert interrupted
        redone = table[table["job_key"].isin(interrupted)]
        assert len(redone) == len(interrupted)  # the interrupted job finished elsewhere
        assert not redone["worker"].str.endswith(f"pid {victim_pid}").any()
    finally:
        (gate / "release").touch()  # never leave a worker blocked
        if thread is not None:
            thread.join(timeout=600)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dask_client.close()
            cluster.close()


def _wait_for(condition, *, what: str, timeout_s: float = 600) -> None:
    """Poll until ``condition()`` is true; the timeout is a safety net, never a measurement."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------------------------------
# scenario grid, keys, progress (no cluster)
# ------------------------------------------------------------------------------------------
def test_a_grid_runs_every_combination_of_its_values(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[grid]\n"access.reach_km" = [3, 5, 8]\ncat_discount = [0.5, 1.0]\n'
        '"limits.capital_budget_gbp" = [1e6, 5e6]\n',
        encoding="utf-8",
    )
    rows = read_grid(grid, access=two_place_estate().access)
    assert len(rows) == 12
    assert rows[0].name == "reach_km=3, cat_discount=0.5, capital_budget_gbp=1e6"
    first = rows[0].scenario
    assert first is not None and first.capital_budget_gbp == 1e6 and first.cat_discount == 0.5
    assert first.time_limit_s == 30 and first.threads == 1  # the sweep's defaults
    (library,) = first.access
    assert (library.service, library.reach_km, library.rule) == ("library", 3, "keep_current")


def test_access_reach_applies_to_every_standard_and_keeps_its_rule_and_protection():
    estate = two_place_estate()
    row = scenario_row(
        default_base(), {"access.reach_km": 8}, name="wide", where="row 1", access=estate.access
    )
    assert row.scenario is not None
    (library,) = row.scenario.access
    assert library.reach_km == 8 and library.rule == "keep_current" and library.protect_deprived_deciles == 0


def test_explicit_rows_are_applied_to_the_base_and_a_bad_key_makes_a_row_malformed(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[base]\nname = "b"\n[base.solver]\ntime_limit_s = 5\n\n'
        '[[scenarios]]\nname = "cheap"\n"costs.move_cost_gbp_per_m2" = 100\n\n'
        '[[scenarios]]\nname = "typo"\nmove_cots = 1\n',
        encoding="utf-8",
    )
    cheap, typo = read_grid(grid, access=two_place_estate().access)
    assert cheap.scenario is not None and cheap.scenario.move_cost_gbp_per_m2 == 100
    assert cheap.scenario.time_limit_s == 5
    assert typo.scenario is None and typo.error.startswith(
        "grid.toml [[scenarios]] row 2: unknown scenario key 'move_cots' (did you mean 'move_cost_gbp_per_m2'?). "
        "Allowed keys: allow_early_lease_exit, allow_moves, backlog_spread, capital_budget_gbp,"
    )


def test_the_job_key_depends_on_the_data_and_the_scenario():
    estate = two_place_estate()
    rows = _rows(*TWO_SCENARIOS)
    jobs, failed = plan_jobs(estate, ["A", "B"], rows)
    assert len({j.key for j in jobs}) == 4 and not failed
    again, _ = plan_jobs(two_place_estate(), ["A", "B"], rows)
    assert [j.key for j in again] == [j.key for j in jobs]
    assert job_key(jobs[0].part.data_hash(), rows[0].scenario.with_changes(years=11)) != jobs[0].key


def test_the_progress_bar_shows_done_failed_running_and_elapsed():
    line = SweepProgress(10, cached=2, enabled=False).line(done=4, failed=1, running=2)
    assert line.startswith(
        "[###############...............] 5/10 jobs: 4 done, 1 failed, 2 running, 2 cached;"
    )
    assert line.endswith("elapsed")


def _write_estate(path: Path) -> Path:
    rows = two_place_rows()
    for table in ("buildings", "zones"):
        frame = pd.DataFrame(rows[table])
        geometry = [Point(x, y) for x, y in zip(frame.pop("x"), frame.pop("y"), strict=True)]
        gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=27700)
        pyogrio.write_dataframe(gdf, path, layer=table, driver="GPKG")
    for table in ("occupiers", "access"):
        pyogrio.write_dataframe(pd.DataFrame(rows[table]), path, layer=table, driver="GPKG")
    return path


# ------------------------------------------------------------------------------------------
# grid schema and limits (no cluster)
# ------------------------------------------------------------------------------------------
def _grid_error(tmp_path: Path, text: str) -> str:
    grid = tmp_path / "grid.toml"
    grid.write_text(text, encoding="utf-8")
    with pytest.raises(SweepError) as caught:
        read_grid(grid, access=two_place_estate().access)
    return str(caught.value)


def test_a_grid_of_a_hundred_million_combinations_is_refused_without_listing_them(tmp_path, monkeypatch):
    def no_listing(*_args: Any) -> None:
        msg = "the combinations were listed"
        raise AssertionError(msg)

    monkeypatch.setattr("optimiser.sweep.grid.itertools.product", no_listing)
    keys = [
        "years",
        "cat_discount",
        "max_move_km",
        "homes_per_ha",
        "jobs_per_ha",
        "mip_gap",
        "housing_share",
        "discount_rate",
    ]
    text = "[grid]\n" + "".join(
        f"{k} = [{', '.join(str(0.01 * (i + 1)) for i in range(10))}]\n" for k in keys
    )
    assert _grid_error(tmp_path, text) == (
        "grid.toml: the grid makes 100,000,000 scenario rows ([grid] 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 "
        "= 100,000,000 combinations, plus 0 [[scenarios]] rows); the limit is 10,000. Fix: use fewer "
        "values per key, or split the grid into several files (see docs/limits.md)."
    )


def test_the_row_count_adds_explicit_rows_and_counts_single_values_once():
    assert count_grid_rows({"a": [1, 2, 3], "b": 5}, extra=2) == 5
    assert count_grid_rows({}, extra=4) == 4
    with pytest.raises(SweepError) as caught:
        count_grid_rows({"a": [1], "b": []}, source="g.toml")
    assert str(caught.value) == (
        "g.toml: [grid] b = [] has no values. Fix: give at least one value, or remove the key."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[base]\nname = 'x'\n[solver]\nthreads = 1\n",
            "grid.toml: unknown key 'solver'. Allowed keys: base, grid, scenarios, description.",
        ),
        (
            "[gird]\ncat_discount = [0, 1]\n",
            "grid.toml: unknown key 'gird' (did you mean 'grid'?). Allowed keys: base, grid, scenarios, "
            "description, name, appraisal, costs, moves, outcomes, limits, locks, solver, phasing, uncertainty, "
            "partners, access.",
        ),
        (
            "grid = 3\n",
            "grid.toml: [grid] is a whole number (3), not a table of keys. Fix: give it keys, or remove it.",
        ),
        (
            "base = 'x'\n",
            'grid.toml: [base] is text ("x"), not a table of keys. Fix: give it keys, or remove it.',
        ),
        (
            "scenarios = 3\n",
            "grid.toml: scenarios = 3 must be a list of tables: write each row as [[scenarios]].",
        ),
    ],
)
def test_a_malformed_grid_file_stops_with_the_key_and_value(tmp_path, text, message):
    assert _grid_error(tmp_path, text) == message


def test_a_grid_path_that_is_a_folder_is_a_clean_error(tmp_path):
    with pytest.raises(SweepError) as caught:
        read_grid(tmp_path, access=two_place_estate().access)
    assert (
        str(caught.value)
        == f"Scenario grid {tmp_path}: is a folder, not a file. Give the path of the file itself."
    )


def test_typed_values_in_grid_rows_are_checked_like_a_scenario_file(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[[scenarios]]\nallow_moves = "false"\n[[scenarios]]\n"access.reach_km" = inf\n', encoding="utf-8"
    )
    strings, infinite = read_grid(grid, access=two_place_estate().access)
    assert strings.error == (
        'grid.toml [[scenarios]] row 1: moves.allow_moves = "false" is text, not true or false. Allowed: '
        "true or false. Fix: write it without quotes: allow_moves = false."
    )
    assert infinite.error == (
        "grid.toml [[scenarios]] row 2: access.services.library.reach_km = inf is not a finite number. "
        "Allowed: a number above 0 and up to 1000, or leave the key out (use reach_min). Fix: e.g. "
        "reach_km = 3.0, or remove the line."
    )


def _sweep(tmp_path: Path, *extra: str) -> int:
    estate_file = tmp_path / "two.gpkg"
    if not estate_file.exists():
        _write_estate(estate_file)
    return main(["sweep", "--estate", str(estate_file), *extra])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--time-limit", "nan"],
            "error: command line: --time-limit nan is not a finite number. Allowed: a number above 0 and "
            "up to 1,000,000. Fix: e.g. --time-limit 120.0.",
        ),
        (
            ["--retries", "11"],
            "error: command line: --retries 11 is out of range. Allowed: a whole number from 0 to 10. "
            "Fix: e.g. --retries 2.",
        ),
        (
            ["--workers", "0"],
            "error: command line: --workers 0 is out of range. Allowed: a whole number, 1 or more. Fix: "
            "e.g. --workers 2.",
        ),
    ],
)
def test_sweep_options_out_of_range_exit_2(tmp_path, capsys, options, message):
    assert _sweep(tmp_path, "--places", "A", "--out", str(tmp_path / "out"), *options) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_huge_grid_stops_the_sweep_before_the_estate_loads(tmp_path, capsys, monkeypatch):
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\n" + "".join(f"k{i} = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" for i in range(8)))

    def no_load(*_args: Any, **_kwargs: Any) -> None:
        msg = "the estate was loaded"
        raise AssertionError(msg)

    monkeypatch.setattr("optimiser.cli.load_estate", no_load)
    code = _sweep(tmp_path, "--places", "A", "--scenarios", str(grid), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "grid.toml: the grid makes 100,000,000 scenario rows" in capsys.readouterr().err


def test_more_jobs_than_the_limit_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("optimiser.cli.MAX_SWEEP_JOBS", 3)
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\ncat_discount = [0.0, 0.5]\n")
    code = _sweep(tmp_path, "--places", "A,B", "--scenarios", str(grid), "--out", str(tmp_path / "out"))
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: 2 place(s) x 2 scenario(s) = 4 jobs; the limit is 3 jobs in one sweep. Fix: fewer places "
        "or scenario rows, or several sweeps (see docs/limits.md)."
    )


def test_more_workers_than_cores_are_capped_with_a_warning(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("estate.limits.machine_cores", lambda: 2)
    assert _sweep(tmp_path, "--list-places", "--workers", "100000") == 0
    err = capsys.readouterr().err
    assert (
        "warning: --workers 100000 is more than this machine's 2 CPU core(s); using 2 (see docs/limits.md)."
        in err
    )
