"""Estate: the whole estate on a map, its totals, its data issues, and loading partners' registers."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from estate import builtin_mappings
from estate.schema import TABLE_NAMES
from optimiser.report.maps import COLOUR_BY, estate_map
from pages import boardpack_view, common, postgis_view, uploads_view

common.page_guard()  # before anything else: the page runs only inside app.py

cur = common.current()
estate = cur.estate
b = estate.buildings
st.title(f"Estate: {cur.name}")

counts = estate.counts()
c1, c2, c3, c4, c5, c6 = st.columns(6)
c1.metric("Buildings", f"{counts['buildings']['accepted']:,}")
c2.metric("Partners", f"{b['owner'].nunique():,}")
c3.metric("Occupiers", f"{counts['occupiers']['accepted']:,}")
c4.metric("Zones", f"{counts['zones']['accepted']:,}")
c5.metric("Population", f"{counts['population']:,}")
c6.metric(
    "Running costs a year (modelled)",
    f"£{pd.to_numeric(b['running_cost_gbp']).sum() / 1e6:,.1f}m",
    help="Sum of the buildings' running costs. In the bundled data these are modelled; see data/README.md.",
)

left, right = st.columns([3, 1])
colour_by = right.radio(
    "Colour buildings by", list(COLOUR_BY), format_func=COLOUR_BY.get, key="estate_colour"
)
show_zones = right.checkbox("Show zones (population)", value=False, key="estate_zones")
rejected = sum(len(f) for f in estate.rejected.values())
right.caption(
    f"{len(estate.issues):,} data issue(s), {rejected:,} rejected row(s), {len(estate.notes):,} note(s). "
    "Click a building for its figures; starred figures are modelled."
)
with left:
    try:
        st_folium(
            estate_map(estate, colour_by=colour_by, show_zones=show_zones),
            key=f"estate_map_{cur.place}",
            returned_objects=[],
            height=560,
            use_container_width=True,
        )
    except Exception as err:
        common.show_error(err, what="The map could not be drawn")

tab_buildings, tab_partners, tab_issues, tab_upload = st.tabs(
    [
        "Buildings",
        "Partners",
        f"Data issues ({len(estate.issues) + len(estate.notes):,})",
        "Load partner registers",
    ]
)

with tab_buildings:
    search = st.text_input("Search buildings (ID, name, partner, borough)", key="estate_search")
    cols = [
        c
        for c in (
            "building_id",
            "name",
            "owner",
            "owner_type",
            "borough",
            "tenure",
            "gia_m2",
            "running_cost_gbp",
            "market_value_gbp",
            "site_area_ha",
            "carbon_tco2e",
            "protected",
            "fixed",
            "modelled",
        )
        if c in b
    ]
    table = pd.DataFrame(b[cols]).reset_index(drop=True)
    table["modelled"] = table["modelled"].map(lambda m: ", ".join(m) if isinstance(m, tuple) else m)
    if search:
        text = table[["building_id", "name", "owner", "borough"]].astype(str).agg(" ".join, axis=1)
        table = table[text.str.contains(search, case=False, regex=False)]
    boardpack_view.show_table(table, height=360)
    st.caption("`modelled` lists the columns that were modelled rather than measured for each building.")

with tab_partners:
    by_partner = (
        b.groupby(["owner", "owner_type"], dropna=False)
        .agg(
            buildings=("building_id", "size"),
            gia_m2=("gia_m2", "sum"),
            running_cost_gbp=("running_cost_gbp", "sum"),
            market_value_gbp=("market_value_gbp", "sum"),
        )
        .reset_index()
        .sort_values("buildings", ascending=False)
    )
    boardpack_view.show_table(by_partner)

with tab_issues:
    if not estate.issues and not estate.notes:
        st.success("No data issues: every row was accepted.")
    for table_name, frame in estate.rejected.items():
        if len(frame):
            st.warning(f"{table_name}: {len(frame):,} row(s) rejected; reasons below.")
            shown = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
            first = ["source_row", "reasons"]
            st.dataframe(
                shown[first + [c for c in shown.columns if c not in first]], hide_index=True, width="stretch"
            )
    if estate.issues:
        st.markdown("**Issues found while loading**")
        st.dataframe(pd.DataFrame([i.to_dict() for i in estate.issues]), hide_index=True, width="stretch")
    if estate.notes:
        st.markdown("**Notes** (rows kept, but worth a look)")
        st.dataframe(pd.DataFrame([i.to_dict() for i in estate.notes]), hide_index=True, width="stretch")

with tab_upload:
    if not common.allowed("upload"):
        st.info("Loading registers needs the officer role.")
        st.stop()  # the last thing on the page
    limit = common.upload_limit_mb()
    st.markdown(
        "Load your partners' registers: a **buildings** register (GeoPackage, GeoJSON, CSV with `lon`/`lat` or "
        "`easting`/`northing`, Excel, or a zipped shapefile), and optionally occupiers and zones. A GeoPackage "
        f"with layers `buildings`, `occupiers`, `zones`, `access`, `compatibility` supplies them all. Up to {limit} MB "
        "per file. Files are read as data only."
    )
    # The browser filters by these; naming a MIME type too makes Streamlit leave the server-side check to
    # us, so a file that slips past the browser gets our message instead of breaking the page.
    types = [*common.UPLOAD_TYPES, "application/geo+json"]
    files: dict[str, tuple[str, bytes]] = {}
    refused: list[str] = []
    u1, u2, u3 = st.columns(3)
    for column, table_name, label in (
        (u1, "buildings", "Buildings register"),
        (u2, "occupiers", "Occupiers (optional)"),
        (u3, "zones", "Zones (optional)"),
    ):
        try:
            uploaded = column.file_uploader(label, type=types, key=f"upload_{table_name}")
        except Exception:
            refused.append(
                f"{label}: this file type is not accepted; use "
                f"{', '.join('.' + t for t in common.UPLOAD_TYPES)}."
            )
            uploaded = None
        if uploaded is not None:
            reason = common.check_upload(uploaded.name, uploaded.size)
            if reason:
                refused.append(reason)
            else:
                files[table_name] = (uploaded.name, uploaded.getvalue())
    for reason in refused:
        st.error(reason)

    none_label = "None: the files use our column names"
    mapping_choice = st.selectbox(
        "Column mapping",
        ["", *builtin_mappings()],
        format_func=lambda m: m or none_label,
        key="upload_mapping",
    )
    try:
        initial = common.mapping_text(mapping_choice)
    except Exception as err:
        common.show_error(err)
        initial = ""
    mapping = st.text_area(
        "Mapping (TOML; edit to match your columns)",
        value=initial,
        height=220,
        key=f"upload_mapping_text_{mapping_choice}",
        help="Sections [buildings.columns] (ours = theirs), [buildings.values.<column>], "
        "[buildings.ids.<column>], [buildings.constants]; the same for other tables.",
    )
    if st.button(
        "Check and load", type="primary", disabled="buildings" not in files or bool(refused), key="upload_go"
    ) and common.permit("upload"):
        with st.spinner("Reading and checking the registers…"):
            st.session_state["upload_result"] = common.load_uploads(files, mapping)
        uploads_view.keep(st.session_state["upload_result"], files, mapping)

    postgis_view.form()
    uploads_view.saved_box()

    result = st.session_state.get("upload_result")
    if result is not None:
        for reason in result.refused:
            st.error(reason)
        if result.error is not None:
            common.show_error(result.error, what="The registers could not be loaded")
        if result.estate is not None:
            up = result.estate
            up_counts = up.counts()
            st.success(f"{result.name}: loaded. Accepted and rejected rows per table below.")
            summary = pd.DataFrame(
                [
                    {
                        "table": t,
                        "accepted": up_counts[t]["accepted"],
                        "rejected": up_counts[t]["rejected"],
                        "source": up.sources.get(t, ""),
                    }
                    for t in TABLE_NAMES
                    if t in up.sources
                ]
            )
            st.dataframe(summary, hide_index=True, width="stretch")
            st.markdown("**Accepted buildings**")
            acc_cols = [
                c
                for c in (
                    "source_row",
                    "building_id",
                    "name",
                    "owner",
                    "owner_type",
                    "gia_m2",
                    "running_cost_gbp",
                    "market_value_gbp",
                    "fixed",
                    "fixed_reason",
                )
                if c in up.buildings
            ]
            st.dataframe(
                pd.DataFrame(up.buildings[acc_cols]).reset_index(drop=True),
                hide_index=True,
                width="stretch",
                height=240,
            )
            for table_name, frame in up.rejected.items():
                if len(frame):
                    st.markdown(f"**Rejected {table_name}: {len(frame):,} row(s), with reasons**")
                    shown = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
                    first = ["source_row", "reasons"]
                    st.dataframe(
                        shown[first + [c for c in shown.columns if c not in first]],
                        hide_index=True,
                        width="stretch",
                    )
            if up.issues:
                st.markdown(f"**Issues ({len(up.issues):,})**")
                more = (
                    f"\n… and {len(up.issues) - 10:,} more in the table below" if len(up.issues) > 10 else ""
                )
                st.text("\n".join(f"• {issue}" for issue in up.issues[:10]) + more)
                st.dataframe(pd.DataFrame([i.to_dict() for i in up.issues]), hide_index=True, width="stretch")
            if up.notes:
                st.markdown(f"**Notes ({len(up.notes):,})**: rows kept, but worth a look")
                st.dataframe(pd.DataFrame([i.to_dict() for i in up.notes]), hide_index=True, width="stretch")
            st.button(
                f"Work on {result.name}",
                key="upload_use",
                on_click=common.use_upload,
                args=(result,),
                help="Adds it to the places in the sidebar and switches to it.",
            )
