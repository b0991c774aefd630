"""A plan's headline figures as everyone sees them: the KPI keys, cards, formats and tables. No Streamlit.

`KPI_KEYS` names the headline figures of a plan (``Plan.kpis``, ``summary.json``'s ``kpis``, the
sweep's KPI columns). `kpi_cards` turns a plan's summary into labelled, formatted figures, each
marked when it rests on modelled building data. The app, the map and the board pack show exactly
these strings (`format_value`, `format_money`, `format_number`), so what is on screen can be
checked against the CLI's ``summary.json``. The tables (`savings_breakdown`, `partner_savings`,
`access_table`, `disposals_table`, `kpi_table`) are the readable views every page and the board
pack share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from estate.schema import LIST_SEPARATOR
from optimiser.report.words import display_name, service_name

KPI_KEYS = (
    "capital_receipts_gbp",
    "annual_revenue_saving_gbp",
    "annual_revenue_saving_pct",
    "one_off_cost_gbp",
    "move_cost_gbp",
    "backlog_avoided_gbp",
    "npv_gbp",
    "payback_years",
    "land_ha",
    "homes",
    "jobs",
    "carbon_tco2e_saved",
    "buildings_before",
    "buildings_after",
)
"""The headline figures of a plan (pounds, ha, homes, jobs, tCO2e, buildings), in the order tables list them."""

# What rests on modelled building data, said once for each place it is shown:
MODELLED_NOTE = (
    "Figures marked “modelled” rest on building data that was modelled from published benchmarks "
    "rather than measured (market values, running costs, floor areas, site areas, carbon); the "
    "buildings' `modelled` column lists which. Replace them with partners' own figures before "
    "relying on them."
)
"""Beside the KPI cards: in the app and the board pack."""
MODELLED_FILE_NOTE = (
    "Columns listed in `modelled` were modelled from published benchmarks, not measured; see data/README.md."
)
"""In ``summary.json`` (``note``), beside the tables whose ``modelled`` column it explains."""
MODELLED_FOOTNOTE = "* modelled, not measured (see data/README.md)"
"""Under a map popup whose starred figures were modelled."""


@dataclass(frozen=True)
class KpiCard:
    """One headline figure, formatted for display."""

    key: str
    label: str
    value: str  # as shown, e.g. "£1,380,000"
    number: float | None  # the figure itself (pounds, years, ha, ...), None when undefined
    modelled: bool  # rests on modelled building data
    note: str  # what it means and, when modelled, on what


# key, label, format, modelled building columns it rests on, modelled assumption, explanation
_CARDS: tuple[tuple[str, str, str, tuple[str, ...], str, str], ...] = (
    (
        "capital_receipts_gbp",
        "Capital receipts",
        "gbp",
        ("market_value_gbp",),
        "",
        "Net sale proceeds of the buildings disposed of by market sale or community transfer.",
    ),
    (
        "annual_revenue_saving_gbp",
        "Annual revenue saving",
        "gbp",
        ("running_cost_gbp",),
        "",
        "Running costs no longer paid each year for the buildings disposed of.",
    ),
    (
        "one_off_cost_gbp",
        "One-off cost",
        "gbp",
        ("disposal_cost_gbp",),
        "the scenario's move cost per m²",
        "Moves and fit-out, disposal fees and lease exits.",
    ),
    (
        "payback_years",
        "Payback",
        "years",
        ("running_cost_gbp", "market_value_gbp"),
        "",
        "Years of revenue savings needed to repay one-off costs net of receipts.",
    ),
    (
        "npv_gbp",
        "NPV",
        "gbp",
        ("running_cost_gbp", "market_value_gbp", "backlog_gbp"),
        "",
        "Discounted savings plus receipts and backlog avoided, minus one-off costs, over the appraisal period.",
    ),
    (
        "homes",
        "Homes",
        "count",
        ("site_area_ha",),
        "the scenario's homes per hectare",
        "Homes the land released could take.",
    ),
    (
        "jobs",
        "Jobs",
        "count",
        ("site_area_ha",),
        "the scenario's jobs per hectare",
        "Jobs the land released could take.",
    ),
    ("land_ha", "Land released", "ha", ("site_area_ha",), "", "Land released by market disposals."),
    (
        "carbon_tco2e_saved",
        "Carbon saved",
        "tco2e",
        ("carbon_tco2e",),
        "",
        "Annual emissions of the buildings disposed of.",
    ),
    (
        "buildings",
        "Buildings",
        "before_after",
        (),
        "",
        "Buildings before and after the plan (counted, not modelled).",
    ),
)


def is_blank(value: Any) -> bool:
    """True for a cell with no value: None, NA, NaN or NaT."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _no_number(value: Any) -> bool:
    return is_blank(value) or (isinstance(value, float) and not math.isfinite(value))


def format_money(value: Any) -> str:
    """Pounds as shown everywhere: ``£1,380,000``, ``-£27,600``; ``–`` when there is none."""
    if _no_number(value):
        return "–"
    number = float(value)
    return f"-£{abs(number):,.0f}" if number < 0 else f"£{number:,.0f}"


def format_number(value: Any, unit: str = "", digits: int = 0) -> str:
    """A figure with thousands separators, `digits` decimals and a unit: ``1,234 m²``; ``–`` when none."""
    if _no_number(value):
        return "–"
    return f"{float(value):,.{digits}f}{(' ' + unit) if unit else ''}"


_FORMATS: dict[str, Callable[[Any], str]] = {
    "gbp": format_money,
    "years": lambda v: format_number(v, "years", 1),
    "count": format_number,
    "ha": lambda v: format_number(v, "ha", 2),
    "tco2e": lambda v: format_number(v, "tCO2e/yr"),
}


def format_value(kind: str, value: Any) -> str:
    """Format one KPI value as the app and the board pack show it (a missing payback is "never")."""
    if _no_number(value):
        return "never" if kind == "years" else "–"
    if kind not in _FORMATS:
        msg = f"Unknown KPI format {kind!r}."
        raise ValueError(msg)
    return _FORMATS[kind](value)


def modelled_set(value: Any) -> set[str]:
    """The column names in a building's ``modelled`` cell (``;``-separated text, or a list)."""
    if isinstance(value, str):
        return {v for v in value.split(LIST_SEPARATOR) if v}
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v) for v in value}
    return set()


def kpi_cards(summary: Mapping[str, Any], buildings: pd.DataFrame | None = None) -> list[KpiCard]:
    """The headline figures of a plan, formatted, each marked when it rests on modelled data.

    Parameters
    ----------
    summary
        `Plan.summary_dict()` (or the CLI's ``summary.json``).
    buildings
        `Plan.buildings`, whose ``modelled`` column tells which figures were modelled. Without
        it, a figure counts as modelled when any building could contribute modelled data.

    """
    kpis = summary.get("kpis", {})
    modelled_cols = _modelled_columns(buildings)
    cards = []
    for key, label, kind, columns, assumption, explanation in _CARDS:
        if kind == "before_after":
            before, after = kpis.get("buildings_before"), kpis.get("buildings_after")
            value = f"{int(before):,} → {int(after):,}" if before is not None and after is not None else "–"
            number = None if after is None or before is None else float(after) - float(before)
            cards.append(KpiCard(key, label, value, number, modelled=False, note=explanation))
            continue
        raw = kpis.get(key)
        used = [c for c in columns if modelled_cols is None or c in modelled_cols]
        note = explanation
        if key == "annual_revenue_saving_gbp" and kpis.get("annual_revenue_saving_pct") is not None:
            note += f" That is {float(kpis['annual_revenue_saving_pct']):.1f}% of today's running costs."
        if used or assumption:
            note += " Modelled: rests on " + ", ".join(
                [*(f"`{c}`" for c in used), *([assumption] if assumption else [])]
            )
            note += "."
        number = None if raw is None else float(raw)
        cards.append(KpiCard(key, label, format_value(kind, raw), number, bool(used or assumption), note))
    return cards


def _modelled_columns(buildings: pd.DataFrame | None) -> set[str] | None:
    if buildings is None or "modelled" not in buildings:
        return None
    disposed = (
        buildings[buildings["decision"].astype(str) == "dispose"] if "decision" in buildings else buildings
    )
    found: set[str] = set()
    for value in disposed["modelled"]:
        found |= modelled_set(value)
    return found


def savings_breakdown(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Where the NPV comes from: one row per component, in pounds (costs negative).

    The components add up to ``npv_gbp``: discounted revenue savings over the appraisal period,
    capital receipts, backlog avoided, minus moves and minus disposal and lease-exit costs.
    """
    k = summary.get("kpis", {})
    receipts = float(k.get("capital_receipts_gbp") or 0.0)
    backlog = float(k.get("backlog_avoided_gbp") or 0.0)
    one_off = float(k.get("one_off_cost_gbp") or 0.0)
    moves = float(k.get("move_cost_gbp") or 0.0)
    npv = float(k.get("npv_gbp") or 0.0)
    years = summary.get("appraisal", {}).get("years")
    savings = npv - receipts - backlog + one_off
    rows = [
        (f"Savings, {years} yrs (PV)" if years else "Savings (PV)", savings),
        ("Receipts", receipts),
        ("Backlog avoided", backlog),
        ("Moves, fit-out", -moves),
        ("Fees, lease exits", -(one_off - moves)),
    ]
    return pd.DataFrame(rows, columns=["component", "gbp"])


def partner_savings(partners: pd.DataFrame) -> pd.DataFrame:
    """Annual revenue saving and capital receipts per partner, largest first, for a chart."""
    cols = ["partner", "annual_revenue_saving_gbp", "capital_receipts_gbp", "one_off_cost_gbp"]
    if partners.empty:
        return pd.DataFrame(columns=cols)
    table = partners[[c for c in cols if c in partners]].copy()
    table = table[(table.drop(columns="partner").abs().sum(axis=1)) > 0]
    return table.sort_values("annual_revenue_saving_gbp", ascending=False).reset_index(drop=True)


def access_table(access: pd.DataFrame) -> pd.DataFrame:
    """Per service, the share of people within reach before and after, readable."""
    if access.empty:
        return pd.DataFrame(
            columns=[
                "service",
                "rule",
                "reach",
                "sites before → after",
                "people within reach before",
                "after",
                "most deprived before",
                "after ",
            ]
        )
    rows = []
    for _, r in access.iterrows():
        reach = (
            f"{float(r['reach_km']):g} km"
            if r.get("reach_km") is not None and not pd.isna(r.get("reach_km"))
            else f"{float(r['reach_min']):g} min"
        )
        rows.append(
            {
                "service": service_name(r["service"]),
                "rule": display_name("rule", r["rule"]),
                "reach": reach,
                "sites before → after": f"{int(r['before_sites'])} → {int(r['after_sites'])}",
                "people within reach before": f"{float(r['before_share']):.1%}",
                "after": f"{float(r['after_share']):.1%}",
                "most deprived before": _share(r.get("before_deprived_share")),
                "after ": _share(r.get("after_deprived_share")),
            }
        )
    return pd.DataFrame(rows)


def _share(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.1%}"


def disposals_table(buildings: pd.DataFrame) -> pd.DataFrame:
    """The disposal list: what goes, how, what it brings and why."""
    cols = [
        "building_id",
        "name",
        "owner",
        "borough",
        "route",
        "receipt_gbp",
        "annual_saving_gbp",
        "disposal_cost_gbp",
        "lease_exit_gbp",
        "land_ha",
        "reason",
    ]
    gone = buildings[buildings["decision"].astype(str) == "dispose"]
    return gone[[c for c in cols if c in gone]].reset_index(drop=True)


def kpi_table(records: Sequence[tuple[str, Mapping[str, Any], pd.DataFrame | None]]) -> pd.DataFrame:
    """KPIs of several runs side by side: one row per KPI, one column per run (for Compare).

    A KPI's label says "(modelled)" when it rests on modelled data in any of the runs.
    """
    columns: dict[str, list[str]] = {}
    labels: list[str] = [card[1] for card in _CARDS]
    modelled = [False] * len(labels)
    for name, summary, buildings in records:
        cards = kpi_cards(summary, buildings)
        modelled = [m or c.modelled for m, c in zip(modelled, cards, strict=True)]
        columns[name] = [c.value for c in cards] + [str(summary.get("status_words", ""))]
    index = [label + (" (modelled)" if m else "") for label, m in zip(labels, modelled, strict=True)] + [
        "Solution"
    ]
    return pd.DataFrame(columns, index=index)
