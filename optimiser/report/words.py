"""Words a person uses: one table of display names, money and counts as a board reads them,
the solve's status in a board's terms, and reasons with names instead of IDs. No Streamlit.

Every page of the app, the board pack and the Excel export name things through this module:

- `DISPLAY_NAMES` holds, per kind (``service``, ``partner_type``, ``route``, ``decision``,
  ``status``, ``rule``, ``tenure``, ``column``), the name a person reads for each code the
  data and the model use (``gp_practice`` is "GP practice", ``running_cost_gbp`` is
  "Running cost a year (£)"). `display_name` looks one up; a code not in the table is made
  readable (underscores to spaces, first letter capital) rather than shown raw.
- `money_words` (``£2.1m``, ``£640k``, ``-£28k``, never ``£-0``) and `count_words`
  (``1,234``) are the short board formats; `optimiser.report.kpis.format_money` stays the
  exact one the KPI cards use.
- `status_text` says how sure the answer is in pounds, measured against the plan's own NPV:
  "the best possible plan is at most £2.1m (1.9%) better than this one", with a tone by
  meaning (``good`` proven optimal, ``caution`` a gap or time limit, ``bad`` stopped or no
  plan) and the relative-to-net-present-cost figure kept in ``detail`` for analysts.
- `reason_in_words` rewrites a plan's reason ("moves GP_0100_GP -> HOSP_RW3TR_B01 (0.7 km)")
  with the names of the occupiers, buildings and services it mentions.
- `readable_table` renames a table's columns and turns its codes into names, for display.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

DISPLAY_NAMES: dict[str, dict[str, str]] = {
    "service": {
        "gp_practice": "GP practice",
        "library": "Library",
        "customer_service": "Council customer service",
        "jobcentre": "Jobcentre",
        "community_health": "Community health",
        "police_front_counter": "Police front counter",
        "police_neighbourhood": "Neighbourhood policing",
        "police_training": "Police training",
        "nhs_admin": "NHS administration",
        "fire_response": "Fire response",
        "fire_prevention": "Fire prevention",
        "council_office": "Council offices",
        "hospital_acute": "Acute hospital",
        "mental_health_inpatient": "Mental health inpatient care",
        "community": "Community use",
        "none": "No occupiers",
    },
    "partner_type": {
        "council": "Council",
        "nhs": "NHS",
        "police": "Police",
        "fire": "Fire and rescue",
        "dwp": "DWP (Jobcentre Plus)",
        "other": "Other public body",
    },
    "route": {
        "market_sale": "Market sale",
        "community_asset_transfer": "Community asset transfer",
        "lease_exit": "Lease exit",
        "keep": "Kept",
    },
    "decision": {"keep": "Keep", "dispose": "Dispose"},
    "status": {
        "optimal": "Proven optimal",
        "gap_limit": "Stopped at the gap limit",
        "time_limit": "Stopped at the time limit",
        "interrupted": "Stopped by the user",
        "feasible": "Stopped early",
        "given": "Plan given, not optimised",
        "no_solution": "No plan found",
        "infeasible": "No plan meets the constraints",
        "not solved": "Not solved",
    },
    "rule": {
        "keep_current": "no one loses reach they have today",
        "min_share": "a minimum share of people within reach",
        "max_mean_increase": "a cap on the rise in mean travel",
    },
    "tenure": {"freehold": "Freehold", "leasehold": "Leasehold"},
    "column": {
        "building_id": "Building ID",
        "occupier_id": "Occupier ID",
        "zone_id": "Zone ID",
        "name": "Name",
        "owner": "Partner",
        "partner": "Partner",
        "owner_type": "Partner type",
        "borough": "Borough",
        "tenure": "Tenure",
        "service": "Service",
        "decision": "Decision",
        "route": "Route",
        "reason": "Why",
        "modelled": "Modelled figures",
        "protected": "Protected",
        "fixed": "Kept as it is",
        "gia_m2": "Floor area (m²)",
        "capacity_m2": "Usable space (m²)",
        "space_m2": "Space (m²)",
        "share": "Share moved",
        "move_km": "Move (km)",
        "from_building_id": "From",
        "to_building_id": "To",
        "occupiers_in": "Occupiers in",
        "occupiers_out": "Occupiers out",
        "running_cost_gbp": "Running cost a year (£)",
        "market_value_gbp": "Market value (£)",
        "receipt_gbp": "Receipt (£)",
        "annual_saving_gbp": "Saving a year (£)",
        "disposal_cost_gbp": "Disposal cost (£)",
        "lease_exit_gbp": "Lease exit cost (£)",
        "land_ha": "Land released (ha)",
        "site_area_ha": "Site area (ha)",
        "carbon_tco2e": "Carbon a year (tCO2e)",
        "buildings_before": "Buildings before",
        "buildings_after": "Buildings after",
        "buildings_disposed": "Buildings disposed",
        "capital_receipts_gbp": "Capital receipts (£)",
        "annual_revenue_saving_gbp": "Revenue saving a year (£)",
        "annual_revenue_saving_pct": "Revenue saving (% of running costs)",
        "one_off_cost_gbp": "One-off cost (£)",
        "move_cost_gbp": "Moves and fit-out (£)",
        "disposal_and_exit_cost_gbp": "Disposal fees and lease exits (£)",
        "backlog_avoided_gbp": "Backlog avoided (£)",
        "npv_gbp": "NPV (£)",
        "payback_years": "Payback (years)",
        "homes": "Homes",
        "jobs": "Jobs",
        "carbon_tco2e_saved": "Carbon saved a year (tCO2e)",
        "population": "Population",
        "imd_decile": "Deprivation decile (IMD)",
        "status_words": "Solution",
        "gap_gbp": "Best possible plan at most this much better (£)",
        "gap_share_of_npv": "… as a share of this plan's NPV",
        "time_s": "Solve time (s)",
        "solver": "Solver",
        "place": "Place",
        "scenario": "Option",
    },
}
"""Display names by kind, then by code: the one table every page, the pack and the workbook use."""

CODE_COLUMNS = {
    "service": "service",
    "owner_type": "partner_type",
    "route": "route",
    "decision": "decision",
    "tenure": "tenure",
    "rule": "rule",
    "status": "status",
}
"""Columns whose values are codes, and the kind of display name each takes."""

# The programme of a phased plan (issue 11; optimiser.report.programme): its events and the
# columns of programme.csv, cashflow.csv and partners_by_year.csv.
DISPLAY_NAMES["event"] = {
    "dispose": "Disposal",
    "lease_exit": "Lease exit",
    "lease_end": "Lease end",
    "move": "Move",
}
DISPLAY_NAMES["column"].update(
    {
        "year": "Year",
        "event": "Event",
        "cash_gbp": "Cash (£)",
        "receipt_year": "Receipt arrives",
        "receipts_gbp": "Receipts (£)",
        "saving_gbp": "Saving (£)",
        "net_gbp": "Net (£)",
        "cumulative_net_gbp": "Cumulative net (£)",
        "cumulative_cash_gbp": "Cumulative cash (£)",
        "discount_factor": "Discount factor",
        "discounted_net_gbp": "Discounted net (£)",
        "investment_outstanding_gbp": "Investment outstanding (£)",
    }
)
CODE_COLUMNS["event"] = "event"


def display_name(kind: str, code: Any) -> str:
    """The name a person reads for `code` of `kind` (see `DISPLAY_NAMES`).

    A code not in the table is made readable (``police_dogs`` becomes "Police dogs"), never
    shown raw; a blank is "–".
    """
    if code is None or (isinstance(code, float) and math.isnan(code)) or code is pd.NA:
        return "–"
    text = str(code)
    if kind not in DISPLAY_NAMES:
        msg = f"Unknown kind of display name {kind!r}; use one of {', '.join(DISPLAY_NAMES)}."
        raise ValueError(msg)
    found = DISPLAY_NAMES[kind].get(text)
    if found is not None:
        return found
    plain = text.replace("_", " ").strip()
    return plain[:1].upper() + plain[1:] if plain else "–"


def column_name(column: str) -> str:
    """The heading a person reads for a table column."""
    return display_name("column", column)


def service_name(code: Any) -> str:
    """ "GP practice" for ``gp_practice``."""
    return display_name("service", code)


# ---------------------------------------------------------------------- numbers
def money_words(pounds: Any) -> str:
    """Pounds as a board reads them: ``£2.1m``, ``£3.1bn``, ``£640k``, ``£1,234``, ``-£28k``.

    Below £10,000 the figure is exact to the pound; a value that rounds to zero is ``£0``
    (never ``£-0``); none is ``–``.
    """
    if pounds is None or pounds is pd.NA:
        return "–"
    value = float(pounds)
    if not math.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1e9:
        text = f"£{size / 1e9:,.1f}bn"
    elif size >= 1e6:
        text = f"£{size / 1e6:,.1f}m"
    elif size >= 1e4:
        text = f"£{size / 1e3:,.0f}k"
    else:
        text = f"£{size:,.0f}"
    return "-" + text if value < 0 and text not in ("£0", "£0k") else text


def count_words(value: Any, unit: str = "") -> str:
    """A count with thousands separators, e.g. ``1,234`` or ``12 buildings``; ``–`` when none."""
    if value is None or value is pd.NA:
        return "–"
    number = float(value)
    if not math.isfinite(number):
        return "–"
    text = f"{round(number):,}"
    return f"{text} {unit}" if unit else text


def share_words(value: Any, digits: int = 1) -> str:
    """A share as a percentage, ``1.9%``; ``–`` when none."""
    if value is None or value is pd.NA:
        return "–"
    number = float(value)
    return f"{number:.{digits}%}" if math.isfinite(number) else "–"


# ---------------------------------------------------------------------- status
Tone = Literal["good", "caution", "bad"]
TONE_COLOURS: dict[str, str] = {"good": "#1a7f37", "caution": "#b25e00", "bad": "#c62828"}
"""The colour of a status by what it means: green, amber, red."""
TONE_BACKGROUNDS: dict[str, str] = {"good": "#e8f5e9", "caution": "#fff4e0", "bad": "#fdecea"}


@dataclass(frozen=True)
class StatusText:
    """The solve's status as a board reads it.

    ``headline`` is the short verdict, in lower case ("proven optimal", "stopped at the time
    limit; not proven optimal"; `verdict` capitalises it);
    ``sentence`` says how sure the answer is in pounds; ``words`` is both in one line (the
    summary's ``status_words``); ``detail`` holds the analysts' figures (the gap relative to
    the net present cost, the bound); ``tone`` is what the colour says.
    """

    tone: Tone
    headline: str
    sentence: str
    detail: str

    @property
    def verdict(self) -> str:
        """The headline with a capital, to start a line."""
        return self.headline[:1].upper() + self.headline[1:]

    @property
    def words(self) -> str:
        return f"{self.headline}: {self.sentence}" if self.sentence else self.headline


GOOD_STATUSES = ("optimal",)
BAD_STATUSES = ("interrupted", "no_solution", "infeasible", "not solved")


def status_text(
    *,
    status: str,
    proven_optimal: bool,
    gap_gbp: float | None,
    npv_gbp: float | None,
    gap: float | None = None,
    objective_k: float | None = None,
    bound_k: float | None = None,
    gap_limit: float | None = None,
) -> StatusText:
    """How sure the answer is, in pounds against the plan's own NPV.

    Parameters
    ----------
    status, proven_optimal
        `optimiser.solver.SolveInfo`'s: a plan is "proven optimal" only when the solver proved it.
    gap_gbp
        How much better the best possible plan could be, in pounds (net present cost of the
        plan minus the solver's true bound); None or NaN when no bound is known.
    npv_gbp
        The plan's NPV against keeping the estate as it is.
    gap, objective_k, bound_k
        The solver's relative gap (against the net present cost) and its objective and bound
        in £k: for analysts only (``detail``).
    gap_limit
        The scenario's relative gap limit, to name it when the solve stopped there.

    """

    def known(value: float | None) -> float | None:
        return None if value is None or not math.isfinite(float(value)) else float(value)

    gap_pounds = None if (gap_known := known(gap_gbp)) is None else max(gap_known, 0.0)
    npv = known(npv_gbp)
    relative, objective, bound = known(gap), known(objective_k), known(bound_k)
    if status == "interrupted":
        headline = "stopped by the user; not proven optimal"
    elif status == "gap_limit" and gap_limit is not None:
        headline = f"stopped at the {gap_limit:.2%} gap limit; not proven optimal"
    elif proven_optimal:
        headline = "proven optimal"
    elif status in DISPLAY_NAMES["status"]:
        verdict = DISPLAY_NAMES["status"][status].lower()
        headline = verdict if status in BAD_STATUSES else f"{verdict}; not proven optimal"
    else:
        headline = f"{display_name('status', status).lower()}; not proven optimal"
    tone: Tone = "good" if proven_optimal else "bad" if status in BAD_STATUSES else "caution"
    if gap_pounds is None:
        sentence = (
            "no better plan is possible"
            if proven_optimal
            else "how much better the best possible plan could be is not known"
        )
    elif gap_pounds < 0.5:
        sentence = "no better plan is possible"
    else:
        share = f" ({_share_of(gap_pounds, npv)})" if npv is not None and npv > 0 else ""
        sentence = f"the best possible plan is at most {money_words(gap_pounds)}{share} better than this one"
        if npv is not None and npv <= 0:
            sentence += f" (this plan's NPV is {money_words(npv)})"
        if proven_optimal:
            sentence = f"within the solver's tolerance, {sentence}"
    parts = []
    if npv is not None and gap_pounds is not None and npv > 0 and gap_pounds >= 0.5:
        parts.append(
            f"gap {money_words(gap_pounds)} = {gap_pounds / npv:.2%} of this plan's NPV of {money_words(npv)}"
        )
    if relative is not None and objective is not None:
        parts.append(
            f"{relative:.2%} of the net present cost of {money_words(objective * 1000)}"
            + (f" (bound {money_words(bound * 1000)})" if bound is not None else "")
        )
    return StatusText(tone, headline, sentence, "; ".join(parts))


def status_of(summary: Mapping[str, Any]) -> StatusText:
    """`status_text` from a plan's summary (``Plan.summary_dict()`` or the CLI's ``summary.json``).

    Works on summaries saved before the board terms existed: it reads only the status, the gap
    in pounds and the NPV, which every summary has.
    """
    kpis = summary.get("kpis", {}) or {}
    return status_text(
        status=str(summary.get("status", "")),
        proven_optimal=bool(summary.get("proven_optimal", False)),
        gap_gbp=_number(summary.get("gap_gbp")),
        npv_gbp=_number(kpis.get("npv_gbp")),
        gap=_number(summary.get("gap")),
        objective_k=_number(summary.get("objective")),
        bound_k=_number(summary.get("bound")),
        gap_limit=_number(summary.get("gap_limit")),
    )


def _share_of(part: float, whole: float) -> str:
    share = part / whole
    return f"{share:.1%}" if share >= 0.001 else "under 0.1%"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ---------------------------------------------------------------------- reasons
_PLAIN_WORDS = {"none", "community"}  # service codes that are also ordinary words in a reason
_TOKEN = re.compile(r"[A-Za-z0-9_]+")
_MOVE = re.compile(r"\b([A-Za-z0-9_]+) -> ([A-Za-z0-9_]+)\b")


def reason_in_words(
    reason: Any,
    *,
    buildings: Mapping[str, str] | None = None,
    occupiers: Mapping[str, str] | None = None,
) -> str:
    """A plan's reason with names for the IDs it mentions.

    ``moves GP_0100_GP -> HOSP_RW3TR_B01 (0.7 km)`` becomes
    ``moves Dr Smith's surgery to Wythenshawe Hospital (0.7 km)``; service codes become their
    names (``(gp_practice)`` becomes ``(GP practice)``). IDs with no name are left as they are.
    """
    if reason is None or (isinstance(reason, float) and math.isnan(reason)):
        return ""
    text = str(reason)
    b, o = dict(buildings or {}), dict(occupiers or {})
    services = DISPLAY_NAMES["service"]

    def name(token: str) -> str:
        if token in o:
            return o[token]
        if token in b:
            return b[token]
        if token in services and token not in _PLAIN_WORDS:
            return services[token]
        return token

    text = _MOVE.sub(lambda m: f"{name(m.group(1))} to {name(m.group(2))}", text)
    return _TOKEN.sub(lambda m: name(m.group(0)), text)


# ---------------------------------------------------------------------- tables
def readable_table(frame: pd.DataFrame, *, keep_ids: bool = True) -> pd.DataFrame:
    """`frame` with display-name headings and its codes (services, partner types, routes,
    decisions, tenures, rules, statuses) as names. Numbers are left as numbers.

    With ``keep_ids=False`` the ID columns are left out (names carry the meaning).
    """
    out = frame.copy()
    for column, kind in CODE_COLUMNS.items():
        if column in out:
            out[column] = out[column].map(lambda v, k=kind: display_name(k, v))
    if not keep_ids:
        out = out.drop(columns=[c for c in out.columns if str(c).endswith("_id")])
    return out.rename(columns=lambda c: column_name(str(c)))
