"""The partner figures as the app and the board pack show them: who gains, who pays, stand-alone.

Reads a saved plan's ``partners`` table and ``summary.json`` only (no model, no solve).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from optimiser.report.kpis import format_money

SHARE = "share under the rule"
STANDALONE = "stand-alone plan"


def partnership_headline(summary: Mapping[str, Any]) -> str | None:
    """'£4,378,828': the partnership value, or None when stand-alone plans were not solved."""
    value = summary.get("partnership_value_gbp")
    return None if value is None else format_money(value)


def partner_chart(partners: pd.DataFrame) -> pd.DataFrame:
    """Long table for diverging bars: per partner its NPV under the sharing rule and, when
    solved, its stand-alone NPV, each with its label (``£1,644,874``, ``-£803,243``).

    Partners with nothing either way are left out; largest share first.
    """
    columns = ["partner", "measure", "gbp", "label"]
    if partners.empty or "npv_gbp" not in partners:
        return pd.DataFrame(columns=columns)
    table = partners.copy()
    standalone = (
        table["standalone_npv_gbp"] if "standalone_npv_gbp" in table else pd.Series(float("nan"), table.index)
    )
    table = table.assign(standalone=pd.to_numeric(standalone, errors="coerce"))
    table = table[(table["npv_gbp"].abs() > 0.5) | (table["standalone"].fillna(0).abs() > 0.5)]
    table = table.sort_values("npv_gbp", ascending=False)
    rows = []
    for _, r in table.iterrows():
        rows.append((str(r["partner"]), SHARE, float(r["npv_gbp"]), format_money(r["npv_gbp"])))
        if pd.notna(r["standalone"]):
            rows.append(
                (str(r["partner"]), STANDALONE, float(r["standalone"]), format_money(r["standalone"]))
            )
    return pd.DataFrame(rows, columns=columns)


def partner_table(partners: pd.DataFrame) -> pd.DataFrame:
    """The ledger, readable: who gains and who pays, in pounds as shown everywhere."""
    names = {
        "partner": "partner",
        "group": "group",
        "npv_gbp": "NPV under the rule",
        "standalone_npv_gbp": "stand-alone NPV",
        "capital_receipts_gbp": "receipts",
        "annual_revenue_saving_gbp": "saving a year",
        "move_cost_gbp": "moves",
        "occupancy_charges_paid_gbp": "occupancy charges paid",
        "occupancy_charges_received_gbp": "occupancy charges received",
        "buildings_before": "buildings before",
        "buildings_after": "after",
    }
    table = partners[[c for c in names if c in partners]].copy()
    for column in table.columns:
        if column.endswith("_gbp"):
            table[column] = table[column].map(format_money)
    return table.rename(columns=names)


__all__ = ["SHARE", "STANDALONE", "partner_chart", "partner_table", "partnership_headline"]
