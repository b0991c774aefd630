"""Results: KPIs, where the savings come from, the before/after map, and the tables."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from optimiser.report.kpis import access_table, partner_savings, savings_breakdown
from optimiser.report.maps import access_services, plan_map
from optimiser.report.words import column_name, service_name
from pages import boardpack_view, common, options_view, programme_view
from pages.partners_view import show_partners

common.page_guard()  # before anything else: the page runs only inside app.py

cur = common.current()
st.title(f"Results: {cur.name}")
record = common.record_picker(cur, key=f"results_pick_{cur.place}", label="Show")
if record is None:
    st.info("No results yet for this estate. Set a scenario and press Run on the Scenario page.")
    st.page_link("pages/scenario.py", label="Go to Scenario")
    st.stop()

tables = record.tables
buildings, occupiers, zones = tables["buildings"], tables["occupiers"], tables.get("zones")
buildings = options_view.priced(cur.place, buildings)  # prices of decisions, once priced below
st.subheader(f"Option “{record.name}”")
common.show_status(record.summary)
common.show_kpis(record.summary, buildings)
boardpack_view.pack_buttons([record], key=f"results_{cur.place}")

show_partners(record.summary, tables["partners"])
chart1, chart2 = st.columns(2)
with chart1:
    st.markdown("**Where the NPV comes from** (£; savings are discounted over the appraisal period)")
    breakdown = savings_breakdown(record.summary).set_index("component")
    st.bar_chart(breakdown, horizontal=True, y_label="", x_label="£", height=260, sort=False)
with chart2:
    st.markdown("**Who gains**: annual revenue saving and receipts by partner (£)")
    partners = partner_savings(tables["partners"])
    if partners.empty:
        st.caption("No partner gains or pays anything in this option.")
    else:
        chart = partners.set_index("partner")[["annual_revenue_saving_gbp", "capital_receipts_gbp"]].head(12)
        chart = chart.rename(
            columns={"annual_revenue_saving_gbp": "saving a year", "capital_receipts_gbp": "receipts"}
        )
        height = max(260, 48 * len(chart) + 60)  # room for every bar's label
        st.bar_chart(chart, horizontal=True, stack=False, height=height, y_label="", x_label="£")

st.markdown("**The estate before and after.** Click a building for its figures and the plan's reason.")
services = access_services(zones)
m1, m2 = st.columns([1, 3])
service = m1.selectbox(
    "Shade zones by change in access to",
    [None, *services],
    format_func=lambda s: "no shading" if s is None else service_name(s),
    key=f"results_service_{cur.place}",
)
m1.caption(
    "Green: kept and receiving occupiers; red: disposed; blue: kept. Orange lines: moves. "
    "Zones: green gains reach, red loses it."
)
with m2:
    try:
        st_folium(
            plan_map(buildings, occupiers, zones, service=service),
            key=f"plan_map_{record.place}",
            returned_objects=[],
            height=560,
            use_container_width=True,
        )
    except Exception as err:
        common.show_error(err, what="The map could not be drawn")

programme_view.show(cur, record)  # issue 11: a phased plan's timeline, cash flow and year slider

tab_b, tab_p, tab_a, tab_m = st.tabs(
    ["Buildings: decisions and reasons", "Partners", "Access to services", "Moves"]
)
with tab_b:
    f1, f2 = st.columns([1, 2])
    decision = f1.selectbox("Decision", ["all", "dispose", "keep"], key="results_decision")
    search = f2.text_input("Search (ID, name, partner)", key="results_search")
    cols = [
        "building_id",
        "name",
        "owner",
        "borough",
        "decision",
        "route",
        "occupiers_in",
        "occupiers_out",
        "receipt_gbp",
        "annual_saving_gbp",
        "disposal_cost_gbp",
        "lease_exit_gbp",
        "land_ha",
        "reason",
        "modelled",
    ]
    table = buildings[[c for c in cols if c in buildings]]
    if decision != "all":
        table = table[table["decision"] == decision]
    if search:
        text = table[["building_id", "name", "owner"]].astype(str).agg(" ".join, axis=1)
        table = table[text.str.contains(search, case=False, regex=False)]
    boardpack_view.show_table(
        table, height=380, column_config={column_name("reason"): st.column_config.TextColumn(width="large")}
    )
    st.caption("`modelled` lists each building's modelled (not measured) columns.")
with tab_p:
    boardpack_view.show_table(tables["partners"])
    st.caption("Receipts and savings go to the owning partner; move costs to the partner that moves.")
with tab_a:
    st.dataframe(access_table(tables["access"]), hide_index=True, width="stretch")
    with st.expander("All access figures (mean and 95th-percentile travel, before and after)"):
        boardpack_view.show_table(tables["access"])
with tab_m:
    moved = occupiers[occupiers["from_building_id"].astype(str) != occupiers["to_building_id"].astype(str)]
    boardpack_view.show_table(moved)

options_view.show(cur, record)  # issue 13: alternatives, prices, trade-offs, robustness
