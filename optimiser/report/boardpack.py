"""The board pack: one printable, self-contained HTML page of a plan. No Streamlit.

`board_pack_html` writes the map (Leaflet inlined, no CDN), the KPIs (`optimiser.report.kpis`),
a chart of where the money comes from and the tables, ready to print to PDF.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import folium
import pandas as pd

from optimiser.report.inert import inert_text
from optimiser.report.kpis import (
    MODELLED_NOTE,
    access_table,
    disposals_table,
    format_value,
    kpi_cards,
    savings_breakdown,
)
from optimiser.report.maps import external_urls, standalone_parts

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
        `optimiser.store.SavedRun`.
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
