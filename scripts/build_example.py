#!/usr/bin/env python
"""Build the bundled example estate (Greater Manchester and Trafford) from real public data.

Run from the repository root::

    .venv/bin/python scripts/build_example.py            # reads ../shared/data, writes data/
    .venv/bin/python scripts/build_example.py --shared /path/to/shared/data --out data

Inputs are the files listed in ``<shared>/SOURCES.md``; nothing is fetched from the network.
Outputs: ``data/greater_manchester.gpkg`` and ``data/trafford.gpkg``, each with the layers
``buildings`` (points), ``occupiers`` (attribute table), ``zones`` (points), ``access`` and
``compatibility`` (attribute tables). Column names come from ``estate.schema``.

Real: every location, name, borough, population and IMD decile; NHS GIA, land area,
running cost, backlog and empty/under-used space where an NHS ERIC 2016/17 site matches.
Each NHS hospital holding is split into its physical buildings (OS footprints within 10 m
of each other); the holding's figures are shared between them by footprint area (modelled).
Modelled (and listed in each row's ``modelled`` column): everything else. All benchmark
figures and their sources are in ``scripts/modelling.py`` (``BENCHMARKS``, ``TM46``,
``KINDS``), which ``build_national.py`` shares; ``data/README.md`` explains them.

The build is deterministic: every random draw comes from a generator seeded with
``SEED`` and the building ID, so a building's figures do not depend on the order of the
others, and the GeoPackages are written with a fixed timestamp.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import modelling  # noqa: E402  (the shared modelling: constants, building and occupier model)
from modelling import (  # noqa: E402
    ERIC_GIA,
    HOSPITAL_UNMATCHED_OWNER,
    KINDS,
    POLICE_GIA,
    bm,
    lognormal,
    say,
    tidy,
)

from estate import schema  # noqa: E402  (the column contract)

# ======================================================================================
# 1. GM-ONLY CONSTANTS (footprints; the shared modelling constants are in modelling.py)
# ======================================================================================

HOSPITAL_LINK_M = 1_200  # footprints of one DISTNAME within this distance form one site
FIRE_MERGE_M = 100  # fire footprints within this distance form one station
FIRE_NAME_MATCH_M = 200  # Home Office register station within this distance names the site
HULL_BUFFER_M = 10  # site outline = convex hull of footprints + this buffer
# One NHS holding (site) is modelled as several physical buildings: footprints of one site
# that touch or lie within HOSPITAL_BUILDING_LINK_M of each other form one building;
# groups smaller than HOSPITAL_TINY_M2 (substations, sheds, kiosks) join the nearest building.
HOSPITAL_BUILDING_LINK_M = 10
HOSPITAL_TINY_M2 = 50
HOSPITAL_MIN_OCCUPIER_M2 = 25  # smaller slivers of a service in a building are not split off
# Columns of a hospital holding shared between its buildings in proportion to footprint area
# (unit of the rounding; the parts add up exactly to the holding's figure).
HOSPITAL_APPORTIONED = {
    "gia_m2": 1,
    "rent_gbp": 1,
    "rates_gbp": 1,
    "energy_gbp": 1,
    "fm_gbp": 1,
    "backlog_gbp": 1,
    "market_value_gbp": 1000,
    "site_area_ha": 0.001,
    "carbon_tco2e": 0.1,
}


# ======================================================================================
# 2. SOURCE-SPECIFIC DECISIONS (which rows are public estate, names, owners, codes)
# ======================================================================================

COUNCIL_NAME = {
    "Bolton": "Bolton Council",
    "Bury": "Bury Council",
    "Manchester": "Manchester City Council",
    "Oldham": "Oldham Council",
    "Rochdale": "Rochdale Borough Council",
    "Salford": "Salford City Council",
    "Stockport": "Stockport Council",
    "Tameside": "Tameside Council",
    "Trafford": "Trafford Council",
    "Wigan": "Wigan Council",
}
GP_OWNER = "NHS Greater Manchester ICB"
FIRE_OWNER = "Greater Manchester Fire and Rescue Service"
POLICE_OWNER = "Greater Manchester Police"
DWP_OWNER = "Department for Work and Pensions"

# Rows of the GP file that are not NHS general practice premises: private / cosmetic /
# travel / online providers (not public estate), and services inside hospital sites that
# are already buildings here. Matched case-insensitively against the name.
GP_EXCLUDE_PRIVATE = (
    r"nuffield|sameday|doctorcall|bupa|laserase|ultima vitality|^transform|hair loss|"
    r"ne consultancy|oaklands hospital|dhi manchester|10 st john street|"
    r"english institute of sport|face & eye|hr healthcare|diagnostic healthcare|^now gp|"
    r"direct medicare|spire|hospital group|diet uk|veincentre|skinny revolution|tranquil tms|"
    r"advanced skin|academy of health|victoria dental|polska|crown clinic|private clinic|"
    r"heart networks|private hospital|mya clinics|bodyline|^bmi |ksl clinic|leela ltd|"
    r"alldaydr|push dr|masta travel|thmg|everything skin"
)
GP_EXCLUDE_ON_HOSPITAL_SITE = (
    r"stepping hill hospital|north manchester general hospital|^emergency department|"
    r"bardoc - fairfield general hospital"
)
GP_HEALTH_CENTRE = r"health centre|primary care centre|integrated care|gateway|hub|wellbeing|well-being"

# Independent-sector hospitals in the OS footprint file: not public estate, dropped.
HOSPITAL_INDEPENDENT = (
    "BMI The Alexandra Hospital",
    "BMI The Highfield Hospital",
    "Beaumont Hospital",
    "Breightmet Centre For Autism",
    "Bridgewater Hospital",
    "Cygnet Hospital",
    "Priory Hospital Altrincham",
    "Priory Hospital Cheadle Royal",
    "Spire Manchester Hopsital",
    "Spire Manchester Hospital",
    "The Oaklands Hospital",
    "The Priory Highbank Centre",
)
# OS DISTNAME -> ERIC 2016/17 site codes on that site (one NHS holding per code; each holding
# is later split into its physical buildings, see split_hospitals).
# Sites without a code are modelled from their footprints (owner NHS Property Services).
# RTV79 (Leigh Mental Health Unit) is left out: replaced by Atherleigh Park in 2017.
HOSPITAL_ERIC = {
    "Royal Bolton Hospital": ("RMC01", "RXV60"),
    "The Royal Oldham Hospital": ("RW603", "RT203"),
    "North Manchester General Hospital": ("RW602",),
    "Stepping Hill Hospital": ("RWJ09", "RT205"),
    "Prestwich Hospital": ("RXV06",),
    "Fairfield General Hospital": ("RW601", "RT201"),
    "Tameside Hospital": ("RMP01", "RT202"),
    "Central Manchester University Hospitals/St Mary's Hospital": ("RW301",),
    "Salford Royal Hospital": ("RM301",),
    "Wythenshawe Hospital": ("RM202",),
    "Leigh Infirmary": ("RRF01",),
    "The Christie": ("RBV01",),
    "Royal Albert Edward Infirmary": ("RRF02",),
    "Trafford General Hospital": ("RW3TR", "RXV80"),
    "Birch Hill Hospital": ("RT204", "RW605"),
    "Rochdale Infirmary": ("RW604",),
    "Bealey Community Hospital": ("RT2C3",),
    "Scott House": ("RW41X",),
    "Cherry Tree Hospital": ("RWJ03",),
    "Heathfield House": ("RT210",),
    "Woodlands Hospital": ("RXV15",),
    "Atherleigh Park": ("RTV2M",),
    "Withington Community Hospital": (),
    "Altrincham Hospital": (),
}

# Libraries: the borough's central library and other town-centre libraries (weights for
# sharing the borough's library space; these always host a council customer service point).
LIBRARY_CENTRAL = (
    "Bolton Central Library",
    "Bury Library",
    "Central library",
    "Oldham Library and Lifelong Learning Centre",
    "Rochdale Central Library",
    "Swinton Library",
    "Stockport Central Library",
    "Tameside Central Library",
    "Sale Library",
    "Wigan Library",
)
LIBRARY_TOWN = (
    "Altrincham Library",
    "Eccles Library",
    "Leigh Library",
    "Forum Library Wythenshawe",
    "City Library",
    "Middleton Library",
    "Heywood Library",
    "Hyde Library",
    "Stretford Library",
    "Farnworth Library",
    "Horwich Library",
    "Radcliffe Library",
    "Prestwich Library and Adult Learning Centre",
    "Ashton Library",
    "Chadderton Library and Wellbeing Centre",
)

# ======================================================================================
# 3. GEOGRAPHY: LSOA polygons, boroughs, zones
# ======================================================================================


def load_geography(shared: Path) -> tuple[gpd.GeoDataFrame, dict[str, str], pd.DataFrame]:
    lad = pd.read_csv(shared / "boundaries_drkane" / "la_all_codes.csv", dtype=str)
    lad_name = dict(zip(lad["LADCD"], lad["LADNM"], strict=True))
    lsoa = gpd.read_file(shared / "boundaries_drkane" / "lsoa" / "E47000001.geojson")
    lsoa = lsoa[["LSOA21CD", "LADCD_ACTIVE", "geometry"]].to_crs(schema.CRS)
    lsoa["borough"] = lsoa["LADCD_ACTIVE"].map(lad_name)
    demand = pd.read_csv(
        shared / "derived" / "greater_manchester_lsoa21_demand_points.csv",
        dtype={"LSOA21CD": str, "LADCD_ACTIVE": str},
    )
    return lsoa, lad_name, demand


def build_zones(demand: pd.DataFrame, lad_name: dict[str, str]) -> gpd.GeoDataFrame:
    z = pd.DataFrame(
        {
            "zone_id": demand["LSOA21CD"],
            "name": demand["LSOA21NM"],
            "borough": demand["LADCD_ACTIVE"].map(lad_name),
            "population": demand["pop_census2021"].round().astype("int64"),
            "imd_decile": demand["imd19_decile"].astype("int64"),
        }
    )
    geom = gpd.points_from_xy(demand["pwc_easting"].round(2), demand["pwc_northing"].round(2))
    zones = gpd.GeoDataFrame(z, geometry=geom, crs=schema.CRS)
    zones = zones.sort_values("zone_id", kind="stable").reset_index(drop=True)
    assert list(zones.columns[:-1]) == [c.name for c in schema.ZONE_COLUMNS]
    return zones


def locate(sites: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Borough and LSOA by point-in-polygon; drop (and report) points outside GM."""
    joined = gpd.sjoin(sites, lsoa[["LSOA21CD", "borough", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns="index_right")
    outside = joined["borough"].isna()
    if outside.any():
        say(
            f"  {label}: dropped {int(outside.sum())} point(s) outside Greater Manchester: "
            + "; ".join(joined.loc[outside, "name"].astype(str).tolist())
        )
    else:
        say(f"  {label}: 0 points outside Greater Manchester")
    return joined[~outside].copy()


def points_lonlat(df: pd.DataFrame, lon: str = "lon", lat: str = "lat") -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs=schema.CRS_LONLAT)
    return g.to_crs(schema.CRS)


# ======================================================================================
# 4. SOURCES -> sites (real attributes only)
# ======================================================================================


def _datalab_points(shared: Path, name: str) -> pd.DataFrame:
    """A Trafford Data Lab point file: text columns, ``lon``/``lat`` as numbers, tidy names."""
    raw = pd.read_csv(shared / "trafford_datalab_gm" / name, dtype=str)
    raw["lon"] = raw["lon"].astype(float)
    raw["lat"] = raw["lat"].astype(float)
    raw["name"] = raw["name"].map(tidy)
    return raw


def _numbered(g: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
    """Sites sorted by name and postcode, numbered ``<prefix>_0001`` ... in that order."""
    g = g.sort_values(["name", "postcode"], kind="stable").reset_index(drop=True)
    g["building_id"] = [f"{prefix}_{i:04d}" for i in range(1, len(g) + 1)]
    return g


def gp_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = _datalab_points(shared, "general_practice/gm_general_practices.csv")
    n0 = len(raw)
    dedup = raw.drop_duplicates(["name", "postcode"], keep="first")
    say(f"  GP file: {n0} rows, {n0 - len(dedup)} duplicate name+postcode rows removed")
    private = dedup["name"].str.contains(GP_EXCLUDE_PRIVATE, case=False, regex=True)
    onsite = dedup["name"].str.contains(GP_EXCLUDE_ON_HOSPITAL_SITE, case=False, regex=True)
    say(
        f"  GP file: {int(private.sum())} private/cosmetic/online providers dropped (not public "
        f"estate); {int(onsite.sum())} services inside hospital sites dropped"
    )
    keep = dedup[~private & ~onsite].copy()
    shared_loc = keep.groupby(["lon", "lat"])["name"].transform("size")
    keep["n_at_location"] = shared_loc
    g = _numbered(locate(points_lonlat(keep), lsoa, "GP"), "GP")
    g["kind"] = "gp"
    g["owner"] = GP_OWNER
    g["owner_type"] = "nhs"
    g["health_centre"] = g["name"].str.contains(GP_HEALTH_CENTRE, case=False, regex=True)
    g["data_source"] = "Trafford Data Lab GM GP practices (NHS, 2018)"
    g["display_name"] = g["name"] + " (" + g["postcode"] + ")"
    return g


def library_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = _datalab_points(shared, "libraries/gm_libraries.csv")
    g = _numbered(locate(points_lonlat(raw), lsoa, "libraries"), "LIB")

    def tier(row: pd.Series) -> str:
        if row["name"] in LIBRARY_CENTRAL:
            return "central"
        if row["name"] in LIBRARY_TOWN:
            return "town"
        t = row["type"].lower()
        n = row["name"].lower()
        if "neighbourhood collection" in n or "book access point" in t or "school" in t:
            return "minimal"
        if "community run" in t or "independent" in t:
            return "community"
        return "branch"

    missing = sorted(set(LIBRARY_CENTRAL + LIBRARY_TOWN) - set(g["name"]))
    if missing:
        msg = f"library names in LIBRARY_CENTRAL/LIBRARY_TOWN not in the source: {missing}"
        raise SystemExit(msg)
    g["tier"] = g.apply(tier, axis=1)
    g["council_run"] = g["type"] == "Local authority run library"
    g["kind"] = "library"
    g["owner"] = g["borough"].map(COUNCIL_NAME)
    g["owner_type"] = "council"
    g["data_source"] = "Trafford Data Lab GM libraries (2018; Trafford 2023)"
    g["display_name"] = g["name"]
    return g


def jobcentre_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = _datalab_points(shared, "jobcentre_plus/gm_jobcentreplus.csv")
    g = _numbered(locate(points_lonlat(raw), lsoa, "jobcentres"), "JCP")
    g["kind"] = "jobcentre"
    g["owner"] = DWP_OWNER
    g["owner_type"] = "dwp"
    g["data_source"] = "Trafford Data Lab GM Jobcentre Plus (DWP register, Sept 2018)"
    g["display_name"] = g["name"] + " Jobcentre"
    return g


def _clusters(geoms: gpd.GeoSeries, link_m: float) -> np.ndarray:
    """Label footprints so that any two within link_m (single linkage) share a label."""
    merged = shapely.union_all(geoms.buffer(link_m / 2).values)
    parts = list(getattr(merged, "geoms", [merged]))
    tree = shapely.STRtree(parts)
    labels = np.empty(len(geoms), dtype=int)
    for i, g in enumerate(geoms.values):
        hit = tree.query(g, predicate="intersects")
        labels[i] = int(min(hit))
    return labels


def _site_from_footprints(fp: gpd.GeoDataFrame) -> dict:
    union = shapely.union_all(fp.geometry.values)
    hull = shapely.convex_hull(union).buffer(HULL_BUFFER_M)
    return {
        "geometry": shapely.centroid(union),
        "footprint_m2": float(fp.geometry.area.sum()),
        "hull_ha": float(hull.area) / 10_000,
        "n_footprints": len(fp),
    }


def fire_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    fp = gpd.read_file(shared / "trafford_datalab_gm" / "fire_stations" / "gm_fire_stations.geojson")
    fp = fp.to_crs(schema.CRS)
    fp = fp.sort_values("ID", kind="stable").reset_index(drop=True)
    fp["cluster"] = _clusters(fp.geometry, FIRE_MERGE_M)
    rows = []
    for _, grp in fp.groupby("cluster", sort=True):
        rows.append(_site_from_footprints(grp))
    sites = gpd.GeoDataFrame(rows, geometry="geometry", crs=schema.CRS)
    say(f"  fire: {len(fp)} OS footprints merged into {len(sites)} sites (within {FIRE_MERGE_M} m)")
    ho = pd.read_csv(shared / "derived" / "fire_stations_homeoffice_england.csv", dtype=str)
    ho = ho[ho["FRS_FULLNAME"] == "Greater Manchester"].copy()
    ho_g = gpd.GeoDataFrame(
        ho,
        geometry=gpd.points_from_xy(
            ho["STATION_EASTING"].astype(float), ho["STATION_NORTHING"].astype(float)
        ),
        crs=schema.CRS,
    )
    near = gpd.sjoin_nearest(
        sites,
        ho_g[["STATION_NAME", "STATION_ADDRESS", "STATION_POSTCODE", "geometry"]],
        how="left",
        distance_col="match_m",
    )
    near = near[~near.index.duplicated(keep="first")]
    unmatched = near["match_m"] > FIRE_NAME_MATCH_M
    for _, r in near[unmatched].iterrows():
        lonlat = gpd.GeoSeries([r.geometry], crs=schema.CRS).to_crs(schema.CRS_LONLAT).iloc[0]
        say(
            f"  fire: dropped a footprint group at ({lonlat.x:.4f}, {lonlat.y:.4f}), "
            f"{r['footprint_m2']:.0f} m2, nearest Home Office GMFRS station {r['match_m']:.0f} m "
            "away: not a GMFRS station (Manchester Airport fire service)"
        )
    near = near[~unmatched].drop(columns="index_right")
    dup = near["STATION_NAME"].duplicated(keep=False)
    if dup.any():
        msg = f"two fire sites matched one station: {near.loc[dup, 'STATION_NAME'].tolist()}"
        raise SystemExit(msg)
    near["name"] = near["STATION_NAME"].map(tidy) + " Fire Station"
    g = locate(gpd.GeoDataFrame(near, geometry="geometry", crs=schema.CRS), lsoa, "fire")
    g = g.sort_values("STATION_NAME", kind="stable").reset_index(drop=True)
    g["building_id"] = [f"FIRE_{i:04d}" for i in range(1, len(g) + 1)]
    g["kind"] = "fire"
    g["owner"] = FIRE_OWNER
    g["owner_type"] = "fire"
    g["with_police"] = g["STATION_ADDRESS"].str.contains("Police", case=False)
    g["community_station"] = g["STATION_ADDRESS"].str.contains("Community", case=False)
    g["data_source"] = (
        "OS OpenMap Local fire station footprints (Trafford Data Lab); name: "
        "Home Office fire stations register"
    )
    g["display_name"] = g["name"]
    return g


def hospital_sites(shared: Path, lsoa: gpd.GeoDataFrame, eric: pd.DataFrame) -> gpd.GeoDataFrame:
    fp = gpd.read_file(shared / "trafford_datalab_gm" / "hospitals" / "gm_hospitals.geojson")
    fp = fp.to_crs(schema.CRS).sort_values("ID", kind="stable").reset_index(drop=True)
    indep = fp["DISTNAME"].isin(HOSPITAL_INDEPENDENT)
    say(
        f"  hospitals: {len(fp)} OS footprints; {int(indep.sum())} footprints of "
        f"{fp.loc[indep, 'DISTNAME'].nunique()} independent-sector hospitals dropped (not public estate)"
    )
    fp = fp[~indep]
    unknown = set(fp["DISTNAME"]) ^ set(HOSPITAL_ERIC)
    if unknown:
        msg = f"hospital names in only one of the source and HOSPITAL_ERIC: {sorted(unknown)}"
        raise SystemExit(msg)
    eric_by_code = eric.set_index("Site Code")
    rows = []
    n_fp = n_bld = 0
    for distname, grp in fp.groupby("DISTNAME", sort=True):
        labels = _clusters(grp.geometry, HOSPITAL_LINK_M)
        if len(set(labels)) > 1:
            msg = f"{distname}: footprints form {len(set(labels))} separate sites"
            raise SystemExit(msg)
        site = _site_from_footprints(grp)
        codes = HOSPITAL_ERIC[distname]
        total_gia = sum(float(eric_by_code.loc[c, ERIC_GIA]) for c in codes)
        shares = {c: float(eric_by_code.loc[c, ERIC_GIA]) / total_gia for c in codes}
        blds = _hospital_buildings(grp)
        n_fp += len(grp)
        n_bld += len(blds)
        by_holding = _assign_to_holdings(blds, codes, shares)
        on_shared_site = len(codes) > 1
        if not codes:
            rows.append(
                {
                    **site,
                    "site_name": distname,
                    "eric_code": None,
                    "gia_share": 1.0,
                    "hosp_buildings": by_holding[None],
                    "shared_site": False,
                }
            )
        for code in codes:
            rows.append(
                {
                    **site,
                    "site_name": distname,
                    "eric_code": code,
                    "gia_share": shares[code],
                    "hosp_buildings": by_holding[code],
                    "shared_site": on_shared_site,
                }
            )
    say(
        f"  hospitals: {n_fp} NHS footprints form {n_bld} physical buildings (footprints within "
        f"{HOSPITAL_BUILDING_LINK_M} m merged; groups under {HOSPITAL_TINY_M2} m2 joined to the "
        "nearest building)"
    )
    sites = gpd.GeoDataFrame(rows, geometry="geometry", crs=schema.CRS)
    sites["name"] = sites["site_name"]
    g = locate(sites, lsoa, "hospitals")
    ids, names, owners, types, sources = [], [], [], [], []
    seq = 0
    for _, r in g.sort_values(["site_name", "eric_code"], kind="stable", na_position="first").iterrows():
        code = r["eric_code"]
        if code is None or (isinstance(code, float) and np.isnan(code)):
            seq += 1
            ids.append((r.name, f"HOSP_{seq:04d}"))
            names.append((r.name, r["site_name"]))
            owners.append((r.name, HOSPITAL_UNMATCHED_OWNER))
            types.append((r.name, None))
            sources.append((r.name, "OS OpenMap Local hospital footprints (Trafford Data Lab)"))
        else:
            e = eric_by_code.loc[code]
            ids.append((r.name, f"HOSP_{code}"))
            primary = code == HOSPITAL_ERIC[r["site_name"]][0]
            names.append((r.name, _hospital_holding_name(r["site_name"], e, primary)))
            owners.append((r.name, modelling.trust_name(e["Organisation Name"])))
            types.append((r.name, e["Site Type"]))
            sources.append(
                (
                    r.name,
                    "OS OpenMap Local hospital footprints (Trafford Data Lab); "
                    f"GIA, land, costs: NHS Digital ERIC 2016/17 site {code}",
                )
            )
    for col, pairs in (
        ("building_id", ids),
        ("display_name", names),
        ("owner", owners),
        ("eric_type", types),
        ("data_source", sources),
    ):
        g[col] = pd.Series(dict(pairs))
    g["kind"] = "hospital"
    g["owner_type"] = "nhs"
    return g.sort_values("building_id", kind="stable").reset_index(drop=True)


def _building_order(b: dict) -> tuple[float, float, float]:
    """Stable order of a site's buildings: largest footprint first, then west to east, south
    to north (centroid)."""
    c = shapely.centroid(b["geom"])
    return (-round(b["footprint_m2"], 2), round(c.x, 2), round(c.y, 2))


def _hospital_buildings(grp: gpd.GeoDataFrame) -> list[dict]:
    """The physical buildings of one hospital site: footprints that touch or lie within
    HOSPITAL_BUILDING_LINK_M of each other are one building; groups smaller than
    HOSPITAL_TINY_M2 join the nearest larger building. Largest first."""
    labels = _clusters(grp.geometry, HOSPITAL_BUILDING_LINK_M)
    groups = []
    for lab in sorted(set(labels)):
        part = grp.geometry.values[labels == lab]
        groups.append(
            {
                "geom": shapely.union_all(part),
                "footprint_m2": float(shapely.area(part).sum()),
                "n_footprints": len(part),
            }
        )
    groups.sort(key=_building_order)
    keep = [i for i, g in enumerate(groups) if g["footprint_m2"] >= HOSPITAL_TINY_M2] or [0]
    big = [groups[i] for i in keep]
    tiny = [g for i, g in enumerate(groups) if i not in keep]
    for g in tiny:  # nearest to the building as it was before any tiny group joined
        near = min(range(len(big)), key=lambda i: (shapely.distance(groups[keep[i]]["geom"], g["geom"]), i))
        b = big[near]
        big[near] = {
            "geom": shapely.union(b["geom"], g["geom"]),
            "footprint_m2": b["footprint_m2"] + g["footprint_m2"],
            "n_footprints": b["n_footprints"] + g["n_footprints"],
        }
    return sorted(big, key=_building_order)


def _assign_to_holdings(
    blds: list[dict], codes: tuple[str, ...], shares: dict[str, float]
) -> dict[str | None, list[dict]]:
    """Share a site's buildings between its ERIC holdings (modelled: the OS data do not say
    which trust uses which building). The first holding (the site's main trust) keeps the
    largest building. Each other holding gets a compact group: the building whose footprint
    is closest to the holding's GIA share of the site footprint, then its nearest
    neighbours while they bring the group's footprint closer to that share."""
    if len(codes) <= 1:
        return {codes[0] if codes else None: blds}
    total = sum(b["footprint_m2"] for b in blds)
    free = list(range(1, len(blds)))  # indices into blds; 0 (largest) stays with codes[0]
    out: dict[str | None, list[dict]] = {}
    for code in codes[1:]:
        if not free:
            msg = f"no building left for holding {code}"
            raise SystemExit(msg)
        target = shares[code] * total
        seed = min(free, key=lambda i: (abs(blds[i]["footprint_m2"] - target), i))
        group, got = [seed], blds[seed]["footprint_m2"]
        free.remove(seed)
        while free:
            union = shapely.union_all([blds[i]["geom"] for i in group])
            nxt = min(free, key=lambda i: (shapely.distance(union, blds[i]["geom"]), i))
            if abs(got + blds[nxt]["footprint_m2"] - target) >= abs(got - target):
                break
            group.append(nxt)
            got += blds[nxt]["footprint_m2"]
            free.remove(nxt)
        out[code] = sorted((blds[i] for i in group), key=_building_order)
    out[codes[0]] = sorted([blds[0]] + [blds[i] for i in free], key=_building_order)
    return out


def _hospital_holding_name(site: str, e: pd.Series, primary: bool) -> str:
    """Site name; a second NHS holding on the same site is named after its trust."""
    if primary:
        return site
    return f"{site} - {modelling.trust_name(e['Organisation Name'])} unit"


def council_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / "council_hq_calebp94" / "UK-Councils.geojson").to_crs(schema.CRS)
    raw["name"] = raw["name"].map(tidy)
    inside = gpd.sjoin(raw, lsoa[["LSOA21CD", "borough", "geometry"]], how="inner", predicate="within").drop(
        columns="index_right"
    )
    g = inside.copy()
    missing = sorted(set(COUNCIL_NAME) - set(g["borough"]))
    say(
        f"  council HQs: {len(g)} of the {len(COUNCIL_NAME)} GM borough councils are in the source"
        + (f"; missing: {', '.join(missing)}" if missing else "")
        + "; no GMCA entry"
    )

    g["display_name"] = g["borough"] + " " + g.apply(modelling.council_address, axis=1)
    lad = lsoa.drop_duplicates("borough").set_index("borough")["LADCD_ACTIVE"]
    g["building_id"] = "COUNCIL_" + g["borough"].map(lad)
    g = g.sort_values("building_id", kind="stable").reset_index(drop=True)
    g["kind"] = "council_hq"
    g["owner"] = g["borough"].map(COUNCIL_NAME)
    g["owner_type"] = "council"
    g["data_source"] = "UK council HQ list (CalebP94/leaflet-oates-live, pre-2019)"
    return g


def police_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / "police_hospitals_streetsafe" / "police_stations_converted.csv", dtype=str)
    raw["lon"] = raw["longitude"].astype(float)
    raw["lat"] = raw["latitude"].astype(float)
    raw["name"] = raw["name"].map(tidy)
    pts = points_lonlat(raw)
    inside = gpd.sjoin(pts, lsoa[["LSOA21CD", "borough", "geometry"]], how="inner", predicate="within").drop(
        columns="index_right"
    )
    say(
        f"  police: {len(raw)} stations in the (England, incomplete) file, {len(inside)} inside "
        "Greater Manchester"
    )
    g = inside.sort_values("name", kind="stable").reset_index(drop=True)
    g["building_id"] = [f"POLICE_{i:04d}" for i in range(1, len(g) + 1)]

    def ptype(n: str) -> str:
        n = n.lower()
        if "training" in n:
            return "training"
        if "divisional hq" in n:
            return "divisional_hq"
        if "police post" in n:
            return "post"
        return "station"

    g["police_type"] = g["name"].map(ptype)
    g["kind"] = "police"
    g["owner"] = POLICE_OWNER
    g["owner_type"] = "police"
    g["data_source"] = (
        "OpenStreetMap-derived (ODbL), weak provenance "
        "(cb671/streetsafe-server police_stations_converted.csv)"
    )
    g["display_name"] = g["name"]
    return g


# ======================================================================================
# 6. MODEL: building sizes (the rest of the building model is modelling.model_buildings)
# ======================================================================================


def gm_size(sites: pd.DataFrame, borough_pop: dict[str, int]) -> modelling.SizeFunction:
    """GIA of a site without ERIC figures: fire and hospital sites from their OS footprints,
    libraries by the MLA standard, council HQs by population, police by type, GP premises
    and jobcentres lognormal around the kind's median."""
    lib_gia = modelling.library_gia(sites, "borough", borough_pop)

    def size(s: pd.Series, rng: np.random.Generator) -> float:
        kind = s["kind"]
        k = KINDS[kind]
        if kind in ("fire", "hospital"):
            return s["footprint_m2"] * k["storey_factor"]
        if kind == "library":
            return lib_gia[s["building_id"]]
        if kind == "council_hq":
            med = borough_pop[s["borough"]] / 1000 * bm("council_hq_m2_per_1000_pop")
            return lognormal(rng, med, k["gia_sigma"])
        if kind == "police" and s["police_type"] in POLICE_GIA:
            return POLICE_GIA[s["police_type"]] * float(np.exp(0.15 * rng.standard_normal()))
        median = k["health_centre_median"] if (kind == "gp" and s["health_centre"]) else None
        return modelling.kind_lognormal_gia(rng, kind, median)

    return size


# ======================================================================================
# 6b. MODEL: hospital holdings -> physical buildings
# ======================================================================================


def _apportion(total: float, weights: np.ndarray, unit: float) -> list[float]:
    """Split `total` (rounded to a multiple of `unit`) in proportion to `weights` by largest
    remainder, so that the parts are multiples of `unit` and add up exactly to the total."""
    units = round(total / unit)
    raw = units * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = int(units - base.sum())
    for i in sorted(range(len(raw)), key=lambda j: (-(raw[j] - base[j]), j))[:rest]:
        base[i] += 1
    if unit >= 1:
        return [float(b * unit) for b in base]
    digits = round(-np.log10(unit))
    return [round(float(b) * unit, digits) for b in base]


def _hospital_occupier_split(h: pd.Series, s: pd.Series, used: list[float]) -> list[dict[str, float]]:
    """Space per service in each building of one holding (buildings largest first).

    The holding's services and shares are those of a single-building holding
    (`modelling.occupier_plan`): acute 88% / admin 12%, mental health 85 / 15, community 85 / 15, of
    the holding's used space. On a protected acute holding the acute service stays in the
    main (largest) block, up to its share; any acute space beyond the main block becomes
    movable outpatient and community clinics (`community_health`) in the other buildings.
    The office team (`nhs_admin`) fills the smallest buildings first; clinical services take
    the larger ones."""
    plan, _ = modelling.occupier_plan(h, s)
    total = sum(used)
    clinical = next(svc for svc in plan if svc != "nhs_admin")
    clinical_left = plan[clinical] * total
    admin_left = plan.get("nhs_admin", 0.0) * total
    alloc: list[dict[str, float]] = [{} for _ in used]
    others = list(range(len(used)))
    other_clinical = clinical
    if h["protected"]:
        acute = min(used[0], clinical_left)
        if used[0] - acute < HOSPITAL_MIN_OCCUPIER_M2:
            acute = used[0]
        alloc[0]["hospital_acute"] = acute
        if used[0] > acute:
            alloc[0]["nhs_admin"] = used[0] - acute
            admin_left -= used[0] - acute
        others, other_clinical = others[1:], "community_health"
    for i in sorted(others, key=lambda j: (used[j], -j)):  # smallest first
        admin = min(used[i], max(admin_left, 0.0))
        if admin < HOSPITAL_MIN_OCCUPIER_M2:
            admin = 0.0
        if used[i] - admin < HOSPITAL_MIN_OCCUPIER_M2:
            admin = used[i]
        if admin > 0:
            alloc[i]["nhs_admin"] = admin
            admin_left -= admin
        if used[i] > admin:
            alloc[i][other_clinical] = used[i] - admin
    return alloc


def split_hospitals(modelled: pd.DataFrame, sites: pd.DataFrame, lsoa: gpd.GeoDataFrame) -> pd.DataFrame:
    """Replace each hospital holding by its physical buildings (``<holding id>_Bnn``).

    The holding's figures (GIA, site area, rent/rates/energy/FM, backlog, market value,
    carbon) are shared between its buildings in proportion to footprint area; capacity is
    GIA x net-to-gross as for any building, and disposal cost is charged per building. A
    protected acute holding keeps only its main (largest) block protected."""
    k = KINDS["hospital"]
    sep = schema.LIST_SEPARATOR
    out = []
    for _, h in modelled.iterrows():
        row = h.to_dict()
        if h["_kind"] != "hospital":
            out.append({**row, "site_id": None, "site_name": None, "_occ": None})
            continue
        s = sites.loc[h["_site_idx"]]
        blds = s["hosp_buildings"]
        n = len(blds)
        weights = np.array([b["footprint_m2"] for b in blds])
        parts = {c: _apportion(float(h[c]), weights, u) for c, u in HOSPITAL_APPORTIONED.items()}
        mod = set(h["modelled"].split(sep)) if h["modelled"] else set()
        if n > 1:
            mod |= set(HOSPITAL_APPORTIONED) | {"capacity_m2", "running_cost_gbp", "disposal_cost_gbp"}
        owner_modelled = "owner" in mod or h["owner"] == HOSPITAL_UNMATCHED_OWNER or s["shared_site"]
        mod_text = sep.join(
            [c.name for c in schema.BUILDING_COLUMNS if c.name in mod and c.name != "owner"]
            + (["owner"] if owner_modelled else [])
        )
        source = h["data_source"] + ("; holding split into buildings by footprint area" if n > 1 else "")
        rows = []
        for i, b in enumerate(blds):
            gia = parts["gia_m2"][i]
            value = parts["market_value_gbp"][i]
            rent, rates, energy, fm = (parts[c][i] for c in ("rent_gbp", "rates_gbp", "energy_gbp", "fm_gbp"))
            main = i == 0
            rows.append(
                {
                    **row,
                    "building_id": f"{h['building_id']}_B{i + 1:02d}",
                    "name": h["name"] if n == 1 else f"{h['name']} – building {i + 1}",
                    "gia_m2": gia,
                    "capacity_m2": float(np.floor(gia * k["nia"])),
                    "running_cost_gbp": rent + rates + energy + fm,
                    "rent_gbp": rent,
                    "rates_gbp": rates,
                    "energy_gbp": energy,
                    "fm_gbp": fm,
                    "backlog_gbp": parts["backlog_gbp"][i],
                    "market_value_gbp": value,
                    "disposal_cost_gbp": float(
                        round(value * bm("disposal_fee_share") + bm("disposal_fixed_gbp"), -2)
                    ),
                    "site_area_ha": parts["site_area_ha"][i],
                    "carbon_tco2e": parts["carbon_tco2e"][i],
                    "protected": bool(h["protected"]) and main,
                    "protected_reason": h["protected_reason"] if main else "",
                    "modelled": mod_text,
                    "data_source": source,
                    "geometry": shapely.centroid(b["geom"]),
                    "site_id": h["building_id"],
                    "site_name": h["name"],
                }
            )
        used = [r["capacity_m2"] * (1 - h["_spare"]) for r in rows]
        _, presence = modelling.occupier_plan(h, s)
        if n > 1 and h["protected"]:
            presence = presence | {"community_health"}  # acute space beyond the main block
        for r, alloc in zip(rows, _hospital_occupier_split(h, s, used), strict=True):
            r["_occ"] = {
                "alloc": alloc,
                "modelled": {
                    svc: (["service"] if svc in presence else [])
                    + (["building_id"] if n > 1 else [])
                    + ["space_m2"]
                    for svc in alloc
                },
            }
        out.extend(rows)
    df = pd.DataFrame(out)
    # borough of each hospital building from its own location (a site could straddle a border)
    hosp = df["site_id"].notna()
    pts = gpd.GeoDataFrame(
        {"name": df.loc[hosp, "name"]},
        geometry=df.loc[hosp, "geometry"].to_list(),
        crs=schema.CRS,
        index=df.index[hosp],
    )
    located = locate(pts, lsoa, "hospital buildings")
    moved = located["borough"] != df.loc[located.index, "borough"]
    if len(located) != int(hosp.sum()) or moved.any():
        msg = (
            "hospital buildings outside GM or in another borough than their site: "
            f"{df.loc[located.index[moved], 'building_id'].tolist()}"
        )
        raise SystemExit(msg)
    per_site = df[hosp].groupby("site_id").size()
    say(
        f"  hospitals: {int(per_site.size)} holdings -> {int(hosp.sum())} buildings "
        f"(per holding min {per_site.min()}, median {per_site.median():g}, max {per_site.max()})"
    )
    return df.reset_index(drop=True)


# ======================================================================================
# 9. write
# ======================================================================================

# Extra building columns (passed through by the loader): for hospital buildings, the ID and
# name of the NHS holding (ERIC site, or OS site for the two unmatched ones) it belongs to.
BUILDING_EXTRA = ["site_id", "site_name"]


def summary(label: str, path: Path, b: gpd.GeoDataFrame, o: pd.DataFrame, z: gpd.GeoDataFrame) -> None:
    say(f"\n=== {label}: {path} ({path.stat().st_size / 1024:.0f} KB)")
    say(
        f"buildings: {len(b)}  "
        + ", ".join(f"{k} {v}" for k, v in b["owner_type"].value_counts().sort_index().items())
    )
    say(
        f"occupiers: {len(o)}  "
        + ", ".join(f"{k} {v}" for k, v in o["service"].value_counts().sort_index().items())
    )
    say(f"zones: {len(z)}  population: {int(z['population'].sum()):,}")
    used = o["space_m2"].sum()
    say(
        f"GIA {b['gia_m2'].sum():,.0f} m2; capacity {b['capacity_m2'].sum():,.0f} m2; "
        f"occupied {used:,.0f} m2 ({used / b['capacity_m2'].sum():.1%}); "
        f"running cost £{b['running_cost_gbp'].sum() / 1e6:,.1f}m/yr; "
        f"market value £{b['market_value_gbp'].sum() / 1e6:,.0f}m; "
        f"backlog £{b['backlog_gbp'].sum() / 1e6:,.0f}m; "
        f"carbon {b['carbon_tco2e'].sum():,.0f} tCO2e/yr; protected {int(b['protected'].sum())}"
    )
    per_site = b.loc[b["site_id"].notna()].groupby("site_id").size()
    if len(per_site):
        say(
            f"hospital buildings: {int(per_site.sum())} on {per_site.size} NHS holdings "
            f"(per holding min {per_site.min()}, median {per_site.median():g}, max {per_site.max()})"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    modelling.add_shared_argument(ap, REPO)
    ap.add_argument("--out", type=Path, default=REPO / "data", help="output folder (default data/)")
    args = ap.parse_args(argv)
    shared, out = modelling.start_build(args.shared), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    say("Reading sources")
    lsoa, lad_name, demand = load_geography(shared)
    zones = build_zones(demand, lad_name)
    imd = dict(zip(demand["LSOA21CD"], demand["imd19_decile"].astype(int), strict=True))
    borough_pop = zones.groupby("borough")["population"].sum().astype(int).to_dict()
    eric = modelling.load_eric(shared)
    eric_bm = modelling.eric_benchmarks(eric)
    say("ERIC 2016/17 benchmarks by site type (2016/17 prices, before uplift):")
    say(eric_bm.round(2).to_string())

    parts = [
        gp_sites(shared, lsoa),
        library_sites(shared, lsoa),
        jobcentre_sites(shared, lsoa),
        fire_sites(shared, lsoa),
        hospital_sites(shared, lsoa, eric),
        council_sites(shared, lsoa),
        police_sites(shared, lsoa),
    ]
    sites = pd.concat(parts, ignore_index=True, sort=False)
    sites = sites.sort_values("building_id", kind="stable").reset_index(drop=True)
    sites["imd_decile"] = sites["LSOA21CD"].map(imd)

    say("Modelling")
    modelled = modelling.model_buildings(sites, eric, eric_bm, gm_size(sites, borough_pop))
    modelled = split_hospitals(modelled, sites, lsoa)
    occupiers = modelling.build_occupiers(modelled, sites, police_partner=POLICE_OWNER)
    buildings = modelling.finalise_buildings(modelled, BUILDING_EXTRA)
    access = modelling.build_access()
    compat = modelling.build_compatibility()

    outputs = {
        "greater_manchester": (buildings, occupiers, zones),
    }
    tb = buildings[buildings["borough"] == "Trafford"].reset_index(drop=True)
    to = occupiers[occupiers["building_id"].isin(tb["building_id"])].reset_index(drop=True)
    zone_lad = dict(zip(demand["LSOA21CD"], demand["LADCD_ACTIVE"], strict=True))
    tz = zones[zones["zone_id"].map(zone_lad) == "E08000009"].reset_index(drop=True)
    outputs["trafford"] = (tb, to, tz)

    for label, (b, o, z) in outputs.items():
        modelling.check(label, b, o, z)
        path = out / f"{label}.gpkg"
        modelling.write_gpkg(
            path, {"buildings": b, "occupiers": o, "zones": z, "access": access, "compatibility": compat}
        )
        summary(label, path, b, o, z)
    return 0


if __name__ == "__main__":
    sys.exit(main())
