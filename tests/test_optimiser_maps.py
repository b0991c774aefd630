"""optimiser.report.maps: offline Leaflet, estate and plan maps."""

from __future__ import annotations

import json
import re

import folium
import pandas as pd
import pytest

from optimiser.report import maps

CDN = re.compile(r"(cdn\.jsdelivr|code\.jquery|cdnjs\.cloudflare|bootstrapcdn|unpkg\.com|d3js\.org)")


def _layers(m: folium.Map) -> dict[str, maps.FeatureLayer]:
    return {layer.layer_name: layer for layer in m._children.values() if isinstance(layer, maps.FeatureLayer)}


def _script_sources(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) + re.findall(r'<link[^>]*\bhref="([^"]+)"', html)


def test_leaflet_comes_from_the_installed_xstatic_package():
    js = maps.leaflet_js()

    assert "1.9.3" in js[:400]
    assert "sourceMappingURL" not in js


def test_leaflet_css_has_its_images_inlined():
    css = maps.leaflet_css()

    assert "url(images/" not in css
    assert "url(data:image/png;base64," in css


def test_an_offline_map_loads_nothing_from_a_cdn():
    m = maps.offline_map()
    html = m.get_root().render()

    assert maps.external_urls(m) == []
    assert not CDN.search(html)
    assert all(src.startswith("data:") for src in _script_sources(html))


def test_making_an_offline_map_leaves_folium_defaults_alone():
    maps.offline_map()

    assert any("leaflet" in url for _, url in folium.Map.default_js)
    assert maps.external_urls(folium.Map(tiles=None)) != []


def test_an_inline_map_carries_leaflet_in_the_page():
    html = maps.standalone_html(maps.offline_map(assets="inline"))

    assert _script_sources(html) == []
    assert "1.9.3" in html
    assert "leaflet-container" in html  # the stylesheet


def test_only_the_tile_server_is_named_in_a_map():
    html = maps.offline_map().get_root().render()
    hosts = set(re.findall(r"https?://([A-Za-z0-9.-]+)", html))

    assert hosts <= {*maps.TILE_HOSTS, "www.openstreetmap.org"}  # tiles, and the attribution link


def test_the_estate_map_draws_every_building_coloured_by_partner_type(three_building_estate):
    m = maps.estate_map(three_building_estate)
    layer = _layers(m)["Buildings (3)"]
    colours = [f["properties"]["k"] for f in layer.data["features"]]

    assert colours == [maps.OWNER_TYPE_COLOURS["other"]] * 3
    assert [f["properties"]["p"]["t"] for f in layer.data["features"]] == ["A", "B", "C"]


def test_the_estate_map_can_colour_by_partner(three_building_estate):
    layer = _layers(maps.estate_map(three_building_estate, colour_by="owner"))["Buildings (3)"]
    colours = {
        f["properties"]["p"]["s"].split(" · ")[0]: f["properties"]["k"] for f in layer.data["features"]
    }

    assert colours == {"Council": maps.PALETTE[0], "DWP": maps.PALETTE[1]}


def test_an_unknown_colouring_is_refused(three_building_estate):
    with pytest.raises(ValueError, match="`colour_by` = 'colour'; use one of owner_type, owner, service"):
        maps.estate_map(three_building_estate, colour_by="colour")


def test_a_popup_lists_figures_and_stars_modelled_ones(three_building_estate):
    estate = three_building_estate
    buildings = estate.buildings.assign(modelled=[("running_cost_gbp",), (), ()])
    modelled = type(estate)(**{**estate.__dict__, "buildings": buildings})
    layer = _layers(maps.estate_map(modelled))["Buildings (3)"]
    first = layer.data["features"][0]["properties"]["p"]
    rows = {layer.labels[i]: value for i, value in first["r"]}

    assert rows["Running cost a year *"] == "£100,000"
    assert rows["Floor area (GIA)"] == "1,000 m²"
    assert first["f"] == 1
    assert "f" not in layer.data["features"][1]["properties"]["p"]


def test_building_names_reach_the_page_as_data_not_markup(three_building_estate):
    estate = three_building_estate
    buildings = estate.buildings.assign(name=["<script>alert(1)</script>", "B", "C"])
    named = type(estate)(**{**estate.__dict__, "buildings": buildings})
    html = maps.estate_map(named).get_root().render()

    assert "<script>alert(1)" not in html
    assert "\\u003cscript\\u003ealert(1)" in html


def test_the_estate_map_has_a_legend_with_counts(three_building_estate):
    m = maps.estate_map(three_building_estate)
    legend = next(c for c in m._children.values() if isinstance(c, maps.Legend))

    assert "Buildings by partner type" in legend.html
    assert "other (3)" in legend.html


def _plan_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    buildings = pd.DataFrame(
        {
            "building_id": ["A", "B", "C"],
            "name": ["Hub", "Library", "Jobcentre"],
            "owner": ["Council", "Council", "DWP"],
            "easting": [380000.0, 380500.0, 380000.0],
            "northing": [400000.0, 400000.0, 400500.0],
            "decision": ["keep", "dispose", "keep"],
            "route": ["keep", "market_sale", "keep"],
            "occupiers_in": [1, 0, 0],
            "occupiers_out": [0, 1, 0],
            "receipt_gbp": [0.0, 500_000.0, 0.0],
            "annual_saving_gbp": [0.0, 60_000.0, 0.0],
            "reason": ["keep: receives b1 (library)", "dispose by market sale: saves £60,000 a year", "keep"],
            "modelled": ["", "market_value_gbp", ""],
        }
    )
    occupiers = pd.DataFrame(
        {
            "occupier_id": ["a1", "b1", "c1"],
            "name": ["council", "library", "jobcentre"],
            "service": ["council_office", "library", "jobcentre"],
            "from_building_id": ["A", "B", "C"],
            "to_building_id": ["A", "A", "C"],
            "share": [1.0, 1.0, 1.0],
            "move_km": [0.0, 0.65, 0.0],
        }
    )
    zones = pd.DataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3", "Z4"],
            "easting": [380100.0, 380600.0, 379000.0, 390000.0],
            "northing": [400000.0, 400000.0, 400000.0, 400000.0],
            "population": [1000, 1500, 800, 300],
            "reach_library_before": [True, True, False, False],
            "reach_library_after": [True, False, True, False],
        }
    )
    return buildings, occupiers, zones


def test_decisions_are_told_apart():
    buildings, _, _ = _plan_tables()

    assert maps.decision_classes(buildings).tolist() == ["receive", "dispose", "keep"]


def test_the_plan_map_colours_decisions_and_draws_moves():
    buildings, occupiers, _ = _plan_tables()
    layers = _layers(maps.plan_map(buildings, occupiers))
    kinds = {
        f["properties"]["p"]["t"]: f["properties"]["k"] for f in layers["Buildings (3)"].data["features"]
    }
    moves = layers["Moves (1)"].data["features"]

    assert kinds == {"Hub": "receive", "Library": "dispose", "Jobcentre": "keep"}
    assert len(moves) == 1
    assert moves[0]["geometry"]["type"] == "MultiLineString"  # the line and its arrow head
    line, head = moves[0]["geometry"]["coordinates"]
    assert head[1] == line[1]  # the arrow's point is at the receiving building
    assert moves[0]["properties"]["t"] == "library (library): B → A, 0.7 km"


def test_a_disposed_building_shows_the_plans_reason_and_starred_receipt():
    buildings, occupiers, _ = _plan_tables()
    layer = _layers(maps.plan_map(buildings, occupiers))["Buildings (3)"]
    library = next(
        f["properties"]["p"] for f in layer.data["features"] if f["properties"]["p"]["t"] == "Library"
    )
    rows = {layer.labels[i]: value for i, value in library["r"]}

    assert library["n"] == [["Why", "dispose by market sale: saves £60,000 a year"]]
    assert rows["Receipt *"] == "£500,000"
    assert rows["Decision"] == "disposed (market_sale)"


def test_zones_are_shaded_by_their_change_in_access():
    _, _, zones = _plan_tables()

    assert maps.access_change(zones, "library").tolist() == ["kept", "lost", "gained", "never"]


def test_the_plan_map_shades_zones_for_the_chosen_service():
    buildings, occupiers, zones = _plan_tables()
    m = maps.plan_map(buildings, occupiers, zones, service="library")
    layer = _layers(m)["Zones: library access"]
    legend = next(c for c in m._children.values() if isinstance(c, maps.Legend))

    assert [f["properties"]["k"] for f in layer.data["features"]] == ["kept", "lost", "gained", "never"]
    assert "loses reach: 1 zones, 1,500 people" in legend.html
    assert maps.access_services(zones) == ["library"]


def test_shading_a_service_without_figures_is_refused():
    buildings, occupiers, zones = _plan_tables()

    with pytest.raises(ValueError, match="No access figures for service 'gp_practice'; the plan has library"):
        maps.plan_map(buildings, occupiers, zones, service="gp_practice")


def test_the_plan_map_data_is_valid_json_in_the_page():
    buildings, occupiers, zones = _plan_tables()
    html = maps.plan_map(buildings, occupiers, zones, service="library").get_root().render()
    found = re.search(r"L\.geoJSON\((\{.*?\}), \{\s*pointToLayer", html, flags=re.DOTALL)

    assert found is not None
    assert json.loads(found.group(1))["type"] == "FeatureCollection"
    assert maps.external_urls(maps.plan_map(buildings, occupiers)) == []


def test_the_full_greater_manchester_map_stays_small_enough_to_be_quick():
    from estate import load_place

    estate = load_place("greater_manchester")
    html = maps.estate_map(estate).get_root().render()

    assert len(
        _layers(maps.estate_map(estate))[f"Buildings ({len(estate.buildings):,})"].data["features"]
    ) == len(estate.buildings)
    assert len(html) < 2_000_000  # bytes sent to the browser, Leaflet included


def test_zones_are_drawn_on_the_estate_map_only_when_asked(two_library_estate):
    assert set(_layers(maps.estate_map(two_library_estate))) == {"Buildings (2)"}

    zones = _layers(maps.estate_map(two_library_estate, show_zones=True))["Zones (2, population)"]
    assert [f["properties"]["t"] for f in zones.data["features"]] == [
        "Z1: 1,500 people, IMD decile 1",
        "Z2: 1,200 people, IMD decile 7",
    ]


def test_a_priced_decision_is_in_its_buildings_popup():
    buildings, occupiers, _ = _plan_tables()
    basis = "keeping this building would cost £200k over 10 years (both solves proven optimal)"
    buildings = buildings.assign(price_basis=["", basis, ""])
    layer = _layers(maps.plan_map(buildings, occupiers))["Buildings (3)"]
    popups = {f["properties"]["p"]["t"]: f["properties"]["p"]["n"] for f in layer.data["features"]}

    assert popups["Library"][-1] == ["Price of this decision", basis]
    assert all(name != "Price of this decision" for name, _ in popups["Hub"])  # not priced: no line
