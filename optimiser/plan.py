"""Solve a built model and turn the answer into a Plan: decisions, reasons, KPIs, status."""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from estate import Estate
from optimiser.costs import ROUTE_CAT, ROUTE_LEASE, ROUTE_MARKET
from optimiser.errors import InfeasibleScenarioError, SolveError
from optimiser.model import EstateModel, build_model, reach_pairs, standards_for
from optimiser.outcomes import (
    access_outcomes,
    money_by_building,
    move_costs,
    partner_totals,
    sites_by_service,
    totals,
)
from optimiser.scenario import Scenario, pct
from optimiser.solver import OPTIMAL_GAP, ProgressCallback, SolveInfo, make_solver

USABLE = (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
ROUTE_WORDS = {ROUTE_MARKET: "market sale", ROUTE_CAT: "community asset transfer", ROUTE_LEASE: "lease exit"}


@dataclass(frozen=True, eq=False)
class Plan:
    """What to keep, what to dispose of, where each occupier goes, and what it is worth.

    Attributes
    ----------
    buildings
        One row per building: ``decision`` (keep/dispose), ``route``, ``reason`` and money.
    occupiers
        One row per occupier part: ``from_building_id``, ``to_building_id``, ``share``,
        ``move_km``.
    access
        One row per access standard, before and after.
    partners
        Per partner totals.
    kpis
        Headline figures in pounds (see `optimiser.outcomes.totals`).
    info
        Solver status, proven optimality, objective, bound and gap (£k), times.

    """

    estate_name: str
    scenario: Scenario
    buildings: pd.DataFrame
    occupiers: pd.DataFrame
    access: pd.DataFrame
    partners: pd.DataFrame
    kpis: dict[str, Any]
    info: SolveInfo
    build_s: float
    detour_factor: float
    model_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def proven_optimal(self) -> bool:
        """True only when the solver proved optimality (never after a time limit)."""
        return self.info.proven_optimal

    @property
    def status_words(self) -> str:
        """Plain words: 'proven optimal', or 'within 0.31% of optimal (time limit)'."""
        if self.info.proven_optimal:
            return "proven optimal" + (
                f" (within the {OPTIMAL_GAP:.2%} gap tolerance)" if self.info.gap > 1e-9 else ""
            )
        why = {
            "time_limit": "time limit",
            "gap_limit": f"stopped at the {self.scenario.mip_gap:.2%} gap limit",
            "interrupted": "stopped by the user",
            "feasible": "stopped early",
        }.get(self.info.status, self.info.status)
        if math.isfinite(self.info.gap):
            return f"within {self.info.gap:.2%} of optimal ({why}; not proven optimal)"
        return f"a feasible plan, gap unknown ({why}; not proven optimal)"

    def summary(self) -> str:
        """A few readable lines for the terminal."""
        k = self.kpis
        if k["payback_years"] is not None:
            payback = f"{k['payback_years']:.1f} years"
        else:
            payback = "n/a" if k["annual_revenue_saving_gbp"] <= 0 and k["one_off_cost_gbp"] <= 0 else "never"
        disposed = self.buildings[self.buildings["decision"] == "dispose"]
        moved = self.occupiers[self.occupiers["from_building_id"] != self.occupiers["to_building_id"]]
        lines = [
            f"{self.estate_name} — scenario {self.scenario.name!r}: {self.status_words}",
            f"  solver {self.info.solver}: net present cost £{self.info.objective:,.0f}k, bound £{self.info.bound:,.0f}k, "
            f"gap {self.info.gap:.4%} (£{(self.info.objective - self.info.bound) * 1000:,.0f}); "
            f"build {self.build_s:.2f} s, solve {self.info.time_s:.2f} s",
            f"  buildings {k['buildings_before']} -> {k['buildings_after']} ({len(disposed)} disposed), "
            f"{moved['occupier_id'].nunique()} occupiers move",
            f"  capital receipts £{k['capital_receipts_gbp']:,.0f}; revenue saving £{k['annual_revenue_saving_gbp']:,.0f} a year "
            f"({k['annual_revenue_saving_pct']:.1f}%)",
            f"  one-off cost £{k['one_off_cost_gbp']:,.0f}; NPV £{k['npv_gbp']:,.0f} over {self.scenario.years} years; "
            f"payback {payback}",
            f"  land {k['land_ha']:.2f} ha, homes {k['homes']:.0f}, jobs {k['jobs']:.0f}, "
            f"carbon saved {k['carbon_tco2e_saved']:,.0f} tCO2e a year",
        ]
        for _, row in self.access.iterrows():
            lines.append(
                f"  access {row['service']}: {row['before_share']:.1%} -> {row['after_share']:.1%} of people within reach"
                f" ({row['rule']})"
            )
        return "\n".join(lines)

    def summary_dict(self) -> dict[str, Any]:
        """The machine-readable summary written as summary.json."""
        info = self.info
        access = {}
        for _, row in self.access.iterrows():
            entry = {
                "rule": row["rule"],
                "reach_km": _num(row["reach_km"]),
                "reach_min": _num(row["reach_min"]),
                "before_population": round(row["before_population"]),
                "after_population": round(row["after_population"]),
                "before_share": row["before_share"],
                "after_share": row["after_share"],
                "before_sites": int(row["before_sites"]),
                "after_sites": int(row["after_sites"]),
                "before_mean_km": _num(row["before_mean_km"]),
                "after_mean_km": _num(row["after_mean_km"]),
                "before_p95_km": _num(row["before_p95_km"]),
                "after_p95_km": _num(row["after_p95_km"]),
                "deprived_deciles": int(row["deprived_deciles"]),
                "before_deprived_population": round(row["before_deprived_population"]),
                "after_deprived_population": round(row["after_deprived_population"]),
            }
            if row["min_share"] is not None and not pd.isna(row["min_share"]):
                entry["min_share"] = row["min_share"]
            access[row["service"]] = entry
        money = [
            "capital_receipts_gbp",
            "annual_revenue_saving_gbp",
            "one_off_cost_gbp",
            "move_cost_gbp",
            "disposal_and_exit_cost_gbp",
            "land_ha",
            "buildings_before",
            "buildings_after",
        ]
        partners = {
            str(r["partner"]): {k: _num(r[k]) for k in money}
            | {
                "npv_gbp": _num(
                    self.scenario.annuity_factor * r["annual_revenue_saving_gbp"]
                    + r["capital_receipts_gbp"]
                    - r["one_off_cost_gbp"]
                )
            }
            for _, r in self.partners.iterrows()
        }
        return {
            "place": self.estate_name,
            "scenario": self.scenario.name,
            "status": info.status,
            "proven_optimal": info.proven_optimal,
            "status_words": self.status_words,
            "gap": _num(info.gap),
            "gap_gbp": _num((info.objective - info.bound) * 1000),
            "gap_share_of_npv": _num((info.objective - info.bound) * 1000 / self.kpis["npv_gbp"])
            if self.kpis["npv_gbp"] > 0
            else None,
            "objective": _num(info.objective),
            "bound": _num(info.bound),
            "objective_units": "net present cost, £k",
            "time_s": round(info.time_s, 3),
            "build_s": round(self.build_s, 3),
            "solver": info.solver,
            "solver_status": info.raw_status,
            "detour_factor": self.detour_factor,
            "appraisal": {"years": self.scenario.years, "discount_rate": self.scenario.discount_rate},
            "model": {k: v for k, v in self.model_stats.items() if isinstance(v, (int, float))},
            "kpis": {k: _num(v) for k, v in self.kpis.items()},
            "access": access,
            "partners": partners,
        }


def _num(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    return value


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


def plan_from_solution(model: EstateModel, info: SolveInfo) -> Plan:
    """Read the variables' values into a Plan."""
    estate, scenario = model.estate, model.scenario
    keep = pd.Series({bid: bool(v) for bid, v in model.fixed_keep.items()}, dtype=bool)
    keep = pd.concat(
        [keep, pd.Series({bid: (var.value() or 0) > 0.5 for bid, var in model.keep.items()}, dtype=bool)]
    )
    keep = keep.reindex(estate.buildings.index)
    parts = occupier_parts(model)
    return make_plan(
        estate,
        scenario,
        keep,
        parts,
        info=info,
        build_s=model.build_s,
        keep_reason=model.keep_reason,
        stats=model.stats,
    )


def occupier_parts(model: EstateModel) -> pd.DataFrame:
    """One row per (occupier, building) with a positive share."""
    occ = model.estate.occupiers
    rows = [(a, h, 1.0) for a, h in model.fixed_host.items()]
    for (a, h), var in model.move.items():
        value = var.value() or 0.0
        if value > 1e-6:
            rows.append((a, h, float(value)))
    parts = pd.DataFrame(rows, columns=["occupier_id", "to_building_id", "share"])
    # a binary whose value is 0.9999996 is one whole move; renormalise shares per occupier
    parts = parts[parts["share"] > 1e-6]
    parts["share"] = parts["share"] / parts.groupby("occupier_id")["share"].transform("sum")
    parts.insert(1, "from_building_id", occ["building_id"].reindex(parts["occupier_id"]).to_numpy())
    return parts.reset_index(drop=True)


def make_plan(
    estate: Estate,
    scenario: Scenario,
    keep: pd.Series,
    parts: pd.DataFrame,
    *,
    info: SolveInfo | None = None,
    build_s: float = 0.0,
    keep_reason: dict[str, str] | None = None,
    stats: dict[str, Any] | None = None,
) -> Plan:
    """Assemble a Plan from decisions: used for solved models and for recomputing from files."""
    b, occ = estate.buildings, estate.occupiers
    money = money_by_building(estate, scenario, keep)
    part_cost = move_costs(estate, scenario, parts)
    xy = b[["easting", "northing"]]
    frm = xy.reindex(parts["from_building_id"]).to_numpy()
    to = xy.reindex(parts["to_building_id"]).to_numpy()
    move_km = np.hypot(*(frm - to).T) / 1000 * estate.travel.detour_factor if len(parts) else np.array([])
    occ_out = pd.DataFrame(
        {
            "occupier_id": parts["occupier_id"].to_numpy(),
            "name": occ["name"].reindex(parts["occupier_id"]).to_numpy(),
            "partner": occ["partner"].reindex(parts["occupier_id"]).to_numpy(),
            "service": occ["service"].reindex(parts["occupier_id"]).to_numpy(),
            "public_facing": occ["public_facing"].reindex(parts["occupier_id"]).to_numpy(),
            "space_m2": occ["space_m2"].reindex(parts["occupier_id"]).to_numpy() * parts["share"].to_numpy(),
            "space_type": occ["space_type"].reindex(parts["occupier_id"]).to_numpy(),
            "from_building_id": parts["from_building_id"].to_numpy(),
            "to_building_id": parts["to_building_id"].to_numpy(),
            "share": parts["share"].to_numpy(),
            "move_km": np.round(move_km, 3),
            "move_cost_gbp": part_cost.to_numpy(),
        }
    )
    kpis = totals(estate, scenario, money, float(part_cost.sum()))
    standards = standards_for(estate, scenario) if scenario.access_enabled else []
    public = set(occ.loc[occ["public_facing"].astype(bool), "service"])
    access = access_outcomes(estate, [s for s in standards if s.service in public], parts)
    partners = partner_totals(estate, money, parts, part_cost)
    sole = _sole_providers(estate, [s for s in standards if s.service in public], parts)
    buildings = _building_table(estate, keep, money, occ_out, keep_reason or {}, sole)
    return Plan(
        estate_name=estate.name,
        scenario=scenario,
        buildings=buildings,
        occupiers=occ_out,
        access=access,
        partners=partners,
        kpis=kpis,
        info=info or SolveInfo(solver="none", status="given"),
        build_s=build_s,
        detour_factor=estate.travel.detour_factor,
        model_stats=dict(stats or {}),
    )


def _building_table(
    estate: Estate,
    keep: pd.Series,
    money: pd.DataFrame,
    parts: pd.DataFrame,
    keep_reason: dict[str, str],
    sole: dict[str, list[str]],
) -> pd.DataFrame:
    b = estate.buildings
    moved = parts[parts["from_building_id"] != parts["to_building_id"]]
    arrivals = moved.groupby("to_building_id")
    departures = moved.groupby("from_building_id")
    reasons = []
    for bid in b.index:
        kept = bool(keep[bid])
        if not kept:
            route = ROUTE_WORDS.get(money.at[bid, "route"], money.at[bid, "route"])
            text = f"dispose by {route}: saves £{money.at[bid, 'annual_saving_gbp']:,.0f} a year"
            if money.at[bid, "receipt_gbp"] > 0:
                text += f", receipt £{money.at[bid, 'receipt_gbp']:,.0f}"
            if money.at[bid, "backlog_avoided_gbp"] > 0:
                text += f", avoids £{money.at[bid, 'backlog_avoided_gbp']:,.0f} backlog"
            if bid in keep_reason:
                text = f"{keep_reason[bid]}; {text}"
            if bid in departures.groups:
                g = departures.get_group(bid)
                dest = ", ".join(
                    f"{a} -> {h} ({km:.1f} km)"
                    for a, h, km in zip(g["occupier_id"], g["to_building_id"], g["move_km"], strict=True)
                )
                text += f"; moves {dest}"
            else:
                text += "; no occupiers to rehouse"
        else:
            text = keep_reason.get(bid, "")
            if bid in arrivals.groups:
                g = arrivals.get_group(bid)
                got = (
                    f"receives {', '.join(sorted(set(g['occupier_id'])))} "
                    f"({', '.join(sorted(set(g['service'])))})"
                )
                text = f"{text}; {got}" if text else f"keep: {got}"
            if bid in sole:
                needed = "; ".join(sole[bid])
                text = f"{text}; {needed}" if text else f"keep: {needed}"
            if not text:
                text = (
                    f"keep: disposing would save £{b.at[bid, 'running_cost_gbp'] or 0:,.0f} a year, but "
                    "rehousing its occupiers costs more over the appraisal period, or there is no room "
                    "for them within their move limit"
                )
        reasons.append(text)
    n_in = arrivals.size().reindex(b.index, fill_value=0)
    n_out = departures.size().reindex(b.index, fill_value=0)
    cols = [
        "building_id",
        "name",
        "owner",
        "owner_type",
        "borough",
        "easting",
        "northing",
        "tenure",
        "gia_m2",
        "capacity_m2",
        "running_cost_gbp",
        "market_value_gbp",
        "site_area_ha",
        "carbon_tco2e",
        "protected",
        "fixed",
    ]
    out = pd.DataFrame(b[cols]).reset_index(drop=True)
    out["modelled"] = b["modelled"].map(lambda m: ";".join(m or ())).to_numpy()
    out["decision"] = np.where(keep.to_numpy(dtype=bool), "keep", "dispose")
    out["route"] = money["route"].to_numpy()
    out["occupiers_in"] = n_in.to_numpy()
    out["occupiers_out"] = n_out.to_numpy()
    for col in ("receipt_gbp", "annual_saving_gbp", "disposal_cost_gbp", "lease_exit_gbp", "land_ha"):
        out[col] = money[col].to_numpy()
    out["reason"] = reasons
    return out


def _sole_providers(estate: Estate, standards: list[Any], parts: pd.DataFrame) -> dict[str, list[str]]:
    """For each building, the services for which it is the only site in reach of some zones."""
    if estate.zones.empty or not standards:
        return {}
    after = sites_by_service(estate, parts, after=True)
    pop = estate.zones["population"]
    out: dict[str, list[str]] = defaultdict(list)
    for standard in standards:
        sites = after.get(standard.service, set())
        reach = reach_pairs(estate, standard)
        reach = reach[reach["building_id"].isin(sites)]
        counts = reach.groupby("zone_id")["building_id"].agg(list)
        only = counts[counts.map(len) == 1]
        for h, zones in only.groupby(only.map(lambda x: x[0])):
            people = float(pop.reindex(zones.index).sum())
            out[h].append(
                f"the only {standard.service} site within reach of {len(zones)} zone(s) ({people:,.0f} people)"
            )
    return dict(out)


def _cost_table_of(model: EstateModel) -> pd.DataFrame | None:
    if not model.cost_table:
        return None
    return model.pairs[["occupier_id", "building_id"]].assign(cost_gbp_k=model.pairs["cost_k"])


def diagnose(estate: Estate, scenario: Scenario, *, cost_table: pd.DataFrame | None = None) -> list[str]:
    """Which requirement cannot be met, and by how much: an elastic re-solve read per family."""
    model = build_model(estate, scenario.with_changes(warm_start=False), elastic=True, cost_table=cost_table)
    slack_vars = [v for family in model.slacks.values() for v in family.values()]
    penalty = pulp.LpAffineExpression([(v, 1.0e6) for v in slack_vars])
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


LARGE_MODEL_MOVES = 3000  # models with fewer move variables solve fast enough as they are
TRANSFER_ALLOWANCE_S = 2.0  # passing a large model to HiGHS happens outside its own clock


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
    reported gap. The time spent counts against `scenario.time_limit_s`.
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
    plan.info.time_s += spent  # the warm start's time counts as solve time
    plan.info.extra.update(heuristic)
    plan.model_stats.update({k: v for k, v in heuristic.items() if isinstance(v, (int, float))})
    return plan


def _improve_by_windows(
    model: EstateModel, start: dict[str, float], *, time_limit_s: float, cancel: threading.Event | None
) -> tuple[dict[str, float], dict[str, Any]]:
    """Fix-and-optimise: re-solve one window of buildings at a time, everything else fixed.

    A window's decisions are its buildings' keep and the moves of the occupiers housed there
    today (they may move into kept buildings elsewhere). Pass 1 takes each borough, largest
    first; pass 2 takes the cells of a 3 x 3 grid whose edges cross borough lines, so moves
    across a borough boundary get a window too. The model's bounds are restored afterwards.
    """
    t0 = time.perf_counter()
    b, occ = model.estate.buildings, model.estate.occupiers
    home = occ["building_id"].to_dict()
    variables = list(model.keep.items()) + list(model.move.items())
    saved = {var.name: (var.lowBound, var.upBound) for _, var in variables}
    incumbent = dict(start)
    objective = first = _objective_value(model, incumbent)
    windows = _windows(b.loc[list(model.keep)], time_limit_s)
    solved = 0
    try:
        for window, seconds in windows:
            left = time_limit_s - (time.perf_counter() - t0)
            if left < 1.0 or (cancel is not None and cancel.is_set()):
                break
            for key, var in variables:
                if (key if isinstance(key, str) else home[key[0]]) in window:
                    var.lowBound, var.upBound = saved[var.name]
                else:
                    value = incumbent.get(var.name, 0.0)
                    var.lowBound = var.upBound = round(value) if var.cat == pulp.LpInteger else value
            solver = make_solver(
                "highs",
                time_limit_s=min(left, max(1.0, seconds)),
                mip_gap=1e-4,
                start=incumbent,
                cancel=cancel,
            )
            model.problem.solve(solver)
            solved += 1
            if model.problem.sol_status in USABLE and solver.info.objective < objective - 1e-6:
                objective = solver.info.objective
                incumbent = {v.name: float(v.varValue or 0.0) for v in model.problem.variables()}
    finally:
        for _, var in variables:
            var.lowBound, var.upBound = saved[var.name]
    info = {
        "warm_start_objective": objective,
        "warm_start_from": first,
        "warm_start_s": round(time.perf_counter() - t0, 2),
        "warm_start_windows": solved,
    }
    return incumbent, info


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
