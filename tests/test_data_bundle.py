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
        "zones": 1702, "population": 2_867_771, "buildings": 915, "occupiers": 1169,
        "owner_type": {"council": 150, "dwp": 26, "fire": 41, "nhs": 688, "police": 10},
        "protected": 55, "hospital_buildings": 171, "hospital_sites": 31,
    },
    TRAFFORD: {
        "zones": 139, "population": 235_045, "buildings": 60, "occupiers": 82,
        "owner_type": {"council": 14, "dwp": 2, "fire": 3, "nhs": 38, "police": 3},
        "protected": 4, "hospital_buildings": 6, "hospital_sites": 3,
    },
}

# Extra building columns written after the schema columns: the NHS holding (site) that a
# hospital building belongs to.
BUILDING_EXTRA = ["site_id", "site_name"]

# NHS holdings that are protected acute hospitals (ERIC acute / specialist / mixed, >= 10,000 m2).
ACUTE_SITES = {
    "HOSP_RBV01", "HOSP_RM202", "HOSP_RM301", "HOSP_RMC01", "HOSP_RMP01", "HOSP_RRF01",
    "HOSP_RRF02", "HOSP_RW301", "HOSP_RW3TR", "HOSP_RW601", "HOSP_RW602", "HOSP_RW603",
    "HOSP_RW604", "HOSP_RWJ09",
}

# Holding-level figures (as modelled for the whole NHS holding before it is split into
# buildings): gia_m2, running_cost_gbp, backlog_gbp, market_value_gbp, site_area_ha,
# carbon_tco2e. The buildings of a holding must add up to these.
SITE_TOTALS = {
    "HOSP_0001": (3275, 623895, 38755, 1965000, 0.408, 167.3),
    "HOSP_0002": (12852, 2884509, 650702, 7711000, 2.549, 656.4),
    "HOSP_RBV01": (77223, 19271056, 4929407, 46334000, 9.73, 7371.1),
    "HOSP_RM202": (130429, 25783005, 36670973, 78257000, 28.35, 12449.8),
    "HOSP_RM301": (152918, 37161844, 11010687, 91751000, 13.44, 14596.4),
    "HOSP_RMC01": (88632, 15975305, 34184990, 53179000, 28.25, 8460.1),
    "HOSP_RMP01": (70666, 11157997, 8054480, 42400000, 13.34, 6745.2),
    "HOSP_RRF01": (21225, 4678991, 24607887, 12735000, 7.21, 2026.0),
    "HOSP_RRF02": (47984, 11038199, 6101972, 28790000, 5.5, 4580.2),
    "HOSP_RT201": (8536, 1274879, 332500, 5122000, 1.3, 814.8),
    "HOSP_RT202": (10003, 1356025, 106400, 6002000, 3.5, 954.8),
    "HOSP_RT203": (7747, 1355539, 764750, 4648000, 1.3, 739.5),
    "HOSP_RT204": (13309, 2398831, 780710, 7985000, 4.08, 1270.4),
    "HOSP_RT205": (6671, 1163838, 305900, 4003000, 0.51, 636.8),
    "HOSP_RT210": (1756, 335624, 81130, 1054000, 0.35, 167.6),
    "HOSP_RT2C3": (797, 169780, 113050, 478000, 0.58, 76.1),
    "HOSP_RTV2M": (7956, 1198683, 0, 4774000, 3.9, 759.4),
    "HOSP_RW301": (283517, 42178220, 6194676, 170110000, 6.24, 27062.4),
    "HOSP_RW3TR": (56493, 7869540, 11028496, 33896000, 8.232, 5392.4),
    "HOSP_RW41X": (1953, 444939, 28108, 2016000, 1.6, 186.4),
    "HOSP_RW601": (41330, 5591355, 3066315, 24798000, 11.67, 3945.1),
    "HOSP_RW602": (97993, 12646643, 4386853, 58796000, 24.2, 9353.7),
    "HOSP_RW603": (85312, 13527377, 4184978, 51187000, 14.48, 8143.2),
    "HOSP_RW604": (28201, 3917004, 2170560, 16921000, 4.19, 2691.9),
    "HOSP_RW605": (1516, 312851, 285950, 2659000, 4.22, 144.7),
    "HOSP_RWJ03": (1294, 223305, 0, 776000, 0.46, 123.5),
    "HOSP_RWJ09": (84615, 12884622, 20595037, 50769000, 14.22, 8076.7),
    "HOSP_RXV06": (39698, 5600116, 59325, 23819000, 17.0, 3789.3),
    "HOSP_RXV15": (4339, 880840, 230786, 2603000, 3.05, 414.2),
    "HOSP_RXV60": (8591, 1032289, 643608, 5155000, 2.3, 820.0),
    "HOSP_RXV80": (3731, 638491, 10422, 2239000, 0.81, 356.1),
}
SITE_TOTAL_COLUMNS = ("gia_m2", "running_cost_gbp", "backlog_gbp", "market_value_gbp",
                      "site_area_ha", "carbon_tco2e")
# Largest-remainder rounding: the parts add up exactly, up to float noise.
SITE_TOTAL_TOL = 1e-6
APPORTIONED = {"gia_m2", "capacity_m2", "running_cost_gbp", "rent_gbp", "rates_gbp",
               "energy_gbp", "fm_gbp", "backlog_gbp", "market_value_gbp", "disposal_cost_gbp",
               "site_area_ha", "carbon_tco2e"}


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
        extra = BUILDING_EXTRA if layer == "buildings" else []
        assert cols == [c.name for c in schema.TABLES[layer]] + extra, layer
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
    hosp = b[b["site_id"].notna()]
    assert len(hosp) == exp["hospital_buildings"]
    assert hosp["site_id"].nunique() == exp["hospital_sites"]


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


def test_hospital_buildings_belong_to_a_site(bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    _, t = bundle
    b = t["buildings"]
    is_hosp = b["building_id"].str.startswith("HOSP_")
    hosp, other = b[is_hosp], b[~is_hosp]
    assert hosp["site_id"].notna().all() and hosp["site_name"].notna().all()
    assert other["site_id"].isna().all() and other["site_name"].isna().all()
    assert (hosp["site_id"].str.match(r"^HOSP_[A-Z0-9]+$")).all()
    assert all(bid.startswith(f"{sid}_B") for bid, sid in zip(hosp["building_id"], hosp["site_id"],
                                                              strict=True))
    assert set(hosp["site_id"]) <= set(SITE_TOTALS)
    for sid, grp in hosp.groupby("site_id"):
        assert grp["site_name"].nunique() == 1, sid
        # numbered B01, B02, ... largest first
        nums = sorted(int(x.rsplit("_B", 1)[1]) for x in grp["building_id"])
        assert nums == list(range(1, len(grp) + 1)), sid
        by_num = grp.assign(n=grp["building_id"].str.rsplit("_B", n=1).str[1].astype(int))
        assert by_num.sort_values("n")["gia_m2"].is_monotonic_decreasing, sid
        if len(grp) > 1:
            assert grp["name"].str.startswith(grp["site_name"].iloc[0] + " – building ").all(), sid
            for m in grp["modelled"]:
                assert APPORTIONED <= set(m.split(schema.LIST_SEPARATOR)), sid
        else:
            assert (grp["name"] == grp["site_name"]).all(), sid


def test_each_acute_site_has_one_protected_acute_building(
        bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    path, t = bundle
    b, o = t["buildings"], t["occupiers"]
    hosp = b[b["site_id"].notna()]
    acute_sites = set(hosp.loc[hosp["protected"], "site_id"])
    expected = ACUTE_SITES & set(hosp["site_id"])
    assert acute_sites == expected
    if path == GM:
        assert acute_sites == ACUTE_SITES
    for sid, grp in hosp.groupby("site_id"):
        prot = grp[grp["protected"]]
        if sid not in expected:
            assert prot.empty, sid
            continue
        assert len(prot) == 1, sid
        main = prot.iloc[0]
        assert main["protected_reason"] == "acute hospital"
        assert main["building_id"] == f"{sid}_B01"
        assert main["gia_m2"] == grp["gia_m2"].max()
    acute_occ = o[o["service"] == "hospital_acute"]
    assert acute_occ["building_id"].is_unique
    assert set(acute_occ["building_id"]) == set(hosp.loc[hosp["protected"], "building_id"])
    assert not acute_occ["movable"].any()
    # every other building on a hospital site can be emptied: its occupiers may move, except
    # mental health inpatients (not movable, as before the split)
    unprotected = o[o["building_id"].isin(hosp.loc[~hosp["protected"], "building_id"])]
    fixed = unprotected[~unprotected["movable"]]
    assert set(fixed["service"]) <= {"mental_health_inpatient"}


def test_apportioned_columns_sum_to_site_totals(
        bundle: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    path, t = bundle
    b = t["buildings"]
    hosp = b[b["site_id"].notna()]
    sums = hosp.groupby("site_id")[[*SITE_TOTAL_COLUMNS, "capacity_m2"]].sum()
    sizes = hosp.groupby("site_id").size()
    if path == GM:
        assert set(sums.index) == set(SITE_TOTALS)
    split = hosp[["rent_gbp", "rates_gbp", "energy_gbp", "fm_gbp"]].sum(axis=1)
    assert (split == hosp["running_cost_gbp"]).all()
    for sid, row in sums.iterrows():
        total = dict(zip(SITE_TOTAL_COLUMNS, SITE_TOTALS[sid], strict=True))
        for col in SITE_TOTAL_COLUMNS:
            assert abs(row[col] - total[col]) <= SITE_TOTAL_TOL, (sid, col, row[col], total[col])
        # capacity is GIA x 0.65 rounded down per building: within one m2 per building
        site_cap = int(total["gia_m2"] * 0.65)
        assert site_cap - sizes[sid] <= row["capacity_m2"] <= site_cap, sid


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
