"""Shared fixtures: tiny hand-built estates (optimum worked out in the docstring) and paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from estate import Estate
from estate.validate import validate_table

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parents[1]


def table(rows: list[dict[str, Any]], name: str) -> pd.DataFrame:
    """Validate hand-written rows exactly as a file's rows would be (x/y in BNG metres)."""
    frame = pd.DataFrame(rows)
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
    if "x" in frame:
        geometry = [Point(x, y) for x, y in zip(frame.pop("x"), frame.pop("y"), strict=True)]
        frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=27700)
    good, _, issues = validate_table(frame, name, source=name)
    assert not issues, issues
    return good


def make_estate(
    buildings: list[dict[str, Any]],
    occupiers: list[dict[str, Any]],
    *,
    zones: list[dict[str, Any]] | None = None,
    access: list[dict[str, Any]] | None = None,
    compatibility: list[dict[str, Any]] | None = None,
    name: str = "test",
) -> Estate:
    """An Estate from lists of row dicts."""
    return Estate.from_tables(
        buildings=table(buildings, "buildings"),
        occupiers=table(occupiers, "occupiers"),
        zones=table(zones, "zones") if zones else None,
        access=table(access, "access") if access else None,
        compatibility=table(compatibility, "compatibility") if compatibility else None,
        name=name,
    )


def _building(
    bid: str, x: float, y: float, cap: float, run: float, value: float, types: str, **kw: Any
) -> dict[str, Any]:
    return {
        "building_id": bid,
        "owner": kw.pop("owner", "Council"),
        "x": x,
        "y": y,
        "capacity_m2": cap,
        "gia_m2": cap,
        "running_cost_gbp": run,
        "market_value_gbp": value,
        "disposal_cost_gbp": 0,
        "space_types": types,
        **kw,
    }


def _occupier(oid: str, bid: str, space: float, service: str = "council_office", **kw: Any) -> dict[str, Any]:
    """An occupier row: a Council team in office space (keyword arguments override)."""
    return {
        "occupier_id": oid,
        "partner": "Council",
        "service": service,
        "building_id": bid,
        "space_m2": space,
        "space_type": "office",
        **kw,
    }


@pytest.fixture
def three_building_estate() -> Estate:
    """A council hub A, a library B 500 m east, a jobcentre C 500 m north.

    A: 1,000 m2 (office, public_counter, library), £100k/yr, worth £1m; houses council (300 m2).
    B:   300 m2 (library), £60k/yr, worth £500k; houses the library (200 m2).
    C:   200 m2 (public_counter, office), £40k/yr, worth £400k; houses customer service (100 m2).
    Everything may share. With 10 years undiscounted and £400/m2 to move, in £k:
    keep all = 10 x 200 = 2,000. Keep A only = 1,000 - 500 - 400 + 0.4 x (200 + 100) = 220.
    Keep A+B = 1,600 - 400 + 40 = 1,240; keep A+C = 1,400 - 500 + 80 = 980. A cannot go: B and C
    are too small for the council's 300 m2 plus the others. Optimum: keep A only, 220.
    """
    buildings = [
        _building("A", 380000, 400000, 1000, 100_000, 1_000_000, "office;public_counter;library"),
        _building("B", 380500, 400000, 300, 60_000, 500_000, "library"),
        _building("C", 380000, 400500, 200, 40_000, 400_000, "public_counter;office", owner="DWP"),
    ]
    occupiers = [
        {
            "occupier_id": "a1",
            "partner": "Council",
            "service": "council_office",
            "building_id": "A",
            "space_m2": 300,
            "space_type": "office",
        },
        {
            "occupier_id": "b1",
            "partner": "Council",
            "service": "library",
            "building_id": "B",
            "space_m2": 200,
            "space_type": "library",
            "public_facing": True,
        },
        {
            "occupier_id": "c1",
            "partner": "DWP",
            "service": "customer_service",
            "building_id": "C",
            "space_m2": 100,
            "space_type": "public_counter",
            "public_facing": True,
        },
    ]
    compatibility = [
        {"service": "library", "host_service": "council_office"},
        {"service": "customer_service", "host_service": "council_office"},
        {"service": "customer_service", "host_service": "library"},
    ]
    return make_estate(buildings, occupiers, compatibility=compatibility, name="three")


@pytest.fixture
def two_library_estate() -> Estate:
    """Two libraries 4 km apart, each the only one within 3 km road of its own zone.

    L1 at x=380,000 (zone Z1 300 m away), L2 at x=384,000 (zone Z2 300 m away). Reach 3 km road
    = 2.31 km straight at detour 1.3, so Z1 reaches only L1 and Z2 only L2. Both libraries fit
    in either building. Without access rules one library closes (saves a building); with
    keep_current both must stay. L2 is dearer to run (£80k vs £50k), so L2 is the one to go.
    """
    buildings = [
        _building("L1", 380000, 400000, 400, 50_000, 300_000, "library"),
        _building("L2", 384000, 400000, 400, 80_000, 300_000, "library"),
    ]
    occupiers = [
        {
            "occupier_id": "lib1",
            "partner": "Council",
            "service": "library",
            "building_id": "L1",
            "space_m2": 150,
            "space_type": "library",
            "public_facing": True,
        },
        {
            "occupier_id": "lib2",
            "partner": "Council",
            "service": "library",
            "building_id": "L2",
            "space_m2": 150,
            "space_type": "library",
            "public_facing": True,
        },
    ]
    zones = [
        {"zone_id": "Z1", "x": 380300, "y": 400000, "population": 1500, "imd_decile": 1},
        {"zone_id": "Z2", "x": 384300, "y": 400000, "population": 1200, "imd_decile": 7},
    ]
    access = [{"service": "library", "reach_km": 3, "rule": "keep_current"}]
    return make_estate(buildings, occupiers, zones=zones, access=access, name="two libraries")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data."""
    return DATA
