"""Pure cost formulas, in £k, over the appraisal period. Hand-testable; no solver here.

For each building ``b`` (all money in £k, discounting at the Green Book rate):

- keep cost:     ``AF x running_b + backlog_b``  (AF = annuity factor over `years`)
- dispose cost:  ``disposal_cost_b + lease_exit_b - receipt_b``
- receipt:       freehold market sale: ``market_value_b``; community asset transfer:
  ``market_value_b x (1 - cat_discount)``; leasehold: 0 (nothing to sell)
- lease exit:    ``lease_exit_share x rent_b x AF(years to break or end)``, leaseholds only

and for each occupier ``a`` that moves: ``move_cost_gbp_per_m2 x space_a / 1000``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estate import Estate
from optimiser.scenario import Scenario, annuity_factor

RENT_SHARE_IF_UNKNOWN = 0.35  # rent as a share of running cost for leaseholds without rent_gbp

ROUTE_MARKET = "market_sale"
ROUTE_CAT = "community_asset_transfer"
ROUTE_LEASE = "lease_exit"
ROUTE_KEEP = "keep"


def disposal_routes(estate: Estate, scenario: Scenario) -> pd.Series:
    """How each building would leave: lease exit, community asset transfer or market sale.

    A freehold goes by community asset transfer when every service in it today is one of
    `scenario.cat_services`; otherwise by market sale.
    """
    b = estate.buildings
    services = estate.occupiers.groupby("building_id")["service"].agg(set)
    cat = set(scenario.cat_services)
    is_cat = services.map(lambda s: bool(s) and s <= cat).reindex(b.index, fill_value=False).astype(bool)
    route = pd.Series(ROUTE_MARKET, index=b.index, dtype=object)
    route[is_cat] = ROUTE_CAT
    route[b["tenure"] == "leasehold"] = ROUTE_LEASE
    return route


def building_costs(estate: Estate, scenario: Scenario) -> pd.DataFrame:
    """Per-building money in £k: keep and dispose costs over the appraisal period.

    Columns: ``running_k`` (a year), ``backlog_k``, ``keep_cost_k``, ``route``,
    ``receipt_k``, ``disposal_cost_k``, ``lease_exit_k``, ``dispose_cost_k``. Unknown figures
    count as 0 (such buildings are fixed and never disposed).
    """
    b = estate.buildings
    af = scenario.annuity_factor
    running = b["running_cost_gbp"].fillna(0.0) / 1000
    backlog = b["backlog_gbp"].fillna(0.0) / 1000 if scenario.include_backlog else running * 0
    value = b["market_value_gbp"].fillna(0.0) / 1000
    route = disposal_routes(estate, scenario)
    receipt = value.where(route == ROUTE_MARKET, 0.0)
    receipt = receipt.where(route != ROUTE_CAT, value * (1 - scenario.cat_discount))
    disposal = (b["disposal_cost_gbp"] / 1000).fillna(value * scenario.disposal_cost_share)
    disposal = disposal.where(route != ROUTE_LEASE, 0.0)
    lease_exit = _lease_exit_k(b, running, scenario).where(route == ROUTE_LEASE, 0.0)
    return pd.DataFrame(
        {
            "running_k": running,
            "backlog_k": backlog,
            "keep_cost_k": af * running + backlog,
            "route": route,
            "receipt_k": receipt,
            "disposal_cost_k": disposal,
            "lease_exit_k": lease_exit,
            "dispose_cost_k": disposal + lease_exit - receipt,
        },
        index=b.index,
    )


def _lease_exit_k(b: pd.DataFrame, running_k: pd.Series, scenario: Scenario) -> pd.Series:
    """Rent still owed until the earliest break or the lease end, discounted, in £k."""
    rent = (b["rent_gbp"] / 1000).fillna(running_k * RENT_SHARE_IF_UNKNOWN)
    exit_year = b["break_year"].astype("Float64").fillna(b["lease_end_year"].astype("Float64"))
    years_left = (exit_year - scenario.start_year).astype("float64")
    years_left = years_left.fillna(float(scenario.years)).clip(0, scenario.years)
    factors = np.array([annuity_factor(y, scenario.discount_rate) for y in years_left])
    return scenario.lease_exit_share * rent * factors


def move_cost_k(space_m2: pd.Series, scenario: Scenario) -> pd.Series:
    """One-off relocation and fit-out cost of moving each occupier whole, in £k."""
    return space_m2.astype(float) * scenario.move_cost_gbp_per_m2 / 1000
