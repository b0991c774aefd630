"""Modelling shared by the two data builds (``build_example.py`` and ``build_national.py``).

Every modelled building figure of the bundled estates comes from here: the benchmark
constants and their sources (``BENCHMARKS``, ``TM46``, ``KINDS``, ``SHARES``), the NHS ERIC
2016/17 calibration, the building model (size -> capacity, tenure, site area, running costs,
backlog, value, disposal cost, carbon, protection, spare space), the occupiers of each kind
of building, the access standards and compatibility pairs, and the common checks and
writer. A build script reads its own sources into *sites* (real attributes only) and
says how big each one is (``size``); everything else is this module's.

Imported by the build scripts as ``import modelling`` (``scripts/`` is on ``sys.path`` when a
script in it runs). Not part of the installed product.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from estate import schema

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
        1.33,
        "x",
        "ONS CPI index (D7BT, 2015=100): 2016/17 average ~101 -> 2024/25 average ~134; "
        "brings NHS ERIC 2016/17 £ to approx. 2024/25 prices (rounded; verify)",
    ),
    "elec_price_gbp_kwh": (
        0.25,
        "£/kWh",
        "Assumption, order of DESNZ Quarterly Energy Prices table 3.4.2 (non-domestic "
        "electricity, medium users, 2024, incl. CCL)",
    ),
    "gas_price_gbp_kwh": (
        0.06,
        "£/kWh",
        "Assumption, order of DESNZ Quarterly Energy Prices table 3.4.2 (non-domestic gas, 2024, incl. CCL)",
    ),
    # --- carbon ---------------------------------------------------------------------
    "elec_kgco2e_kwh": (
        0.20705,
        "kgCO2e/kWh",
        "DESNZ Greenhouse gas reporting: conversion factors 2024, UK electricity (generation, scope 2)",
    ),
    "gas_kgco2e_kwh": (
        0.18290,
        "kgCO2e/kWh",
        "DESNZ Greenhouse gas reporting: conversion factors 2024, natural gas (gross CV, scope 1)",
    ),
    # --- business rates -------------------------------------------------------------
    "ubr_multiplier": (
        0.546,
        "£ per £ RV",
        "Standard non-domestic rating multiplier, England 2024/25 (54.6p)",
    ),
    # --- library space standard ------------------------------------------------------
    "library_m2_per_1000_pop": (
        30.0,
        "m2 per 1,000 residents",
        "MLA (2008, rev. 2010) 'Public Libraries, Archives and New Development: a standard "
        "charge approach': 30 m2 of public library space per 1,000 population",
    ),
    # --- council HQ size ----------------------------------------------------------------
    "council_hq_m2_per_1000_pop": (
        40.0,
        "m2 GIA per 1,000 residents",
        "Assumption (town hall/civic centre GIA)",
    ),
    # --- GP premises size (national build: from the registered list) ------------------
    "gp_m2_per_patient": (
        0.08,
        "m2 GIA per registered patient",
        "Assumption, of the order of the primary-care space planning ratios NHS commissioners "
        "use in planning-obligation assessments (no published per-patient table is in "
        "../shared/data; HBN 11-01 sizes rooms, not practices). Applied to the NHS Digital "
        "list size of 1 May 2022; GP premises' running costs then follow from GIA x the ERIC "
        "2016/17 community-hospital £/m2 (KINDS['gp'])",
    ),
    # --- land and disposal ------------------------------------------------------------
    "land_value_gbp_ha": (
        1_500_000,
        "£/ha",
        "Assumption, order of the VOA/MHCLG 'Land value estimates for policy appraisal "
        "2019' residential values for Greater Manchester districts (typical site)",
    ),
    "land_realisation": (
        0.6,
        "share",
        "Assumption: MHCLG notes market prices are 'substantially lower' than the "
        "policy-appraisal values (they exclude developer contributions)",
    ),
    "land_imd_mult_decile1": (
        0.6,
        "x",
        "Assumption: land value multiplier in IMD decile 1 (linear to decile 10)",
    ),
    "land_imd_mult_decile10": (1.5, "x", "Assumption: land value multiplier in IMD decile 10"),
    "disposal_fee_share": (0.02, "share of value", "Assumption: agents' and legal fees on sale"),
    "disposal_fixed_gbp": (15_000, "£", "Assumption: security, clearance and surveys before sale"),
    "dilapidations_gbp_m2": (50.0, "£/m2 GIA", "Assumption: dilapidations on handing back a leasehold"),
}

# CIBSE TM46:2008 'Energy benchmarks', typical values (electricity, fossil) kWh/m2/yr.
TM46: dict[str, tuple[float, float]] = {
    "general_office": (95, 120),  # category 1
    "cultural_activities": (70, 200),  # category 10 (libraries, museums)
    "clinic": (70, 200),  # category 19 (health centres, GP surgeries)
    "hospital": (90, 420),  # category 20 (hospital, clinical and research)
    "emergency_services": (70, 390),  # category 23 (fire, police, ambulance stations)
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
        "nia": 0.70,
        "gia_median": 420,
        "gia_sigma": 0.45,
        "gia_min": 120,
        "gia_max": 2500,
        "health_centre_median": 900,
        "tm46": "clinic",
        "rv_m2": 55,
        "fm_m2": "ERIC",
        "backlog_m2": "ERIC",
        "eric_type": ERIC_COMMUNITY,
        "euv_m2": 1200,
        "spare": "ERIC",
        "storeys": 1.5,
        "coverage": 0.40,
        "rent_m2": 150,
        "leasehold_p": 0.5,
        "lease_end": (2027, 2049),
        "break_before": 10,
        "space_types": ("clinical", "office"),
    },
    "library": {
        "nia": 0.80,
        "tm46": "cultural_activities",
        "rv_m2": 25,
        "fm_m2": 55,
        "backlog_m2": 120,
        "euv_m2": 400,
        "spare": 0.15,
        "storeys": 1.5,
        "coverage": 0.45,
        "rent_m2": 100,
        "leasehold_p": 0.0,
        "space_types": ("library", "public_counter", "community", "office"),
    },
    "council_hq": {
        "nia": 0.80,
        "gia_sigma": 0.15,
        "tm46": "general_office",
        "rv_m2": 70,
        "fm_m2": 70,
        "backlog_m2": 150,
        "euv_m2": 800,
        "spare": 0.30,
        "storeys": 4.0,
        "coverage": 0.60,
        "rent_m2": 150,
        "leasehold_p": 0.0,
        "space_types": ("office", "public_counter", "community", "library"),
    },
    "jobcentre": {
        "nia": 0.80,
        "gia_median": 1100,
        "gia_sigma": 0.30,
        "gia_min": 400,
        "gia_max": 3000,
        "tm46": "general_office",
        "rv_m2": 70,
        "fm_m2": 60,
        "backlog_m2": 20,
        "euv_m2": 700,
        "spare": 0.20,
        "storeys": 2.0,
        "coverage": 0.60,
        "rent_m2": 120,
        "leasehold_p": 0.9,
        "lease_end": (2026, 2040),
        "break_before": 5,
        "space_types": ("public_counter", "office"),
    },
    "fire": {
        "nia": 0.75,
        "storey_factor": 1.5,
        "tm46": "emergency_services",
        "rv_m2": 25,
        "fm_m2": 60,
        "backlog_m2": 100,
        "euv_m2": 350,
        "spare": 0.10,
        "rent_m2": 0,
        "leasehold_p": 0.0,
        "space_types": ("operational", "office", "community"),
    },
    "hospital": {
        "nia": 0.65,
        "storey_factor": 2.0,
        "tm46": "hospital",
        "rv_m2": 30,
        "fm_m2": "ERIC",
        "backlog_m2": "ERIC",
        "euv_m2": 600,
        "spare": "ERIC",
        "rent_m2": 0,
        "leasehold_p": 0.0,
        "space_types": ("clinical", "office"),
    },
    "police": {
        "nia": 0.75,
        "gia_median": 1400,
        "gia_sigma": 0.30,
        "gia_min": 100,
        "gia_max": 8000,
        "tm46": "emergency_services",
        "rv_m2": 35,
        "fm_m2": 65,
        "backlog_m2": 120,
        "euv_m2": 700,
        "spare": 0.20,
        "storeys": 2.0,
        "coverage": 0.35,
        "rent_m2": 130,
        "leasehold_p": 0.1,
        "lease_end": (2027, 2040),
        "break_before": 5,
        "space_types": ("office", "public_counter"),
    },
}
POLICE_GIA = {"post": 150, "divisional_hq": 4500, "training": 3000}  # Assumption, m2 GIA
ERIC_MIN_SHARE_OF_MEDIAN = 0.5  # own ERIC £/m2 below this share of the type median -> median
ACUTE_PROTECT_MIN_GIA = 10_000  # ERIC acute/specialist/mixed holdings this large are protected

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
    "gp_practice": "GP",
    "community_health": "CH",
    "library": "LIB",
    "customer_service": "CS",
    "council_office": "CO",
    "jobcentre": "JCP",
    "fire_response": "FR",
    "fire_prevention": "FP",
    "hospital_acute": "ACUTE",
    "mental_health_inpatient": "MHI",
    "nhs_admin": "ADMIN",
    "police_neighbourhood": "PN",
    "police_front_counter": "PFC",
    "police_training": "PTR",
}

# Access standards (reach is road km = straight line x detour factor). See data/README.md.
ACCESS = (
    ("gp_practice", 2.0),
    ("library", 3.0),
    ("customer_service", 5.0),
    ("jobcentre", 5.0),
    ("community_health", 5.0),
    ("police_front_counter", 5.0),
)
PROTECT_DEPRIVED_DECILES = 2

# "service may move into a building whose current occupiers include host_service".
# Same-service pairs are added for every service.
COMPATIBILITY = {
    "police_neighbourhood": (
        "fire_response",
        "council_office",
        "customer_service",
        "police_front_counter",
        "police_training",
    ),
    "police_front_counter": ("library", "council_office", "customer_service", "police_neighbourhood"),
    "police_training": ("police_neighbourhood", "fire_response"),
    "jobcentre": ("library", "council_office", "customer_service"),
    "customer_service": ("library", "council_office", "jobcentre"),
    "community_health": ("gp_practice", "hospital_acute", "mental_health_inpatient", "nhs_admin"),
    "gp_practice": ("community_health", "hospital_acute"),
    "council_office": ("customer_service", "library"),
    "library": ("council_office", "customer_service"),
    "nhs_admin": (
        "hospital_acute",
        "mental_health_inpatient",
        "community_health",
        "gp_practice",
        "council_office",
    ),
    "fire_prevention": ("fire_response", "library", "council_office", "customer_service"),
}


COMMUNITY_HEALTH_PARTNER = "NHS community health services"
HOSPITAL_UNMATCHED_OWNER = "NHS Property Services"  # owner of NHS sites without an ERIC match (modelled)
# Library tiers' weights for sharing an area's library space (see library_gia).
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


def add_shared_argument(ap: argparse.ArgumentParser, repo: Path) -> None:
    """The ``--shared`` option of both builds: the folder of public source data."""
    ap.add_argument(
        "--shared",
        type=Path,
        default=repo / ".." / "shared" / "data",
        help="folder with the public source data (default ../shared/data)",
    )


def start_build(shared: Path) -> Path:
    """The shared data folder, resolved and checked (it holds ``SOURCES.md``); GDAL's file date
    fixed, so that two runs write byte-identical GeoPackages."""
    shared = shared.resolve()
    if not (shared / "SOURCES.md").exists():
        msg = f"{shared} does not look like the shared data folder (no SOURCES.md)"
        raise SystemExit(msg)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00Z"})
    return shared


# ======================================================================================
# NHS ERIC 2016/17 calibration
# ======================================================================================


def load_eric(shared: Path) -> pd.DataFrame:
    """ERIC 2016/17 site data (AGGREGATE SITE rows and sites without GIA left out), with
    ``cost_total``, ``backlog_total`` and ``spare_pct`` (empty + under-used %)."""
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
    out = pd.DataFrame(
        {
            "sites": rep.groupby("Site Type").size(),
            "running_gbp_m2": rep.groupby("Site Type").apply(
                lambda d: float((d["cost_total"] / d[ERIC_GIA]).median())
            ),
            "energy_gbp_m2": rep.groupby("Site Type").apply(
                lambda d: float((d[ERIC_ENERGY] / d[ERIC_GIA]).median())
            ),
            "backlog_gbp_m2": rep.groupby("Site Type").apply(
                lambda d: float((d["backlog_total"] / d[ERIC_GIA]).median())
            ),
            "spare_pct_gia_weighted": e.groupby("Site Type").apply(
                lambda d: float((d["spare_pct"] * d[ERIC_GIA]).sum() / d[ERIC_GIA].sum())
            ),
        }
    )
    return out


def eric_costs_usable(e: pd.Series, eric_bm: pd.DataFrame) -> bool:
    """A site's own ERIC costs are used unless missing or below ERIC_MIN_SHARE_OF_MEDIAN
    of its type's median (e.g. PFI sites, whose FM sits inside the unitary charge)."""
    per_m2 = float(e["cost_total"]) / float(e[ERIC_GIA])
    return per_m2 >= ERIC_MIN_SHARE_OF_MEDIAN * float(eric_bm.loc[e["Site Type"], "running_gbp_m2"])


def trust_name(org: str) -> str:
    """An ERIC organisation name in title case ("NHS", "and", "of" kept as such)."""
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


def council_address(r: pd.Series) -> str:
    """The first usable address line of a council HQ row (not a P O Box), else "Council offices"."""
    for c in ("address 1", "Address 2", "Address 3"):
        v = tidy(r.get(c) or "")
        if v and not v.upper().startswith("P O BOX") and v.lower() != "none":
            return v
    return "Council offices"


# ======================================================================================
# MODEL: building figures
# ======================================================================================


def imd_multiplier(decile: float) -> float:
    """Land value multiplier: linear from decile 1 to decile 10."""
    lo, hi = bm("land_imd_mult_decile1"), bm("land_imd_mult_decile10")
    return lo + (hi - lo) * (float(decile) - 1) / 9


def library_gia(sites: pd.DataFrame, area: str, area_pop: dict[str, int]) -> dict[str, float]:
    """GIA of each library: library_m2_per_1000_pop x the population of its `area` (borough or
    place), shared between the area's libraries by tier weight (LIBRARY_WEIGHT)."""
    lib = sites[sites["kind"] == "library"]
    weight = lib["tier"].map(LIBRARY_WEIGHT)
    total = weight.groupby(lib[area]).transform("sum")
    gia = lib[area].map(area_pop) / 1000 * bm("library_m2_per_1000_pop") * weight / total
    return dict(zip(lib["building_id"], gia, strict=True))


def kind_lognormal_gia(rng: np.random.Generator, kind: str, median: float | None = None) -> float:
    """GIA drawn lognormal around the kind's median (or `median`), clipped to its range."""
    k = KINDS[kind]
    med = k["gia_median"] if median is None else median
    return float(np.clip(lognormal(rng, med, k["gia_sigma"]), k["gia_min"], k["gia_max"]))


def site_type(s: pd.Series) -> str | None:
    """The site's ERIC type: its ERIC site's, else one guessed from its name, else None."""
    for col in ("eric_type", "guessed_type"):
        value = s.get(col)
        if isinstance(value, str):
            return value
    return None


def _eric_row_type(etype: str | None, k: dict, eric_bm: pd.DataFrame) -> str:
    """The ERIC type whose benchmarks a site without its own ERIC figures uses."""
    t = etype or k.get("eric_type", ERIC_COMMUNITY)
    return t if t in eric_bm.index else ERIC_COMMUNITY


SizeFunction = Callable[[pd.Series, np.random.Generator], float]


def model_buildings(
    sites: pd.DataFrame,
    eric: pd.DataFrame,
    eric_bm: pd.DataFrame,
    size: SizeFunction,
    *,
    site_form: dict[str, tuple[float, float]] | None = None,
    keep: Iterable[str] = (),
) -> pd.DataFrame:
    """Every modelled figure of every site, one row per building.

    `sites` needs ``building_id``, ``kind`` (a key of KINDS), ``display_name``, ``owner``,
    ``owner_type``, ``borough``, ``data_source``, ``imd_decile`` and ``geometry``; optionally
    ``eric_code``/``eric_type`` (an ERIC 2016/17 site), ``guessed_type`` (an ERIC type guessed
    from the name) and ``hull_ha`` (site area from footprints). ERIC sites use their own GIA,
    land, costs, backlog and spare space. Other sites get their GIA from
    ``size(site, rng)``, called first with the building's generator (`rng_for`), so that a
    building's figures depend only on its ID. `site_form` gives (storeys, coverage) per kind
    where KINDS has none. Columns named in `keep` are carried over from the site. The
    private columns ``_kind``, ``_spare``, ``_site_idx`` and ``_eric_type`` are for the
    occupier model.
    """
    uplift = bm("price_uplift_eric")
    eric_by_code = eric.set_index("Site Code")
    site_form = site_form or {}
    keep = list(keep)
    codes = sites["eric_code"].dropna() if "eric_code" in sites.columns else pd.Series([], dtype=object)
    low = [c for c in codes if not eric_costs_usable(eric_by_code.loc[c], eric_bm)]
    say(
        f"  ERIC holdings whose own costs are below {ERIC_MIN_SHARE_OF_MEDIAN:.0%} of their type "
        f"median (type median used instead): {', '.join(low) or 'none'}"
    )
    out = []
    for _, s in sites.iterrows():
        bid, kind = s["building_id"], s["kind"]
        k = KINDS[kind]
        rng = rng_for(bid, "building")
        modelled: list[str] = []
        e = eric_by_code.loc[s["eric_code"]] if isinstance(s.get("eric_code"), str) else None
        etype = site_type(s)

        # --- size -------------------------------------------------------------------
        if e is not None:
            gia = float(e[ERIC_GIA])
        else:
            gia = size(s, rng)
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
            storeys, coverage = site_form.get(kind) or (k["storeys"], k["coverage"])
            site_ha = gia / storeys / coverage / 10_000
            modelled.append("site_area_ha")
        site_ha = round(site_ha, 3)

        # --- running costs -------------------------------------------------------------
        elec, fossil = TM46[k["tm46"] if not (kind == "hospital" and e is None) else "clinic"]
        rent = gia * k["rent_m2"] if tenure == "leasehold" else 0.0
        rates = gia * k["rv_m2"] * bm("ubr_multiplier")
        if e is not None and eric_costs_usable(e, eric_bm):
            own_energy = float(np.nan_to_num(e[ERIC_ENERGY]))  # a few sites report no energy line
            energy = own_energy * uplift
            fm = (float(e["cost_total"]) - own_energy) * uplift
        elif k["fm_m2"] == "ERIC":
            row = eric_bm.loc[_eric_row_type(etype, k, eric_bm)]
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
            backlog = gia * eric_bm.loc[_eric_row_type(etype, k, eric_bm), "backlog_gbp_m2"] * uplift
            backlog *= float(np.exp(0.5 * rng.standard_normal()))
        else:
            backlog = gia * k["backlog_m2"] * float(np.exp(0.5 * rng.standard_normal()))
        backlog = float(round(backlog))
        modelled.append("backlog_gbp")

        # --- value and disposal -------------------------------------------------------------
        decile = s["imd_decile"] if pd.notna(s.get("imd_decile")) else 5
        if tenure == "leasehold":
            value = 0.0
            disposal = gia * bm("dilapidations_gbp_m2")
        else:
            land = site_ha * bm("land_value_gbp_ha") * imd_multiplier(decile) * bm("land_realisation")
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
        if kind == "fire":
            protected, reason = True, "operational fire station"
        elif (
            kind == "hospital"
            and etype
            and etype.startswith(("1.", "2.", "3."))
            and gia >= ACUTE_PROTECT_MIN_GIA
        ):
            protected, reason = True, "acute hospital"

        # --- spare share (used later for occupiers) -------------------------------------------
        if e is not None:
            spare = float(e["spare_pct"]) / 100
        elif k["spare"] == "ERIC":
            spare = eric_bm.loc[_eric_row_type(etype, k, eric_bm), "spare_pct_gia_weighted"] / 100
            spare *= float(np.exp(0.5 * rng.standard_normal()))
        else:
            spare = k["spare"] * float(np.exp(0.5 * rng.standard_normal()))
        spare = float(np.clip(spare, 0.0, 0.6))

        out.append(
            {
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
                    + (["owner"] if s["owner"] == HOSPITAL_UNMATCHED_OWNER else [])
                ),
                "data_source": s["data_source"],
                **{c: s[c] for c in keep},
                "geometry": s["geometry"],
                # private helpers (not written)
                "_kind": kind,
                "_spare": spare,
                "_site_idx": s.name,
                "_eric_type": etype,
            }
        )
    return pd.DataFrame(out)


# ======================================================================================
# MODEL: occupiers
# ======================================================================================


def occupier_plan(b: pd.Series, s: pd.Series) -> tuple[dict[str, float], set[str]]:
    """Service -> share of used space, and the services whose presence is modelled.

    `b` is the modelled building, `s` its site (``n_at_location`` for GP premises, ``tier``
    and ``council_run`` for libraries, ``with_police`` and ``community_station`` for fire
    stations, ``police_type`` for police)."""
    rng = rng_for(b["building_id"], "occupiers")
    kind = b["_kind"]
    if kind == "gp":
        p = P_COMMUNITY_HEALTH_SHARED_SITE if s["n_at_location"] >= 2 else P_COMMUNITY_HEALTH_SINGLE
        if rng.random() < p:
            return SHARES["gp_with_ch"], {"community_health"}
        return {"gp_practice": 1.0}, set()
    if kind == "library":
        tier = s["tier"]
        if tier in ("central", "town") or (
            tier == "branch" and s["council_run"] and rng.random() < P_CUSTOMER_SERVICE_BRANCH
        ):
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


def build_occupiers(buildings: pd.DataFrame, sites: pd.DataFrame, *, police_partner: str) -> pd.DataFrame:
    """The occupiers of every building (``occupier_plan``; a building may carry its own plan
    in ``_occ``, as the GM hospital buildings do). Police teams in a fire station are
    `police_partner`'s."""
    rows = []
    has_occ = "_occ" in buildings.columns
    for _, b in buildings.iterrows():
        occ = b["_occ"] if has_occ else None
        if isinstance(occ, dict):  # hospital building: space per service set by the build
            plan, used, occ_modelled = occ["alloc"], 1.0, occ["modelled"]
        else:
            plan, modelled_presence = occupier_plan(b, sites.loc[b["_site_idx"]])
            used = b["capacity_m2"] * (1 - b["_spare"])
            occ_modelled = {
                svc: (["service"] if svc in modelled_presence else []) + ["space_m2"] for svc in plan
            }
        for service in SERVICE_ORDER:
            if service not in plan:
                continue
            space_type, public, movable, splittable, label = SERVICES[service]
            partner = b["owner"]
            if service == "community_health" and b["_kind"] == "gp":
                partner = COMMUNITY_HEALTH_PARTNER
            if service.startswith("police_") and b["_kind"] == "fire":
                partner = police_partner
            space = float(np.floor(used * plan[service]))
            rows.append(
                {
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
                }
            )
    occ = pd.DataFrame(rows)
    assert list(occ.columns) == [c.name for c in schema.OCCUPIER_COLUMNS]
    return occ


# ======================================================================================
# access and compatibility tables
# ======================================================================================


def build_access() -> pd.DataFrame:
    """The default access standards (ACCESS), rule keep_current, deprived zones protected."""
    rows = [
        {
            "service": s,
            "reach_km": km,
            "reach_min": np.nan,
            "rule": "keep_current",
            "min_share": np.nan,
            "max_mean_increase_km": np.nan,
            "protect_deprived_deciles": PROTECT_DEPRIVED_DECILES,
        }
        for s, km in ACCESS
    ]
    df = pd.DataFrame(rows)
    assert list(df.columns) == [c.name for c in schema.ACCESS_COLUMNS]
    return df


def build_compatibility() -> pd.DataFrame:
    """Every service with itself, plus the COMPATIBILITY pairs, in SERVICE_ORDER."""
    pairs = {(s, s) for s in SERVICES}
    for s, hosts in COMPATIBILITY.items():
        pairs.update((s, h) for h in hosts)
    order = {s: i for i, s in enumerate(SERVICE_ORDER)}
    rows = sorted(pairs, key=lambda p: (order[p[0]], order[p[1]]))
    return pd.DataFrame(rows, columns=[c.name for c in schema.COMPATIBILITY_COLUMNS])


# ======================================================================================
# write and check
# ======================================================================================

BUILDING_NAMES = [c.name for c in schema.BUILDING_COLUMNS]


def finalise_buildings(b: pd.DataFrame, extra: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """The schema columns, then `extra`; geometry to 1 cm; lease years as integers; sorted by ID."""
    g = gpd.GeoDataFrame(
        b[BUILDING_NAMES + list(extra)].copy(), geometry=b["geometry"].to_list(), crs=schema.CRS
    )
    g["geometry"] = shapely.set_precision(g.geometry.values, 0.01)
    for c in ("lease_end_year", "break_year"):
        g[c] = pd.array([None if v is None or pd.isna(v) else int(v) for v in g[c]], dtype="Int64")
    g["protected"] = g["protected"].astype(bool)
    return g.sort_values("building_id", kind="stable").reset_index(drop=True)


def write_gpkg(path: Path, layers: dict[str, pd.DataFrame]) -> None:
    """Write the layers to a new GeoPackage at `path` (through a temporary file, so a failed
    write leaves the old file). Set OGR_CURRENT_DATE first for a reproducible file."""
    tmp = path.with_name(f".{path.stem}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for name, df in layers.items():
        pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG")
    tmp.replace(path)


def check(label: str, buildings: gpd.GeoDataFrame, occupiers: pd.DataFrame, zones: gpd.GeoDataFrame) -> None:
    """IDs valid and unique, occupiers in existing buildings, every building occupied, today's
    occupiers within capacity, each occupier's space type offered by its building."""
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
    offers = buildings.set_index("building_id")["space_types"].str.split(schema.LIST_SEPARATOR).map(set)
    wanted = occupiers.set_index("building_id")["space_type"]
    missing = [(bid, t) for bid, t in wanted.items() if t not in offers[bid]]
    assert not missing, f"space type not offered: {missing[:5]}"
    say(f"  checks passed for {label}")
