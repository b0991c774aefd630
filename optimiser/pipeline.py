"""Solve: build a model, find a warm start, run the solver, and read the answer into a Plan.

`solve` solves a built `EstateModel`; `optimise` builds, warm-starts large models by
fix-and-optimise windows and solves, within the scenario's time limit; `diagnose` says which
requirement of an infeasible scenario cannot be met, and by how much.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pulp

from estate import Estate
from optimiser.errors import InfeasibleScenarioError, SolveError
from optimiser.model import ELASTIC_PENALTY, EstateModel, build_model
from optimiser.plan import Plan, plan_from_solution
from optimiser.scenario import Scenario, pct
from optimiser.solver import ProgressCallback, SolveInfo, make_solver

USABLE = (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
LARGE_MODEL_MOVES = 3000  # models with fewer move variables solve fast enough as they are
TRANSFER_ALLOWANCE_S = 2.0  # passing a large model to HiGHS happens outside its own clock


def solve(model: EstateModel, solver: pulp.LpSolver | None = None) -> Plan:
    """Solve `model` and return the Plan.

    Raises
    ------
    InfeasibleScenarioError
        The scenario cannot be met; an elastic re-solve says which requirement and by how much.
    SolveError
        The solver gave no usable plan (the model is written to an .lp file for inspection).

    """
    scenario = model.scenario
    if solver is None:
        solver = make_solver(
            scenario.solver,
            time_limit_s=scenario.time_limit_s,
            mip_gap=scenario.mip_gap,
            threads=scenario.threads,
            start=model.start,
        )
    elif model.start and hasattr(solver, "start") and not solver.start:
        solver.start = model.start
    if model.start and not hasattr(solver, "start"):  # CBC: warm start from initial values
        variables = model.problem.variablesDict()
        for name, value in model.start.items():
            if name in variables:
                variables[name].setInitialValue(value)
    problem = model.problem
    try:
        problem.solve(solver)
    except pulp.PulpSolverError as err:
        msg = f"{getattr(solver, 'name', solver)} failed: {err}"
        raise SolveError(msg) from err
    info: SolveInfo = getattr(solver, "info", SolveInfo(solver=str(solver)))
    if problem.sol_status not in USABLE:
        if info.status == "infeasible" or problem.status == pulp.LpStatusInfeasible:
            findings = diagnose(model.estate, scenario, cost_table=_cost_table_of(model))
            msg = f"Scenario {scenario.name!r} cannot be met:"
            raise InfeasibleScenarioError(msg, tuple(findings))
        lp_path = Path(tempfile.gettempdir()) / f"{problem.name}_{int(time.time())}.lp"
        problem.writeLP(str(lp_path))
        msg = (
            f"{info.solver or solver} returned {info.raw_status or pulp.LpStatus[problem.status]!r} "
            f"({pulp.LpSolution[problem.sol_status]}) after {info.time_s:.1f} s: no usable plan. "
            f"Model written to {lp_path}. Try a longer --time-limit."
        )
        raise SolveError(msg)
    return plan_from_solution(model, info)


def _cost_table_of(model: EstateModel) -> pd.DataFrame | None:
    if not model.cost_table:
        return None
    return model.pairs[["occupier_id", "building_id"]].assign(cost_gbp_k=model.pairs["cost_k"])


def diagnose(estate: Estate, scenario: Scenario, *, cost_table: pd.DataFrame | None = None) -> list[str]:
    """Which requirement cannot be met, and by how much: an elastic re-solve read per family."""
    model = build_model(estate, scenario.with_changes(warm_start=False), elastic=True, cost_table=cost_table)
    slack_vars = [v for family in model.slacks.values() for v in family.values()]
    penalty = pulp.LpAffineExpression([(v, ELASTIC_PENALTY) for v in slack_vars])
    problem = model.problem
    problem.setObjective(problem.objective + penalty)
    solver = make_solver(scenario.solver, time_limit_s=min(scenario.time_limit_s, 60), mip_gap=1e-3)
    problem.solve(solver)
    if problem.sol_status not in USABLE:
        return ["the diagnostic re-solve found no plan either; check locks and move limits"]
    findings: list[str] = []
    zones = estate.zones
    for service, rows in model.access.items():
        if rows.unreachable:
            people = float(zones.loc[list(rows.unreachable), "population"].sum())
            findings.append(
                f"{service} access ({rows.standard.rule}): {len(rows.unreachable)} zone(s) with {people:,.0f} "
                f"people would lose reach within {rows.standard.describe.split(' within ')[1]}, "
                f"e.g. {', '.join(rows.unreachable[:3])}: no building allowed to house {service} is in reach"
            )
    for family, slacks in model.slacks.items():
        used = {k: v.value() or 0.0 for k, v in slacks.items() if (v.value() or 0.0) > 1e-6}
        if not used:
            continue
        if family == "capacity":
            for h, amount in sorted(used.items(), key=lambda kv: -kv[1])[:5]:
                findings.append(f"capacity of {h}: short by {amount:,.0f} m2")
        elif family.startswith("access:"):
            service = family.split(":", 1)[1]
            rows = model.access[service]
            total = float(zones["population"].sum())
            if "share" in used:
                need = (rows.standard.min_share or 0) * total
                got = need - used["share"]
                findings.append(
                    f"{service} access: {got / total:.1%} of population reachable with the sites allowed; "
                    f"standard asks {pct(rows.standard.min_share)} (short by {used['share']:,.0f} people)"
                )
            lost = [int(g) for g in used if g != "share"]
            if lost:
                zs = [z for g in lost for z in rows.group_zones[g]]
                people = float(zones.loc[zs, "population"].sum())
                findings.append(
                    f"{service} access ({rows.standard.rule}): {len(zs)} zone(s) with {people:,.0f} people "
                    f"would lose reach within {rows.standard.describe.split(' within ')[1]}, e.g. {', '.join(zs[:3])}"
                )
        else:
            for name, amount in used.items():
                unit = {
                    "capital_budget": "£k",
                    "receipts_target": "£k",
                    "max_disposals": "buildings",
                    "carbon_cap": "tCO2e",
                }.get(name, "")
                findings.append(f"{name.replace('_', ' ')}: missed by {amount:,.1f} {unit}".rstrip())
    return findings or ["the solver reported infeasibility but no slack was needed; check the solver log"]


def optimise(
    estate: Estate,
    scenario: Scenario,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    msg: bool = False,
) -> Plan:
    """Build, find a good starting plan for large models, and solve, within the time limit.

    For a large model spread over several boroughs, the starting plan comes from
    fix-and-optimise by borough: starting from today's estate, each borough's decisions are
    re-optimised in the full model with every other decision fixed (boroughs barely interact).
    Every such plan is feasible for the full model, whose own bound still decides the
    reported gap. The time spent counts against `scenario.time_limit_s` and is reported as
    solve time; the returned Plan is made once with these final figures.
    """
    model = build_model(estate, scenario)
    started = time.perf_counter()
    start = dict(model.start)
    heuristic: dict[str, Any] = {}
    boroughs = estate.buildings["borough"].nunique()
    if scenario.solver == "highs" and start and len(model.move) >= LARGE_MODEL_MOVES and boroughs > 1:
        start, heuristic = _improve_by_windows(
            model, start, time_limit_s=0.45 * scenario.time_limit_s, cancel=cancel
        )
    spent = time.perf_counter() - started
    remaining = max(1.0, scenario.time_limit_s - spent - TRANSFER_ALLOWANCE_S)
    solver = make_solver(
        scenario.solver,
        time_limit_s=remaining,
        mip_gap=scenario.mip_gap,
        threads=scenario.threads,
        start=start,
        progress=progress,
        cancel=cancel,
        msg=msg,
    )
    plan = solve(model, solver)
    info = replace(  # the warm start's time counts as solve time
        plan.info, time_s=plan.info.time_s + spent, extra={**plan.info.extra, **heuristic}
    )
    stats = {**plan.model_stats, **{k: v for k, v in heuristic.items() if isinstance(v, (int, float))}}
    return replace(plan, info=info, model_stats=stats)


def _improve_by_windows(
    model: EstateModel, start: dict[str, float], *, time_limit_s: float, cancel: threading.Event | None
) -> tuple[dict[str, float], dict[str, Any]]:
    """Fix-and-optimise: re-solve one window of buildings at a time, everything else fixed.

    A window's decisions are its buildings' keep and the moves of the occupiers housed there
    today (they may move into kept buildings elsewhere). Pass 1 takes each borough, largest
    first; pass 2 takes the cells of a 3 x 3 grid whose edges cross borough lines, so moves
    across a borough boundary get a window too.

    The model is left as it was, observably: the variables outside a window are fixed through
    the solver's own bounds for that solve (`make_solver(bounds=...)`), so the model's bounds
    are never written, and the values, statuses and solver that the window solves leave in the
    PuLP problem are put back as they were (`_solution_kept`) before this returns.
    """
    t0 = time.perf_counter()
    b, occ = model.estate.buildings, model.estate.occupiers
    home = occ["building_id"].to_dict()
    variables = list(model.keep.items()) + list(model.move.items())
    incumbent = dict(start)
    objective = first = _objective_value(model, incumbent)
    windows = _windows(b.loc[list(model.keep)], time_limit_s)
    solved = 0
    with _solution_kept(model.problem):
        for window, seconds in windows:
            left = time_limit_s - (time.perf_counter() - t0)
            if left < 1.0 or (cancel is not None and cancel.is_set()):
                break
            fixed: dict[str, tuple[float, float]] = {}
            for key, var in variables:
                if (key if isinstance(key, str) else home[key[0]]) not in window:
                    value = incumbent.get(var.name, 0.0)
                    value = round(value) if var.cat == pulp.LpInteger else value
                    fixed[var.name] = (value, value)
            solver = make_solver(
                "highs",
                time_limit_s=min(left, max(1.0, seconds)),
                mip_gap=1e-4,
                start=incumbent,
                cancel=cancel,
                bounds=fixed,
            )
            model.problem.solve(solver)
            solved += 1
            if model.problem.sol_status in USABLE and solver.info.objective < objective - 1e-6:
                objective = solver.info.objective
                incumbent = {v.name: float(v.varValue or 0.0) for v in model.problem.variables()}
    info = {
        "warm_start_objective": objective,
        "warm_start_from": first,
        "warm_start_s": round(time.perf_counter() - t0, 2),
        "warm_start_windows": solved,
    }
    return incumbent, info


@contextlib.contextmanager
def _solution_kept(problem: pulp.LpProblem) -> Iterator[None]:
    """Put back what solves inside the block write to `problem`: values, reduced costs, duals,
    slacks, statuses and the solver attached."""
    variables = problem.variables()
    values = [(v.varValue, v.dj) for v in variables]
    constraints = problem.constraints()
    rows = [(c.pi, c.slack) for c in constraints]
    state = (problem.status, problem.sol_status, getattr(problem, "solver", None))
    model = getattr(problem, "solverModel", None)
    try:
        yield
    finally:
        for var, (value, dj) in zip(variables, values, strict=True):
            var.varValue, var.dj = value, dj
        for row, (pi, slack) in zip(constraints, rows, strict=True):
            row.pi, row.slack = pi, slack
        problem.status, problem.sol_status, problem.solver = state
        if model is None:
            with contextlib.suppress(AttributeError):
                del problem.solverModel
        else:
            problem.solverModel = model


def _windows(free: pd.DataFrame, time_limit_s: float) -> list[tuple[frozenset[str], float]]:
    """(buildings, seconds): boroughs on 55% of the time, then grid cells on 45%, by size."""
    out: list[tuple[frozenset[str], float]] = []
    for share, groups in (
        (0.55, free.groupby("borough").groups),
        (0.45, free.groupby(_grid_cells(free, 3)).groups),
    ):
        sizes = {k: len(v) for k, v in groups.items()}
        total = float(sum(sizes.values()))
        for key in sorted(sizes, key=lambda k: -sizes[k]):
            out.append((frozenset(groups[key]), share * time_limit_s * sizes[key] / total))
    return out


def _grid_cells(buildings: pd.DataFrame, n: int) -> pd.Series:
    """Cell of an n x n grid on easting and northing quantiles (equal counts per band)."""
    n = max(1, min(n, len(buildings)))  # fewer buildings than bands: one band each
    east = pd.qcut(buildings["easting"].rank(method="first"), n, labels=False)
    north = pd.qcut(buildings["northing"].rank(method="first"), n, labels=False)
    return (east * n + north).astype(int)


def _objective_value(model: EstateModel, values: dict[str, float]) -> float:
    objective = model.problem.objective
    return float(
        objective.constant + sum(coef * values.get(var.name, 0.0) for var, coef in objective.items())
    )
