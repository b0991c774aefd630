"""Build the co-location and disposal MILP for an Estate and a Scenario.

The formulation (money in £k; ``AF`` the annuity factor; see `optimiser.costs`):

Variables

- ``keep[b]`` binary: building ``b`` is kept (only for buildings free to go; protected, fixed,
  locked-in buildings and hosts of immovable occupiers are kept as constants, locked-out ones
  are disposed as constants).
- ``move[a, h]`` occupier ``a`` is housed in building ``h`` (binary; continuous share in
  [0, 1] when ``a`` is splittable). It exists only for allowed pairs: ``h`` is ``a``'s
  building today, or a building within ``a``'s move limit (road km) that offers ``a``'s
  space type and whose current services all accept ``a``'s service. Pairs are found with a
  spatial index.
- ``serve[h, s]`` in [0, 1]: service ``s`` is offered at ``h`` (for access standards).
- ``reached[s, g]`` in [0, 1]: zone group ``g`` reaches service ``s`` (``min_share`` only).

Objective (net present cost over the appraisal period, ``net_present_cost_gbp_k``,
`_add_objective`)::

    min  sum_b keep[b] * (AF*running_b + backlog_b)
       + sum_b (1 - keep[b]) * (disposal_cost_b + lease_exit_b - receipt_b)
       + sum_{a, h != today(a)} move[a, h] * move_cost_a       (or the explicit cost table)

Constraints, one builder per family (``_add_<family>_rows``), in the order they are added

1. ``housed_a``:        sum_h move[a, h] == 1                         (`_add_housing_rows`)
2. ``open_a_h``:        move[a, h] <= keep[h]                        (strong linking, same)
3. ``capacity_h``:      sum_a space_a * move[a, h] <= capacity_h * keep[h], where
   ``capacity_h`` is the stated capacity (blank = 0) or today's use if larger
   (`effective_capacity`, also used by every pre-solve check)        (`_add_capacity_rows`)
4. ``mix_h_a_o``:       move[a, h] + move[o, h] <= 1   for movers whose services may not share
   (a move that is an occupier's only option counts as 1)            (`_add_mix_rows`)
5. ``conflict_h_a_o``:  move[a, h] + move[o, h] <= keep[h]  for a whole mover ``a`` and a
   whole resident ``o`` of ``h`` that do not fit in ``h`` together     (`_add_conflict_rows`)
6. ``big_h``:           sum_{a big for h} move[a, h] <= keep[h]: at most one whole occupier
   bigger than half of ``h``'s free room (a clique of conflicts)     (`_add_big_occupier_rows`)
   (5 and 6 are implied by capacity for integer plans and tighten the LP relaxation; with
   ``h`` decided before the solve their right-hand side is 1, `_add_at_most_keep`.)
7. ``serve_h_s``:       serve[h, s] <= sum_{a of s} move[a, h], and
   ``serve_open_h_s``:  serve[h, s] <= keep[h]                       (`_add_serve_rows`)
8. ``access_s_g``:      sum_{h within reach of g} serve[h, s] >= 1     (`_add_coverage_rows`)
   for each group ``g`` of zones within reach today (``keep_current``, and the most
   deprived deciles under any rule). Zones with the same set of reachable sites form one
   group, and a group whose set contains another group's set is dropped (dominated).
9. ``reached_s_g``:     reached[s, g] <= sum_{h within reach of g} serve[h, s], and
   ``share_s``:         sum_g pop_g * reached[s, g] >= min_share * pop  (``min_share`` only,
   `_add_share_rows`)
10. Optional limits (`_add_limit_rows`): ``capital_budget`` (moves, forced ones included,
    disposal costs and lease exits), ``receipts_target``, ``max_disposals``, ``carbon_cap``.
11. Optional ``fair_<n>`` (`_add_partner_rows`, `optimiser.model_partners`): each partner's
    NPV under the sharing rule at least zero or at least its stand-alone NPV.

With ``elastic=True`` (`optimiser.pipeline.diagnose`) the capacity, access, share and limit
rows get penalised slack. Cheap checks refuse a scenario that no plan can meet:
`_check_before_solve` before any row is built, and the access builder as it builds each
standard's rows (zones that must keep reach but have no allowed site, `_coverage`; a
``min_share`` above what every allowed site together reaches, `_check_share_reachable`; a
``min_share`` above 0 for a service that no public-facing occupier provides,
`_check_standard_has_a_provider`).

The estate as it is today (everything kept, nobody moved) is feasible whenever no lock
forbids it, and is passed to the solver as a starting solution.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from estate import Estate
from optimiser.access import reach_pairs, standards_for
from optimiser.costs import building_costs, move_cost_k
from optimiser.errors import InfeasibleScenarioError, ScenarioError
from optimiser.model_partners import (
    FAIRNESS_FAMILY,
    check_members,
    coalition_scenario,
    fairness_rows,
    keep_others,
    restrict_pairs,
)
from optimiser.report.words import service_name
from optimiser.scenario import AccessStandard, Scenario, pct
from optimiser.stages import NO_STEPS, Steps

ELASTIC_PENALTY = 1.0e6  # £k per unit of slack, only in the diagnostic re-solve


@dataclass(frozen=True, eq=False)
class AccessRows:
    """The coverage rows of one access standard, after deduplication and dominance."""

    standard: AccessStandard
    zones_in_reach_today: int
    population_in_reach_today: float
    groups: dict[int, tuple[str, ...]]  # group -> sites within reach
    group_zones: dict[int, list[str]]  # group -> zones in it
    hard_groups: tuple[int, ...]  # groups that must keep reach
    rows_before: int  # zone rows before deduplication/dominance
    rows_after: int
    always_served: frozenset[str]  # sites whose service cannot leave (immovable occupier)
    unreachable: tuple[str, ...] = ()  # zones that must keep reach but have no site allowed


@dataclass(frozen=True, eq=False)
class EstateModel:
    """A built, unsolved model. Variables are keyed by domain IDs, never by position.

    Made once, by `build_model`, with its final values; nothing changes it afterwards (a solve
    writes only the values of the PuLP variables, and the warm start of
    `optimiser.pipeline.optimise` never rewrites their bounds).
    """

    problem: pulp.LpProblem
    estate: Estate
    scenario: Scenario
    keep: dict[str, pulp.LpVariable]
    move: dict[tuple[str, str], pulp.LpVariable]
    serve: dict[tuple[str, str], pulp.LpVariable]
    reached: dict[tuple[str, int], pulp.LpVariable]
    fixed_keep: dict[str, bool]  # buildings decided before the solve: True keep, False dispose
    fixed_host: dict[str, str]  # occupiers with one possible home
    pairs: pd.DataFrame  # occupier_id, building_id, straight_km, road_km, cost_k, is_today
    costs: pd.DataFrame  # per building, see optimiser.costs.building_costs
    access: dict[str, AccessRows]
    keep_reason: dict[str, str]  # why a building was decided before the solve
    build_s: float
    stats: dict[str, Any] = field(default_factory=dict)
    slacks: dict[str, dict[str, pulp.LpVariable]] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)  # warm start, by variable name
    cost_table: bool = False
    today_cost: float = math.nan  # net present cost of keeping today's estate (nan: not a plan here)
    coalition: frozenset[str] | None = None  # the partners of a stand-alone or coalition plan
    partner_floors_gbp: dict[str, float] | None = None  # stand-alone NPVs for no_partner_worse_off


@dataclass(eq=False)
class _Builder:
    """The model while its rows are added: the families fill `serve`, `reached`, `access`,
    `slacks` and `stats`; `build_model` then makes the frozen `EstateModel` from it once."""

    problem: pulp.LpProblem
    estate: Estate
    scenario: Scenario
    keep: dict[str, pulp.LpVariable]
    move: dict[tuple[str, str], pulp.LpVariable]
    fixed_keep: dict[str, bool]
    fixed_host: dict[str, str]
    pairs: pd.DataFrame
    costs: pd.DataFrame
    cost_table: bool
    serve: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    reached: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    access: dict[str, AccessRows] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    slacks: dict[str, dict[str, pulp.LpVariable]] = field(default_factory=dict)
    steps: Steps = NO_STEPS  # progress and Stop while the rows are added (optimiser.stages)


def build_model(
    estate: Estate,
    scenario: Scenario,
    *,
    cost_table: pd.DataFrame | None = None,
    elastic: bool = False,
    coalition: frozenset[str] | None = None,
    partner_floors_gbp: Mapping[str, float] | None = None,
    steps: Steps | None = None,
) -> EstateModel:
    """Build the MILP described in the module docstring.

    Parameters
    ----------
    estate
        The validated estate.
    scenario
        Assumptions and constraints.
    cost_table
        Optional explicit ``occupier_id, building_id, cost_gbp_k`` table. When given, these
        are the only allowed pairs and their costs replace the move-cost formula (even for
        an occupier's building today); occupiers need not be housed anywhere today.
    elastic
        Add penalised slack to the access, capacity and limit rows, to diagnose
        infeasibility (see `optimiser.pipeline.diagnose`).
    coalition
        The partners of a stand-alone or coalition plan: only their teams move, only into
        their buildings; everything else stays as it is (`optimiser.model_partners`).
    partner_floors_gbp
        Each partner's stand-alone NPV (pounds), for ``no_partner_worse_off = "standalone"``.
    steps
        Reports each step (with the rows so far) and stops at the next one when its cancel
        event is set (`optimiser.stages`).

    Raises
    ------
    ScenarioError
        A lock names a building not in the estate.
    InfeasibleScenarioError
        A cheap check shows that no plan can meet the scenario; the message has the numbers.
    StoppedByUser
        The cancel event of `steps` was set.

    """
    started = time.perf_counter()
    steps = NO_STEPS if steps is None else steps
    steps.step("the allowed moves")
    b, occ = estate.buildings, estate.occupiers
    if coalition is not None:
        check_members(estate, coalition)
        scenario = coalition_scenario(estate, scenario, coalition)
    _check_locks(estate, scenario)
    costs = building_costs(estate, scenario)
    if cost_table is not None:
        pairs = _pairs_from_table(estate, cost_table)
    else:
        pairs = _allowed_pairs(estate, scenario)
        if coalition is not None:
            pairs = restrict_pairs(estate, pairs, coalition)
        pairs = _prune_pairs_that_never_fit(estate, pairs)

    steps.step("the buildings decided before the solve")
    fixed_keep, keep_reason = _decided_buildings(estate, scenario, pairs)
    if coalition is not None:
        keep_others(estate, coalition, fixed_keep, keep_reason)
    options = pairs.groupby("occupier_id").size()
    findings = _check_before_solve(
        estate, scenario, pairs, options, fixed_keep, as_stated=cost_table is not None
    )
    if findings and not elastic:
        msg = f"Scenario {scenario.name!r} cannot be met:"
        raise InfeasibleScenarioError(msg, tuple(findings))

    steps.step("the variables", 0)
    problem = pulp.LpProblem("estate_plan", pulp.LpMinimize)
    free = [bid for bid in b.index if bid not in fixed_keep]
    keep = problem.add_variable_dict("keep", free, cat=pulp.LpBinary)

    single = options[options == 1].index
    fixed_host = dict(
        pairs[pairs["occupier_id"].isin(single)][["occupier_id", "building_id"]].itertuples(index=False)
    )
    multi = pairs[~pairs["occupier_id"].isin(single)]
    split = occ["splittable"].astype(bool).to_dict()
    keys = list(zip(multi["occupier_id"], multi["building_id"], strict=True))
    binary_keys = [k for k in keys if not split.get(k[0], False)]
    share_keys = [k for k in keys if split.get(k[0], False)]
    move = problem.add_variable_dict("move_%s_%s", binary_keys, cat=pulp.LpBinary)
    move.update(problem.add_variable_dict("share_%s_%s", share_keys, lowBound=0, upBound=1))

    model = _Builder(
        problem=problem,
        estate=estate,
        scenario=scenario,
        keep=keep,
        move=move,
        fixed_keep=fixed_keep,
        fixed_host=fixed_host,
        pairs=pairs,
        costs=costs,
        cost_table=cost_table is not None,
        steps=steps,
    )
    _step(model, "the objective")
    _add_objective(model)
    _step(model, "housing rows")
    _add_housing_rows(model)
    _step(model, "capacity rows")
    _add_capacity_rows(model, elastic=elastic)
    _step(model, "service mix rows")
    _add_mix_rows(model)
    whole, cap, fixed_load = _whole_movers(model, multi)
    _step(model, "conflict rows")
    _add_conflict_rows(model, whole, cap, fixed_load)
    _step(model, "large occupier rows")
    _add_big_occupier_rows(model, whole, cap, fixed_load)
    if scenario.access_enabled and cost_table is None:
        _add_access_rows(model, elastic=elastic)
    _step(model, "budget and target rows")
    _add_limit_rows(model, elastic=elastic)
    _step(model, "partner rows")
    _add_partner_rows(model, partner_floors_gbp, elastic=elastic)
    today: dict[str, float] = {}  # today's estate, when it is a plan of this model
    if not any(v is False for v in fixed_keep.values()) and cost_table is None:
        _step(model, "the starting plan (today's estate)")
        today = _start_from_today(model)
    steps.check()
    start = today if scenario.warm_start else {}
    objective = problem.objective
    today_cost = (
        float(objective.constant + sum(c * today.get(v.name, 0.0) for v, c in objective.items()))
        if today
        else math.nan
    )
    stats = {
        **model.stats,
        "variables": len(problem.variables()),
        "constraints": problem.numConstraints(),
        "nonzeros": sum(len(c) for c in problem._constraints.values()),  # no public count in PuLP 3
        "buildings_free": len(keep),
        "pairs": len(pairs),
    }
    return EstateModel(
        problem=problem,
        estate=estate,
        scenario=scenario,
        keep=keep,
        move=move,
        serve=model.serve,
        reached=model.reached,
        fixed_keep=fixed_keep,
        fixed_host=fixed_host,
        pairs=pairs,
        costs=costs,
        access=model.access,
        keep_reason=keep_reason,
        build_s=time.perf_counter() - started,
        stats=stats,
        slacks=model.slacks,
        start=start,
        today_cost=today_cost,
        cost_table=cost_table is not None,
        coalition=coalition,
        partner_floors_gbp=dict(partner_floors_gbp) if partner_floors_gbp is not None else None,
    )


# ------------------------------------------------------------------------------------------
# pre-solve: pairs, decided buildings, cheap checks
# ------------------------------------------------------------------------------------------
def _check_locks(estate: Estate, scenario: Scenario) -> None:
    known = estate.buildings.index
    source = estate.sources.get("buildings", "the buildings table")
    for key, ids in (("keep", scenario.keep), ("dispose", scenario.dispose)):
        unknown = [b for b in ids if b not in known]
        if not unknown:
            continue
        msg = (
            f"Scenario {scenario.name!r}: locks.{key} names building(s) not in the estate: "
            + ", ".join(unknown[:10])
            + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            + f". Check the IDs against {source} (rejected buildings do not count)."
        )
        raise ScenarioError(msg)


def _allowed_pairs(estate: Estate, scenario: Scenario) -> pd.DataFrame:
    """Every (occupier, building) pair allowed by distance, space type and compatibility."""
    b, occ = estate.buildings, estate.occupiers
    detour = estate.travel.detour_factor
    today = pd.DataFrame(
        {
            "occupier_id": occ.index.to_numpy(dtype=object),
            "building_id": occ["building_id"].to_numpy(dtype=object),
            "straight_km": 0.0,
        }
    )
    movable = occ["movable"].astype(bool) & scenario.allow_moves
    movable &= ~occ["building_id"].map(b["fixed"]).fillna(True).astype(bool)
    limit_road = occ["max_move_km"].astype(float).fillna(scenario.max_move_km)
    movers = occ[movable & (limit_road > 0)]
    frames = [today]
    if len(movers):
        reach_straight = float(limit_road[movers.index].max()) / detour
        near = estate.building_distances(reach_straight)
        near = near[near["building_id"] != near["to_building_id"]]
        cand = movers[["building_id", "space_m2", "space_type", "service"]].reset_index(names="occupier_id")
        cand = cand.merge(near, on="building_id")
        cand = cand[cand["straight_km"] * detour <= limit_road.reindex(cand["occupier_id"]).to_numpy() + 1e-9]
        # the host must be free to change (not fixed, not locked out) and offer the space type
        hosts = b[~b["fixed"] & ~b.index.isin(scenario.dispose)]
        cand = cand[cand["to_building_id"].isin(hosts.index)]
        offered = _offered_space_types(estate)
        ok_type = [
            t in offered.get(h, ()) for t, h in zip(cand["space_type"], cand["to_building_id"], strict=True)
        ]
        cand = cand[np.asarray(ok_type, dtype=bool)]
        cand = cand[_compatible(estate, cand["service"], cand["to_building_id"])]
        frames.append(
            pd.DataFrame(
                {
                    "occupier_id": cand["occupier_id"].to_numpy(dtype=object),
                    "building_id": cand["to_building_id"].to_numpy(dtype=object),
                    "straight_km": cand["straight_km"].to_numpy(),
                }
            )
        )
    pairs = pd.concat(frames, ignore_index=True)
    pairs = pairs[~pairs["building_id"].isin(scenario.dispose)]
    pairs["road_km"] = pairs["straight_km"] * detour
    pairs["is_today"] = (
        pairs["building_id"].to_numpy() == occ["building_id"].reindex(pairs["occupier_id"]).to_numpy()
    )
    cost = move_cost_k(occ["space_m2"], scenario).reindex(pairs["occupier_id"]).to_numpy()
    pairs["cost_k"] = np.where(pairs["is_today"], 0.0, cost)
    return pairs.reset_index(drop=True)


def effective_capacity(estate: Estate, *, as_stated: bool = False) -> pd.Series:
    """Space (m2) each building can hold in the model: the one rule for rows and checks.

    The stated ``capacity_m2`` (blank counts as 0), or the space its occupiers use today
    where that is larger: a building over-full today, or with no stated capacity, may stay as
    it is. With `as_stated` (an explicit cost table, as in the benchmarks, where nobody is
    housed today) the stated capacity alone.
    """
    b = estate.buildings
    stated = b["capacity_m2"].astype(float).fillna(0.0)
    if as_stated:
        return stated
    used = estate.occupiers.groupby("building_id")["space_m2"].sum().reindex(b.index, fill_value=0.0)
    return np.maximum(stated, used.astype(float))


def _prune_pairs_that_never_fit(estate: Estate, pairs: pd.DataFrame) -> pd.DataFrame:
    """Drop moves into a building that could never hold the occupier (exact, not a heuristic).

    A whole (unsplittable) occupier fits into ``h`` only if its space is at most ``h``'s
    capacity less the space of occupiers that can never leave ``h`` (immovable, or with no
    other option). Pruning can leave an occupier with one option, which makes it immovable
    too, so this repeats until nothing changes.
    """
    occ = estate.occupiers
    cap = effective_capacity(estate)
    space = occ["space_m2"].astype(float)
    split = occ["splittable"].astype(bool)
    while True:
        options = pairs.groupby("occupier_id")["building_id"].transform("size")
        stuck = pairs[(options == 1) & pairs["is_today"]]
        stuck_load = space.reindex(stuck["occupier_id"]).groupby(stuck["building_id"].to_numpy()).sum()
        room = (cap - stuck_load.reindex(cap.index, fill_value=0.0)).reindex(pairs["building_id"]).to_numpy()
        need = space.reindex(pairs["occupier_id"]).to_numpy()
        whole = ~split.reindex(pairs["occupier_id"]).to_numpy()
        never = ~pairs["is_today"].to_numpy() & ((whole & (need > room + 1e-9)) | (room <= 1e-9))
        if not never.any():
            return pairs.reset_index(drop=True)
        pairs = pairs[~never]


def _pairs_from_table(estate: Estate, table: pd.DataFrame) -> pd.DataFrame:
    need = {"occupier_id", "building_id", "cost_gbp_k"}
    if not need <= set(table.columns):
        msg = f"The cost table needs columns {sorted(need)}; found {list(table.columns)}."
        raise ScenarioError(msg)
    unknown_b = set(table["building_id"]) - set(estate.buildings.index)
    unknown_a = set(table["occupier_id"]) - set(estate.occupiers.index)
    if unknown_b or unknown_a:
        msg = (
            f"The cost table names {len(unknown_b)} unknown building(s) and "
            f"{len(unknown_a)} unknown occupier(s), e.g. {sorted(unknown_b | unknown_a)[:3]}."
        )
        raise ScenarioError(msg)
    today = estate.occupiers["building_id"].reindex(table["occupier_id"]).to_numpy()
    return pd.DataFrame(
        {
            "occupier_id": table["occupier_id"].to_numpy(dtype=object),
            "building_id": table["building_id"].to_numpy(dtype=object),
            "straight_km": np.nan,
            "road_km": np.nan,
            "is_today": table["building_id"].to_numpy() == today,
            "cost_k": table["cost_gbp_k"].astype(float).to_numpy(),
        }
    )


def _offered_space_types(estate: Estate) -> dict[str, set[str]]:
    """Space types each building offers: its own list plus what its occupiers use today."""
    offered: dict[str, set[str]] = {
        bid: set(types or ()) for bid, types in estate.buildings["space_types"].items()
    }
    for bid, kind in zip(estate.occupiers["building_id"], estate.occupiers["space_type"], strict=True):
        offered.setdefault(bid, set()).add(kind)
    return offered


def _compatible(estate: Estate, services: pd.Series, hosts: pd.Series) -> np.ndarray:
    """True where `service` may join every service in `host` today (same service always may)."""
    comp = estate.compatibility
    allowed = set(zip(comp["service"], comp["host_service"], strict=True))
    at_host = estate.occupiers.groupby("building_id")["service"].agg(frozenset)
    out = np.empty(len(services), dtype=bool)
    for i, (service, host) in enumerate(zip(services, hosts, strict=True)):
        there = at_host.get(host, frozenset())
        out[i] = all(t == service or (service, t) in allowed for t in there)
    return out


def _may_share(estate: Estate) -> set[tuple[str, str]]:
    comp = estate.compatibility
    pairs = set(zip(comp["service"], comp["host_service"], strict=True))
    return pairs | {(t, s) for s, t in pairs}


def _decided_buildings(
    estate: Estate, scenario: Scenario, pairs: pd.DataFrame
) -> tuple[dict[str, bool], dict[str, str]]:
    """Buildings whose fate is known before the solve, and why."""
    b = estate.buildings
    decided: dict[str, bool] = {}
    reason: dict[str, str] = {}
    for bid in scenario.dispose:
        decided[bid], reason[bid] = False, "locked out by the scenario"
    for bid, why in b.loc[b["fixed"], "fixed_reason"].items():
        decided[bid], reason[bid] = True, f"kept as it is: {why}"
    for bid, why in b.loc[b["protected"].astype(bool), "protected_reason"].items():
        decided[bid], reason[bid] = True, f"protected: {why or 'marked protected'}"
    for bid in scenario.keep:
        decided[bid], reason[bid] = True, "locked in by the scenario"
    single = pairs.groupby("occupier_id")["building_id"].agg(list)
    occ = estate.occupiers
    for a, hosts in single.items():
        if len(hosts) == 1 and hosts[0] not in decided:
            decided[hosts[0]] = True
            if not bool(occ.at[a, "movable"]) or not scenario.allow_moves:
                why = "which may not move"
            else:
                why = (
                    f"which has no other building within {_move_limit(occ, a, scenario):g} km with "
                    f"{occ.at[a, 'space_type']} space that its service may share"
                )
            reason[hosts[0]] = f"keep: houses {a} ({occ.at[a, 'service']}), {why}"
    return decided, reason


def _move_limit(occ: pd.DataFrame, a: str, scenario: Scenario) -> float:
    limit = occ.at[a, "max_move_km"]
    return float(scenario.max_move_km if pd.isna(limit) else limit)


def _check_before_solve(
    estate: Estate,
    scenario: Scenario,
    pairs: pd.DataFrame,
    options: pd.Series,
    fixed_keep: dict[str, bool],
    *,
    as_stated: bool,
) -> list[str]:
    """Cheap checks with numbers; each finding names what cannot be met and by how much.

    Every check is implied by the model's own rows (capacity from `effective_capacity`), so
    a scenario it refuses has no plan; one it passes may still be infeasible for the solver.
    """
    findings: list[str] = []
    occ, b = estate.occupiers, estate.buildings
    homeless = [a for a in occ.index if options.get(a, 0) == 0]
    for a in homeless[:10]:
        findings.append(
            f"occupier {a} ({occ.at[a, 'service']}, {occ.at[a, 'space_m2']:,.0f} m2 {occ.at[a, 'space_type']}) "
            f"is in {occ.at[a, 'building_id']}, which is locked out, and no building within its move limit "
            "can take it"
        )
    if len(homeless) > 10:
        findings.append(f"... and {len(homeless) - 10} more occupiers with nowhere to go")
    locked_out_protected = [
        bid for bid in scenario.dispose if bool(b.at[bid, "protected"]) or bool(b.at[bid, "fixed"])
    ]
    for bid in locked_out_protected:
        findings.append(
            f"building {bid} is locked out but is protected or fixed ({b.at[bid, 'protected_reason'] or b.at[bid, 'fixed_reason']})"
        )
    cap = effective_capacity(estate, as_stated=as_stated)  # the capacity rows' own numbers
    usable = [bid for bid in b.index if fixed_keep.get(bid, True) is not False]
    space, capacity = float(occ["space_m2"].sum()), float(cap[usable].sum())
    if space > capacity + 1e-6:
        findings.append(
            f"capacity: occupiers need {space:,.0f} m2 but the buildings allowed offer {capacity:,.0f} m2 "
            f"(short by {space - capacity:,.0f} m2)"
        )
    findings += _forced_findings(
        estate, pairs[pairs["occupier_id"].map(options).eq(1)], cap, mix=not as_stated
    )
    if scenario.max_disposals is not None:
        forced = sum(1 for v in fixed_keep.values() if v is False)
        if forced > scenario.max_disposals:
            findings.append(
                f"max disposals: {forced} buildings are locked out but at most {scenario.max_disposals} may go"
            )
    return findings


def _forced_findings(estate: Estate, only: pd.DataFrame, cap: pd.Series, *, mix: bool) -> list[str]:
    """Occupiers with one option (`only`, their pairs) that overfill it or may not share it."""
    occ = estate.occupiers
    findings: list[str] = []
    need = only["occupier_id"].map(occ["space_m2"]).astype(float).groupby(only["building_id"]).sum()
    for h, space in need[need > cap.reindex(need.index) + 1e-6].items():
        findings.append(
            f"capacity of {h}: occupiers that can go nowhere else need {space:,.0f} m2 but it holds "
            f"{cap[h]:,.0f} m2 (short by {space - cap[h]:,.0f} m2)"
        )
    if not mix:  # with a cost table the services' mix is not modelled
        return findings
    share = _may_share(estate)
    for h, group in only[~only["is_today"]].groupby("building_id"):
        movers = sorted((occ.at[a, "service"], a) for a in group["occupier_id"])
        clash = [
            (a, o) for (s, a), (t, o) in itertools.combinations(movers, 2) if s != t and (s, t) not in share
        ]
        for a, o in clash[:3]:
            findings.append(
                f"occupiers {a} ({occ.at[a, 'service']}) and {o} ({occ.at[o, 'service']}) can only move to "
                f"{h}, but their services may not share a building (see the compatibility table)"
            )
    return findings


# ------------------------------------------------------------------------------------------
# objective and constraint families
# ------------------------------------------------------------------------------------------
def _step(model: _Builder, name: str) -> None:
    """Report the next step with the rows so far; raises StoppedByUser when Stop was pressed."""
    model.steps.step(name, model.problem.numConstraints())


def _add_objective(model: _Builder) -> None:
    """Net present cost in £k (constant parts included, so the value means something)."""
    c = model.costs
    constant = 0.0
    terms: dict[pulp.LpVariable, float] = {}
    for bid in c.index:
        keep_cost, dispose_cost = float(c.at[bid, "keep_cost_k"]), float(c.at[bid, "dispose_cost_k"])
        decided = model.fixed_keep.get(bid)
        if decided is None:
            constant += dispose_cost
            terms[model.keep[bid]] = keep_cost - dispose_cost
        else:
            constant += keep_cost if decided else dispose_cost
    pair_cost = dict(
        zip(
            zip(model.pairs["occupier_id"], model.pairs["building_id"], strict=True),
            model.pairs["cost_k"],
            strict=True,
        )
    )
    for key, var in model.move.items():
        cost = float(pair_cost[key])
        if cost:
            terms[var] = terms.get(var, 0.0) + cost
    for a, h in model.fixed_host.items():
        constant += float(pair_cost[(a, h)])
    problem = model.problem
    problem.setObjective(pulp.LpAffineExpression(terms, constant=constant, name="net_present_cost_gbp_k"))


def _add_housing_rows(model: _Builder) -> None:
    """(1) ``housed_a``: housed once, and (2) ``open_a_h``: only kept buildings house."""
    problem = model.problem
    by_occ: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (a, h), var in model.move.items():
        by_occ[a].append(var)
        if h in model.keep:
            problem.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression([(var, 1.0), (model.keep[h], -1.0)]),
                    pulp.LpConstraintLE,
                    f"open_{a}_{h}",
                    0.0,
                )
            )
    for a, variables in by_occ.items():
        problem.addConstraint(
            pulp.LpConstraint(
                pulp.LpAffineExpression([(v, 1.0) for v in variables]),
                pulp.LpConstraintEQ,
                f"housed_{a}",
                1.0,
            )
        )
    for a, h in model.fixed_host.items():
        if h in model.keep:  # cannot happen: hosts of fixed occupiers are decided as kept
            problem.addConstraint(model.keep[h] == 1, f"housed_{a}")


def _add_capacity_rows(model: _Builder, *, elastic: bool) -> None:
    """(3) ``capacity_h``: space used <= capacity x keep."""
    problem = model.problem
    space = model.estate.occupiers["space_m2"].astype(float).to_dict()
    cap = effective_capacity(model.estate, as_stated=model.cost_table)
    load: dict[str, list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    for (a, h), var in model.move.items():
        load[h].append((var, float(space[a])))
    fixed_load: dict[str, float] = defaultdict(float)
    for a, h in model.fixed_host.items():
        fixed_load[h] += float(space[a])
    slack: dict[str, pulp.LpVariable] = {}
    # a building with no move variable still needs its row when its fixed load is too big
    # (two locked-out occupiers whose only option is the same building, say)
    over = [h for h in fixed_load if h not in load and fixed_load[h] > float(cap[h]) + 1e-9]
    for h in [*load, *over]:
        expr = pulp.LpAffineExpression(load.get(h, []))
        rhs = float(cap[h]) - fixed_load[h]
        if h in model.keep:
            expr.addterm(model.keep[h], -float(cap[h]))
            rhs = -fixed_load[h]
        elif not model.fixed_keep.get(h, True):
            rhs = -fixed_load[h]  # locked out: nothing may stay
        if elastic:
            slack[h] = problem.add_variable(f"slack_capacity_{h}", lowBound=0)
            expr.addterm(slack[h], -1.0)
        problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"capacity_{h}", rhs))
    if elastic:
        model.slacks["capacity"] = slack


def _add_mix_rows(model: _Builder) -> None:
    """(4) ``mix_h_a_o``: movers whose services may not share a building never arrive together.

    An occupier whose only option is a move (its building is locked out) arrives for sure:
    its term is the constant 1, so the other may not come at all.
    """
    if model.cost_table:
        return
    share = _may_share(model.estate)
    service = model.estate.occupiers["service"]
    arrivals = model.pairs[~model.pairs["is_today"]]
    count = 0
    for h, group in arrivals.groupby("building_id"):
        by_service: dict[str, list[str]] = defaultdict(list)
        for a in group["occupier_id"]:
            by_service[service[a]].append(a)
        for s, t in itertools.combinations(sorted(by_service), 2):
            if (s, t) in share:
                continue
            for a, o in itertools.product(by_service[s], by_service[t]):
                terms = [(model.move[k], 1.0) for k in ((a, h), (o, h)) if k in model.move]
                if not terms:  # both forced: `_check_before_solve` reports it
                    continue
                model.problem.addConstraint(
                    pulp.LpConstraint(
                        pulp.LpAffineExpression(terms),
                        pulp.LpConstraintLE,
                        f"mix_{h}_{a}_{o}",
                        float(len(terms) - 1),
                    )
                )
                count += 1
    model.stats["mix_rows"] = count


def _whole_movers(model: _Builder, multi: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, dict[str, float]]:
    """What (5) and (6) work on: the pairs of whole occupiers with more than one option, each
    building's capacity and the space of the occupiers fixed in it."""
    occ = model.estate.occupiers
    space = occ["space_m2"].astype(float).to_dict()
    split = occ["splittable"].astype(bool)
    cap = effective_capacity(model.estate, as_stated=model.cost_table)
    fixed_load: dict[str, float] = defaultdict(float)
    for a, h in model.fixed_host.items():
        fixed_load[h] += float(space[a])
    whole = multi[~split.reindex(multi["occupier_id"]).to_numpy()]
    return whole, cap, fixed_load


def _add_conflict_rows(
    model: _Builder, whole: pd.DataFrame, cap: pd.Series, fixed_load: dict[str, float]
) -> None:
    """(5) ``conflict_h_a_o``: ``move[a, h] + move[o, h] <= keep[h]`` when mover ``a`` and resident
    ``o`` of ``h`` (both whole) do not fit in ``h`` together: ``a`` may arrive only if ``o`` leaves.

    Implied by the capacity row for integer plans, but much tighter in the LP relaxation, which
    otherwise keeps pairs of full buildings "half open" with their occupiers half swapped.
    Not built with a cost table (the benchmarks' plain facility location model).
    """
    if model.cost_table:
        return
    space = model.estate.occupiers["space_m2"].astype(float).to_dict()
    residents = whole[whole["is_today"]].groupby("building_id")["occupier_id"].agg(list)
    arrivals = whole[~whole["is_today"]]
    count = 0
    for a, h in zip(arrivals["occupier_id"], arrivals["building_id"], strict=True):
        room = float(cap[h]) - fixed_load[h]
        for o in residents.get(h, ()):
            if float(space[a]) + float(space[o]) > room + 1e-9:
                # lifted: both need h kept, so their sum is at most keep[h]
                _add_at_most_keep(model, [model.move[(a, h)], model.move[(o, h)]], h, f"conflict_{h}_{a}_{o}")
                count += 1
    model.stats["conflict_rows"] = count


def _add_big_occupier_rows(
    model: _Builder, whole: pd.DataFrame, cap: pd.Series, fixed_load: dict[str, float]
) -> None:
    """(6) ``big_h``: at most one whole occupier bigger than half of ``h``'s free room, if ``h`` is
    kept.

    Any two such occupiers cannot share ``h``, so their moves into ``h`` form a clique: one row
    per building replaces all their pairwise conflicts and is tight in the LP relaxation.
    Not built with a cost table.
    """
    if model.cost_table:
        return
    space = model.estate.occupiers["space_m2"].astype(float).to_dict()
    count = 0
    for h, group in whole.groupby("building_id"):
        room = float(cap[h]) - fixed_load.get(h, 0.0)
        big = [a for a in group["occupier_id"] if float(space[a]) > room / 2 + 1e-9]
        if len(big) < 2:
            continue
        _add_at_most_keep(model, [model.move[(a, h)] for a in big], h, f"big_{h}")
        count += 1
    model.stats["clique_rows"] = count


def _add_at_most_keep(model: _Builder, variables: list[pulp.LpVariable], h: str, name: str) -> None:
    """``sum(variables) <= keep[h]``, or ``<= 1`` when h's fate is decided before the solve."""
    terms = [(var, 1.0) for var in variables]
    if h in model.keep:
        terms.append((model.keep[h], -1.0))
    rhs = 0.0 if h in model.keep else 1.0
    model.problem.addConstraint(
        pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE, name, rhs)
    )


def _add_access_rows(model: _Builder, *, elastic: bool) -> None:
    """(7)-(9) for every standard in force: serve, coverage and share rows, one service at a time."""
    estate = model.estate
    occ = estate.occupiers
    if estate.zones.empty:
        return
    for standard in standards_for(estate, model.scenario):
        _step(model, f"access rows for {service_name(standard.service)}")
        s = standard.service
        members = occ[(occ["service"] == s) & occ["public_facing"].astype(bool)]
        if members.empty:
            _check_standard_has_a_provider(model, standard, elastic=elastic)
            continue
        rows, sites_of_zone, groups, kept_sets = _coverage(model, standard, members, elastic=elastic)
        model.access[s] = rows
        group_ids = {sites: g for g, sites in rows.groups.items()}
        always = set(rows.always_served)
        needed_sites = {h for sites in kept_sets for h in sites}
        if standard.rule == "min_share":
            needed_sites |= {h for sites in groups for h in sites}
        serve = _add_serve_rows(model, s, members.index, needed_sites - always)
        slack = _add_coverage_rows(model, s, serve, kept_sets, group_ids, elastic=elastic)
        if standard.rule == "min_share":
            _check_share_reachable(model, standard, sites_of_zone, elastic=elastic)
            slack |= _add_share_rows(model, standard, serve, groups, group_ids, always, elastic=elastic)
        if elastic:
            model.slacks[f"access:{s}"] = slack
    model.stats["access_rows_before"] = sum(r.rows_before for r in model.access.values())
    model.stats["access_rows_after"] = sum(r.rows_after for r in model.access.values())


def _coverage(
    model: _Builder, standard: AccessStandard, members: pd.DataFrame, *, elastic: bool
) -> tuple[AccessRows, pd.Series, dict[tuple[str, ...], list[str]], list[tuple[str, ...]]]:
    """Which zones must keep reach to the standard's service, grouped by their reachable sites.

    Returns the `AccessRows`, each zone's allowed sites, the zones of each site set, and the site
    sets that need a coverage row (deduplicated, dominated ones dropped).

    Raises
    ------
    InfeasibleScenarioError
        Zones that must keep reach have no building allowed to house the service in reach.

    """
    estate, zones = model.estate, model.estate.zones
    s = standard.service
    pairs = model.pairs[model.pairs["occupier_id"].isin(members.index)]
    candidate_sites = set(pairs["building_id"])
    always = {h for a, h in model.fixed_host.items() if a in members.index}
    reach = reach_pairs(estate, standard)
    today_sites = set(members["building_id"])
    in_reach_today = set(reach.loc[reach["building_id"].isin(today_sites), "zone_id"])
    reach = reach[reach["building_id"].isin(candidate_sites)]
    sites_of_zone = reach.groupby("zone_id")["building_id"].agg(lambda x: tuple(sorted(x)))
    covered_always = {z for z, sites in sites_of_zone.items() if always.intersection(sites)}
    deprived = set()
    if standard.protect_deprived_deciles:
        dec = zones["imd_decile"]
        deprived = set(zones.index[dec.notna() & (dec <= standard.protect_deprived_deciles)])
    if standard.rule == "keep_current":
        hard_zones = in_reach_today
    else:
        hard_zones = in_reach_today & deprived
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for z, sites in sites_of_zone.items():
        groups[sites].append(z)
    group_ids = {sites: g for g, sites in enumerate(sorted(groups))}
    unreachable = tuple(sorted(z for z in hard_zones if z not in sites_of_zone.index))
    if unreachable and not elastic:
        people = float(zones.loc[list(unreachable), "population"].sum())
        msg = f"Scenario {model.scenario.name!r} cannot be met:"
        raise InfeasibleScenarioError(
            msg,
            (
                f"{s} access ({standard.rule}): {len(unreachable)} zone(s) with {people:,.0f} people are "
                f"within reach today, but no building allowed to house {s} is within "
                f"{standard.describe.split(' within ')[1]} of them, e.g. {', '.join(unreachable[:3])} "
                "(check dispose locks and move limits)",
            ),
        )
    hard_sets = sorted(
        {sites_of_zone[z] for z in hard_zones if z in sites_of_zone.index and z not in covered_always},
        key=len,
    )
    kept_sets = _minimal_sets(hard_sets)
    rows = AccessRows(
        standard=standard,
        zones_in_reach_today=len(in_reach_today),
        population_in_reach_today=float(zones.loc[list(in_reach_today), "population"].sum()),
        groups={g: sites for sites, g in group_ids.items()},
        group_zones={group_ids[sites]: zs for sites, zs in groups.items()},
        hard_groups=tuple(group_ids[sites] for sites in kept_sets),
        rows_before=len(hard_zones),
        rows_after=len(kept_sets),
        always_served=frozenset(always),
        unreachable=unreachable,
    )
    return rows, sites_of_zone, groups, kept_sets


def _add_coverage_rows(
    model: _Builder,
    service: str,
    serve: dict[str, pulp.LpVariable],
    kept_sets: list[tuple[str, ...]],
    group_ids: dict[tuple[str, ...], int],
    *,
    elastic: bool,
) -> dict[str, pulp.LpVariable]:
    """(8) ``access_s_g``: each group of zones that must keep reach keeps a site; its slacks."""
    problem = model.problem
    slack: dict[str, pulp.LpVariable] = {}
    for sites in kept_sets:
        g = group_ids[sites]
        expr = pulp.LpAffineExpression([(serve[h], 1.0) for h in sites])
        if elastic:
            slack[str(g)] = problem.add_variable(f"slack_access_{service}_{g}", lowBound=0, upBound=1)
            expr.addterm(slack[str(g)], 1.0)
        problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"access_{service}_{g}", 1.0))
    return slack


def _check_share_reachable(
    model: _Builder, standard: AccessStandard, sites_of_zone: pd.Series, *, elastic: bool
) -> None:
    """A ``min_share`` above the share that every allowed site together reaches cannot be met."""
    zones = model.estate.zones
    total = float(zones["population"].sum())
    best = float(zones.loc[list(sites_of_zone.index), "population"].sum())
    if best < (standard.min_share or 0.0) * total - 1e-6 and not elastic:
        msg = f"Scenario {model.scenario.name!r} cannot be met:"
        raise InfeasibleScenarioError(
            msg,
            (
                f"{standard.service} access: {best / total:.1%} of population reachable with the sites "
                f"allowed; standard asks {pct(standard.min_share)} "
                f"(within {standard.describe.split(' within ')[1]})",
            ),
        )


def _add_share_rows(
    model: _Builder,
    standard: AccessStandard,
    serve: dict[str, pulp.LpVariable],
    groups: dict[tuple[str, ...], list[str]],
    group_ids: dict[tuple[str, ...], int],
    always: set[str],
    *,
    elastic: bool,
) -> dict[str, pulp.LpVariable]:
    """(9) ``reached_s_g`` and ``share_s``: at least ``min_share`` of people keep reach; its slack."""
    problem, zones, s = model.problem, model.estate.zones, standard.service
    total = float(zones["population"].sum())
    share_terms: list[tuple[pulp.LpVariable, float]] = []
    fixed_pop = 0.0
    for sites, zs in groups.items():
        pop = float(zones.loc[zs, "population"].sum())
        if always.intersection(sites):
            fixed_pop += pop
            continue
        g = group_ids[sites]
        var = problem.add_variable(f"reached_{s}_{g}", lowBound=0, upBound=1)
        model.reached[(s, g)] = var
        expr = pulp.LpAffineExpression([(serve[h], -1.0) for h in sites])
        expr.addterm(var, 1.0)
        problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"reached_{s}_{g}", 0.0))
        share_terms.append((var, pop))
    expr = pulp.LpAffineExpression(share_terms)
    rhs = (standard.min_share or 0.0) * total - fixed_pop
    slack: dict[str, pulp.LpVariable] = {}
    if elastic:
        slack["share"] = problem.add_variable(f"slack_share_{s}", lowBound=0)
        expr.addterm(slack["share"], 1.0)
    problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"share_{s}", rhs))
    return slack


def _check_standard_has_a_provider(model: _Builder, standard: AccessStandard, *, elastic: bool) -> None:
    """A ``min_share`` above 0 for a service no public-facing occupier provides cannot be met."""
    zones, occ = model.estate.zones, model.estate.occupiers
    total = float(zones["population"].sum())
    if elastic or standard.rule != "min_share" or not (standard.min_share or 0.0) * total > 0:
        return
    back_office = int((occ["service"] == standard.service).sum())
    why = (
        f"its {back_office} occupier(s) are not public-facing"
        if back_office
        else "no occupier provides it (check the service name against the occupiers table)"
    )
    msg = f"Scenario {model.scenario.name!r} cannot be met:"
    raise InfeasibleScenarioError(
        msg,
        (
            f"{standard.service} access: standard asks {pct(standard.min_share)} of people within "
            f"{standard.describe.split(' within ')[1]}, but no site can offer {standard.service}: {why}",
        ),
    )


def _add_serve_rows(
    model: _Builder, service: str, members: pd.Index, sites: set[str]
) -> dict[str, pulp.LpVariable]:
    """(7) ``serve_h_s``: serve[h, s] <= the service's occupiers housed at h, and
    ``serve_open_h_s``: serve[h, s] <= keep[h]. Returns the new serve variables by site."""
    problem = model.problem
    at_site: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (a, h), var in model.move.items():
        if h in sites and a in members:
            at_site[h].append(var)
    serve: dict[str, pulp.LpVariable] = {}
    for h in sorted(sites):
        var = problem.add_variable(f"serve_{h}_{service}", lowBound=0, upBound=1)
        serve[h] = var
        model.serve[(h, service)] = var
        expr = pulp.LpAffineExpression([(v, -1.0) for v in at_site.get(h, [])])
        expr.addterm(var, 1.0)
        problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"serve_{h}_{service}", 0.0))
        if h in model.keep:  # a site offers a service only if it is kept (tight in the LP)
            problem.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression([(var, 1.0), (model.keep[h], -1.0)]),
                    pulp.LpConstraintLE,
                    f"serve_open_{h}_{service}",
                    0.0,
                )
            )
    return serve


def _minimal_sets(sets: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop duplicates and every set that contains another (its row is implied).

    `sets` must be sorted by size. Uses an index on each kept set's smallest element.
    """
    kept: list[frozenset[str]] = []
    by_first: dict[str, list[frozenset[str]]] = defaultdict(list)
    out: list[tuple[str, ...]] = []
    seen: set[tuple[str, ...]] = set()
    for sites in sets:
        if sites in seen:
            continue
        seen.add(sites)
        candidate = frozenset(sites)
        if any(k <= candidate for h in sites for k in by_first.get(h, ())):
            continue
        kept.append(candidate)
        by_first[min(candidate)].append(candidate)
        out.append(sites)
    return out


def _add_limit_rows(model: _Builder, *, elastic: bool) -> None:
    """(10) optional ``capital_budget``, ``receipts_target``, ``max_disposals`` and ``carbon_cap``."""
    scenario, c, problem = model.scenario, model.costs, model.problem
    b = model.estate.buildings
    slack: dict[str, pulp.LpVariable] = {}

    def add(name: str, expr: pulp.LpAffineExpression, sense: int, rhs: float) -> None:
        if elastic:
            slack[name] = problem.add_variable(f"slack_{name}", lowBound=0)
            expr.addterm(slack[name], -1.0 if sense == pulp.LpConstraintLE else 1.0)
        problem.addConstraint(pulp.LpConstraint(expr, sense, name, rhs))

    gone = [(bid, var) for bid, var in model.keep.items()]
    forced_out = [bid for bid, kept in model.fixed_keep.items() if kept is False]
    if scenario.capital_budget_gbp is not None:
        one_off = c["disposal_cost_k"] + c["lease_exit_k"]
        terms = [(var, -float(one_off[bid])) for bid, var in gone]
        pair_cost = dict(
            zip(
                zip(model.pairs["occupier_id"], model.pairs["building_id"], strict=True),
                model.pairs["cost_k"],
                strict=True,
            )
        )
        terms += [(var, float(pair_cost[key])) for key, var in model.move.items() if pair_cost[key]]
        constant = float(one_off[[bid for bid, _ in gone]].sum() + one_off[forced_out].sum())
        constant += sum(float(pair_cost[key]) for key in model.fixed_host.items())  # forced moves
        add(
            "capital_budget",
            pulp.LpAffineExpression(terms),
            pulp.LpConstraintLE,
            scenario.capital_budget_gbp / 1000 - constant,
        )
    if scenario.receipts_target_gbp is not None:
        receipt = c["receipt_k"]
        terms = [(var, -float(receipt[bid])) for bid, var in gone]
        constant = float(receipt[[bid for bid, _ in gone]].sum() + receipt[forced_out].sum())
        add(
            "receipts_target",
            pulp.LpAffineExpression(terms),
            pulp.LpConstraintGE,
            scenario.receipts_target_gbp / 1000 - constant,
        )
    if scenario.max_disposals is not None:
        terms = [(var, -1.0) for _, var in gone]
        add(
            "max_disposals",
            pulp.LpAffineExpression(terms),
            pulp.LpConstraintLE,
            scenario.max_disposals - len(gone) - len(forced_out),
        )
    if scenario.carbon_cap_tco2e is not None:
        carbon = b["carbon_tco2e"].fillna(0.0)
        terms = [(var, float(carbon[bid])) for bid, var in gone]
        constant = float(carbon[[bid for bid, kept in model.fixed_keep.items() if kept]].sum())
        add(
            "carbon_cap",
            pulp.LpAffineExpression(terms),
            pulp.LpConstraintLE,
            scenario.carbon_cap_tco2e - constant,
        )
    if elastic:
        model.slacks["limits"] = slack


def _add_partner_rows(model: _Builder, floors_gbp: Mapping[str, float] | None, *, elastic: bool) -> None:
    """(11) ``fair_<n>``: no partner worse off under the sharing rule (`optimiser.model_partners`)."""
    slacks = fairness_rows(
        model.estate,
        model.scenario,
        model.problem,
        floors_gbp,
        elastic=elastic,
        keep=model.keep,
        move=model.move,
        fixed_keep=model.fixed_keep,
        fixed_host=model.fixed_host,
        pairs=model.pairs,
        costs=model.costs,
    )
    if slacks:
        model.slacks[FAIRNESS_FAMILY] = slacks


def _start_from_today(model: _Builder) -> dict[str, float]:
    """Today's estate as a solution: every building kept, every occupier where it is."""
    today = model.pairs.loc[model.pairs["is_today"]]
    moves = dict.fromkeys(zip(today["occupier_id"], today["building_id"], strict=True), 1.0)
    return start_from_decisions(model, dict.fromkeys(model.keep, True), moves)


def start_from_decisions(
    model: EstateModel | _Builder, keep: dict[str, bool], moves: dict[tuple[str, str], float]
) -> dict[str, float]:
    """A complete starting solution, by variable name, from kept buildings and occupier shares.

    `moves` maps (occupier, building) to a share; pairs the model lacks are ignored, missing
    ones are 0. The service and reach variables are set to match.
    """
    start: dict[str, float] = {var.name: 1.0 if keep.get(b, True) else 0.0 for b, var in model.keep.items()}
    for key, var in model.move.items():
        start[var.name] = float(moves.get(key, 0.0))
    occ = model.estate.occupiers
    offered: set[tuple[str, str]] = {
        (h, str(occ.at[a, "service"])) for (a, h), v in moves.items() if v > 1e-9
    }
    offered |= {(h, str(occ.at[a, "service"])) for a, h in model.fixed_host.items()}
    for (h, s), var in model.serve.items():
        start[var.name] = 1.0 if (h, s) in offered and keep.get(h, True) else 0.0
    for (s, g), var in model.reached.items():
        sites = model.access[s].groups[g]
        start[var.name] = 1.0 if any((h, s) in offered and keep.get(h, True) for h in sites) else 0.0
    return start
