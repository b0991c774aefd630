"""The Plan: decisions, reasons, KPIs and status, assembled from a solved model or from decisions.

Solving lives in `optimiser.pipeline`; this module only reads a solution (`plan_from_solution`),
given decisions (`make_plan`) or a saved run (`plan_from_saved`) into the one result type, built
once and never changed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from estate import Estate
from optimiser.access import reach_pairs, standards_for
from optimiser.costs import ROUTE_CAT, ROUTE_LEASE, ROUTE_MARKET
from optimiser.model import EstateModel
from optimiser.model_phased import PhasedModel
from optimiser.outcomes import (
    access_outcomes,
    money_by_building,
    move_costs,
    payback_words,
    sites_by_service,
    totals,
)
from optimiser.partners import PARTNERSHIP_KEYS, partner_ledger, phased_ledger
from optimiser.programme import Programme, programme_from_model
from optimiser.report.programme import PROGRAMME_TABLES
from optimiser.report.words import StatusText, status_text
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import SolveInfo

ROUTE_WORDS = {ROUTE_MARKET: "market sale", ROUTE_CAT: "community asset transfer", ROUTE_LEASE: "lease exit"}


@dataclass(frozen=True, eq=False)
class Plan:
    """What to keep, what to dispose of, where each occupier goes, and what it is worth.

    Built once, with its final values (`make_plan`, `plan_from_solution`); to change a figure,
    make a new Plan with `dataclasses.replace`.

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
        The partner ledger (`optimiser.partners.partner_ledger`): per partner, under the
        scenario's sharing rule.
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
    partnership: dict[str, Any] = field(default_factory=dict)  # summary figures of optimiser.partnership
    programme: Programme | None = None  # a phased plan's programme (optimiser.programme)

    @property
    def proven_optimal(self) -> bool:
        """True only when the solver proved optimality (never after a time limit)."""
        return self.info.proven_optimal

    @property
    def status_words(self) -> str:
        """Plain words in a board's terms: 'Proven optimal: no better plan is possible', or
        'Stopped at the time limit; not proven optimal: the best possible plan is at most £2.1m
        (1.9%) better than this one' (`optimiser.report.words.status_text`)."""
        return self.status_text.words

    @property
    def status_text(self) -> StatusText:
        """The status as a board reads it: verdict, how sure in £, tone, and the analysts' detail."""
        info = self.info
        return status_text(
            status=info.status,
            proven_optimal=info.proven_optimal,
            gap_gbp=(info.objective - info.bound) * 1000,
            npv_gbp=float(self.kpis.get("npv_gbp", math.nan)),
            gap=info.gap,
            objective_k=info.objective,
            bound_k=info.bound,
            gap_limit=self.scenario.mip_gap,
        )

    def summary(self) -> str:
        """A few readable lines for the terminal."""
        k = self.kpis
        payback = payback_words(k["payback_years"])
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
                    r["npv_gbp"]
                    if "npv_gbp" in r
                    else self.scenario.annuity_factor * r["annual_revenue_saving_gbp"]
                    + r["capital_receipts_gbp"]
                    - r["one_off_cost_gbp"]
                )
            }
            for _, r in self.partners.iterrows()
        }
        phased = self.programme.summary() if self.programme is not None else {}
        return phased | {
            "place": self.estate_name,
            "scenario": self.scenario.name,
            "status": info.status,
            "proven_optimal": info.proven_optimal,
            "status_words": self.status_words,
            "status_tone": self.status_text.tone,
            "status_detail": self.status_text.detail,
            "gap_limit": self.scenario.mip_gap,
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
            "sharing_rule": self.scenario.sharing_rule,
            **{k: _num(v) for k, v in self.partnership.items()},
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


def plan_from_solution(model: EstateModel, info: SolveInfo) -> Plan:
    """Read the variables' values into a Plan."""
    estate, scenario = model.estate, model.scenario
    keep = pd.Series({bid: bool(v) for bid, v in model.fixed_keep.items()}, dtype=bool)
    keep = pd.concat(
        [keep, pd.Series({bid: (var.value() or 0) > 0.5 for bid, var in model.keep.items()}, dtype=bool)]
    )
    keep = keep.reindex(estate.buildings.index)
    parts = occupier_parts(model)
    plan = make_plan(
        estate,
        scenario,
        keep,
        parts,
        info=info,
        build_s=model.build_s,
        keep_reason=model.keep_reason,
        stats=model.stats,
    )
    if isinstance(model, PhasedModel):
        return with_phased_ledger(with_programme(plan, programme_from_model(model)), estate)
    return plan


def with_programme(plan: Plan, programme: Programme) -> Plan:
    """`plan` with its programme; its NPV, one-off cost and payback are the programme's own
    (computed from the cash-flow rows), so every output shows the timed figures."""
    cash = programme.cashflow
    payback = programme.payback_year
    kpis = plan.kpis | {
        "npv_gbp": programme.npv_gbp,
        "one_off_cost_gbp": float(cash["one_off_cost_gbp"].sum()),
        "payback_years": None if payback is None else float(payback - plan.scenario.start_year),
    }
    return replace(plan, programme=programme, kpis=kpis)


def with_phased_ledger(plan: Plan, estate: Estate) -> Plan:
    """A phased plan with the programme's partner ledger and cash per partner and year, the
    occupancy charges in both (`optimiser.partners.phased_ledger`)."""
    programme = plan.programme
    if programme is None:
        return plan
    cash = programme.cashflow
    factors = dict(zip(cash["year"].astype(int), cash["discount_factor"].astype(float), strict=True))
    ledger, by_year = phased_ledger(
        estate, plan.scenario, plan.partners, programme.events, programme.partners_by_year, factors
    )
    return replace(plan, partners=ledger, programme=replace(programme, partners_by_year=by_year))


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
    stats: Mapping[str, Any] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> Plan:
    """Assemble a Plan from decisions: used for solved models and for recomputing from files.

    `reasons` (by building ID) replaces the reason text worked out here, for a plan read back
    with the reasons it was saved with (`optimiser.store`).
    """
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
    partners = partner_ledger(estate, scenario, money, parts, part_cost)
    sole = _sole_providers(estate, [s for s in standards if s.service in public], parts)
    buildings = _building_table(estate, keep, money, occ_out, keep_reason or {}, sole, reasons)
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
    given: Mapping[str, str] | None = None,
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
    out["reason"] = reasons if given is None else [given.get(str(bid)) for bid in b.index]
    return out


def _sole_providers(
    estate: Estate, standards: list[AccessStandard], parts: pd.DataFrame
) -> dict[str, list[str]]:
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


def plan_from_saved(
    scenario: Scenario, summary: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]
) -> Plan:
    """The Plan of a saved run, read back from its saved form without the estate.

    `summary` is the plan's `Plan.summary_dict()` (as JSON: NaN as None) and `tables` its
    ``buildings``, ``occupiers``, ``access`` and ``partners`` tables (`optimiser.store`). The
    status, objective, bound, gap and times, the KPIs, the model's size, the detour factor and
    the estate's name come from the summary; the decisions, reasons and figures per building,
    occupier, standard and partner from the tables, as saved. Tables are saved to 15 decimals
    and the summary to full precision, so a figure of the access and partner tables that the
    summary also holds is taken from the summary: ``summary_dict()`` of the Plan read back is
    the summary it was saved with. Nothing is checked against an estate
    (`optimiser.store.plan_on_estate` does that).

    Raises
    ------
    KeyError, TypeError, ValueError
        If `summary` is not a plan's summary.

    """

    def number(key: str) -> float:
        value = summary.get(key)
        return math.nan if value is None else float(value)

    info = SolveInfo(
        solver=str(summary.get("solver", "")),
        status=str(summary.get("status", "")),
        proven_optimal=bool(summary.get("proven_optimal", False)),
        objective=number("objective"),
        bound=number("bound"),
        gap=number("gap"),
        time_s=number("time_s"),
        raw_status=str(summary.get("solver_status", "")),
    )
    return Plan(
        estate_name=str(summary.get("place", "")),
        scenario=scenario,
        buildings=_saved_table(tables, "buildings"),
        occupiers=_saved_table(tables, "occupiers"),
        access=_with_summary_figures(_saved_table(tables, "access"), "service", summary.get("access", {})),
        partners=_with_summary_figures(
            _saved_table(tables, "partners"), "partner", summary.get("partners", {})
        ),
        kpis=dict(summary.get("kpis", {})),
        info=info,
        build_s=float(summary.get("build_s") or 0.0),
        detour_factor=number("detour_factor"),
        model_stats=dict(summary.get("model", {})),
        partnership={k: summary[k] for k in PARTNERSHIP_KEYS if k in summary},
        programme=_saved_programme(summary, tables),
    )


def _saved_table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    table = tables.get(name)
    return pd.DataFrame() if table is None else table


def _with_summary_figures(table: pd.DataFrame, key: str, saved: Mapping[str, Any]) -> pd.DataFrame:
    """`table` with each float cell that the summary also holds (row `key` -> column -> value)
    set to the summary's value, which is kept to full precision."""
    if key not in table.columns or not saved:
        return table
    out = table.copy()
    for row, name in enumerate(out[key].astype(str)):
        entry = saved.get(name)
        if not isinstance(entry, Mapping):
            continue
        for column, value in entry.items():
            if (
                column in out.columns
                and isinstance(value, float)
                and pd.api.types.is_float_dtype(out[column])
            ):
                out.iloc[row, out.columns.get_loc(column)] = value
    return out


def _saved_programme(summary: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]) -> Programme | None:
    """A phased plan's programme read back from its saved tables (``programme``, ``cashflow``,
    ``partners_by_year``) and the summary's ``phasing``; None for a plan saved without one."""
    if any(tables.get(name) is None for name in PROGRAMME_TABLES):
        return None
    return Programme(
        events=tables["programme"],
        cashflow=tables["cashflow"],
        partners_by_year=tables["partners_by_year"],
        phasing=dict(summary.get("phasing") or {}),
    )
