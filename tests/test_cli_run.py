"""`python -m optimiser run` end to end: files written, plan rechecked independently, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

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
    done = _run("run", "--place", "trafford", "--scenario", str(bad), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "unknown key 'time_limit'" in done.stderr


def test_unknown_lock_exits_2(tmp_path):
    bad = tmp_path / "locks.toml"
    bad.write_text('[locks]\nkeep = ["NOT_A_BUILDING"]\n')
    done = _run("run", "--place", "trafford", "--scenario", str(bad), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "NOT_A_BUILDING" in done.stderr


@pytest.mark.slow
def test_greater_manchester_time_limited_run_is_honest_and_valid(tmp_path):
    done = _run("run", "--place", "greater_manchester", "--time-limit", "45", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    if not summary["proven_optimal"]:
        assert summary["status"] == "time_limit"
        assert "not proven optimal" in summary["status_words"]
        assert summary["bound"] <= summary["objective"]
    assert summary["kpis"]["buildings_after"] < summary["kpis"]["buildings_before"]
    check_written_plan(tmp_path)
