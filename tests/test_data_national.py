"""The bundled national instance (data/england.gpkg) keeps its counts and invariants.

Reads only files in data/ (built by scripts/build_national.py from ../shared/data): the
GeoPackage, ``england_rejected.csv`` (every source row left out, with the reason) and
``england_vs_greater_manchester.csv`` (GM's GP premises and jobcentres in both files). The
input counts are the source files' row counts stated in ../shared/data/SOURCES.md, so
accepted + rejected = input is checked against the sources, not against the build's own
arithmetic.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from estate import schema

DATA = Path(__file__).resolve().parents[1] / "data"
ENGLAND = DATA / "england.gpkg"
REJECTED = DATA / "england_rejected.csv"
VS_GM = DATA / "england_vs_greater_manchester.csv"
GM = DATA / "greater_manchester.gpkg"
ID_RE = re.compile(rf"^{schema.ID_PATTERN}$")
LAYERS = {"buildings", "occupiers", "zones", "access", "compatibility", "places"}
LOCATED = {
    "coordinates in the source",
    "postcode (Code-Point Open 2025)",
    "postcode sector centroid (postcode retired)",
}
# source (as in england_rejected.csv) -> (rows in the source, which buildings it gave)
INPUTS = {
    "GP practices (NHS ODS epraccur, June 2022; active, England)": (6_519, "gp_main"),
    "GP branch surgeries (NHS ODS ebranchs, 2017)": (2_702, "gp_branch"),
    "jobcentres (DWP register, Aug 2017; England)": (544, "JCP_"),
    "fire stations (Home Office register)": (1_399, "FIRE_"),
    "libraries (DCMS / Libraries Hacked)": (3_238, "LIB_"),
    "hospitals (NHS hospital list)": (743, "HOSP_"),
    "council HQs (English rows of the UK council list)": (333, "COUNCIL_"),
}
ALWAYS_MODELLED = {"gia_m2", "capacity_m2", "tenure", "running_cost_gbp", "market_value_gbp", "carbon_tco2e"}


@pytest.fixture(scope="module")
def england() -> dict[str, pd.DataFrame]:
    assert ENGLAND.exists(), f"{ENGLAND} missing: run scripts/build_national.py"
    return {
        layer: pyogrio.read_dataframe(ENGLAND, layer=layer, read_geometry=layer in ("buildings", "zones"))
        for layer in ("buildings", "occupiers", "zones")
    }


def _groups(b: pd.DataFrame) -> dict[str, pd.DataFrame]:
    gp = b["building_id"].str.startswith("GP_")
    out = {"gp_main": b[gp & (b["source_year"] == 2022)], "gp_branch": b[gp & (b["source_year"] == 2017)]}
    for prefix in ("JCP_", "FIRE_", "LIB_", "HOSP_", "COUNCIL_"):
        out[prefix] = b[b["building_id"].str.startswith(prefix)]
    return out


def test_layers_and_size() -> None:
    assert set(pyogrio.list_layers(ENGLAND)[:, 0]) == LAYERS
    assert ENGLAND.stat().st_size < 40 * 1024 * 1024


def test_every_gp_practice_and_jobcentre_is_placed(england: dict[str, pd.DataFrame]) -> None:
    g = _groups(england["buildings"])
    assert len(g["gp_main"]) >= 6_000
    assert len(g["JCP_"]) >= 500
    assert len(g["gp_branch"]) > 0
    gp = pd.concat([g["gp_main"], g["gp_branch"]])
    assert (gp["list_size"] > 0).all()
    assert gp["postcode"].notna().all() and g["JCP_"]["postcode"].notna().all()
    # jobcentres whose postcode has been retired sit at their postcode sector's centroid, flagged
    sector = g["JCP_"]["located_by"] == "postcode sector centroid (postcode retired)"
    assert 0 < sector.sum() < len(g["JCP_"])
    assert set(england["buildings"]["located_by"]) <= LOCATED


def test_accepted_plus_rejected_is_the_input(england: dict[str, pd.DataFrame]) -> None:
    rejected = pd.read_csv(REJECTED, dtype=str, keep_default_na=False)
    assert set(rejected["source"]) <= set(INPUTS)
    assert (rejected["reason"].str.len() > 0).all()
    assert rejected["source_row"].astype(int).gt(0).all()
    g = _groups(england["buildings"])
    for source, (n_input, group) in INPUTS.items():
        n_rejected = int((rejected["source"] == source).sum())
        assert len(g[group]) + n_rejected == n_input, source
    assert sum(len(v) for v in g.values()) == len(england["buildings"])


def test_ids_links_and_modelled_flags(england: dict[str, pd.DataFrame]) -> None:
    b, o, z = england["buildings"], england["occupiers"], england["zones"]
    for ids in (b["building_id"], o["occupier_id"], z["zone_id"]):
        assert ids.map(lambda s: bool(ID_RE.match(s))).all()
        assert ids.is_unique
    assert o["building_id"].isin(b["building_id"]).all()
    assert b["building_id"].isin(o["building_id"]).all()
    names = {c.name for c in schema.BUILDING_COLUMNS}
    for m in b["modelled"]:
        assert set(m.split(schema.LIST_SEPARATOR)) <= names
    new = b[b["building_id"].str.startswith(("GP_", "JCP_"))]
    for m in new["modelled"]:
        assert ALWAYS_MODELLED <= set(m.split(schema.LIST_SEPARATOR))
    assert (o["modelled"].str.contains("space_m2")).all()
    used = o.groupby("building_id")["space_m2"].sum()
    assert (used <= b.set_index("building_id").loc[used.index, "capacity_m2"]).all()
    assert b["place"].notna().all() and set(b["place"]) <= set(z["place"])


def test_greater_manchester_is_compared_site_by_site() -> None:
    vs = pd.read_csv(VS_GM, dtype=str, keep_default_na=False)
    gm = pyogrio.read_dataframe(GM, layer="buildings", read_geometry=False)
    for prefix, kind in (("GP_", "GP premises"), ("JCP_", "jobcentre")):
        ours = vs[vs["kind"] == kind]
        gm_ids = ours.loc[ours["gm_building_id"] != "", "gm_building_id"]
        assert sorted(gm_ids) == sorted(gm.loc[gm["building_id"].str.startswith(prefix), "building_id"])
        national = ours.loc[ours["national_building_id"] != "", "national_building_id"]
        assert national.is_unique
        one_side = ours[ours["match"].str.startswith("only in")]
        assert (one_side["why"].str.len() > 0).all()  # every difference has a reason
