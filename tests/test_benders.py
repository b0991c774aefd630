"""Benders decomposition (optimiser.benders) on published instances and on hand-built estates.

Small instances only: capb (100 x 1000) is measured by bench/capb.py --method benders.
No timed assertion: budgets here are rounds, not seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimiser.bench import (
    build_instance_model,
    check_plan,
    holmberg_optima,
    orlib_cap_optima,
    read_holmberg,
    read_orlib_cap,
    solve_instance,
)
from optimiser.benders import BendersOptions, _split, _Subproblem, check_solution, solve_benders
from optimiser.model import build_model
from optimiser.pipeline import solve
from optimiser.scenario import Scenario
from optimiser.solver import make_solver

from .conftest import _building, make_estate
from .test_optimiser_bench import HOLMBERG, ORLIB, REL_TOL, rel_error


@pytest.fixture(scope="module")
def cap_opt() -> dict[str, float]:
    return orlib_cap_optima(ORLIB / "bounds.txt")


@pytest.fixture(scope="module")
def holmberg_os() -> dict[str, float]:
    return holmberg_optima(HOLMBERG / "os")


@pytest.mark.solver
@pytest.mark.parametrize("name", ["cap41", "cap42", "cap43", "cap44", "cap131"])
def test_orlib_cap_published_optimum_by_benders(name, cap_opt):
    inst = read_orlib_cap(ORLIB / f"{name}.zip")
    plan = solve_instance(inst, method="benders", time_limit_s=3600, threads=1)
    info = plan.info
    assert info.solver == "HiGHS+Benders"
    assert plan.proven_optimal, info
    assert rel_error(info.objective, cap_opt[name]) <= REL_TOL, (info.objective, cap_opt[name])
    assert info.bound <= info.objective + 1e-9 * abs(info.objective)
    assert rel_error(info.bound, cap_opt[name]) <= 1e-4  # the bound is within the gap
    assert info.bound <= cap_opt[name] * (1 + 1e-9)  # and never above the true optimum
    assert rel_error(check_plan(inst, plan), cap_opt[name]) <= REL_TOL
    assert info.extra["root_cut_rounds"] > 0 and info.extra["benders_link_bounds"] == inst.m * inst.n


@pytest.mark.solver
@pytest.mark.parametrize("name", ["p1", "p2", "p3", "p4", "p5"])
def test_holmberg_published_optimum_by_benders(name, holmberg_os):
    """Single-source: every share is whole, so the master is the whole model, passed straight to HiGHS."""
    inst = read_holmberg(HOLMBERG / name)
    plan = solve_instance(inst, method="benders", time_limit_s=3600, threads=1)
    info = plan.info
    assert info.solver == "HiGHS (direct)"
    assert plan.proven_optimal, info
    assert rel_error(info.objective, holmberg_os[name]) <= REL_TOL
    assert info.bound <= holmberg_os[name] * (1 + 1e-9)
    assert rel_error(check_plan(inst, plan), holmberg_os[name]) <= REL_TOL


@pytest.mark.solver
def test_a_round_budget_is_not_optimal_and_its_bound_is_below():
    """Two root cut rounds and one master round cannot prove cap131 (50 x 50): honest status."""
    inst = read_orlib_cap(ORLIB / "cap131.zip")
    model = build_instance_model(inst)
    plan = solve_benders(
        model, BendersOptions(time_limit_s=3600, mip_gap=0.0, threads=1, lp_rounds=2, max_rounds=1)
    )
    info = plan.info
    assert info.raw_status == "round_limit"
    assert info.status == "feasible" and not plan.proven_optimal
    assert info.bound < info.objective
    assert info.gap > 1e-4
    assert math.isfinite(info.bound)
    assert info.bound <= 793439.562 * (1 + 1e-9)  # published optimum: the bound is a true bound
    check_plan(inst, plan)  # feasible, though not optimal


def test_cuts_are_valid_for_any_multipliers():
    """A cut from arbitrary (even nonsense) multipliers never exceeds a feasible plan's share cost."""
    inst = read_orlib_cap(ORLIB / "cap41.zip")
    model = build_instance_model(inst)
    split = _split(model)
    sub = _Subproblem(split, threads=1)
    # a feasible plan: every facility kept, each customer split evenly (cap41 has room for that)
    x = np.zeros(len(split.cost))
    x[np.unique(split.link[split.link >= 0])] = 1.0
    shares = np.flatnonzero(split.sub)
    x[shares] = 1.0 / inst.m
    assert check_solution(split, x) is None
    share_cost = float(np.dot(split.cost[shares], x[shares]))
    rng = np.random.default_rng(7)
    for scale in (1.0, 1e3, 1e5):
        constant, coef = sub.cut(rng.normal(0.0, scale, sub.nrows))
        assert constant + float(np.dot(coef, x)) <= share_cost + 1e-6 * abs(share_cost)
    # the subproblem's own multipliers give the exact share cost at the point they came from
    objective, _shares, duals, elastic = sub.solve(x)
    constant, coef = sub.cut(duals)
    assert elastic == pytest.approx(0.0, abs=1e-9)
    assert constant + float(np.dot(coef, x)) == pytest.approx(objective, rel=1e-7)


def test_plan_check_catches_a_share_in_a_closed_building():
    inst = read_orlib_cap(ORLIB / "cap41.zip")
    split = _split(build_instance_model(inst))
    keep = np.unique(split.link[split.link >= 0])
    x = np.zeros(len(split.cost))
    x[keep] = 1.0
    shares = np.flatnonzero(split.sub)
    x[shares] = 1.0 / inst.m
    closed = keep[0]
    x[closed] = 0.0
    assert "outside" in (check_solution(split, x) or "")
    x[closed] = 0.5
    assert "not whole" in (check_solution(split, x) or "")


def _split_estate(n_sites: int = 6) -> tuple:
    """A small estate whose occupiers may be split: a row of offices, four teams to rehouse."""
    sites = [
        (500, 90_000, 600_000),
        (300, 40_000, 200_000),
        (400, 70_000, 500_000),
        (250, 30_000, 100_000),
        (600, 120_000, 900_000),
        (350, 50_000, 250_000),
    ][:n_sites]
    buildings = [
        _building(f"B{i}", 380000 + 400 * i, 400000, cap, run, value, "office")
        for i, (cap, run, value) in enumerate(sites)
    ]
    occupiers = [
        {
            "occupier_id": f"t{k}",
            "partner": "Council",
            "service": "council_office",
            "building_id": f"B{k % n_sites}",
            "space_m2": space,
            "space_type": "office",
            "splittable": True,
        }
        for k, space in enumerate([220, 180, 260, 140])
    ]
    return make_estate(buildings, occupiers, name="split estate")


@pytest.mark.solver
def test_estate_with_split_occupiers_matches_the_default_pipeline():
    estate = _split_estate()
    scenario = Scenario(name="split", years=10, discount_rate=0.0, access_enabled=False, mip_gap=0.0)
    default = solve(build_model(estate, scenario), make_solver("highs", time_limit_s=600, mip_gap=0.0))
    plan = solve_benders(build_model(estate, scenario), BendersOptions(time_limit_s=600, mip_gap=1e-9))
    assert default.proven_optimal and plan.proven_optimal
    assert plan.info.objective == pytest.approx(default.info.objective, rel=1e-7)
    assert plan.info.bound <= default.info.objective + 1e-9 * abs(default.info.objective)
    kept = plan.buildings.set_index("building_id")["decision"].eq("keep")
    load = plan.occupiers.groupby("to_building_id")["space_m2"].sum()
    cap = plan.buildings.set_index("building_id")["capacity_m2"]
    assert (load <= cap.reindex(load.index) + 1e-6).all()
    assert kept.reindex(load.index).all()  # only kept buildings house anyone
    shares = plan.occupiers.groupby("occupier_id")["share"].sum()
    assert np.allclose(shares, 1.0)


@pytest.mark.solver
def test_cli_bench_method_benders(capsys):
    from optimiser.cli import main

    assert (
        main(["bench", "orlib-cap", str(ORLIB / "cap41.zip"), "--method", "benders", "--threads", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("cap41: objective=1040444.375000 status=optimal proven_optimal=True")
    assert "solver=HiGHS+Benders" in out and "rel_error=" in out
    assert (
        main(["bench", "orlib-cap", str(ORLIB / "cap41.zip"), "--method", "benders", "--solver", "cbc"]) == 2
    )
    assert "HiGHS only" in capsys.readouterr().err


@pytest.mark.solver
def test_progress_reports_true_bounds_and_real_plans(cap_opt):
    """Every progress report's bound is at most the optimum, and every incumbent at least it."""
    inst = read_orlib_cap(ORLIB / "cap131.zip")
    seen = []
    plan = solve_benders(
        build_instance_model(inst),
        BendersOptions(time_limit_s=3600, mip_gap=1e-9, threads=1),
        progress=seen.append,
    )
    assert plan.proven_optimal
    assert seen
    optimum = cap_opt["cap131"]
    for p in seen:
        assert p.bound <= optimum * (1 + 1e-9)
        assert math.isnan(p.incumbent) or math.isinf(p.incumbent) or p.incumbent >= optimum * (1 - 1e-9)
