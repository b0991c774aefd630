"""Check a phased run from the input GeoPackage and the run's output files alone.

No project code: the estate's tables are read with geopandas, the run's ``programme.csv``,
``cashflow.csv`` and ``summary.json`` with pandas and json, and every rule of a programme is
checked year by year (docs/outputs.md says what each column means):

1. no leasehold leaves before its break or its lease end unless an exit cost was paid, and that
   cost is counted in the year's one-off costs;
2. no building is disposed of while an occupier (or a share of one) is still in it;
3. no team moves into a building that is disposed of at any time;
4. capacity holds in every year (stated capacity, or today's use where larger);
5. every access standard of the estate's access table holds in every year (road km = straight
   km x the run's detour factor);
6. the cash-flow rule, the year's capital budget and the delivery capacity hold in every year;
7. the cash-flow rows add up, and the NPV in summary.json is the discounted sum of them.

An event in calendar year ``Y`` takes effect from year ``Y + 1``. Raises AssertionError naming
what broke; returns a few figures. Run as ``python tests/phased_check.py GPKG OUT_DIR``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

TOL = 1e-6


def _text(series: pd.Series) -> pd.Series:
    """Text cells as written (a leading apostrophe keeps a cell inert in spreadsheets)."""
    return series.fillna("").astype(str).str.replace(r"^'", "", regex=True)


def check_phased_run(gpkg: Path, out: Path) -> dict[str, float]:
    buildings = gpd.read_file(gpkg, layer="buildings").set_index("building_id")
    occupiers = gpd.read_file(gpkg, layer="occupiers").set_index("occupier_id")
    zones = gpd.read_file(gpkg, layer="zones").set_index("zone_id")
    access = pd.DataFrame(gpd.read_file(gpkg, layer="access"))
    summary = json.loads((out / "summary.json").read_text())
    events = pd.read_csv(out / "programme.csv", dtype=str, keep_default_na=False)
    cash = pd.read_csv(out / "cashflow.csv")
    rules = summary["phasing"]
    start, years, rate, lag = (
        rules["start_year"],
        rules["years"],
        rules["discount_rate"],
        rules["receipt_lag_years"],
    )
    for col in ("event", "building_id", "route", "occupier_id", "from_building_id", "to_building_id"):
        events[col] = _text(events[col])
    for col in ("year", "share", "cash_gbp", "one_off_cost_gbp", "receipt_gbp"):
        events[col] = pd.to_numeric(events[col])
    leaving = events[events["event"].isin(["dispose", "lease_exit", "lease_end"])]
    moves = events[events["event"] == "move"]
    assert not leaving["building_id"].duplicated().any(), "a building leaves twice"
    gone_year = dict(zip(leaving["building_id"], leaving["year"], strict=True))

    # 1. leaseholds leave at a break, from the lease end, or at a cost
    for _, e in leaving.iterrows():
        b = buildings.loc[e["building_id"]]
        if b["tenure"] != "leasehold":
            assert e["event"] == "dispose", f"freehold {e['building_id']} left by {e['event']}"
            continue
        assert e["event"] in ("lease_exit", "lease_end"), f"leasehold {e['building_id']} left by {e['event']}"
        at_break = not pd.isna(b["break_year"]) and e["year"] == int(b["break_year"])
        at_end = not pd.isna(b["lease_end_year"]) and e["year"] >= int(b["lease_end_year"])
        if not (at_break or at_end):
            assert e["one_off_cost_gbp"] > 0, (
                f"leasehold {e['building_id']} left in {e['year']} (break {b['break_year']}, end "
                f"{b['lease_end_year']}) without an exit cost"
            )
    # the year's one-off costs and receipts are the events' own
    one_off = events.groupby("year")["one_off_cost_gbp"].sum()
    receipts = events.groupby(events["year"] + lag)["receipt_gbp"].sum()
    for _, row in cash.iterrows():
        y = int(row["year"])
        assert abs(row["one_off_cost_gbp"] - one_off.get(y, 0.0)) <= TOL * max(
            1.0, abs(row["one_off_cost_gbp"])
        ), f"{y}: cashflow one-off {row['one_off_cost_gbp']} but events {one_off.get(y, 0.0)}"
        assert abs(row["receipts_gbp"] - receipts.get(y, 0.0)) <= TOL * max(1.0, abs(row["receipts_gbp"])), (
            f"{y}: cashflow receipts {row['receipts_gbp']} but events {receipts.get(y, 0.0)}"
        )
    assert receipts.index.max() <= start + years if len(receipts) else True, "a receipt after the period"

    # 3. moves only into buildings that are never disposed of
    into_gone = sorted(set(moves["to_building_id"]) & set(gone_year))
    assert not into_gone, f"teams move into buildings later disposed of: {into_gone}"

    # the estate year by year
    space = occupiers["space_m2"].astype(float)
    today_load = space.groupby(occupiers["building_id"]).sum()
    capacity = np.maximum(
        buildings["capacity_m2"].astype(float).fillna(0.0), today_load.reindex(buildings.index).fillna(0.0)
    )
    detour = float(summary["detour_factor"])
    bxy = np.column_stack([buildings.geometry.x, buildings.geometry.y])
    zxy = np.column_stack([zones.geometry.x, zones.geometry.y])
    road_km = np.hypot(zxy[:, None, 0] - bxy[None, :, 0], zxy[:, None, 1] - bxy[None, :, 1]) / 1000 * detour
    pos = {bid: i for i, bid in enumerate(buildings.index)}
    pop = zones["population"].astype(float).to_numpy()
    standards = access[access.get("enabled", pd.Series(True, index=access.index)).fillna(True).astype(bool)]
    standards = standards[standards["reach_km"].notna()]  # minutes need the travel matrix: not checked here
    public = occupiers[occupiers["public_facing"].astype(bool)]

    def sites(parts: dict[tuple[str, str], float], service: str, gone: set[str]) -> list[str]:
        return sorted(
            {
                h
                for (a, h), share in parts.items()
                if share > TOL and a in public.index and public.at[a, "service"] == service and h not in gone
            }
        )

    def reached(site_ids: list[str], reach: float) -> np.ndarray:
        if not site_ids:
            return np.zeros(len(zones), dtype=bool)
        cols = [pos[h] for h in site_ids]
        return (road_km[:, cols] <= reach + 1e-9).any(axis=1)

    today_parts = dict.fromkeys(occupiers["building_id"].items(), 1.0)
    before = {
        s["service"]: reached(sites(today_parts, s["service"], set()), float(s["reach_km"]))
        for _, s in standards.iterrows()
    }
    movers_by_year: dict[int, set[str]] = defaultdict(set)
    for _, m in moves.iterrows():
        movers_by_year[int(m["year"])].add(m["occupier_id"])
    for y in range(start + 1, start + years + 1):
        parts = dict(today_parts)
        for _, m in moves[moves["year"] < y].iterrows():
            a, frm, to, share = m["occupier_id"], m["from_building_id"], m["to_building_id"], m["share"]
            parts[(a, frm)] = parts.get((a, frm), 0.0) - share
            parts[(a, to)] = parts.get((a, to), 0.0) + share
        assert all(v >= -TOL for v in parts.values()), f"{y}: an occupier moved more than all of itself"
        gone = {bid for bid, when in gone_year.items() if when < y}
        load: dict[str, float] = defaultdict(float)
        for (a, h), share in parts.items():
            load[h] += share * float(space[a])
            # 2. nobody in a building that is gone
            assert not (h in gone and share > TOL), (
                f"{y}: {a} is still in {h}, disposed of in {gone_year.get(h)}"
            )
        # 4. capacity
        over = {h: v for h, v in load.items() if v > float(capacity[h]) + 1e-6}
        assert not over, f"{y}: over capacity {over}"
        # 5. access
        for _, s in standards.iterrows():
            service = s["service"]
            now = reached(sites(parts, service, gone), float(s["reach_km"]))
            deciles = int(s["protect_deprived_deciles"] or 0)
            deprived = zones["imd_decile"].notna().to_numpy() & (
                zones["imd_decile"].fillna(99).to_numpy() <= deciles
            )
            if s["rule"] == "keep_current":
                lost = before[service] & ~now
            else:
                lost = before[service] & deprived & ~now
                share = pop[now].sum() / pop.sum()
                assert share >= float(s["min_share"]) - 1e-9, (
                    f"{y}: {service} reaches {share:.4f} < {s['min_share']}"
                )
            assert not lost.any(), f"{y}: {service}: zones lose reach: {list(zones.index[lost][:5])}"

    # 6. yearly rules
    cumulative = (cash["receipts_gbp"] - cash["one_off_cost_gbp"]).cumsum()
    if rules["cash_flow_rule"]:
        upfront = float(rules["upfront_investment_gbp"])
        worst = float((cumulative + upfront).min())
        assert worst >= -1e-3, f"cash-flow rule broken: lowest balance {worst:,.2f}"
    if rules.get("capital_budget_per_year_gbp") is not None:
        assert (cash["one_off_cost_gbp"] <= rules["capital_budget_per_year_gbp"] + 1e-3).all(), (
            "year budget broken"
        )
    if rules.get("max_disposals_per_year") is not None:
        per_year = leaving.groupby("year").size()
        assert (per_year <= rules["max_disposals_per_year"]).all(), (
            f"too many disposals: {per_year.to_dict()}"
        )
    if rules.get("max_moves_per_year") is not None:
        per_year = {y: len(a) for y, a in movers_by_year.items()}
        assert all(n <= rules["max_moves_per_year"] for n in per_year.values()), f"too many moves: {per_year}"

    # 7. the rows add up and the NPV is theirs
    t = cash["year"].to_numpy() - start
    assert list(t) == list(range(years + 1)), "cashflow.csv must have one row per year 0..T"
    net = cash["receipts_gbp"] - cash["one_off_cost_gbp"] + cash["saving_gbp"]
    assert np.allclose(net, cash["net_gbp"], rtol=1e-9, atol=1e-6), (
        "net_gbp is not receipts - one-off + saving"
    )
    assert np.allclose(net.cumsum(), cash["cumulative_net_gbp"], rtol=1e-9, atol=1e-3)
    factor = (1 + rate) ** -t.astype(float)
    assert np.allclose(factor, cash["discount_factor"], rtol=1e-12)
    npv = float((net * factor).sum())
    assert abs(npv - summary["npv_gbp"]) <= 1e-6 * max(1.0, abs(npv)), (
        f"NPV {summary['npv_gbp']} but rows give {npv}"
    )
    assert abs(npv - float(cash["discounted_net_gbp"].sum())) <= 1e-6 * max(1.0, abs(npv))
    peak = float((-cash["cumulative_net_gbp"]).clip(lower=0).max())
    assert abs(peak - summary["peak_investment_gbp"]) <= 1e-6 * max(1.0, peak)
    return {"npv_gbp": npv, "events": float(len(events)), "lowest_cash_gbp": float(cumulative.min())}


if __name__ == "__main__":
    print(check_phased_run(Path(sys.argv[1]), Path(sys.argv[2])))
