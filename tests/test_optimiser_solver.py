"""Solver adapters: honest status, and no wrong plan when HiGHS returns inconsistent columns."""

from __future__ import annotations

import pytest

import optimiser.solver as solver_module
from optimiser.model import build_model
from optimiser.plan import solve
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import make_solver, relative_gap
from tests.test_optimiser_properties import random_estate, today_share

pytestmark = pytest.mark.solver


def _seed_254_model():
    """HiGHS 1.16, given today's estate as a start, reports this model's optimum (2,393.6) but
    returns the start's columns (3,850.6): the case that the consistency check exists for."""
    estate = random_estate(254)
    share = today_share(estate, "gp_practice", 3.0)
    standard = AccessStandard("gp_practice", reach_km=3.0, rule="min_share", min_share=0.8 * share,
                              protect_deprived_deciles=2)
    return build_model(estate, Scenario(max_move_km=6, cat_discount=0.0, time_limit_s=20, access=(standard,)))


def _objective_of_values(model) -> float:
    objective = model.problem.objective
    return objective.constant + sum(c * (v.varValue or 0.0) for v, c in objective.items())


def test_inconsistent_columns_are_never_returned_as_the_plan():
    model = _seed_254_model()
    plan = solve(model, make_solver("highs", time_limit_s=20, start=model.start))
    assert plan.info.objective == pytest.approx(_objective_of_values(model))
    assert plan.info.objective == pytest.approx(2393.6103906, rel=1e-7)
    assert plan.proven_optimal


def test_without_time_to_resolve_the_start_is_reported_with_the_bound(monkeypatch):
    model = _seed_254_model()
    calls = iter([False])  # the first check fails, as HiGHS's did
    monkeypatch.setattr(solver_module, "_consistent", lambda h: next(calls, True))
    solver = make_solver("highs", time_limit_s=1e-9, start=model.start)
    solver.timeLimit = 1e-9  # no time left for a second solve
    plan = solve(model, solver)
    assert plan.info.objective == pytest.approx(_objective_of_values(model))
    assert plan.info.objective == pytest.approx(3850.588264, rel=1e-7)  # today's estate
    assert not plan.proven_optimal
    assert plan.info.status == "time_limit"
    assert "starting plan is reported" in plan.info.extra["warm_start"]


def test_relative_gap_is_highs_definition():
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert relative_gap(100.0, float("nan")) == float("inf")


def test_unknown_solver_is_refused():
    with pytest.raises(solver_module.SolveError, match="Unknown solver 'gurobi'"):
        make_solver("gurobi")


def test_a_solve_with_one_thread_after_a_default_solve_still_works(three_building_estate):
    # HiGHS keeps one task scheduler per process; a changed `threads` used to stop at once ("Not Set")
    scenario = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20)
    for threads in (None, 1, None):
        model = build_model(three_building_estate, scenario)
        plan = solve(model, make_solver("highs", time_limit_s=20, threads=threads))
        assert plan.proven_optimal, threads
