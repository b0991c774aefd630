"""Robustness: how much of a plan rests on figures that were modelled rather than measured.

`draw_factors` draws N scenarios of the modelled money figures: for each draw, each building
and each figure in `SPREAD_FIELDS` that the building's ``modelled`` column names, a factor
uniform in ``[1 - spread, 1 + spread]`` (the spreads are the scenario's ``[uncertainty]`` keys,
±20% by default). Draw ``d`` comes from ``numpy.random.default_rng([seed, d])``, so the same seed
gives the same draws whatever N, on any machine. `robustness` solves each draw's estate to
its own optimum through `optimiser.fanout` (serially or on Dask, cached by the draw's inputs)
and reports the NPV distribution (P10, P50, P90 of the draws' optimal NPVs), each building's
share of the solved draws in which it is disposed of, and the **robust core**: the disposals
that hold in at least `CORE_SHARE` of them. A draw that does not solve is counted and shown,
never folded into the figures; a draw that stops at its time limit counts with its plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate import Estate
from optimiser.fanout import Variant, solve_variants
from optimiser.plan import Plan
from optimiser.scenario import Scenario

SPREAD_FIELDS = {  # building column -> the Scenario field with its spread
    "running_cost_gbp": "running_cost_spread",
    "market_value_gbp": "market_value_spread",
    "backlog_gbp": "backlog_spread",
    "disposal_cost_gbp": "disposal_cost_spread",
    "rent_gbp": "rent_spread",
}
CORE_SHARE = 0.8
MAX_DRAWS = 1000


def draw_factors(
    estate: Estate, scenario: Scenario, draws: int, seed: int
) -> list[dict[str, dict[str, float]]]:
    """Per draw: column -> building ID -> factor, for the modelled figures with a spread."""
    b = estate.buildings
    modelled = [set(m or ()) for m in b["modelled"]]
    out = []
    for d in range(draws):
        rng = np.random.default_rng([seed, d])
        factors: dict[str, dict[str, float]] = {}
        for column, field in SPREAD_FIELDS.items():  # every column drawn, always: draws stay aligned
            spread = float(getattr(scenario, field))
            u = rng.uniform(1 - spread, 1 + spread, size=len(b))
            chosen = {
                str(bid): float(f) for bid, f, m in zip(b.index, u, modelled, strict=True) if column in m
            }
            if spread > 0 and chosen:
                factors[column] = chosen
        out.append(factors)
    return out


@dataclass(frozen=True, eq=False)
class Robustness:
    """The draws' results and what they say about the plan."""

    draws: pd.DataFrame  # draw, status, proven_optimal, npv_gbp, net_present_cost_gbp, gap_gbp, disposed
    buildings: pd.DataFrame  # building_id, disposed_share, decision (in the plan), in_robust_core
    seed: int
    spreads: dict[str, float]

    @property
    def solved(self) -> pd.DataFrame:
        """The draws with a plan."""
        return self.draws[self.draws["npv_gbp"].notna()]

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0-100) of the solved draws' NPVs (None when none solved)."""
        npv = self.solved["npv_gbp"].to_numpy(dtype=float)
        return float(np.percentile(npv, q)) if len(npv) else None

    @property
    def core(self) -> list[str]:
        """Disposals in at least `CORE_SHARE` of the solved draws."""
        return sorted(self.buildings.loc[self.buildings["in_robust_core"], "building_id"])

    def summary(self) -> dict[str, Any]:
        """npv_p10_gbp, npv_p50_gbp, npv_p90_gbp and the uncertainty section of summary.json."""
        statuses = self.draws["status"].value_counts().sort_index()
        return {
            "npv_p10_gbp": self.percentile(10),
            "npv_p50_gbp": self.percentile(50),
            "npv_p90_gbp": self.percentile(90),
            "uncertainty": {
                "draws": len(self.draws),
                "solved": len(self.solved),
                "proven_optimal": int(self.draws["proven_optimal"].sum()),
                "statuses": {str(k): int(v) for k, v in statuses.items()},
                "seed": self.seed,
                "spreads": self.spreads,
                "core_share": CORE_SHARE,
                "robust_core": self.core,
                "note": (
                    "P10/P50/P90 of the optimal NPV over draws of the modelled money figures; "
                    "disposed_share in robustness.csv is over the solved draws"
                ),
            },
        }


def robustness(
    estate: Estate,
    scenario: Scenario,
    plan: Plan,
    *,
    draws: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    on_result: Callable[[int, dict[str, Any]], None] | None = None,
) -> Robustness:
    """Solve `draws` draws of the modelled money figures and read the NPV and disposal shares."""
    factors = draw_factors(estate, scenario, draws, seed)
    variants = [
        Variant(scenario=scenario.with_changes(name=f"{scenario.name}_draw_{d}"), factors=f)
        for d, f in enumerate(factors)
    ]
    results = solve_variants(
        estate, variants, workers=workers, scheduler=scheduler, cache_dir=cache_dir, on_result=on_result
    )
    rows = []
    for d, r in enumerate(results):
        objective, bound = r.get("objective_k"), r.get("bound_k")
        rows.append(
            {
                "draw": d,
                "status": r["status"],
                "proven_optimal": bool(r["proven_optimal"]),
                "npv_gbp": r.get("npv_gbp", math.nan),
                "net_present_cost_gbp": objective * 1000 if objective is not None else math.nan,
                "gap_gbp": (objective - bound) * 1000
                if objective is not None and bound is not None
                else math.nan,
                "buildings_disposed": len(r.get("disposed", [])) if objective is not None else math.nan,
                "disposed": " ".join(r.get("disposed", [])),
                "message": "; ".join(r["findings"]) or r["message"],
            }
        )
    table = pd.DataFrame(rows)
    solved = table[table["npv_gbp"].notna()]
    counts: dict[str, int] = {}
    for text in solved["disposed"]:
        for bid in text.split():
            counts[bid] = counts.get(bid, 0) + 1
    ids = plan.buildings["building_id"]
    share = ids.map(lambda b: counts.get(b, 0) / len(solved) if len(solved) else math.nan)
    buildings = pd.DataFrame(
        {
            "building_id": ids.to_numpy(),
            "disposed_share": share.to_numpy(dtype=float),
            "decision": plan.buildings["decision"].to_numpy(),
        }
    )
    buildings["in_robust_core"] = buildings["disposed_share"] >= CORE_SHARE
    spreads = {column: float(getattr(scenario, field)) for column, field in SPREAD_FIELDS.items()}
    return Robustness(draws=table, buildings=buildings, seed=seed, spreads=spreads)
