"""The phased model (issue 11): the scenario section, the timed costs, the programme and its checks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from estate.io import load_place
from optimiser.costs import building_costs
from optimiser.model import build_model
from optimiser.model_phased import build_phased_model, lease_exit_by_time
from optimiser.pipeline import solve
from optimiser.programme import make_programme
from optimiser.scenario import Scenario
from tests.conftest import REPO
from tests.phased_check import check_phased_run

PHASED = REPO / "data" / "scenarios" / "phased.toml"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimiser", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        check=False,
    )


def test_phased_toml_sets_every_rule():
    s = Scenario.from_toml(PHASED)
    assert s.phased and s.cash_flow_rule and not s.allow_early_lease_exit
    assert s.receipt_lag_years == 1 and s.fit_out_lead_years == 1
    assert s.max_disposals_per_year is not None and s.max_moves_per_year is not None
    assert Scenario.from_toml(REPO / "data" / "scenarios" / "default.toml").phased is False
    assert Scenario.from_dict(s.to_dict()) == s


def test_a_lease_left_at_time_zero_costs_what_the_static_model_charges():
    estate = load_place("trafford")
    scenario = Scenario()
    c = building_costs(estate, scenario)
    by_time = lease_exit_by_time(estate, scenario, c["running_k"])
    assert by_time
    for bid, costs in by_time.items():
        assert costs[0] == pytest.approx(float(c.at[bid, "lease_exit_k"]), rel=1e-12, abs=1e-12)
        b = estate.buildings.loc[bid]
        k = None if pd.isna(b["break_year"]) else int(b["break_year"]) - scenario.start_year
        if k is not None and 0 <= k < scenario.years:
            assert costs[k] == 0.0  # free at the break
        assert all(x >= 0 for x in costs)


@pytest.mark.parametrize("rate", [0.0, 0.035])
def test_with_every_timing_rule_off_the_phased_optimum_is_the_static_one(three_building_estate, rate):
    scenario = Scenario(discount_rate=rate)
    static = solve(build_model(three_building_estate, scenario))
    phased = solve(build_phased_model(three_building_estate, scenario.with_changes(phased=True)))
    assert static.proven_optimal and phased.proven_optimal
    assert phased.info.objective == pytest.approx(static.info.objective, rel=1e-6)
    # the NPV is the cash flow's own, and is today's cost less the plan's
    model = build_phased_model(three_building_estate, scenario.with_changes(phased=True))
    assert phased.programme is not None
    assert phased.kpis["npv_gbp"] == pytest.approx(
        (model.today_cost - phased.info.objective) * 1000, rel=1e-9
    )
    assert phased.programme.npv_gbp == pytest.approx(
        float(phased.programme.cashflow["discounted_net_gbp"].sum())
    )


def test_a_lease_without_early_exit_leaves_at_its_break_and_its_team_moves_first(three_building_estate):
    """C (leasehold, break in year 3) may go only then; its team moves into A by that year."""
    import dataclasses

    b = three_building_estate.buildings.copy()
    b.loc["C", "tenure"] = "leasehold"
    b.loc["C", "break_year"] = 2029
    b.loc["C", "lease_end_year"] = 2040
    b.loc["C", "rent_gbp"] = 20_000
    estate = dataclasses.replace(three_building_estate, buildings=b)
    scenario = Scenario(phased=True, allow_early_lease_exit=False)
    plan = solve(build_phased_model(estate, scenario))
    assert plan.proven_optimal
    events = plan.programme.events
    gone = events[events["building_id"] == "C"]
    assert list(gone["event"]) == ["lease_exit"] and list(gone["year"]) == [2029]
    assert float(gone["one_off_cost_gbp"].iloc[0]) == 0.0
    moved = events[events["occupier_id"] == "c1"]
    assert len(moved) == 1 and int(moved["year"].iloc[0]) <= 2029
    # early exit allowed: it leaves at once and pays the rent to the break
    early = solve(build_phased_model(estate, scenario.with_changes(allow_early_lease_exit=True)))
    assert early.info.objective <= plan.info.objective + 1e-6


def test_the_cash_per_partner_adds_up_to_the_cash_flow(three_building_estate):
    scenario = Scenario(phased=True, receipt_lag_years=2)
    programme = make_programme(
        three_building_estate, scenario, {"B": 1, "C": 0}, {("b1", "A"): [(1, 1.0)], ("c1", "A"): [(0, 1.0)]}
    )
    by_year = programme.partners_by_year.groupby("year")[
        ["receipts_gbp", "one_off_cost_gbp", "saving_gbp", "net_gbp"]
    ].sum()
    cash = programme.cashflow.set_index("year")
    for col in by_year.columns:
        assert np.allclose(by_year[col].to_numpy(), cash[col].to_numpy())
    # C (market sale) goes in 2026 and is paid two years later; B (a library) is transferred
    assert cash.loc[2028, "receipts_gbp"] == 400_000 and cash["receipts_gbp"].sum() == 400_000
    assert cash.loc[2026, "one_off_cost_gbp"] == 40_000 and cash.loc[2027, "one_off_cost_gbp"] == 80_000
    assert cash.loc[2026, "saving_gbp"] == 0 and cash.loc[2027, "saving_gbp"] == 40_000
    assert cash.loc[2028, "saving_gbp"] == 100_000
    assert programme.payback_year == 2028


@pytest.fixture(scope="module")
def trafford_phased(tmp_path_factory):
    out = tmp_path_factory.mktemp("phased") / "run"
    done = _run(
        "run", "--place", "trafford", "--scenario", str(PHASED), "--time-limit", "30", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    return out


def test_trafford_phased_run_passes_the_independent_check(trafford_phased):
    figures = check_phased_run(REPO / "data" / "trafford.gpkg", trafford_phased)
    assert figures["events"] > 0
    for name in ("programme.csv", "cashflow.csv", "partners_by_year.csv"):
        assert (trafford_phased / name).is_file()


def test_no_upfront_money_gives_a_programme_that_never_goes_below_zero(tmp_path):
    scenario = tmp_path / "zero.toml"
    scenario.write_text(
        PHASED.read_text().replace("upfront_investment_gbp = 2000000", "upfront_investment_gbp = 0")
    )
    out = tmp_path / "run"
    done = _run(
        "run", "--place", "trafford", "--scenario", str(scenario), "--time-limit", "20", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    figures = check_phased_run(REPO / "data" / "trafford.gpkg", out)
    assert figures["lowest_cash_gbp"] >= -1e-3


def test_when_no_programme_meets_the_cash_rule_the_exit_is_3_naming_the_year_and_shortfall(tmp_path):
    """Receipts come nine years late, and a locked-out surgery's team must move (after a year of
    fit-out) before any receipt: no programme keeps the cumulative cash at or above zero."""
    scenario = tmp_path / "broke.toml"
    text = PHASED.read_text().replace("upfront_investment_gbp = 2000000", "upfront_investment_gbp = 0")
    text = text.replace("receipt_lag_years = 1", "receipt_lag_years = 9")
    text = text.replace("allow_early_lease_exit = false", "allow_early_lease_exit = true")
    text += '\n[locks]\ndispose = ["GP_0089"]\n\n[access]\nenabled = false\n'
    scenario.write_text(text)
    done = _run(
        "run",
        "--place",
        "trafford",
        "--scenario",
        str(scenario),
        "--time-limit",
        "20",
        "--out",
        str(tmp_path / "o"),
    )
    assert done.returncode == 3, done.stderr
    assert "cash-flow rule" in done.stderr and "least shortfall is" in done.stderr
    assert "in 20" in done.stderr and "£" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_locked_out_building_that_cannot_leave_in_time_is_named(tmp_path):
    scenario = tmp_path / "late.toml"
    text = PHASED.read_text().replace("receipt_lag_years = 1", "receipt_lag_years = 10")
    scenario.write_text(text + '\n[locks]\ndispose = ["GP_0089"]\n')
    done = _run("run", "--place", "trafford", "--scenario", str(scenario), "--out", str(tmp_path / "o"))
    assert done.returncode == 3, done.stderr
    assert "GP_0089 is locked out but may leave only in 2026" in done.stderr
    assert "fit_out_lead_years = 1" in done.stderr
