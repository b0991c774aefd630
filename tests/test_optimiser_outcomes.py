"""KPIs, partner totals and access outcomes (optimiser.outcomes) of a known plan, worked out by hand.

Estate (money in £, 10 years undiscounted, £400 a m2 to move, every freehold sold on the market):

- ``A`` (x 380,000) Council: 1,000 m2, running 100,000, worth 1m, 0.5 ha, 50 tCO2e; houses
  ``a1`` (council office, 300 m2).
- ``B`` (x 380,500) Council: 300 m2, running 60,000, backlog 10,000, worth 500,000, disposal
  cost 5,000, 0.2 ha, 20 tCO2e; houses ``b1`` (library, 200 m2, public-facing).
- ``C`` (x 384,000) DWP: 200 m2, running 40,000, worth 400,000, disposal cost 4,000, 0.3 ha,
  10 tCO2e; houses ``c1`` (jobcentre, 100 m2, public-facing).
- Zones ``Z1`` (x 380,300, 1,000 people, IMD decile 1) and ``Z2`` (x 384,300, 500 people, decile 8);
  all on y = 400,000. Library reach 3 km road, jobcentre reach 1 km road (detour 1.3).

The plan: keep A only; b1 and c1 move into A.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from estate import Estate
from optimiser.access import reach_pairs, standards_for
from optimiser.outcomes import (
    access_outcomes,
    money_by_building,
    move_costs,
    partner_totals,
    payback_words,
    payback_years,
    totals,
)
from optimiser.scenario import Scenario
from tests.conftest import _building, _occupier, make_estate

SCENARIO = Scenario(
    years=10,
    discount_rate=0.0,
    move_cost_gbp_per_m2=400.0,
    cat_services=(),
    homes_per_ha=40.0,
    housing_share=0.75,
    jobs_per_ha=100.0,
)


@pytest.fixture
def estate() -> Estate:
    buildings = [
        _building(
            "A", 380000, 400000, 1000, 100_000, 1_000_000, "office;library", site_area_ha=0.5, carbon_tco2e=50
        ),
        _building(
            "B",
            380500,
            400000,
            300,
            60_000,
            500_000,
            "office;library",
            backlog_gbp=10_000,
            disposal_cost_gbp=5_000,
            site_area_ha=0.2,
            carbon_tco2e=20,
        ),
        _building(
            "C",
            384000,
            400000,
            200,
            40_000,
            400_000,
            "office;library",
            owner="DWP",
            disposal_cost_gbp=4_000,
            site_area_ha=0.3,
            carbon_tco2e=10,
        ),
    ]
    occupiers = [
        _occupier("a1", "A", 300),
        _occupier("b1", "B", 200, "library", space_type="library", public_facing=True),
        _occupier("c1", "C", 100, "jobcentre", partner="DWP", public_facing=True),
    ]
    zones = [
        {"zone_id": "Z1", "x": 380300, "y": 400000, "population": 1000, "imd_decile": 1},
        {"zone_id": "Z2", "x": 384300, "y": 400000, "population": 500, "imd_decile": 8},
    ]
    access = [
        {"service": "library", "reach_km": 3, "rule": "keep_current"},
        {"service": "jobcentre", "reach_km": 1, "rule": "keep_current"},
    ]
    return make_estate(buildings, occupiers, zones=zones, access=access, name="outcomes")


KEEP = pd.Series({"A": True, "B": False, "C": False})
PARTS = pd.DataFrame(
    {
        "occupier_id": ["a1", "b1", "c1"],
        "from_building_id": ["A", "B", "C"],
        "to_building_id": ["A", "A", "A"],
        "share": [1.0, 1.0, 1.0],
    }
)


def test_money_by_building(estate):
    money = money_by_building(estate, SCENARIO, KEEP)
    assert money["disposed"].to_dict() == {"A": False, "B": True, "C": True}
    assert money["route"].to_dict() == {"A": "keep", "B": "market_sale", "C": "market_sale"}
    assert money["receipt_gbp"].to_dict() == {"A": 0.0, "B": 500_000.0, "C": 400_000.0}
    assert money["disposal_cost_gbp"].to_dict() == {"A": 0.0, "B": 5_000.0, "C": 4_000.0}
    assert money["annual_saving_gbp"].to_dict() == {"A": 0.0, "B": 60_000.0, "C": 40_000.0}
    assert money["backlog_avoided_gbp"].to_dict() == {"A": 0.0, "B": 10_000.0, "C": 0.0}
    assert money["land_ha"].to_dict() == {"A": 0.0, "B": 0.2, "C": 0.3}
    assert money["carbon_saved_tco2e"].to_dict() == {"A": 0.0, "B": 20.0, "C": 10.0}
    assert money["gia_released_m2"].to_dict() == {"A": 0.0, "B": 300.0, "C": 200.0}


def test_move_costs_only_for_parts_that_move(estate):
    # b1: 200 m2 x £400; c1: 100 m2 x £400; a1 stays
    assert move_costs(estate, SCENARIO, PARTS).tolist() == [0.0, 80_000.0, 40_000.0]
    half = PARTS.assign(share=[1.0, 0.5, 1.0])  # half of b1 moving costs half
    assert move_costs(estate, SCENARIO, half).tolist() == [0.0, 40_000.0, 40_000.0]


def test_totals(estate):
    money = money_by_building(estate, SCENARIO, KEEP)
    k = totals(estate, SCENARIO, money, 120_000.0)
    one_off = 120_000 + 5_000 + 4_000  # moves + disposal costs (no lease exits)
    assert k == {
        "capital_receipts_gbp": 900_000.0,
        "annual_revenue_saving_gbp": 100_000.0,
        "annual_revenue_saving_pct": 50.0,  # of 200,000 running today
        "one_off_cost_gbp": float(one_off),
        "move_cost_gbp": 120_000.0,
        "backlog_avoided_gbp": 10_000.0,
        "npv_gbp": 10 * 100_000 + 900_000 + 10_000 - one_off,  # 1,781,000
        "payback_years": 0.0,  # receipts cover the one-off costs at once
        "land_ha": 0.5,
        "homes": pytest.approx(0.5 * 0.75 * 40),  # 15
        "jobs": pytest.approx(0.5 * 0.25 * 100),  # 12.5
        "carbon_tco2e_saved": 30.0,
        "buildings_before": 3,
        "buildings_after": 1,
        "floor_area_released_m2": 500.0,
        "running_cost_before_gbp": 200_000.0,
    }


def test_payback_tells_never_from_nothing_to_pay_back(estate):
    assert payback_years(0.0, 0.0) is None  # no change: nothing to pay back
    assert payback_years(-10.0, 0.0) is None  # receipts only, no saving: nothing to pay back
    assert payback_years(-10.0, 5.0) == 0.0  # receipts cover it, and it saves
    assert payback_years(100.0, 40.0) == 2.5
    assert payback_years(100.0, 0.0) == math.inf  # a net cost and no saving: never
    assert [payback_words(v) for v in (None, 0.0, 2.5, math.inf)] == [
        "n/a",
        "0.0 years",
        "2.5 years",
        "never",
    ]
    # keeping everything: nothing to pay back
    nothing = totals(estate, SCENARIO, money_by_building(estate, SCENARIO, KEEP.map(lambda _: True)), 0.0)
    assert nothing["payback_years"] is None and nothing["npv_gbp"] == 0.0
    # disposing of C (no running cost saved by moving c1 at £1m/m2) never pays back
    dear = SCENARIO.with_changes(move_cost_gbp_per_m2=100_000.0)
    money = money_by_building(estate, dear, pd.Series({"A": True, "B": True, "C": False}))
    money["annual_saving_gbp"] = 0.0  # a building that costs nothing to run
    k = totals(estate, dear, money, 10_000_000.0)
    assert k["payback_years"] == math.inf


def test_partner_totals(estate):
    money = money_by_building(estate, SCENARIO, KEEP)
    part_cost = move_costs(estate, SCENARIO, PARTS)
    p = partner_totals(estate, money, PARTS, part_cost).set_index("partner")
    assert p.loc["Council"].to_dict() == {
        "buildings_before": 2,
        "buildings_disposed": 1,
        "capital_receipts_gbp": 500_000.0,
        "annual_revenue_saving_gbp": 60_000.0,
        "disposal_and_exit_cost_gbp": 5_000.0,
        "land_ha": 0.2,
        "carbon_tco2e_saved": 20.0,
        "move_cost_gbp": 80_000.0,  # b1's move is paid by its partner, the Council
        "one_off_cost_gbp": 85_000.0,
        "buildings_after": 1,
    }
    assert p.loc["DWP"].to_dict() == {
        "buildings_before": 1,
        "buildings_disposed": 1,
        "capital_receipts_gbp": 400_000.0,
        "annual_revenue_saving_gbp": 40_000.0,
        "disposal_and_exit_cost_gbp": 4_000.0,
        "land_ha": 0.3,
        "carbon_tco2e_saved": 10.0,
        "move_cost_gbp": 40_000.0,
        "one_off_cost_gbp": 44_000.0,
        "buildings_after": 0,
    }


def test_access_outcomes(estate):
    standards = standards_for(estate, SCENARIO)
    table = access_outcomes(estate, standards, PARTS).set_index("service")
    lib, job = table.loc["library"], table.loc["jobcentre"]
    # library: B (200 m from Z1) -> A (300 m from Z1); Z2 is 3.8 / 4.3 km away: out of 3 km road
    assert (lib["before_sites"], lib["after_sites"]) == (1, 1)
    assert (lib["before_population"], lib["after_population"]) == (1000.0, 1000.0)
    assert lib["before_share"] == pytest.approx(1000 / 1500)
    assert lib["before_mean_km"] == pytest.approx((1000 * 0.2 * 1.3 + 500 * 3.8 * 1.3) / 1500)
    assert lib["after_mean_km"] == pytest.approx((1000 * 0.3 * 1.3 + 500 * 4.3 * 1.3) / 1500)
    assert lib["before_p95_km"] == pytest.approx(3.8 * 1.3)  # 95% of 1,500 people lands in Z2
    assert lib["deprived_deciles"] == 2  # the default: deciles 1-2, so Z1
    assert (lib["before_deprived_population"], lib["after_deprived_population"]) == (1000.0, 1000.0)
    assert lib["before_deprived_mean_km"] == pytest.approx(0.2 * 1.3)
    assert lib["zones_losing_reach"] == 0
    # jobcentre: C (300 m from Z2) -> A (300 m from Z1): Z2 loses reach within 1 km, Z1 gains it
    assert (job["before_population"], job["after_population"]) == (500.0, 1000.0)
    assert (job["before_zones"], job["after_zones"]) == (1, 1)
    assert (job["before_deprived_share"], job["after_deprived_share"]) == (0.0, 1.0)
    assert job["before_mean_km"] == pytest.approx(
        (1000 * 3.7 * 1.3 + 500 * 0.3 * 1.3) / 1500
    )  # Z1 is 3.7 km from C
    assert job["after_mean_km"] == pytest.approx((1000 * 0.3 * 1.3 + 500 * 4.3 * 1.3) / 1500)


def test_reach_pairs_are_the_callers_own_copy(estate):
    standard = standards_for(estate, SCENARIO)[0]
    first = reach_pairs(estate, standard)
    expected = first.copy()
    first["road_km"] = -1.0  # a caller writing to its frame...
    first.loc[first.index[0], "zone_id"] = "Z9"
    again = reach_pairs(estate, standard)  # ...changes nothing for the next caller
    pd.testing.assert_frame_equal(again, expected)
    # within 3 km road (2.31 km straight): Z1 of A (0.3 km) and B (0.2 km), Z2 of C (0.3 km)
    assert set(zip(again["zone_id"], again["building_id"], strict=True)) == {
        ("Z1", "A"),
        ("Z1", "B"),
        ("Z2", "C"),
    }
