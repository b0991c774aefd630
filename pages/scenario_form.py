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
from optimiser.errors import ScenarioError
from optimiser.scenario import NO_WORSE_OFF, POOLED_KEYS, SHARING_RULES, AccessStandard, Scenario
from optimiser.scenario_checks import field_problem, standard_problem
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


Problems = dict[str, tuple[str, str]]  # Scenario field (or access row) -> (the widget's label, why refused)


def draw(
    estate: Estate, base: Scenario, *, key: str, solvers: list[str], can_run: bool = True
) -> tuple[dict[str, Any], pd.DataFrame, bool]:
    """Draw the form filled from `base`; returns (field values, access rows, whether Run was pressed).

    Run is disabled unless `can_run` (the caller still checks the role when Run is pressed).
    Every value is checked by the scenario file's own rules (`optimiser.scenario_checks`): a
    value refused shows its reason under its widget and in a summary beside both Run buttons,
    and Run then counts as not pressed (nothing is clamped, nothing runs).
    """
    labels = building_labels(estate)
    services = sorted(set(estate.occupiers["service"].astype(str)) | set(base.cat_services))
    v: dict[str, Any] = {}
    problems: Problems = {}
    with st.form(key + "form"):
        top1, top2 = st.columns([2, 1])
        v["name"] = top1.text_input("Scenario name", value=base.name, key=key + "name")
        submitted_top = top2.form_submit_button(
            "Run", type="primary", width="stretch", key=key + "run_top", disabled=not can_run
        )
        summary_top = top2.empty()

        v.update(_locks(base, labels, key=key))
        access_values, access = _access(estate, base, key=key, problems=problems)
        v.update(access_values)
        v.update(_appraisal_costs_moves(base, services, key=key, problems=problems))
        v.update(_outcomes_and_limits(base, key=key, problems=problems))
        v.update(_solver(base, solvers, key=key, problems=problems))
        v.update(_phasing(base, key=key, problems=problems))
        v.update(_uncertainty(base, key=key, problems=problems))
        v.update(_partners(base, key=key, problems=problems))
        b1, b2 = st.columns([1, 2])
        submitted_bottom = b1.form_submit_button(
            "Run", type="primary", key=key + "run_bottom", disabled=not can_run
        )
        summary_bottom = b2.empty()
    submitted = bool(submitted_top or submitted_bottom)
    refusal = _refusal(problems)
    if refusal is None and submitted:  # rules across fields (a building both kept and disposed of)
        try:
            to_scenario(v, access, estate)
        except ScenarioError as err:
            refusal = f"The scenario is not valid: {err}"
    if refusal is not None:
        summary_top.error(refusal)
        summary_bottom.error(refusal)
    return v, access, submitted and refusal is None


def _refusal(problems: Problems) -> str | None:
    """The summary beside Run: every value refused, by its label, with the reason."""
    if not problems:
        return None
    lines = [f"- **{label}**: {why}" for label, why in problems.values()]
    count = f"{len(problems)} value{'s' if len(problems) > 1 else ''}"
    return f"Not run: {count} must be fixed first (each is marked where it is set).\n" + "\n".join(lines)


def _number_field(
    where: Any,
    label: str,
    name: str,
    value: float | None,
    *,
    key: str,
    problems: Problems,
    step: float,
    fmt: str | None = None,
    whole: bool = False,
) -> Any:
    """A number input for the Scenario field `name`, checked by the scenario file's rule for it.

    The widget has no bounds of its own (a browser would clamp, or refuse without a word): the
    value typed is checked by `field_problem`, and a refused value's reason shows under it.
    Blank gives None (the field's "off", where it has one). `whole` numbers come back as int.
    """
    raw = where.number_input(
        label,
        step=int(step) if whole else float(step),
        value=(None if value is None else int(value)) if whole else value,
        format=fmt,
        key=key,
    )
    out = None if raw is None else (int(raw) if whole else float(raw))
    if (problem := field_problem(name, out)) is not None:
        where.error(problem)
        problems[name] = (label, problem)
    return out


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


def _access(
    estate: Estate, base: Scenario, *, key: str, problems: Problems
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The access standards per service (an editable table) and the switches over all of them.

    The table's cells have no bounds of their own ("-3" km stays -3, and is refused with the
    scenario file's message under the table, as is a service the estate does not have).
    """
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
            "reach_km": st.column_config.NumberColumn("reach km", step=0.5, format="%.2f"),
            "reach_min": st.column_config.NumberColumn("reach minutes", step=1.0, format="%.1f"),
            "rule": st.column_config.SelectboxColumn("rule", options=RULES, required=True),
            "min_share": st.column_config.NumberColumn("min share (0-1)", step=0.01, format="%.3f"),
            "protect_deprived_deciles": st.column_config.NumberColumn(
                "protect IMD deciles 1–N", step=1, format="%d"
            ),
        },
    )
    known = set(estate.occupiers["service"].astype(str)) | set(estate_standards(estate))
    for number, values in enumerate(standard_rows(access), start=1):
        if (problem := standard_problem(values, known)) is not None:
            st.error(f"Access standards, row {number} ({values['service']}): {problem}")
            problems[f"access:{number}"] = (f"Access standards, row {number} ({values['service']})", problem)
    a1, a2 = st.columns(2)
    v["access_enabled"] = a1.checkbox(
        "Apply access standards", value=base.access_enabled, key=key + "access_on"
    )
    v["protect_deprived_deciles"] = _number_field(
        a2,
        "Protect IMD deciles 1–N for every service (blank: per service)",
        "protect_deprived_deciles",
        base.protect_deprived_deciles,
        step=1,
        whole=True,
        key=key + "deprived",
        problems=problems,
    )
    return v, access


def _appraisal_costs_moves(
    base: Scenario, services: list[str], *, key: str, problems: Problems
) -> dict[str, Any]:
    """Appraisal, cost and move settings (an expander)."""
    v: dict[str, Any] = {}
    ask = {"problems": problems}
    with st.expander("Appraisal, costs and moves", expanded=False):
        c1, c2, c3 = st.columns(3)
        v["years"] = _number_field(
            c1, "Appraisal years", "years", base.years, step=1, whole=True, key=key + "years", **ask
        )
        v["discount_rate"] = _number_field(
            c2,
            "Discount rate (0.035 = 3.5%)",
            "discount_rate",
            _as_float(base.discount_rate),
            step=0.005,
            fmt="%.4f",
            key=key + "rate",
            **ask,
        )
        v["start_year"] = _number_field(
            c3, "Start year", "start_year", base.start_year, step=1, whole=True, key=key + "start", **ask
        )
        c1, c2, c3 = st.columns(3)
        v["move_cost_gbp_per_m2"] = _number_field(
            c1,
            "Move and fit-out cost, £ per m² (modelled)",
            "move_cost_gbp_per_m2",
            _as_float(base.move_cost_gbp_per_m2),
            step=25.0,
            key=key + "movecost",
            **ask,
        )
        v["disposal_cost_share"] = _number_field(
            c2,
            "Disposal fees, share of value (when unknown)",
            "disposal_cost_share",
            _as_float(base.disposal_cost_share),
            step=0.005,
            fmt="%.3f",
            key=key + "dispshare",
            **ask,
        )
        v["lease_exit_share"] = _number_field(
            c3,
            "Lease exit: share of rent to the break",
            "lease_exit_share",
            _as_float(base.lease_exit_share),
            step=0.1,
            key=key + "lease",
            **ask,
        )
        c1, c2, c3 = st.columns(3)
        v["cat_discount"] = _number_field(
            c1,
            "Community asset transfer: share of value forgone",
            "cat_discount",
            _as_float(base.cat_discount),
            step=0.05,
            key=key + "catdisc",
            **ask,
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
        v["max_move_km"] = _number_field(
            c1,
            "Furthest an occupier may move (road km)",
            "max_move_km",
            _as_float(base.max_move_km),
            step=0.5,
            key=key + "maxkm",
            **ask,
        )
        v["allow_moves"] = c2.checkbox("Allow occupiers to move", value=base.allow_moves, key=key + "moves")
    return v


def _outcomes_and_limits(base: Scenario, *, key: str, problems: Problems) -> dict[str, Any]:
    """Outcome rates and the optional limits (an expander)."""
    v: dict[str, Any] = {}
    ask = {"problems": problems}
    with st.expander("Outcomes and limits", expanded=False):
        c1, c2, c3 = st.columns(3)
        v["homes_per_ha"] = _number_field(
            c1,
            "Homes per hectare released",
            "homes_per_ha",
            _as_float(base.homes_per_ha),
            step=5.0,
            key=key + "homes",
            **ask,
        )
        v["housing_share"] = _number_field(
            c2,
            "Share of land for housing",
            "housing_share",
            _as_float(base.housing_share),
            step=0.05,
            key=key + "housing",
            **ask,
        )
        v["jobs_per_ha"] = _number_field(
            c3,
            "Jobs per hectare (the rest)",
            "jobs_per_ha",
            _as_float(base.jobs_per_ha),
            step=10.0,
            key=key + "jobs",
            **ask,
        )
        st.caption("Limits: leave blank for none.")
        c1, c2, c3, c4 = st.columns(4)
        v["capital_budget_gbp"] = _number_field(
            c1,
            "Capital budget for one-off costs, £",
            "capital_budget_gbp",
            _as_float(base.capital_budget_gbp),
            step=100_000.0,
            key=key + "budget",
            **ask,
        )
        v["receipts_target_gbp"] = _number_field(
            c2,
            "Receipts target, £",
            "receipts_target_gbp",
            _as_float(base.receipts_target_gbp),
            step=100_000.0,
            key=key + "receipts",
            **ask,
        )
        v["max_disposals"] = _number_field(
            c3,
            "Most disposals",
            "max_disposals",
            base.max_disposals,
            step=1,
            whole=True,
            key=key + "maxdisp",
            **ask,
        )
        v["carbon_cap_tco2e"] = _number_field(
            c4,
            "Carbon cap, tCO2e a year",
            "carbon_cap_tco2e",
            _as_float(base.carbon_cap_tco2e),
            step=100.0,
            key=key + "carbon",
            **ask,
        )
    return v


def _phasing(base: Scenario, *, key: str, problems: Problems) -> dict[str, Any]:
    """The programme over time: the `[phasing]` rules (an expander; docs/scenario.md)."""
    v: dict[str, Any] = {}
    ask = {"problems": problems}
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
        v["receipt_lag_years"] = _number_field(
            c1,
            "Receipt lag, years",
            "receipt_lag_years",
            base.receipt_lag_years,
            step=1,
            whole=True,
            key=key + "lag",
            **ask,
        )
        v["fit_out_lead_years"] = _number_field(
            c2,
            "Fit-out lead time, years",
            "fit_out_lead_years",
            base.fit_out_lead_years,
            step=1,
            whole=True,
            key=key + "lead",
            **ask,
        )
        v["upfront_investment_gbp"] = _number_field(
            c3,
            "Upfront investment, £",
            "upfront_investment_gbp",
            float(base.upfront_investment_gbp),
            step=100_000.0,
            key=key + "upfront",
            **ask,
        )
        st.caption("Yearly limits: leave blank for none.")
        c1, c2, c3 = st.columns(3)
        v["capital_budget_per_year_gbp"] = _number_field(
            c1,
            "Capital budget a year, £",
            "capital_budget_per_year_gbp",
            _as_float(base.capital_budget_per_year_gbp),
            step=100_000.0,
            key=key + "yearbudget",
            **ask,
        )
        v["max_disposals_per_year"] = _number_field(
            c2,
            "Most disposals a year",
            "max_disposals_per_year",
            base.max_disposals_per_year,
            step=1,
            whole=True,
            key=key + "yeardisp",
            **ask,
        )
        v["max_moves_per_year"] = _number_field(
            c3,
            "Most moves a year",
            "max_moves_per_year",
            base.max_moves_per_year,
            step=1,
            whole=True,
            key=key + "yearmoves",
            **ask,
        )
    return v


def _uncertainty(base: Scenario, *, key: str, problems: Problems) -> dict[str, Any]:
    """The spreads of the robustness draws (an expander; Options for the board uses them)."""
    v: dict[str, Any] = {}
    with st.expander("Uncertainty of modelled figures (robustness draws)", expanded=False):
        columns = st.columns(5)
        for column, (name, label) in zip(columns, UNCERTAINTY_LABELS.items(), strict=True):
            v[name] = _number_field(
                column,
                f"{label}, ± share",
                name,
                _as_float(getattr(base, name)),
                step=0.05,
                key=key + name,
                problems=problems,
            )
    return v


UNCERTAINTY_LABELS = {
    "running_cost_spread": "Running cost",
    "market_value_spread": "Market value",
    "backlog_spread": "Backlog",
    "disposal_cost_spread": "Disposal cost",
    "rent_spread": "Rent",
}


def _solver(base: Scenario, solvers: list[str], *, key: str, problems: Problems) -> dict[str, Any]:
    """The solver and its stopping rules (an expander)."""
    v: dict[str, Any] = {}
    ask = {"problems": problems}
    with st.expander("Solver", expanded=False):
        c1, c2, c3, c4, c5 = st.columns(5)
        choices = list(dict.fromkeys([*solvers, base.solver]))
        v["solver"] = c1.selectbox("Solver", choices, index=choices.index(base.solver), key=key + "solver")
        v["time_limit_s"] = _number_field(
            c2,
            "Time limit, s",
            "time_limit_s",
            _as_float(base.time_limit_s),
            step=10.0,
            key=key + "timelimit",
            **ask,
        )
        v["mip_gap"] = _number_field(
            c3,
            "Stop within this gap",
            "mip_gap",
            _as_float(base.mip_gap),
            step=0.0001,
            fmt="%.5f",
            key=key + "gap",
            **ask,
        )
        v["warm_start"] = c4.checkbox("Start from today's estate", value=base.warm_start, key=key + "warm")
        v["threads"] = _number_field(
            c5,
            "Threads (blank: solver's choice)",
            "threads",
            base.threads,
            step=1,
            whole=True,
            key=key + "threads",
            **ask,
        )
    return v


def _partners(base: Scenario, *, key: str, problems: Problems) -> dict[str, Any]:
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
        v["occupancy_charge_gbp_per_m2"] = _number_field(
            c3,
            "Occupancy charge, £/m2 a year (blank: the host's running cost per m2)",
            "occupancy_charge_gbp_per_m2",
            _as_float(base.occupancy_charge_gbp_per_m2),
            step=10.0,
            key=key + "occupancy",
            problems=problems,
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


def standard_rows(access: pd.DataFrame) -> list[dict[str, Any]]:
    """The access table's filled-in rows as `AccessStandard` fields (blank cells: the defaults)."""
    rows = []
    for _, row in access.iterrows():
        service = _cell(row.get("service"))
        if service is None or not str(service).strip():
            continue
        deciles, enabled = _cell(row.get("protect_deprived_deciles")), _cell(row.get("enabled"))
        rows.append(
            {
                "service": str(service).strip(),
                "reach_km": _cell(row.get("reach_km")),
                "reach_min": _cell(row.get("reach_min")),
                "rule": str(_cell(row.get("rule")) or "keep_current"),
                "min_share": _cell(row.get("min_share")),
                "protect_deprived_deciles": 0 if deciles is None else deciles,
                "enabled": True if enabled is None else enabled,
            }
        )
    return rows


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
    for row in standard_rows(access):
        standard = AccessStandard(**row)  # checked by the scenario schema, like a scenario file's values
        if own.get(standard.service) != standard:
            overrides.append(standard)
    return Scenario(**values, access=tuple(overrides))


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page
    from pages import common

    common.page_guard()
