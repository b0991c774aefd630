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
figures and their sources are in the tables at the top of this file (``BENCHMARKS``,
``TM46``, ``KINDS``); ``data/README.md`` explains them.

The build is deterministic: every random draw comes from a generator seeded with
``SEED`` and the building ID, so a building's figures do not depend on the order of the
others, and the GeoPackages are written with a fixed timestamp.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from estate import schema  # noqa: E402  (the column contract)

# ======================================================================================
# 1. CONSTANTS: benchmarks, assumptions and their sources (all modelled figures use these)
# ======================================================================================

SEED = 20261124
BASE_YEAR = 2025  # "today" for lease dates: leases end in BASE_YEAR+1 or later

# (value, unit, source). "Assumption" = no published figure in ../shared/data; the value is
# the build author's estimate, stated so it can be replaced.
BENCHMARKS: dict[str, tuple[float, str, str]] = {
    # --- prices ---------------------------------------------------------------------
    "price_uplift_eric": (
        1.33, "x",
        "ONS CPI index (D7BT, 2015=100): 2016/17 average ~101 -> 2024/25 average ~134; "
        "brings NHS ERIC 2016/17 £ to approx. 2024/25 prices (rounded; verify)"),
    "elec_price_gbp_kwh": (
        0.25, "£/kWh",
        "Assumption, order of DESNZ Quarterly Energy Prices table 3.4.2 (non-domestic "
        "electricity, medium users, 2024, incl. CCL)"),
    "gas_price_gbp_kwh": (
        0.06, "£/kWh",
        "Assumption, order of DESNZ Quarterly Energy Prices table 3.4.2 (non-domestic gas, "
        "2024, incl. CCL)"),
    # --- carbon ---------------------------------------------------------------------
    "elec_kgco2e_kwh": (
        0.20705, "kgCO2e/kWh",
        "DESNZ Greenhouse gas reporting: conversion factors 2024, UK electricity "
        "(generation, scope 2)"),
    "gas_kgco2e_kwh": (
        0.18290, "kgCO2e/kWh",
        "DESNZ Greenhouse gas reporting: conversion factors 2024, natural gas (gross CV, "
        "scope 1)"),
    # --- business rates -------------------------------------------------------------
    "ubr_multiplier": (
        0.546, "£ per £ RV",
        "Standard non-domestic rating multiplier, England 2024/25 (54.6p)"),
    # --- library space standard ------------------------------------------------------
    "library_m2_per_1000_pop": (
        30.0, "m2 per 1,000 residents",
        "MLA (2008, rev. 2010) 'Public Libraries, Archives and New Development: a standard "
        "charge approach': 30 m2 of public library space per 1,000 population"),
    # --- council HQ size ----------------------------------------------------------------
    "council_hq_m2_per_1000_pop": (
        40.0, "m2 GIA per 1,000 residents", "Assumption (town hall/civic centre GIA)"),
    # --- land and disposal ------------------------------------------------------------
    "land_value_gbp_ha": (
        1_500_000, "£/ha",
        "Assumption, order of the VOA/MHCLG 'Land value estimates for policy appraisal "
        "2019' residential values for Greater Manchester districts (typical site)"),
    "land_realisation": (
        0.6, "share",
        "Assumption: MHCLG notes market prices are 'substantially lower' than the "
        "policy-appraisal values (they exclude developer contributions)"),
    "land_imd_mult_decile1": (
        0.6, "x", "Assumption: land value multiplier in IMD decile 1 (linear to decile 10)"),
    "land_imd_mult_decile10": (
        1.5, "x", "Assumption: land value multiplier in IMD decile 10"),
    "disposal_fee_share": (
        0.02, "share of value", "Assumption: agents' and legal fees on sale"),
    "disposal_fixed_gbp": (
        15_000, "£", "Assumption: security, clearance and surveys before sale"),
    "dilapidations_gbp_m2": (
        50.0, "£/m2 GIA", "Assumption: dilapidations on handing back a leasehold"),
}

# CIBSE TM46:2008 'Energy benchmarks', typical values (electricity, fossil) kWh/m2/yr.
TM46: dict[str, tuple[float, float]] = {
    "general_office": (95, 120),       # category 1
    "cultural_activities": (70, 200),  # category 10 (libraries, museums)
    "clinic": (70, 200),               # category 19 (health centres, GP surgeries)
    "hospital": (90, 420),             # category 20 (hospital, clinical and research)
    "emergency_services": (70, 390),   # category 23 (fire, police, ambulance stations)
}

ERIC_COST_COLUMNS = (
    "Estates and property maintenance (£)",
    "Grounds and gardens maintenance (£)",
    "Other Hard FM (Estates) costs (£)",
    "Other Soft FM (Hotel Services) costs (£)",
    "Energy costs (all energy supplies) (£)",
    "Cleaning service cost (£)",
)
ERIC_ENERGY = "Energy costs (all energy supplies) (£)"
ERIC_BACKLOG_COLUMNS = (
    "Cost to eradicate high risk backlog (£)",
    "Cost to eradicate significant risk backlog (£)",
    "Cost to eradicate moderate risk backlog (£)",
    "Cost to eradicate low risk backlog (£)",
)
ERIC_GIA = "Gross internal floor area (m²)"
ERIC_LAND = "Land area owned (Hectares)"
ERIC_EMPTY = "Floor area - empty (%)"
ERIC_UNDER = "Floor area - under used (%)"
ERIC_COMMUNITY = "7. Community hospital (with inpatient beds)"
ERIC_ACUTE = "1. General acute hospital"
ERIC_MH = "4. Mental Health (including Specialist services)"

# Building kinds. Values marked ERIC are computed at run time from the ERIC 2016/17 site
# data (medians over sites that report costs, AGGREGATE SITE rows excluded).
# nia: net usable / GIA. gia_median & gia_sigma: lognormal size model (m2 GIA).
# rv_m2: rateable value £/m2 GIA. fm_m2: hard+soft FM, maintenance and cleaning £/m2 GIA.
# backlog_m2: £/m2 GIA. euv_m2: existing-use value £/m2 GIA (floor on market value).
# spare: share of capacity not used by today's occupiers (median; jittered per building).
# storeys/coverage: site area = GIA / storeys / coverage (when no footprint or ERIC land).
# rent_m2: £/m2 GIA for leaseholds. leasehold_p: share of sites held leasehold.
KINDS: dict[str, dict] = {
    "gp": {
        "nia": 0.70, "gia_median": 420, "gia_sigma": 0.45, "gia_min": 120, "gia_max": 2500,
        "health_centre_median": 900, "tm46": "clinic", "rv_m2": 55, "fm_m2": "ERIC", "backlog_m2": "ERIC",
        "eric_type": ERIC_COMMUNITY, "euv_m2": 1200, "spare": "ERIC", "storeys": 1.5, "coverage": 0.40,
        "rent_m2": 150, "leasehold_p": 0.5, "lease_end": (2027, 2049), "break_before": 10,
        "space_types": ("clinical", "office")},
    "library": {
        "nia": 0.80, "tm46": "cultural_activities", "rv_m2": 25, "fm_m2": 55, "backlog_m2": 120,
        "euv_m2": 400, "spare": 0.15, "storeys": 1.5, "coverage": 0.45, "rent_m2": 100, "leasehold_p": 0.0,
        "space_types": ("library", "public_counter", "community", "office")},
    "council_hq": {
        "nia": 0.80, "gia_sigma": 0.15, "tm46": "general_office", "rv_m2": 70, "fm_m2": 70,
        "backlog_m2": 150, "euv_m2": 800, "spare": 0.30, "storeys": 4.0, "coverage": 0.60, "rent_m2": 150,
        "leasehold_p": 0.0, "space_types": ("office", "public_counter", "community", "library")},
    "jobcentre": {
        "nia": 0.80, "gia_median": 1100, "gia_sigma": 0.30, "gia_min": 400, "gia_max": 3000,
        "tm46": "general_office", "rv_m2": 70, "fm_m2": 60, "backlog_m2": 20, "euv_m2": 700, "spare": 0.20,
        "storeys": 2.0, "coverage": 0.60, "rent_m2": 120, "leasehold_p": 0.9, "lease_end": (2026, 2040),
        "break_before": 5, "space_types": ("public_counter", "office")},
    "fire": {
        "nia": 0.75, "storey_factor": 1.5, "tm46": "emergency_services", "rv_m2": 25, "fm_m2": 60,
        "backlog_m2": 100, "euv_m2": 350, "spare": 0.10, "rent_m2": 0, "leasehold_p": 0.0,
        "space_types": ("operational", "office", "community")},
    "hospital": {
        "nia": 0.65, "storey_factor": 2.0, "tm46": "hospital", "rv_m2": 30, "fm_m2": "ERIC",
        "backlog_m2": "ERIC", "euv_m2": 600, "spare": "ERIC", "rent_m2": 0, "leasehold_p": 0.0,
        "space_types": ("clinical", "office")},
    "police": {
        "nia": 0.75, "gia_median": 1400, "gia_sigma": 0.30, "gia_min": 100, "gia_max": 8000,
        "tm46": "emergency_services", "rv_m2": 35, "fm_m2": 65, "backlog_m2": 120, "euv_m2": 700,
        "spare": 0.20, "storeys": 2.0, "coverage": 0.35, "rent_m2": 130, "leasehold_p": 0.1,
        "lease_end": (2027, 2040), "break_before": 5, "space_types": ("office", "public_counter")},
}
POLICE_GIA = {"post": 150, "divisional_hq": 4500, "training": 3000}  # Assumption, m2 GIA
ERIC_MIN_SHARE_OF_MEDIAN = 0.5  # own ERIC £/m2 below this share of the type median -> median
ACUTE_PROTECT_MIN_GIA = 10_000  # ERIC acute/specialist/mixed holdings this large are protected
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
    "gia_m2": 1, "rent_gbp": 1, "rates_gbp": 1, "energy_gbp": 1, "fm_gbp": 1,
    "backlog_gbp": 1, "market_value_gbp": 1000, "site_area_ha": 0.001, "carbon_tco2e": 0.1,
}

# Occupier space shares (of the used space) and presence probabilities. Assumptions.
SHARES = {
    "gp_with_ch": {"gp_practice": 0.75, "community_health": 0.25},
    "library_with_cs": {"library": 0.85, "customer_service": 0.15},
    "council_hq": {"council_office": 0.85, "customer_service": 0.15},
    "fire_with_room": {"fire_response": 0.90, "fire_prevention": 0.10},
    "acute": {"hospital_acute": 0.88, "nhs_admin": 0.12},
    "mental_health": {"mental_health_inpatient": 0.85, "nhs_admin": 0.15},
    "community_hospital": {"community_health": 0.85, "nhs_admin": 0.15},
    "police_station": {"police_neighbourhood": 0.85, "police_front_counter": 0.15},
    "police_post": {"police_front_counter": 0.60, "police_neighbourhood": 0.40},
    "police_hq": {"police_neighbourhood": 0.90, "police_front_counter": 0.10},
    "fire_with_police": {"fire_response": 0.80, "police_neighbourhood": 0.20},
}
P_COMMUNITY_HEALTH_SHARED_SITE = 0.45  # GP holding at a location with >= 2 practices
P_COMMUNITY_HEALTH_SINGLE = 0.15
P_CUSTOMER_SERVICE_BRANCH = 0.15  # council-run branch library also hosts a council counter
P_FIRE_COMMUNITY_ROOM = 0.5

# service -> (space_type, public_facing, movable, splittable, label)
SERVICES: dict[str, tuple[str, bool, bool, bool, str]] = {
    "gp_practice": ("clinical", True, True, False, "GP practice"),
    "community_health": ("clinical", True, True, False, "community health clinic"),
    "library": ("library", True, True, False, "library"),
    "customer_service": ("public_counter", True, True, False, "council customer service"),
    "council_office": ("office", False, True, True, "council office teams"),
    "jobcentre": ("public_counter", True, True, False, "Jobcentre Plus"),
    "fire_response": ("operational", False, False, False, "fire response"),
    "fire_prevention": ("community", False, True, False, "fire prevention / community room"),
    "hospital_acute": ("clinical", False, False, False, "acute hospital services"),
    "mental_health_inpatient": ("clinical", False, False, False, "mental health inpatient"),
    "nhs_admin": ("office", False, True, True, "NHS office teams"),
    "police_neighbourhood": ("office", False, True, False, "neighbourhood policing team"),
    "police_front_counter": ("public_counter", True, True, False, "police front counter"),
    "police_training": ("office", False, True, True, "police training"),
}
SERVICE_CODE = {
    "gp_practice": "GP", "community_health": "CH", "library": "LIB",
    "customer_service": "CS", "council_office": "CO", "jobcentre": "JCP",
    "fire_response": "FR", "fire_prevention": "FP", "hospital_acute": "ACUTE",
    "mental_health_inpatient": "MHI", "nhs_admin": "ADMIN", "police_neighbourhood": "PN",
    "police_front_counter": "PFC", "police_training": "PTR",
}

# Access standards (reach is road km = straight line x detour factor). See data/README.md.
ACCESS = (
    ("gp_practice", 2.0), ("library", 3.0), ("customer_service", 5.0), ("jobcentre", 5.0),
    ("community_health", 5.0), ("police_front_counter", 5.0),
)
PROTECT_DEPRIVED_DECILES = 2

# "service may move into a building whose current occupiers include host_service".
# Same-service pairs are added for every service.
COMPATIBILITY = {
    "police_neighbourhood": ("fire_response", "council_office", "customer_service",
                             "police_front_counter", "police_training"),
    "police_front_counter": ("library", "council_office", "customer_service",
                             "police_neighbourhood"),
    "police_training": ("police_neighbourhood", "fire_response"),
    "jobcentre": ("library", "council_office", "customer_service"),
    "customer_service": ("library", "council_office", "jobcentre"),
    "community_health": ("gp_practice", "hospital_acute", "mental_health_inpatient",
                         "nhs_admin"),
    "gp_practice": ("community_health", "hospital_acute"),
    "council_office": ("customer_service", "library"),
    "library": ("council_office", "customer_service"),
    "nhs_admin": ("hospital_acute", "mental_health_inpatient", "community_health",
                  "gp_practice", "council_office"),
    "fire_prevention": ("fire_response", "library", "council_office", "customer_service"),
}

# ======================================================================================
# 2. SOURCE-SPECIFIC DECISIONS (which rows are public estate, names, owners, codes)
# ======================================================================================

COUNCIL_NAME = {
    "Bolton": "Bolton Council", "Bury": "Bury Council", "Manchester": "Manchester City Council",
    "Oldham": "Oldham Council", "Rochdale": "Rochdale Borough Council",
    "Salford": "Salford City Council", "Stockport": "Stockport Council",
    "Tameside": "Tameside Council", "Trafford": "Trafford Council", "Wigan": "Wigan Council",
}
GP_OWNER = "NHS Greater Manchester ICB"
COMMUNITY_HEALTH_PARTNER = "NHS community health services"
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
    "BMI The Alexandra Hospital", "BMI The Highfield Hospital", "Beaumont Hospital",
    "Breightmet Centre For Autism", "Bridgewater Hospital", "Cygnet Hospital",
    "Priory Hospital Altrincham", "Priory Hospital Cheadle Royal", "Spire Manchester Hopsital",
    "Spire Manchester Hospital", "The Oaklands Hospital", "The Priory Highbank Centre",
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
HOSPITAL_UNMATCHED_OWNER = "NHS Property Services"

# Libraries: the borough's central library and other town-centre libraries (weights for
# sharing the borough's library space; these always host a council customer service point).
LIBRARY_CENTRAL = (
    "Bolton Central Library", "Bury Library", "Central library",
    "Oldham Library and Lifelong Learning Centre", "Rochdale Central Library",
    "Swinton Library", "Stockport Central Library", "Tameside Central Library", "Sale Library",
    "Wigan Library",
)
LIBRARY_TOWN = (
    "Altrincham Library", "Eccles Library", "Leigh Library", "Forum Library Wythenshawe",
    "City Library", "Middleton Library", "Heywood Library", "Hyde Library",
    "Stretford Library", "Farnworth Library", "Horwich Library", "Radcliffe Library",
    "Prestwich Library and Adult Learning Centre", "Ashton Library",
    "Chadderton Library and Wellbeing Centre",
)
LIBRARY_WEIGHT = {"central": 8.0, "town": 2.5, "branch": 1.0, "community": 0.5, "minimal": 0.2}

# ======================================================================================
# helpers
# ======================================================================================

SERVICE_ORDER = list(SERVICES)


def bm(key: str) -> float:
    """Value of a benchmark constant."""
    return BENCHMARKS[key][0]


def rng_for(building_id: str, salt: str = "") -> np.random.Generator:
    """Generator seeded by SEED and the building ID (order-independent, reproducible)."""
    digest = hashlib.sha256(f"{building_id}|{salt}".encode()).hexdigest()
    return np.random.default_rng([SEED, int(digest[:15], 16)])


def lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return float(median * np.exp(sigma * rng.standard_normal()))


def tidy(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def say(msg: str) -> None:
    print(msg, flush=True)


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
        dtype={"LSOA21CD": str, "LADCD_ACTIVE": str})
    return lsoa, lad_name, demand


def build_zones(demand: pd.DataFrame, lad_name: dict[str, str]) -> gpd.GeoDataFrame:
    z = pd.DataFrame({
        "zone_id": demand["LSOA21CD"],
        "name": demand["LSOA21NM"],
        "borough": demand["LADCD_ACTIVE"].map(lad_name),
        "population": demand["pop_census2021"].round().astype("int64"),
        "imd_decile": demand["imd19_decile"].astype("int64"),
    })
    geom = gpd.points_from_xy(demand["pwc_easting"].round(2), demand["pwc_northing"].round(2))
    zones = gpd.GeoDataFrame(z, geometry=geom, crs=schema.CRS)
    zones = zones.sort_values("zone_id", kind="stable").reset_index(drop=True)
    assert list(zones.columns[:-1]) == [c.name for c in schema.ZONE_COLUMNS]
    return zones


def locate(sites: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Borough and LSOA by point-in-polygon; drop (and report) points outside GM."""
    joined = gpd.sjoin(sites, lsoa[["LSOA21CD", "borough", "geometry"]], how="left",
                       predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns="index_right")
    outside = joined["borough"].isna()
    if outside.any():
        say(f"  {label}: dropped {int(outside.sum())} point(s) outside Greater Manchester: "
            + "; ".join(joined.loc[outside, "name"].astype(str).tolist()))
    else:
        say(f"  {label}: 0 points outside Greater Manchester")
    return joined[~outside].copy()


def points_lonlat(df: pd.DataFrame, lon: str = "lon", lat: str = "lat") -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs=schema.CRS_LONLAT)
    return g.to_crs(schema.CRS)


# ======================================================================================
# 4. SOURCES -> sites (real attributes only)
# ======================================================================================


def gp_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    path = shared / "trafford_datalab_gm" / "general_practice" / "gm_general_practices.csv"
    raw = pd.read_csv(path, dtype=str)
    raw["lon"] = raw["lon"].astype(float)
    raw["lat"] = raw["lat"].astype(float)
    raw["name"] = raw["name"].map(tidy)
    n0 = len(raw)
    dedup = raw.drop_duplicates(["name", "postcode"], keep="first")
    say(f"  GP file: {n0} rows, {n0 - len(dedup)} duplicate name+postcode rows removed")
    private = dedup["name"].str.contains(GP_EXCLUDE_PRIVATE, case=False, regex=True)
    onsite = dedup["name"].str.contains(GP_EXCLUDE_ON_HOSPITAL_SITE, case=False, regex=True)
    say(f"  GP file: {int(private.sum())} private/cosmetic/online providers dropped (not public "
        f"estate); {int(onsite.sum())} services inside hospital sites dropped")
    keep = dedup[~private & ~onsite].copy()
    shared_loc = keep.groupby(["lon", "lat"])["name"].transform("size")
    keep["n_at_location"] = shared_loc
    g = locate(points_lonlat(keep), lsoa, "GP")
    g = g.sort_values(["name", "postcode"], kind="stable").reset_index(drop=True)
    g["building_id"] = [f"GP_{i:04d}" for i in range(1, len(g) + 1)]
    g["kind"] = "gp"
    g["owner"] = GP_OWNER
    g["owner_type"] = "nhs"
    g["health_centre"] = g["name"].str.contains(GP_HEALTH_CENTRE, case=False, regex=True)
    g["data_source"] = "Trafford Data Lab GM GP practices (NHS, 2018)"
    g["display_name"] = g["name"] + " (" + g["postcode"] + ")"
    return g


def library_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / "trafford_datalab_gm" / "libraries" / "gm_libraries.csv", dtype=str)
    raw["lon"] = raw["lon"].astype(float)
    raw["lat"] = raw["lat"].astype(float)
    raw["name"] = raw["name"].map(tidy)
    g = locate(points_lonlat(raw), lsoa, "libraries")
    g = g.sort_values(["name", "postcode"], kind="stable").reset_index(drop=True)
    g["building_id"] = [f"LIB_{i:04d}" for i in range(1, len(g) + 1)]

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
    g["kind"] = "library"
    g["owner"] = g["borough"].map(COUNCIL_NAME)
    g["owner_type"] = "council"
    g["data_source"] = "Trafford Data Lab GM libraries (2018; Trafford 2023)"
    g["display_name"] = g["name"]
    return g


def jobcentre_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / "trafford_datalab_gm" / "jobcentre_plus" / "gm_jobcentreplus.csv",
                      dtype=str)
    raw["lon"] = raw["lon"].astype(float)
    raw["lat"] = raw["lat"].astype(float)
    raw["name"] = raw["name"].map(tidy)
    g = locate(points_lonlat(raw), lsoa, "jobcentres")
    g = g.sort_values(["name", "postcode"], kind="stable").reset_index(drop=True)
    g["building_id"] = [f"JCP_{i:04d}" for i in range(1, len(g) + 1)]
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
        ho, geometry=gpd.points_from_xy(ho["STATION_EASTING"].astype(float),
                                        ho["STATION_NORTHING"].astype(float)), crs=schema.CRS)
    near = gpd.sjoin_nearest(sites, ho_g[["STATION_NAME", "STATION_ADDRESS", "STATION_POSTCODE",
                                          "geometry"]], how="left", distance_col="match_m")
    near = near[~near.index.duplicated(keep="first")]
    unmatched = near["match_m"] > FIRE_NAME_MATCH_M
    for _, r in near[unmatched].iterrows():
        lonlat = gpd.GeoSeries([r.geometry], crs=schema.CRS).to_crs(schema.CRS_LONLAT).iloc[0]
        say(f"  fire: dropped a footprint group at ({lonlat.x:.4f}, {lonlat.y:.4f}), "
            f"{r['footprint_m2']:.0f} m2, nearest Home Office GMFRS station {r['match_m']:.0f} m "
            "away: not a GMFRS station (Manchester Airport fire service)")
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
    g["data_source"] = ("OS OpenMap Local fire station footprints (Trafford Data Lab); name: "
                        "Home Office fire stations register")
    g["display_name"] = g["name"]
    return g


def hospital_sites(shared: Path, lsoa: gpd.GeoDataFrame, eric: pd.DataFrame) -> gpd.GeoDataFrame:
    fp = gpd.read_file(shared / "trafford_datalab_gm" / "hospitals" / "gm_hospitals.geojson")
    fp = fp.to_crs(schema.CRS).sort_values("ID", kind="stable").reset_index(drop=True)
    indep = fp["DISTNAME"].isin(HOSPITAL_INDEPENDENT)
    say(f"  hospitals: {len(fp)} OS footprints; {int(indep.sum())} footprints of "
        f"{fp.loc[indep, 'DISTNAME'].nunique()} independent-sector hospitals dropped (not public estate)")
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
            rows.append({**site, "site_name": distname, "eric_code": None, "gia_share": 1.0,
                         "hosp_buildings": by_holding[None], "shared_site": False})
        for code in codes:
            rows.append({**site, "site_name": distname, "eric_code": code,
                         "gia_share": shares[code], "hosp_buildings": by_holding[code],
                         "shared_site": on_shared_site})
    say(f"  hospitals: {n_fp} NHS footprints form {n_bld} physical buildings (footprints within "
        f"{HOSPITAL_BUILDING_LINK_M} m merged; groups under {HOSPITAL_TINY_M2} m2 joined to the "
        "nearest building)")
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
            owners.append((r.name, _trust_name(e["Organisation Name"])))
            types.append((r.name, e["Site Type"]))
            sources.append((r.name, "OS OpenMap Local hospital footprints (Trafford Data Lab); "
                            f"GIA, land, costs: NHS Digital ERIC 2016/17 site {code}"))
    for col, pairs in (("building_id", ids), ("display_name", names), ("owner", owners),
                       ("eric_type", types), ("data_source", sources)):
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
        groups.append({"geom": shapely.union_all(part),
                       "footprint_m2": float(shapely.area(part).sum()),
                       "n_footprints": len(part)})
    groups.sort(key=_building_order)
    keep = [i for i, g in enumerate(groups) if g["footprint_m2"] >= HOSPITAL_TINY_M2] or [0]
    big = [groups[i] for i in keep]
    tiny = [g for i, g in enumerate(groups) if i not in keep]
    for g in tiny:  # nearest to the building as it was before any tiny group joined
        near = min(range(len(big)),
                   key=lambda i: (shapely.distance(groups[keep[i]]["geom"], g["geom"]), i))
        b = big[near]
        big[near] = {"geom": shapely.union(b["geom"], g["geom"]),
                     "footprint_m2": b["footprint_m2"] + g["footprint_m2"],
                     "n_footprints": b["n_footprints"] + g["n_footprints"]}
    return sorted(big, key=_building_order)


def _assign_to_holdings(blds: list[dict], codes: tuple[str, ...],
                        shares: dict[str, float]) -> dict[str | None, list[dict]]:
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


def _trust_name(org: str) -> str:
    small = {"NHS", "and", "of"}
    words = []
    for w in tidy(org).split(" "):
        if w.upper() in ("NHS",):
            words.append("NHS")
        elif w.lower() in small:
            words.append(w.lower())
        else:
            words.append(w.capitalize())
    return " ".join(words)


def _hospital_holding_name(site: str, e: pd.Series, primary: bool) -> str:
    """Site name; a second NHS holding on the same site is named after its trust."""
    if primary:
        return site
    return f"{site} - {_trust_name(e['Organisation Name'])} unit"


def council_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / "council_hq_calebp94" / "UK-Councils.geojson").to_crs(schema.CRS)
    raw["name"] = raw["name"].map(tidy)
    inside = gpd.sjoin(raw, lsoa[["LSOA21CD", "borough", "geometry"]], how="inner",
                       predicate="within").drop(columns="index_right")
    g = inside.copy()
    missing = sorted(set(COUNCIL_NAME) - set(g["borough"]))
    say(f"  council HQs: {len(g)} of the {len(COUNCIL_NAME)} GM borough councils are in the source"
        + (f"; missing: {', '.join(missing)}" if missing else "")
        + "; no GMCA entry")

    def place(r: pd.Series) -> str:
        for c in ("address 1", "Address 2", "Address 3"):
            v = tidy(r.get(c) or "")
            if v and not v.upper().startswith("P O BOX") and v.lower() != "none":
                return v
        return "Council offices"

    g["display_name"] = g["borough"] + " " + g.apply(place, axis=1)
    lad = lsoa.drop_duplicates("borough").set_index("borough")["LADCD_ACTIVE"]
    g["building_id"] = "COUNCIL_" + g["borough"].map(lad)
    g = g.sort_values("building_id", kind="stable").reset_index(drop=True)
    g["kind"] = "council_hq"
    g["owner"] = g["borough"].map(COUNCIL_NAME)
    g["owner_type"] = "council"
    g["data_source"] = "UK council HQ list (CalebP94/leaflet-oates-live, pre-2019)"
    return g


def police_sites(shared: Path, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / "police_hospitals_streetsafe" / "police_stations_converted.csv",
                      dtype=str)
    raw["lon"] = raw["longitude"].astype(float)
    raw["lat"] = raw["latitude"].astype(float)
    raw["name"] = raw["name"].map(tidy)
    pts = points_lonlat(raw)
    inside = gpd.sjoin(pts, lsoa[["LSOA21CD", "borough", "geometry"]], how="inner",
                       predicate="within").drop(columns="index_right")
    say(f"  police: {len(raw)} stations in the (England, incomplete) file, {len(inside)} inside "
        "Greater Manchester")
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
    g["data_source"] = ("OpenStreetMap-derived (ODbL), weak provenance "
                        "(cb671/streetsafe-server police_stations_converted.csv)")
    g["display_name"] = g["name"]
    return g


# ======================================================================================
# 5. ERIC calibration
# ======================================================================================


def load_eric(shared: Path) -> pd.DataFrame:
    e = pd.read_csv(shared / "derived" / "eric_2016_17_site_key_columns.csv", dtype=str)
    e = e[e["Site Type"] != "Aggregate Site"].copy()
    num = [*ERIC_COST_COLUMNS, *ERIC_BACKLOG_COLUMNS, ERIC_GIA, ERIC_LAND, ERIC_EMPTY, ERIC_UNDER]
    for c in num:
        e[c] = pd.to_numeric(e[c].str.replace(",", "", regex=False), errors="coerce")
    e = e[e[ERIC_GIA] > 0].copy()
    e["cost_total"] = e[list(ERIC_COST_COLUMNS)].sum(axis=1)
    e["backlog_total"] = e[list(ERIC_BACKLOG_COLUMNS)].sum(axis=1)
    e["spare_pct"] = e[ERIC_EMPTY].fillna(0) + e[ERIC_UNDER].fillna(0)
    return e


def eric_benchmarks(e: pd.DataFrame) -> pd.DataFrame:
    """Per site type: medians of £/m2 over sites reporting costs; GIA-weighted spare %."""
    rep = e[e["cost_total"] > 0]
    out = pd.DataFrame({
        "sites": rep.groupby("Site Type").size(),
        "running_gbp_m2": rep.groupby("Site Type").apply(
            lambda d: float((d["cost_total"] / d[ERIC_GIA]).median())),
        "energy_gbp_m2": rep.groupby("Site Type").apply(
            lambda d: float((d[ERIC_ENERGY] / d[ERIC_GIA]).median())),
        "backlog_gbp_m2": rep.groupby("Site Type").apply(
            lambda d: float((d["backlog_total"] / d[ERIC_GIA]).median())),
        "spare_pct_gia_weighted": e.groupby("Site Type").apply(
            lambda d: float((d["spare_pct"] * d[ERIC_GIA]).sum() / d[ERIC_GIA].sum())),
    })
    return out


# ======================================================================================
# 6. MODEL: building figures
# ======================================================================================


def _eric_costs_usable(e: pd.Series, eric_bm: pd.DataFrame) -> bool:
    """A site's own ERIC costs are used unless missing or below ERIC_MIN_SHARE_OF_MEDIAN
    of its type's median (e.g. PFI sites, whose FM sits inside the unitary charge)."""
    per_m2 = float(e["cost_total"]) / float(e[ERIC_GIA])
    return per_m2 >= ERIC_MIN_SHARE_OF_MEDIAN * float(eric_bm.loc[e["Site Type"], "running_gbp_m2"])


def _imd_multiplier(decile: float) -> float:
    lo, hi = bm("land_imd_mult_decile1"), bm("land_imd_mult_decile10")
    return lo + (hi - lo) * (float(decile) - 1) / 9


def model_buildings(sites: pd.DataFrame, eric: pd.DataFrame, eric_bm: pd.DataFrame,
                    imd: dict[str, int], borough_pop: dict[str, int]) -> pd.DataFrame:
    uplift = bm("price_uplift_eric")
    eric_by_code = eric.set_index("Site Code")
    # library space per borough, shared by tier weight
    lib = sites[sites["kind"] == "library"]
    lib_weight = lib["tier"].map(LIBRARY_WEIGHT)
    lib_total = lib_weight.groupby(lib["borough"]).transform("sum")
    lib_gia = (lib["borough"].map(borough_pop) / 1000 * bm("library_m2_per_1000_pop")
               * lib_weight / lib_total)
    lib_gia = dict(zip(lib["building_id"], lib_gia, strict=True))

    low = [c for c in sites["eric_code"].dropna() if not _eric_costs_usable(eric_by_code.loc[c], eric_bm)]
    say(f"  ERIC holdings whose own costs are below {ERIC_MIN_SHARE_OF_MEDIAN:.0%} of their type "
        f"median (type median used instead): {', '.join(low) or 'none'}")
    out = []
    for _, s in sites.iterrows():
        bid = s["building_id"]
        k = KINDS[s["kind"]]
        rng = rng_for(bid, "building")
        modelled: list[str] = []
        e = eric_by_code.loc[s["eric_code"]] if isinstance(s.get("eric_code"), str) else None
        etype = s.get("eric_type") if isinstance(s.get("eric_type"), str) else None

        # --- size -------------------------------------------------------------------
        if e is not None:
            gia = float(e[ERIC_GIA])
        elif s["kind"] in ("fire", "hospital"):
            gia = s["footprint_m2"] * k["storey_factor"]
            modelled.append("gia_m2")
        elif s["kind"] == "library":
            gia = lib_gia[bid]
            modelled.append("gia_m2")
        elif s["kind"] == "council_hq":
            med = borough_pop[s["borough"]] / 1000 * bm("council_hq_m2_per_1000_pop")
            gia = lognormal(rng, med, k["gia_sigma"])
            modelled.append("gia_m2")
        elif s["kind"] == "police" and s["police_type"] in POLICE_GIA:
            gia = POLICE_GIA[s["police_type"]] * float(np.exp(0.15 * rng.standard_normal()))
            modelled.append("gia_m2")
        else:
            med = k["health_centre_median"] if (s["kind"] == "gp" and s["health_centre"]) \
                else k["gia_median"]
            gia = float(np.clip(lognormal(rng, med, k["gia_sigma"]), k["gia_min"], k["gia_max"]))
            modelled.append("gia_m2")
        gia = float(round(gia))
        capacity = float(np.floor(gia * k["nia"]))
        modelled.append("capacity_m2")

        # --- tenure -------------------------------------------------------------------
        tenure, lease_end, brk = "freehold", None, None
        if k["leasehold_p"] > 0 and rng.random() < k["leasehold_p"]:
            tenure = "leasehold"
            lo, hi = k["lease_end"]
            lease_end = int(rng.integers(lo, hi + 1))
            b = lease_end - k["break_before"]
            brk = b if b > BASE_YEAR else None
            modelled += ["lease_end_year"] + (["break_year"] if brk else [])
        modelled.append("tenure")  # no source states tenure; all tenures are assumptions

        # --- site area ----------------------------------------------------------------
        if tenure == "leasehold":
            site_ha = 0.0  # leased floorspace: the partner holds no land to release
            modelled.append("site_area_ha")
        elif e is not None and e[ERIC_LAND] >= 0.1 and e[ERIC_LAND] * 10_000 >= gia / 6:
            site_ha = float(e[ERIC_LAND])
        elif "hull_ha" in s and pd.notna(s.get("hull_ha")):
            share = s.get("gia_share")
            site_ha = float(s["hull_ha"]) * (float(share) if pd.notna(share) else 1.0)
            modelled.append("site_area_ha")
        else:
            site_ha = gia / k["storeys"] / k["coverage"] / 10_000
            modelled.append("site_area_ha")
        site_ha = round(site_ha, 3)

        # --- running costs -------------------------------------------------------------
        elec, fossil = TM46[k["tm46"] if not (s["kind"] == "hospital" and e is None) else "clinic"]
        rent = gia * k["rent_m2"] if tenure == "leasehold" else 0.0
        rates = gia * k["rv_m2"] * bm("ubr_multiplier")
        if e is not None and _eric_costs_usable(e, eric_bm):
            energy = float(e[ERIC_ENERGY]) * uplift
            fm = (float(e["cost_total"]) - float(e[ERIC_ENERGY])) * uplift
        elif k["fm_m2"] == "ERIC":
            row = eric_bm.loc[etype or k.get("eric_type", ERIC_COMMUNITY)]
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
            backlog = gia * eric_bm.loc[etype or k.get("eric_type", ERIC_COMMUNITY),
                                        "backlog_gbp_m2"] * uplift
            backlog *= float(np.exp(0.5 * rng.standard_normal()))
        else:
            backlog = gia * k["backlog_m2"] * float(np.exp(0.5 * rng.standard_normal()))
        backlog = float(round(backlog))
        modelled.append("backlog_gbp")

        # --- value and disposal -------------------------------------------------------------
        decile = imd.get(s["LSOA21CD"], 5)
        if tenure == "leasehold":
            value = 0.0
            disposal = gia * bm("dilapidations_gbp_m2")
        else:
            land = site_ha * bm("land_value_gbp_ha") * _imd_multiplier(decile) * bm("land_realisation")
            euv = gia * k["euv_m2"]
            value = max(land, euv)
            disposal = value * bm("disposal_fee_share") + bm("disposal_fixed_gbp")
        value, disposal = float(round(value, -3)), float(round(disposal, -2))
        modelled += ["market_value_gbp", "disposal_cost_gbp"]

        # --- carbon (TM46 kWh/m2 x DESNZ factors) -----------------------------------------
        carbon = gia * (elec * bm("elec_kgco2e_kwh") + fossil * bm("gas_kgco2e_kwh")) / 1000
        carbon = round(carbon, 1)
        modelled.append("carbon_tco2e")

        # --- protection -----------------------------------------------------------------------
        protected, reason = False, ""
        if s["kind"] == "fire":
            protected, reason = True, "operational fire station"
        elif s["kind"] == "hospital" and etype and etype.startswith(("1.", "2.", "3.")) \
                and gia >= ACUTE_PROTECT_MIN_GIA:
            protected, reason = True, "acute hospital"

        # --- spare share (used later for occupiers) -------------------------------------------
        if e is not None:
            spare = float(e["spare_pct"]) / 100
        elif k["spare"] == "ERIC":
            spare = eric_bm.loc[etype or k.get("eric_type", ERIC_COMMUNITY),
                                "spare_pct_gia_weighted"] / 100
            spare *= float(np.exp(0.5 * rng.standard_normal()))
        else:
            spare = k["spare"] * float(np.exp(0.5 * rng.standard_normal()))
        spare = float(np.clip(spare, 0.0, 0.6))

        out.append({
            "building_id": bid,
            "name": s["display_name"],
            "owner": s["owner"],
            "owner_type": s["owner_type"],
            "borough": s["borough"],
            "tenure": tenure,
            "lease_end_year": lease_end,
            "break_year": brk,
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
                [c.name for c in schema.BUILDING_COLUMNS if c.name in modelled]
                + (["owner"] if s["owner"] == HOSPITAL_UNMATCHED_OWNER else [])),
            "data_source": s["data_source"],
            "geometry": s["geometry"],
            # private helpers (not written)
            "_kind": s["kind"],
            "_spare": spare,
            "_site_idx": s.name,
            "_eric_type": etype,
        })
    return pd.DataFrame(out)


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
    (`_occupier_plan`): acute 88% / admin 12%, mental health 85 / 15, community 85 / 15, of
    the holding's used space. On a protected acute holding the acute service stays in the
    main (largest) block, up to its share; any acute space beyond the main block becomes
    movable outpatient and community clinics (`community_health`) in the other buildings.
    The office team (`nhs_admin`) fills the smallest buildings first; clinical services take
    the larger ones."""
    plan, _ = _occupier_plan(h, s)
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


def split_hospitals(modelled: pd.DataFrame, sites: pd.DataFrame,
                    lsoa: gpd.GeoDataFrame) -> pd.DataFrame:
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
            mod |= set(HOSPITAL_APPORTIONED) | {"capacity_m2", "running_cost_gbp",
                                                "disposal_cost_gbp"}
        owner_modelled = "owner" in mod or h["owner"] == HOSPITAL_UNMATCHED_OWNER or s["shared_site"]
        mod_text = sep.join([c.name for c in schema.BUILDING_COLUMNS
                             if c.name in mod and c.name != "owner"]
                            + (["owner"] if owner_modelled else []))
        source = h["data_source"] + ("; holding split into buildings by footprint area"
                                     if n > 1 else "")
        rows = []
        for i, b in enumerate(blds):
            gia = parts["gia_m2"][i]
            value = parts["market_value_gbp"][i]
            rent, rates, energy, fm = (parts[c][i] for c in ("rent_gbp", "rates_gbp",
                                                              "energy_gbp", "fm_gbp"))
            main = i == 0
            rows.append({
                **row,
                "building_id": f"{h['building_id']}_B{i + 1:02d}",
                "name": h["name"] if n == 1 else f"{h['name']} – building {i + 1}",
                "gia_m2": gia,
                "capacity_m2": float(np.floor(gia * k["nia"])),
                "running_cost_gbp": rent + rates + energy + fm,
                "rent_gbp": rent, "rates_gbp": rates, "energy_gbp": energy, "fm_gbp": fm,
                "backlog_gbp": parts["backlog_gbp"][i],
                "market_value_gbp": value,
                "disposal_cost_gbp": float(round(value * bm("disposal_fee_share")
                                                 + bm("disposal_fixed_gbp"), -2)),
                "site_area_ha": parts["site_area_ha"][i],
                "carbon_tco2e": parts["carbon_tco2e"][i],
                "protected": bool(h["protected"]) and main,
                "protected_reason": h["protected_reason"] if main else "",
                "modelled": mod_text,
                "data_source": source,
                "geometry": shapely.centroid(b["geom"]),
                "site_id": h["building_id"],
                "site_name": h["name"],
            })
        used = [r["capacity_m2"] * (1 - h["_spare"]) for r in rows]
        _, presence = _occupier_plan(h, s)
        if n > 1 and h["protected"]:
            presence = presence | {"community_health"}  # acute space beyond the main block
        for r, alloc in zip(rows, _hospital_occupier_split(h, s, used), strict=True):
            r["_occ"] = {"alloc": alloc, "modelled": {
                svc: (["service"] if svc in presence else [])
                + (["building_id"] if n > 1 else []) + ["space_m2"] for svc in alloc}}
        out.extend(rows)
    df = pd.DataFrame(out)
    # borough of each hospital building from its own location (a site could straddle a border)
    hosp = df["site_id"].notna()
    pts = gpd.GeoDataFrame({"name": df.loc[hosp, "name"]}, geometry=df.loc[hosp, "geometry"].to_list(),
                           crs=schema.CRS, index=df.index[hosp])
    located = locate(pts, lsoa, "hospital buildings")
    moved = located["borough"] != df.loc[located.index, "borough"]
    if len(located) != int(hosp.sum()) or moved.any():
        msg = ("hospital buildings outside GM or in another borough than their site: "
               f"{df.loc[located.index[moved], 'building_id'].tolist()}")
        raise SystemExit(msg)
    per_site = df[hosp].groupby("site_id").size()
    say(f"  hospitals: {int(per_site.size)} holdings -> {int(hosp.sum())} buildings "
        f"(per holding min {per_site.min()}, median {per_site.median():g}, max {per_site.max()})")
    return df.reset_index(drop=True)


# ======================================================================================
# 7. MODEL: occupiers
# ======================================================================================


def _occupier_plan(b: pd.Series, s: pd.Series) -> tuple[dict[str, float], set[str]]:
    """Service -> share of used space, and the services whose presence is modelled."""
    rng = rng_for(b["building_id"], "occupiers")
    kind = b["_kind"]
    if kind == "gp":
        p = P_COMMUNITY_HEALTH_SHARED_SITE if s["n_at_location"] >= 2 else P_COMMUNITY_HEALTH_SINGLE
        if rng.random() < p:
            return SHARES["gp_with_ch"], {"community_health"}
        return {"gp_practice": 1.0}, set()
    if kind == "library":
        tier = s["tier"]
        if tier in ("central", "town") or (tier == "branch" and s["type"] == "Local authority run library"
                                           and rng.random() < P_CUSTOMER_SERVICE_BRANCH):
            return SHARES["library_with_cs"], {"customer_service"}
        return {"library": 1.0}, set()
    if kind == "council_hq":
        return SHARES["council_hq"], set()
    if kind == "jobcentre":
        return {"jobcentre": 1.0}, set()
    if kind == "fire":
        if s["with_police"]:
            return SHARES["fire_with_police"], set()
        if s["community_station"] or rng.random() < P_FIRE_COMMUNITY_ROOM:
            return SHARES["fire_with_room"], {"fire_prevention"}
        return {"fire_response": 1.0}, set()
    if kind == "hospital":
        et = b["_eric_type"] if isinstance(b["_eric_type"], str) else ""
        if b["protected"]:
            return SHARES["acute"], {"nhs_admin"}
        if et.startswith(("4.", "5.", "6.")):
            return SHARES["mental_health"], {"nhs_admin"}
        return SHARES["community_hospital"], {"nhs_admin"}
    if kind == "police":
        pt = s["police_type"]
        if pt == "training":
            return {"police_training": 1.0}, set()
        if pt == "post":
            return SHARES["police_post"], {"police_neighbourhood"}
        if pt == "divisional_hq":
            return SHARES["police_hq"], {"police_front_counter"}
        return SHARES["police_station"], {"police_front_counter"}
    raise ValueError(kind)


def build_occupiers(buildings: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, b in buildings.iterrows():
        occ = b.get("_occ")
        if isinstance(occ, dict):  # hospital building: space per service set by split_hospitals
            plan, used, occ_modelled = occ["alloc"], 1.0, occ["modelled"]
        else:
            plan, modelled_presence = _occupier_plan(b, sites.loc[b["_site_idx"]])
            used = b["capacity_m2"] * (1 - b["_spare"])
            occ_modelled = {svc: (["service"] if svc in modelled_presence else []) + ["space_m2"]
                            for svc in plan}
        for service in SERVICE_ORDER:
            if service not in plan:
                continue
            space_type, public, movable, splittable, label = SERVICES[service]
            partner = b["owner"]
            if service == "community_health" and b["_kind"] == "gp":
                partner = COMMUNITY_HEALTH_PARTNER
            if service.startswith("police_") and b["_kind"] == "fire":
                partner = POLICE_OWNER
            space = float(np.floor(used * plan[service]))
            rows.append({
                "occupier_id": f"{b['building_id']}_{SERVICE_CODE[service]}",
                "name": f"{b['name']} - {label}",
                "partner": partner,
                "service": service,
                "building_id": b["building_id"],
                "space_m2": max(space, 1.0),
                "space_type": space_type,
                "public_facing": public,
                "movable": movable,
                "splittable": splittable,
                "max_move_km": np.nan,
                "modelled": schema.LIST_SEPARATOR.join(occ_modelled[service]),
            })
    occ = pd.DataFrame(rows)
    assert list(occ.columns) == [c.name for c in schema.OCCUPIER_COLUMNS]
    return occ


# ======================================================================================
# 8. access and compatibility tables
# ======================================================================================


def build_access() -> pd.DataFrame:
    rows = [{"service": s, "reach_km": km, "reach_min": np.nan, "rule": "keep_current",
             "min_share": np.nan, "max_mean_increase_km": np.nan,
             "protect_deprived_deciles": PROTECT_DEPRIVED_DECILES} for s, km in ACCESS]
    df = pd.DataFrame(rows)
    assert list(df.columns) == [c.name for c in schema.ACCESS_COLUMNS]
    return df


def build_compatibility() -> pd.DataFrame:
    pairs = {(s, s) for s in SERVICES}
    for s, hosts in COMPATIBILITY.items():
        pairs.update((s, h) for h in hosts)
    order = {s: i for i, s in enumerate(SERVICE_ORDER)}
    rows = sorted(pairs, key=lambda p: (order[p[0]], order[p[1]]))
    return pd.DataFrame(rows, columns=[c.name for c in schema.COMPATIBILITY_COLUMNS])


# ======================================================================================
# 9. write and check
# ======================================================================================

BUILDING_NAMES = [c.name for c in schema.BUILDING_COLUMNS]
# Extra building columns (passed through by the loader): for hospital buildings, the ID and
# name of the NHS holding (ERIC site, or OS site for the two unmatched ones) it belongs to.
BUILDING_EXTRA = ["site_id", "site_name"]


def finalise_buildings(b: pd.DataFrame) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(b[BUILDING_NAMES + BUILDING_EXTRA].copy(),
                         geometry=b["geometry"].to_list(), crs=schema.CRS)
    g["geometry"] = shapely.set_precision(g.geometry.values, 0.01)
    for c in ("lease_end_year", "break_year"):
        g[c] = pd.array([None if v is None or pd.isna(v) else int(v) for v in g[c]], dtype="Int64")
    g["protected"] = g["protected"].astype(bool)
    return g.sort_values("building_id", kind="stable").reset_index(drop=True)


def write_gpkg(path: Path, layers: dict[str, pd.DataFrame]) -> None:
    if path.exists():
        path.unlink()
    for name, df in layers.items():
        pyogrio.write_dataframe(df, path, layer=name, driver="GPKG")


def check(label: str, buildings: gpd.GeoDataFrame, occupiers: pd.DataFrame,
          zones: gpd.GeoDataFrame) -> None:
    pat = re.compile(rf"^{schema.ID_PATTERN}$")
    assert buildings["building_id"].map(lambda x: bool(pat.match(x))).all(), "bad building id"
    assert occupiers["occupier_id"].map(lambda x: bool(pat.match(x))).all(), "bad occupier id"
    assert buildings["building_id"].is_unique and occupiers["occupier_id"].is_unique
    assert occupiers["building_id"].isin(buildings["building_id"]).all()
    assert buildings["building_id"].isin(occupiers["building_id"]).all(), "building w/o occupier"
    used = occupiers.groupby("building_id")["space_m2"].sum()
    cap = buildings.set_index("building_id")["capacity_m2"]
    over = used[used > cap.reindex(used.index)]
    assert over.empty, f"over capacity: {over.to_dict()}"
    for t in occupiers["space_type"].unique():
        hosts = occupiers.loc[occupiers["space_type"] == t, "building_id"]
        offered = buildings.set_index("building_id").loc[hosts, "space_types"]
        offers = offered.str.split(schema.LIST_SEPARATOR).map(set)
        assert all(t in kinds for kinds in offers), f"space type {t} not offered"
    assert zones["zone_id"].is_unique
    say(f"  checks passed for {label}")


def summary(label: str, path: Path, b: gpd.GeoDataFrame, o: pd.DataFrame,
            z: gpd.GeoDataFrame) -> None:
    say(f"\n=== {label}: {path} ({path.stat().st_size / 1024:.0f} KB)")
    say(f"buildings: {len(b)}  " + ", ".join(
        f"{k} {v}" for k, v in b["owner_type"].value_counts().sort_index().items()))
    say(f"occupiers: {len(o)}  " + ", ".join(
        f"{k} {v}" for k, v in o["service"].value_counts().sort_index().items()))
    say(f"zones: {len(z)}  population: {int(z['population'].sum()):,}")
    used = o["space_m2"].sum()
    say(f"GIA {b['gia_m2'].sum():,.0f} m2; capacity {b['capacity_m2'].sum():,.0f} m2; "
        f"occupied {used:,.0f} m2 ({used / b['capacity_m2'].sum():.1%}); "
        f"running cost £{b['running_cost_gbp'].sum() / 1e6:,.1f}m/yr; "
        f"market value £{b['market_value_gbp'].sum() / 1e6:,.0f}m; "
        f"backlog £{b['backlog_gbp'].sum() / 1e6:,.0f}m; "
        f"carbon {b['carbon_tco2e'].sum():,.0f} tCO2e/yr; protected {int(b['protected'].sum())}")
    per_site = b.loc[b["site_id"].notna()].groupby("site_id").size()
    if len(per_site):
        say(f"hospital buildings: {int(per_site.sum())} on {per_site.size} NHS holdings "
            f"(per holding min {per_site.min()}, median {per_site.median():g}, max {per_site.max()})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO / ".." / "shared" / "data",
                    help="folder with the public source data (default ../shared/data)")
    ap.add_argument("--out", type=Path, default=REPO / "data", help="output folder (default data/)")
    args = ap.parse_args(argv)
    shared, out = args.shared.resolve(), args.out.resolve()
    if not (shared / "SOURCES.md").exists():
        msg = f"{shared} does not look like the shared data folder (no SOURCES.md)"
        raise SystemExit(msg)
    out.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00Z"})

    say("Reading sources")
    lsoa, lad_name, demand = load_geography(shared)
    zones = build_zones(demand, lad_name)
    imd = dict(zip(demand["LSOA21CD"], demand["imd19_decile"].astype(int), strict=True))
    borough_pop = zones.groupby("borough")["population"].sum().astype(int).to_dict()
    eric = load_eric(shared)
    eric_bm = eric_benchmarks(eric)
    say("ERIC 2016/17 benchmarks by site type (2016/17 prices, before uplift):")
    say(eric_bm.round(2).to_string())

    parts = [
        gp_sites(shared, lsoa), library_sites(shared, lsoa), jobcentre_sites(shared, lsoa),
        fire_sites(shared, lsoa), hospital_sites(shared, lsoa, eric), council_sites(shared, lsoa),
        police_sites(shared, lsoa),
    ]
    sites = pd.concat(parts, ignore_index=True, sort=False)
    sites = sites.sort_values("building_id", kind="stable").reset_index(drop=True)

    say("Modelling")
    modelled = model_buildings(sites, eric, eric_bm, imd, borough_pop)
    modelled = split_hospitals(modelled, sites, lsoa)
    occupiers = build_occupiers(modelled, sites)
    buildings = finalise_buildings(modelled)
    access = build_access()
    compat = build_compatibility()

    outputs = {
        "greater_manchester": (buildings, occupiers, zones),
    }
    tb = buildings[buildings["borough"] == "Trafford"].reset_index(drop=True)
    to = occupiers[occupiers["building_id"].isin(tb["building_id"])].reset_index(drop=True)
    zone_lad = dict(zip(demand["LSOA21CD"], demand["LADCD_ACTIVE"], strict=True))
    tz = zones[zones["zone_id"].map(zone_lad) == "E08000009"].reset_index(drop=True)
    outputs["trafford"] = (tb, to, tz)

    for label, (b, o, z) in outputs.items():
        check(label, b, o, z)
        path = out / f"{label}.gpkg"
        write_gpkg(path, {"buildings": b, "occupiers": o, "zones": z, "access": access,
                          "compatibility": compat})
        summary(label, path, b, o, z)
    return 0


if __name__ == "__main__":
    sys.exit(main())
