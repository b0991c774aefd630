"""Headline figures as the board sees them, and a printable, self-contained board pack. No Streamlit.

`kpi_cards` turns a plan's summary into labelled, formatted figures, each marked when it rests
on modelled building data. The app shows exactly these strings, so what is on screen can be
checked against the CLI's ``summary.json``. `board_pack_html` writes one HTML file with the map
(Leaflet inlined, no CDN), the KPIs, a chart of where the money comes from and the tables,
ready to print to PDF.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import folium
import pandas as pd

from optimiser.inert import inert_text
from optimiser.maps import standalone_parts

MODELLED_NOTE = (
    "Figures marked “modelled” rest on building data that was modelled from published benchmarks "
    "rather than measured (market values, running costs, floor areas, site areas, carbon); the "
    "buildings' `modelled` column lists which. Replace them with partners' own figures before "
    "relying on them."
)


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


def format_value(kind: str, value: Any) -> str:
    """Format one KPI value as the app and the board pack show it."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "never" if kind == "years" else "–"
    number = float(value)
    if kind == "gbp":
        return f"-£{abs(number):,.0f}" if number < 0 else f"£{number:,.0f}"
    if kind == "years":
        return f"{number:,.1f} years"
    if kind == "count":
        return f"{number:,.0f}"
    if kind == "ha":
        return f"{number:,.2f} ha"
    if kind == "tco2e":
        return f"{number:,.0f} tCO2e/yr"
    msg = f"Unknown KPI format {kind!r}."
    raise ValueError(msg)


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
    found: set[str] = set()
    disposed = (
        buildings[buildings["decision"].astype(str) == "dispose"] if "decision" in buildings else buildings
    )
    for value in disposed["modelled"]:
        if isinstance(value, str):
            found.update(v for v in value.split(";") if v)
        elif isinstance(value, (list, tuple, set, frozenset)):
            found.update(map(str, value))
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
                "service": r["service"],
                "rule": r["rule"],
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


# ---------------------------------------------------------------------- the board pack
_PACK_CSS = """
html, body { width: auto !important; height: auto !important; }
body { font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #222; margin: 24px !important;
       max-width: 1400px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid #ccc; }
.sub { color: #555; margin-bottom: 12px; }
.status { padding: 6px 10px; background: #eef5ee; border-left: 4px solid #1a9850; margin: 8px 0 14px; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 8px; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; break-inside: avoid; }
.kpi .label { font-size: 12px; color: #555; } .kpi .value { font-size: 18px; font-weight: 600; margin-top: 2px; }
.kpi .tag { font-size: 10px; color: #8a5a00; background: #fff3d6; border-radius: 3px; padding: 0 4px; }
.note { font-size: 11px; color: #666; margin-top: 6px; }
.mapbox { height: 520px; border: 1px solid #ccc; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 11px; margin-top: 4px; }
th, td { border: 1px solid #ddd; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; white-space: nowrap; }
.bar { display: inline-block; height: 10px; vertical-align: middle; }
.bar.pos { background: #1a9850; } .bar.neg { background: #d73027; }
pre { font-size: 10px; background: #f7f7f7; padding: 6px; white-space: pre-wrap; }
@media print {
  body { margin: 10mm !important; } .mapbox { height: 150mm; } h2 { break-after: avoid; }
  .page { break-before: page; } tr { break-inside: avoid; }
}
"""


def board_pack_html(
    *,
    summary: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    plan_map: folium.Map | None = None,
    scenario_toml: str = "",
    title: str | None = None,
    generated: datetime | None = None,
) -> str:
    """A printable board pack as one self-contained HTML page.

    Parameters
    ----------
    summary
        `Plan.summary_dict()`.
    tables
        ``buildings``, ``partners``, ``access`` (and optionally ``occupiers``), as in a
        `optimiser.store.PlanRecord`.
    plan_map
        The plan's map, built with ``assets="inline"`` so Leaflet is part of the page. None
        leaves the map out.
    scenario_toml
        The scenario file, printed in an appendix.
    title
        Heading; by default the place and scenario name.
    generated
        Time stamp shown in the pack (default now, UTC).

    Raises
    ------
    ValueError
        If the map would load any script or stylesheet from outside the page.

    """
    from optimiser.maps import external_urls

    esc = html.escape
    place = str(summary.get("place", ""))
    scenario = str(summary.get("scenario", ""))
    heading = title or f"{place}: option “{scenario}”"
    when = (generated or datetime.now(UTC)).strftime("%d %B %Y, %H:%M UTC")
    buildings = tables.get("buildings", pd.DataFrame())
    cards = kpi_cards(summary, buildings if len(buildings) else None)

    map_head = map_body = map_script = ""
    if plan_map is not None:
        outside = external_urls(plan_map)
        if outside:
            msg = f"The board pack must be self-contained, but the map links {', '.join(outside)}."
            raise ValueError(msg)
        parts = standalone_parts(plan_map)
        map_head, map_body, map_script = parts["head"], parts["body"], parts["script"]

    kpi_html = "".join(
        f'<div class="kpi"><div class="label">{esc(c.label)}'
        + (' <span class="tag">modelled</span>' if c.modelled else "")
        + f'</div><div class="value">{esc(c.value)}</div></div>'
        for c in cards
    )
    breakdown = savings_breakdown(summary)
    biggest = max([abs(float(v)) for v in breakdown["gbp"]] + [1.0])
    chart_rows = "".join(
        f'<tr><td>{esc(str(r.component))}</td><td class="num">{esc(format_value("gbp", r.gbp))}</td>'
        f'<td style="width:45%"><span class="bar {"pos" if r.gbp >= 0 else "neg"}" '
        f'style="width:{100 * abs(float(r.gbp)) / biggest:.1f}%"></span></td></tr>'
        for r in breakdown.itertuples()
    )
    status = esc(str(summary.get("status_words", "")))
    solver = esc(f"{summary.get('solver', '')}, {float(summary.get('time_s') or 0):.1f} s")
    partners = tables.get("partners", pd.DataFrame())
    partner_cols = {
        "partner": "partner",
        "buildings_before": "buildings before",
        "buildings_after": "after",
        "capital_receipts_gbp": "receipts £",
        "annual_revenue_saving_gbp": "saving £ a year",
        "one_off_cost_gbp": "one-off £",
        "land_ha": "land ha",
        "carbon_tco2e_saved": "tCO2e a year",
    }
    disposals = disposals_table(buildings) if len(buildings) else pd.DataFrame()
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(heading)} — board pack</title>
{map_head}
<style>{_PACK_CSS}</style>
</head>
<body>
<h1>{esc(heading)}</h1>
<div class="sub">Public Estate Optimiser board pack · generated {esc(when)}</div>
<div class="status">Solution: <b>{status}</b> ({solver}).</div>
<h2>Headline outcomes</h2>
<div class="kpis">{kpi_html}</div>
<div class="note">{esc(MODELLED_NOTE)}</div>
<h2>Where the money comes from</h2>
<table><tr><th>component</th><th>£</th><th></th></tr>{chart_rows}
<tr><th>NPV</th><th class="num">{esc(format_value("gbp", summary.get("kpis", {}).get("npv_gbp")))}</th><th></th></tr></table>
<h2>The estate before and after</h2>
<div class="note">Red: disposed; green: kept and receiving occupiers; blue: kept; orange lines: moves.
Background tiles © OpenStreetMap contributors (shown when online).</div>
<div class="mapbox">{map_body}</div>
<h2 class="page">Partners: who gains and who pays</h2>
{_table(partners, partner_cols)}
<h2>Access to services, before and after</h2>
{_table(access_table(tables.get("access", pd.DataFrame())), None)}
<h2 class="page">Disposal list ({len(disposals)} buildings)</h2>
{_table(disposals, None)}
<h2>Scenario</h2>
<pre>{esc(scenario_toml)}</pre>
</body>
<script>{map_script}</script>
</html>
"""


def _table(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> str:
    if frame is None or frame.empty:
        return '<div class="note">None.</div>'
    if columns:
        frame = frame[[c for c in columns if c in frame]].rename(columns=dict(columns))
    head = "".join(f"<th>{html.escape(inert_text(str(c)))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                text = (
                    "–"
                    if isinstance(value, float) and not math.isfinite(value)
                    else (
                        f"{value:,.0f}"
                        if abs(float(value)) >= 100 or float(value).is_integer()
                        else f"{value:,.2f}"
                    )
                )
                cells.append(f'<td class="num">{html.escape(text)}</td>')
            else:
                text = "" if value is None else inert_text(str(value))
                cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


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
