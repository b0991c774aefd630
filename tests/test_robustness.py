"""Robustness to modelled figures (issue 13): seeded draws, P10/P50/P90, disposal shares, robust core."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from optimiser import optimise
from optimiser.fanout import with_factors
from optimiser.robustness import CORE_SHARE, draw_factors, robustness
from optimiser.scenario import Scenario
from tests.test_cli_run import _run

pytestmark = pytest.mark.solver


def test_draws_are_seeded_bounded_and_touch_only_modelled_figures(three_building_estate):
    estate = three_building_estate
    b = estate.buildings.copy()
    b["modelled"] = [("running_cost_gbp",), ("running_cost_gbp", "market_value_gbp"), ()]
    estate = type(estate)(**{**estate.__dict__, "buildings": b})
    scenario = Scenario(market_value_spread=0.1)
    first = draw_factors(estate, scenario, 6, seed=7)
    assert first == draw_factors(estate, scenario, 6, seed=7)
    assert first[:3] == draw_factors(estate, scenario, 3, seed=7)  # draw d does not depend on N
    assert first != draw_factors(estate, scenario, 6, seed=8)
    for factors in first:
        assert set(factors) == {"running_cost_gbp", "market_value_gbp"}
        assert set(factors["running_cost_gbp"]) == {"A", "B"} and set(factors["market_value_gbp"]) == {"B"}
        assert all(0.8 <= f <= 1.2 for f in factors["running_cost_gbp"].values())
        assert all(0.9 <= f <= 1.1 for f in factors["market_value_gbp"].values())
    before = estate.buildings["running_cost_gbp"].copy()
    drawn = with_factors(estate, first[0])
    assert estate.buildings["running_cost_gbp"].equals(before)  # the input is never changed
    assert drawn.buildings.at["A", "running_cost_gbp"] == pytest.approx(
        before["A"] * first[0]["running_cost_gbp"]["A"]
    )
    assert drawn.buildings.at["C", "running_cost_gbp"] == before["C"]
    none = draw_factors(estate, Scenario(running_cost_spread=0.0, market_value_spread=0.0), 2, seed=1)
    assert none == [{}, {}]


def test_shares_and_core_on_the_three_building_estate(three_building_estate):
    # keep A only wins by a wide margin (220 against 980): every draw disposes of B and C
    scenario = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20, mip_gap=1e-9)
    estate = three_building_estate
    b = estate.buildings.copy()
    b["modelled"] = [("running_cost_gbp", "market_value_gbp")] * 3
    estate = type(estate)(**{**estate.__dict__, "buildings": b})
    plan = optimise(estate, scenario)
    found = robustness(estate, scenario, plan, draws=5, seed=2)
    shares = found.buildings.set_index("building_id")["disposed_share"].to_dict()
    assert shares == {"A": 0.0, "B": 1.0, "C": 1.0}
    assert found.core == ["B", "C"]
    summary = found.summary()
    npv = found.draws["npv_gbp"].to_numpy()
    assert summary["npv_p10_gbp"] == pytest.approx(np.percentile(npv, 10))
    assert summary["npv_p10_gbp"] <= summary["npv_p50_gbp"] <= summary["npv_p90_gbp"]
    assert len(set(np.round(npv))) > 1  # the draws do move the figures
    assert summary["uncertainty"]["core_share"] == CORE_SHARE


def _draws(out, cache) -> subprocess.CompletedProcess[str]:
    flags = ("--uncertainty", "8", "--seed", "3", "--gap", "1e-7", "--cache", str(cache))
    return _run("run", "--place", "trafford", "--out", str(out), "--quiet", *flags, timeout=900)


def test_trafford_uncertainty_reports_percentiles_and_shares_and_repeats_exactly(tmp_path):
    first = _draws(tmp_path / "a", tmp_path / "cache_a")
    assert first.returncode == 0, first.stderr
    second = _draws(tmp_path / "b", tmp_path / "cache_b")  # a fresh cache: every draw solved again
    assert second.returncode == 0, second.stderr
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    for key in ("npv_p10_gbp", "npv_p50_gbp", "npv_p90_gbp"):
        assert sa[key] is not None and sa[key] == pytest.approx(sb[key], abs=1.0), key
    assert sa["npv_p10_gbp"] <= sa["npv_p50_gbp"] <= sa["npv_p90_gbp"]
    assert sa["uncertainty"]["draws"] == 8 and sa["uncertainty"]["seed"] == 3
    ra = pd.read_csv(tmp_path / "a" / "robustness.csv")
    rb = pd.read_csv(tmp_path / "b" / "robustness.csv")
    assert list(ra.columns[:2]) == ["building_id", "disposed_share"]
    assert ra.equals(rb)
    assert ((ra["disposed_share"] >= 0) & (ra["disposed_share"] <= 1)).all()
    core = sorted(ra.loc[ra["disposed_share"] >= CORE_SHARE, "building_id"])
    assert core == sa["uncertainty"]["robust_core"]
    assert "robust core" in first.stderr


def test_the_draws_on_two_dask_workers_equal_the_serial_draws_and_are_cached(three_building_estate, tmp_path):
    scenario = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20, mip_gap=1e-9, threads=1)
    estate = three_building_estate
    b = estate.buildings.copy()
    b["modelled"] = [("running_cost_gbp", "market_value_gbp")] * 3
    estate = type(estate)(**{**estate.__dict__, "buildings": b})
    plan = optimise(estate, scenario)
    serial = robustness(estate, scenario, plan, draws=4, seed=5)
    cache = tmp_path / "cache"
    on_dask = robustness(estate, scenario, plan, draws=4, seed=5, workers=2, cache_dir=cache)
    assert on_dask.buildings.equals(serial.buildings)
    assert list(on_dask.draws["npv_gbp"]) == pytest.approx(list(serial.draws["npv_gbp"]), abs=1e-6)
    assert len(list(cache.glob("*.json"))) == 4
    seen = []
    again = robustness(
        estate, scenario, plan, draws=4, seed=5, cache_dir=cache, on_result=lambda i, r: seen.append(i)
    )
    assert seen == [] and again.buildings.equals(serial.buildings)  # every draw read back, none solved
