"""`python -m optimiser run` end to end: files written, plan rechecked independently, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.recompute import check_written_plan

pytestmark = pytest.mark.solver


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimiser", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def trafford_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("trafford")
    done = _run("run", "--place", "trafford", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done


def test_trafford_run_writes_every_file(trafford_out):
    out, _ = trafford_out
    for name in ("buildings.csv", "occupiers.csv", "zones.csv", "summary.json", "plan.gpkg"):
        assert (out / name).stat().st_size > 0, name


def test_trafford_plan_passes_the_independent_check(trafford_out):
    out, _ = trafford_out
    figures = check_written_plan(out)
    assert figures["saving"] > 0


def test_trafford_summary_has_the_documented_fields(trafford_out):
    summary = json.loads((trafford_out[0] / "summary.json").read_text())
    for key in (
        "status",
        "proven_optimal",
        "gap",
        "objective",
        "bound",
        "time_s",
        "build_s",
        "solver",
        "detour_factor",
        "access",
        "kpis",
        "partners",
    ):
        assert key in summary, key
    for key in (
        "capital_receipts_gbp",
        "annual_revenue_saving_gbp",
        "one_off_cost_gbp",
        "npv_gbp",
        "payback_years",
        "land_ha",
        "homes",
        "jobs",
        "carbon_tco2e_saved",
        "buildings_before",
        "buildings_after",
    ):
        assert key in summary["kpis"], key
    for service, entry in summary["access"].items():
        assert {"rule", "reach_km", "before_population", "after_population"} <= set(entry), service
    if summary["proven_optimal"]:
        assert summary["status"] == "optimal"
    else:
        assert summary["gap"] > 0


def test_trafford_prints_a_readable_summary(trafford_out):
    _, done = trafford_out
    assert "capital receipts £" in done.stdout
    assert "Traceback" not in done.stderr


def test_trafford_run_shows_progress_while_solving(trafford_out):
    _, done = trafford_out
    lines = [line for line in done.stderr.splitlines() if re.match(r"\d+ s · solving", line)]
    assert lines, done.stderr  # the first report is printed as soon as solving starts
    figures = [line for line in lines if "plan NPV £" in line]
    for line in figures:  # each names the bound and the gap as a share of the plan's NPV
        assert re.search(r"bound £[\d,.]+[mk] · gap £[\d,.]+[mk] \([\d.]+% of NPV\)$", line), line


def test_impossible_scenario_exits_3_naming_what_cannot_be_met(tmp_path):
    done = _run(
        "run",
        "--place",
        "trafford",
        "--scenario",
        str(REPO / "data/scenarios/impossible.toml"),
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 3
    assert (
        "library access: 43.2% of population reachable with the sites allowed; standard asks 99.9%"
        in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_a_min_share_for_a_service_nobody_provides_exits_3(tmp_path):
    scenario = tmp_path / "swimming.toml"
    scenario.write_text('[access.services.swimming]\nreach_km = 3.0\nrule = "min_share"\nmin_share = 0.2\n')
    done = _run("run", "--place", "trafford", "--scenario", str(scenario), "--out", str(tmp_path / "out"))
    assert done.returncode == 3, done.stderr
    assert "swimming access: standard asks 20% of people within 3 km road" in done.stderr
    assert "no occupier provides it" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_scenario_file_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[solver]\ntime_limit = 3\n")
    done = _run("run", "--place", "trafford", "--scenario", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "unknown key 'time_limit'" in done.stderr


def test_unknown_lock_exits_2(tmp_path):
    bad = tmp_path / "locks.toml"
    bad.write_text('[locks]\nkeep = ["NOT_A_BUILDING"]\n')
    done = _run("run", "--place", "trafford", "--scenario", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "error: locks.toml: Scenario 'default': locks.keep names building(s) not in the estate: "
        "NOT_A_BUILDING. Check the IDs against trafford.gpkg:buildings (rejected buildings do not count)."
    )


@pytest.mark.slow
def test_greater_manchester_time_limited_run_is_honest_and_valid(tmp_path):
    done = _run("run", "--place", "greater_manchester", "--time-limit", "45", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    if not summary["proven_optimal"]:
        assert summary["status"] == "time_limit"
        assert "not proven optimal" in summary["status_words"]
        if summary["bound"] is None:  # no bound within the limit (a very busy machine): none claimed
            assert summary["gap"] is None and summary["gap_share_of_npv"] is None
        else:
            assert summary["bound"] <= summary["objective"]
    assert summary["kpis"]["buildings_after"] < summary["kpis"]["buildings_before"]
    check_written_plan(tmp_path)


# ------------------------------------------------------------------ bad input: exit 2, never "internal error"
def _clean_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    return done.stderr.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[solver]\nthreads = "four"\n',
            'error: bad.toml: solver.threads = "four" is text, not a whole number. Allowed: a whole number, '
            "1 or more, or leave the key out (the solver's own choice). Fix: e.g. threads = 2, or remove the line.",
        ),
        (
            "[limits]\ncapital_budget_gbp = inf\n",
            "error: bad.toml: limits.capital_budget_gbp = inf is not a finite number. Allowed: a number "
            "from 0 to 1e12, or leave the key out (no budget). Fix: e.g. capital_budget_gbp = 5000000, or "
            "remove the line.",
        ),
        (
            '[access.services.library]\nreach_km = 3\nenabled = "false"\n',
            'error: bad.toml: access.services.library.enabled = "false" is text, not true or false. Allowed: '
            "true or false. Fix: write it without quotes: enabled = false.",
        ),
    ],
)
def test_a_scenario_value_of_the_wrong_type_exits_2_with_the_message(tmp_path, text, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    done = _run("run", "--place", "trafford", "--scenario", str(bad), "--out", str(tmp_path / "out"))
    assert _clean_exit_2(done) == message


def test_a_scenario_path_that_is_a_folder_exits_2(tmp_path):
    done = _run("run", "--place", "trafford", "--scenario", str(tmp_path), "--out", str(tmp_path / "out"))
    assert _clean_exit_2(done) == (
        f"error: Scenario file {tmp_path}: is a folder, not a file. Give the path of the file itself."
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["--threads", "0"],
            "error: command line: --threads 0 is out of range. Allowed: a whole number, 1 or more. Fix: "
            "e.g. --threads 2.",
        ),
        (
            ["--time-limit", "inf"],
            "error: command line: --time-limit inf is not a finite number. Allowed: a number above 0 and up "
            "to 1,000,000. Fix: e.g. --time-limit 120.0.",
        ),
        (
            ["--gap", "nan"],
            "error: command line: --gap nan is not a finite number. Allowed: a number at least 0 and below 1. "
            "Fix: e.g. --gap 0.0001.",
        ),
    ],
)
def test_a_bad_command_line_value_exits_2_with_the_option_named(tmp_path, option, message):
    done = _run("run", "--place", "trafford", *option, "--out", str(tmp_path / "out"))
    assert _clean_exit_2(done) == message


def test_threads_beyond_the_cores_are_capped_with_a_warning_and_the_run_goes_on(tmp_path):
    from estate.limits import machine_cores
    from tests.test_sweep import _write_estate

    estate = _write_estate(tmp_path / "two.gpkg")
    scenario = tmp_path / "many.toml"
    scenario.write_text("[solver]\nthreads = 100000\n")
    done = _run(
        "run", "--buildings", str(estate), "--scenario", str(scenario), "--out", str(tmp_path / "out")
    )
    assert done.returncode == 0, done.stderr
    cores = machine_cores()
    assert (
        f"warning: many.toml: threads = 100000 is more than this machine's {cores} CPU core(s); using {cores} "
        "(see docs/limits.md)."
    ) in done.stderr
    done = _run("run", "--buildings", str(estate), "--threads", "100000", "--out", str(tmp_path / "out2"))
    assert done.returncode == 0, done.stderr
    assert f"warning: --threads 100000 is more than this machine's {cores} CPU core(s)" in done.stderr


def _csv_estate(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,easting,northing\nL1,C,380000,400000\n")
    (tmp_path / "z.csv").write_text("zone_id,population,easting,northing\nZ1,100,380500,400000\n")
    return ["--buildings", str(tmp_path / "b.csv"), "--zones", str(tmp_path / "z.csv")]


def test_a_mapping_with_an_unknown_crs_exits_2(tmp_path):
    (tmp_path / "m.toml").write_text('[buildings.read]\ncrs = "EPSG:999999"\n')
    done = _run("validate", *_csv_estate(tmp_path), "--mapping", str(tmp_path / "m.toml"))
    assert _clean_exit_2(done) == (
        'error: Mapping m.toml: buildings.read.crs = "EPSG:999999" is not a coordinate reference system '
        'pyproj knows. Allowed: an EPSG code as text. Fix: e.g. crs = "EPSG:27700" (British National Grid) '
        'or crs = "EPSG:4326" (longitude/latitude).'
    )


def test_a_mapping_whose_columns_is_a_string_exits_2(tmp_path):
    (tmp_path / "m.yaml").write_text("buildings:\n  columns: Ref\n")
    done = _run("validate", *_csv_estate(tmp_path), "--mapping", str(tmp_path / "m.yaml"))
    assert _clean_exit_2(done) == (
        'error: Mapping m.yaml: [buildings.columns] is text ("Ref"), not a table of keys. Fix: give it '
        "keys, or remove it."
    )


def test_a_travel_matrix_with_a_duplicate_pair_exits_2_naming_both_rows(tmp_path):
    (tmp_path / "m.csv").write_text("zone_id,building_id,minutes\nZ1,L1,4\nZ1,L1,5\n")
    done = _run("validate", *_csv_estate(tmp_path), "--travel-matrix", str(tmp_path / "m.csv"))
    assert _clean_exit_2(done) == (
        "error: m.csv: 1 problem(s) in 1 row(s).\n"
        "  - m.csv row 2, column 'zone_id, building_id' = 'Z1 / L1': repeats the pair of row 1 (rows 1 "
        "and 2 give 4 and 5 minutes). Keep one row per zone and building."
    )


def test_a_travel_matrix_path_that_is_a_folder_exits_2(tmp_path):
    done = _run("validate", *_csv_estate(tmp_path), "--travel-matrix", str(tmp_path))
    assert _clean_exit_2(done) == (
        f"error: Travel matrix {tmp_path}: is a folder, not a file. Give the path of the file itself."
    )


def test_an_out_folder_that_cannot_be_written_exits_2_before_any_work(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    done = _run("run", "--place", "trafford", "--out", str(afile))
    assert _clean_exit_2(done) == (
        f"error: --out {afile}: is a file, not a folder. Give a folder for the outputs (it is made if missing)."
    )
    done = _run("run", "--place", "trafford", "--out", str(afile / "sub"))
    assert _clean_exit_2(done) == (
        f"error: --out {afile / 'sub'}: {afile} is a file, not a folder. Give a folder for the outputs."
    )
    done = _run("sweep", "--estate", str(afile), "--places", "A", "--out", str(afile))
    assert _clean_exit_2(done) == (
        f"error: --out {afile}: is a file, not a folder. Give a folder for the outputs (it is made if missing)."
    )
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]  # the check leaves nothing behind


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_an_out_folder_under_proc_exits_2():
    done = _run("run", "--place", "trafford", "--out", "/proc/nope")
    assert _clean_exit_2(done) == (
        "error: --out /proc/nope: cannot be written (No such file or directory in /proc). Give a folder "
        "you can write to."
    )
