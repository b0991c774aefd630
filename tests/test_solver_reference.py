"""Every solver path against a plain reference formulation written here, not the production model.

The reference is the MILP of docs/optimiser.md and the `optimiser.model` docstring written out
directly from the estate's tables: one variable per allowed pair, one access row per zone, no
pruning, no grouping of zones, no lifted rows, no buildings decided before the solve, no warm
start, its own money formulas (`optimiser.costs` docstring) and PuLP's own HiGHS adapter at a
zero gap. A seeded set of small random estates (over-full buildings, blank capacities, locks,
access standards with reach and min_share, limits) goes through every path; each answer must
agree with the reference:

- infeasible for the reference: the path refuses (never returns a plan); feasible: a plan;
- bound <= reference optimum <= reported objective, always;
- ``optimal`` only when the gap really is within 1e-4 and the plan within 1e-4 of the reference
  optimum (1e-6 when the path asked for the optimum itself);
- the plan, fixed into the reference, is feasible there and costs what the path reported.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp
import pytest

import optimiser.pipeline as pipeline_module
import optimiser.plan as plan_module
from estate import Estate
from optimiser.errors import InfeasibleScenarioError, SolveError
from optimiser.model import build_model
from optimiser.pipeline import optimise, solve
from optimiser.report.files import write_plan
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import make_solver
from tests.conftest import make_estate
from tests.recompute import check_written_plan
from tests.test_optimiser_properties import SERVICES, today_share

pytestmark = pytest.mark.solver

SEEDS = range(24)
TOLERANCE = 1e-4  # the relative gap within which a plan may be called optimal
PUBLIC = {"library", "gp_practice", "customer_service"}


# ------------------------------------------------------------------------------------------
# random estates
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    seed: int
    estate: Estate
    scenario: Scenario


@functools.cache  # an Estate is immutable and a Scenario frozen: one build per seed
def random_case(seed: int) -> Case:
    """3-7 buildings in two boroughs, a few occupiers each, 8 zones, standards and limits."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(3, 8))
    buildings, occupiers = [], []
    for i in range(n):
        cap = float(rng.integers(200, 1000))
        blank = rng.random() < 0.2  # blank capacity: from gia (modelled), or unknown (fixed)
        gia = None if blank and rng.random() < 0.5 else cap * 1.25
        leasehold = rng.random() < 0.25
        buildings.append(
            {
                "building_id": f"B{i}",
                "owner": str(rng.choice(["Council", "NHS"])),
                "borough": "North" if i % 2 else "South",
                "x": 380000 + float(rng.uniform(0, 5000)),
                "y": 400000 + float(rng.uniform(0, 5000)),
                "capacity_m2": None if blank else cap,
                "gia_m2": gia,
                "running_cost_gbp": float(rng.integers(20, 200)) * 1000,
                "market_value_gbp": float(rng.integers(0, 1500)) * 1000,
                "disposal_cost_gbp": float(rng.integers(0, 40)) * 1000 if rng.random() < 0.5 else None,
                "backlog_gbp": float(rng.integers(0, 300)) * 1000 if rng.random() < 0.5 else 0.0,
                "rent_gbp": float(rng.integers(5, 60)) * 1000 if leasehold and rng.random() < 0.5 else None,
                "tenure": "leasehold" if leasehold else "freehold",
                "lease_end_year": int(rng.integers(2024, 2040)) if leasehold else None,
                "break_year": int(rng.integers(2026, 2032)) if leasehold and rng.random() < 0.5 else None,
                "carbon_tco2e": float(rng.integers(5, 80)),
                "space_types": ";".join(
                    rng.choice(list(SERVICES.values()), size=int(rng.integers(1, 4)), replace=False)
                ),
                "protected": bool(rng.random() < 0.1),
            }
        )
        overfull = rng.random() < 0.3  # today's occupiers need more than the stated capacity
        used = 0.0
        for j in range(int(rng.integers(1, 4))):
            service = str(rng.choice(list(SERVICES)))
            space = float(rng.integers(40, 350))
            if used + space > cap and not overfull:
                continue
            used += space
            limit = float(rng.choice([2.0, 4.0, 8.0])) if rng.random() < 0.3 else None
            occupiers.append(
                {
                    "occupier_id": f"O{i}_{j}",
                    "partner": "P",
                    "service": service,
                    "building_id": f"B{i}",
                    "space_m2": space,
                    "space_type": SERVICES[service],
                    "public_facing": service in PUBLIC,
                    "splittable": bool(rng.random() < 0.25),
                    "movable": bool(rng.random() < 0.9),
                    "max_move_km": limit,
                }
            )
    zones = [
        {
            "zone_id": f"Z{k}",
            "x": 380000 + float(rng.uniform(0, 5000)),
            "y": 400000 + float(rng.uniform(0, 5000)),
            "population": int(rng.integers(300, 2500)),
            "imd_decile": int(rng.integers(1, 11)) if rng.random() < 0.9 else None,
        }
        for k in range(8)
    ]
    access = [{"service": "library", "reach_km": 2.5, "rule": "keep_current"}]
    pairs = [(s, t) for s in SERVICES for t in SERVICES if s != t]
    compatibility = [
        {"service": s, "host_service": t} for k, (s, t) in enumerate(pairs) if rng.random() < 0.6
    ]
    estate = make_estate(
        buildings, occupiers, zones=zones, access=access, compatibility=compatibility, name=f"ref{seed}"
    )
    standards = [
        AccessStandard(
            "gp_practice",
            reach_km=3.0,
            rule="min_share",
            min_share=float(rng.uniform(0.3, 1.0)) * today_share(estate, "gp_practice", 3.0),
            protect_deprived_deciles=int(rng.choice([0, 2])),
        )
    ]
    if rng.random() < 0.08:  # a standard for a service nobody provides: impossible when above 0
        standards.append(AccessStandard("swimming", reach_km=3.0, rule="min_share", min_share=0.2))
    free = [b["building_id"] for b in buildings if not b["protected"]]
    keep_lock = (str(rng.choice(free)),) if free and rng.random() < 0.2 else ()
    rest = [b for b in free if b not in keep_lock]
    dispose_lock = (str(rng.choice(rest)),) if rest and rng.random() < 0.3 else ()
    value = sum(b["market_value_gbp"] for b in buildings)
    carbon = sum(b["carbon_tco2e"] for b in buildings)
    scenario = Scenario(
        name=f"ref{seed}",
        max_move_km=float(rng.choice([4.0, 6.0, 8.0])),
        cat_discount=float(rng.choice([0.0, 0.5, 1.0])),
        keep=keep_lock,
        dispose=dispose_lock,
        access=tuple(standards),
        capital_budget_gbp=float(rng.integers(0, 400)) * 1000 if rng.random() < 0.3 else None,
        receipts_target_gbp=float(rng.uniform(0, 0.1)) * value if rng.random() < 0.1 else None,
        max_disposals=int(rng.integers(1, 4)) if rng.random() < 0.2 else None,
        carbon_cap_tco2e=float(rng.uniform(0.9, 1.0)) * carbon if rng.random() < 0.15 else None,
        time_limit_s=30,
        mip_gap=1e-9,
    )
    return Case(seed, estate, scenario)


def _road_km(estate: Estate, x: float, y: float, h: str) -> float:
    b = estate.buildings
    straight = math.hypot(x - b.at[h, "easting"], y - b.at[h, "northing"]) / 1000
    return straight * estate.travel.detour_factor


# ------------------------------------------------------------------------------------------
# the reference formulation
# ------------------------------------------------------------------------------------------
def _money(estate: Estate, scenario: Scenario) -> pd.DataFrame:
    """Keep and dispose costs per building in £k, from the `optimiser.costs` docstring."""
    b, occ, s = estate.buildings, estate.occupiers, scenario

    def af(years: float) -> float:
        return (
            float(years) if s.discount_rate == 0 else (1 - (1 + s.discount_rate) ** -years) / s.discount_rate
        )

    rows = {}
    for h in b.index:
        running = _k(b.at[h, "running_cost_gbp"])
        value = _k(b.at[h, "market_value_gbp"])
        services = set(occ.loc[occ["building_id"] == h, "service"])
        lease = b.at[h, "tenure"] == "leasehold"
        if lease:
            receipt, disposal = 0.0, 0.0
            rent = _k(b.at[h, "rent_gbp"]) if not pd.isna(b.at[h, "rent_gbp"]) else 0.35 * running
            end = b.at[h, "break_year"] if not pd.isna(b.at[h, "break_year"]) else b.at[h, "lease_end_year"]
            left = s.years if pd.isna(end) else min(max(float(end) - s.start_year, 0.0), s.years)
            exit_k = s.lease_exit_share * rent * af(left)
        else:
            cat = bool(services) and services <= set(s.cat_services)
            receipt = value * (1 - s.cat_discount) if cat else value
            given = b.at[h, "disposal_cost_gbp"]
            disposal = value * s.disposal_cost_share if pd.isna(given) else _k(given)
            exit_k = 0.0
        backlog = _k(b.at[h, "backlog_gbp"]) if s.include_backlog else 0.0
        rows[h] = {
            "keep": af(s.years) * running + backlog,
            "dispose": disposal + exit_k - receipt,
            "one_off": disposal + exit_k,
            "receipt": receipt,
            "carbon": 0.0 if pd.isna(b.at[h, "carbon_tco2e"]) else float(b.at[h, "carbon_tco2e"]),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _k(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value) / 1000


def _standards(estate: Estate, scenario: Scenario) -> list[AccessStandard]:
    by_service: dict[str, AccessStandard] = {}
    for service, row in estate.access.iterrows():
        by_service[str(service)] = AccessStandard(
            str(service),
            reach_km=float(row["reach_km"]),
            rule=str(row["rule"]),
            min_share=None if pd.isna(row["min_share"]) else float(row["min_share"]),
            protect_deprived_deciles=int(row["protect_deprived_deciles"] or 0),
        )
    by_service.update({s.service: s for s in scenario.access})
    return [s for s in by_service.values() if s.enabled]


@dataclass
class Reference:
    problem: pulp.LpProblem
    keep: dict[str, pulp.LpVariable]
    x: dict[tuple[str, str], pulp.LpVariable]
    impossible: str = ""  # a reason the reference is infeasible without solving


def reference_model(estate: Estate, scenario: Scenario) -> Reference:
    """The whole MILP, written from the documentation, one row per rule."""
    b, occ, zones = estate.buildings, estate.occupiers, estate.zones
    detour = estate.travel.detour_factor
    money = _money(estate, scenario)
    problem = pulp.LpProblem("reference", pulp.LpMinimize)
    keep = {h: problem.add_variable(f"keep_{h}", cat=pulp.LpBinary) for h in b.index}
    impossible = ""
    for h in b.index:
        if bool(b.at[h, "protected"]) or bool(b.at[h, "fixed"]) or h in scenario.keep:
            problem += keep[h] == 1
        if h in scenario.dispose:
            problem += keep[h] == 0
    # allowed pairs: today's building, or a move within the limit to a building that offers the
    # space type and whose services today all accept the mover's service
    offered = {
        h: set(b.at[h, "space_types"] or ()) | set(occ.loc[occ["building_id"] == h, "space_type"])
        for h in b.index
    }
    accepts = set(zip(estate.compatibility["service"], estate.compatibility["host_service"], strict=True))
    at = {h: set(occ.loc[occ["building_id"] == h, "service"]) for h in b.index}
    x: dict[tuple[str, str], pulp.LpVariable] = {}
    for a, row in occ.iterrows():
        home = row["building_id"]
        hosts = [home]
        limit = scenario.max_move_km if pd.isna(row["max_move_km"]) else float(row["max_move_km"])
        if bool(row["movable"]) and scenario.allow_moves and not bool(b.at[home, "fixed"]) and limit > 0:
            for h in b.index:
                km = math.hypot(
                    b.at[h, "easting"] - b.at[home, "easting"], b.at[h, "northing"] - b.at[home, "northing"]
                )
                if (
                    h != home
                    and not bool(b.at[h, "fixed"])
                    and km / 1000 * detour <= limit + 1e-9
                    and row["space_type"] in offered[h]
                    and all(t == row["service"] or (row["service"], t) in accepts for t in at[h])
                ):
                    hosts.append(h)
        cat = pulp.LpContinuous if bool(row["splittable"]) else pulp.LpBinary
        for h in hosts:
            x[(a, h)] = problem.add_variable(f"x_{a}_{h}", lowBound=0, upBound=1, cat=cat)
        problem += pulp.lpSum(x[(a, h)] for h in hosts) == 1
        for h in hosts:
            problem += x[(a, h)] <= keep[h]
    space = occ["space_m2"].astype(float)
    used = space.groupby(occ["building_id"]).sum()
    for h in b.index:
        capacity = 0.0 if pd.isna(b.at[h, "capacity_m2"]) else float(b.at[h, "capacity_m2"])
        capacity = max(capacity, float(used.get(h, 0.0)))  # as the docs say: or today's use, if larger
        problem += pulp.lpSum(space[a] * v for (a, g), v in x.items() if g == h) <= capacity * keep[h]
    # movers whose services may not share never arrive at a building together
    share = accepts | {(t, s) for s, t in accepts}
    arrivals = [(a, h) for (a, h) in x if h != occ.at[a, "building_id"]]
    for (a, h), (o, g) in [(p, q) for i, p in enumerate(arrivals) for q in arrivals[i + 1 :]]:
        s, t = occ.at[a, "service"], occ.at[o, "service"]
        if h == g and s != t and (s, t) not in share:
            problem += x[(a, h)] + x[(o, h)] <= 1
    # access
    pop = zones["population"].astype(float)
    for standard in _standards(estate, scenario):
        s = standard.service
        members = occ[(occ["service"] == s) & occ["public_facing"]]
        if members.empty:
            if standard.rule == "min_share" and (standard.min_share or 0) * pop.sum() > 0:
                impossible = f"{s}: nobody provides it"
            continue
        serve = {h: problem.add_variable(f"serve_{h}_{s}", 0, 1) for h in b.index}
        for h in b.index:
            problem += serve[h] <= pulp.lpSum(v for (a, g), v in x.items() if g == h and a in members.index)
            problem += serve[h] <= keep[h]
        reach = {
            z: [
                h
                for h in b.index
                if _road_km(estate, zones.at[z, "easting"], zones.at[z, "northing"], h)
                <= standard.reach_km + 1e-9
            ]
            for z in zones.index
        }
        today = {z for z in zones.index if set(reach[z]) & set(members["building_id"])}
        decile = zones["imd_decile"]
        for z in sorted(today):
            deprived = not pd.isna(decile[z]) and decile[z] <= standard.protect_deprived_deciles
            if standard.rule == "keep_current" or deprived:
                problem += pulp.lpSum(serve[h] for h in reach[z]) >= 1
        if standard.rule == "min_share":
            reached = {z: problem.add_variable(f"reached_{s}_{z}", 0, 1) for z in zones.index}
            for z in zones.index:
                problem += reached[z] <= pulp.lpSum(serve[h] for h in reach[z])
            problem += (
                pulp.lpSum(pop[z] * reached[z] for z in zones.index) >= (standard.min_share or 0) * pop.sum()
            )
    # objective and limits
    move_k = space * scenario.move_cost_gbp_per_m2 / 1000
    moves = pulp.lpSum(move_k[a] * v for (a, h), v in x.items() if h != occ.at[a, "building_id"])
    gone = {h: 1 - keep[h] for h in b.index}
    problem += (
        pulp.lpSum(money.at[h, "keep"] * keep[h] + money.at[h, "dispose"] * gone[h] for h in b.index) + moves
    )
    if scenario.capital_budget_gbp is not None:
        one_off = pulp.lpSum(money.at[h, "one_off"] * gone[h] for h in b.index) + moves
        problem += one_off <= scenario.capital_budget_gbp / 1000
    if scenario.receipts_target_gbp is not None:
        problem += (
            pulp.lpSum(money.at[h, "receipt"] * gone[h] for h in b.index)
            >= scenario.receipts_target_gbp / 1000
        )
    if scenario.max_disposals is not None:
        problem += pulp.lpSum(gone.values()) <= scenario.max_disposals
    if scenario.carbon_cap_tco2e is not None:
        problem += pulp.lpSum(money.at[h, "carbon"] * keep[h] for h in b.index) <= scenario.carbon_cap_tco2e
    return Reference(problem, keep, x, impossible)


def _solve_reference(ref: Reference) -> float | None:
    """The proven optimum, or None when the reference is infeasible."""
    if ref.impossible:
        return None
    ref.problem.solve(pulp.HiGHS(msg=False, gapRel=0.0, mip_abs_gap=1e-9, timeLimit=60))
    status = pulp.LpStatus[ref.problem.status]
    if status == "Infeasible":
        return None
    assert status == "Optimal", status
    return float(pulp.value(ref.problem.objective))


@functools.cache
def reference_optimum(seed: int) -> float | None:
    case = random_case(seed)
    return _solve_reference(reference_model(case.estate, case.scenario))


def plan_cost_in_reference(case: Case, plan: plan_module.Plan) -> float:
    """Fix the plan's decisions into the reference; it must be feasible there. Returns its cost."""
    ref = reference_model(case.estate, case.scenario)
    kept = plan.buildings.set_index("building_id")["decision"].eq("keep")
    for h, var in ref.keep.items():
        var.lowBound = var.upBound = 1 if kept[h] else 0
    shares = plan.occupiers.groupby(["occupier_id", "to_building_id"])["share"].sum().to_dict()
    unknown = set(shares) - set(ref.x)
    assert not unknown, f"seed {case.seed}: the plan uses pairs the rules do not allow: {sorted(unknown)}"
    for key, var in ref.x.items():
        value = float(shares.get(key, 0.0))
        if var.cat == pulp.LpBinary:
            var.lowBound = var.upBound = round(value)
        else:
            var.lowBound, var.upBound = max(0.0, value - 1e-7), min(1.0, value + 1e-7)
    cost = _solve_reference(ref)
    assert cost is not None, f"seed {case.seed}: the plan breaks a rule of the reference formulation"
    return cost


# ------------------------------------------------------------------------------------------
# the solver paths
# ------------------------------------------------------------------------------------------
def _plain(case: Case, solver: str, **kwargs: Any) -> plan_module.Plan:
    scenario = case.scenario.with_changes(warm_start=False)
    model = build_model(case.estate, scenario)
    return solve(model, make_solver(solver, time_limit_s=30, mip_gap=scenario.mip_gap, **kwargs))


def _stopped_early(case: Case, solver: str) -> plan_module.Plan:
    """A node limit: the solver stops at its root node with whatever plan and bound it has."""
    model = build_model(case.estate, case.scenario)
    options = {"options": {"mip_max_nodes": 0}} if solver == "highs" else {}
    engine = make_solver(solver, time_limit_s=30, mip_gap=case.scenario.mip_gap, start=model.start, **options)
    if solver == "cbc":
        engine.optionsDict["maxNodes"] = 0
    return solve(model, engine)


def _windows(case: Case, monkeypatch: pytest.MonkeyPatch) -> plan_module.Plan:
    monkeypatch.setattr(pipeline_module, "LARGE_MODEL_MOVES", 0)  # fix-and-optimise even when small
    return optimise(case.estate, case.scenario)


# every way a plan is reached: HiGHS without and with the warm start, fix-and-optimise windows,
# a gap stop and a node limit; CBC without and with its warm start (initial values), a gap stop
# and a node limit. Exact paths ask for a 1e-9 gap, so "optimal" must be the reference optimum.
PATHS = {
    "highs": lambda case, mp: _plain(case, "highs"),
    "highs_optimise": lambda case, mp: optimise(case.estate, case.scenario),
    "highs_windows": _windows,
    "highs_gap": lambda case, mp: optimise(case.estate, case.scenario.with_changes(mip_gap=0.3)),
    "highs_nodes": lambda case, mp: _stopped_early(case, "highs"),
    "cbc": lambda case, mp: _plain(case, "cbc"),
    "cbc_optimise": lambda case, mp: optimise(case.estate, case.scenario.with_changes(solver="cbc")),
    "cbc_gap": lambda case, mp: optimise(case.estate, case.scenario.with_changes(solver="cbc", mip_gap=0.3)),
    "cbc_nodes": lambda case, mp: _stopped_early(case, "cbc"),
}


EARLY = ("highs_nodes", "cbc_nodes")  # may honestly stop with no plan at all


def _check_path(
    case: Case, name: str, run: Any, monkeypatch: pytest.MonkeyPatch, out: Path | None = None
) -> None:
    optimum = reference_optimum(case.seed)
    where = f"seed {case.seed}, path {name}"
    try:
        plan = run(case, monkeypatch)
    except InfeasibleScenarioError as err:
        assert optimum is None, (
            f"{where}: refused as infeasible, but the reference optimum is {optimum:.4f}: {err}"
        )
        return
    except SolveError as err:
        assert name in EARLY and "no usable plan" in str(err), f"{where}: {err}"
        return
    assert optimum is not None, f"{where}: a plan for a scenario the reference finds infeasible"
    info = plan.info
    scale = max(1.0, abs(optimum))
    assert optimum <= info.objective + 1e-6 * scale, f"{where}: objective {info.objective} below the optimum"
    if math.isfinite(info.bound):
        assert info.bound <= optimum + 1e-6 * scale, (
            f"{where}: bound {info.bound} above the optimum {optimum}"
        )
        assert info.bound <= info.objective + 1e-6 * scale, where
    if info.status == "optimal" or info.proven_optimal:
        assert info.status == "optimal" and info.proven_optimal, where
        assert math.isfinite(info.bound), f"{where}: optimal without a bound"
        assert info.objective - info.bound <= TOLERANCE * max(abs(info.objective), 1e-9) + 1e-9, where
        assert info.objective - optimum <= TOLERANCE * scale, (
            f"{where}: 'optimal' {info.objective} vs {optimum}"
        )
        if plan.scenario.mip_gap < 1e-6:  # asked for the optimum itself
            assert info.objective == pytest.approx(optimum, rel=1e-6), where
    assert plan_cost_in_reference(case, plan) == pytest.approx(info.objective, rel=1e-6, abs=1e-6), where
    if out is not None:  # and the written files pass the CSV-only recheck
        write_plan(case.estate, plan, out)
        check_written_plan(out, cat_discount=case.scenario.cat_discount)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_solver_path_agrees_with_the_reference(seed, monkeypatch, tmp_path):
    case = random_case(seed)
    for name, run in PATHS.items():
        out = tmp_path / name if name == "highs_optimise" and seed % 3 == 0 else None
        with monkeypatch.context() as mp:
            _check_path(case, name, run, mp, out)


def test_the_random_estates_cover_what_they_are_for():
    """Over-full and blank-capacity buildings, locks, limits, both access rules, infeasible ones."""
    cases = [random_case(s) for s in SEEDS]
    overfull = blank = fixed = 0
    for case in cases:
        b, occ = case.estate.buildings, case.estate.occupiers
        used = occ.groupby("building_id")["space_m2"].sum().reindex(b.index, fill_value=0)
        overfull += int((used > b["capacity_m2"].fillna(0) + 1e-9).sum())
        blank += int(b["modelled"].map(lambda m: "capacity_m2" in (m or ())).sum())
        fixed += int(b["fixed"].sum())
    assert overfull >= 5 and blank >= 3 and fixed >= 3, (overfull, blank, fixed)
    scenarios = [c.scenario for c in cases]
    assert sum(bool(s.keep) for s in scenarios) >= 3 and sum(bool(s.dispose) for s in scenarios) >= 3
    assert sum(s.capital_budget_gbp is not None for s in scenarios) >= 3
    assert sum(len(s.access) > 1 for s in scenarios) >= 1
    optima = [reference_optimum(s) for s in SEEDS]
    assert 1 <= sum(o is None for o in optima) <= len(optima) // 2, optima
    # estates that adding up stated capacities (blank as 0) would wrongly refuse
    short = 0
    for case, optimum in zip(cases, optima, strict=True):
        b, occ = case.estate.buildings, case.estate.occupiers
        allowed = b.loc[~b.index.isin(case.scenario.dispose), "capacity_m2"].fillna(0).sum()
        short += int(optimum is not None and occ["space_m2"].sum() > allowed + 1e-6)
    assert short >= 1
    # occupiers of a locked-out building with one place to go: forced moves
    forced = 0
    for case in cases:
        ref, home = reference_model(case.estate, case.scenario), case.estate.occupiers["building_id"]
        for a, h in home.items():
            hosts = [g for (o, g) in ref.x if o == a and g not in case.scenario.dispose]
            forced += int(h in case.scenario.dispose and len(hosts) == 1)
    assert forced >= 2
