"""Maps with real GIS behaviour (issue 14, part B): boundaries, areas, arrows, search, PNG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estate import load_place
from optimiser.report import maps
from optimiser.report.files import zones_table
from optimiser.scenario import Scenario


def _layers(m):
    return {layer.layer_name: layer for layer in m._children.values() if isinstance(layer, maps.FeatureLayer)}


@pytest.fixture(scope="module")
def trafford_plan():
    from optimiser.pipeline import optimise

    estate = load_place("trafford")
    plan = optimise(estate, Scenario())
    return estate, plan


def test_the_bundled_boundaries_cover_every_bundled_zone():
    for place in ("trafford", "greater_manchester"):
        estate = load_place(place)
        lsoa, boroughs = maps.boundary_layers(estate.zones.index.astype(str))
        assert set(lsoa["zone_id"]) == set(estate.zones.index.astype(str)), place
        assert set(boroughs["borough"]) == set(estate.zones["borough"].astype(str)), place
        assert lsoa.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_the_estate_map_has_a_borough_background_search_png_and_a_collapsible_legend():
    estate = load_place("trafford")
    m = maps.estate_map(estate)
    layers = _layers(m)
    (outline,) = layers["Borough boundaries"].data["features"]  # Trafford is one borough
    assert outline["geometry"]["type"] in ("LineString", "MultiLineString")
    assert "LSOA boundaries" in layers
    html = maps.standalone_html(maps.estate_map(estate, assets="inline", tiles=False))
    assert "Find a building by name" in html and "Download the map as a PNG image" in html
    assert "details open" in html and "summary" in html  # the legend folds away (HTML inside JSON)
    assert "All partners" in html  # the partner / partner type filter
    assert maps.external_urls(m) == []
    buildings = layers[f"Buildings ({len(estate.buildings)})"].data["features"]
    assert all(f["properties"]["g"][0] for f in buildings)  # every building has its partner type


def test_nearest_km_is_the_straight_line_distance_to_the_closest_site():
    zones = pd.DataFrame({"easting": [0.0, 3000.0], "northing": [0.0, 4000.0]})
    sites = np.array([[0.0, 1000.0], [3000.0, 0.0]])
    assert maps.nearest_km(zones, sites).tolist() == [1.0, 4.0]
    assert np.isnan(maps.nearest_km(zones, np.empty((0, 2)))).all()


@pytest.mark.solver
def test_zones_are_lsoa_areas_shaded_by_distance_before_after_and_change(trafford_plan):
    """One layer of LSOA polygons, shaded by km to the nearest site before, after or the change."""
    estate, plan = trafford_plan
    zones = zones_table(estate, plan)
    service = "customer_service"  # sites close and move under the default plan
    m = maps.plan_map(plan.buildings.reset_index(), plan.occupiers, zones, service=service)
    (areas,) = [c for c in m._children.values() if isinstance(c, maps.AreaLayer)]
    features = areas.data["features"]
    assert len(features) == len(estate.zones)
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    assert all(len(f["properties"]["k"]) == 3 for f in features)  # before, after, change shadings
    assert set(areas.styles) == {"before", "after", "change"}
    html = m.get_root().render()
    assert all(f'"{label}"' in html for label in ("Before", "After", "Change"))  # the toggle
    sites = maps.service_sites(plan.buildings.reset_index(), plan.occupiers, service)
    change = maps.nearest_km(zones, sites["after"]) - maps.nearest_km(zones, sites["before"])
    assert np.nanmax(np.abs(change)) > 0  # a measure that moves under keep_current too
    tips = [f["properties"]["t"] for f in features]
    assert all("km before" in t and "km after" in t for t in tips)


def test_an_arrow_head_points_at_the_receiving_building():
    a, h = (-2.30, 53.40), (-2.28, 53.41)
    left, tip, right = maps.arrow_head(a, h)
    assert tip == list(h)
    for arm in (left, right):  # both arms lie behind the tip, back towards the start
        assert np.hypot(arm[0] - a[0], arm[1] - a[1]) < np.hypot(h[0] - a[0], h[1] - a[1])


def test_the_greater_manchester_maps_stay_small(tmp_path):
    """Quick on Greater Manchester: the estate map draws borough outlines only (no 1,702 LSOAs)."""
    estate = load_place("greater_manchester")
    layers = _layers(maps.estate_map(estate))
    assert "LSOA boundaries" not in layers
    assert len(layers["Borough boundaries"].data["features"]) == 10
