"""Check a written plan from its CSV files alone: no model, no optimiser maths, just pandas.

Used by the property tests and the CLI tests. Raises AssertionError naming what broke. The
folder is first checked against its manifest (`optimiser.report.rundir.verify_run_dir`), and text
read from the CSVs is compared only after taking off the apostrophe that makes it inert
(`optimiser.report.inert.original_text`; service names come from summary.json, which has none).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.report.inert import original_text
from optimiser.report.rundir import verify_run_dir


def check_written_plan(out: Path, *, cat_discount: float = 1.0) -> dict[str, float]:
    """Housing, capacity, kept hosts, access standards, saving and receipts; returns figures."""
    verify_run_dir(out)
    b = pd.read_csv(out / "buildings.csv", dtype={"building_id": str}).set_index("building_id")
    o = pd.read_csv(
        out / "occupiers.csv", dtype={"occupier_id": str, "from_building_id": str, "to_building_id": str}
    )
    o["service"] = o["service"].map(original_text)
    z = pd.read_csv(out / "zones.csv", dtype={"zone_id": str}).set_index("zone_id")
    summary = json.loads((out / "summary.json").read_text())

    # every occupier housed exactly once (shares add to 1)
    shares = o.groupby("occupier_id")["share"].sum()
    assert np.allclose(shares, 1.0, atol=1e-6), shares[~np.isclose(shares, 1.0)]
    # only kept buildings house anyone
    hosts = set(o["to_building_id"])
    disposed = set(b.index[b["decision"] == "dispose"])
    assert not hosts & disposed, f"disposed buildings still house occupiers: {hosts & disposed}"
    # capacity: space housed <= capacity (or today's use, where a building is over-full today)
    today = o.groupby("from_building_id")["space_m2"].sum()
    after = o.groupby("to_building_id")["space_m2"].sum()
    limit = np.maximum(b["capacity_m2"].reindex(after.index).fillna(0), today.reindex(after.index).fillna(0))
    over = after[after > limit + 1e-6]
    assert over.empty, f"over capacity: {over.to_dict()}"
    # revenue saving and receipts
    saving = float(b.loc[b["decision"] == "dispose", "running_cost_gbp"].fillna(0).sum())
    assert saving == pytest_approx(summary["kpis"]["annual_revenue_saving_gbp"])
    value = b["market_value_gbp"].fillna(0)
    receipt = np.where(
        b["route"] == "market_sale",
        value,
        np.where(b["route"] == "community_asset_transfer", value * (1 - cat_discount), 0.0),
    )
    receipts = float(receipt[(b["decision"] == "dispose").to_numpy()].sum())
    assert receipts == pytest_approx(summary["kpis"]["capital_receipts_gbp"])
    # access standards, recomputed from coordinates (straight km x detour factor)
    detour = summary["detour_factor"]
    zxy = z[["easting", "northing"]].to_numpy()
    for service, std in summary["access"].items():
        if std.get("reach_km") is None:
            continue
        movers = o[o["service"] == service]
        cover = {}
        for label, column in (("before", "from_building_id"), ("after", "to_building_id")):
            sites = (
                sorted(set(movers.loc[movers["share"] > 1e-6, column]))
                if label == "after"
                else sorted(set(movers[column]))
            )
            if not sites:
                cover[label] = np.zeros(len(z), dtype=bool)
                continue
            sxy = b.loc[sites, ["easting", "northing"]].to_numpy()
            d = np.sqrt(((zxy[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2)) / 1000 * detour
            cover[label] = (d <= std["reach_km"] + 1e-9).any(axis=1)
        pop = z["population"].to_numpy()
        assert float(pop[cover["before"]].sum()) == pytest_approx(std["before_population"], abs_=1)
        assert float(pop[cover["after"]].sum()) == pytest_approx(std["after_population"], abs_=1)
        if std["rule"] == "keep_current":
            lost = z.index[cover["before"] & ~cover["after"]]
            assert lost.empty, f"{service}: zones lost reach: {list(lost[:5])}"
        if std["rule"] == "min_share":
            assert pop[cover["after"]].sum() >= std["min_share"] * pop.sum() - 1e-6
    check_partner_ledger(out)
    return {"saving": saving, "receipts": receipts}


LEDGER_TOTALS = (  # partners.csv column -> summary.json kpi it adds up to
    ("capital_receipts_gbp", "capital_receipts_gbp"),
    ("annual_revenue_saving_gbp", "annual_revenue_saving_gbp"),
    ("backlog_avoided_gbp", "backlog_avoided_gbp"),
    ("move_cost_gbp", "move_cost_gbp"),
    ("one_off_cost_gbp", "one_off_cost_gbp"),
    ("npv_gbp", "npv_gbp"),
    ("buildings_before", "buildings_before"),
    ("buildings_after", "buildings_after"),
)


def check_partner_ledger(out: Path) -> None:
    """The partner ledger in partners.csv adds up to the place's totals in summary.json to the
    penny, its charges paid equal those received, and each NPV is its parts (owner rule) or
    its share (pooled); receipts and savings follow the owners in buildings.csv."""
    p = pd.read_csv(out / "partners.csv")
    p["partner"] = p["partner"].map(original_text)
    summary = json.loads((out / "summary.json").read_text())
    kpis = summary["kpis"]
    for column, kpi in LEDGER_TOTALS:
        assert abs(p[column].sum() - kpis[kpi]) <= 0.005, (column, p[column].sum(), kpis[kpi])
    paid, received = p["occupancy_charges_paid_gbp"].sum(), p["occupancy_charges_received_gbp"].sum()
    assert abs(paid - received) <= 0.005, (paid, received)
    af = _annuity(summary["appraisal"]["years"], summary["appraisal"]["discount_rate"])
    if (summary.get("phasing") or {}).get("phased"):  # a programme: the partners' discounted rows
        parts = _phased_parts(out, summary, p["partner"])
    else:
        parts = _static_parts(p, af)
    assert np.allclose(parts, p["owner_rule_npv_gbp"], atol=0.005), (parts, p["owner_rule_npv_gbp"])
    if summary.get("sharing_rule") == "pooled":
        assert np.allclose(p["npv_gbp"], p["pooled_share"] * kpis["npv_gbp"], atol=0.005)
    else:
        assert np.allclose(p["npv_gbp"], p["owner_rule_npv_gbp"], atol=0.005)
    b = pd.read_csv(out / "buildings.csv", dtype={"building_id": str})
    if "owner" in b:
        gone = b[b["decision"] == "dispose"]
        by_owner = gone.groupby(gone["owner"].map(original_text))["running_cost_gbp"].sum()
        mine = p.set_index("partner")["annual_revenue_saving_gbp"]
        assert np.allclose(by_owner.reindex(mine.index, fill_value=0.0), mine, atol=0.005)
    for partner, entry in summary["partners"].items():
        row = p[p["partner"] == partner]
        assert len(row) == 1 and abs(float(row["npv_gbp"].iloc[0]) - entry["npv_gbp"]) <= 0.005, partner


def _static_parts(p: pd.DataFrame, af: float) -> pd.Series:
    return (
        af * p["annual_revenue_saving_gbp"]
        + p["capital_receipts_gbp"]
        + p["backlog_avoided_gbp"]
        - p["one_off_cost_gbp"]
        + p["occupancy_charges_received_gbp"]
        - p["occupancy_charges_paid_gbp"]
    )


def _phased_parts(out: Path, summary: dict, partners: pd.Series) -> np.ndarray:
    """Each partner's discounted sum of its rows in partners_by_year.csv, redone from the cash."""
    y = pd.read_csv(out / "partners_by_year.csv")
    y["partner"] = y["partner"].map(original_text)
    rules = summary["phasing"]
    net = (
        y["receipts_gbp"]
        - y["one_off_cost_gbp"]
        + y["saving_gbp"]
        + y["occupancy_charges_received_gbp"]
        - y["occupancy_charges_paid_gbp"]
    )
    factor = (1 + rules["discount_rate"]) ** -(y["year"] - rules["start_year"])
    own = (net * factor).groupby(y["partner"]).sum()
    return own.reindex(partners, fill_value=0.0).to_numpy()


def _annuity(years: int, rate: float) -> float:
    return float(years) if rate == 0 else (1 - (1 + rate) ** -years) / rate


class pytest_approx:
    def __init__(self, expected: float, rel: float = 1e-6, abs_: float = 1e-6) -> None:
        self.expected, self.rel, self.abs = expected, rel, abs_

    def __eq__(self, other: object) -> bool:
        return abs(float(other) - self.expected) <= max(self.abs, self.rel * abs(self.expected))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"{self.expected} ± {max(self.abs, self.rel * abs(self.expected))}"
