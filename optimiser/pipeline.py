"""Solve: build a model, run the solver (with a primal search beside it), read the answer into a Plan.

`solve` solves a built `EstateModel`; `optimise` builds and solves within the scenario's time
limit, running fix-and-optimise (`optimiser.search`) beside HiGHS on large models and
reporting progress (`optimiser.progress`); `diagnose` says which requirement of an infeasible
scenario cannot be met, and by how much.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pulp

from estate import Estate
from optimiser.errors import InfeasibleScenarioError, ScenarioError, SolveError
from optimiser.highs import HighsArrays, use_threads
from optimiser.model import ELASTIC_PENALTY, EstateModel, build_model
from optimiser.model_partners import FAIRNESS_FAMILY
from optimiser.model_phased import PhasedModel, build_phased_model
from optimiser.plan import Plan, plan_from_solution
from optimiser.programme import phased_shortfall, sequenced_start
from optimiser.progress import Progress, ProgressCallback, Ticker
from optimiser.scenario import Scenario, pct
from optimiser.search import Mailbox, SearchStats, fix_and_optimise, window_columns, windows
from optimiser.solver import SolveInfo, make_solver
from optimiser.stages import Steps

USABLE = (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
LARGE_MODEL_MOVES = 3000  # models with fewer move variables solve fast enough as they are
TRANSFER_ALLOWANCE_S = 2.0  # passing a large model to HiGHS happens outside its own clock
SEARCH_FIRST_SHARE = 0.45  # on one core, the search runs first on this share of the time limit
SEARCH_MODES = ("auto", "beside", "first", "off")


def solve(model: EstateModel, solver: pulp.LpSolver | None = None, *, explain: bool = True) -> Plan:
    """Solve `model` and return the Plan.

    With `explain` (the default) an infeasible model is explained by `diagnose`; without it
    (a model with rows of its own, e.g. `optimiser.alternatives`) it is refused with no findings.

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
            findings = (
                phased_shortfall(model.estate, scenario) if isinstance(model, PhasedModel) and explain else []
            )
            findings = findings or (
                diagnose(
                    model.estate,
                    scenario,
                    cost_table=_cost_table_of(model),
                    coalition=model.coalition,
                    partner_floors_gbp=model.partner_floors_gbp,
                )
                if explain
                else []
            )
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


def diagnose(
    estate: Estate,
    scenario: Scenario,
    *,
    cost_table: pd.DataFrame | None = None,
    coalition: frozenset[str] | None = None,
    partner_floors_gbp: Mapping[str, float] | None = None,
) -> list[str]:
    """Which requirement cannot be met, and by how much: an elastic re-solve read per family."""
    model = build_model(
        estate,
        scenario.with_changes(warm_start=False),
        elastic=True,
        cost_table=cost_table,
        coalition=coalition,
        partner_floors_gbp=partner_floors_gbp,
    )
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
        elif family == FAIRNESS_FAMILY:
            floor = "its stand-alone NPV" if scenario.no_partner_worse_off == "standalone" else "zero"
            for partner, amount in sorted(used.items(), key=lambda kv: -kv[1]):
                findings.append(
                    f"no partner worse off: {partner} would be short by £{amount * 1000:,.0f} of {floor} "
                    f"under the {scenario.sharing_rule} sharing rule"
                )
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
    search: str = "auto",
    coalition: frozenset[str] | None = None,
    partner_floors_gbp: Mapping[str, float] | None = None,
    start_from: Callable[[EstateModel], dict[str, float] | None] | None = None,
) -> Plan:
    """Build and solve within the time limit, with a primal search beside large solves.

    For a large model spread over several boroughs (HiGHS, a warm start, at least
    `LARGE_MODEL_MOVES` moves), fix-and-optimise by borough and grid cell (`optimiser.search`)
    looks for plans while HiGHS works on the whole model: on its own thread from the first
    second when the machine has two cores or more (HiGHS takes each plan the search finds as
    an incumbent, and the search restarts from HiGHS's), otherwise first, on 45% of the time.
    Every plan the search offers passes the row check before it is kept; the bound is always
    HiGHS's on the whole model, so status and gap stay honest.

    `search` chooses for large models: ``auto`` (beside on two cores or more, else first),
    ``beside``, ``first`` or ``off`` (HiGHS alone; for benchmarks). `progress` is called with
    a `optimiser.progress.Progress` at every piece of news and at least once a second, from
    whichever part is running. The returned Plan is made once with
    the final figures. `coalition` and `partner_floors_gbp` go to `optimiser.model.build_model`.
    `start_from` (static models), given the built model, may return a better starting solution
    (`optimiser.partnership.UnionStart`: the union of the stand-alone plans), checked by it.
    """
    if scenario.phased and (
        coalition is not None or partner_floors_gbp or scenario.no_partner_worse_off != "off"
    ):
        why = (
            "The phased model does not yet take a coalition or the no-partner-worse-off rule: "
            "set [phasing] phased = false for stand-alone plans, the partnership value or "
            "no_partner_worse_off, or switch those off to phase the plan."
        )
        raise ScenarioError(why)
    started = time.perf_counter()
    with Ticker(progress, since=started) as early:  # progress and Stop from the first second
        steps = Steps(lambda stage: early.news(stage=stage), cancel)
        phased_start = sequenced_start(estate, scenario, steps=steps) if scenario.phased else {}
        model = (
            build_phased_model(estate, scenario, steps=steps)
            if scenario.phased
            else build_model(
                estate, scenario, coalition=coalition, partner_floors_gbp=partner_floors_gbp, steps=steps
            )
        )
    if start_from is not None and not scenario.phased and (better := start_from(model)) is not None:
        model = replace(model, start=better)
    with Ticker(progress, today=model.today_cost, since=started) as ticker:
        ticker.news(stage="solving")

        def solver_news(p: Progress) -> None:
            ticker.news(incumbent=p.incumbent, bound=p.bound)

        options: dict[str, Any] = {
            "mip_gap": scenario.mip_gap,
            "threads": scenario.threads,
            "progress": solver_news if progress is not None else None,
            "cancel": cancel,
            "msg": msg,
        }
        boroughs = estate.buildings["borough"].nunique()
        if search not in SEARCH_MODES:
            msg_ = f"search={search!r}: use one of {', '.join(SEARCH_MODES)}."
            raise ValueError(msg_)
        large = len(model.move) >= LARGE_MODEL_MOVES and boroughs > 1 and not scenario.phased
        if scenario.phased:  # the static plan, sequenced, is the start; the joint solve the bound
            return _solve_phased(model, phased_start, started, options)
        if scenario.solver == "highs" and model.start and large and search != "off":
            beside = (os.cpu_count() or 1) >= 2 if search == "auto" else search == "beside"
            return _solve_with_search(model, ticker, cancel, options, beside=beside)
        solver = make_solver(
            scenario.solver, time_limit_s=scenario.time_limit_s, start=model.start, **options
        )
        return solve(model, solver)


def _solve_phased(
    model: EstateModel, start: dict[str, float], started: float, options: dict[str, Any]
) -> Plan:
    """The joint phased MILP on what is left of the time limit, from the sequenced start (or
    today's estate); the time spent on the start counts as solve time."""
    spent = time.perf_counter() - started
    limit = max(1.0, model.scenario.time_limit_s - spent)
    solver = make_solver(model.scenario.solver, time_limit_s=limit, start=start or model.start, **options)
    plan = solve(model, solver)
    info = replace(
        plan.info,
        time_s=plan.info.time_s + spent,
        extra={**plan.info.extra, "phased_start": int(bool(start))},
    )
    return replace(plan, info=info)


def _solve_with_search(
    model: EstateModel,
    ticker: Ticker,
    cancel: threading.Event | None,
    options: dict[str, Any],
    *,
    beside: bool,
) -> Plan:
    """HiGHS on the whole model with fix-and-optimise beside it (or before it on one core)."""
    started = time.perf_counter()
    limit = model.scenario.time_limit_s
    deadline = started + limit - TRANSFER_ALLOWANCE_S
    arrays = HighsArrays.from_problem(model.problem)
    mailbox = Mailbox(arrays)
    mailbox.offer(arrays.vector(model.start), "today's estate")
    home = model.estate.occupiers["building_id"].to_dict()
    columns, by_building = window_columns(arrays, model.keep, model.move, home)
    plan_of_windows = windows(model.estate.buildings.loc[list(model.keep)])
    finished = threading.Event()

    def should_stop() -> bool:
        return finished.is_set() or (cancel is not None and cancel.is_set())

    solver = make_solver("highs", time_limit_s=limit, start=model.start, mailbox=mailbox, **options)
    threads = solver.threads  # as capped to the machine: the search must use the very same count

    def search(until: float) -> SearchStats:
        return fix_and_optimise(
            arrays,
            mailbox,
            columns,
            by_building,
            plan_of_windows,
            deadline=until,
            should_stop=should_stop,
            threads=threads,
            on_window=lambda stats: ticker.news(incumbent=stats.best_objective),
        )

    use_threads(threads)  # before the thread starts, so that neither solve restarts the scheduler
    found: list[SearchStats] = []
    thread = threading.Thread(target=lambda: found.append(search(deadline)), name="plan-search", daemon=True)
    if beside:
        thread.start()
    else:
        found.append(search(started + SEARCH_FIRST_SHARE * limit))
        best, _ = mailbox.best()
        if best is not None:
            solver.start = arrays.values(best)
    spent = time.perf_counter() - started
    solver.timeLimit = max(1.0, deadline - time.perf_counter())
    try:
        plan = solve(model, solver)
    finally:
        finished.set()
        if beside:
            thread.join()
    stats = found[0] if found else SearchStats()
    figures = {
        "search_windows": stats.windows_solved,
        "search_improvements": stats.improvements,
        "search_from": stats.first_objective,
        "search_best": stats.best_objective,
        "search_beside_solve": int(beside),
    }
    info = replace(  # time spent before HiGHS started counts as solve time
        plan.info, time_s=plan.info.time_s + spent, extra={**plan.info.extra, **figures}
    )
    return replace(plan, info=info, model_stats={**plan.model_stats, **figures})
