"""Compare: two to four saved scenarios side by side, their KPIs and maps (no solving again)."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from optimiser.report.kpis import kpi_table
from optimiser.report.maps import access_services, plan_map
from optimiser.report.words import service_name
from pages import boardpack_view, common, compare_view, partners_view, programme_view

common.page_guard()  # before anything else: the page runs only inside app.py

st.title("Compare options")
runs = common.saved_runs(None)
if len(runs) < 2:
    st.info("Save at least two scenarios (Scenario page, after a run) to compare them here.")
    st.stop()

labels = {info.run_id: info.label for info in runs}
chosen = st.multiselect(
    "Scenarios to compare (two to four)",
    list(labels),
    format_func=labels.get,
    default=compare_view.default_choice(runs),
    max_selections=4,
    key="compare_runs",
)
if len(chosen) < 2:
    st.info("Choose at least two saved scenarios.")
    st.stop()

records = [r for run_id in chosen if (r := common.load_saved(int(run_id))) is not None]
names = [f"{r.name} ({r.place_name})" for r in records]
st.table(kpi_table([(n, r.summary, r.tables.get("buildings")) for n, r in zip(names, records, strict=True)]))
st.caption("Figures marked modelled rest on modelled building data; see the Results page for details.")
boardpack_view.pack_buttons(records, key="compare")
compare_view.differences(records, names)

services = sorted(set.intersection(*[set(access_services(r.tables.get("zones"))) for r in records]))
service = st.selectbox(
    "Shade zones by change in access to",
    [None, *services],
    format_func=lambda s: "no shading" if s is None else service_name(s),
    key="compare_service",
)
columns = st.columns(len(records))
for column, record, name in zip(columns, records, names, strict=True):
    with column:
        st.markdown(f"**{name}**")
        try:
            st_folium(
                plan_map(
                    record.tables["buildings"],
                    record.tables["occupiers"],
                    record.tables.get("zones"),
                    service=service,
                ),
                key=f"compare_map_{record.run_id}",
                returned_objects=[],
                height=420,
                use_container_width=True,
            )
        except Exception as err:
            common.show_error(err, what="The map could not be drawn")

partners_view.compare_table(records)  # issue 12: the per-partner table
programme_view.show_compare(records)  # issue 11: each phased run's programme and cash flow
