"""The board pack: a printable document a partnership board signs off, as HTML and PDF. No Streamlit.

`board_pack_html` writes one option's pack:

1. a one-page summary in plain words: what the option does, its headline outcomes (every
   modelled figure marked †), what it assumes and what it constrains (in words, from the
   scenario), and how sure the answer is, in pounds (`optimiser.report.words.status_text`),
   coloured by what it means;
2. the estate before and after, a static map drawn on the server
   (`optimiser.report.staticmap`, a PNG inside the page) with borough boundaries and a legend;
3. the tables, with names not IDs and money formatted: where the money comes from, per
   partner, per service, the disposal list with its reasons in words, and the moves.

`options_pack_html` writes the same for 2–4 options side by side (for Compare and for
``python -m optimiser report RUN_DIR RUN_DIR ...``): one summary page with a column per option
and the assumptions that differ, the options' maps on one extent, then each option's tables.

The page is A4 print CSS (margins, page breaks, fixed-layout tables that wrap, so nothing runs
past the margin); `optimiser.report.pdf` turns it into a PDF. An interactive folium map can be
added for the screen (`plan_map`): it is left out when printing. Every text cell goes through
`optimiser.report.inert.inert_text` (Excel opens HTML tables) and `html.escape`.
"""

from __future__ import annotations

import base64
import html
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import folium
import pandas as pd

from optimiser.report.inert import inert_text
from optimiser.report.kpis import (
    KpiCard,
    access_table,
    disposals_table,
    is_blank,
    kpi_cards,
    modelled_set,
    savings_breakdown,
)
from optimiser.report.maps import external_urls, standalone_parts
from optimiser.report.partners import partner_pack_section
from optimiser.report.programme import programme_section
from optimiser.report.staticmap import Boundaries, options_map_png, plan_map_png
from optimiser.report.words import (
    TONE_BACKGROUNDS,
    TONE_COLOURS,
    StatusText,
    count_words,
    display_name,
    money_words,
    reason_in_words,
    service_name,
    share_words,
    status_of,
)
from optimiser.scenario import Scenario, pct

MAX_OPTIONS = 4
MODELLED_MARK = "†"
MODELLED_LINE = (
    f"{MODELLED_MARK} Modelled: the figure rests on building data modelled from published benchmarks, "
    "not measured (market values, running costs, floor and site areas, carbon), or on the scenario's "
    "assumptions. Replace them with partners' own figures before relying on them."
)

_PACK_CSS = """
@page { size: A4; margin: 14mm 15mm 16mm 15mm;
        @bottom-right { content: "page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #666; }
        @bottom-left { content: string(packtitle); font: 8pt sans-serif; color: #666; } }
html { font-family: "DejaVu Sans", -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f1f1f; }
body { margin: 18px auto; max-width: 190mm; font-size: 9.5pt; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 2px; string-set: packtitle content(); }
h2 { font-size: 11.5pt; margin: 12px 0 4px; border-bottom: 1px solid #c8c8c8; break-after: avoid; }
h3 { font-size: 10pt; margin: 8px 0 3px; break-after: avoid; }
p { margin: 3px 0 5px; }
ul { margin: 2px 0 4px; padding-left: 16px; } li { margin: 1px 0; }
.sub { color: #555; font-size: 8.5pt; margin-bottom: 6px; }
.status { padding: 6px 9px; border-left: 5px solid; margin: 6px 0 4px; break-inside: avoid; }
.status .verdict { font-weight: 700; }
.status .detail { font-size: 7.5pt; color: #555; margin-top: 2px; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 4px; margin-top: 4px; }
.kpi { border: 1px solid #d5d5d5; border-radius: 4px; padding: 4px 6px; break-inside: avoid; }
.kpi .label { font-size: 7.5pt; color: #555; } .kpi .value { font-size: 11pt; font-weight: 700; }
.kpi .range { font-size: 7pt; color: #555; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.note { font-size: 7.5pt; color: #555; margin-top: 4px; }
.mark { color: #8a5a00; font-weight: 700; }
.page { break-before: page; }
img.map { width: 100%; height: auto; border: 1px solid #d5d5d5; box-sizing: border-box; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 8pt; margin-top: 3px; }
th, td { border: 1px solid #d5d5d5; padding: 2px 4px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; word-wrap: break-word; hyphens: auto; }
th { background: #f1f1f1; font-weight: 700; font-size: 7.5pt; hyphens: manual; overflow-wrap: normal; }
td.num, th.num { text-align: right; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
.bar { display: inline-block; height: 8px; vertical-align: middle; }
.bar.pos { background: #1a9850; } .bar.neg { background: #d73027; }
.screen-only { margin-top: 18px; }
.screen-only .mapbox { height: 520px; border: 1px solid #ccc; }
@media print { body { margin: 0; max-width: none; } .screen-only { display: none !important; } }
"""


@dataclass(frozen=True)
class PackOption:
    """One option for a pack: its summary, tables, scenario and the boundaries to draw under it."""

    summary: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]
    scenario: Scenario | None = None
    boundaries: Boundaries | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or str(self.summary.get("scenario", "")) or "option"


# ---------------------------------------------------------------------- the two packs
def board_pack_html(
    *,
    summary: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    plan_map: folium.Map | None = None,
    scenario: Scenario | None = None,
    scenario_toml: str = "",
    boundaries: Boundaries | None = None,
    title: str | None = None,
    generated: datetime | None = None,
    static_map: bool = True,
) -> str:
    """One option's board pack as one self-contained, printable HTML page.

    Parameters
    ----------
    summary
        `Plan.summary_dict()` (or a run folder's ``summary.json``).
    tables
        ``buildings``, ``partners``, ``access``, ``occupiers`` (and ``zones``), as in a
        `optimiser.store.SavedRun` or a run folder.
    plan_map
        An interactive map for the screen, built with ``assets="inline"``; left out of print.
    scenario
        The option's scenario, stated in words (its assumptions and constraints). Without it,
        `scenario_toml` is read instead; without either, the pack says what it cannot state.
    boundaries
        Borough outlines under the static map (`optimiser.report.staticmap.boundaries_for`).
    title
        Heading; by default the place and the option's name.
    generated
        Time stamp shown in the pack (default now, UTC).
    static_map
        Draw the printable before/after map (about a second).

    Raises
    ------
    ValueError
        If the interactive map would load any script or stylesheet from outside the page.

    """
    option = PackOption(summary, tables, scenario or _scenario_from_toml(scenario_toml), boundaries)
    place = str(summary.get("place", ""))
    heading = title or f"{place}: option “{option.name}”"
    map_head, screen = _screen_map(plan_map)
    body = [
        _summary_page(option, heading, generated),
        _map_page(option) if static_map else "",
        programme_section(option.summary, option.tables),  # a phased plan's programme and cash flow
        _tables_pages(option, heading="", static_map=static_map),
        screen,
    ]
    return _document(heading, body, map_head)


def options_pack_html(
    options: Sequence[PackOption], *, title: str | None = None, generated: datetime | None = None
) -> str:
    """A board pack of 2–4 options side by side: one summary page, their maps, their tables.

    Raises
    ------
    ValueError
        If there are fewer than two options or more than `MAX_OPTIONS`.

    """
    if not 2 <= len(options) <= MAX_OPTIONS:
        msg = f"A side-by-side pack holds 2 to {MAX_OPTIONS} options; got {len(options)}."
        raise ValueError(msg)
    places = list(dict.fromkeys(str(o.summary.get("place", "")) for o in options))
    heading = title or f"{' and '.join(places)}: {len(options)} options compared"
    esc = html.escape
    names = [o.name for o in options]
    statuses = [status_of(o.summary) for o in options]
    cards = [kpi_cards(o.summary, _buildings(o)) for o in options]
    head = "<tr><th></th>" + "".join(f"<th>{_cell(n)}</th>" for n in names) + "</tr>"
    rows = [
        "<tr><th>How sure</th>"
        + "".join(
            f'<td style="background:{TONE_BACKGROUNDS[s.tone]};border-left:4px solid {TONE_COLOURS[s.tone]}">'
            f"<b>{esc(s.verdict)}</b>: {esc(s.sentence)}</td>"
            for s in statuses
        )
        + "</tr>",
        "<tr><th>What it does</th>" + "".join(f"<td>{esc(_what_it_does(o))}</td>" for o in options) + "</tr>",
    ]
    for i, card in enumerate(cards[0]):
        label = esc(card.label)
        rows.append(
            f"<tr><th>{label}</th>"
            + "".join(f'<td class="num">{esc(_signed(c[i].value))}{_mark(c[i].modelled)}</td>' for c in cards)
            + "</tr>"
        )
    lines = [_scenario_lines(o) for o in options]
    differ = _differences([a + c for a, c in lines], names)
    width = 18
    colgroup = (
        f'<colgroup><col style="width:{width}%">'
        + "".join(f'<col style="width:{(100 - width) / len(options):.1f}%">' for _ in options)
        + "</colgroup>"
    )
    summary_page = f"""
<section>
<h1>{esc(heading)}</h1>
<div class="sub">Public Estate Optimiser board pack · generated {esc(_when(generated))}</div>
<h2>The options side by side</h2>
<table>{colgroup}<thead>{head}</thead>{"".join(rows)}</table>
<div class="note">{esc(MODELLED_LINE)}</div>
<h2>Where their assumptions and constraints differ</h2>
{differ}
</section>"""
    shared = next((o.boundaries for o in options if o.boundaries is not None), None)
    png = options_map_png(
        [(o.name, o.tables["buildings"], o.tables.get("occupiers", pd.DataFrame())) for o in options],
        boundaries=shared,
    )
    map_page = f"""
<section class="page">
<h2>The estate after each option</h2>
<img class="map" alt="The estate after each option" src="data:image/png;base64,{base64.b64encode(png).decode()}">
<div class="note">{esc(shared.note) if shared is not None else "No borough boundaries available."}</div>
</section>"""
    body = [summary_page, map_page]
    for option in options:
        body.append(_summary_page(option, f"Option “{option.name}”", generated, level="h2"))
        body.append(_tables_pages(option, heading=f"Option “{option.name}”: ", static_map=False))
        body.append(programme_section(option.summary, option.tables, heading=f"Option “{option.name}”: "))
    return _document(heading, body, "")


# ---------------------------------------------------------------------- sections
def _document(heading: str, body: Sequence[str], map_head: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(heading)} — board pack</title>
{map_head}
<style>{_PACK_CSS}</style>
</head>
<body>
{"".join(body)}
</body>
</html>
"""


def _screen_map(plan_map: folium.Map | None) -> tuple[str, str]:
    if plan_map is None:
        return "", ""
    outside = external_urls(plan_map)
    if outside:
        msg = f"The board pack must be self-contained, but the map links {', '.join(outside)}."
        raise ValueError(msg)
    parts = standalone_parts(plan_map)
    section = f"""
<section class="screen-only">
<h2>Interactive map (on screen only; not printed)</h2>
<div class="note">Click a building for its figures and the plan's reason. Background tiles © OpenStreetMap
contributors (shown when online).</div>
<div class="mapbox">{parts["body"]}</div>
<script>{parts["script"]}</script>
</section>"""
    return parts["head"], section


def _when(generated: datetime | None) -> str:
    return (generated or datetime.now(UTC)).strftime("%d %B %Y, %H:%M UTC")


def _buildings(option: PackOption) -> pd.DataFrame | None:
    buildings = option.tables.get("buildings")
    return buildings if buildings is not None and len(buildings) else None


def _mark(modelled: bool) -> str:
    return f'<span class="mark" title="modelled">{MODELLED_MARK}</span>' if modelled else ""


def _status_box(status: StatusText, summary: Mapping[str, Any]) -> str:
    esc = html.escape
    solver = summary.get("solver", "")
    time_s = summary.get("time_s")
    how = f"{solver}, {float(time_s):.1f} s" if time_s is not None else str(solver)
    detail = "; ".join(filter(None, [status.detail, how]))
    return (
        f'<div class="status status-{status.tone}" style="background:{TONE_BACKGROUNDS[status.tone]};'
        f'border-color:{TONE_COLOURS[status.tone]}"><span class="verdict" style="color:{TONE_COLOURS[status.tone]}">'
        f"{esc(status.verdict)}</span>: {esc(status.sentence)}."
        f'<div class="detail">Detail for analysts: {esc(detail)}.</div></div>'
    )


def _npv_range(summary: Mapping[str, Any]) -> str:
    """The NPV's spread when the run drew the modelled money figures (``run --uncertainty``).

    For example "P10–P90 £10.8m to £11.9m over 50 draws of the modelled figures"; "" without draws.
    """
    low, high = summary.get("npv_p10_gbp"), summary.get("npv_p90_gbp")
    if low is None or high is None:
        return ""
    draws = (summary.get("uncertainty") or {}).get("solved")
    over = f" over {int(draws)} draws of the modelled figures" if draws else ""
    return f"P10–P90 {_signed(money_words(low))} to {_signed(money_words(high))}{over}"


def _summary_page(option: PackOption, heading: str, generated: datetime | None, *, level: str = "h1") -> str:
    esc = html.escape
    summary = option.summary
    status = status_of(summary)
    cards = kpi_cards(summary, _buildings(option))
    spread = _npv_range(summary)
    kpi_html = "".join(
        f'<div class="kpi"><div class="label">{esc(c.label)}</div>'
        f'<div class="value">{esc(_signed(c.value))}{_mark(c.modelled)}</div>'
        + (f'<div class="range">{esc(spread)}</div>' if spread and c.key == "npv_gbp" else "")
        + "</div>"
        for c in cards
    )
    assumptions, constraints = _scenario_lines(option)
    page = "page" if level == "h2" else ""
    sub = (
        f'<div class="sub">Public Estate Optimiser board pack · generated {esc(_when(generated))}</div>'
        if level == "h1"
        else ""
    )
    return f"""
<section class="{page}">
<{level}>{esc(heading)}</{level}>
{sub}
{_status_box(status, summary)}
<h2>What this option does</h2>
<p>{esc(_what_it_does(option))}</p>
<p>{esc(_outcomes_in_words(option, cards))}</p>
<h2>Headline outcomes</h2>
<div class="kpis">{kpi_html}</div>
<div class="cols">
<div><h2>What it assumes</h2><ul>{"".join(f"<li>{esc(a)}</li>" for a in assumptions)}</ul></div>
<div><h2>What it constrains</h2><ul>{"".join(f"<li>{esc(c)}</li>" for c in constraints)}</ul></div>
</div>
<h2>How sure the answer is</h2>
<p>{esc(_how_sure(status))}</p>
<div class="note">{esc(MODELLED_LINE)}</div>
</section>"""


def _map_page(option: PackOption) -> str:
    buildings = option.tables["buildings"]
    occupiers = option.tables.get("occupiers", pd.DataFrame())
    png = plan_map_png(buildings, occupiers, boundaries=option.boundaries)
    note = option.boundaries.note if option.boundaries is not None else "No borough boundaries available."
    return f"""
<section class="page">
<h2>The estate before and after</h2>
<img class="map" alt="The estate before and after the plan" src="data:image/png;base64,{base64.b64encode(png).decode()}">
<div class="note">Left: every building today, the ones the plan disposes of ringed in red. Right: after the
plan, with each occupier's move drawn as an arrow to its new building. {html.escape(note)}</div>
<h2>Where the money comes from</h2>
{_money_table(option)}
</section>"""


def _money_table(option: PackOption) -> str:
    """Where the NPV comes from, component by component, with bars."""
    esc = html.escape
    breakdown = savings_breakdown(option.summary)
    biggest = max([abs(float(v)) for v in breakdown["gbp"]] + [1.0])
    money_rows = "".join(
        f'<tr><td>{esc(str(r.component))}</td><td class="num">{esc(_signed(money_words(r.gbp)))}{_mark(abs(r.gbp) > 0.5)}</td>'
        f'<td><span class="bar {"pos" if r.gbp >= 0 else "neg"}" '
        f'style="width:{100 * abs(float(r.gbp)) / biggest:.1f}%"></span></td></tr>'
        for r in breakdown.itertuples()
    )
    npv = option.summary.get("kpis", {}).get("npv_gbp")
    return (
        '<table><colgroup><col style="width:35%"><col style="width:20%"><col style="width:45%"></colgroup>'
        f"<thead><tr><th>Component</th><th class='num'>£</th><th></th></tr></thead><tbody>{money_rows}"
        f'<tr><th>NPV</th><th class="num">{esc(_signed(money_words(npv)))}{_mark(True)}</th><th></th></tr></tbody></table>'
    )


def _tables_pages(option: PackOption, *, heading: str, static_map: bool = True) -> str:
    esc = html.escape
    tables = option.tables
    buildings = tables.get("buildings", pd.DataFrame())
    names = _names(option)
    disposals = disposals_table(buildings) if len(buildings) else pd.DataFrame()
    return f"""
<section class="page">
{"" if static_map else f"<h2>{esc(heading)}Where the money comes from</h2>" + _money_table(option)}
<h2>{esc(heading)}Per partner: who gains and who pays</h2>
{_partner_table(option)}
<div class="note">Receipts and savings go to the partner that owns the building; move costs to the partner
that moves.</div>
{partner_pack_section(option.summary, tables.get("partners"), heading=heading)}
<h2>{esc(heading)}Per service: access before and after</h2>
{_service_table(tables.get("access", pd.DataFrame()))}
</section>
<section class="page">
<h2>{esc(heading)}Disposal list ({count_words(len(disposals))} buildings)</h2>
{_disposal_table(disposals, names)}
<h2>{esc(heading)}Occupier moves</h2>
{_moves_table(tables.get("occupiers", pd.DataFrame()), names)}
</section>"""


# ---------------------------------------------------------------------- words
def _names(option: PackOption) -> dict[str, dict[str, str]]:
    """Building and occupier names by ID, for reasons and moves."""
    buildings = option.tables.get("buildings", pd.DataFrame())
    occupiers = option.tables.get("occupiers", pd.DataFrame())
    b = {}
    if len(buildings) and "name" in buildings:
        b = {
            str(i): str(n) if not is_blank(n) and str(n) else str(i)
            for i, n in zip(buildings["building_id"], buildings["name"], strict=True)
        }
    o = {}
    if len(occupiers) and "name" in occupiers:
        o = {
            str(i): str(n) if not is_blank(n) and str(n) else str(i)
            for i, n in zip(occupiers["occupier_id"], occupiers["name"], strict=True)
        }
    return {"buildings": b, "occupiers": o}


def _what_it_does(option: PackOption) -> str:
    buildings = option.tables.get("buildings", pd.DataFrame())
    occupiers = option.tables.get("occupiers", pd.DataFrame())
    if buildings.empty:
        return "The plan holds no buildings."
    gone = buildings[buildings["decision"].astype(str) == "dispose"]
    total = len(buildings)
    if gone.empty:
        text = f"Keeps all {count_words(total)} buildings; no occupier moves."
        return text
    routes = gone["route"].astype(str).value_counts() if "route" in gone else pd.Series(dtype=int)
    how = ", ".join(f"{display_name('route', r).lower()} {n}" for r, n in routes.items())
    text = f"Disposes of {count_words(len(gone))} of {count_words(total)} buildings ({how})"
    if len(occupiers):
        moved = occupiers[
            occupiers["from_building_id"].astype(str) != occupiers["to_building_id"].astype(str)
        ]
        hosts = moved["to_building_id"].astype(str).nunique()
        who = moved["occupier_id"].astype(str).nunique()
        text += (
            f" and moves {count_words(who)} occupier{'s' if who != 1 else ''} into "
            f"{count_words(hosts)} building{'s' if hosts != 1 else ''} that stay"
            if who
            else "; no occupier needs to move"
        )
    text += "."
    owners = gone["owner"].astype(str).value_counts() if "owner" in gone else pd.Series(dtype=int)
    if len(owners):
        shown = [f"{o} {n}" for o, n in owners.head(5).items()]
        more = f" and {len(owners) - 5} more partners" if len(owners) > 5 else ""
        text += f" Disposals by partner: {', '.join(shown)}{more}."
    return text


def _outcomes_in_words(option: PackOption, cards: Sequence[KpiCard]) -> str:
    k = option.summary.get("kpis", {})
    by = {c.key: c for c in cards}

    def fig(key: str) -> str:
        card = by.get(key)
        return "–" if card is None else f"{money_words(card.number)}{MODELLED_MARK if card.modelled else ''}"

    years = option.summary.get("appraisal", {}).get("years")
    pct_saving = k.get("annual_revenue_saving_pct")
    saving = fig("annual_revenue_saving_gbp")
    if pct_saving is not None:
        saving += f" ({float(pct_saving):.1f}% of today's running costs)"
    payback = by.get("payback_years")
    text = (
        f"It brings {fig('capital_receipts_gbp')} in capital receipts and saves {saving} a year, for "
        f"{fig('one_off_cost_gbp')} of one-off costs; its NPV over {years or 'the'} years is {fig('npv_gbp')}"
    )
    if payback is not None:
        text += f", paid back in {payback.value}" if payback.value != "never" else ", and it never pays back"
    text += "."
    access = option.tables.get("access", pd.DataFrame())
    if len(access):
        worse = access[pd.to_numeric(access["after_share"]) < pd.to_numeric(access["before_share"]) - 1e-9]
        if worse.empty:
            text += " No service is within reach of fewer people than today."
        else:
            parts = [
                f"{service_name(r.service)} {share_words(r.before_share)} → {share_words(r.after_share)}"
                for r in worse.itertuples()
            ]
            text += f" Fewer people are within reach of: {'; '.join(parts)}."
    return text


def _how_sure(status: StatusText) -> str:
    if status.tone == "good":
        return (
            "The solver proved this plan the best the model allows under these assumptions and constraints "
            f"({status.sentence}). The figures are only as good as the data and assumptions behind them."
        )
    if status.tone == "caution":
        return (
            f"The solver stopped before proving this plan the best: {status.sentence}. That margin is a true "
            "bound, not an estimate; a longer run can only narrow it."
        )
    return (
        f"This plan is not a finished answer: {status.sentence}. Run the option to the end before a board "
        "relies on it."
    )


def _scenario_from_toml(text: str) -> Scenario | None:
    if not text.strip():
        return None
    return Scenario.from_dict(tomllib.loads(text), source="the pack's scenario")


def _scenario_lines(option: PackOption) -> tuple[list[str], list[str]]:
    """The option's assumptions and constraints, each a sentence."""
    summary, s = option.summary, option.scenario
    appraisal = summary.get("appraisal", {})
    assumptions: list[str] = []
    constraints: list[str] = []
    if appraisal:
        assumptions.append(
            f"Money over {appraisal.get('years')} years, discounted at {pct(appraisal.get('discount_rate'))} "
            "a year (HM Treasury Green Book)."
        )
    if s is not None:
        assumptions += [
            f"Moving an occupier costs £{s.move_cost_gbp_per_m2:,.0f} per m² moved (relocation and fit-out).",
            f"Disposal fees are {pct(s.disposal_cost_share)} of value where a building has no figure of its own.",
            "Community asset transfer for freeholds used only by "
            + ", ".join(service_name(c).lower() for c in s.cat_services)
            + (", at nil value" if s.cat_discount >= 1 else f", at {pct(1 - s.cat_discount)} of market value")
            + "; other freeholds by market sale; leaseholds by lease exit"
            + (
                f", paying {pct(s.lease_exit_share)} of the rent owed to the break."
                if s.lease_exit_share
                else "."
            ),
            f"Land released could take {s.homes_per_ha:g} homes per hectare on {pct(s.housing_share)} of it and "
            f"{s.jobs_per_ha:g} jobs per hectare on the rest.",
            "Backlog maintenance avoided counts as a saving."
            if s.include_backlog
            else "Backlog maintenance is left out.",
        ]
        constraints.append(
            f"Occupiers move at most {s.max_move_km:g} km by road, unless their own limit says otherwise."
            if s.allow_moves
            else "No occupier may move: only empty buildings can go."
        )
        for label, value in (
            ("One-off costs at most", s.capital_budget_gbp),
            ("Capital receipts at least", s.receipts_target_gbp),
        ):
            if value is not None:
                constraints.append(f"{label} {money_words(value)}.")
        if s.max_disposals is not None:
            constraints.append(f"At most {count_words(s.max_disposals)} buildings disposed of.")
        if s.carbon_cap_tco2e is not None:
            constraints.append(f"Buildings kept emit at most {count_words(s.carbon_cap_tco2e)} tCO2e a year.")
        names = _names(option)["buildings"]
        for verb, ids in (("Kept whatever the cost", s.keep), ("Disposed of whatever the cost", s.dispose)):
            if ids:
                shown = [names.get(i, i) for i in ids[:6]]
                more = f" and {len(ids) - 6} more" if len(ids) > 6 else ""
                constraints.append(f"{verb}: {', '.join(shown)}{more}.")
        if not s.access_enabled:
            constraints.append("Access to services is not protected in this option.")
    else:
        assumptions.append(
            "The scenario file is not with these results, so its other assumptions cannot be stated here."
        )
    for service, a in (summary.get("access") or {}).items():
        reach = (
            f"{a['reach_km']:g} km by road"
            if a.get("reach_km") is not None
            else f"{a.get('reach_min'):g} minutes"
        )
        rule = a.get("rule")
        if rule == "min_share" and a.get("min_share") is not None:
            what = f"at least {pct(a['min_share'])} of people within {reach}"
        elif rule == "keep_current":
            what = f"no one within {reach} today loses it"
        else:
            what = f"{display_name('rule', rule)}, within {reach}"
        deciles = a.get("deprived_deciles")
        if deciles:
            what += f"; the {int(deciles)} most deprived deciles never lose reach"
        constraints.append(f"{service_name(service)}: {what}.")
    return assumptions, constraints


def _differences(lines: Sequence[Sequence[str]], names: Sequence[str]) -> str:
    """A list of the assumption and constraint sentences not shared by every option."""
    common = set(lines[0]).intersection(*map(set, lines[1:]))
    rows = []
    for name, own in zip(names, lines, strict=True):
        differing = [line for line in own if line not in common]
        if differing:
            rows.append(
                f"<h3>{html.escape(name)}</h3><ul>"
                + "".join(f"<li>{html.escape(line)}</li>" for line in differing)
                + "</ul>"
            )
    if not rows:
        return "<p>None: the options share every assumption and constraint stated here.</p>"
    return "".join(rows)


# ---------------------------------------------------------------------- tables
_DERIVED = {
    "receipt_gbp": ("market_value_gbp",),
    "annual_saving_gbp": ("running_cost_gbp",),
    "disposal_cost_gbp": ("disposal_cost_gbp", "market_value_gbp"),
    "lease_exit_gbp": ("running_cost_gbp",),
    "land_ha": ("site_area_ha",),
    "capital_receipts_gbp": ("market_value_gbp",),
    "annual_revenue_saving_gbp": ("running_cost_gbp",),
    "carbon_tco2e_saved": ("carbon_tco2e",),
}
"""Which modelled building columns each output figure rests on."""


def _signed(text: str) -> str:
    """A negative figure with the true minus sign (U+2212), which no spreadsheet reads as a
    formula (Excel opens HTML tables), rather than a hyphen that `inert_text` would quote."""
    return "\u2212" + text[1:] if len(text) > 1 and text[0] == "-" and text[1] in "£0123456789." else text


def _cell(text: Any, *, mark: bool = False, number: bool = False) -> str:
    """A table cell's text, inert and escaped; a figure (`number`) with the true minus sign."""
    raw = "" if is_blank(text) else str(text)
    value = inert_text(_signed(raw) if number else raw)
    zero = value in ("£0", "0 t", "0.00 ha", "–", "")
    return html.escape(value) + (_mark(True) if mark and not zero else "")


def _table(
    header: Sequence[tuple[str, float, bool]], rows: Sequence[Sequence[tuple[str, bool, bool]]]
) -> str:
    """A fixed-layout table: header is (title, width %, numeric); each cell (text, numeric, modelled)."""
    if not rows:
        return '<p class="note">None.</p>'
    cols = "".join(f'<col style="width:{w:.1f}%">' for _, w, _ in header)
    head = "".join(f'<th class="{"num" if n else ""}">{html.escape(t)}</th>' for t, _, n in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if n else ""}">{_cell(text, mark=m, number=n)}</td>' for text, n, m in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _partner_table(option: PackOption) -> str:
    partners = option.tables.get("partners", pd.DataFrame())
    buildings = option.tables.get("buildings", pd.DataFrame())
    modelled_by_owner: dict[str, set[str]] = {}
    if len(buildings) and "modelled" in buildings:
        gone = buildings[buildings["decision"].astype(str) == "dispose"]
        for owner, value in zip(gone.get("owner", []), gone["modelled"], strict=False):
            modelled_by_owner.setdefault(str(owner), set()).update(modelled_set(value))
    header = [
        ("Partner", 28, False),
        ("Buildings before → after", 13, True),
        ("Capital receipts", 14, True),
        ("Saving a year", 14, True),
        ("One-off cost", 14, True),
        ("Land released", 9, True),
        ("Carbon saved a year", 8, True),
    ]
    rows = []
    for _, r in partners.iterrows():
        used = modelled_by_owner.get(str(r.get("partner")), set())

        def rests(column: str, used: set[str] = used) -> bool:
            return bool(used & set(_DERIVED.get(column, ())))

        rows.append(
            [
                (r.get("partner"), False, False),
                (
                    f"{count_words(r.get('buildings_before'))} → {count_words(r.get('buildings_after'))}",
                    True,
                    False,
                ),
                (money_words(r.get("capital_receipts_gbp")), True, rests("capital_receipts_gbp")),
                (money_words(r.get("annual_revenue_saving_gbp")), True, rests("annual_revenue_saving_gbp")),
                (money_words(r.get("one_off_cost_gbp")), True, True),
                (f"{float(r.get('land_ha') or 0):,.2f} ha", True, rests("land_ha")),
                (f"{count_words(r.get('carbon_tco2e_saved'))} t", True, rests("carbon_tco2e_saved")),
            ]
        )
    return _table(header, rows)


def _service_table(access: pd.DataFrame) -> str:
    readable = access_table(access)
    header = [
        ("Service", 22, False),
        ("Rule", 22, False),
        ("Reach", 9, True),
        ("Sites before → after", 11, True),
        ("People within reach: before", 9, True),
        ("after", 9, True),
        ("Most deprived: before", 9, True),
        ("after", 9, True),
    ]
    rows = [
        [
            (service_name(r["service"]), False, False),
            (display_name("rule", r["rule"]), False, False),
            (r["reach"], True, False),
            (r["sites before → after"], True, False),
            (r["people within reach before"], True, False),
            (r["after"], True, False),
            (r["most deprived before"], True, False),
            (r["after "], True, False),
        ]
        for _, r in readable.iterrows()
    ]
    return _table(header, rows)


def _disposal_table(disposals: pd.DataFrame, names: Mapping[str, Mapping[str, str]]) -> str:
    header = [
        ("Building", 15, False),
        ("Partner", 12, False),
        ("Borough", 9, False),
        ("Route", 9, False),
        ("Receipt", 8, True),
        ("Saving a year", 8, True),
        ("Cost to go", 8, True),
        ("Why", 31, False),
    ]
    rows = []
    for _, r in disposals.iterrows():
        modelled = modelled_set(r.get("modelled"))

        def rests(column: str, modelled: set[str] = modelled) -> bool:
            return bool(modelled & set(_DERIVED.get(column, ())))

        cost = float(r.get("disposal_cost_gbp") or 0) + float(r.get("lease_exit_gbp") or 0)
        rows.append(
            [
                (r.get("name") if not is_blank(r.get("name")) else r.get("building_id"), False, False),
                (r.get("owner"), False, False),
                (r.get("borough"), False, False),
                (display_name("route", r.get("route")), False, False),
                (money_words(r.get("receipt_gbp")), True, rests("receipt_gbp")),
                (money_words(r.get("annual_saving_gbp")), True, rests("annual_saving_gbp")),
                (money_words(cost), True, rests("disposal_cost_gbp") or rests("lease_exit_gbp")),
                (
                    reason_in_words(
                        r.get("reason"), buildings=names["buildings"], occupiers=names["occupiers"]
                    ),
                    False,
                    False,
                ),
            ]
        )
    return _table(header, rows)


def _moves_table(occupiers: pd.DataFrame, names: Mapping[str, Mapping[str, str]]) -> str:
    if occupiers.empty:
        return _table([], [])
    moved = occupiers[occupiers["from_building_id"].astype(str) != occupiers["to_building_id"].astype(str)]
    header = [
        ("Occupier", 28, False),
        ("Service", 14, False),
        ("From", 21, False),
        ("To", 21, False),
        ("Share", 8, True),
        ("Road km", 8, True),
    ]
    b = names["buildings"]
    rows = [
        [
            (r.get("name") if not is_blank(r.get("name")) else r.get("occupier_id"), False, False),
            (service_name(r.get("service")), False, False),
            (b.get(str(r["from_building_id"]), r["from_building_id"]), False, False),
            (b.get(str(r["to_building_id"]), r["to_building_id"]), False, False),
            (share_words(r.get("share"), 0), True, False),
            (f"{float(r.get('move_km') or 0):,.1f}", True, False),
        ]
        for _, r in moved.iterrows()
    ]
    return _table(header, rows)
