"""Near-optimal alternatives: the next-best plans that differ from every earlier one.

`find_alternatives` takes a solved plan (the optimum) and finds up to K further plans, one
exact solve each. Alternative ``k`` is the cheapest plan of the estate model with two extra
kinds of row:

- the band: net present cost <= the optimum's + ``within`` x |the optimum's NPV| (£k);
- one no-good cut per earlier plan ``p`` (the optimum and alternatives 1 .. k-1) on the keep
  variables of the buildings free to change: ``sum_{b kept in p} (1 - keep[b]) + sum_{b
  disposed in p} keep[b] >= differ``, so it differs from each in at least ``differ``
  keep/dispose decisions.

So each alternative is the best plan left once the earlier ones (and their near copies) are
cut off, and pairwise differences meet ``differ`` by construction. Every solve settles its
status as any other (`optimiser.solver.settle`): an alternative is ``optimal`` only when
proven best among the plans the cuts leave; otherwise it carries its status and gap. Every solve (and the
optimum's, see `exact`) runs to a gap of at most `EXACT_GAP`, so that the same alternatives
come out on every run. The search stops early, and says why, when the solver proves no further plan exists inside the
band, or finds none within the time limit (then more may exist).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd
import pulp

from estate import Estate
from optimiser.errors import InfeasibleScenarioError, SolveError
from optimiser.model import EstateModel, build_model
from optimiser.pipeline import solve
from optimiser.plan import Plan
from optimiser.scenario import Scenario

DEFAULT_WITHIN = 0.02  # share of the optimum's |NPV| an alternative may cost more
DEFAULT_DIFFER = 3  # keep/dispose decisions each alternative changes against every earlier plan
EXACT_GAP = (
    1e-7  # alternatives (and the optimum they start from) are solved this close: about £15 on Trafford
)


@dataclass(frozen=True, eq=False)
class Alternatives:
    """The optimum, the alternatives found (in order) and why the search stopped."""

    optimum: Plan
    plans: tuple[Plan, ...]
    wanted: int
    within: float
    differ: int
    band_gbp: float  # how much more than the optimum an alternative may cost
    stopped: str  # why fewer than `wanted` were found ("" when all were)

    @property
    def note(self) -> str:
        """One line: how many were found, and why not more."""
        found = f"{len(self.plans)} of {self.wanted} alternative(s) found"
        band = f"within £{self.band_gbp:,.0f} of the optimum, each differing in {self.differ}+ decisions"
        return f"{found} {band}" + (f"; {self.stopped}" if self.stopped else "")

    def summary(self) -> dict[str, object]:
        """The figures for the main run's summary.json."""
        return {
            "wanted": self.wanted,
            "found": len(self.plans),
            "within_share_of_npv": self.within,
            "band_gbp": self.band_gbp,
            "differ": self.differ,
            "stopped": self.stopped or None,
            "note": self.note,
        }


def exact(scenario: Scenario) -> Scenario:
    """The scenario with a gap of at most `EXACT_GAP` (the optimum of `find_alternatives` wants it too)."""
    return scenario if scenario.mip_gap <= EXACT_GAP else scenario.with_changes(mip_gap=EXACT_GAP)


def decisions(plan: Plan) -> pd.Series:
    """True where the plan keeps the building, by building ID."""
    return plan.buildings.set_index("building_id")["decision"].eq("keep")


def band_gbp(optimum: Plan, within: float) -> float:
    """The band's width in pounds: `within` x |the optimum's NPV|."""
    return within * abs(float(optimum.kpis["npv_gbp"]))


def cut_model(model: EstateModel, ceiling_k: float, earlier: list[pd.Series], differ: int) -> EstateModel:
    """`model` with the band row and one no-good cut per earlier plan, and no warm start."""
    problem = model.problem
    problem += (problem.objective <= ceiling_k, "alt_band")
    for i, kept in enumerate(earlier):
        terms = [(1 - var) if bool(kept[b]) else var for b, var in model.keep.items()]
        problem += (pulp.lpSum(terms) >= differ, f"alt_differ_{i}")
    return replace(model, start={})


def find_alternatives(
    estate: Estate,
    scenario: Scenario,
    optimum: Plan,
    *,
    count: int,
    within: float = DEFAULT_WITHIN,
    differ: int = DEFAULT_DIFFER,
) -> Alternatives:
    """Up to `count` plans within `within` x |NPV| of `optimum`, each `differ` decisions apart.

    `optimum` must be the plan of (`estate`, `scenario`); each alternative is solved with the
    scenario's solver and time limit, to a gap of at most `EXACT_GAP`: alternatives whose costs
    lie within the default 0.01% gap of each other (£15k on Trafford) would otherwise come out
    in whichever order the solver happens to find them, so not the same on every run.
    """
    scenario = exact(scenario)
    band = band_gbp(optimum, within)
    ceiling_k = float(optimum.info.objective) + band / 1000
    earlier = [decisions(optimum)]
    plans: list[Plan] = []
    stopped = ""
    for k in range(1, count + 1):
        named = scenario.with_changes(name=f"{scenario.name}_alt_{k}")
        model = build_model(estate, named)
        if len(model.keep) < differ:
            stopped = f"only {len(model.keep)} building(s) are free to change, fewer than --differ {differ}"
            break
        model = cut_model(model, ceiling_k, earlier, differ)
        try:
            plan = solve(model, explain=False)
        except InfeasibleScenarioError:
            stopped = (
                "the solver proved that no further plan inside the band differs enough from the earlier ones"
            )
            break
        except SolveError:
            stopped = "the solver found no further plan within the time limit (more may exist)"
            break
        plans.append(plan)
        earlier.append(decisions(plan))
    return Alternatives(
        optimum=optimum,
        plans=tuple(plans),
        wanted=count,
        within=within,
        differ=differ,
        band_gbp=band,
        stopped=stopped,
    )


def _names(ids: pd.Index) -> str:
    return " ".join(sorted(str(b) for b in ids))


def alternatives_table(found: Alternatives) -> pd.DataFrame:
    """alternatives.csv: the optimum (row 0) and each alternative, headline KPIs and differences."""
    base = decisions(found.optimum)
    rows = []
    every = [base] + [decisions(p) for p in found.plans]
    for k, plan in enumerate((found.optimum, *found.plans)):
        kept = every[k].reindex(base.index)
        info, kpis = plan.info, plan.kpis
        others = [int((kept != e.reindex(base.index)).sum()) for e in every[:k]]
        gap_gbp = (info.objective - info.bound) * 1000 if math.isfinite(info.bound) else math.nan
        rows.append(
            {
                "alternative": k,
                "folder": "" if k == 0 else f"alt_{k}",
                "status": info.status,
                "proven_optimal": bool(info.proven_optimal),
                "gap_gbp": gap_gbp,
                "net_present_cost_gbp": info.objective * 1000,
                "extra_cost_gbp": (info.objective - found.optimum.info.objective) * 1000,
                "npv_gbp": kpis["npv_gbp"],
                "capital_receipts_gbp": kpis["capital_receipts_gbp"],
                "annual_revenue_saving_gbp": kpis["annual_revenue_saving_gbp"],
                "one_off_cost_gbp": kpis["one_off_cost_gbp"],
                "buildings_disposed": int((~kept).sum()),
                "decisions_differing": int((kept != base).sum()),
                "fewest_differing_from_earlier": min(others) if others else None,
                "kept_instead": _names(kept.index[kept & ~base]),
                "disposed_instead": _names(kept.index[~kept & base]),
            }
        )
    return pd.DataFrame(rows)
