"""Trade-off curves: the exact optimum over a grid of one parameter ("the price of access").

`frontier` solves the scenario once per value of one parameter, through `optimiser.fanout`
(serially or on Dask workers, cached), and returns one row per point with its status, gap and
bound. The parameters (`PARAMETERS`):

- ``access.<service>.reach_km`` / ``reach_min``: one standard's reach;
- ``access.<service>.min_share``: one standard's share (the rule becomes ``min_share``);
- ``access.protect_deprived_deciles``: deprived-decile protection, every standard;
- ``limits.max_disposals``, ``limits.carbon_cap_tco2e``, ``limits.capital_budget_gbp``,
  ``limits.receipts_target_gbp``.

**Where the curve must be monotone.** A larger ``max_disposals``, carbon cap or capital budget,
a smaller receipts target, ``min_share`` or deprived-decile protection, each only widens the
set of plans, so the optimum never costs more. A longer reach widens it only under the
``min_share`` rule with no deprived-decile protection (under ``keep_current`` a longer reach also
brings more zones under protection, so no direction is implied, and none is claimed). Where a
direction holds, `check_monotone` compares neighbouring points: two proven-optimal points
must agree to the solver's tolerance; otherwise only a contradiction of the true bounds (the
looser point's bound above the tighter point's plan) is a violation.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from estate import Estate
from optimiser.access import standards_for
from optimiser.errors import ScenarioError, UsageError
from optimiser.fanout import Variant, solve_variants
from optimiser.report.inert import csv_text
from optimiser.report.rundir import write_run_dir
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import OPTIMAL_GAP

LIMITS = {  # parameter -> (Scenario field, True when a larger value is looser)
    "limits.max_disposals": ("max_disposals", True),
    "limits.carbon_cap_tco2e": ("carbon_cap_tco2e", True),
    "limits.capital_budget_gbp": ("capital_budget_gbp", True),
    "limits.receipts_target_gbp": ("receipts_target_gbp", False),
    "access.protect_deprived_deciles": ("protect_deprived_deciles", False),
}
STANDARD_FIELDS = ("reach_km", "reach_min", "min_share")
PARAMETERS = (*LIMITS, *(f"access.<service>.{f}" for f in STANDARD_FIELDS))
FRONTIER_FILES = ("frontier.csv", "frontier.png", "frontier.html", "frontier.json")
MAX_POINTS = 50


def point_scenario(estate: Estate, scenario: Scenario, parameter: str, value: float) -> Scenario:
    """The scenario with `parameter` set to `value` (named after the point)."""
    name = f"{scenario.name}_{parameter.replace('.', '_')}_{value:g}"
    if parameter in LIMITS:
        field, _ = LIMITS[parameter]
        whole = field in ("max_disposals", "protect_deprived_deciles")
        return scenario.with_changes(name=name, **{field: int(value) if whole else float(value)})
    service, field = _standard_parameter(estate, scenario, parameter)
    standard = _standard(estate, scenario, service)
    changes: dict[str, Any] = {field: float(value)}
    if field == "min_share":
        changes["rule"] = "min_share"
    elif field in ("reach_km", "reach_min"):
        changes["reach_km" if field == "reach_min" else "reach_min"] = None
    new = AccessStandard(**{**standard.__dict__, **changes})
    access = (*tuple(a for a in scenario.access if a.service != service), new)
    return scenario.with_changes(name=name, access=access)


def _standard_parameter(estate: Estate, scenario: Scenario, parameter: str) -> tuple[str, str]:
    parts = parameter.split(".")
    if len(parts) != 3 or parts[0] != "access" or parts[2] not in STANDARD_FIELDS:
        msg = (
            f"--param {parameter!r} is not a frontier parameter. Use one of {', '.join(PARAMETERS)} "
            "(e.g. access.gp_practice.reach_km)."
        )
        raise UsageError(msg)
    _standard(estate, scenario, parts[1])
    return parts[1], parts[2]


def _standard(estate: Estate, scenario: Scenario, service: str) -> AccessStandard:
    found = [s for s in standards_for(estate, scenario) if s.service == service]
    if not found:
        known = ", ".join(s.service for s in standards_for(estate, scenario))
        msg = f"--param: no access standard for {service!r} is in force. Standards: {known}."
        raise UsageError(msg)
    return found[0]


def looser_when_larger(estate: Estate, scenario: Scenario, parameter: str) -> bool | None:
    """True when a larger value only widens the plans allowed, False when it only narrows
    them, None when neither is implied (see the module docstring)."""
    if parameter in LIMITS:
        return LIMITS[parameter][1]
    service, field = _standard_parameter(estate, scenario, parameter)
    if field == "min_share":
        return False
    standard = point_scenario(estate, scenario, parameter, 1.0)
    in_force = _standard(estate, standard, service)
    if in_force.rule == "min_share" and not in_force.protect_deprived_deciles:
        return True
    return None


def frontier(
    estate: Estate,
    scenario: Scenario,
    parameter: str,
    values: Sequence[float],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    on_result: Callable[[int, dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """One row per value: status, proven, objective, bound, gap, NPV, disposals, and the monotone check."""
    if not values or len(values) > MAX_POINTS:
        msg = f"--values: give 1 to {MAX_POINTS} values; got {len(values)}."
        raise UsageError(msg)
    try:
        scenarios = [point_scenario(estate, scenario, parameter, float(v)) for v in values]
    except ScenarioError as err:
        msg = f"--param {parameter} --values: {err}"
        raise UsageError(msg) from err
    results = solve_variants(
        estate,
        [Variant(scenario=s) for s in scenarios],
        workers=workers,
        scheduler=scheduler,
        cache_dir=cache_dir,
        on_result=on_result,
    )
    rows = []
    for value, result in zip(values, results, strict=True):
        objective = result.get("objective_k")
        bound = result.get("bound_k")
        rows.append(
            {
                "parameter": parameter,
                "value": float(value),
                "status": result["status"],
                "proven_optimal": bool(result["proven_optimal"]),
                "net_present_cost_gbp": objective * 1000 if objective is not None else math.nan,
                "bound_gbp": bound * 1000 if bound is not None else math.nan,
                "gap_gbp": (objective - bound) * 1000
                if objective is not None and bound is not None
                else math.nan,
                "npv_gbp": result.get("npv_gbp", math.nan),
                "buildings_disposed": len(result.get("disposed", [])) if objective is not None else math.nan,
                "disposed": " ".join(result.get("disposed", [])),
                "message": "; ".join(result["findings"]) or result["message"],
            }
        )
    table = pd.DataFrame(rows).sort_values("value", kind="stable").reset_index(drop=True)
    direction = looser_when_larger(estate, scenario, parameter)
    table["monotone"] = check_monotone(table, direction)
    return table


def check_monotone(table: pd.DataFrame, looser_when_larger: bool | None) -> list[str]:
    """Per point (sorted by value): ``ok``, ``violated``, or ``n/a`` (no direction implied, or no
    solved neighbour). Each point is compared with the next looser point that has a plan."""
    out = ["n/a"] * len(table)
    if looser_when_larger is None:
        return out
    order = list(range(len(table))) if looser_when_larger else list(range(len(table)))[::-1]
    solved = [i for i in order if math.isfinite(table.at[i, "net_present_cost_gbp"])]
    for tight, loose in itertools.pairwise(solved):
        t, lo = table.loc[tight], table.loc[loose]
        if t["proven_optimal"] and lo["proven_optimal"]:
            slack = OPTIMAL_GAP * abs(t["net_present_cost_gbp"]) + 1.0
            ok = lo["net_present_cost_gbp"] <= t["net_present_cost_gbp"] + slack
        else:  # only the true bounds can contradict: looser's optimum <= tighter's plan
            ok = not (lo["bound_gbp"] > t["net_present_cost_gbp"] + 1.0)
        out[loose] = "ok" if ok else "violated"
    return out


def chart_png(table: pd.DataFrame) -> bytes:
    """NPV against the parameter, a marker per point by status, bars from the bound."""
    import matplotlib  # the chart's heavy import: only when a frontier is drawn

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    solved = table[table["net_present_cost_gbp"].notna()]
    ax.plot(solved["value"], solved["npv_gbp"] / 1e6, color="#555", linewidth=1, zorder=1)
    for proven, marker, label in ((True, "o", "proven optimal"), (False, "s", "not proven (gap shown)")):
        part = solved[solved["proven_optimal"] == proven]
        if len(part):
            gap = part["gap_gbp"].fillna(0) / 1e6
            ax.errorbar(
                part["value"],
                part["npv_gbp"] / 1e6,
                yerr=[gap * 0, gap],
                fmt=marker,
                label=label,
                capsize=3,
                zorder=2,
            )
    failed = table[table["net_present_cost_gbp"].isna()]
    if len(failed):
        low = float(solved["npv_gbp"].min() / 1e6) if len(solved) else 0.0
        ax.scatter(
            failed["value"], [low] * len(failed), marker="x", color="#b00", label="no plan (infeasible)"
        )
    ax.set_xlabel(str(table["parameter"].iloc[0]))
    ax.set_ylabel("NPV of the plan (£m)")
    ax.set_title("Trade-off: the best plan at each value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def chart_html(table: pd.DataFrame, png: bytes) -> str:
    """A self-contained page: the chart and the table (no script, nothing fetched)."""
    image = base64.b64encode(png).decode()
    body = table.drop(columns=["disposed"]).to_html(
        index=False, escape=True, float_format=lambda x: f"{x:,.0f}"
    )
    title = f"Frontier over {table['parameter'].iloc[0]}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<h1>{title}</h1><img alt='frontier chart' src='data:image/png;base64,{image}'>{body}</body></html>"
    )


def write_frontier(table: pd.DataFrame, out: Path, *, identity: dict[str, Any]) -> dict[str, Path]:
    """frontier.csv, frontier.png, frontier.html and frontier.json, written as one run folder."""
    png = chart_png(table)

    def write(folder: Path) -> None:
        (folder / "frontier.csv").write_bytes(csv_text(table).encode())
        (folder / "frontier.png").write_bytes(png)
        (folder / "frontier.html").write_text(chart_html(table, png), encoding="utf-8")
        summary = {
            "parameter": str(table["parameter"].iloc[0]),
            "points": len(table),
            "proven_optimal": int(table["proven_optimal"].sum()),
            "monotone_violations": int((table["monotone"] == "violated").sum()),
        }
        (folder / "frontier.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")

    return write_run_dir(out, write, identity, known_files=FRONTIER_FILES, cache_dirs=("jobs",))
