"""The partners in the model: a coalition's restriction and the no-partner-worse-off rows.

`optimiser.model.build_model` calls these; they take the model's own pieces (pairs, decided
buildings, variables), so the rest of the model is built as usual.

- A **coalition** (a set of partners; one partner alone is its stand-alone plan) may only
  rearrange its own buildings and teams: its teams move only into buildings its members own;
  every other partner's team stays where it is and every other partner's building is kept
  (the scenario's locks on them do not apply: they stay as they are). Access standards, the
  capital budget, the disposal limit and the carbon cap are the scenario's; the receipts
  target is the place's, so a coalition is not held to it (`coalition_scenario`).
- **No partner worse off** (``no_partner_worse_off``): one row per partner, its NPV under the
  sharing rule (the formulas of `optimiser.partners`, in £k) at least zero or at least its
  stand-alone NPV. With ``elastic`` each row has a slack, read by `optimiser.pipeline.diagnose`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pandas as pd
import pulp

from estate import Estate
from optimiser.errors import ScenarioError
from optimiser.partners import occupancy_rate_gbp_per_m2, partners_of, pooled_key
from optimiser.scenario import Scenario

FAIRNESS_FAMILY = "fairness"  # the slacks' family name in EstateModel.slacks


def coalition_scenario(estate: Estate, scenario: Scenario, members: frozenset[str]) -> Scenario:
    """The scenario of a coalition's plan: no locks on others' buildings, no receipts target,
    no partner rule (a coalition's plan is its own best)."""
    owner = estate.buildings["owner"].astype(str)
    own = set(owner.index[owner.isin(members)])
    return scenario.with_changes(
        name=scenario.name,
        keep=tuple(b for b in scenario.keep if b in own),
        dispose=tuple(b for b in scenario.dispose if b in own),
        receipts_target_gbp=None,
        no_partner_worse_off="off",
        standalone_plans=False,
    )


def check_members(estate: Estate, members: frozenset[str]) -> None:
    """Every member is a partner of the estate."""
    unknown = sorted(set(members) - set(partners_of(estate)))
    if unknown or not members:
        known = ", ".join(partners_of(estate))
        what = f"unknown partner(s) {', '.join(map(repr, unknown))}" if unknown else "no partner"
        msg = f"A stand-alone or coalition plan names {what}. The partners are: {known}."
        raise ScenarioError(msg)


def restrict_pairs(estate: Estate, pairs: pd.DataFrame, members: frozenset[str]) -> pd.DataFrame:
    """The pairs a coalition may use: today's, and moves of its teams into its buildings."""
    occ_partner = estate.occupiers["partner"].astype(str).reindex(pairs["occupier_id"]).to_numpy()
    host_owner = estate.buildings["owner"].astype(str).reindex(pairs["building_id"]).to_numpy()
    members_list = list(members)
    ours = (
        pd.Series(occ_partner).isin(members_list).to_numpy()
        & pd.Series(host_owner).isin(members_list).to_numpy()
    )
    return pairs[pairs["is_today"].to_numpy() | ours].reset_index(drop=True)


def keep_others(
    estate: Estate, members: frozenset[str], fixed_keep: dict[str, bool], reason: dict[str, str]
) -> None:
    """Decide every building the coalition does not own as kept, with the reason (also where
    the pre-solve kept it only for a team that may not move in this plan)."""
    owner = estate.buildings["owner"].astype(str)
    words = ", ".join(sorted(members))
    for bid, who in owner.items():
        if who in members:
            continue
        if bid not in fixed_keep or reason.get(bid, "").startswith("keep: houses"):
            fixed_keep[bid] = True
            reason[bid] = f"kept as it is: owned by {who}, not in the plan of {words}"
    occ = estate.occupiers
    for a, bid in occ["building_id"].items():
        who = str(occ.at[a, "partner"])
        if (
            who not in members
            and owner.get(bid) in members
            and reason.get(bid, "").startswith("keep: houses")
        ):
            reason[bid] = f"keep: houses {a} of {who}, which stays where it is in the plan of {words}"


def partner_npv_k(
    estate: Estate,
    scenario: Scenario,
    *,
    keep: Mapping[str, pulp.LpVariable],
    move: Mapping[tuple[str, str], pulp.LpVariable],
    fixed_keep: Mapping[str, bool],
    fixed_host: Mapping[str, str],
    pairs: pd.DataFrame,
    costs: pd.DataFrame,
) -> dict[str, pulp.LpAffineExpression]:
    """Each partner's NPV in £k under the ``owner`` rule, as an expression of the variables."""
    af = scenario.annuity_factor
    owner = estate.buildings["owner"].astype(str)
    occ = estate.occupiers
    partner = occ["partner"].astype(str)
    rate = occupancy_rate_gbp_per_m2(estate, scenario)
    terms: dict[str, dict[pulp.LpVariable, float]] = defaultdict(dict)
    constant: dict[str, float] = defaultdict(float)
    for bid in costs.index:
        value = float(costs.at[bid, "keep_cost_k"] - costs.at[bid, "dispose_cost_k"])  # what going is worth
        who = owner[bid]
        decided = fixed_keep.get(bid)
        if decided is None:
            constant[who] += value
            terms[who][keep[bid]] = terms[who].get(keep[bid], 0.0) - value
        elif decided is False:
            constant[who] += value
    cost = dict(
        zip(zip(pairs["occupier_id"], pairs["building_id"], strict=True), pairs["cost_k"], strict=True)
    )
    today = occ["building_id"]

    def add(a: str, h: str, var: pulp.LpVariable | None) -> None:
        payer, host = partner[a], owner[h]
        charge = (
            af * float(rate[h]) * float(occ.at[a, "space_m2"]) / 1000
            if h != today[a] and payer != host
            else 0.0
        )
        for who, amount in ((payer, -float(cost[(a, h)]) - charge), (host, charge)):
            if not amount:
                continue
            if var is None:
                constant[who] += amount
            else:
                terms[who][var] = terms[who].get(var, 0.0) + amount

    for (a, h), var in move.items():
        add(a, h, var)
    for a, h in fixed_host.items():
        add(a, h, None)
    return {
        p: pulp.LpAffineExpression(terms.get(p, {}), constant=constant.get(p, 0.0))
        for p in partners_of(estate)
    }


def partner_floors_k(
    estate: Estate, scenario: Scenario, floors_gbp: Mapping[str, float] | None
) -> dict[str, float]:
    """The least NPV (£k) the rule allows each partner: 0, or its stand-alone NPV."""
    rule = scenario.no_partner_worse_off
    names = partners_of(estate)
    if rule == "zero":
        return dict.fromkeys(names, 0.0)
    if floors_gbp is None:
        msg = (
            f'Scenario {scenario.name!r}: no_partner_worse_off = "standalone" needs each partner\'s '
            "stand-alone NPV, which only a partnership run computes first. Fix: use "
            '`python -m optimiser run` (it solves the stand-alone plans first), or no_partner_worse_off = "zero".'
        )
        raise ScenarioError(msg)
    missing = [p for p in names if p not in floors_gbp]
    if missing:
        msg = f"no_partner_worse_off: no stand-alone NPV for {', '.join(missing)}."
        raise ScenarioError(msg)
    return {p: float(floors_gbp[p]) / 1000 for p in names}


def add_partner_rows(
    problem: pulp.LpProblem,
    npv_k: Mapping[str, pulp.LpAffineExpression],
    floors_k: Mapping[str, float],
    key: pd.Series | None,
    *,
    elastic: bool,
) -> dict[str, pulp.LpVariable]:
    """``fair_<n>``: each partner's NPV under the sharing rule >= its floor (£k).

    `key` is the pooled key (None for the ``owner`` rule). Returns the slacks by partner
    (empty unless `elastic`).
    """
    slacks: dict[str, pulp.LpVariable] = {}
    total = pulp.lpSum(npv_k.values())
    for i, (p, floor) in enumerate(sorted(floors_k.items())):
        expr = npv_k[p] if key is None else float(key[p]) * total
        if elastic:
            slacks[p] = problem.add_variable(f"slack_fair_{i}", lowBound=0)
            expr = expr + slacks[p]
        problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"fair_{i}", floor))
    return slacks


def fairness_rows(
    estate: Estate,
    scenario: Scenario,
    problem: pulp.LpProblem,
    floors_gbp: Mapping[str, float] | None,
    *,
    elastic: bool,
    **pieces: object,
) -> dict[str, pulp.LpVariable]:
    """Add the no-partner-worse-off rows the scenario asks for (none when it is off)."""
    if scenario.no_partner_worse_off == "off":
        return {}
    floors = partner_floors_k(estate, scenario, floors_gbp)
    npv = partner_npv_k(estate, scenario, **pieces)  # type: ignore[arg-type]
    key = pooled_key(estate, scenario) if scenario.sharing_rule == "pooled" else None
    return add_partner_rows(problem, npv, floors, key, elastic=elastic)


__all__ = [
    "FAIRNESS_FAMILY",
    "add_partner_rows",
    "check_members",
    "coalition_scenario",
    "fairness_rows",
    "keep_others",
    "partner_floors_k",
    "partner_npv_k",
    "restrict_pairs",
]
