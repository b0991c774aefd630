"""The programme of a phased plan: its events by year, its cash flow and the cash per partner.

`programme_from_model` reads a solved `optimiser.model_phased.PhasedModel` into a schedule (the
event time of each building that goes, the move times of each occupier part);
`make_programme` turns a schedule into the three tables written as ``programme.csv``,
``cashflow.csv`` and ``partners_by_year.csv`` (pounds, calendar years) and the figures of
``summary.json`` (`Programme.summary`), every figure computed from the cash-flow rows
themselves. `phased_shortfall` says, for a phased scenario with no plan, in which year the
cash-flow rule fails and by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pulp

from estate import Estate
from optimiser.costs import ROUTE_LEASE, building_costs
from optimiser.errors import OptimiserError
from optimiser.model import build_model
from optimiser.model_phased import (
    PhasedModel,
    Timing,
    _Acc,
    _lin_of,
    build_phased_model,
    discount,
    lease_exit_by_time,
    lin_value,
    one_off_at,
    receipts_at,
)
from optimiser.scenario import Scenario
from optimiser.solver import make_solver
from optimiser.stages import NO_STEPS, WARM_START, Steps, StoppedByUser

PROGRAMME_FILES = ("programme.csv", "cashflow.csv", "partners_by_year.csv")
EVENT_COLUMNS = [
    "year",
    "event",
    "building_id",
    "route",
    "occupier_id",
    "from_building_id",
    "to_building_id",
    "share",
    "cash_gbp",
    "one_off_cost_gbp",
    "receipt_gbp",
    "receipt_year",
]


@dataclass(frozen=True, eq=False)
class Programme:
    """A phased plan's events, cash flow by year and cash by partner and year (pounds)."""

    events: pd.DataFrame  # EVENT_COLUMNS
    cashflow: pd.DataFrame  # one row per year 0..T
    partners_by_year: pd.DataFrame
    phasing: dict[str, Any]  # the rules in force

    @property
    def npv_gbp(self) -> float:
        return float(self.cashflow["discounted_net_gbp"].sum())

    @property
    def peak_investment_gbp(self) -> float:
        return float(self.cashflow["investment_outstanding_gbp"].max())

    @property
    def payback_year(self) -> int | None:
        """The first calendar year from which the cumulative net stays at or above zero; None
        when it is below zero at the end of the period."""
        cum = self.cashflow["cumulative_net_gbp"].to_numpy()
        years = self.cashflow["year"].to_numpy()
        if cum[-1] < -1e-6:
            return None
        below = [i for i, c in enumerate(cum) if c < -1e-6]
        return int(years[below[-1] + 1]) if below else int(years[0])

    def summary(self) -> dict[str, Any]:
        """The keys `summary.json` gains."""
        return {
            "phasing": self.phasing,
            "npv_gbp": self.npv_gbp,
            "peak_investment_gbp": self.peak_investment_gbp,
            "payback_year": self.payback_year,
            "programme_events": len(self.events),
        }


def phasing_rules(scenario: Scenario) -> dict[str, Any]:
    """The `[phasing]` rules in force, as written in summary.json."""
    rules: dict[str, Any] = {
        "phased": scenario.phased,
        "years": scenario.years,
        "start_year": scenario.start_year,
        "discount_rate": scenario.discount_rate,
        "receipt_lag_years": scenario.receipt_lag_years,
        "allow_early_lease_exit": scenario.allow_early_lease_exit,
        "fit_out_lead_years": scenario.fit_out_lead_years,
        "capital_budget_per_year_gbp": scenario.capital_budget_per_year_gbp,
        "cash_flow_rule": scenario.cash_flow_rule,
        "max_disposals_per_year": scenario.max_disposals_per_year,
        "max_moves_per_year": scenario.max_moves_per_year,
    }
    if scenario.cash_flow_rule:
        rules["upfront_investment_gbp"] = scenario.upfront_investment_gbp
    return rules


def read_schedule(
    model: PhasedModel,
) -> tuple[dict[str, int], dict[tuple[str, str], list[tuple[int, float]]]]:
    """From a solved model: building -> event time; (occupier, building) -> [(time, share)]."""
    timing = model.timing
    assert timing is not None
    leave: dict[str, int] = {}
    for bid, slots in timing.gone.items():
        values = [lin_value(s) for s in slots]
        if values[-1] > 0.5:
            leave[bid] = next(t for t, v in enumerate(values) if v > 0.5) - 1
    moves: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for key, slots in timing.arrive.items():
        values = [min(1.0, max(0.0, lin_value(s))) for s in slots]
        steps = [
            (d, values[d + 1] - values[d]) for d in range(timing.years) if values[d + 1] - values[d] > 1e-6
        ]
        if steps:
            moves[key] = steps
    return leave, moves


def programme_from_model(model: PhasedModel) -> Programme:
    """The programme of a solved phased model."""
    leave, moves = read_schedule(model)
    return make_programme(model.estate, model.scenario, leave, moves)


def make_programme(
    estate: Estate,
    scenario: Scenario,
    leave: dict[str, int],
    moves: dict[tuple[str, str], list[tuple[int, float]]],
) -> Programme:
    """The tables of a schedule, from the estate's figures and the scenario alone (pounds)."""
    T, start, rate, lag = (
        scenario.years,
        scenario.start_year,
        scenario.discount_rate,
        scenario.receipt_lag_years,
    )
    b, occ = estate.buildings, estate.occupiers
    c = building_costs(estate, scenario)
    exit_k = lease_exit_by_time(estate, scenario, c["running_k"])
    yearly = (c["running_k"] + c["backlog_k"] / scenario.annuity_factor) * 1000
    move_gbp = occ["space_m2"].astype(float) * scenario.move_cost_gbp_per_m2
    rows: list[dict[str, Any]] = []
    ledger: list[tuple[int, str, str, float]] = []  # (year index, partner, column, pounds)
    for bid, d in sorted(leave.items(), key=lambda kv: (kv[1], kv[0])):
        route = str(c.at[bid, "route"])
        exit_gbp = exit_k[bid][d] * 1000 if bid in exit_k else 0.0
        disposal_gbp = float(c.at[bid, "disposal_cost_k"]) * 1000
        receipt_gbp = float(c.at[bid, "receipt_k"]) * 1000
        if route == ROUTE_LEASE:
            end = b.at[bid, "lease_end_year"]
            kind = "lease_end" if not pd.isna(end) and int(end) - start == d else "lease_exit"
        else:
            kind = "dispose"
        rows.append(
            {
                "year": start + d,
                "event": kind,
                "building_id": bid,
                "route": route,
                "occupier_id": "",
                "from_building_id": "",
                "to_building_id": "",
                "share": 1.0,
                "cash_gbp": receipt_gbp - disposal_gbp - exit_gbp,
                "one_off_cost_gbp": disposal_gbp + exit_gbp,
                "receipt_gbp": receipt_gbp,
                "receipt_year": start + d + lag if receipt_gbp else None,
            }
        )
        owner = str(b.at[bid, "owner"])
        ledger.append((d, owner, "one_off_cost_gbp", disposal_gbp + exit_gbp))
        ledger.append((d + lag, owner, "receipts_gbp", receipt_gbp))
    for (a, h), steps in sorted(moves.items()):
        for d, share in steps:
            cost = float(move_gbp[a]) * share
            rows.append(
                {
                    "year": start + d,
                    "event": "move",
                    "building_id": "",
                    "route": "",
                    "occupier_id": a,
                    "from_building_id": str(occ.at[a, "building_id"]),
                    "to_building_id": h,
                    "share": share,
                    "cash_gbp": -cost,
                    "one_off_cost_gbp": cost,
                    "receipt_gbp": 0.0,
                    "receipt_year": None,
                }
            )
            ledger.append((d, str(occ.at[a, "partner"]), "one_off_cost_gbp", cost))
    for bid, d in leave.items():  # a building gone from year d + 1 saves its running cost
        for t in range(d + 1, T + 1):
            ledger.append((t, str(b.at[bid, "owner"]), "saving_gbp", float(yearly[bid])))
    events = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    events = events.sort_values(["year", "event", "building_id", "occupier_id"], kind="stable").reset_index(
        drop=True
    )
    money = pd.DataFrame(ledger, columns=["t", "partner", "column", "gbp"])
    today_running = float(yearly.sum())
    cashflow = _cash_table(money, T, start, rate, today_running, scenario)
    partners = _partner_table(money, T, start, rate)
    return Programme(
        events=events, cashflow=cashflow, partners_by_year=partners, phasing=phasing_rules(scenario)
    )


def _by_year(money: pd.DataFrame, T: int) -> pd.DataFrame:
    table = money.pivot_table(index="t", columns="column", values="gbp", aggfunc="sum", fill_value=0.0)
    table = table.reindex(range(T + 1), fill_value=0.0)
    for col in ("receipts_gbp", "one_off_cost_gbp", "saving_gbp"):
        if col not in table.columns:
            table[col] = 0.0
    return table


def _cash_table(
    money: pd.DataFrame, T: int, start: int, rate: float, today_running: float, scenario: Scenario
) -> pd.DataFrame:
    """One row per year 0..T (see docs/outputs.md)."""
    table = _by_year(money, T)
    out = pd.DataFrame({"year": [start + t for t in range(T + 1)]})
    out["receipts_gbp"] = table["receipts_gbp"].to_numpy()
    out["one_off_cost_gbp"] = table["one_off_cost_gbp"].to_numpy()
    saving = table["saving_gbp"].to_numpy()
    out["running_cost_gbp"] = [0.0 if t == 0 else today_running - saving[t] for t in range(T + 1)]
    out["saving_gbp"] = saving
    out["net_gbp"] = out["receipts_gbp"] - out["one_off_cost_gbp"] + out["saving_gbp"]
    out["cumulative_net_gbp"] = out["net_gbp"].cumsum()
    out["cumulative_cash_gbp"] = (out["receipts_gbp"] - out["one_off_cost_gbp"]).cumsum()
    out["discount_factor"] = [discount(t, rate) for t in range(T + 1)]
    out["discounted_net_gbp"] = out["net_gbp"] * out["discount_factor"]
    out["investment_outstanding_gbp"] = (-out["cumulative_net_gbp"]).clip(lower=0.0)
    return out


def _partner_table(money: pd.DataFrame, T: int, start: int, rate: float) -> pd.DataFrame:
    """The same cash per partner and year: the owner of a building gets its receipts and
    savings and pays its disposal and exit costs; an occupier's partner pays its moves."""
    frames = []
    for partner, group in money.groupby("partner"):
        table = _by_year(group, T)
        frame = pd.DataFrame({"year": [start + t for t in range(T + 1)], "partner": partner})
        for col in ("receipts_gbp", "one_off_cost_gbp", "saving_gbp"):
            frame[col] = table[col].to_numpy()
        frame["net_gbp"] = frame["receipts_gbp"] - frame["one_off_cost_gbp"] + frame["saving_gbp"]
        frame["cumulative_net_gbp"] = frame["net_gbp"].cumsum()
        frame["discounted_net_gbp"] = frame["net_gbp"] * [discount(t, rate) for t in range(T + 1)]
        frames.append(frame)
    columns = [
        "year",
        "partner",
        "receipts_gbp",
        "one_off_cost_gbp",
        "saving_gbp",
        "net_gbp",
        "cumulative_net_gbp",
        "discounted_net_gbp",
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def phased_shortfall(estate: Estate, scenario: Scenario) -> list[str]:
    """Why a phased scenario has no plan, when the cash-flow rule is the cause: the year and the
    shortfall of the programme that needs the least extra upfront money.

    Re-solves without the cash-flow rule, with one extra variable ``extra`` (£k) added to the
    upfront investment in every year's cash row, minimising it. Returns [] when the model has no
    plan even so (the cause is elsewhere).
    """
    if not scenario.cash_flow_rule:
        return []
    relaxed = scenario.with_changes(cash_flow_rule=False, warm_start=False)
    model = build_phased_model(estate, relaxed)
    timing: Timing = model.timing  # type: ignore[assignment]
    problem = model.problem
    extra = problem.add_variable("extra_upfront_k", lowBound=0)
    cumulative = _Acc()
    for t in range(timing.years + 1):
        cumulative.add(_lin_of(receipts_at(timing, t))).add(_lin_of(one_off_at(timing, t)), -1.0)
        row = _Acc().add(_lin_of(cumulative)).add((((extra, 1.0),), 0.0))
        row.row(problem, pulp.LpConstraintGE, -scenario.upfront_investment_gbp / 1000, f"cash_{t}")
    problem.setObjective(pulp.LpAffineExpression([(extra, 1.0)]))
    solver = make_solver(scenario.solver, time_limit_s=min(scenario.time_limit_s, 60), mip_gap=1e-6)
    problem.solve(solver)
    if problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return []
    info = getattr(solver, "info", None)
    found = float(extra.value() or 0.0)
    bound = float(getattr(info, "bound", math.nan)) if info is not None else math.nan
    least = max(0.0, bound if math.isfinite(bound) else 0.0)
    balance = []
    run = 0.0
    for t in range(timing.years + 1):
        run += lin_value(_lin_of(receipts_at(timing, t))) - lin_value(_lin_of(one_off_at(timing, t)))
        balance.append(run + scenario.upfront_investment_gbp / 1000)
    if found <= 1e-6:  # the cash-flow rule is not what stops it
        return []
    worst = min(range(len(balance)), key=lambda t: balance[t])
    proven = math.isfinite(bound) and found - bound <= 1e-6 * max(1.0, found)
    amount = (
        f"£{found * 1000:,.0f}"
        if proven
        else f"at least £{least * 1000:,.0f} (best found £{found * 1000:,.0f})"
    )
    return [
        f"cash-flow rule: with £{scenario.upfront_investment_gbp:,.0f} invested upfront, every programme "
        f"that meets the other rules has cumulative receipts less one-off costs below zero; the least "
        f"shortfall is {amount}, in {scenario.start_year + worst} (year {worst}). Fix: raise "
        f"phasing.upfront_investment_gbp by that much, allow early lease exits, shorten "
        f"phasing.receipt_lag_years, or remove locks that force costs early"
    ]


STATIC_SHARE = 0.25  # of the time limit, for the static plan the warm start is sequenced from
SEQUENCE_SHARE = 0.15  # of the time limit, for sequencing that plan's end state


def sequenced_start(estate: Estate, scenario: Scenario, *, steps: Steps | None = None) -> dict[str, float]:
    """A starting programme for the joint phased solve: the static plan's end state, sequenced.

    Solves the static model (`STATIC_SHARE` of the time limit), then the phased model with its
    end state fixed to that plan (`SEQUENCE_SHARE`): an exact sequencing MILP over the changed
    buildings and occupiers only. Returns every variable's value by name (the names of
    `build_phased_model`'s variables, the same in every build), or {} when either step has no
    plan (the end state may have no programme under the yearly rules). Only a start: the
    joint solve proves the bound. `steps` reports each step and stops (`StoppedByUser`) when
    its cancel event is set, also during either solve (`optimiser.stages`).
    """
    steps = (NO_STEPS if steps is None else steps).part(WARM_START)
    usable = (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    limit = scenario.time_limit_s
    static_scenario = scenario.with_changes(phased=False)
    try:
        static = build_model(estate, static_scenario, steps=steps)
        steps.step(f"solving the plan without years (at most {max(1.0, STATIC_SHARE * limit):g} s)")
        solver = make_solver(
            scenario.solver,
            time_limit_s=max(1.0, STATIC_SHARE * limit),
            mip_gap=scenario.mip_gap,
            threads=scenario.threads,
            start=static.start,
            cancel=steps.cancel,
        )
        static.problem.solve(solver)
        steps.check()
        if static.problem.sol_status not in usable:
            return {}
        seq = build_phased_model(estate, scenario, steps=steps)
    except StoppedByUser:
        raise
    except OptimiserError:
        return {}
    for name, var in [*static.keep.items(), *static.move.items()]:
        twin = seq.keep.get(name) if isinstance(name, str) else seq.move.get(tuple(name))  # type: ignore[arg-type]
        if twin is None:
            continue
        value = float(var.value() or 0.0)
        value = round(value) if var.cat == pulp.LpInteger else min(1.0, max(0.0, value))
        twin.lowBound = twin.upBound = value
    steps.step(f"putting its changes in years (at most {max(1.0, SEQUENCE_SHARE * limit):g} s)")
    solver = make_solver(
        scenario.solver,
        time_limit_s=max(1.0, SEQUENCE_SHARE * limit),
        mip_gap=scenario.mip_gap,
        threads=scenario.threads,
        cancel=steps.cancel,
    )
    try:
        seq.problem.solve(solver)
    except pulp.PulpSolverError:
        return {}
    steps.check()
    if seq.problem.sol_status not in usable:
        return {}
    return {v.name: float(v.value() or 0.0) for v in seq.problem.variables()}
