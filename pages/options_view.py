"""Options for a board (issue 13): alternatives, the price of each decision, a trade-off curve
and robustness, for the run shown on the Results page. Page glue only: the work is in
`optimiser.alternatives`, `optimiser.prices`, `optimiser.frontier` and `optimiser.robustness`.

Each part runs when its button is pressed (a solve per alternative, per priced building, per
point or per draw, so a minute or more on Trafford) and keeps its answer in the session.
"""

from __future__ import annotations

import itertools
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from estate.schema import CRS
from optimiser.alternatives import alternatives_table, exact, find_alternatives
from optimiser.frontier import LIMITS, frontier, point_scenario
from optimiser.pipeline import optimise
from optimiser.prices import with_prices
from optimiser.report.kpis import format_money
from optimiser.robustness import CORE_SHARE, robustness
from pages import common


def show(cur: common.Current, record: Any) -> None:
    """The Options section under a run's results."""
    plan = record.plan
    if record.read_back:
        from optimiser.store import plan_on_estate

        try:
            plan = plan_on_estate(cur.estate, record)  # the saved decisions, rebuilt without solving
        except Exception as err:
            common.show_error(err, what="Options for a board need the run on its own estate")
            return
    st.subheader("Options for the board")
    state = st.session_state.setdefault(state_key(record), {})
    tabs = st.tabs(["Alternatives", "Price of each decision", "Trade-offs", "Robustness"])
    with tabs[0]:
        _alternatives(cur, plan, state)
    with tabs[1]:
        _prices(cur, plan, state)
    with tabs[2]:
        _tradeoffs(cur, plan, state)
    with tabs[3]:
        _robustness(cur, plan, state)


def state_key(record: Any) -> str:
    """Where a run's options are kept in the session: by its id in the store once saved (a saved
    run is read back, and its plan rebuilt, on every rerun), else by its plan, solved here."""
    if record.run_id is not None:
        return f"options_{record.place}_run{record.run_id}"
    return f"options_{record.place}_{id(record.plan)}"


PRICES_KEY = "options_prices_{place}"  # the last priced plan of a place, for the Results map's popups


def priced(place: str, buildings: pd.DataFrame) -> pd.DataFrame:
    """`buildings` with the price of each decision, when this plan's decisions were priced here.

    The prices join only when every priced building's decision is the same in `buildings`, so
    another run's prices never reach this plan's map.
    """
    table = st.session_state.get(PRICES_KEY.format(place=place))
    if table is None or "price_basis" in buildings.columns or "decision" not in buildings.columns:
        return buildings
    mine = buildings.set_index("building_id")["decision"].astype(str)
    theirs = table.set_index("building_id")["decision"].astype(str)
    if not theirs.index.isin(mine.index).all() or (mine.reindex(theirs.index) != theirs).any():
        return buildings
    columns = ["building_id", "price_of_decision_gbp", "price_basis"]
    return buildings.merge(table[columns], on="building_id", how="left")


def _run(what: str, work: Any) -> Any:
    if not common.permit("run"):
        return None
    try:
        with st.spinner(f"{what}…"):
            return work()
    except Exception as err:  # the app shows a message, never a traceback
        common.show_error(err, what=f"{what} failed")
        return None


def _alternatives(cur: common.Current, plan: Any, state: dict[str, Any]) -> None:
    st.caption(
        "Near-optimal plans: each within the band of the optimum's NPV and differing from every other "
        "in at least N keep/dispose decisions, found by exact re-solves (no-good cuts)."
    )
    c1, c2, c3 = st.columns(3)
    count = c1.number_input("How many", 1, 10, 3, key="opt_alt_k")
    within = c2.number_input("Within % of NPV", 0.1, 100.0, 2.0, key="opt_alt_within")
    differ = c3.number_input("Differing decisions", 1, 50, 3, key="opt_alt_differ")
    if st.button("Find alternatives", key="opt_alt_go"):
        scenario = exact(plan.scenario)
        found = _run(
            "Finding alternatives",
            lambda: find_alternatives(
                cur.estate, scenario, plan, count=int(count), within=within / 100, differ=int(differ)
            ),
        )
        if found is not None:
            state["alternatives"] = (found.note, alternatives_table(found))
    if "alternatives" in state:
        note, table = state["alternatives"]
        st.info(note)
        st.dataframe(table.drop(columns=["folder"]), hide_index=True, width="stretch")


def _prices(cur: common.Current, plan: Any, state: dict[str, Any]) -> None:
    st.caption(
        "What reversing one decision costs: each disposed building (or every free building) re-solved "
        "with it locked the other way, never guessed. A range where a re-solve stopped short."
    )
    which = st.radio("Price", ["disposed", "all"], horizontal=True, key="opt_price_which")
    if st.button("Price the decisions", key="opt_price_go"):
        table = _run(
            "Pricing each decision", lambda: with_prices(cur.estate, plan.scenario, plan, which=which)
        )
        if table is not None:
            state["prices"] = table
            st.session_state[PRICES_KEY.format(place=cur.place)] = table
            st.rerun()  # the Results map above shows each price in its building's popup
    if "prices" in state:
        table = state["prices"]
        shown = table[table["price_basis"] != ""]
        st.dataframe(
            shown[["building_id", "name", "decision", "price_of_decision_gbp", "price_basis"]],
            hide_index=True,
            width="stretch",
            column_config={"price_basis": st.column_config.TextColumn("price basis", width="large")},
        )
        order = shown.sort_values("price_of_decision_gbp", ascending=False, na_position="last", kind="stable")
        picked = st.selectbox("Building", list(order["building_id"]), key="opt_price_pick")
        if picked is not None:
            row = shown[shown["building_id"] == picked].iloc[0]
            st.markdown(f"**{picked}** ({row['name']}): {row['price_basis']}")


def _parameters(cur: common.Current, plan: Any) -> list[str]:
    from optimiser.access import standards_for

    services = [s.service for s in standards_for(cur.estate, plan.scenario)]
    return [f"access.{s}.{f}" for s in services for f in ("reach_km", "min_share")] + list(LIMITS)


def _tradeoffs(cur: common.Current, plan: Any, state: dict[str, Any]) -> None:
    st.caption("The best plan at each value of one parameter, each point with its status and gap.")
    c1, c2 = st.columns([2, 3])
    parameter = c1.selectbox("Parameter", _parameters(cur, plan), key="opt_front_param")
    text = c2.text_input("Values (comma-separated)", "1,1.5,2,2.5,3,4", key="opt_front_values")
    if st.button("Draw the curve", key="opt_front_go"):
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            st.error(f"Values {text!r}: give numbers separated by commas, e.g. 1,1.5,2.")
            values = []
        if values:
            bar = st.progress(0.0, text=f"0 of {len(values)} points solved")
            done: list[str] = []

            def tick(_: int, result: dict[str, Any]) -> None:  # each point as it is solved
                done.append(str(result.get("status", "")))
                bar.progress(
                    len(done) / len(values), text=f"{len(done)} of {len(values)} points solved ({done[-1]})"
                )

            table = _run(
                "Solving each point",
                lambda: frontier(cur.estate, plan.scenario, parameter, values, on_result=tick),
            )
            if table is not None:
                state["frontier"] = table
    if "frontier" in state:
        table = state["frontier"]
        solved = table[table["npv_gbp"].notna()]
        if len(solved):
            st.line_chart(
                solved.set_index("value")["npv_gbp"],
                x_label=str(table["parameter"].iloc[0]),
                y_label="NPV (£)",
            )
        st.dataframe(
            table[
                [
                    "value",
                    "status",
                    "proven_optimal",
                    "npv_gbp",
                    "gap_gbp",
                    "buildings_disposed",
                    "monotone",
                    "message",
                ]
            ],
            hide_index=True,
            width="stretch",
        )
        _open_point(cur, plan, table, solved, state)


def _open_point(
    cur: common.Current, plan: Any, table: pd.DataFrame, solved: pd.DataFrame, state: dict[str, Any]
) -> None:
    """Open one point of the curve as a whole plan: its status, KPI cards and disposals."""
    if not len(solved):
        return
    parameter = str(table["parameter"].iloc[0])
    c1, c2 = st.columns([2, 3])
    value = c1.selectbox(
        "Open the plan at",
        list(solved["value"]),
        format_func=lambda v: f"{parameter} = {v:g}",
        key="opt_front_pick",
    )
    if c2.button("Open this point's plan", key="opt_front_open") and value is not None:
        scenario = point_scenario(cur.estate, plan.scenario, parameter, float(value))
        opened = _run(f"Solving the plan at {parameter} = {value:g}", lambda: optimise(cur.estate, scenario))
        if opened is not None:
            state["frontier_plan"] = (float(value), opened)
    if "frontier_plan" in state:
        at, opened = state["frontier_plan"]
        st.markdown(f"**The plan at {parameter} = {at:g}**")
        summary = opened.summary_dict()
        common.show_status(summary)
        common.show_kpis(summary, opened.buildings, key="opt_front_kpis")
        gone = opened.buildings[opened.buildings["decision"] == "dispose"]
        st.dataframe(gone[["building_id", "name", "owner", "reason"]], hide_index=True, width="stretch")


def _robustness(cur: common.Current, plan: Any, state: dict[str, Any]) -> None:
    st.caption(
        "Modelled money figures drawn ±spread (the scenario's [uncertainty] keys), each draw solved to its "
        f"own optimum. The robust core: disposals in at least {CORE_SHARE:.0%} of the draws."
    )
    c1, c2 = st.columns(2)
    draws = c1.number_input("Draws", 2, 200, 10, key="opt_rob_n")
    seed = c2.number_input("Seed", 0, 10**6, 0, key="opt_rob_seed")
    if st.button("Draw and solve", key="opt_rob_go"):
        found = _run(
            "Solving each draw",
            lambda: robustness(cur.estate, plan.scenario, plan, draws=int(draws), seed=int(seed)),
        )
        if found is not None:
            state["robustness"] = found
    if "robustness" not in state:
        return
    found = state["robustness"]
    s = found.summary()
    cols = st.columns(3)
    for col, q in zip(cols, ("p10", "p50", "p90"), strict=True):
        value = s[f"npv_{q}_gbp"]
        col.metric(f"NPV {q.upper()}", format_money(value) if value is not None else "n/a")
    npv = found.solved["npv_gbp"].to_numpy(dtype=float) / 1e6
    if len(npv):
        counts, edges = np.histogram(npv, bins=min(10, max(len(npv) // 2, 1)))
        labels = [f"£{a:.2f}m–£{b:.2f}m" for a, b in itertools.pairwise(edges)]
        st.bar_chart(
            pd.DataFrame({"draws": counts}, index=labels),
            x_label="NPV of the draw's best plan",
            y_label="draws",
            sort=False,
        )
    st.markdown(f"**Robust core** ({len(found.core)}): {', '.join(found.core) or 'none'}")
    shares = found.buildings.merge(
        plan.buildings[["building_id", "name", "easting", "northing"]], on="building_id", how="left"
    )
    points = gpd.GeoSeries(gpd.points_from_xy(shares["easting"], shares["northing"]), crs=CRS).to_crs(4326)
    share = shares["disposed_share"].fillna(0).to_numpy()
    shown = pd.DataFrame(
        {
            "lat": points.y.to_numpy(),
            "lon": points.x.to_numpy(),
            "color": [f"#{int(255 * v):02x}{int(160 * (1 - v)):02x}40" for v in share],
        }
    )
    st.map(shown, latitude="lat", longitude="lon", color="color", size=60)
    st.caption("Buildings coloured by the share of draws disposing of them: green never, red always.")
    st.dataframe(
        shares[["building_id", "name", "decision", "disposed_share", "in_robust_core"]], hide_index=True
    )


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()
