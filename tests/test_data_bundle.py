"""The bundled example data (data/*.gpkg) keeps its counts and invariants.

Reads only the files in data/ (built by scripts/build_example.py from ../shared/data).
The expected numbers are literal: if a rebuild changes them, this test says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from estate import schema

DATA = Path(__file__).resolve().parents[1] / "data"
GM = DATA / "greater_manchester.gpkg"
TRAFFORD = DATA / "trafford.gpkg"
LAYERS = {"buildings", "occupiers", "zones", "access", "compatibility"}
BOROUGHS = {"Bolton", "Bury", "Manchester", "Oldham", "Rochdale", "Salford", "Stockport",
            "Tameside", "Trafford", "Wigan"}
ID_RE = re.compile(rf"^{schema.ID_PATTERN}$")

EXPECTED = {
    GM: {
        "zones": 1702, "population": 2_867_771, "buildings": 775, "occupiers": 1031,
        "owner_type": {"council": 150, "dwp": 26, "fire": 41, "nhs": 548, "police": 10},
        "protected": 55,
    },
    TRAFFORD: {
        "zones": 139, "population": 235_045, "buildings": 57, "occupiers": 80,
        "owner_type": {"council": 14, "dwp": 2, "fire": 3, "nhs": 35, "police": 3},
        "protected": 4,
    },
}


def read(path: Path, layer: str) -> pd.DataFrame:
    return gpd.read_file(path, layer=layer)


@pytest.fixture(scope="module", params=[GM, TRAFFORD], ids=["greater_manchester", "trafford"])
def bundle(request: pytest.FixtureRequest) -> tuple[Path, dict[str, pd.DataFrame]]:
    path = request.param
    assert path.exists(), f"{path} missing: run scripts/build_example.py"
    return path, {layer: read(path, layer) for layer in LAYERS}


def test_layers_and_columns(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    path, t = bundle
    assert set(pyogrio.list_layers(path)[:, 0]) == LAYERS
    for layer in LAYERS:
        cols = [c for c in t[layer].columns if c != "geometry"]
        assert cols == [c.name for c in schema.TABLES[layer]], layer
    for layer in schema.SPATIAL_TABLES:
        g = t[layer]
        assert isinstance(g, gpd.GeoDataFrame)
        assert g.crs.to_epsg() == 27700
        assert (g.geom_type == "Point").all()
    for layer in ("occupiers", "access", "compatibility"):
        assert not isinstance(t[layer], gpd.GeoDataFrame) or "geometry" not in t[layer]


def test_counts(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    path, t = bundle
    exp = EXPECTED[path]
    z, b, o = t["zones"], t["buildings"], t["occupiers"]
    assert len(z) == exp["zones"]
    assert int(z["population"].sum()) == exp["population"]
    assert len(b) == exp["buildings"]
    assert len(o) == exp["occupiers"]
    assert b["owner_type"].value_counts().to_dict() == exp["owner_type"]
    assert int(b["protected"].sum()) == exp["protected"]


def test_ids_and_links(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    _, t = bundle
    b, o, z = t["buildings"], t["occupiers"], t["zones"]
    for ids in (b["building_id"], o["occupier_id"], z["zone_id"]):
        assert ids.map(lambda s: bool(ID_RE.match(s))).all()
        assert ids.is_unique
    assert o["building_id"].isin(b["building_id"]).all()
    assert b["building_id"].isin(o["building_id"]).all(), "every building has an occupier"
    assert z["zone_id"].str.match(r"^E01\d{6}$").all()


def test_occupiers_fit_today(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    _, t = bundle
    b, o = t["buildings"].set_index("building_id"), t["occupiers"]
    used = o.groupby("building_id")["space_m2"].sum()
    assert (used <= b.loc[used.index, "capacity_m2"]).all()
    assert (b["capacity_m2"] <= b["gia_m2"]).all()
    spare = 1 - used / b.loc[used.index, "capacity_m2"]
    assert (spare >= 0.10).sum() >= 0.25 * len(b), "some buildings must have room for co-location"
    for _, occ in o.iterrows():
        offered = b.at[occ["building_id"], "space_types"].split(schema.LIST_SEPARATOR)
        assert occ["space_type"] in offered


def test_values(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    _, t = bundle
    b, o = t["buildings"], t["occupiers"]
    assert set(b["borough"]) <= BOROUGHS
    assert set(b["owner_type"]) <= set(schema.OWNER_TYPES)
    assert set(b["tenure"]) <= set(schema.TENURES)
    for col in schema.BUILDING_COLUMNS:
        if col.kind == "number":
            assert (b[col.name].dropna() >= 0).all(), col.name
    assert b[["gia_m2", "capacity_m2", "running_cost_gbp", "market_value_gbp"]].notna().all().all()
    split = b[["rent_gbp", "rates_gbp", "energy_gbp", "fm_gbp"]].sum(axis=1)
    assert (split - b["running_cost_gbp"]).abs().max() < 1
    lease = b[b["tenure"] == "leasehold"]
    assert lease["lease_end_year"].notna().all()
    assert (b.loc[b["tenure"] == "freehold", "lease_end_year"].isna()).all()
    assert (lease["break_year"].dropna() < lease.loc[lease["break_year"].notna(), "lease_end_year"]).all()
    names = {c.name for c in schema.BUILDING_COLUMNS}
    for m in b["modelled"]:
        assert set(m.split(schema.LIST_SEPARATOR)) <= names
    for s in b["space_types"]:
        assert set(s.split(schema.LIST_SEPARATOR)) <= set(schema.SPACE_TYPES)
    assert set(o["space_type"]) <= set(schema.SPACE_TYPES)
    assert (o["space_m2"] > 0).all()
    fire = b[b["owner_type"] == "fire"]
    assert fire["protected"].all()
    assert (fire["protected_reason"] == "operational fire station").all()
    police = b[b["owner_type"] == "police"]
    assert police["data_source"].str.startswith("OpenStreetMap-derived (ODbL), weak provenance").all()


def test_zones(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    path, t = bundle
    z = t["zones"]
    assert z["imd_decile"].between(1, 10).all()
    assert (z["population"] > 0).all()
    if path == TRAFFORD:
        assert set(z["borough"]) == {"Trafford"}
    else:
        assert set(z["borough"]) == BOROUGHS


def test_access_and_compatibility(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    _, t = bundle
    a, c, o = t["access"], t["compatibility"], t["occupiers"]
    assert a["service"].is_unique
    assert set(a["rule"]) == {"keep_current"}
    assert (a["reach_km"] > 0).all()
    assert (a["protect_deprived_deciles"] == 2).all()
    public = set(o.loc[o["public_facing"], "service"])
    assert set(a["service"]) == public
    pairs = set(zip(c["service"], c["host_service"], strict=True))
    services = set(o["service"])
    assert {(s, s) for s in services} <= pairs
    assert {("police_neighbourhood", "fire_response"), ("jobcentre", "library"),
            ("community_health", "gp_practice")} <= pairs
    assert not c.duplicated().any()


def test_trafford_is_the_gm_subset() -> None:
    gb, tb = read(GM, "buildings"), read(TRAFFORD, "buildings")
    sub = gb[gb["borough"] == "Trafford"].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(sub), pd.DataFrame(tb))
    go, to = read(GM, "occupiers"), read(TRAFFORD, "occupiers")
    pd.testing.assert_frame_equal(
        go[go["building_id"].isin(tb["building_id"])].reset_index(drop=True), to)
    gz, tz = read(GM, "zones"), read(TRAFFORD, "zones")
    assert set(tz["zone_id"]) == set(gz.loc[gz["borough"] == "Trafford", "zone_id"])


def test_files_are_compact() -> None:
    for path in (GM, TRAFFORD):
        assert path.stat().st_size < 3 * 1024 * 1024
