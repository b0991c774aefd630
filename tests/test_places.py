"""Places: partition with a boundary buffer, place lookup, and KPIs scoped to a place.

The two-place estate (British National Grid metres; the border between places A and B is the
line x = 400,000)::

    LIB_A2 (396000)        LIB_A1 (399000)  Z_A1 (399800) | LIB_B1 (400500)   Z_B1 (401000)
    Z_A2 (396000, 300500)                                 |
                                      place A             |        place B

Libraries are public facing, reach 3 road km (2.31 km straight at the 1.3 detour factor),
rule keep_current. Z_A1 reaches LIB_A1 (0.8 km) and, across the border, LIB_B1 (0.7 km).
LIB_A1 is dear to run; its library may move to LIB_A2 (3 km straight, 3.9 road km, within
the default 5 km move limit), which has room. Hand-worked optimum for place A *with* the
buffer: dispose of LIB_A1 and move its library to LIB_A2; Z_A1 keeps reach through LIB_B1.
*Without* the buffer LIB_A1 must stay (Z_A1's only library within reach), and disposing of
it would cost Z_A1 its reach: the partition would invent an access loss.
"""

from __future__ import annotations

import pandas as pd
import pytest

from estate import Estate
from optimiser.errors import PlaceError
from optimiser.pipeline import optimise
from optimiser.plan import make_plan
from optimiser.scenario import Scenario
from optimiser.sweep.places import (
    NEIGHBOUR_REASON,
    boundary_buffer_km,
    list_places,
    place_estate,
    resolve_places,
    scope_plan,
)
from tests.conftest import make_estate

Y = 300_000.0


def _library(bid: str, x: float, place: str, *, running: float, capacity: float, y: float = Y) -> dict:
    return {
        "building_id": bid,
        "name": bid,
        "owner": f"Council {place}",
        "owner_type": "council",
        "borough": place,
        "place": place,
        "place_name": f"Place {place}",
        "gia_m2": capacity / 0.8,
        "capacity_m2": capacity,
        "space_types": "library;community;office",
        "running_cost_gbp": running,
        "market_value_gbp": 500_000.0,
        "disposal_cost_gbp": 10_000.0,
        "site_area_ha": 0.1,
        "carbon_tco2e": 20.0,
        "x": x,
        "y": y,
    }


def _occupier(bid: str, space: float) -> dict:
    return {
        "occupier_id": f"{bid}_LIB",
        "name": f"{bid} library",
        "partner": f"Council {bid[4]}",
        "service": "library",
        "building_id": bid,
        "space_m2": space,
        "space_type": "library",
        "public_facing": True,
        "movable": True,
        "splittable": False,
    }


def _zone(zid: str, x: float, place: str, *, y: float = Y) -> dict:
    return {
        "zone_id": zid,
        "name": zid,
        "borough": place,
        "population": 1500,
        "imd_decile": 5,
        "place": place,
        "place_name": f"Place {place}",
        "x": x,
        "y": y,
    }


def two_place_rows() -> dict[str, list[dict]]:
    """The rows of each table, as a register would give them (x/y in BNG metres)."""
    buildings = [
        _library("LIB_A1", 399_000, "A", running=120_000, capacity=300),
        _library("LIB_A2", 396_000, "A", running=60_000, capacity=1_000),
        _library("LIB_B1", 400_500, "B", running=80_000, capacity=400),
    ]
    occupiers = [_occupier("LIB_A1", 200), _occupier("LIB_A2", 300), _occupier("LIB_B1", 300)]
    zones = [_zone("Z_A1", 399_800, "A"), _zone("Z_A2", 396_000, "A", y=Y + 500), _zone("Z_B1", 401_000, "B")]
    access = [{"service": "library", "reach_km": 3.0, "rule": "keep_current", "protect_deprived_deciles": 0}]
    return {"buildings": buildings, "occupiers": occupiers, "zones": zones, "access": access}


def two_place_estate() -> Estate:
    """Places A and B with the libraries and zones drawn in the module docstring."""
    rows = two_place_rows()
    return make_estate(
        rows["buildings"], rows["occupiers"], zones=rows["zones"], access=rows["access"], name="two places"
    )


SCENARIO = Scenario(time_limit_s=20, threads=1)


def test_places_are_listed_with_population_and_buildings():
    table = list_places(two_place_estate())
    assert table[["place", "place_name", "zones", "population", "buildings"]].to_dict("records") == [
        {"place": "A", "place_name": "Place A", "zones": 2, "population": 3000, "buildings": 2},
        {"place": "B", "place_name": "Place B", "zones": 1, "population": 1500, "buildings": 1},
    ]


def test_places_are_found_by_code_or_name_ignoring_case():
    assert resolve_places(two_place_estate(), ["place b", "A", "B"]) == ["B", "A"]


def test_an_unknown_place_is_refused_with_the_name():
    with pytest.raises(PlaceError, match=r"Unknown place\(s\): 'Atlantis'"):
        resolve_places(two_place_estate(), ["A", "Atlantis"])


def test_the_buffer_is_the_largest_reach_in_straight_km():
    assert boundary_buffer_km(two_place_estate(), SCENARIO) == pytest.approx(3.0 / 1.3)


def test_the_buffer_holds_the_neighbours_buildings_within_reach_kept_as_they_are():
    part = place_estate(two_place_estate(), "A", buffer_km=3.0 / 1.3)
    assert part.own == {"LIB_A1", "LIB_A2"}
    assert part.neighbours == {"LIB_B1"}
    b = part.estate.buildings.loc["LIB_B1"]
    assert bool(b["fixed"]) and bool(b["protected"]) and b["protected_reason"] == NEIGHBOUR_REASON
    assert b["running_cost_gbp"] == 0.0 and b["market_value_gbp"] == 0.0 and b["carbon_tco2e"] == 0.0
    assert not bool(part.estate.occupiers.at["LIB_B1_LIB", "movable"])
    assert list(part.estate.zones.index) == ["Z_A1", "Z_A2"]


def test_a_border_zone_keeps_counting_the_neighbours_library():
    estate = two_place_estate()
    part = place_estate(estate, "A", buffer_km=boundary_buffer_km(estate, SCENARIO))
    plan = optimise(part.estate, SCENARIO)
    decision = plan.buildings.set_index("building_id")["decision"]
    assert decision["LIB_A1"] == "dispose"
    assert decision["LIB_B1"] == "keep"
    moved = plan.occupiers.set_index("occupier_id")
    assert moved.at["LIB_A1_LIB", "to_building_id"] == "LIB_A2"
    library = plan.access.set_index("service").loc["library"]
    assert library["before_share"] == pytest.approx(1.0)
    assert library["after_share"] == pytest.approx(1.0)
    assert library["zones_losing_reach"] == 0


def test_without_the_buffer_the_partition_would_invent_an_access_loss():
    estate = two_place_estate()
    bare = place_estate(estate, "A", buffer_km=0.0)
    assert bare.neighbours == frozenset()
    plan = optimise(bare.estate, SCENARIO)
    assert plan.buildings.set_index("building_id").at["LIB_A1", "decision"] == "keep"  # forced to stay
    keep = pd.Series({"LIB_A1": False, "LIB_A2": True})
    parts = pd.DataFrame(
        {
            "occupier_id": ["LIB_A1_LIB", "LIB_A2_LIB"],
            "from_building_id": ["LIB_A1", "LIB_A2"],
            "to_building_id": ["LIB_A2", "LIB_A2"],
            "share": [1.0, 1.0],
        }
    )
    the_buffered_decision = make_plan(bare.estate, SCENARIO, keep, parts)
    assert the_buffered_decision.access.set_index("service").at["library", "zones_losing_reach"] == 1


def test_scoped_kpis_count_only_the_places_own_buildings():
    estate = two_place_estate()
    part = place_estate(estate, "A", buffer_km=boundary_buffer_km(estate, SCENARIO))
    plan = optimise(part.estate, SCENARIO)
    own = scope_plan(plan, part.estate, part.own)
    assert set(own.buildings["building_id"]) == {"LIB_A1", "LIB_A2"}
    assert own.kpis["buildings_before"] == 2
    assert own.kpis["buildings_after"] == 1
    assert own.kpis["running_cost_before_gbp"] == pytest.approx(180_000.0)
    assert own.kpis["annual_revenue_saving_gbp"] == pytest.approx(120_000.0)
    assert own.kpis["annual_revenue_saving_pct"] == pytest.approx(100 * 120_000 / 180_000)
    assert set(own.partners["partner"]) == {"Council A"}


def test_an_estate_without_a_place_column_is_split_by_borough():
    estate = two_place_estate()
    plain = Estate.from_tables(
        buildings=estate.buildings.drop(
            columns=["place", "place_name", "fixed", "fixed_reason", "easting", "northing"]
        ).reset_index(drop=True),
        occupiers=estate.occupiers.reset_index(drop=True),
        zones=estate.zones.drop(columns=["place", "place_name", "easting", "northing"]).reset_index(
            drop=True
        ),
        access=estate.access.reset_index(drop=True),
        compatibility=estate.compatibility,
    )
    assert list(list_places(plain)["place"]) == ["A", "B"]
