"""The cost formulas (optimiser.costs) on a four-building estate, every figure worked out by hand.

Buildings (money in £; the formulas work in £k):

- ``M``: freehold council office, running 20,000, backlog 5,000, worth 300,000, disposal
  cost blank (so 2% of value = 6,000): sold on the market.
- ``C``: freehold library (library is a community asset transfer service), running 8,000,
  worth 100,000, disposal cost 1,000: transferred at half value (``cat_discount = 0.5``).
- ``L``: leasehold, running 30,000, rent 12,000, break in 2029 (3 years after 2026).
- ``N``: leasehold, running 10,000, no rent given (so 35% of running = 3,500), lease ends
  in 2040 (14 years on, capped at the 10-year appraisal).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from estate import Estate
from optimiser.costs import (
    ROUTE_CAT,
    ROUTE_LEASE,
    ROUTE_MARKET,
    annuity_factor,
    building_costs,
    disposal_routes,
    move_cost_k,
)
from optimiser.scenario import Scenario
from tests.conftest import _building, make_estate

SCENARIO = Scenario(
    years=10,
    discount_rate=0.0,
    start_year=2026,
    cat_discount=0.5,
    disposal_cost_share=0.02,
    lease_exit_share=1.0,
    move_cost_gbp_per_m2=400.0,
)


@pytest.fixture
def estate() -> Estate:
    buildings = [
        _building(
            "M",
            380000,
            400000,
            500,
            20_000,
            300_000,
            "office;library",
            backlog_gbp=5_000,
            disposal_cost_gbp=None,
        ),
        _building("C", 380500, 400000, 500, 8_000, 100_000, "office;library", disposal_cost_gbp=1_000),
        _building(
            "L",
            381000,
            400000,
            500,
            30_000,
            0,
            "office;library",
            tenure="leasehold",
            rent_gbp=12_000,
            break_year=2029,
            lease_end_year=2035,
        ),
        _building(
            "N", 381500, 400000, 500, 10_000, 0, "office;library", tenure="leasehold", lease_end_year=2040
        ),
    ]
    occupiers = [
        {
            "occupier_id": "m1",
            "partner": "Council",
            "service": "council_office",
            "building_id": "M",
            "space_m2": 150,
            "space_type": "office",
        },
        {
            "occupier_id": "c1",
            "partner": "Council",
            "service": "library",
            "building_id": "C",
            "space_m2": 20,
            "space_type": "library",
        },
        {
            "occupier_id": "l1",
            "partner": "Council",
            "service": "library",
            "building_id": "L",
            "space_m2": 50,
            "space_type": "library",
        },
    ]
    return make_estate(buildings, occupiers, name="costs")


def test_annuity_factor_by_hand():
    # (1 - 1.1^-2) / 0.1 = (0.21 / 1.21) / 0.1
    assert annuity_factor(2, 0.1) == pytest.approx(0.21 / 1.21 / 0.1, rel=1e-15)
    assert annuity_factor(10, 0.0) == 10.0
    assert annuity_factor(0, 0.035) == 0.0
    assert annuity_factor(-1, 0.035) == 0.0
    # one formula: the scenario's property is the same function
    scenario = Scenario(years=7, discount_rate=0.05)
    assert scenario.annuity_factor == annuity_factor(7, 0.05)
    assert scenario.annuity_factor == pytest.approx((1 - 1.05**-7) / 0.05, rel=1e-15)


def test_disposal_routes(estate):
    routes = disposal_routes(estate, SCENARIO)
    # N has no occupier, so not every service in it is a CAT service: but it is a leasehold
    assert routes.to_dict() == {"M": ROUTE_MARKET, "C": ROUTE_CAT, "L": ROUTE_LEASE, "N": ROUTE_LEASE}
    # with no CAT services the library goes to market; a leasehold stays a lease exit
    none = disposal_routes(estate, SCENARIO.with_changes(cat_services=()))
    assert none.to_dict() == {"M": ROUTE_MARKET, "C": ROUTE_MARKET, "L": ROUTE_LEASE, "N": ROUTE_LEASE}


def test_building_costs_columns_by_hand(estate):
    c = building_costs(estate, SCENARIO)
    assert list(c.columns) == [
        "running_k",
        "backlog_k",
        "keep_cost_k",
        "route",
        "receipt_k",
        "disposal_cost_k",
        "lease_exit_k",
        "dispose_cost_k",
    ]
    expected = pd.DataFrame(
        {
            "running_k": [20.0, 8.0, 30.0, 10.0],
            "backlog_k": [5.0, 0.0, 0.0, 0.0],
            # AF = 10 (undiscounted): 10 x running + backlog
            "keep_cost_k": [205.0, 80.0, 300.0, 100.0],
            "route": [ROUTE_MARKET, ROUTE_CAT, ROUTE_LEASE, ROUTE_LEASE],
            # market: full value; CAT: 100 x (1 - 0.5); leaseholds: nothing to sell
            "receipt_k": [300.0, 50.0, 0.0, 0.0],
            # blank: 2% of 300 = 6; stated 1; leaseholds pay no disposal cost
            "disposal_cost_k": [6.0, 1.0, 0.0, 0.0],
            # L: 12 rent x 3 years to the 2029 break; N: 3.5 (35% of 10) x 10 (2040 capped at 10 years)
            "lease_exit_k": [0.0, 0.0, 36.0, 35.0],
            "dispose_cost_k": [6.0 - 300.0, 1.0 - 50.0, 36.0, 35.0],
        },
        index=c.index,
    )
    assert list(c.index) == ["M", "C", "L", "N"]
    pd.testing.assert_frame_equal(c, expected, check_dtype=False, atol=1e-12, rtol=0)


def test_backlog_left_out_when_the_scenario_says_so(estate):
    c = building_costs(estate, SCENARIO.with_changes(include_backlog=False))
    assert c.at["M", "backlog_k"] == 0.0
    assert c.at["M", "keep_cost_k"] == 200.0


def test_lease_exit_is_discounted_rent_to_the_break(estate):
    scenario = SCENARIO.with_changes(discount_rate=0.1, lease_exit_share=0.5)
    c = building_costs(estate, scenario)
    af3 = (1 - 1.1**-3) / 0.1  # 2.486852
    af10 = (1 - 1.1**-10) / 0.1
    assert c.at["L", "lease_exit_k"] == pytest.approx(0.5 * 12.0 * af3, rel=1e-12)
    assert c.at["N", "lease_exit_k"] == pytest.approx(0.5 * 3.5 * af10, rel=1e-12)
    assert c.at["M", "keep_cost_k"] == pytest.approx(af10 * 20.0 + 5.0, rel=1e-12)


def test_a_break_already_passed_costs_nothing_to_exit(estate):
    c = building_costs(estate, SCENARIO.with_changes(start_year=2030))  # the 2029 break has passed
    assert c.at["L", "lease_exit_k"] == 0.0
    assert c.at["N", "lease_exit_k"] == pytest.approx(3.5 * 10)  # 2040 is still 10 years away


def test_move_cost_is_rate_times_space(estate):
    cost = move_cost_k(estate.occupiers["space_m2"], SCENARIO)
    # £400 x m2 / 1000: 150 m2 -> 60, 20 m2 -> 8, 50 m2 -> 20
    assert cost.to_dict() == {"m1": 60.0, "c1": 8.0, "l1": 20.0}
    free = move_cost_k(estate.occupiers["space_m2"], SCENARIO.with_changes(move_cost_gbp_per_m2=0.0))
    assert not free.any() and not math.isnan(free.sum())
