#!/usr/bin/env python
"""Build the national England estate (``data/england.gpkg``) from real public data.

Run from the repository root::

    .venv/bin/python scripts/build_national.py              # reads ../shared/data, writes data/
    .venv/bin/python scripts/build_national.py --shared /path/to/shared/data --out /tmp/out

Inputs are files listed in ``<shared>/SOURCES.md``; nothing is fetched from the network.

Zones: every English LSOA 2021 (population-weighted centroid, Census 2021 usual residents,
IMD 2019 decile carried over from LSOA 2011). Buildings: every fire station in the Home
Office register, every open library in the DCMS/Libraries Hacked list, every NHS hospital in
the NHS hospital list (independent-sector providers removed), and every English council HQ
in the council list. Locations, names, population and deprivation are real; floor areas,
costs, values, carbon, tenure and occupiers are modelled with the *same constants and
helpers* as the Greater Manchester example (imported from ``scripts/build_example.py``) and
listed in each row's ``modelled`` column. Access standards and compatibility are copied
from the ``access`` and ``compatibility`` layers of ``data/greater_manchester.gpkg``.

Every zone and building carries ``place`` (upper-tier local authority code, UTLA 2023) and
``place_name``. ``docs/sweep.md`` explains the partition and the boundary buffer used when
one place is optimised; ``data/README.md``'s modelling notes apply unless stated here.

The build is deterministic (random draws are seeded by the building ID, the GeoPackage has
a fixed timestamp).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

REPO = Path(__file__).resolve().parents[1]
for _p in (str(REPO), str(REPO / "scripts")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import build_example as gm  # noqa: E402  (the GM build: constants and helpers, imported not copied)

from estate import schema  # noqa: E402

# Stable constants and helpers of the Greater Manchester build
KINDS, TM46, SHARES, SERVICES, SERVICE_CODE = gm.KINDS, gm.TM46, gm.SHARES, gm.SERVICES, gm.SERVICE_CODE
LIBRARY_WEIGHT = gm.LIBRARY_WEIGHT
bm, rng_for, lognormal, tidy = gm.bm, gm.rng_for, gm.lognormal, gm.tidy

# ======================================================================================
# 1. NATIONAL ASSUMPTIONS (only where the GM build used data that exists only for GM)
# ======================================================================================

# Fire stations: GM sized each station from its OS footprint (x 1.5 storeys). There are no
# footprints nationally, so GIA is lognormal around the median of the 41 GM stations.
FIRE_GIA_MEDIAN_M2 = 1_330.0  # median GIA of the GM fire stations (data/greater_manchester.gpkg)
FIRE_GIA_SIGMA = 0.35
FIRE_GIA_CLIP = (300.0, 6_000.0)
# Site area where no footprint or ERIC land area exists: GIA / storeys / site coverage.
SITE_FORM = {"fire": (1.5, 0.35), "hospital": (2.5, 0.35)}  # Assumption (storeys, coverage)
# Hospitals not matched to an ERIC 2016/17 site by name: type guessed from the name; GIA
# lognormal around the ERIC median GIA of that type, sigma below, clipped.
HOSPITAL_GIA_SIGMA = 0.5
HOSPITAL_GIA_CLIP = (300.0, 150_000.0)
HOSPITAL_ACUTE_WORDS = r"general|university|infirmary|royal|district hospital|county hospital|city hospital"
HOSPITAL_MH_WORDS = (
    r"mental|psychiatr|\bunit\b|lodge|\bhouse\b|\bcourt\b|secure|forensic|"
    r"rehabilitation|\bward\b|learning disab"
)
HOSPITAL_DEDUP_M = 200  # hospitals with the same name this close are one site
# Rows of the hospital list that are not NHS estate (independent providers of NHS care).
HOSPITAL_INDEPENDENT = (
    r"cygnet|independent hospital|priory|spire|\bbmi\b|pds medical|nuffield|"
    r"ramsay|care uk|partnerships in care|huntercombe"
)
HOSPITAL_UNMATCHED_OWNER = "NHS Property Services"  # as in GM, an assumption: listed in `modelled`
# Libraries: there is no list of central/town-centre libraries nationally. Tier: council-run
# (LAL) or commissioned (CL) libraries named "Central" are central; other LAL/CL open at least
# LIBRARY_TOWN_HOURS a week are town-centre; other LAL/CL are branches; community-run (CRL)
# and independent (ICL) are community; any library open under LIBRARY_MINIMAL_HOURS a week
# is minimal. Weights (LIBRARY_WEIGHT) and the 30 m2 per 1,000 residents are GM's.
LIBRARY_TOWN_HOURS = 48.0
LIBRARY_MINIMAL_HOURS = 10.0
# Council HQs: GIA 40 m2 per 1,000 residents (GM) of the council's population in the source,
# or of its place (UTLA, Census 2021) when the source has none (county councils: 1), clipped.
COUNCIL_MIN_SOURCE_POP = 10_000
COUNCIL_GIA_CLIP = (1_500.0, 30_000.0)
# IMD 2019 deciles: 32,844 LSOA 2011 ranked 1 (most deprived) .. 32,844; decile = ceil(rank / 3,284.4)
IMD_LSOA11_COUNT = 32_844

FILES = {
    "pwc": "ons_lsoa21_pwc_samuel/LLSOA_Dec_2021_PWC_for_England_and_Wales_2022_6710512803259349539.csv",
    "population": "derived/census2021_lsoa21_usual_residents_by_age6.csv",
    "imd": "derived/iod2019_eng_lsoa11_ranks_deciles.csv",
    "imd_population": "imd2019_energy_flex/File_6_-_IoD2019_Population_Denominators.csv.gz",
    "lsoa_lookup": "lookups_samuel/lsoa11_to_county_and_lsoa22_england.csv",
    "lad": "boundaries_drkane/la_all_codes.csv",
    "utla": "boundaries_drkane/utla_all_codes.csv",
    "fire": "derived/fire_stations_homeoffice_england.csv",
    "libraries": "libraries_librarieshacked/libraries.csv",
    "library_authorities": "libraries_librarieshacked/authorities.csv",
    "hospitals": "police_hospitals_streetsafe/hospitals.csv",
    "councils": "council_hq_calebp94/UK-Councils.geojson",
}


def say(msg: str) -> None:
    print(msg, flush=True)


# ======================================================================================
# 2. ZONES AND PLACES
# ======================================================================================


def build_zones(shared: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, int]]:
    """Every English LSOA 2021: centroid, population, IMD decile, LAD, place (UTLA)."""
    pwc = pd.read_csv(shared / FILES["pwc"], encoding="utf-8-sig", dtype={"LSOA21CD": str})
    pwc = pwc[pwc["LSOA21CD"].str.startswith("E")]
    pop = pd.read_csv(shared / FILES["population"], dtype={"lsoa21_code": str})
    pop = pop[pop["lsoa21_code"].str.startswith("E")].set_index("lsoa21_code")
    missing = sorted(set(pwc["LSOA21CD"]) ^ set(pop.index))
    if missing:
        msg = f"LSOA21 in only one of centroids and Census population: {missing[:10]}"
        raise SystemExit(msg)
    say(
        f"  zones: {len(pwc):,} English LSOA 2021 centroids; population {pop['total_usual_residents'].sum():,.0f}"
    )

    # --- IMD 2019 (LSOA 2011) -> LSOA 2021 ---------------------------------------------
    look = pd.read_csv(shared / FILES["lsoa_lookup"], dtype=str)
    imd = pd.read_csv(shared / FILES["imd"], dtype={"lsoa11_code": str}).set_index("lsoa11_code")
    den = pd.read_csv(shared / FILES["imd_population"], dtype={"LSOA code (2011)": str})
    den = den.set_index("LSOA code (2011)")["Total population: mid 2015 (excluding prisoners)"]
    den = pd.to_numeric(den.astype(str).str.replace(",", ""), errors="coerce")
    look = look.drop_duplicates(["LSOA11CD", "LSOA21CD"])
    look["rank"] = look["LSOA11CD"].map(imd["index_of_multiple_deprivation_imd_rank"])
    look["decile"] = look["LSOA11CD"].map(imd["index_of_multiple_deprivation_imd_decile"])
    look["weight"] = look["LSOA11CD"].map(den).fillna(1.0)
    if look["rank"].isna().any():
        msg = f"LSOA 2011 without IMD: {look.loc[look['rank'].isna(), 'LSOA11CD'].head().tolist()}"
        raise SystemExit(msg)
    parents = look.groupby("LSOA21CD")["LSOA11CD"].nunique()
    children = look.groupby("LSOA11CD")["LSOA21CD"].nunique()
    one = look[look["LSOA21CD"].map(parents) == 1].drop_duplicates("LSOA21CD").set_index("LSOA21CD")
    many = look[look["LSOA21CD"].map(parents) > 1]
    mean_rank = many.groupby("LSOA21CD").apply(lambda d: float(np.average(d["rank"], weights=d["weight"])))
    decile = pd.concat(
        [one["decile"].astype(int), np.ceil(mean_rank / (IMD_LSOA11_COUNT / 10)).clip(1, 10).astype(int)]
    )
    rule = pd.Series("unchanged", index=one.index)
    split = one["LSOA11CD"].map(children) > 1
    rule[split.to_numpy()] = "split"
    rule = pd.concat([rule, pd.Series("merged", index=mean_rank.index)])
    no_imd = sorted(set(pwc["LSOA21CD"]) - set(decile.index))
    say(
        f"  IMD: {int((rule == 'unchanged').sum()):,} LSOA21 unchanged from 2011, "
        f"{int((rule == 'split').sum()):,} split (each part takes its parent's decile), "
        f"{int((rule == 'merged').sum()):,} merged (population-weighted mean rank of the "
        f"parents, mid-2015 population, as a decile); {len(no_imd)} without a parent"
    )

    # --- LAD 2022 -> UTLA (place) -------------------------------------------------------
    lad = pd.read_csv(shared / FILES["lad"], dtype=str).drop_duplicates("LADNM")
    utla = pd.read_csv(shared / FILES["utla"], dtype=str).set_index("UTLACD")
    lad_of = look.drop_duplicates("LSOA21CD").set_index("LSOA21CD")["LAD22NM"]
    place_of = lad_of.map(lad.set_index("LADNM")["UTLACD"])
    z = pd.DataFrame({"zone_id": pwc["LSOA21CD"].to_numpy()})
    z["name"] = z["zone_id"].map(pop["lsoa21_name"])
    z["borough"] = z["zone_id"].map(lad_of)
    z["population"] = z["zone_id"].map(pop["total_usual_residents"]).round().astype("int64")
    z["imd_decile"] = z["zone_id"].map(decile).astype("Int64")
    z["imd_rule"] = z["zone_id"].map(rule).fillna("nearest")
    z["place"] = z["zone_id"].map(place_of)
    geom = gpd.points_from_xy(pwc["x"].round(2).to_numpy(), pwc["y"].round(2).to_numpy())
    zones = gpd.GeoDataFrame(z, geometry=geom, crs=schema.CRS)
    for col, label in (("place", "place"), ("imd_decile", "IMD decile")):
        lost = zones[col].isna()
        if lost.any():  # the nearest zone that has one (none in the 2022 lookup; kept for safety)
            known = zones[~lost]
            tree = shapely.STRtree(known.geometry.values)
            idx = tree.nearest(zones.geometry.values[lost.to_numpy()])
            zones.loc[lost, col] = known[col].to_numpy()[idx]
            if col == "imd_decile":
                zones.loc[lost, "imd_rule"] = "nearest"
        say(f"  {label}: {int(lost.sum())} LSOA21 without one in the lookups (given the nearest zone's)")
    zones["place_name"] = zones["place"].map(utla["UTLANM"])
    zones = zones.sort_values("zone_id", kind="stable").reset_index(drop=True)
    zones = zones[
        [
            "zone_id",
            "name",
            "borough",
            "population",
            "imd_decile",
            "place",
            "place_name",
            "imd_rule",
            "geometry",
        ]
    ]
    places = _places_table(zones, utla)
    place_pop = places.set_index("place")["population"].to_dict()
    return zones, places, place_pop


def _places_table(zones: gpd.GeoDataFrame, utla: pd.DataFrame) -> pd.DataFrame:
    """One row per place: name, combined authority, region, zones, population, weighted centre."""
    xy = np.column_stack([shapely.get_x(zones.geometry.values), shapely.get_y(zones.geometry.values)])
    w = zones["population"].to_numpy(dtype=float)
    frame = pd.DataFrame({"place": zones["place"], "wx": xy[:, 0] * w, "wy": xy[:, 1] * w, "w": w})
    agg = frame.groupby("place").sum()
    out = pd.DataFrame(
        {
            "place": agg.index,
            "place_name": agg.index.map(utla["UTLANM"]),
            "combined_authority": agg.index.map(utla["CAUTHNM"]).fillna(""),
            "region": agg.index.map(utla["RGNNM"]).fillna(""),
            "zones": zones.groupby("place").size().reindex(agg.index).to_numpy(),
            "population": agg["w"].round().astype("int64").to_numpy(),
            "easting": (agg["wx"] / agg["w"]).round(1).to_numpy(),
            "northing": (agg["wy"] / agg["w"]).round(1).to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def locate(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Place, place name, borough and LSOA of each site: those of the nearest LSOA 2021
    population-weighted centroid (there are no national LSOA polygons in ../shared/data)."""
    tree = shapely.STRtree(zones.geometry.values)
    idx = tree.nearest(sites.geometry.values)
    out = sites.copy()
    for col in ("place", "place_name", "borough"):
        out[col] = zones[col].to_numpy()[idx]
    out["LSOA21CD"] = zones["zone_id"].to_numpy()[idx]
    out["imd_decile"] = zones["imd_decile"].to_numpy()[idx]
    return out


# ======================================================================================
# 3. SOURCES -> sites
# ======================================================================================


def fire_sites(shared: Path) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / FILES["fire"], dtype=str)
    e = pd.to_numeric(raw["STATION_EASTING"], errors="coerce")
    n = pd.to_numeric(raw["STATION_NORTHING"], errors="coerce")
    ok = e.notna() & n.notna() & (e > 0) & (n > 0)
    if (~ok).any():
        say(
            f"  fire: dropped {int((~ok).sum())} station(s) without coordinates: "
            + "; ".join(raw.loc[~ok, "STATION_NAME"].astype(str))
        )
    raw = raw[ok].assign(e=e[ok], n=n[ok])
    raw["name"] = raw["STATION_NAME"].map(tidy) + " Fire Station"
    raw = raw.sort_values(["FRS_FULLNAME", "STATION_NAME", "e", "n"], kind="stable").reset_index(drop=True)
    g = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["e"], raw["n"]), crs=schema.CRS)
    g["building_id"] = [f"FIRE_{i:05d}" for i in range(1, len(g) + 1)]
    g["kind"] = "fire"
    g["owner"] = g["FRS_FULLNAME"].map(tidy) + " Fire and Rescue Service"
    g["owner_type"] = "fire"
    g["with_police"] = g["STATION_ADDRESS"].str.contains("Police", case=False)
    g["community_station"] = g["STATION_ADDRESS"].str.contains("Community", case=False)
    g["data_source"] = "Home Office fire stations register (openregister/fire-data)"
    g["display_name"] = g["name"]
    say(f"  fire: {len(g):,} stations of {g['FRS_FULLNAME'].nunique()} fire and rescue services")
    return g


def library_sites(shared: Path) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / FILES["libraries"], dtype=str)
    auth = pd.read_csv(shared / FILES["library_authorities"], dtype=str).set_index("authority_id")
    closed = raw["closed"].notna() & (raw["closed"].str.strip() != "")
    say(f"  libraries: {len(raw):,} in the list, {int(closed.sum())} closed dropped")
    raw = raw[~closed].copy()
    raw["name"] = raw["name"].map(tidy)
    raw["hours_n"] = pd.to_numeric(raw["hours"], errors="coerce")
    g = gpd.GeoDataFrame(
        raw,
        geometry=gpd.points_from_xy(raw["lng"].astype(float), raw["lat"].astype(float)),
        crs=schema.CRS_LONLAT,
    ).to_crs(schema.CRS)
    g = g.sort_values("id", key=lambda s: s.astype(int), kind="stable").reset_index(drop=True)
    g["building_id"] = "LIB_" + g["id"].astype(int).map(lambda i: f"{i:05d}")
    g["authority"] = g["authority_id"].map(auth["name"]).fillna("Unknown library authority")

    def tier(r: pd.Series) -> str:
        hours = r["hours_n"]
        if pd.notna(hours) and hours < LIBRARY_MINIMAL_HOURS:
            return "minimal"
        if r["type"] in ("CRL", "ICL"):
            return "community"
        if "central" in r["name"].lower():
            return "central"
        if pd.notna(hours) and hours >= LIBRARY_TOWN_HOURS:
            return "town"
        return "branch"

    g["tier"] = g.apply(tier, axis=1)
    g["kind"] = "library"
    g["owner"] = g["authority"] + " Council"
    g["owner_type"] = "council"
    g["data_source"] = "DCMS Libraries Taskforce dataset (Libraries Hacked, 2017)"
    g["display_name"] = g["name"] + " Library"
    g.loc[g["name"].str.contains("librar", case=False), "display_name"] = g["name"]
    say(
        "  libraries: tiers "
        + ", ".join(f"{k} {v}" for k, v in g["tier"].value_counts().sort_index().items())
    )
    return g


def _norm(text: object) -> str:
    t = re.sub(r"&", " and ", str(text).lower())
    t = re.sub(r"[^a-z0-9 ]", "", t)
    return re.sub(r"\s+", " ", t).strip()


def hospital_sites(shared: Path, eric: pd.DataFrame) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / FILES["hospitals"], dtype=str)
    raw["name"] = raw["name"].map(tidy)
    indep = raw["name"].str.contains(HOSPITAL_INDEPENDENT, case=False, regex=True)
    say(
        f"  hospitals: {len(raw)} in the NHS list; {int(indep.sum())} independent-sector providers "
        "dropped (not public estate)"
    )
    raw = raw[~indep].copy()
    g = gpd.GeoDataFrame(
        raw,
        geometry=gpd.points_from_xy(raw["longitude"].astype(float), raw["latitude"].astype(float)),
        crs=schema.CRS_LONLAT,
    ).to_crs(schema.CRS)
    g["n"] = g["name"].map(_norm)
    g = g.sort_values(["n", "latitude", "longitude"], kind="stable").reset_index(drop=True)
    # same name within HOSPITAL_DEDUP_M: one site
    drop = []
    for _, grp in g.groupby("n"):
        idx = list(grp.index)
        for i, a in enumerate(idx):
            if a in drop:
                continue
            for b in idx[i + 1 :]:
                if b not in drop and g.geometry[a].distance(g.geometry[b]) <= HOSPITAL_DEDUP_M:
                    drop.append(b)
    if drop:
        say(f"  hospitals: {len(drop)} duplicate row(s) (same name within {HOSPITAL_DEDUP_M} m) dropped")
    g = g.drop(index=drop).reset_index(drop=True)
    # match to ERIC 2016/17 by exact normalised site name, when unique on both sides
    e = eric.copy()
    e["n"] = e["Site Name"].map(_norm)
    e_count = e["n"].value_counts()
    g_count = g["n"].value_counts()
    unique_e = e[e["n"].map(e_count) == 1].set_index("n")
    match = g["n"].map(
        lambda n: unique_e.loc[n, "Site Code"] if n in unique_e.index and g_count[n] == 1 else None
    )
    g["eric_code"] = match
    say(
        f"  hospitals: {int(match.notna().sum())} of {len(g)} matched to an ERIC 2016/17 site by "
        "exact name (unique in both lists); the rest are modelled"
    )
    by_code = eric.set_index("Site Code")
    g["eric_type"] = g["eric_code"].map(lambda c: by_code.loc[c, "Site Type"] if isinstance(c, str) else None)

    def guess(name: str) -> str:
        if re.search(HOSPITAL_MH_WORDS, name, flags=re.IGNORECASE):
            return gm.ERIC_MH
        if re.search(HOSPITAL_ACUTE_WORDS, name, flags=re.IGNORECASE):
            return gm.ERIC_ACUTE
        return gm.ERIC_COMMUNITY

    g["guessed_type"] = [
        None if isinstance(c, str) else guess(n) for c, n in zip(g["eric_code"], g["name"], strict=True)
    ]
    seq = iter(range(1, len(g) + 1))
    g["building_id"] = [
        f"HOSP_{c}" if isinstance(c, str) else f"HOSP_N{next(seq):04d}" for c in g["eric_code"]
    ]
    g["kind"] = "hospital"
    g["owner"] = [
        gm._trust_name(by_code.loc[c, "Organisation Name"])
        if isinstance(c, str)
        else HOSPITAL_UNMATCHED_OWNER
        for c in g["eric_code"]
    ]
    g["owner_type"] = "nhs"
    g["data_source"] = [
        f"NHS hospital list (cb671/streetsafe-server); GIA, land, costs: NHS Digital ERIC 2016/17 site {c}"
        if isinstance(c, str)
        else "NHS hospital list (cb671/streetsafe-server)"
        for c in g["eric_code"]
    ]
    g["display_name"] = g["name"]
    return g


def council_sites(shared: Path) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / FILES["councils"]).to_crs(schema.CRS)
    raw = raw[raw["country"] == "England"].copy()
    raw["name"] = raw["name"].map(tidy)
    raw = raw.sort_values("name", kind="stable").reset_index(drop=True)
    raw["building_id"] = [f"COUNCIL_{i:04d}" for i in range(1, len(raw) + 1)]

    def where(r: pd.Series) -> str:
        for c in ("address 1", "Address 2", "Address 3"):
            v = tidy(r.get(c) or "")
            if v and not v.upper().startswith("P O BOX") and v.lower() != "none":
                return v
        return "Council offices"

    raw["display_name"] = raw["name"] + " - " + raw.apply(where, axis=1)
    raw["source_pop"] = pd.to_numeric(raw["population"], errors="coerce")
    raw["kind"] = "council_hq"
    raw["owner"] = raw["name"]
    raw["owner_type"] = "council"
    raw["data_source"] = "UK council HQ list (CalebP94/leaflet-oates-live, pre-2019)"
    say(
        f"  council HQs: {len(raw)} English councils ("
        + ", ".join(f"{k} {v}" for k, v in raw["authority-type"].value_counts().sort_index().items())
        + ")"
    )
    return raw


# ======================================================================================
# 4. MODEL: building figures (the GM formulas and constants)
# ======================================================================================


def model_buildings(
    sites: pd.DataFrame, eric: pd.DataFrame, eric_bm: pd.DataFrame, place_pop: dict[str, int]
) -> pd.DataFrame:
    uplift = bm("price_uplift_eric")
    by_code = eric.set_index("Site Code")
    gia_median = eric.groupby("Site Type")[gm.ERIC_GIA].median()
    lib = sites[sites["kind"] == "library"]
    weight = lib["tier"].map(LIBRARY_WEIGHT)
    total_w = weight.groupby(lib["place"]).transform("sum")
    lib_gia = lib["place"].map(place_pop) / 1000 * bm("library_m2_per_1000_pop") * weight / total_w
    lib_gia = dict(zip(lib["building_id"], lib_gia, strict=True))
    out = []
    for _, s in sites.iterrows():
        bid, kind = s["building_id"], s["kind"]
        k = KINDS[kind]
        rng = rng_for(bid, "building")
        modelled: list[str] = []
        e = by_code.loc[s["eric_code"]] if isinstance(s.get("eric_code"), str) else None
        etype = (
            s["eric_type"]
            if isinstance(s.get("eric_type"), str)
            else (s["guessed_type"] if isinstance(s.get("guessed_type"), str) else None)
        )

        # --- size -------------------------------------------------------------------
        if e is not None:
            gia = float(e[gm.ERIC_GIA])
        elif kind == "fire":
            gia = float(np.clip(lognormal(rng, FIRE_GIA_MEDIAN_M2, FIRE_GIA_SIGMA), *FIRE_GIA_CLIP))
        elif kind == "hospital":
            gia = float(
                np.clip(lognormal(rng, float(gia_median[etype]), HOSPITAL_GIA_SIGMA), *HOSPITAL_GIA_CLIP)
            )
        elif kind == "library":
            gia = float(lib_gia[bid])
        else:  # council HQ
            pop = s["source_pop"] if s["source_pop"] >= COUNCIL_MIN_SOURCE_POP else place_pop[s["place"]]
            med = pop / 1000 * bm("council_hq_m2_per_1000_pop")
            gia = float(np.clip(lognormal(rng, med, k["gia_sigma"]), *COUNCIL_GIA_CLIP))
        if e is None:
            modelled.append("gia_m2")
        gia = float(max(round(gia), 20))
        capacity = float(np.floor(gia * k["nia"]))
        modelled.append("capacity_m2")
        tenure = "freehold"  # leasehold_p is 0 for every national kind (KINDS); still an assumption
        modelled.append("tenure")

        # --- site area ----------------------------------------------------------------
        if e is not None and e[gm.ERIC_LAND] >= 0.1 and e[gm.ERIC_LAND] * 10_000 >= gia / 6:
            site_ha = float(e[gm.ERIC_LAND])
        else:
            storeys, coverage = SITE_FORM.get(kind, (k.get("storeys"), k.get("coverage")))
            site_ha = gia / storeys / coverage / 10_000
            modelled.append("site_area_ha")
        site_ha = round(site_ha, 3)

        # --- running costs -------------------------------------------------------------
        elec, fossil = TM46[k["tm46"] if not (kind == "hospital" and e is None) else "clinic"]
        rent = 0.0
        rates = gia * k["rv_m2"] * bm("ubr_multiplier")
        if e is not None and gm._eric_costs_usable(e, eric_bm):
            own_energy = float(np.nan_to_num(e[gm.ERIC_ENERGY]))  # a few sites report no energy line
            energy = own_energy * uplift
            fm = (float(e["cost_total"]) - own_energy) * uplift
        elif k["fm_m2"] == "ERIC":
            row = eric_bm.loc[etype if etype in eric_bm.index else gm.ERIC_COMMUNITY]
            energy = gia * row["energy_gbp_m2"] * uplift
            fm = gia * (row["running_gbp_m2"] - row["energy_gbp_m2"]) * uplift
        else:
            energy = gia * (elec * bm("elec_price_gbp_kwh") + fossil * bm("gas_price_gbp_kwh"))
            fm = gia * k["fm_m2"]
        jitter = float(np.exp(0.15 * rng.standard_normal())) if e is None else 1.0
        rent, rates, energy, fm = (round(x * jitter) for x in (rent, rates, energy, fm))
        running = rent + rates + energy + fm
        modelled += ["running_cost_gbp", "rent_gbp", "rates_gbp", "energy_gbp", "fm_gbp"]

        # --- backlog ----------------------------------------------------------------------
        if e is not None:
            backlog = float(e["backlog_total"]) * uplift
        elif k["backlog_m2"] == "ERIC":
            backlog = (
                gia
                * eric_bm.loc[etype if etype in eric_bm.index else gm.ERIC_COMMUNITY, "backlog_gbp_m2"]
                * uplift
            )
            backlog *= float(np.exp(0.5 * rng.standard_normal()))
        else:
            backlog = gia * k["backlog_m2"] * float(np.exp(0.5 * rng.standard_normal()))
        backlog = float(round(backlog))
        modelled.append("backlog_gbp")

        # --- value and disposal -------------------------------------------------------------
        decile = s["imd_decile"] if pd.notna(s["imd_decile"]) else 5
        land = site_ha * bm("land_value_gbp_ha") * gm._imd_multiplier(decile) * bm("land_realisation")
        value = max(land, gia * k["euv_m2"])
        disposal = value * bm("disposal_fee_share") + bm("disposal_fixed_gbp")
        value, disposal = float(round(value, -3)), float(round(disposal, -2))
        modelled += ["market_value_gbp", "disposal_cost_gbp"]

        carbon = round(gia * (elec * bm("elec_kgco2e_kwh") + fossil * bm("gas_kgco2e_kwh")) / 1000, 1)
        modelled.append("carbon_tco2e")

        # --- protection (the GM rules) --------------------------------------------------------
        protected, reason = False, ""
        if kind == "fire":
            protected, reason = True, "operational fire station"
        elif (
            kind == "hospital"
            and etype
            and etype.startswith(("1.", "2.", "3."))
            and gia >= gm.ACUTE_PROTECT_MIN_GIA
        ):
            protected, reason = True, "acute hospital"

        # --- spare share ------------------------------------------------------------------------
        if e is not None:
            spare = float(e["spare_pct"]) / 100
        elif k["spare"] == "ERIC":
            spare = (
                eric_bm.loc[etype if etype in eric_bm.index else gm.ERIC_COMMUNITY, "spare_pct_gia_weighted"]
                / 100
            )
            spare *= float(np.exp(0.5 * rng.standard_normal()))
        else:
            spare = k["spare"] * float(np.exp(0.5 * rng.standard_normal()))
        spare = float(np.clip(spare, 0.0, 0.6))

        extra_modelled = ["owner"] if s["owner"] == HOSPITAL_UNMATCHED_OWNER else []
        out.append(
            {
                "building_id": bid,
                "name": s["display_name"],
                "owner": s["owner"],
                "owner_type": s["owner_type"],
                "borough": s["borough"],
                "tenure": tenure,
                "lease_end_year": None,
                "break_year": None,
                "gia_m2": gia,
                "capacity_m2": capacity,
                "space_types": schema.LIST_SEPARATOR.join(k["space_types"]),
                "running_cost_gbp": float(running),
                "rent_gbp": float(rent),
                "rates_gbp": float(rates),
                "energy_gbp": float(energy),
                "fm_gbp": float(fm),
                "backlog_gbp": backlog,
                "market_value_gbp": value,
                "disposal_cost_gbp": disposal,
                "site_area_ha": site_ha,
                "carbon_tco2e": carbon,
                "protected": protected,
                "protected_reason": reason,
                "modelled": schema.LIST_SEPARATOR.join(
                    [c.name for c in schema.BUILDING_COLUMNS if c.name in modelled] + extra_modelled
                ),
                "data_source": s["data_source"],
                "place": s["place"],
                "place_name": s["place_name"],
                "geometry": s["geometry"],
                "_kind": kind,
                "_spare": spare,
                "_etype": etype,
                "_site": s,
            }
        )
    return pd.DataFrame(out)


# ======================================================================================
# 5. MODEL: occupiers (the GM shares)
# ======================================================================================


def _occupier_plan(b: pd.Series) -> tuple[dict[str, float], set[str]]:
    s = b["_site"]
    rng = rng_for(b["building_id"], "occupiers")
    kind = b["_kind"]
    if kind == "library":
        council_run = s["type"] in ("LAL", "CL")
        if s["tier"] in ("central", "town") or (
            s["tier"] == "branch" and council_run and rng.random() < gm.P_CUSTOMER_SERVICE_BRANCH
        ):
            return SHARES["library_with_cs"], {"customer_service"}
        return {"library": 1.0}, set()
    if kind == "council_hq":
        return SHARES["council_hq"], set()
    if kind == "fire":
        if s["with_police"]:
            return SHARES["fire_with_police"], set()
        if s["community_station"] or rng.random() < gm.P_FIRE_COMMUNITY_ROOM:
            return SHARES["fire_with_room"], {"fire_prevention"}
        return {"fire_response": 1.0}, set()
    if kind == "hospital":
        et = b["_etype"] or ""
        if b["protected"]:
            return SHARES["acute"], {"nhs_admin"}
        if et.startswith(("4.", "5.", "6.")):
            return SHARES["mental_health"], {"nhs_admin"}
        return SHARES["community_hospital"], {"nhs_admin"}
    raise ValueError(kind)


def build_occupiers(buildings: pd.DataFrame) -> pd.DataFrame:
    rows = []
    order = list(SERVICES)
    for _, b in buildings.iterrows():
        plan, modelled_presence = _occupier_plan(b)
        used = b["capacity_m2"] * (1 - b["_spare"])
        for service in order:
            if service not in plan:
                continue
            space_type, public, movable, splittable, label = SERVICES[service]
            partner = b["owner"]
            if service.startswith("police_") and b["_kind"] == "fire":
                partner = "Police (co-located)"
            rows.append(
                {
                    "occupier_id": f"{b['building_id']}_{SERVICE_CODE[service]}",
                    "name": f"{b['name']} - {label}",
                    "partner": partner,
                    "service": service,
                    "building_id": b["building_id"],
                    "space_m2": max(float(np.floor(used * plan[service])), 1.0),
                    "space_type": space_type,
                    "public_facing": public,
                    "movable": movable,
                    "splittable": splittable,
                    "max_move_km": np.nan,
                    "modelled": schema.LIST_SEPARATOR.join(
                        (["service"] if service in modelled_presence else []) + ["space_m2"]
                    ),
                }
            )
    occ = pd.DataFrame(rows)
    assert list(occ.columns) == [c.name for c in schema.OCCUPIER_COLUMNS]
    return occ


# ======================================================================================
# 6. write and check
# ======================================================================================


def finalise_buildings(b: pd.DataFrame) -> gpd.GeoDataFrame:
    names = [c.name for c in schema.BUILDING_COLUMNS] + ["place", "place_name"]
    g = gpd.GeoDataFrame(b[names].copy(), geometry=b["geometry"].to_list(), crs=schema.CRS)
    g["geometry"] = shapely.set_precision(g.geometry.values, 0.01)
    for c in ("lease_end_year", "break_year"):
        g[c] = pd.array([None] * len(g), dtype="Int64")
    g["protected"] = g["protected"].astype(bool)
    return g.sort_values("building_id", kind="stable").reset_index(drop=True)


def check(buildings: gpd.GeoDataFrame, occupiers: pd.DataFrame, zones: gpd.GeoDataFrame) -> None:
    pat = re.compile(rf"^{schema.ID_PATTERN}$")
    for frame, col in ((buildings, "building_id"), (occupiers, "occupier_id"), (zones, "zone_id")):
        assert frame[col].map(lambda x: bool(pat.match(x))).all(), f"bad {col}"
        assert frame[col].is_unique, f"duplicate {col}"
    assert occupiers["building_id"].isin(buildings["building_id"]).all()
    assert buildings["building_id"].isin(occupiers["building_id"]).all(), "building without occupier"
    used = occupiers.groupby("building_id")["space_m2"].sum()
    cap = buildings.set_index("building_id")["capacity_m2"]
    over = used[used > cap.reindex(used.index)]
    assert over.empty, f"over capacity: {over.head().to_dict()}"
    assert buildings["place"].notna().all() and zones["place"].notna().all()
    assert set(buildings["place"]) <= set(zones["place"])
    assert zones["imd_decile"].between(1, 10).all()
    say("  checks passed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=REPO / ".." / "shared" / "data",
        help="folder with the public source data (default ../shared/data)",
    )
    ap.add_argument(
        "--gm",
        type=Path,
        default=REPO / "data" / "greater_manchester.gpkg",
        help="GM example file whose access and compatibility layers are copied",
    )
    ap.add_argument("--out", type=Path, default=REPO / "data" / "england.gpkg", help="output file")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    shared = args.shared.resolve()
    if not (shared / "SOURCES.md").exists():
        msg = f"{shared} does not look like the shared data folder (no SOURCES.md)"
        raise SystemExit(msg)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00Z"})

    say("Zones and places")
    zones, places, place_pop = build_zones(shared)
    say(f"  places: {len(places)} upper-tier local authorities")
    eric = gm.load_eric(shared)
    eric_bm = gm.eric_benchmarks(eric)

    say("Buildings")
    parts = [fire_sites(shared), library_sites(shared), hospital_sites(shared, eric), council_sites(shared)]
    sites = pd.concat([locate(p, zones) for p in parts], ignore_index=True, sort=False)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=schema.CRS)
    sites = sites.sort_values("building_id", kind="stable").reset_index(drop=True)

    say("Modelling")
    modelled = model_buildings(sites, eric, eric_bm, place_pop)
    occupiers = build_occupiers(modelled)
    buildings = finalise_buildings(modelled)
    access = pyogrio.read_dataframe(args.gm, layer="access", read_geometry=False)
    compat = pyogrio.read_dataframe(args.gm, layer="compatibility", read_geometry=False)
    counts = buildings.groupby("place").size()
    places["buildings"] = places["place"].map(counts).fillna(0).astype("int64")
    places_g = gpd.GeoDataFrame(
        places, geometry=gpd.points_from_xy(places["easting"], places["northing"]), crs=schema.CRS
    )
    check(buildings, occupiers, zones)

    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for name, frame in (
        ("buildings", buildings),
        ("occupiers", occupiers),
        ("zones", zones),
        ("access", access),
        ("compatibility", compat),
        ("places", places_g),
    ):
        pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
    tmp.replace(out)

    say(f"\n=== England: {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    say(f"zones: {len(zones):,}  population: {int(zones['population'].sum()):,}  places: {len(places)}")
    kinds = buildings["building_id"].str.split("_").str[0].value_counts().sort_index()
    say(
        f"buildings: {len(buildings):,}  "
        + ", ".join(f"{k} {v}" for k, v in kinds.items())
        + f"; protected {int(buildings['protected'].sum())}"
    )
    say(
        f"occupiers: {len(occupiers):,}  "
        + ", ".join(f"{k} {v}" for k, v in occupiers["service"].value_counts().sort_index().items())
    )
    say(
        f"buildings per place: median {counts.median():.0f}, max {counts.max()} ({counts.idxmax()}); "
        f"places without a building: {int((places['buildings'] == 0).sum())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
