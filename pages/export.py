"""Export: CSV, GeoJSON, GeoPackage, Excel, the disposal list and a printable board pack."""

from __future__ import annotations

import re

import streamlit as st

from optimiser.boardpack import board_pack_html, disposals_table
from optimiser.inert import csv_text
from optimiser.maps import access_services, plan_map
from optimiser.report import plan_to_excel, plan_to_geojson, plan_to_geopackage_bytes
from optimiser.store import csv_zip
from pages import common

cur = common.current()
st.title(f"Export: {cur.name}")
record = common.record_picker(cur, key=f"export_pick_{cur.place}", label="Export")
if record is None:
    st.info("No results yet for this estate. Set a scenario and press Run on the Scenario page.")
    st.page_link("pages/scenario.py", label="Go to Scenario")
    st.stop()

stem = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{record.place_name}_{record.name}").strip("_") or "plan"
st.caption(f"Option “{record.name}”: {record.summary.get('status_words', '')}.")

st.subheader("Lists and tables")
c1, c2, c3 = st.columns(3)
c1.download_button(
    "Disposal list (CSV)",
    data=csv_text(disposals_table(record.tables["buildings"])),
    file_name=f"{stem}_disposals.csv",
    mime="text/csv",
    on_click="ignore",
    key="dl_disposals",
)
c2.download_button(
    "All tables (CSV, zipped)",
    data=lambda: csv_zip(record),
    file_name=f"{stem}_csv.zip",
    mime="application/zip",
    on_click="ignore",
    key="dl_csv",
)
c3.download_button(
    "Scenario (TOML)",
    data=record.scenario.to_toml(),
    file_name=f"{stem}.toml",
    mime="application/toml",
    on_click="ignore",
    key="dl_toml",
)

st.subheader("GIS and spreadsheet")
plan = None
try:
    plan = common.plan_for(cur, record)
except Exception as err:
    common.show_error(err, what="GeoJSON, GeoPackage and Excel need the estate this run was made on")
if plan is not None:
    estate = cur.estate
    g1, g2, g3 = st.columns(3)
    g1.download_button(
        "Buildings with decisions (GeoJSON)",
        data=lambda: plan_to_geojson(estate, plan),
        file_name=f"{stem}.geojson",
        mime="application/geo+json",
        on_click="ignore",
        key="dl_geojson",
    )
    g2.download_button(
        "Buildings, moves and zones (GeoPackage)",
        data=lambda: plan_to_geopackage_bytes(estate, plan),
        file_name=f"{stem}.gpkg",
        mime="application/geopackage+sqlite3",
        on_click="ignore",
        key="dl_gpkg",
    )
    g3.download_button(
        "Workbook, a sheet per table (Excel)",
        data=lambda: plan_to_excel(estate, plan),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="dl_xlsx",
    )

st.subheader("Board pack")
services = access_services(record.tables.get("zones"))
service = st.selectbox(
    "Map shading in the pack",
    [None, *services],
    format_func=lambda s: "no zone shading" if s is None else f"change in access to {s}",
    key="pack_service",
)


def _pack() -> str:
    pack_map = plan_map(
        record.tables["buildings"],
        record.tables["occupiers"],
        record.tables.get("zones"),
        service=service,
        assets="inline",
    )
    return board_pack_html(
        summary=record.summary,
        tables=record.tables,
        plan_map=pack_map,
        scenario_toml=record.scenario.to_toml(),
    )


st.download_button(
    "Board pack (HTML, print to PDF)",
    data=_pack,
    file_name=f"{stem}_board_pack.html",
    mime="text/html",
    on_click="ignore",
    type="primary",
    key="dl_pack",
)
st.caption(
    "One self-contained HTML file: the map (Leaflet included, no internet needed except for the "
    "background tiles), the KPIs, where the money comes from, and the tables. Open it in a browser and "
    "print to PDF."
)
