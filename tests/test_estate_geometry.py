"""Reach: spatial-index pairs, the calibrated travel model, and a user's minutes matrix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from estate import EstateError, TravelModel, load_estate
from estate.geometry import pairs_within
from tests.conftest import make_estate


def test_pairs_within_matches_brute_force():
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 20_000, size=(300, 2))
    b = rng.uniform(0, 20_000, size=(200, 2))
    i, j, km = pairs_within(a, b, 3.0)
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1]) / 1000
    expected = set(zip(*np.nonzero(d <= 3.0), strict=True))
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
    assert np.allclose(km, d[i, j])


def test_travel_model_defaults_are_the_documented_calibration():
    travel = TravelModel()
    assert (travel.detour_factor, travel.minutes_intercept, travel.minutes_per_km) == (1.3, 7.65, 1.29)
    assert travel.road_km(2.0) == pytest.approx(2.6)
    assert travel.minutes(2.0) == pytest.approx(7.65 + 2.58)
    assert travel.straight_km_for_minutes(7.65 + 1.29) == pytest.approx(1.0)


def test_detour_factor_below_one_is_refused():
    with pytest.raises(EstateError, match="detour_factor"):
        TravelModel(detour_factor=0.9)


def _estate():
    buildings = [
        {"building_id": "L1", "owner": "C", "x": 380000, "y": 400000},
        {"building_id": "L2", "owner": "C", "x": 383000, "y": 400000},
    ]
    occupiers = [
        {
            "occupier_id": "o1",
            "partner": "C",
            "service": "library",
            "building_id": "L1",
            "space_m2": 10,
            "space_type": "library",
        }
    ]
    zones = [{"zone_id": "Z1", "x": 380500, "y": 400000, "population": 100, "imd_decile": 3}]
    return make_estate(buildings, occupiers, zones=zones)


def test_zone_reach_gives_road_km_and_modelled_minutes():
    reach = _estate().zone_reach(5.0).set_index("building_id")
    assert reach.at["L1", "straight_km"] == pytest.approx(0.5)
    assert reach.at["L1", "road_km"] == pytest.approx(0.65)
    assert reach.at["L2", "minutes"] == pytest.approx(7.65 + 2.5 * 1.29)


def test_a_supplied_minutes_matrix_overrides_the_model():
    estate = _estate()
    matrix = pd.DataFrame({"zone_id": ["Z1"], "building_id": ["L2"], "minutes": [4.0]})
    reach = replace(estate, travel_matrix=matrix).zone_reach(5.0).set_index("building_id")
    assert reach.at["L2", "minutes"] == 4.0
    assert reach.at["L1", "minutes"] == pytest.approx(7.65 + 0.5 * 1.29)  # not in the matrix: modelled


def test_travel_matrix_file_is_read_and_checked(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,easting,northing\nL1,C,380000,400000\n")
    (tmp_path / "z.csv").write_text("zone_id,population,easting,northing\nZ1,100,380500,400000\n")
    (tmp_path / "m.csv").write_text("zone_id,building_id,minutes\nZ1,L1,abc\n")
    with pytest.raises(EstateError, match=r"m.csv row 1, column 'minutes' = 'abc'"):
        load_estate(tmp_path / "b.csv", zones=tmp_path / "z.csv", travel_matrix=tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("zone_id,building_id,minutes\nZ1,L1,6.5\n")
    estate = load_estate(tmp_path / "b.csv", zones=tmp_path / "z.csv", travel_matrix=tmp_path / "m.csv")
    assert estate.travel_matrix["minutes"].tolist() == [6.5]
