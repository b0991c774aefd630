"""Who pays, who benefits: the partner ledger of a plan, from its decisions alone (no model).

Under the scenario's sharing rule (``[partners]`` in ``docs/scenario.md``):

- ``owner``: each partner keeps the receipts, running-cost savings and backlog avoided of the
  buildings it owns and pays the disposal costs, lease exits and moving costs of its own teams.
  A building that receives a team of another partner charges that team's partner an occupancy
  charge a year per m2 received (`occupancy_rate_gbp_per_m2`: the scenario's figure, or the
  host's running cost per m2), for the appraisal period (discounted like the savings).
- ``pooled``: the place's NPV is shared in proportion to a key (floor area or running cost
  owned today, or equal shares); ``pooled_transfer_gbp`` is what moves each partner from its
  ``owner``-rule NPV to its pooled share.

The ledger's columns add up to the place's totals exactly (`ledger_mismatches` says where
not): the charges paid and received cancel, and the pooled transfers add up to zero.
The same formulas, in £k, make the model's no-partner-worse-off rows
(`optimiser.model_partners`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from estate import Estate
from optimiser.outcomes import partner_totals
from optimiser.scenario import Scenario

NO_BUILDINGS_GROUP = "other"  # the owner_type of a partner that owns no building
PARTNERSHIP_KEYS = (  # summary.json figures of optimiser.partnership and optimiser.shapley (Plan.partnership)
    "partnership_value_gbp",
    "partnership_value_uncertainty_gbp",
    "partnership_value_low_gbp",
    "partnership_value_high_gbp",
    "partnership_value_proven",
    "joint_proven_optimal",
    "joint_status",
    "joint_start",
    "joint_start_given_up_gbp",
    "joint_npv_gbp",
    "standalone_npv_total_gbp",
    "standalone_solves",
    "standalone_proven_optimal",
    "standalone_time_s",
    "standalone_workers",
    "no_partner_worse_off",
    "price_of_fairness_gbp",
    "price_of_fairness_uncertainty_gbp",
    "free_objective",
    "free_npv_gbp",
    "owner_split_in_core",
    "owner_split_blocked_by",
    "coalition_solves",
    "grand_coalition_npv_gbp",
)
PENNY = 0.005  # pounds: the ledger adds up to the place's totals within this
LEDGER_SUMS = (  # ledger column -> the place's KPI it adds up to
    ("capital_receipts_gbp", "capital_receipts_gbp"),
    ("annual_revenue_saving_gbp", "annual_revenue_saving_gbp"),
    ("backlog_avoided_gbp", "backlog_avoided_gbp"),
    ("move_cost_gbp", "move_cost_gbp"),
    ("one_off_cost_gbp", "one_off_cost_gbp"),
    ("owner_rule_npv_gbp", "npv_gbp"),
    ("npv_gbp", "npv_gbp"),
    ("buildings_before", "buildings_before"),
    ("buildings_after", "buildings_after"),
)


def partners_of(estate: Estate) -> list[str]:
    """Every partner: the owners of buildings and the partners of occupiers, sorted."""
    owners = set(estate.buildings["owner"].astype(str))
    return sorted(owners | set(estate.occupiers["partner"].astype(str)))


def partner_groups(estate: Estate) -> pd.Series:
    """Each partner's group for the Shapley split: the ``owner_type`` of the buildings it owns
    (the most common one), or ``other`` for a partner that owns none."""
    b = estate.buildings
    kinds = b.groupby(b["owner"].astype(str))["owner_type"].agg(lambda s: s.value_counts().index[0])
    names = partners_of(estate)
    return pd.Series([str(kinds.get(p, NO_BUILDINGS_GROUP)) for p in names], index=names, name="group")


def members_of_groups(estate: Estate, groups: Iterable[str]) -> frozenset[str]:
    """The partners whose group is one of `groups`."""
    wanted = set(groups)
    kinds = partner_groups(estate)
    return frozenset(kinds.index[kinds.isin(wanted)])


def occupancy_rate_gbp_per_m2(estate: Estate, scenario: Scenario) -> pd.Series:
    """Per building, the occupancy charge a year per m2 it receives from another partner: the
    scenario's ``occupancy_charge_gbp_per_m2``, else the building's running cost per m2 of
    floor area (0 where either is unknown, so an unknown figure never makes a charge up)."""
    b = estate.buildings
    if scenario.occupancy_charge_gbp_per_m2 is not None:
        return pd.Series(float(scenario.occupancy_charge_gbp_per_m2), index=b.index)
    gia = b["gia_m2"].astype(float)
    rate = b["running_cost_gbp"].astype(float) / gia.where(gia > 0)
    return rate.fillna(0.0)


def charged_parts(estate: Estate, scenario: Scenario, parts: pd.DataFrame) -> pd.DataFrame:
    """Parts of occupiers that pay an occupancy charge: moved into another partner's building.

    Columns: ``payer``, ``payee``, ``annual_gbp`` (space x share x the host's rate).
    """
    occ, owner = estate.occupiers, estate.buildings["owner"].astype(str)
    payer = occ["partner"].astype(str).reindex(parts["occupier_id"]).to_numpy()
    payee = owner.reindex(parts["to_building_id"]).to_numpy()
    moved = parts["from_building_id"].to_numpy() != parts["to_building_id"].to_numpy()
    charged = moved & (payer != payee)
    space = occ["space_m2"].astype(float).reindex(parts["occupier_id"]).to_numpy() * parts["share"].to_numpy()
    rate = occupancy_rate_gbp_per_m2(estate, scenario).reindex(parts["to_building_id"]).to_numpy()
    return pd.DataFrame(
        {"payer": payer[charged], "payee": payee[charged], "annual_gbp": (space * rate)[charged]}
    )


def pooled_key(estate: Estate, scenario: Scenario) -> pd.Series:
    """Each partner's share (adding up to 1) of the pooled NPV, by the scenario's key."""
    names = partners_of(estate)
    b = estate.buildings
    if scenario.pooled_key == "equal":
        weight = pd.Series(1.0, index=names)
    else:
        column = "gia_m2" if scenario.pooled_key == "floor_area" else "running_cost_gbp"
        weight = b[column].astype(float).fillna(0.0).groupby(b["owner"].astype(str)).sum()
        weight = weight.reindex(names, fill_value=0.0)
        if weight.sum() <= 0:  # nobody has a figure: equal shares rather than nobody's
            weight = pd.Series(1.0, index=names)
    return weight / weight.sum()


def partner_ledger(
    estate: Estate, scenario: Scenario, money: pd.DataFrame, parts: pd.DataFrame, part_cost: pd.Series
) -> pd.DataFrame:
    """Per partner, in pounds: receipts, savings, costs, occupancy charges, buildings and NPV.

    `money` is `optimiser.outcomes.money_by_building`, `parts` the occupier parts and
    `part_cost` their move costs (`optimiser.outcomes.move_costs`). ``npv_gbp`` is the NPV under
    the scenario's sharing rule; ``owner_rule_npv_gbp`` the same under ``owner``.
    """
    names = partners_of(estate)
    af = scenario.annuity_factor
    out = partner_totals(estate, money, parts, part_cost).set_index("partner").reindex(names, fill_value=0)
    owner = estate.buildings["owner"].astype(str)
    for column in ("backlog_avoided_gbp", "gia_released_m2"):
        out[column] = money[column].groupby(owner).sum().reindex(names, fill_value=0.0)
    out = out.rename(columns={"gia_released_m2": "floor_area_released_m2"})
    charges = charged_parts(estate, scenario, parts)
    paid = charges.groupby("payer")["annual_gbp"].sum().reindex(names, fill_value=0.0)
    received = charges.groupby("payee")["annual_gbp"].sum().reindex(names, fill_value=0.0)
    out["occupancy_charges_paid_gbp"] = af * paid
    out["occupancy_charges_received_gbp"] = af * received
    out["owner_rule_npv_gbp"] = (
        af * out["annual_revenue_saving_gbp"]
        + out["capital_receipts_gbp"]
        + out["backlog_avoided_gbp"]
        - out["one_off_cost_gbp"]
        + out["occupancy_charges_received_gbp"]
        - out["occupancy_charges_paid_gbp"]
    )
    if scenario.sharing_rule == "pooled":
        key = pooled_key(estate, scenario)
        out["pooled_share"] = key
        shared = key * float(out["owner_rule_npv_gbp"].sum())
        out["pooled_transfer_gbp"] = shared - out["owner_rule_npv_gbp"]
    else:
        out["pooled_share"] = np.nan
        out["pooled_transfer_gbp"] = 0.0
    out["npv_gbp"] = out["owner_rule_npv_gbp"] + out["pooled_transfer_gbp"]
    out["standalone_npv_gbp"] = np.nan  # filled in by optimiser.partnership when solved
    out["group"] = partner_groups(estate).reindex(names).to_numpy()
    return out.rename_axis("partner").reset_index()


BY_YEAR_CASH = ("receipts_gbp", "one_off_cost_gbp", "saving_gbp")


def phased_charges(
    estate: Estate, scenario: Scenario, events: pd.DataFrame, years: Iterable[int]
) -> pd.DataFrame:
    """The occupancy charges of a programme, by year: ``year``, ``payer``, ``payee``, ``gbp``.

    A move event in calendar year Y into another partner's building is charged (space x share x
    the host's rate, `occupancy_rate_gbp_per_m2`) every year from Y + 1 to the end of the period,
    as a building gone in year Y saves its running cost from Y + 1.
    """
    columns = ["year", "payer", "payee", "gbp"]
    moves = events[events["event"] == "move"] if len(events) else events
    if not len(moves):
        return pd.DataFrame(columns=columns)
    occ, owner = estate.occupiers, estate.buildings["owner"].astype(str)
    parts = pd.DataFrame(
        {
            "occupier_id": moves["occupier_id"].astype(str).to_numpy(),
            "from_building_id": moves["from_building_id"].astype(str).to_numpy(),
            "to_building_id": moves["to_building_id"].astype(str).to_numpy(),
            "share": moves["share"].astype(float).to_numpy(),
        }
    )
    payer = occ["partner"].astype(str).reindex(parts["occupier_id"]).to_numpy()
    payee = owner.reindex(parts["to_building_id"]).to_numpy()
    charged = (parts["from_building_id"] != parts["to_building_id"]).to_numpy() & (payer != payee)
    space = occ["space_m2"].astype(float).reindex(parts["occupier_id"]).to_numpy() * parts["share"].to_numpy()
    rate = occupancy_rate_gbp_per_m2(estate, scenario).reindex(parts["to_building_id"]).to_numpy()
    annual = space * rate
    all_years = sorted(years)
    rows = [
        (y, str(payer[i]), str(payee[i]), float(annual[i]))
        for i, event_year in enumerate(moves["year"].astype(int))
        if charged[i]
        for y in all_years
        if y > event_year
    ]
    return pd.DataFrame(rows, columns=columns)


def phased_ledger(
    estate: Estate,
    scenario: Scenario,
    ledger: pd.DataFrame,
    events: pd.DataFrame,
    by_year: pd.DataFrame,
    discount_by_year: Mapping[int, float],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A phased plan's partner ledger and its cash per partner and year, with the occupancy
    charges (`phased_charges`) in both.

    `ledger` is the static ledger of the plan's end state (`partner_ledger`), `by_year` the
    programme's cash per partner and year (`optimiser.programme`), `discount_by_year` each
    calendar year's discount factor. In the ledger that comes back, ``one_off_cost_gbp`` is the
    partner's one-off costs of the programme (disposals, lease exits, moves), the occupancy
    charges are discounted sums, and ``owner_rule_npv_gbp`` is the discounted sum of the
    partner's rows in the cash table (``discounted_net_gbp``), so the partners' NPVs add up to
    the programme's NPV. Receipts, the saving a year at the end state, backlog avoided, move
    costs and buildings are the end state's, as the place's KPIs are.
    """
    names = partners_of(estate)
    years = sorted(int(y) for y in discount_by_year)
    charges = phased_charges(estate, scenario, events, years)
    paid = charges.groupby(["payer", "year"])["gbp"].sum()
    received = charges.groupby(["payee", "year"])["gbp"].sum()
    have = set(by_year["partner"].astype(str)) if len(by_year) else set()
    more = sorted((set(charges["payer"]) | set(charges["payee"])) - have)
    blank = pd.DataFrame(
        [(y, p) + (0.0,) * len(BY_YEAR_CASH) for p in more for y in years],
        columns=["year", "partner", *BY_YEAR_CASH],
    )
    table = pd.concat([by_year[["year", "partner", *BY_YEAR_CASH]], blank], ignore_index=True)
    table = table.astype(dict.fromkeys(BY_YEAR_CASH, float) | {"year": int, "partner": str})
    key = list(zip(table["partner"], table["year"].astype(int), strict=True))
    table["occupancy_charges_paid_gbp"] = [float(paid.get(k, 0.0)) for k in key]
    table["occupancy_charges_received_gbp"] = [float(received.get(k, 0.0)) for k in key]
    table = table.sort_values(["partner", "year"], kind="stable").reset_index(drop=True)
    table["net_gbp"] = (
        table["receipts_gbp"]
        - table["one_off_cost_gbp"]
        + table["saving_gbp"]
        + table["occupancy_charges_received_gbp"]
        - table["occupancy_charges_paid_gbp"]
    )
    table["cumulative_net_gbp"] = table.groupby("partner")["net_gbp"].cumsum()
    factor = table["year"].astype(int).map(lambda y: float(discount_by_year[y]))
    table["discounted_net_gbp"] = table["net_gbp"] * factor
    disc = table.assign(
        paid=table["occupancy_charges_paid_gbp"] * factor,
        received=table["occupancy_charges_received_gbp"] * factor,
    ).groupby("partner")
    out = ledger.set_index("partner").reindex(names)
    out["one_off_cost_gbp"] = disc["one_off_cost_gbp"].sum().reindex(names, fill_value=0.0)
    out["occupancy_charges_paid_gbp"] = disc["paid"].sum().reindex(names, fill_value=0.0)
    out["occupancy_charges_received_gbp"] = disc["received"].sum().reindex(names, fill_value=0.0)
    out["owner_rule_npv_gbp"] = disc["discounted_net_gbp"].sum().reindex(names, fill_value=0.0)
    if scenario.sharing_rule == "pooled":
        shared = pooled_key(estate, scenario).reindex(names) * float(out["owner_rule_npv_gbp"].sum())
        out["pooled_transfer_gbp"] = shared - out["owner_rule_npv_gbp"]
    else:
        out["pooled_transfer_gbp"] = 0.0
    out["npv_gbp"] = out["owner_rule_npv_gbp"] + out["pooled_transfer_gbp"]
    columns = [
        "year",
        "partner",
        *BY_YEAR_CASH,
        "occupancy_charges_paid_gbp",
        "occupancy_charges_received_gbp",
        "net_gbp",
        "cumulative_net_gbp",
        "discounted_net_gbp",
    ]
    return out.rename_axis("partner").reset_index()[list(ledger.columns)], table[columns]


def with_standalone(ledger: pd.DataFrame, standalone_npv_gbp: Mapping[str, float]) -> pd.DataFrame:
    """The ledger with each partner's stand-alone NPV (pounds) filled in."""
    return ledger.assign(
        standalone_npv_gbp=ledger["partner"].map(lambda p: standalone_npv_gbp.get(p, np.nan)).astype(float)
    )


def ledger_mismatches(ledger: pd.DataFrame, kpis: Mapping[str, Any]) -> list[str]:
    """Where the ledger does not add up to the place's totals within a penny (empty: it does)."""
    found = []
    for column, kpi in LEDGER_SUMS:
        total, place = float(ledger[column].sum()), float(kpis[kpi])
        if abs(total - place) > PENNY:
            found.append(f"partners' {column} add up to {total:,.2f}, the place's {kpi} is {place:,.2f}")
    paid = float(ledger["occupancy_charges_paid_gbp"].sum())
    received = float(ledger["occupancy_charges_received_gbp"].sum())
    if abs(paid - received) > PENNY:
        found.append(f"occupancy charges paid {paid:,.2f} but received {received:,.2f}")
    return found


__all__ = [
    "PARTNERSHIP_KEYS",
    "charged_parts",
    "ledger_mismatches",
    "members_of_groups",
    "occupancy_rate_gbp_per_m2",
    "partner_groups",
    "partner_ledger",
    "partners_of",
    "phased_charges",
    "phased_ledger",
    "pooled_key",
    "with_standalone",
]
