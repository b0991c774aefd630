"""Export: CSV, GeoJSON, GeoPackage, Excel, the disposal list and a printable board pack."""

from __future__ import annotations

import re

import streamlit as st

from optimiser.report.files import csv_zip, plan_to_excel, plan_to_geojson, plan_to_geopackage_bytes
from optimiser.report.inert import csv_text
from optimiser.report.kpis import disposals_table
from optimiser.report.maps import access_services, plan_map
from pages import boardpack_view, common, programme_view

common.page_guard()  # before anything else: the page runs only inside app.py

cur = common.current()
st.title(f"Export: {cur.name}")
record = common.record_picker(cur, key=f"export_pick_{cur.place}", label="Export")
if record is None:
    st.info("No results yet for this estate. Set a scenario and press Run on the Scenario page.")
    st.page_link("pages/scenario.py", label="Go to Scenario")
    st.stop()

stem = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{record.place_name}_{record.name}").strip("_") or "plan"
st.caption(f"Option “{record.name}”: {record.summary.get('status_words', '')}.")

if not common.allowed("export"):
    st.info("Your role may download the board pack (below); the data exports need the officer role.")
st.subheader("Lists and tables")
c1, c2, c3 = st.columns(3)
common.download_button(
    "Disposal list (CSV)",
    lambda: csv_text(disposals_table(record.tables["buildings"])),
    where=c1,
    file_name=f"{stem}_disposals.csv",
    mime="text/csv",
    key="dl_disposals",
)
common.download_button(
    "All tables (CSV, zipped)",
    lambda: csv_zip(record.tables, record.summary, record.scenario),
    where=c2,
    file_name=f"{stem}_csv.zip",
    mime="application/zip",
    key="dl_csv",
)
common.download_button(
    "Scenario (TOML)",
    record.scenario.to_toml(),
    where=c3,
    file_name=f"{stem}.toml",
    mime="application/toml",
    key="dl_toml",
)
programme_view.export_buttons(record, stem)  # issue 11: programme.csv, cashflow.csv, partners_by_year.csv

st.subheader("GIS and spreadsheet")
plan = None
try:
    plan = common.plan_for(cur, record)
except Exception as err:
    common.show_error(err, what="GeoJSON, GeoPackage and Excel need the estate this run was made on")
if plan is not None:
    estate = cur.estate
    g1, g2, g3 = st.columns(3)
    common.download_button(
        "Buildings with decisions (GeoJSON)",
        lambda: plan_to_geojson(estate, plan),
        where=g1,
        file_name=f"{stem}.geojson",
        mime="application/geo+json",
        key="dl_geojson",
    )
    common.download_button(
        "Buildings, moves and zones (GeoPackage)",
        lambda: plan_to_geopackage_bytes(estate, plan),
        where=g2,
        file_name=f"{stem}.gpkg",
        mime="application/geopackage+sqlite3",
        key="dl_gpkg",
    )
    common.download_button(
        "Workbook, a sheet per table (Excel)",
        lambda: plan_to_excel(estate, plan),
        where=g3,
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
    return boardpack_view.pack_html([record], plan_map=pack_map)


common.download_button(
    "Board pack (PDF, A4)",
    lambda: boardpack_view.pack_pdf([record]),
    action="download_pack",
    file_name=f"{stem}_board_pack.pdf",
    mime="application/pdf",
    key="dl_pack_pdf",
)
common.download_button(
    "Board pack (HTML, print to PDF)",
    _pack,
    action="download_pack",
    file_name=f"{stem}_board_pack.html",
    mime="text/html",
    type="primary",
    key="dl_pack",
)
st.caption(
    "A printable document: a one-page summary in plain words, the before/after map and the tables, on A4. "
    "The HTML file also holds the interactive map for the screen (Leaflet included, no internet needed "
    "except for the background tiles); it is left out when printed."
)
