"""The price of each decision: what reversing one keep/dispose decision costs, by re-solving.

For a building the plan disposes of, the scenario is solved again with that building locked
in (kept); for a building free to change that the plan keeps, with it locked out. The price is
the re-solve's net present cost less the plan's, in pounds: for a disposal, "keeping this
building would cost £X over the appraisal period"; for a keep, what disposing of it would
cost (negative only if the plan was not optimal). Never guessed from reduced costs.

Each re-solve is warm-started from the plan (with the one decision reversed; for a disposal
that start is a feasible plan of the locked model) and runs through `optimiser.fanout`,
serially or on Dask workers. ``price_basis`` says what the figure rests on: both solves proven
optimal; a range from the solvers' bounds when either stopped short (the true price lies in
``[bound_locked - objective_plan, objective_locked - bound_plan]``); or, when the lock has no
plan, which standard, capacity or lock forbids it (`optimiser.pipeline.diagnose`'s findings).
Buildings decided before the solve (protected, fixed, locked, the only home of an occupier)
have no price: their basis says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate import Estate
from optimiser.fanout import Variant, plan_start, solve_variants
from optimiser.model import build_model
from optimiser.plan import Plan
from optimiser.scenario import Scenario

PRICE_CHOICES = ("none", "disposed", "all")


def price_variants(scenario: Scenario, plan: Plan, buildings: list[str]) -> list[Variant]:
    """One re-solve per building, with its decision in `plan` reversed by a lock."""
    kept = plan.buildings.set_index("building_id")["decision"].eq("keep")
    variants = []
    for bid in buildings:
        locks = {"dispose": (*scenario.dispose, bid)} if bool(kept[bid]) else {"keep": (*scenario.keep, bid)}
        keep, moves = plan_start(plan, flip=bid)
        variants.append(
            Variant(
                scenario=scenario.with_changes(name=f"{scenario.name}_price_{bid}", **locks),
                keep=keep,
                moves=moves,
            )
        )
    return variants


def _money(gbp: float) -> str:
    sign = "-" if gbp < 0 else ""
    gbp = abs(gbp)
    if gbp >= 1e6:
        return f"{sign}£{gbp / 1e6:,.2f}m"
    return f"{sign}£{gbp / 1e3:,.0f}k"


def price_row(plan: Plan, kept: bool, result: dict[str, Any]) -> dict[str, Any]:
    """The price columns of one building from its re-solve's result."""
    years = plan.scenario.years
    verb = "disposing of" if kept else "keeping"
    if result["status"] == "infeasible":
        why = "; ".join(result["findings"]) or result["message"]
        return {
            "price_of_decision_gbp": math.nan,
            "price_low_gbp": math.nan,
            "price_high_gbp": math.nan,
            "price_basis": f"{verb} this building is not possible: {why}",
        }
    if "objective_k" not in result:
        return {
            "price_of_decision_gbp": math.nan,
            "price_low_gbp": math.nan,
            "price_high_gbp": math.nan,
            "price_basis": f"re-solve failed: {result['message']}",
        }
    info = plan.info
    price = (result["objective_k"] - info.objective) * 1000
    bound_l = result["bound_k"] if result["bound_k"] is not None else -math.inf
    bound_o = info.bound if math.isfinite(info.bound) else -math.inf
    low = (bound_l - info.objective) * 1000
    high = (result["objective_k"] - bound_o) * 1000
    if result["proven_optimal"] and plan.proven_optimal:
        basis = (
            f"{verb} this building would cost {_money(price)} over {years} years (both solves proven optimal"
        )
        basis += f"; between {_money(low)} and {_money(high)} by the bounds)"
    elif math.isfinite(low) and math.isfinite(high):
        basis = (
            f"{verb} this building would cost between {_money(low)} and {_money(high)} over {years} years "
            f"(re-solve {result['status']}, plan {info.status}: a range from the bounds)"
        )
    else:
        basis = f"{verb} this building would cost at most {_money(high)} (no bound: {result['status']})"
    return {
        "price_of_decision_gbp": price,
        "price_low_gbp": low if math.isfinite(low) else math.nan,
        "price_high_gbp": high if math.isfinite(high) else math.nan,
        "price_basis": basis,
    }


def with_prices(
    estate: Estate,
    scenario: Scenario,
    plan: Plan,
    *,
    which: str = "disposed",
    only: list[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    on_result: Callable[[int, dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """`plan.buildings` with ``price_of_decision_gbp``, ``price_low_gbp``, ``price_high_gbp``
    and ``price_basis``: for the disposed buildings (``which="disposed"``) or every building
    free to change (``"all"``); `only` narrows it to some building IDs."""
    if which not in PRICE_CHOICES:
        msg = f"--prices {which!r}: use one of {', '.join(PRICE_CHOICES)}."
        raise ValueError(msg)
    table = plan.buildings.copy()
    for column in ("price_of_decision_gbp", "price_low_gbp", "price_high_gbp"):
        table[column] = np.nan
    table["price_basis"] = ""
    if which == "none":
        return table
    model = build_model(estate, scenario)  # which buildings are free, and why the others are not
    kept = table.set_index("building_id")["decision"].eq("keep")
    free = [b for b in table["building_id"] if b in model.keep]
    wanted = [b for b in free if which == "all" or not kept[b]]
    if only is not None:
        wanted = [b for b in wanted if b in set(only)]
    results = solve_variants(
        estate,
        price_variants(scenario, plan, wanted),
        workers=workers,
        scheduler=scheduler,
        cache_dir=cache_dir,
        on_result=on_result,
    )
    rows = {bid: price_row(plan, bool(kept[bid]), r) for bid, r in zip(wanted, results, strict=True)}
    for i, bid in enumerate(table["building_id"]):
        if bid in rows:
            for column, value in rows[bid].items():
                table.at[i, column] = value
        elif bid not in model.keep:
            table.at[i, "price_basis"] = f"decided before the solve: {model.keep_reason.get(bid, 'not free')}"
        elif which == "disposed" and kept[bid]:
            table.at[i, "price_basis"] = "kept (prices asked for disposals only: --prices all)"
    return table
