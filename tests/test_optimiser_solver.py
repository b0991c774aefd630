"""Solver adapters: honest status, and no wrong plan when HiGHS returns inconsistent columns."""

from __future__ import annotations

import math

import pulp
import pytest

import optimiser.solver as solver_module
from estate import load_place
from optimiser.model import build_model
from optimiser.pipeline import optimise, solve
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import OPTIMAL_GAP, SolveInfo, cbc_info, make_solver, relative_gap, settle
from tests.test_optimiser_properties import random_estate, today_share

pytestmark = pytest.mark.solver


def _seed_254_model():
    """HiGHS 1.16, given today's estate as a start, reports this model's optimum (2,393.6) but
    returns the start's columns (3,850.6): the case that the consistency check exists for."""
    estate = random_estate(254)
    share = today_share(estate, "gp_practice", 3.0)
    standard = AccessStandard(
        "gp_practice", reach_km=3.0, rule="min_share", min_share=0.8 * share, protect_deprived_deciles=2
    )
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


# ------------------------------------------------------------------------------------------
# CBC: status and bound from its log, the objective constant included
# ------------------------------------------------------------------------------------------
TRAFFORD_OPTIMUM = 153_711.4738988  # £k: HiGHS on the bundled Trafford, default scenario, gap 0


def _lp_with_constant(constant: float, value: float = 1.0) -> pulp.LpProblem:
    """min 100 x + constant, as PuLP leaves it after CBC reported x = `value`."""
    lp = pulp.LpProblem("t", pulp.LpMinimize)
    x = lp.add_variable("x", cat=pulp.LpBinary)
    lp.setObjective(pulp.LpAffineExpression([(x, 100.0)], constant=constant))
    x.varValue = value
    lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionOptimal)
    return lp


def _cbc_log(result: str, objective: str | None, bound: str | None) -> str:
    lines = [f"Result - {result}", ""]
    lines += [f"Objective value:                {objective}"] if objective else ["No feasible solution found"]
    lines += (
        [f"Lower bound:                    {bound}", "Gap:                            0.00"] if bound else []
    )
    return "\n".join([*lines, "Enumerated nodes:               3", ""])


@pytest.mark.parametrize("constant", [1000.0, -2000.0])
def test_a_cbc_gap_stop_is_gap_limit_with_its_true_bound(constant):
    # CBC's own "Gap: 0.00" and PuLP's "Optimal" both hide that this stopped at the gap
    lp = _lp_with_constant(constant)
    info = cbc_info(
        lp, _cbc_log("Optimal solution found (within gap tolerance)", "100.00000000", "60.000"), 0.1
    )
    assert info.status == "gap_limit"
    assert not info.proven_optimal
    assert info.objective == pytest.approx(100 + constant)
    assert info.bound == pytest.approx(60 + constant - 0.0005)  # printed to 3 decimals: rounded down
    assert info.gap == pytest.approx(relative_gap(100 + constant, 60 + constant - 0.0005))
    assert info.nodes == 3


def test_a_time_limited_cbc_bound_includes_the_objective_constant():
    lp = _lp_with_constant(93_479.2)
    lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
    info = cbc_info(lp, _cbc_log("Stopped on time limit", "100.00000000", "60.000"), 1.0)
    assert info.status == "time_limit"
    assert info.bound == pytest.approx(93_479.2 + 59.9995)
    assert info.gap == pytest.approx(40.0005 / 93_579.2)


def test_a_completed_cbc_search_is_optimal_with_the_objective_as_bound():
    info = cbc_info(_lp_with_constant(5.0), _cbc_log("Optimal solution found", "100.00000000", None), 0.1)
    assert info.status == "optimal" and info.proven_optimal
    assert info.bound == info.objective == pytest.approx(105.0)


def test_a_cbc_stop_without_a_plan_has_no_objective():
    lp = _lp_with_constant(5.0, value=None)
    lp.assignStatus(pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound)
    info = cbc_info(lp, _cbc_log("Stopped on time limit", None, "60.000"), 1.0)
    assert info.status == "time_limit" and not info.proven_optimal
    assert math.isnan(info.objective)


def _covering_lp():
    """min x + y with x + y >= 1.5, x, y binary: optimum 2."""
    lp = pulp.LpProblem("cover", pulp.LpMinimize)
    x, y = lp.add_variable("x", cat=pulp.LpBinary), lp.add_variable("y", cat=pulp.LpBinary)
    lp += x + y
    lp += x + y >= 1.5
    return lp, x, y


def test_cbc_values_that_break_a_row_give_way_to_a_feasible_start():
    lp, x, y = _covering_lp()
    x.varValue, y.varValue = 1.0, 0.0  # what CBC might hand back at a time limit: breaks the row
    lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
    assert solver_module._keep_only_a_feasible_plan(lp, {"x": 1.0, "y": 1.0})
    assert (x.varValue, y.varValue) == (1.0, 1.0)
    info = cbc_info(lp, _cbc_log("Optimal solution found", "1.00000000", None), 1.0, values_replaced=True)
    assert not info.proven_optimal and info.objective == pytest.approx(2.0)
    assert math.isnan(info.bound) or info.bound <= 2.0


def test_cbc_values_that_break_a_row_with_no_feasible_start_are_no_plan():
    lp, x, y = _covering_lp()
    x.varValue, y.varValue = 0.0, 1.0
    lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
    assert solver_module._keep_only_a_feasible_plan(lp, {})
    assert x.varValue is None and lp.sol_status == pulp.LpSolutionNoSolutionFound
    info = cbc_info(lp, _cbc_log("Stopped on time limit", "1.00000000", "1.500"), 1.0, values_replaced=True)
    assert info.status == "time_limit" and math.isnan(info.objective)


def test_feasible_cbc_values_are_kept_within_a_relative_tolerance():
    lp = pulp.LpProblem("big", pulp.LpMinimize)
    x = lp.add_variable("x", 0, 1e7)
    lp += x
    lp += 3.0 * x >= 9_000_000.0
    x.varValue = 3_000_000.0 - 1e-3  # off by 3e-3 on a row of 9e6: a rounded print, not a violation
    lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionOptimal)
    assert not solver_module._keep_only_a_feasible_plan(lp, {})
    assert x.varValue == pytest.approx(3_000_000.0 - 1e-3)


def test_a_printed_bound_is_rounded_down_to_stay_a_bound():
    assert solver_module._printed_floor("60071.051") == pytest.approx(60071.0505)
    assert solver_module._printed_floor("1.5e-05") == pytest.approx(1.45e-05)
    assert solver_module._printed_floor("-3") == pytest.approx(-3.5)


def test_a_bound_above_the_objective_is_reported_unknown_never_trusted():
    info = settle(SolveInfo(solver="X", status="optimal", objective=100.0, bound=101.0))
    assert math.isnan(info.bound) and info.gap == math.inf
    assert info.status == "feasible" and not info.proven_optimal
    assert "above" in info.extra["bound_discarded"]
    # rounding above the objective is clamped to it: the objective is then the tighter bound
    info = settle(SolveInfo(solver="X", status="optimal", objective=100.0, bound=100.0 + 1e-9))
    assert info.bound == 100.0 and info.proven_optimal


def test_optimal_is_claimed_only_within_the_optimality_tolerance():
    info = settle(SolveInfo(solver="HiGHS", status="optimal", objective=100.0, bound=99.0))
    assert info.status == "gap_limit" and not info.proven_optimal
    info = settle(
        SolveInfo(solver="HiGHS", status="optimal", objective=100.0, bound=100.0 - 0.9 * OPTIMAL_GAP * 100)
    )
    assert info.status == "optimal" and info.proven_optimal
    info = settle(SolveInfo(solver="HiGHS", status="time_limit", objective=100.0, bound=100.0))
    assert info.status == "time_limit" and not info.proven_optimal


@pytest.fixture(scope="module")
def trafford():
    return load_place("trafford")


def test_trafford_cbc_at_a_5_percent_gap_reports_a_gap_stop_and_a_true_bound(trafford):
    plan = optimise(trafford, Scenario(solver="cbc", mip_gap=0.05, time_limit_s=120))
    info = plan.info
    assert info.bound <= TRAFFORD_OPTIMUM + 1e-6 * TRAFFORD_OPTIMUM <= info.objective + 1e-3
    assert info.gap == pytest.approx(relative_gap(info.objective, info.bound))
    assert info.gap < 0.05  # the constant is in: without it the bound was 60,000 (a 61% gap)
    if info.status == "optimal":  # only when it is within the tolerance of a true bound
        assert info.proven_optimal and info.objective <= TRAFFORD_OPTIMUM * (1 + OPTIMAL_GAP)
    else:
        assert info.status == "gap_limit" and not plan.proven_optimal
        assert "gap limit; not proven optimal" in plan.status_words


def test_trafford_cbc_with_a_1_s_limit_reports_a_true_bound(trafford):
    # where CBC gets to in 1 s depends on the machine; whatever it reports must be true (that
    # its bound carries the objective constant is shown by the gap stop above). CPU seconds, so
    # that a busy machine still leaves CBC time to read its start
    model = build_model(trafford, Scenario(solver="cbc"))
    engine = make_solver("cbc", time_limit_s=1, start=model.start)
    engine.optionsDict["timeMode"] = "cpu"
    info = solve(model, engine).info
    assert TRAFFORD_OPTIMUM <= info.objective + 1e-3
    assert math.isnan(info.bound) or info.bound <= TRAFFORD_OPTIMUM * (1 + 1e-6)
    assert info.status in ("time_limit", "optimal")
    assert info.proven_optimal == (info.status == "optimal")
    if info.proven_optimal:
        assert info.objective <= TRAFFORD_OPTIMUM * (1 + OPTIMAL_GAP)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_model_with_every_decision_made_before_the_solve_solves(three_building_estate, solver):
    # no variables at all: CBC used to exit with a TypeError reading the objective
    scenario = Scenario(
        discount_rate=0.0, cat_services=(), keep=("A", "B", "C"), allow_moves=False, solver=solver
    )
    model = build_model(three_building_estate, scenario)
    assert not model.problem.variables()
    plan = optimise(three_building_estate, scenario)
    assert plan.proven_optimal and plan.info.status == "optimal"
    assert plan.info.objective == pytest.approx(10 * (100 + 60 + 40))
    assert plan.info.bound == pytest.approx(plan.info.objective)


def test_a_highs_node_limit_is_read_honestly(trafford):
    # HiGHS reports a node limit as kSolutionLimit, which PuLP's adapter did not know (KeyError)
    model = build_model(trafford, Scenario())
    engine = make_solver("highs", time_limit_s=60, start=model.start, options={"mip_max_nodes": 0})
    info = solve(model, engine).info
    assert info.raw_status == "Solution limit reached"
    assert info.status == "feasible" and not info.proven_optimal
    assert TRAFFORD_OPTIMUM <= info.objective + 1e-3
    assert math.isnan(info.bound) or info.bound <= TRAFFORD_OPTIMUM * (1 + 1e-6)
