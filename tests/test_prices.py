"""The price of each decision (issue 13): re-solves with one decision reversed, against separate runs."""

from __future__ import annotations

import pandas as pd
import pytest

from estate import load_place
from optimiser import optimise
from optimiser.prices import with_prices
from optimiser.scenario import Scenario
from tests.test_cli_run import _run

pytestmark = pytest.mark.solver

UNDISCOUNTED = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20, mip_gap=1e-9)


def _by_id(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("building_id")


def test_prices_on_the_three_building_estate_are_the_hand_worked_differences(three_building_estate):
    # conftest: keep A only costs 220 (£k); keeping B as well 1,240, keeping C as well 980
    plan = optimise(three_building_estate, UNDISCOUNTED)
    assert plan.info.objective == pytest.approx(220, abs=1e-6)
    table = _by_id(with_prices(three_building_estate, UNDISCOUNTED, plan, which="all"))
    assert table.at["B", "price_of_decision_gbp"] == pytest.approx(1_020_000, abs=1)
    assert table.at["C", "price_of_decision_gbp"] == pytest.approx(760_000, abs=1)
    assert "keeping this building would cost £1.02m over 10 years" in table.at["B", "price_basis"]
    assert table.at["A", "price_basis"].startswith("decided before the solve: keep: houses a1")
    assert pd.isna(table.at["A", "price_of_decision_gbp"])


def test_a_lock_with_no_plan_says_which_standard_forbids_it(two_library_estate):
    scenario = UNDISCOUNTED.with_changes(cat_services=("library",), max_move_km=10)  # may move: 5.2 km road
    plan = optimise(two_library_estate, scenario)
    table = _by_id(with_prices(two_library_estate, scenario, plan, which="all"))
    for bid in ("L1", "L2"):  # both kept: each is the only library within reach of its zone
        basis = table.at[bid, "price_basis"]
        assert basis.startswith("disposing of this building is not possible: "), basis
        assert "library access (keep_current)" in basis and "within 3 km road" in basis, basis
        assert pd.isna(table.at[bid, "price_of_decision_gbp"])


def test_three_trafford_prices_equal_separate_proven_optimal_runs():
    estate = load_place("trafford")
    scenario = Scenario(mip_gap=1e-7)
    plan = optimise(estate, scenario)
    assert plan.proven_optimal
    disposed = list(plan.buildings.loc[plan.buildings["decision"] == "dispose", "building_id"])[:3]
    assert len(disposed) == 3
    table = _by_id(with_prices(estate, scenario, plan, which="disposed", only=disposed))
    for bid in disposed:
        locked = optimise(estate, scenario.with_changes(keep=(*scenario.keep, bid)))
        assert locked.proven_optimal
        expected = plan.kpis["npv_gbp"] - locked.kpis["npv_gbp"]
        assert table.at[bid, "price_of_decision_gbp"] == pytest.approx(expected, abs=1000), bid
        assert "both solves proven optimal" in table.at[bid, "price_basis"]
        low, high = table.at[bid, "price_low_gbp"], table.at[bid, "price_high_gbp"]
        assert low - 1e-6 <= table.at[bid, "price_of_decision_gbp"] <= high + 1e-6


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--alternatives", "99"], "--alternatives 99 is out of range"),
        (["--within", "0"], "--within 0 is out of range"),
        (["--differ", "0"], "--differ 0 is out of range"),
        (["--option-workers", "0"], "--option-workers 0 is out of range"),
        (["--prices", "some"], "invalid choice"),
    ],
)
def test_bad_option_flags_exit_2_before_any_solve(tmp_path, flags, words):
    done = _run("run", "--place", "trafford", "--out", str(tmp_path / "o"), *flags, timeout=120)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
