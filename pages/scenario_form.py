"""The scenario form: one widget per field of `optimiser.scenario.Scenario`, and back again.

Every field of the scenario file is here (the TOML sections appraisal, costs, moves, outcomes,
limits, locks, access and solver). Access standards are edited per service; only those that
differ from the estate's own standards become overrides, so the untouched form is exactly the
default scenario.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from estate import Estate
from estate.schema import ACCESS_RULES
from optimiser.access import standards_for
from optimiser.scenario import NO_WORSE_OFF, POOLED_KEYS, SHARING_RULES, AccessStandard, Scenario
from pages import locks_view

RULES = [r for r in ACCESS_RULES if r != "max_mean_increase"]  # the optimiser does not support it yet
ACCESS_COLUMNS = [
    "service",
    "enabled",
    "reach_km",
    "reach_min",
    "rule",
    "min_share",
    "protect_deprived_deciles",
]


def estate_standards(estate: Estate) -> dict[str, AccessStandard]:
    """The estate's own access standards, per service."""
    return {s.service: s for s in standards_for(estate, Scenario())}


def access_frame(estate: Estate, scenario: Scenario) -> pd.DataFrame:
    """One row per service: the estate's standard, or the scenario's override."""
    standards = estate_standards(estate)
    for override in scenario.access:
        standards[override.service] = override
    rows = [
        {
            "service": s.service,
            "enabled": s.enabled,
            "reach_km": s.reach_km,
            "reach_min": s.reach_min,
            "rule": s.rule,
            "min_share": s.min_share,
            "protect_deprived_deciles": s.protect_deprived_deciles,
        }
        for s in standards.values()
    ]
    frame = pd.DataFrame(rows, columns=ACCESS_COLUMNS)
    for col in ("reach_km", "reach_min", "min_share"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["protect_deprived_deciles"] = pd.to_numeric(frame["protect_deprived_deciles"]).fillna(0).astype(int)
    frame["enabled"] = frame["enabled"].astype(bool)
    return frame


def building_labels(estate: Estate) -> dict[str, str]:
    """``ID — name (partner)`` per building, for searching."""
    b = estate.buildings
    return {
        str(bid): f"{bid} — {name} ({owner})"
        for bid, name, owner in zip(b.index, b["name"], b["owner"], strict=True)
    }


def draw(
    estate: Estate, base: Scenario, *, key: str, solvers: list[str], can_run: bool = True
) -> tuple[dict[str, Any], pd.DataFrame, bool]:
    """Draw the form filled from `base`; returns (field values, access rows, whether Run was pressed).

    Run is disabled unless `can_run` (the caller still checks the role when Run is pressed).
    """
    labels = building_labels(estate)
    services = sorted(set(estate.occupiers["service"].astype(str)) | set(base.cat_services))
    v: dict[str, Any] = {}
    with st.form(key + "form"):
        top1, top2 = st.columns([2, 1])
        v["name"] = top1.text_input("Scenario name", value=base.name, key=key + "name")
        submitted_top = top2.form_submit_button(
            "Run", type="primary", width="stretch", key=key + "run_top", disabled=not can_run
        )

        v.update(_locks(base, labels, key=key))
        access_values, access = _access(estate, base, key=key)
        v.update(access_values)
        v.update(_appraisal_costs_moves(base, services, key=key))
        v.update(_outcomes_and_limits(base, key=key))
        v.update(_solver(base, solvers, key=key))
        v.update(_phasing(base, key=key))
        v.update(_uncertainty(base, key=key))
        v.update(_partners(base, key=key))
        submitted_bottom = st.form_submit_button(
            "Run", type="primary", key=key + "run_bottom", disabled=not can_run
        )
    return v, access, bool(submitted_top or submitted_bottom)


def _locks(base: Scenario, labels: dict[str, str], *, key: str) -> dict[str, Any]:
    """Buildings always kept and always disposed of."""
    v: dict[str, Any] = {}
    l1, l2 = st.columns(2)
    if len(labels) > locks_view.list_max():  # too many for one list in the browser: IDs as text
        st.markdown("**Locks**: the IDs of buildings always kept or always disposed of")
        v["keep"] = locks_view.ids_box(l1, "Always keep", base.keep, key=key + "keep_ids")
        v["dispose"] = locks_view.ids_box(l2, "Always dispose of", base.dispose, key=key + "dispose_ids")
        return v
    st.markdown("**Locks**: search buildings by ID, name or partner")
    v["keep"] = tuple(
        l1.multiselect(
            "Always keep",
            list(labels),
            default=[b for b in base.keep if b in labels],
            format_func=labels.get,
            key=key + "keep",
        )
    )
    v["dispose"] = tuple(
        l2.multiselect(
            "Always dispose of",
            list(labels),
            default=[b for b in base.dispose if b in labels],
            format_func=labels.get,
            key=key + "dispose",
        )
    )
    return v


def _access(estate: Estate, base: Scenario, *, key: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The access standards per service (an editable table) and the switches over all of them."""
    v: dict[str, Any] = {}
    st.markdown("**Access standards, per service** (reach in road km or minutes; give one)")
    access = st.data_editor(
        access_frame(estate, base),
        key=key + "access",
        hide_index=True,
        width="stretch",
        num_rows="dynamic",
        column_config={
            "service": st.column_config.TextColumn("service", required=True),
            "enabled": st.column_config.CheckboxColumn("enabled"),
            "reach_km": st.column_config.NumberColumn("reach km", min_value=0.0, step=0.5, format="%.2f"),
            "reach_min": st.column_config.NumberColumn(
                "reach minutes", min_value=0.0, step=1.0, format="%.1f"
            ),
            "rule": st.column_config.SelectboxColumn("rule", options=RULES, required=True),
            "min_share": st.column_config.NumberColumn(
                "min share (0-1)", min_value=0.0, max_value=1.0, step=0.01, format="%.3f"
            ),
            "protect_deprived_deciles": st.column_config.NumberColumn(
                "protect IMD deciles 1–N", min_value=0, max_value=10, step=1, format="%d"
            ),
        },
    )
    a1, a2 = st.columns(2)
    v["access_enabled"] = a1.checkbox(
        "Apply access standards", value=base.access_enabled, key=key + "access_on"
    )
    v["protect_deprived_deciles"] = a2.number_input(
        "Protect IMD deciles 1–N for every service (blank: per service)",
        min_value=0,
        max_value=10,
        step=1,
        value=_as_int(base.protect_deprived_deciles),
        key=key + "deprived",
    )
    return v, access


def _appraisal_costs_moves(base: Scenario, services: list[str], *, key: str) -> dict[str, Any]:
    """Appraisal, cost and move settings (an expander)."""
    v: dict[str, Any] = {}
    with st.expander("Appraisal, costs and moves", expanded=False):
        c1, c2, c3 = st.columns(3)
        v["years"] = int(
            c1.number_input(
                "Appraisal years",
                min_value=1,
                max_value=100,
                step=1,
                value=_as_int(base.years),
                key=key + "years",
            )
        )
        v["discount_rate"] = float(
            c2.number_input(
                "Discount rate (0.035 = 3.5%)",
                min_value=0.0,
                max_value=0.99,
                step=0.005,
                format="%.4f",
                value=_as_float(base.discount_rate),
                key=key + "rate",
            )
        )
        v["start_year"] = int(
            c3.number_input(
                "Start year",
                min_value=1990,
                max_value=2100,
                step=1,
                value=_as_int(base.start_year),
                key=key + "start",
            )
        )
        c1, c2, c3 = st.columns(3)
        v["move_cost_gbp_per_m2"] = float(
            c1.number_input(
                "Move and fit-out cost, £ per m² (modelled)",
                min_value=0.0,
                step=25.0,
                value=_as_float(base.move_cost_gbp_per_m2),
                key=key + "movecost",
            )
        )
        v["disposal_cost_share"] = float(
            c2.number_input(
                "Disposal fees, share of value (when unknown)",
                min_value=0.0,
                max_value=1.0,
                step=0.005,
                format="%.3f",
                value=_as_float(base.disposal_cost_share),
                key=key + "dispshare",
            )
        )
        v["lease_exit_share"] = float(
            c3.number_input(
                "Lease exit: share of rent to the break",
                min_value=0.0,
                step=0.1,
                value=_as_float(base.lease_exit_share),
                key=key + "lease",
            )
        )
        c1, c2, c3 = st.columns(3)
        v["cat_discount"] = float(
            c1.number_input(
                "Community asset transfer: share of value forgone",
                min_value=0.0,
                max_value=1.0,
                step=0.05,
                value=_as_float(base.cat_discount),
                key=key + "catdisc",
            )
        )
        v["cat_services"] = tuple(
            c2.multiselect(
                "Services that leave by community asset transfer",
                services,
                default=list(base.cat_services),
                key=key + "catserv",
            )
        )
        v["include_backlog"] = c3.checkbox(
            "Count maintenance backlog as a cost", value=base.include_backlog, key=key + "backlog"
        )
        c1, c2 = st.columns(2)
        v["max_move_km"] = float(
            c1.number_input(
                "Furthest an occupier may move (road km)",
                min_value=0.0,
                step=0.5,
                value=_as_float(base.max_move_km),
                key=key + "maxkm",
            )
        )
        v["allow_moves"] = c2.checkbox("Allow occupiers to move", value=base.allow_moves, key=key + "moves")
    return v


def _outcomes_and_limits(base: Scenario, *, key: str) -> dict[str, Any]:
    """Outcome rates and the optional limits (an expander)."""
    v: dict[str, Any] = {}
    with st.expander("Outcomes and limits", expanded=False):
        c1, c2, c3 = st.columns(3)
        v["homes_per_ha"] = float(
            c1.number_input(
                "Homes per hectare released",
                min_value=0.0,
                step=5.0,
                value=_as_float(base.homes_per_ha),
                key=key + "homes",
            )
        )
        v["housing_share"] = float(
            c2.number_input(
                "Share of land for housing",
                min_value=0.0,
                max_value=1.0,
                step=0.05,
                value=_as_float(base.housing_share),
                key=key + "housing",
            )
        )
        v["jobs_per_ha"] = float(
            c3.number_input(
                "Jobs per hectare (the rest)",
                min_value=0.0,
                step=10.0,
                value=_as_float(base.jobs_per_ha),
                key=key + "jobs",
            )
        )
        st.caption("Limits: leave blank for none.")
        c1, c2, c3, c4 = st.columns(4)
        v["capital_budget_gbp"] = _optional_float(
            c1.number_input(
                "Capital budget for one-off costs, £",
                min_value=0.0,
                step=100_000.0,
                value=_as_float(base.capital_budget_gbp),
                key=key + "budget",
            )
        )
        v["receipts_target_gbp"] = _optional_float(
            c2.number_input(
                "Receipts target, £",
                min_value=0.0,
                step=100_000.0,
                value=_as_float(base.receipts_target_gbp),
                key=key + "receipts",
            )
        )
        v["max_disposals"] = _optional_int(
            c3.number_input(
                "Most disposals",
                min_value=0,
                step=1,
                value=_as_int(base.max_disposals),
                key=key + "maxdisp",
            )
        )
        v["carbon_cap_tco2e"] = _optional_float(
            c4.number_input(
                "Carbon cap, tCO2e a year",
                min_value=0.0,
                step=100.0,
                value=_as_float(base.carbon_cap_tco2e),
                key=key + "carbon",
            )
        )
    return v


def _phasing(base: Scenario, *, key: str) -> dict[str, Any]:
    """The programme over time: the `[phasing]` rules (an expander; docs/scenario.md)."""
    v: dict[str, Any] = {}
    with st.expander("Programme over time (phasing)", expanded=base.phased):
        c1, c2, c3 = st.columns(3)
        v["phased"] = c1.checkbox("Phase the programme by year", value=base.phased, key=key + "phased")
        v["allow_early_lease_exit"] = c2.checkbox(
            "Allow early lease exits (at a cost)", value=base.allow_early_lease_exit, key=key + "early"
        )
        v["cash_flow_rule"] = c3.checkbox(
            "Cash never below the upfront investment", value=base.cash_flow_rule, key=key + "cashrule"
        )
        c1, c2, c3 = st.columns(3)
        v["receipt_lag_years"] = int(
            c1.number_input(
                "Receipt lag, years", min_value=0, step=1, value=base.receipt_lag_years, key=key + "lag"
            )
        )
        v["fit_out_lead_years"] = int(
            c2.number_input(
                "Fit-out lead time, years",
                min_value=0,
                step=1,
                value=base.fit_out_lead_years,
                key=key + "lead",
            )
        )
        v["upfront_investment_gbp"] = float(
            c3.number_input(
                "Upfront investment, £",
                min_value=0.0,
                step=100_000.0,
                value=float(base.upfront_investment_gbp),
                key=key + "upfront",
            )
        )
        st.caption("Yearly limits: leave blank for none.")
        c1, c2, c3 = st.columns(3)
        v["capital_budget_per_year_gbp"] = _optional_float(
            c1.number_input(
                "Capital budget a year, £",
                min_value=0.0,
                step=100_000.0,
                value=_as_float(base.capital_budget_per_year_gbp),
                key=key + "yearbudget",
            )
        )
        v["max_disposals_per_year"] = _optional_int(
            c2.number_input(
                "Most disposals a year",
                min_value=0,
                step=1,
                value=_as_int(base.max_disposals_per_year),
                key=key + "yeardisp",
            )
        )
        v["max_moves_per_year"] = _optional_int(
            c3.number_input(
                "Most moves a year",
                min_value=0,
                step=1,
                value=_as_int(base.max_moves_per_year),
                key=key + "yearmoves",
            )
        )
    return v


def _uncertainty(base: Scenario, *, key: str) -> dict[str, Any]:
    """The spreads of the robustness draws (an expander; Options for the board uses them)."""
    v: dict[str, Any] = {}
    with st.expander("Uncertainty of modelled figures (robustness draws)", expanded=False):
        columns = st.columns(5)
        for column, (name, label) in zip(columns, UNCERTAINTY_LABELS.items(), strict=True):
            v[name] = float(
                column.number_input(
                    f"{label}, ± share",
                    min_value=0.0,
                    max_value=0.99,
                    step=0.05,
                    value=_as_float(getattr(base, name)),
                    key=key + name,
                )
            )
    return v


UNCERTAINTY_LABELS = {
    "running_cost_spread": "Running cost",
    "market_value_spread": "Market value",
    "backlog_spread": "Backlog",
    "disposal_cost_spread": "Disposal cost",
    "rent_spread": "Rent",
}


def _solver(base: Scenario, solvers: list[str], *, key: str) -> dict[str, Any]:
    """The solver and its stopping rules (an expander)."""
    v: dict[str, Any] = {}
    with st.expander("Solver", expanded=False):
        c1, c2, c3, c4, c5 = st.columns(5)
        choices = list(dict.fromkeys([*solvers, base.solver]))
        v["solver"] = c1.selectbox("Solver", choices, index=choices.index(base.solver), key=key + "solver")
        v["time_limit_s"] = float(
            c2.number_input(
                "Time limit, s",
                min_value=1.0,
                step=10.0,
                value=_as_float(base.time_limit_s),
                key=key + "timelimit",
            )
        )
        v["mip_gap"] = float(
            c3.number_input(
                "Stop within this gap",
                min_value=0.0,
                max_value=0.5,
                step=0.0001,
                format="%.5f",
                value=_as_float(base.mip_gap),
                key=key + "gap",
            )
        )
        v["warm_start"] = c4.checkbox("Start from today's estate", value=base.warm_start, key=key + "warm")
        v["threads"] = _optional_int(
            c5.number_input(
                "Threads (blank: solver's choice)",
                min_value=1,
                step=1,
                value=_as_int(base.threads),
                key=key + "threads",
            )
        )
    return v


def _partners(base: Scenario, *, key: str) -> dict[str, Any]:
    """Who pays, who benefits: the sharing rule and the no-partner-worse-off option (an expander)."""
    v: dict[str, Any] = {}
    words = {
        "owner": "owner: each keeps its own buildings' money, pays its own moves",
        "pooled": "pooled: the place's NPV shared by a key",
        "floor_area": "floor area today",
        "running_cost": "running cost today",
        "equal": "equal shares",
        "off": "off",
        "zero": "no partner below zero",
        "standalone": "no partner below its stand-alone plan",
    }
    with st.expander("Partners: who pays, who benefits", expanded=False):
        c1, c2, c3 = st.columns(3)
        v["sharing_rule"] = c1.selectbox(
            "Sharing rule",
            list(SHARING_RULES),
            index=SHARING_RULES.index(base.sharing_rule),
            format_func=words.get,
            key=key + "sharing",
        )
        v["pooled_key"] = c2.selectbox(
            "Pooled by",
            list(POOLED_KEYS),
            index=POOLED_KEYS.index(base.pooled_key),
            format_func=words.get,
            key=key + "pooledkey",
        )
        v["occupancy_charge_gbp_per_m2"] = _optional_float(
            c3.number_input(
                "Occupancy charge, £/m2 a year (blank: the host's running cost per m2)",
                min_value=0.0,
                step=10.0,
                value=_as_float(base.occupancy_charge_gbp_per_m2),
                key=key + "occupancy",
            )
        )
        d1, d2 = st.columns(2)
        v["no_partner_worse_off"] = d1.selectbox(
            "No partner worse off",
            list(NO_WORSE_OFF),
            index=NO_WORSE_OFF.index(base.no_partner_worse_off),
            format_func=words.get,
            key=key + "noworse",
        )
        v["standalone_plans"] = d2.checkbox(
            "Work out each partner's stand-alone plan (the partnership value)",
            value=base.standalone_plans,
            key=key + "standalone",
        )
    return v


def _as_float(value: Any) -> float | None:
    """A scenario file may say 400 where the form needs 400.0 (Streamlit will not mix the two)."""
    return None if value is None else float(value)


def _as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def to_scenario(values: dict[str, Any], access: pd.DataFrame, estate: Estate) -> Scenario:
    """The Scenario the form describes. Access rows equal to the estate's own standards are left out.

    Every value goes through the same schema as a scenario file (`optimiser.scenario.SCENARIO_KEYS`).

    Raises
    ------
    ScenarioError
        If a value or a standard is not valid (the message names it).

    """
    own = estate_standards(estate)
    overrides = []
    for _, row in access.iterrows():
        service = _cell(row.get("service"))
        if service is None or not str(service).strip():
            continue
        km, minutes, share = (
            _cell(row.get("reach_km")),
            _cell(row.get("reach_min")),
            _cell(row.get("min_share")),
        )
        deciles, enabled = _cell(row.get("protect_deprived_deciles")), _cell(row.get("enabled"))
        standard = AccessStandard(  # checked by the scenario schema, like a scenario file's values
            service=str(service).strip(),
            reach_km=km,
            reach_min=minutes,
            rule=str(_cell(row.get("rule")) or "keep_current"),
            min_share=share,
            protect_deprived_deciles=0 if deciles is None else deciles,
            enabled=True if enabled is None else enabled,
        )
        if own.get(standard.service) != standard:
            overrides.append(standard)
    return Scenario(**values, access=tuple(overrides))


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page
    from pages import common

    common.page_guard()
