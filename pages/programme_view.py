"""Results and Compare, a phased plan's programme over time (issue 11): the timeline of
disposals, lease exits and ends and moves by year and partner, the cash flow by year with its
cumulative line and payback year, the cash-flow table, and a year slider that draws the estate
as it stands at the end of that year.

Only Streamlit and Altair glue: every table and figure comes from `optimiser.report.programme`
(from the run's own ``programme``, ``cashflow`` and ``partners_by_year`` tables), the map from
`optimiser.report.maps.plan_map`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from optimiser.report.inert import csv_text
from optimiser.report.maps import plan_map
from optimiser.report.programme import (
    CASH_COLOURS,
    EVENT_COLOURS,
    LINE_COLOUR,
    PROGRAMME_TABLES,
    cash_chart_table,
    cashflow_table,
    estate_as_at,
    events_table,
    has_programme,
    payback_year,
    period,
    phasing_words,
    programme_words,
    timeline_cells,
    timeline_table,
)
from optimiser.report.words import display_name
from pages import boardpack_view, common

if TYPE_CHECKING:
    from optimiser.store import SavedRun

SVG = {"embedOptions": {"renderer": "svg"}}  # text in the page, readable and printable
PAYBACK_COLOUR = "#1a7f37"
CUMULATIVE = "Cumulative net"
MONEY_AXIS = "(datum.value < 0 ? '-£' : '£') + format(abs(datum.value) / 1e6, ',.1f') + 'm'"
SLIDER = "Show the estate at the end of year"


def timeline_chart(tables: dict[str, pd.DataFrame]) -> alt.FacetChart:
    """The programme as a Gantt-like chart: a row per building or occupier, grouped by partner,
    a cell in each year it leaves or moves, coloured by event."""
    timeline = timeline_table(tables["programme"], tables["buildings"], tables.get("occupiers"))
    cells = timeline_cells(timeline)
    first, last = period(tables["cashflow"])
    events = [display_name("event", k) for k in EVENT_COLOURS]
    base = (
        alt.Chart(cells)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(
                "year:O",
                title="Year",
                scale=alt.Scale(domain=list(range(first, last + 1))),
                axis=alt.Axis(labelAngle=0, orient="top"),
            ),
            y=alt.Y(
                "item:N",
                title=None,
                sort=alt.EncodingSortField("year", op="min"),
                axis=alt.Axis(labelLimit=340, labelOverlap=False),
            ),
            color=alt.Color(
                "event_name:N",
                title="Event",
                scale=alt.Scale(domain=events, range=list(EVENT_COLOURS.values())),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("event_name:N", title="Event"),
                alt.Tooltip("partner:N", title="Partner"),
                alt.Tooltip("item:N", title="Building or occupier"),
                alt.Tooltip("what:N", title="Route, or from → to"),
                alt.Tooltip("cash_gbp:Q", title="Cash (£)", format=",.0f"),
            ],
        )
        .properties(width=440, height=alt.Step(20))
    )
    return (
        base.facet(
            row=alt.Row(
                "partner:N",
                title=None,
                header=alt.Header(
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelOrient="top",
                    labelFontWeight="bold",
                ),
            )
        )
        .resolve_scale(y="independent")
        .properties(
            title="Programme timeline: disposals, lease exits and ends, and moves by year, by partner",
            usermeta=SVG,
        )
    )


def cashflow_chart(cashflow: pd.DataFrame, *, height: int = 320) -> alt.LayerChart:
    """Bars by year (receipts and savings up, one-off costs down), the cumulative net as a line,
    the payback year as a dashed rule with its label."""
    long = cash_chart_table(cashflow)
    first, last = period(cashflow)
    x = alt.X(
        "year:O",
        title="Year",
        scale=alt.Scale(domain=list(range(first, last + 1))),
        axis=alt.Axis(labelAngle=0),
    )
    colours = alt.Scale(domain=[*CASH_COLOURS, CUMULATIVE], range=[*CASH_COLOURS.values(), LINE_COLOUR])
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("gbp:Q", title="£", stack="zero", axis=alt.Axis(labelExpr=MONEY_AXIS)),
            color=alt.Color("series:N", title=None, scale=colours, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("series:N", title="Flow"),
                alt.Tooltip("gbp:Q", title="£", format=",.0f"),
            ],
        )
    )
    cumulative = long.drop_duplicates("year")[["year", "cumulative_net_gbp"]].assign(series=CUMULATIVE)
    line = (
        alt.Chart(cumulative)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("cumulative_net_gbp:Q", title="£"),
            color=alt.Color("series:N", title=None, scale=colours, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("cumulative_net_gbp:Q", title="Cumulative net (£)", format=",.0f"),
            ],
        )
    )
    layers: list[Any] = [bars, line]
    pays = payback_year(cashflow)
    if pays is not None:
        mark = pd.DataFrame({"year": [pays], "label": [f"Payback {pays}"]})
        layers.append(
            alt.Chart(mark).mark_rule(strokeDash=[5, 3], strokeWidth=2, color=PAYBACK_COLOUR).encode(x=x)
        )
        layers.append(
            alt.Chart(mark)
            .mark_text(align="left", dx=5, fontWeight="bold", color=PAYBACK_COLOUR)
            .encode(x=x, y=alt.value(10), text="label:N")
        )
    title = "Cash flow by year" + (
        f" (pays back in {pays})" if pays is not None else " (no payback in the period)"
    )
    return alt.layer(*layers).properties(title=title, height=height, usermeta=SVG)


def show(cur: Any, record: SavedRun) -> None:
    """The Results page's section on the programme over time (nothing for a static plan)."""
    tables = record.tables
    if not has_programme(tables):
        return
    cash = tables["cashflow"]
    first, last = period(cash)
    st.subheader("The programme over time")
    st.markdown(programme_words(record.summary, tables))
    rules = phasing_words(record.summary.get("phasing"))
    if rules:
        st.caption("Rules in force: " + " ".join(rules))
    st.altair_chart(timeline_chart(tables))
    st.caption(
        "Each row is a building that leaves (in the year of its sale, transfer, lease exit or lease end) or an "
        "occupier that moves (in the year of its move), grouped by partner. Hover over a cell for the details."
    )
    st.altair_chart(cashflow_chart(cash), width="stretch")
    st.caption(
        "Bars: the year's receipts and savings (up) and one-off costs (down). Line: the cumulative net. Dashed: "
        "the payback year. An event in a year takes effect from the next year. Modelled: the money rests on "
        "modelled building figures and the scenario's assumptions."
    )
    st.markdown("**Cash flow by year** (£; the figures of cashflow.csv)")
    st.table(cashflow_table(cash).set_index("Year"))

    st.markdown(
        "**The estate year by year.** Move the slider to see the estate as it stands at the end of a year."
    )
    year = st.slider(
        SLIDER, min_value=first, max_value=last, value=first, step=1, key=f"programme_year_{record.place}"
    )
    try:
        at = estate_as_at(tables["buildings"], tables["occupiers"], tables["programme"], int(year))
    except ValueError as err:
        common.show_error(err, what="The estate by year cannot be drawn")
        return
    st.markdown(at.words)
    m1, m2 = st.columns([1, 3])
    if len(at.events):
        this_year = events_table(timeline_table(at.events, tables["buildings"], tables.get("occupiers")))
        m1.markdown(f"**In {year}**")
        m1.dataframe(this_year[["Event", "Building or occupier"]], hide_index=True, height=360)
    else:
        m1.caption(f"Nothing happens in {year}.")
    m1.caption(
        "Red: gone by the end of the year; green: kept and receiving occupiers; blue: open. Orange: moves made."
    )
    with m2:
        try:
            st_folium(
                plan_map(at.buildings, at.occupiers, tables.get("zones")),
                key=f"programme_map_{record.place}",
                returned_objects=[],
                height=480,
                use_container_width=True,
            )
        except Exception as err:
            common.show_error(err, what="The map could not be drawn")
    with st.expander("The programme, event by event, and the cash per partner by year"):
        timeline = timeline_table(tables["programme"], tables["buildings"], tables.get("occupiers"))
        boardpack_view.show_table(events_table(timeline), height=320)
        if tables.get("partners_by_year") is not None:
            boardpack_view.show_table(tables["partners_by_year"], height=320)


def show_compare(records: Sequence[SavedRun]) -> None:
    """Compare: the cumulative cash of every chosen run with a programme on one chart, then
    each one's cash-flow chart, its programme in words and its tables."""
    phased = [r for r in records if has_programme(r.tables)]
    if not phased:
        return
    st.subheader("Programmes over time")
    names = [f"{r.name} ({r.place_name})" for r in phased]
    lines = pd.concat(
        [
            r.tables["cashflow"][["year", "cumulative_net_gbp"]].assign(option=name)
            for r, name in zip(phased, names, strict=True)
        ],
        ignore_index=True,
    )
    chart = (
        alt.Chart(lines)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("cumulative_net_gbp:Q", title="Cumulative net (£)", axis=alt.Axis(labelExpr=MONEY_AXIS)),
            color=alt.Color("option:N", title="Option", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("option:N", title="Option"),
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("cumulative_net_gbp:Q", title="Cumulative net (£)", format=",.0f"),
            ],
        )
        .properties(title="Cumulative net by year, each option with a programme", height=280, usermeta=SVG)
    )
    st.altair_chart(chart, width="stretch")
    columns = st.columns(len(phased))
    for column, record, name in zip(columns, phased, names, strict=True):
        with column:
            st.markdown(f"**{name}**")
            st.caption(programme_words(record.summary, record.tables))
            st.altair_chart(cashflow_chart(record.tables["cashflow"], height=240), width="stretch")
            with st.expander("Cash flow and programme tables"):
                st.table(cashflow_table(record.tables["cashflow"]).set_index("Year"))
                timeline = timeline_table(
                    record.tables["programme"], record.tables["buildings"], record.tables.get("occupiers")
                )
                boardpack_view.show_table(events_table(timeline), height=300)
    if len(phased) < len(records):
        st.caption("Options without a programme (static plans) have no cash flow by year.")


def export_buttons(record: SavedRun, stem: str) -> None:
    """Export: a phased run's programme.csv, cashflow.csv and partners_by_year.csv, each on its
    own (they are also in the zip of all tables and in the Excel workbook)."""
    tables = record.tables
    if not has_programme(tables):
        return
    labels = {
        "programme": "Programme, event by event (CSV)",
        "cashflow": "Cash flow by year (CSV)",
        "partners_by_year": "Cash per partner by year (CSV)",
    }
    columns = st.columns(len(PROGRAMME_TABLES))
    for column, name in zip(columns, PROGRAMME_TABLES, strict=True):
        if tables.get(name) is None:
            continue
        common.download_button(
            labels[name],
            lambda name=name: csv_text(tables[name]),
            where=column,
            file_name=f"{stem}_{name}.csv",
            mime="text/csv",
            key=f"dl_{name}",
        )


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()
