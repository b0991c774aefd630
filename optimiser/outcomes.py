"""Outcomes of a plan, computed from its decisions alone (no model): KPIs, partners, access.

Everything here takes plain tables (which buildings are kept, where each occupier goes), so
the same functions recompute a written plan's figures independently of the solver. It needs
only the estate, the scenario, the cost formulas and the access rules (`optimiser.access`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from estate import Estate
from optimiser.access import reach_pairs
from optimiser.costs import ROUTE_CAT, ROUTE_MARKET, building_costs, move_cost_k
from optimiser.scenario import AccessStandard, Scenario

DEPRIVED_DECILES = 2  # "most deprived" = IMD deciles 1-2, unless a standard says otherwise


def money_by_building(estate: Estate, scenario: Scenario, keep: pd.Series) -> pd.DataFrame:
    """Per building, in pounds: what disposing of it brings (zero for kept buildings)."""
    c = building_costs(estate, scenario)
    b = estate.buildings
    gone = ~keep.reindex(b.index).fillna(True).astype(bool)
    market = gone & (c["route"] == ROUTE_MARKET)
    land = b["site_area_ha"].fillna(0.0).where(market, 0.0)
    return pd.DataFrame(
        {
            "disposed": gone,
            "route": c["route"].where(gone, "keep"),
            "receipt_gbp": (c["receipt_k"] * 1000).where(gone, 0.0),
            "disposal_cost_gbp": (c["disposal_cost_k"] * 1000).where(gone, 0.0),
            "lease_exit_gbp": (c["lease_exit_k"] * 1000).where(gone, 0.0),
            "annual_saving_gbp": (c["running_k"] * 1000).where(gone, 0.0),
            "backlog_avoided_gbp": (c["backlog_k"] * 1000).where(gone, 0.0),
            "land_ha": land,
            "carbon_saved_tco2e": b["carbon_tco2e"].fillna(0.0).where(gone, 0.0),
            "gia_released_m2": b["gia_m2"].fillna(0.0).where(gone, 0.0),
        },
        index=b.index,
    )


def move_costs(estate: Estate, scenario: Scenario, parts: pd.DataFrame) -> pd.Series:
    """One-off move cost (pounds) of each part of the occupiers table that changes building."""
    space = estate.occupiers["space_m2"].reindex(parts["occupier_id"]).to_numpy()
    full = move_cost_k(pd.Series(space), scenario).to_numpy() * 1000
    moved = parts["from_building_id"].to_numpy() != parts["to_building_id"].to_numpy()
    return pd.Series(np.where(moved, full * parts["share"].to_numpy(), 0.0), index=parts.index)


def payback_years(net_upfront_gbp: float, annual_saving_gbp: float) -> float | None:
    """Years of savings that repay the one-off costs net of receipts.

    ``None`` when there is nothing to pay back (no net cost and no saving: no change);
    ``0.0`` when receipts cover the one-off costs and there is a saving; ``math.inf`` when
    it never pays back (a net cost and no saving). `payback_words` says which.
    """
    if annual_saving_gbp <= 0 and net_upfront_gbp <= 0:
        return None
    if net_upfront_gbp <= 0:
        return 0.0
    if annual_saving_gbp > 0:
        return net_upfront_gbp / annual_saving_gbp
    return math.inf


def payback_words(years: float | None) -> str:
    """A payback for people: ``'0.8 years'``, ``'never'`` (`math.inf`) or ``'n/a'`` (`None`)."""
    if years is None:
        return "n/a"
    if math.isinf(years):
        return "never"
    return f"{years:.1f} years"


def totals(estate: Estate, scenario: Scenario, money: pd.DataFrame, moves_gbp: float) -> dict[str, Any]:
    """The headline KPIs (pounds, ha, homes, jobs, tCO2e); ``payback_years`` as `payback_years`
    gives it (a JSON summary writes both "never" and "nothing to pay back" as null)."""
    receipts = float(money["receipt_gbp"].sum())
    saving = float(money["annual_saving_gbp"].sum())
    one_off = moves_gbp + float(money["disposal_cost_gbp"].sum() + money["lease_exit_gbp"].sum())
    backlog = float(money["backlog_avoided_gbp"].sum())
    running_total = float(estate.buildings["running_cost_gbp"].fillna(0.0).sum())
    npv = scenario.annuity_factor * saving + receipts + backlog - one_off
    land = float(money["land_ha"].sum())
    return {
        "capital_receipts_gbp": receipts,
        "annual_revenue_saving_gbp": saving,
        "annual_revenue_saving_pct": 100 * saving / running_total if running_total else 0.0,
        "one_off_cost_gbp": one_off,
        "move_cost_gbp": moves_gbp,
        "backlog_avoided_gbp": backlog,
        "npv_gbp": npv,
        "payback_years": payback_years(one_off - receipts, saving),
        "land_ha": land,
        "homes": land * scenario.housing_share * scenario.homes_per_ha,
        "jobs": land * (1 - scenario.housing_share) * scenario.jobs_per_ha,
        "carbon_tco2e_saved": float(money["carbon_saved_tco2e"].sum()),
        "buildings_before": len(estate.buildings),
        "buildings_after": int((~money["disposed"]).sum()),
        "floor_area_released_m2": float(money["gia_released_m2"].sum()),
        "running_cost_before_gbp": running_total,
    }


def partner_totals(
    estate: Estate, money: pd.DataFrame, parts: pd.DataFrame, part_cost: pd.Series
) -> pd.DataFrame:
    """Per partner: who gains and who pays. Disposal money goes to the owner, moves to the occupier."""
    b = estate.buildings
    owner = b["owner"]
    frame = money.assign(partner=owner)
    grouped = frame.groupby("partner").agg(
        buildings_before=("disposed", "size"),
        buildings_disposed=("disposed", "sum"),
        capital_receipts_gbp=("receipt_gbp", "sum"),
        annual_revenue_saving_gbp=("annual_saving_gbp", "sum"),
        disposal_and_exit_cost_gbp=("disposal_cost_gbp", "sum"),
        lease_exit_gbp=("lease_exit_gbp", "sum"),
        land_ha=("land_ha", "sum"),
        carbon_tco2e_saved=("carbon_saved_tco2e", "sum"),
    )
    grouped["disposal_and_exit_cost_gbp"] += grouped.pop("lease_exit_gbp")
    partner_of = estate.occupiers["partner"].reindex(parts["occupier_id"]).to_numpy()
    moves = pd.Series(part_cost.to_numpy(), index=partner_of).groupby(level=0).sum()
    grouped = grouped.reindex(grouped.index.union(moves.index), fill_value=0)
    grouped["move_cost_gbp"] = moves.reindex(grouped.index, fill_value=0.0)
    grouped["one_off_cost_gbp"] = grouped["disposal_and_exit_cost_gbp"] + grouped["move_cost_gbp"]
    grouped["buildings_after"] = grouped["buildings_before"] - grouped["buildings_disposed"]
    return grouped.rename_axis("partner").reset_index()


def sites_by_service(estate: Estate, parts: pd.DataFrame, *, after: bool) -> dict[str, set[str]]:
    """Buildings where each service is offered, today or after the plan."""
    column = "to_building_id" if after else "from_building_id"
    occ = estate.occupiers
    table = parts.assign(service=occ["service"].reindex(parts["occupier_id"]).to_numpy())
    table = table[table["share"] > 1e-6] if after else table
    return {s: set(g[column]) for s, g in table.groupby("service")}


def access_outcomes(estate: Estate, standards: list[AccessStandard], parts: pd.DataFrame) -> pd.DataFrame:
    """Per standard, before and after: population within reach, mean and p95 road km.

    Reach follows the standard (road km = straight km x detour factor, or minutes). Mean and
    95th-percentile distance are to the nearest site offering the service, population
    weighted; the same figures for the most deprived zones (IMD deciles 1-2, or the
    standard's own protection).
    """
    zones = estate.zones
    rows = []
    if zones.empty:
        return pd.DataFrame()
    before_sites = sites_by_service(estate, parts, after=False)
    after_sites = sites_by_service(estate, parts, after=True)
    pop = zones["population"].astype(float)
    total = float(pop.sum())
    for standard in standards:
        s = standard.service
        reach = reach_pairs(estate, standard)
        deciles = standard.protect_deprived_deciles or DEPRIVED_DECILES
        deprived = zones["imd_decile"].notna() & (zones["imd_decile"] <= deciles)
        row: dict[str, Any] = {
            "service": s,
            "rule": standard.rule,
            "reach_km": standard.reach_km,
            "reach_min": standard.reach_min,
            "min_share": standard.min_share,
            "deprived_deciles": deciles,
        }
        for label, sites in (("before", before_sites.get(s, set())), ("after", after_sites.get(s, set()))):
            covered = set(reach.loc[reach["building_id"].isin(sites), "zone_id"])
            inside = zones.index.isin(list(covered))
            row[f"{label}_sites"] = len(sites)
            row[f"{label}_population"] = float(pop[inside].sum())
            row[f"{label}_share"] = float(pop[inside].sum()) / total if total else 0.0
            row[f"{label}_zones"] = int(inside.sum())
            dist = _nearest_road_km(estate, sites)
            row[f"{label}_mean_km"] = _weighted_mean(dist, pop)
            row[f"{label}_p95_km"] = _weighted_quantile(dist, pop, 0.95)
            row[f"{label}_deprived_population"] = float(pop[inside & deprived].sum())
            row[f"{label}_deprived_share"] = (
                float(pop[inside & deprived].sum()) / float(pop[deprived].sum())
                if pop[deprived].sum()
                else 0.0
            )
            row[f"{label}_deprived_mean_km"] = _weighted_mean(dist[deprived.to_numpy()], pop[deprived])
        row["zones_losing_reach"] = row["before_zones"] - row["after_zones"]
        rows.append(row)
    return pd.DataFrame(rows)


def _nearest_road_km(estate: Estate, sites: set[str]) -> np.ndarray:
    zones = estate.zones
    if not sites:
        return np.full(len(zones), np.nan)
    b = estate.buildings.loc[sorted(sites)]
    tree = shapely.STRtree(shapely.points(b[["easting", "northing"]].to_numpy()))
    zpts = shapely.points(zones[["easting", "northing"]].to_numpy())
    _, dist = tree.query_nearest(zpts, return_distance=True, all_matches=False)
    return np.asarray(dist) / 1000 * estate.travel.detour_factor


def _weighted_mean(values: np.ndarray, weights: pd.Series) -> float:
    w = weights.to_numpy(dtype=float)
    ok = ~np.isnan(values)
    return float(np.average(values[ok], weights=w[ok])) if ok.any() and w[ok].sum() > 0 else math.nan


def _weighted_quantile(values: np.ndarray, weights: pd.Series, q: float) -> float:
    w = weights.to_numpy(dtype=float)
    ok = ~np.isnan(values)
    if not ok.any() or w[ok].sum() <= 0:
        return math.nan
    order = np.argsort(values[ok])
    v, cum = values[ok][order], np.cumsum(w[ok][order])
    return float(v[np.searchsorted(cum, q * cum[-1])])


__all__ = [
    "ROUTE_CAT",
    "access_outcomes",
    "money_by_building",
    "move_costs",
    "partner_totals",
    "payback_words",
    "payback_years",
    "sites_by_service",
    "totals",
]
