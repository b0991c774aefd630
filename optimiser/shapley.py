"""A fair split of the gain: the Shapley value over partner groups, and the core test.

The players are the partner groups (`optimiser.partners.partner_groups`: the ``owner_type``
of the buildings a partner owns: council, nhs, police, fire, dwp, other; at most
`MAX_GROUPS`). The worth ``v(S)`` of a coalition ``S`` of groups is the NPV of the best plan in
which only the partners of ``S`` rearrange their own buildings and teams
(`optimiser.partnership`), ``v({}) = 0``. With ``n`` groups that is ``2^n - 1`` solves (at most
63), run in parallel on Dask and cached. Then

    shapley_i = sum over S not containing i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))

which adds up to ``v(N)``, the grand coalition's NPV. The sharing rule's split (each group's
ledger NPV in the joint plan) is **in the core** when no coalition would do better alone:
``sum_{i in S} share_i >= v(S)`` for every ``S`` (within `CORE_TOLERANCE_GBP`). The transfer
that moves each group from its rule share to its Shapley value is ``shapley_i - share_i``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from estate import Estate
from optimiser.errors import ScenarioError, SolveError
from optimiser.partners import members_of_groups, partner_groups
from optimiser.partnership import Coalition, CoalitionResult, solve_coalitions
from optimiser.plan import Plan
from optimiser.scenario import Scenario

MAX_GROUPS = 6  # 2^6 = 64 coalitions
CORE_TOLERANCE_GBP = 1.0
COALITION_SEP = "+"


def shapley_values(groups: Sequence[str], worth: Mapping[frozenset[str], float]) -> dict[str, float]:
    """The Shapley value of each group, from the worth of every coalition (empty one 0)."""
    n = len(groups)
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]

    def v(s: frozenset[str]) -> float:
        return float(worth[s]) if s else 0.0

    values = {}
    for g in groups:
        others = [h for h in groups if h != g]
        total = 0.0
        for k in range(n):
            for subset in itertools.combinations(others, k):
                s = frozenset(subset)
                total += weight[k] * (v(s | {g}) - v(s))
        values[g] = total
    return values


def blocking_coalitions(
    groups: Sequence[str], worth: Mapping[frozenset[str], float], share: Mapping[str, float]
) -> list[tuple[frozenset[str], float]]:
    """Coalitions that would do better alone than `share` gives them, and by how much."""
    found = []
    for k in range(1, len(groups) + 1):
        for subset in itertools.combinations(groups, k):
            s = frozenset(subset)
            excess = float(worth[s]) - sum(float(share[g]) for g in s)
            if excess > CORE_TOLERANCE_GBP:
                found.append((s, excess))
    return found


@dataclass(frozen=True, eq=False)
class ShapleyResult:
    """The coalitions' worth, the Shapley split and the core test."""

    coalitions: pd.DataFrame  # coalition, members, npv_gbp, status, proven_optimal, gap_gbp, time_s, cached
    shapley: pd.DataFrame  # group, shapley_gbp, rule_share_gbp, transfer_gbp
    in_core: bool
    blocked_by: list[dict[str, Any]]
    solves: int  # coalitions solved by this call (not from the run's memo or the disk cache)


def coalition_name(groups: Iterable[str]) -> str:
    """``council+nhs``: a coalition's name from its groups, sorted."""
    return COALITION_SEP.join(sorted(groups))


def run_shapley(
    estate: Estate,
    scenario: Scenario,
    plan: Plan,
    *,
    memo: dict[Coalition, CoalitionResult] | None = None,
    **options: Any,
) -> ShapleyResult:
    """Solve every coalition of groups and split the gain; `plan` is the joint plan whose
    ledger gives the sharing rule's split. `options` go to `optimiser.partnership.solve_coalitions`."""
    kinds = partner_groups(estate)
    groups = sorted(set(kinds))
    if len(groups) > MAX_GROUPS:
        msg = (
            f"--shapley: {estate.name} has {len(groups)} partner groups ({', '.join(groups)}); at most "
            f"{MAX_GROUPS} ({2**MAX_GROUPS} coalitions) are solved. Fix: set owner_type so that fewer kinds remain."
        )
        raise ScenarioError(msg)
    subsets = [frozenset(s) for k in range(1, len(groups) + 1) for s in itertools.combinations(groups, k)]
    members = {s: members_of_groups(estate, s) for s in subsets}
    memo = {} if memo is None else memo
    before = set(memo)
    results = solve_coalitions(estate, scenario, list(members.values()), memo=memo, **options)
    bad = [r for r in results.values() if not r.usable]
    if bad:
        lines = "; ".join(f"{' + '.join(r.members)}: {r.message}" for r in bad[:3])
        msg = f"--shapley: {len(bad)} coalition(s) have no plan, so no Shapley split: {lines}"
        raise SolveError(msg)
    worth = {s: results[members[s]].npv_gbp for s in subsets}
    rows = []
    for s in subsets:
        r = results[members[s]]
        rows.append(
            {
                "coalition": coalition_name(s),
                "members": "; ".join(sorted(members[s])),
                "npv_gbp": r.npv_gbp,
                "status": r.status,
                "proven_optimal": r.proven_optimal,
                "gap_gbp": r.gap_gbp,
                "time_s": round(r.time_s, 3),
                "cached": r.cached or members[s] in before,
            }
        )
    share = plan.partners.groupby(plan.partners["partner"].map(kinds))["npv_gbp"].sum()
    share = {g: float(share.get(g, 0.0)) for g in groups}
    values = shapley_values(groups, worth)
    blocked = blocking_coalitions(groups, worth, share)
    shapley = pd.DataFrame(
        {
            "group": groups,
            "shapley_gbp": [values[g] for g in groups],
            "rule_share_gbp": [share[g] for g in groups],
        }
    )
    shapley["transfer_gbp"] = shapley["shapley_gbp"] - shapley["rule_share_gbp"]
    return ShapleyResult(
        coalitions=pd.DataFrame(rows),
        shapley=shapley,
        in_core=not blocked,
        blocked_by=[{"coalition": coalition_name(s), "excess_gbp": e} for s, e in blocked],
        solves=sum(1 for m in set(members.values()) - before if not results[m].cached),
    )


__all__ = [
    "MAX_GROUPS",
    "ShapleyResult",
    "blocking_coalitions",
    "coalition_name",
    "run_shapley",
    "shapley_values",
]
