"""Access standards and reach: which standards are in force, and which zones reach which sites.

This module knows nothing of the MILP: the model, the outcomes, the reports, the place split
and the scenario form all ask it the same questions.
"""

from __future__ import annotations

import functools

import pandas as pd

from estate import Estate
from optimiser.scenario import AccessStandard, Scenario


def standards_for(estate: Estate, scenario: Scenario) -> list[AccessStandard]:
    """The access standards in force: the estate's table, overridden per service by the scenario."""
    standards: dict[str, AccessStandard] = {}
    for service, row in estate.access.iterrows():
        standards[str(service)] = AccessStandard(
            service=str(service),
            reach_km=None if pd.isna(row["reach_km"]) else float(row["reach_km"]),
            reach_min=None
            if pd.isna(row["reach_km"]) is False or pd.isna(row["reach_min"])
            else float(row["reach_min"]),
            rule=str(row["rule"]),
            min_share=None if pd.isna(row["min_share"]) else float(row["min_share"]),
            protect_deprived_deciles=int(row["protect_deprived_deciles"] or 0),
        )
    for standard in scenario.access:
        standards[standard.service] = standard
    out = [s for s in standards.values() if s.enabled]
    if scenario.protect_deprived_deciles is not None:
        out = [
            AccessStandard(**{**s.__dict__, "protect_deprived_deciles": scenario.protect_deprived_deciles})
            for s in out
        ]
    return out


def straight_reach_km(estate: Estate, standard: AccessStandard) -> float:
    """The straight-line km within which every site in the standard's reach lies.

    ``reach_km`` is road km, so the straight line is ``reach_km / detour_factor``. For
    ``reach_min`` it is the travel model's straight km for those minutes; a given travel matrix
    may be faster than the model, so then ``2 x straight + 5`` km is searched.
    """
    if standard.reach_km is not None:
        return standard.reach_km / estate.travel.detour_factor
    straight = estate.travel.straight_km_for_minutes(standard.reach_min or 0.0)
    if estate.travel_matrix is not None:  # a given matrix may be faster than the model
        straight = max(straight, 2 * straight + 5.0)
    return float(straight)


def reach_pairs(estate: Estate, standard: AccessStandard) -> pd.DataFrame:
    """Zone-building pairs within the standard's reach (road km, or minutes).

    Computed once per (estate, standard) and cached: the model, the access outcomes, the keep
    reasons and the zones table all ask for the same pairs. Every call returns its own frame
    (a shallow copy; pandas' copy-on-write copies the data if the caller writes to it), so a
    caller that adds a column or edits a cell changes its own copy and never the cached one.
    """
    return _reach_table(estate, standard).copy(deep=False)


@functools.lru_cache(maxsize=32)
def _reach_table(estate: Estate, standard: AccessStandard) -> pd.DataFrame:
    """The cached pairs (`Estate` is immutable and hashed by identity; `AccessStandard` is frozen).

    Never hand this frame out: `reach_pairs` returns copies of it.
    """
    table = estate.zone_reach(straight_reach_km(estate, standard))
    if standard.reach_km is not None:
        return table[table["road_km"] <= standard.reach_km + 1e-9]
    return table[table["minutes"] <= (standard.reach_min or 0.0) + 1e-9]
