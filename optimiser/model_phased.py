"""The programme over time: the phased MILP (`build_phased_model`), one joint multi-period model.

Years ``t = 0..T`` of the appraisal period (``T = scenario.years``; year 0 is
``scenario.start_year``). An *event* (a disposal, a lease exit, a move) happens at a time
``d`` in ``0..T-1`` and changes the estate from year ``d + 1``: a building disposed of at ``d``
costs nothing in years ``d+1..T``; an occupier that moves at ``d`` is in its new building from
year ``d + 1``. Money in £k; ``df_t = (1 + rate)^-t``.

The model is the static model of `optimiser.model.build_model` (its rows describe the estate
at the end of the period, year ``T``) with, on top, per building that may go and per
(occupier, new building) pair:

- ``gone[b, t]`` binary, ``t = 1..T-1``: ``b`` is gone in year ``t``; monotone
  (``gone[b, t] <= gone[b, t+1]``), ``gone[b, T] = 1 - keep[b]``. Its disposal time is the
  first ``t`` with ``gone = 1``, less one. A time at which ``b`` may not leave (a lease
  between breaks without early exit, a receipt that would arrive after year ``T``) is not a
  variable at all: ``gone[b, d+1]`` *is* ``gone[b, d]``.
- ``arrive[a, h, t]`` (binary; a share in [0, 1] for a splittable occupier), ``t = 1..T-1``:
  the part of ``a`` in ``h`` (not its building today) in year ``t``; monotone,
  ``arrive[a, h, T] = move[a, h]``; 0 before the fit-out lead time. Each occupier (or share)
  moves once, straight from its building today to its building at the end.

Objective (net present cost, the static objective's meaning, timed)::

    sum_b sum_{t=1..T} (1 - gone[b, t]) (running_b + backlog_b / AF) df_t
  + sum_b sum_d event_b(d) ((disposal_b + exit_b(d)) df_d - receipt_b df_{d+lag})
  + sum_{a,h} sum_d (arrive[a, h, d+1] - arrive[a, h, d]) move_cost_a df_d

where ``event_b(d) = gone[b, d+1] - gone[b, d]``. The backlog is spread evenly (as an
annuity) over the years a building is kept, so keeping it to the end costs exactly the
static ``backlog_b``. ``exit_b(d)`` is 0 for a freehold, at a leasehold's break year and from
its lease end on (a lease kept past its end is taken as renewed on the same rent, year to
year); otherwise ``lease_exit_share x rent x AF(next - d)`` valued at ``d``, ``next`` the
next break or the lease end (at most ``T``, as in the static model). With every timing rule
off, putting every event at time 0 is the static plan at the static cost, so the phased
optimum is at most the static one.

Rows added for every year ``t = 1..T-1`` (year ``T`` is the static model's own rows):

- ``leave_a_t``: ``sum_h arrive[a, h, t] >= gone[b, t]`` for an occupier ``a`` of ``b``
  today: a building goes only after every occupier has left it.
- ``cap_h_t``: residents still there plus arrivals ``<= capacity_h (1 - gone[h, t])``.
- ``access_s_g_t`` / ``share_s_t``: every access standard, with ``serve_t[h, s] <=`` the
  presence of the service's occupiers at ``h`` in year ``t`` and ``<= 1 - gone[h, t]``.
- ``arrive[a, h, t] <= move[a, h] <= keep[h]``: a team moves only into a building kept to the
  end (monotonicity and the static ``open`` rows).

and for every event time ``d = 0..T-1`` (all optional): ``disposals_d`` (at most N
buildings leave), ``moves_d`` (at most M occupiers move; a split occupier counts once a year
through a binary), ``budget_d`` (one-off costs of the year), and for every year ``t = 0..T``
``cash_t``: cumulative receipts less cumulative one-off costs plus the upfront investment
``>= 0``. The whole-period capital budget counts the timed one-off costs (undiscounted).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pulp

from estate import Estate
from optimiser.access import reach_pairs, standards_for
from optimiser.costs import RENT_SHARE_IF_UNKNOWN, ROUTE_LEASE
from optimiser.errors import InfeasibleScenarioError, ScenarioError
from optimiser.model import EstateModel, _minimal_sets, build_model, effective_capacity, start_from_decisions
from optimiser.scenario import Scenario, annuity_factor
from optimiser.stages import NO_STEPS, Steps

Lin = tuple[tuple[tuple[pulp.LpVariable, float], ...], float]  # (terms, constant): a linear form
ZERO: Lin = ((), 0.0)
ONE: Lin = ((), 1.0)


def _var(var: pulp.LpVariable) -> Lin:
    return (((var, 1.0),), 0.0)


def _not(var: pulp.LpVariable) -> Lin:
    return (((var, -1.0),), 1.0)


class _Acc:
    """A linear form being summed: ``add(lin, k)`` adds ``k * lin``."""

    def __init__(self) -> None:
        self.terms: dict[pulp.LpVariable, float] = defaultdict(float)
        self.const = 0.0

    def add(self, lin: Lin, k: float = 1.0) -> _Acc:
        for var, c in lin[0]:
            self.terms[var] += k * c
        self.const += k * lin[1]
        return self

    def expr(self) -> pulp.LpAffineExpression:
        return pulp.LpAffineExpression([(v, c) for v, c in self.terms.items() if c != 0.0])

    def row(self, problem: pulp.LpProblem, sense: int, rhs: float, name: str) -> None:
        """Add ``self (sense) rhs`` unless it has no variable (then it must hold as it is)."""
        expr = self.expr()
        if len(expr) == 0:
            ok = {
                pulp.LpConstraintLE: self.const <= rhs + 1e-9,
                pulp.LpConstraintGE: self.const >= rhs - 1e-9,
                pulp.LpConstraintEQ: abs(self.const - rhs) <= 1e-9,
            }[sense]
            if not ok:  # a constant row that fails: keep it, so the solver reports infeasible
                problem.addConstraint(pulp.LpConstraint(expr, sense, name, rhs - self.const))
            return
        problem.addConstraint(pulp.LpConstraint(expr, sense, name, rhs - self.const))


def lin_value(lin: Lin) -> float:
    """The value of a linear form at the variables' current values."""
    return lin[1] + sum(c * (v.value() or 0.0) for v, c in lin[0])


@dataclass(frozen=True, eq=False)
class Timing:
    """The year structure of a phased model: every slot by domain ID, and the money by year."""

    years: int
    start_year: int
    rate: float
    lag: int
    gone: dict[str, list[Lin]]  # building -> gone in year t, t = 0..T
    arrive: dict[tuple[str, str], list[Lin]]  # (occupier, new building) -> part there in year t
    allowed: dict[str, tuple[int, ...]]  # building -> event times it may leave at
    exit_k: dict[str, list[float]]  # leasehold -> exit cost (£k, valued at d) for d = 0..T-1
    yearly_k: dict[str, float]  # building -> running + backlog share a year (£k)
    receipt_k: dict[str, float]
    disposal_k: dict[str, float]
    move_k: dict[tuple[str, str], float]  # the whole move's cost
    today_running_k: float  # every building's running + backlog share a year
    fixed_yearly_k: float  # running + backlog share of buildings kept for sure, a year
    left: dict[str, list[Lin]] = field(default_factory=dict)  # whole occupier -> moved by year t
    serve: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    reached: dict[tuple[str, int, int], pulp.LpVariable] = field(default_factory=dict)
    reached_sites: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    counted: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)  # split movers


@dataclass(frozen=True, eq=False)
class PhasedModel(EstateModel):
    """An `EstateModel` whose objective is the timed net present cost, with its `Timing`."""

    timing: Timing | None = None
    static_scenario: Scenario | None = None


def discount(t: float, rate: float) -> float:
    """Green Book discount factor of year `t`."""
    return float((1 + rate) ** -t)


def event_times(
    estate: Estate, scenario: Scenario, route: pd.Series, receipt_k: pd.Series
) -> dict[str, tuple[int, ...]]:
    """Event times ``0..T-1`` at which each building may leave (see the module docstring)."""
    b = estate.buildings
    T, lag, start = scenario.years, scenario.receipt_lag_years, scenario.start_year
    out: dict[str, tuple[int, ...]] = {}
    for bid in b.index:
        times: list[int] = list(range(T))
        if route[bid] == ROUTE_LEASE and not scenario.allow_early_lease_exit:
            k, e = _offset(b.at[bid, "break_year"], start), _offset(b.at[bid, "lease_end_year"], start)
            times = [d for d in times if d == k or (e is not None and d >= e)]
        elif receipt_k[bid] > 0:
            times = [d for d in times if d + lag <= T]
        out[bid] = tuple(times)
    return out


def _offset(year: Any, start: int) -> int | None:
    if year is None or pd.isna(year):
        return None
    return max(0, int(year) - start)


def lease_exit_by_time(estate: Estate, scenario: Scenario, running_k: pd.Series) -> dict[str, list[float]]:
    """Per leasehold, the exit cost (£k, valued at the exit time) at each time ``d = 0..T-1``.

    Nothing at the break year or from the lease end on; otherwise `lease_exit_share` of the
    rent until the next break or the lease end (at most the end of the period), discounted to
    ``d``. At ``d = 0`` this is the static model's lease exit (`optimiser.costs`).
    """
    b = estate.buildings
    T, start = scenario.years, scenario.start_year
    rent = (b["rent_gbp"] / 1000).fillna(running_k * RENT_SHARE_IF_UNKNOWN)
    out: dict[str, list[float]] = {}
    for bid in b.index[b["tenure"] == "leasehold"]:
        k, e = _offset(b.at[bid, "break_year"], start), _offset(b.at[bid, "lease_end_year"], start)
        costs = []
        for d in range(T):
            if d == k or (e is not None and d >= e):
                costs.append(0.0)
                continue
            ahead = [y for y in (k, e) if y is not None and y >= d]
            until = min(min(ahead) if ahead else T, T)
            costs.append(
                scenario.lease_exit_share
                * float(rent[bid])
                * annuity_factor(until - d, scenario.discount_rate)
            )
        out[bid] = costs
    return out


def build_phased_model(estate: Estate, scenario: Scenario, *, steps: Steps | None = None) -> PhasedModel:
    """The joint multi-period MILP of the module docstring, on the static model's rows.

    Raises
    ------
    ScenarioError, InfeasibleScenarioError
        As `optimiser.model.build_model` (the end state must meet every static rule).
    StoppedByUser
        The cancel event of `steps` (progress and Stop, `optimiser.stages`) was set.

    """
    if not scenario.phased:
        msg = f"Scenario {scenario.name!r}: phasing.phased is false; use optimiser.model.build_model."
        raise ScenarioError(msg)
    # the whole-period capital budget counts timed costs: the phased rows below replace it
    steps = NO_STEPS if steps is None else steps
    static = build_model(estate, scenario.with_changes(capital_budget_gbp=None), steps=steps)
    steps.step("the years of each decision", static.problem.numConstraints())
    T, rate = scenario.years, scenario.discount_rate
    af = scenario.annuity_factor
    c = static.costs
    b, occ = estate.buildings, estate.occupiers
    problem = static.problem
    yearly = (c["running_k"] + c["backlog_k"] / af).astype(float)
    allowed = event_times(estate, scenario, c["route"], c["receipt_k"])
    exit_k = lease_exit_by_time(estate, scenario, c["running_k"])

    _check_locked_out(estate, scenario, static, allowed)
    gone: dict[str, list[Lin]] = {}
    changing = [bid for bid in b.index if static.fixed_keep.get(bid) is not True]
    for bid in changing:
        slots: list[Lin] = [ZERO]
        times = set(allowed[bid])
        for t in range(1, T):
            if (t - 1) in times:
                slots.append(_var(problem.add_variable(f"gone_{bid}_{t}", cat=pulp.LpBinary)))
            else:
                slots.append(slots[-1])
        end = ONE if bid not in static.keep else _not(static.keep[bid])
        slots.append(end)
        gone[bid] = slots
        for t in range(2, T + 1):  # monotone; equality at T when T-1 is not an event time
            if slots[t] is slots[t - 1] or not slots[t - 1][0]:
                continue
            acc = _Acc().add(slots[t - 1]).add(slots[t], -1.0)
            last = t == T and (T - 1) not in times
            acc.row(
                problem, pulp.LpConstraintEQ if last else pulp.LpConstraintLE, 0.0, f"gone_order_{bid}_{t}"
            )
        if (T - 1) not in times and not slots[T - 1][0]:  # no way to leave: must stay
            _Acc().add(end).row(problem, pulp.LpConstraintEQ, 0.0, f"gone_never_{bid}")

    home = occ["building_id"].to_dict()
    split = occ["splittable"].astype(bool).to_dict()
    pair_cost = dict(
        zip(
            zip(static.pairs["occupier_id"], static.pairs["building_id"], strict=True),
            static.pairs["cost_k"],
            strict=True,
        )
    )
    lead = scenario.fit_out_lead_years
    arrive: dict[tuple[str, str], list[Lin]] = {}
    ends: dict[tuple[str, str], Lin] = {
        key: _var(var) for key, var in static.move.items() if key[1] != home[key[0]]
    }
    ends |= {(a, h): ONE for a, h in static.fixed_host.items() if h != home[a]}
    for (a, h), end in ends.items():
        cat = pulp.LpContinuous  # a whole occupier's part follows its binary `left` (below)
        slots = [ZERO]
        for t in range(1, T):
            if t - 1 < lead:
                slots.append(ZERO)
            else:
                slots.append(
                    _var(problem.add_variable(f"arrive_{a}_{h}_{t}", lowBound=0, upBound=1, cat=cat))
                )
        slots.append(end)
        arrive[(a, h)] = slots
        for t in range(2, T + 1):
            if not slots[t - 1][0]:
                continue
            _Acc().add(slots[t - 1]).add(slots[t], -1.0).row(
                problem, pulp.LpConstraintLE, 0.0, f"arrive_order_{a}_{h}_{t}"
            )
        if T - 1 < lead and end[0]:  # no move can be ready within the period
            _Acc().add(end).row(problem, pulp.LpConstraintEQ, 0.0, f"no_fit_out_{a}_{h}")
    left = _add_left(problem, static, arrive, home, split, T)

    timing = Timing(
        years=T,
        start_year=scenario.start_year,
        rate=rate,
        lag=scenario.receipt_lag_years,
        gone=gone,
        arrive=arrive,
        allowed=allowed,
        exit_k=exit_k,
        yearly_k=yearly.to_dict(),
        receipt_k=c["receipt_k"].astype(float).to_dict(),
        disposal_k=c["disposal_cost_k"].astype(float).to_dict(),
        move_k={key: float(pair_cost[key]) for key in arrive},
        left=left,
        today_running_k=float(yearly.sum()),
        fixed_yearly_k=float(yearly[[bid for bid in b.index if bid not in gone]].sum()),
    )
    _set_objective(problem, timing)
    rows_before = problem.numConstraints()
    steps.step("yearly leaving rows", problem.numConstraints())
    _add_leave_rows(problem, timing, occ)
    steps.step("yearly capacity rows", problem.numConstraints())
    _add_year_capacity_rows(problem, timing, estate, static)
    steps.step("yearly conflict rows", problem.numConstraints())
    _add_year_conflict_rows(problem, timing, estate)
    steps.step("yearly access and limit rows", problem.numConstraints())
    if scenario.access_enabled and not static.cost_table:
        _add_year_access_rows(problem, timing, estate, scenario)
    _add_year_limit_rows(problem, timing, scenario, split)
    steps.step("the starting plan (today's estate)", problem.numConstraints())
    today = _today_start(static, timing)
    steps.check()
    objective = problem.objective
    today_cost = (
        float(objective.constant + sum(coef * today.get(v.name, 0.0) for v, coef in objective.items()))
        if today
        else math.nan
    )
    stats = {
        **static.stats,
        "variables": len(problem.variables()),
        "constraints": problem.numConstraints(),
        "phased_rows": problem.numConstraints() - rows_before,
        "phased_years": T,
        "buildings_timed": len(gone),
        "moves_timed": len(arrive),
    }
    fields = {f: getattr(static, f) for f in EstateModel.__dataclass_fields__}
    fields |= {
        "scenario": scenario,
        "stats": stats,
        "start": today if scenario.warm_start else {},
        "today_cost": today_cost,
    }
    return PhasedModel(**fields, timing=timing, static_scenario=static.scenario)


def _add_left(
    problem: pulp.LpProblem,
    static: EstateModel,
    arrive: dict[tuple[str, str], list[Lin]],
    home: dict[str, str],
    split: dict[str, bool],
    T: int,
) -> dict[str, list[Lin]]:
    """``left[a, t]`` binary for each whole occupier that may move: it has moved by year ``t``;
    monotone, ``left[a, T] = 1 - move[a, today]``, and ``sum_h arrive[a, h, t] = left[a, t]``
    (so its parts, continuous, are whole: one binary per occupier and year, not per pair)."""
    hosts: dict[str, list[str]] = defaultdict(list)
    for a, h in arrive:
        hosts[a].append(h)
    left: dict[str, list[Lin]] = {}
    for a, dest in hosts.items():
        if split.get(a, False):
            continue
        stay = static.move.get((a, home[a]))
        end = ONE if stay is None else _not(stay)
        slots: list[Lin] = [ZERO]
        for t in range(1, T):
            if all(not arrive[(a, h)][t][0] for h in dest):
                slots.append(ZERO)
                continue
            var = problem.add_variable(f"left_{a}_{t}", cat=pulp.LpBinary)
            slots.append(_var(var))
            acc = _Acc().add(_var(var), -1.0)
            for h in dest:
                acc.add(arrive[(a, h)][t])
            acc.row(problem, pulp.LpConstraintEQ, 0.0, f"left_{a}_{t}")
        slots.append(end)
        for t in range(2, T):
            if slots[t - 1][0]:
                _Acc().add(slots[t - 1]).add(slots[t], -1.0).row(
                    problem, pulp.LpConstraintLE, 0.0, f"left_order_{a}_{t}"
                )
        left[a] = slots
    return left


def _check_locked_out(
    estate: Estate, scenario: Scenario, static: EstateModel, allowed: dict[str, tuple[int, ...]]
) -> None:
    """A locked-out building must leave within the period, after its occupiers can move."""
    occ = estate.occupiers
    lead = scenario.fit_out_lead_years if scenario.allow_moves else scenario.years
    findings = []
    for bid in [b for b, kept in static.fixed_keep.items() if kept is False]:
        housed = occ.index[occ["building_id"] == bid]
        earliest = lead if len(housed) else 0
        times = [d for d in allowed[bid] if d >= earliest]
        if not times:
            when = ", ".join(str(scenario.start_year + d) for d in allowed[bid]) or "no year"
            findings.append(
                f"building {bid} is locked out but may leave only in {when} (lease dates, "
                f"phasing.receipt_lag_years = {scenario.receipt_lag_years}), and its {len(housed)} "
                f"occupier(s) can move only from {scenario.start_year + earliest} "
                f"(phasing.fit_out_lead_years = {scenario.fit_out_lead_years})"
            )
    if findings:
        msg = f"Scenario {scenario.name!r} cannot be met:"
        raise InfeasibleScenarioError(msg, tuple(findings))


def event(slots: list[Lin], d: int) -> Lin:
    """``slots[d+1] - slots[d]``: the event at time `d`."""
    a, b = slots[d + 1], slots[d]
    return (a[0] + tuple((v, -c) for v, c in b[0]), a[1] - b[1])


def one_off_at(timing: Timing, d: int) -> _Acc:
    """One-off costs (£k, undiscounted) at time `d`: moves, disposal costs, lease exits."""
    acc = _Acc()
    if d >= timing.years:
        return acc
    for bid, slots in timing.gone.items():
        cost = timing.disposal_k[bid] + (timing.exit_k[bid][d] if bid in timing.exit_k else 0.0)
        if cost:
            acc.add(event(slots, d), cost)
    for key, slots in timing.arrive.items():
        if timing.move_k[key]:
            acc.add(event(slots, d), timing.move_k[key])
    return acc


def receipts_at(timing: Timing, t: int) -> _Acc:
    """Receipts (£k, undiscounted) arriving in year `t`."""
    acc = _Acc()
    d = t - timing.lag
    if 0 <= d < timing.years:
        for bid, slots in timing.gone.items():
            if timing.receipt_k[bid]:
                acc.add(event(slots, d), timing.receipt_k[bid])
    return acc


def _set_objective(problem: pulp.LpProblem, timing: Timing) -> None:
    T, rate = timing.years, timing.rate
    acc = _Acc()
    acc.const += timing.fixed_yearly_k * sum(discount(t, rate) for t in range(1, T + 1))
    for bid, slots in timing.gone.items():
        for t in range(1, T + 1):
            acc.add(ONE, timing.yearly_k[bid] * discount(t, rate)).add(
                slots[t], -timing.yearly_k[bid] * discount(t, rate)
            )
    for d in range(T):
        acc.add(_lin_of(one_off_at(timing, d)), discount(d, rate))
    for t in range(T + 1):
        acc.add(_lin_of(receipts_at(timing, t)), -discount(t, rate))
    expr = acc.expr()
    problem.setObjective(
        pulp.LpAffineExpression(list(expr.items()), constant=acc.const, name="net_present_cost_gbp_k")
    )


def _lin_of(acc: _Acc) -> Lin:
    return (tuple(acc.terms.items()), acc.const)


def _destinations(timing: Timing) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for a, h in timing.arrive:
        out[a].append(h)
    return out


def _add_leave_rows(problem: pulp.LpProblem, timing: Timing, occ: pd.DataFrame) -> None:
    """``leave_a_t``: a building is gone only once each of its occupiers has left it."""
    dest = _destinations(timing)
    for a, b in occ["building_id"].items():
        if b not in timing.gone:
            continue
        for t in range(1, timing.years):
            if not timing.gone[b][t][0]:
                continue
            acc = _Acc()
            if a in timing.left:
                acc.add(timing.left[a][t])
            else:
                for h in dest.get(a, ()):
                    acc.add(timing.arrive[(a, h)][t])
            acc.add(timing.gone[b][t], -1.0).row(problem, pulp.LpConstraintGE, 0.0, f"leave_{a}_{t}")


def presence(timing: Timing, occ: pd.DataFrame, t: int) -> dict[str, list[tuple[str, Lin]]]:
    """Per building, (occupier, part there in year `t`) for every occupier that may be there."""
    dest = _destinations(timing)
    out: dict[str, list[tuple[str, Lin]]] = defaultdict(list)
    for a, b in occ["building_id"].items():
        stay = _Acc().add(ONE)
        for h in dest.get(a, ()):
            stay.add(timing.arrive[(a, h)][t], -1.0)
            out[h].append((a, timing.arrive[(a, h)][t]))
        out[b].append((a, _lin_of(stay)))
    return out


def _add_year_capacity_rows(
    problem: pulp.LpProblem, timing: Timing, estate: Estate, static: EstateModel
) -> None:
    """``cap_h_t``: each building that may receive holds its occupiers in every year."""
    occ = estate.occupiers
    space = occ["space_m2"].astype(float).to_dict()
    cap = effective_capacity(estate)
    receiving = {h for _, h in timing.arrive}
    for t in range(1, timing.years):
        there = presence(timing, occ, t)
        for h in sorted(receiving):
            acc = _Acc()
            for a, part in there.get(h, ()):
                acc.add(part, space[a])
            if h in timing.gone:
                acc.add(timing.gone[h][t], float(cap[h]))
            acc.row(problem, pulp.LpConstraintLE, float(cap[h]), f"cap_{h}_{t}")


def _add_year_conflict_rows(problem: pulp.LpProblem, timing: Timing, estate: Estate) -> None:
    """``after_h_a_o_t``: a whole occupier ``a`` arrives in ``h`` only once a whole resident
    ``o`` of ``h`` that does not fit beside it has left (the static conflict rows, by year;
    implied by capacity for integer plans, much tighter in the LP relaxation)."""
    occ = estate.occupiers
    space = occ["space_m2"].astype(float).to_dict()
    split = occ["splittable"].astype(bool).to_dict()
    cap = effective_capacity(estate)
    dest = _destinations(timing)
    residents: dict[str, list[str]] = defaultdict(list)
    stuck: dict[str, float] = defaultdict(float)
    for o, h in occ["building_id"].items():
        if dest.get(o):
            if not split.get(o, False):
                residents[h].append(o)
        else:
            stuck[h] += space[o]
    for (a, h), slots in timing.arrive.items():
        if split.get(a, False):
            continue
        room = float(cap[h]) - stuck[h]
        for o in residents.get(h, ()):
            if space[a] + space[o] <= room + 1e-9:
                continue
            for t in range(1, timing.years):
                if not slots[t][0]:
                    continue
                acc = _Acc().add(slots[t]).add(timing.left[o][t], -1.0)
                acc.row(problem, pulp.LpConstraintLE, 0.0, f"after_{h}_{a}_{o}_{t}")


def year_access_groups(estate: Estate, scenario: Scenario, timing: Timing) -> list[dict[str, Any]]:
    """Per access standard in force: its members, candidate sites, hard site sets, zone groups.

    The zones that must keep reach are the static model's (within reach today under
    ``keep_current``; within reach today and deprived under ``min_share``); their sets of
    candidate sites (every building a member is in today or may move to) are deduplicated and
    dominated ones dropped, as in the static model.
    """
    occ, zones = estate.occupiers, estate.zones
    if zones.empty:
        return []
    dest = _destinations(timing)
    out = []
    for standard in standards_for(estate, scenario):
        s = standard.service
        members = occ[(occ["service"] == s) & occ["public_facing"].astype(bool)]
        if members.empty:
            continue
        sites = set(members["building_id"]) | {h for a in members.index for h in dest.get(a, ())}
        always = {h for a, h in members["building_id"].items() if not dest.get(a) and h not in timing.gone}
        reach = reach_pairs(estate, standard)
        in_reach_today = set(reach.loc[reach["building_id"].isin(set(members["building_id"])), "zone_id"])
        reach = reach[reach["building_id"].isin(sites)]
        sites_of_zone = reach.groupby("zone_id")["building_id"].agg(lambda x: tuple(sorted(x)))
        if standard.rule == "keep_current":
            hard = in_reach_today
        else:
            dec = zones["imd_decile"]
            deciles = standard.protect_deprived_deciles
            hard = in_reach_today & set(zones.index[dec.notna() & (dec <= deciles)]) if deciles else set()
        hard_sets = sorted(
            {
                sites_of_zone[z]
                for z in hard
                if z in sites_of_zone.index and not always.intersection(sites_of_zone[z])
            },
            key=len,
        )
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for z, zs in sites_of_zone.items():
            groups[zs].append(z)
        out.append(
            {
                "standard": standard,
                "members": set(members.index),
                "always": always,
                "hard_sets": _minimal_sets(hard_sets),
                "groups": dict(groups),
            }
        )
    return out


def _add_year_access_rows(
    problem: pulp.LpProblem, timing: Timing, estate: Estate, scenario: Scenario
) -> None:
    """``serve_t``, ``access_s_g_t`` and ``share_s_t``: every access standard in every year."""
    occ, zones = estate.occupiers, estate.zones
    total = float(zones["population"].sum()) if not zones.empty else 0.0
    for spec in year_access_groups(estate, scenario, timing):
        standard, members, always = spec["standard"], spec["members"], spec["always"]
        s = standard.service
        needed = {h for sites in spec["hard_sets"] for h in sites}
        if standard.rule == "min_share":
            needed |= {h for sites in spec["groups"] for h in sites}
        needed -= always
        for t in range(1, timing.years):
            there = presence(timing, occ, t)
            serve: dict[str, Lin] = dict.fromkeys(always, ONE)
            for h in sorted(needed):
                var = problem.add_variable(f"serve_{h}_{s}_{t}", lowBound=0, upBound=1)
                timing.serve[(h, s, t)] = var
                serve[h] = _var(var)
                acc = _Acc().add(_var(var))
                for a, part in there.get(h, ()):
                    if a in members:
                        acc.add(part, -1.0)
                acc.row(problem, pulp.LpConstraintLE, 0.0, f"serve_{h}_{s}_{t}")
                if h in timing.gone:
                    _Acc().add(_var(var)).add(timing.gone[h][t]).row(
                        problem, pulp.LpConstraintLE, 1.0, f"serve_open_{h}_{s}_{t}"
                    )
            for g, sites in enumerate(spec["hard_sets"]):
                acc = _Acc()
                for h in sites:
                    acc.add(serve[h])
                acc.row(problem, pulp.LpConstraintGE, 1.0, f"access_{s}_{g}_{t}")
            if standard.rule != "min_share":
                continue
            share = _Acc()
            for g, (sites, zs) in enumerate(sorted(spec["groups"].items())):
                pop = float(zones.loc[zs, "population"].sum())
                if always.intersection(sites):
                    share.const += pop
                    continue
                var = problem.add_variable(f"reached_{s}_{g}_{t}", lowBound=0, upBound=1)
                timing.reached[(s, g, t)] = var
                timing.reached_sites[(s, g)] = sites
                acc = _Acc().add(_var(var))
                for h in sites:
                    acc.add(serve[h], -1.0)
                acc.row(problem, pulp.LpConstraintLE, 0.0, f"reached_{s}_{g}_{t}")
                share.add(_var(var), pop)
            share.row(problem, pulp.LpConstraintGE, (standard.min_share or 0.0) * total, f"share_{s}_{t}")


def _add_year_limit_rows(
    problem: pulp.LpProblem, timing: Timing, scenario: Scenario, split: dict[str, bool]
) -> None:
    """Per event time: disposals, moves, the year's budget; per year: the cash-flow rule; and the
    whole-period capital budget on timed costs."""
    T = timing.years
    dest = _destinations(timing)
    for d in range(T):
        if scenario.max_disposals_per_year is not None:
            acc = _Acc()
            for slots in timing.gone.values():
                acc.add(event(slots, d))
            acc.row(problem, pulp.LpConstraintLE, float(scenario.max_disposals_per_year), f"disposals_{d}")
        if scenario.max_moves_per_year is not None:
            acc = _Acc()
            for a, hosts in dest.items():
                moved = _Acc()
                if a in timing.left:
                    moved.add(event(timing.left[a], d))
                    acc.add(_lin_of(moved))
                    continue
                for h in hosts:
                    moved.add(event(timing.arrive[(a, h)], d))
                if len(moved.expr()) == 0:
                    continue
                if split.get(a, False):
                    var = problem.add_variable(f"moving_{a}_{d}", cat=pulp.LpBinary)
                    timing.counted[(a, d)] = var
                    _Acc().add(_lin_of(moved)).add(_var(var), -1.0).row(
                        problem, pulp.LpConstraintLE, 0.0, f"moving_{a}_{d}"
                    )
                    acc.add(_var(var))
            acc.row(problem, pulp.LpConstraintLE, float(scenario.max_moves_per_year), f"moves_{d}")
        if scenario.capital_budget_per_year_gbp is not None:
            one_off_at(timing, d).row(
                problem, pulp.LpConstraintLE, scenario.capital_budget_per_year_gbp / 1000, f"budget_{d}"
            )
    if scenario.cash_flow_rule:
        cumulative = _Acc()
        for t in range(T + 1):
            cumulative.add(_lin_of(receipts_at(timing, t))).add(_lin_of(one_off_at(timing, t)), -1.0)
            cumulative.row(problem, pulp.LpConstraintGE, -scenario.upfront_investment_gbp / 1000, f"cash_{t}")
    if scenario.capital_budget_gbp is not None:
        whole = _Acc()
        for d in range(T):
            whole.add(_lin_of(one_off_at(timing, d)))
        whole.row(problem, pulp.LpConstraintLE, scenario.capital_budget_gbp / 1000, "capital_budget")


def _today_start(static: EstateModel, timing: Timing) -> dict[str, float]:
    """Today's estate kept to the end, nothing moved, as values of every variable ({} when
    today's estate is not a plan: a building is locked out)."""
    if any(v is False for v in static.fixed_keep.values()) or static.cost_table:
        return {}
    today = static.pairs.loc[static.pairs["is_today"]]
    moves = dict.fromkeys(zip(today["occupier_id"], today["building_id"], strict=True), 1.0)
    values = start_from_decisions(static, dict.fromkeys(static.keep, True), moves)
    return values | schedule_values(timing, static, values, {}, {})


def schedule_values(
    timing: Timing,
    model: EstateModel,
    end: dict[str, float],
    leave_time: dict[str, int],
    move_time: dict[tuple[str, str], int],
) -> dict[str, float]:
    """Values of the year variables for a schedule: building -> event time, pair -> move time.

    `end` holds the end state's values by variable name (the static variables); a building or
    pair not in the schedule keeps its end state from year 1 on when it changes (event at 0).
    """
    values: dict[str, float] = {}

    def end_value(lin: Lin) -> float:
        return lin[1] + sum(c * end.get(v.name, 0.0) for v, c in lin[0])

    def step(slots: list[Lin], d: int) -> None:  # 0 until time d, the end state from year d + 1
        final = end_value(slots[-1])
        for t in range(1, timing.years):
            for v, _c in slots[t][0]:
                values.setdefault(v.name, final if t >= d + 1 else 0.0)

    for bid, slots in timing.gone.items():
        step(slots, leave_time.get(bid, 0))
    for key, slots in timing.arrive.items():
        step(slots, move_time.get(key, 0))
    for a, slots in timing.left.items():
        step(slots, min((t for (o, _h), t in move_time.items() if o == a), default=0))
    occ = model.estate.occupiers
    part = {v: values.get(v, end.get(v, 0.0)) for v in values}

    def val(lin: Lin) -> float:
        return lin[1] + sum(c * (part.get(v.name, end.get(v.name, 0.0))) for v, c in lin[0])

    service = occ["service"].to_dict()
    for t in range(1, timing.years):
        there = presence(timing, occ, t)
        offered = {(h, service[a]) for h, parts in there.items() for a, p in parts if val(p) > 1e-9}
        for (h, s, tt), var in timing.serve.items():
            if tt == t:
                open_ = h not in timing.gone or val(timing.gone[h][t]) < 0.5
                values[var.name] = 1.0 if (h, s) in offered and open_ else 0.0
        for (s, g, tt), var in timing.reached.items():
            if tt == t:
                sites = timing.reached_sites[(s, g)]
                served = any(
                    values.get(timing.serve[(h, s, t)].name, 0.0) > 0.5
                    for h in sites
                    if (h, s, t) in timing.serve
                )
                values[var.name] = 1.0 if served else 0.0
    for (a, d), var in timing.counted.items():
        values[var.name] = (
            1.0
            if any(
                key[0] == a and move_time.get(key, 0) == d and val(slots[-1]) > 1e-9
                for key, slots in timing.arrive.items()
            )
            else 0.0
        )
    return values


__all__ = [
    "PhasedModel",
    "Timing",
    "build_phased_model",
    "discount",
    "event",
    "lin_value",
    "one_off_at",
    "receipts_at",
]
