#!/usr/bin/env python
"""Build the national England estate (``data/england.gpkg``) from real public data.

Run from the repository root::

    .venv/bin/python scripts/build_national.py              # reads ../shared/data, writes data/
    .venv/bin/python scripts/build_national.py --shared /path/to/shared/data --out /tmp/out.gpkg

Inputs are files listed in ``<shared>/SOURCES.md``; nothing is fetched from the network.

Zones: every English LSOA 2021 (population-weighted centroid, Census 2021 usual residents,
IMD 2019 decile carried over from LSOA 2011). Buildings: every active English GP practice
in the NHS ODS register of June 2022 with its registered list (May 2022), and the ODS
branch surgeries of 2017 that are still plausible, each placed by its postcode (OS
Code-Point Open 2025); every English Jobcentre Plus office in the DWP register of 2017,
placed by postcode (or, where the postcode has since been retired, the centroid of its
postcode sector); every fire station in the Home Office register, every open library in
the DCMS/Libraries Hacked list, every NHS hospital in the NHS hospital list (independent
providers removed), and every English council HQ in the council list. Locations, names,
list sizes, population and deprivation are real; floor areas, costs, values, carbon,
tenure and occupiers are modelled by ``scripts/modelling.py``, the model the Greater
Manchester example uses, and listed in each row's ``modelled`` column.

Next to the output it writes ``<out>_rejected.csv`` (every source row left out, with the
reason: accepted + rejected = input for each source) and ``<out>_vs_greater_manchester.csv``
(the GP premises and jobcentres of Greater Manchester here against
``data/greater_manchester.gpkg``).

Every zone and building carries ``place`` (upper-tier local authority code, UTLA 2023) and
``place_name``. ``docs/sweep.md`` explains the partition and the boundary buffer used when
one place is optimised; ``data/README.md`` has the sources and the modelling notes.

The build is deterministic (random draws are seeded by the building ID, the GeoPackage has
a fixed timestamp): two runs give byte-identical files.
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
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import modelling  # noqa: E402  (the shared modelling: constants, building and occupier model)
from modelling import KINDS, bm, lognormal, say, tidy  # noqa: E402

from estate import schema  # noqa: E402

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
GIA_FLOOR_M2 = 20.0  # no national building is modelled smaller than this

# GP practices. A practice's premises: gp_m2_per_patient (modelling.BENCHMARKS) x its
# registered list (May 2022), shared between its main site (weight 1) and each of its
# plausible 2017 branch surgeries (weight GP_BRANCH_WEIGHT each: branches are typically
# smaller, part-time sites; assumption), each premises clipped to KINDS["gp"]'s 120-2,500 m2.
GP_BRANCH_WEIGHT = 0.5
GP_STATUS = "A"  # ODS status: active
GP_SETTING = "4"  # ODS prescribing setting: GP practice
# NHS England region of the practice (ODS national grouping, 2022 codes) -> owner named in
# the estate (as GM's GP premises are the ICB's; ODS does not say who owns the building).
GP_REGION = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}
DWP_OWNER = "Department for Work and Pensions"
JOBCENTRE_NOT_ENGLAND = ("Scotland", "Wales")
FIRE_POLICE_PARTNER = "Police (co-located)"
# Where a postcode is not live in Code-Point Open 2025 (retired since the source was made),
# jobcentres are placed at the mean of the live postcodes of the postcode sector ("M15 5").
# GP main sites get the same fallback; a 2017 branch surgery whose postcode was retired is
# taken as closed or moved (not plausible) and left out.
LOCATED = {
    "source": "coordinates in the source",
    "postcode": "postcode (Code-Point Open 2025)",
    "sector": "postcode sector centroid (postcode retired)",
}
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
# Greater Manchester, to compare with data/greater_manchester.gpkg
GM_LSOA_POLYGONS = "boundaries_drkane/lsoa/E47000001.geojson"
GM_MATCH_M = 150  # a GM-file site and a national site this close are the same premises
# ... or this close with the same name (the postcode has changed): GP names repeat across
# a conurbation ("The Medical Centre"), jobcentre names do not
GM_NAME_MATCH_M = {"GP premises": 2_000, "jobcentre": 5_000}
GM_LIST_DATE = "20181005"  # the GM file's GP list (Trafford Data Lab, 2018-10-05)
# GM-file names of services that are not registering GP practices
GM_NOT_A_PRACTICE = (
    r"bardoc|out of hours|extended|ucc|walk[- ]in|head office|operational base|clinic|chcft|"
    r"\bhub\b|federation|secure|\bhome\b|alliance|gtd|hospice|prison|service"
)

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
    "gp": "gp_practices_ods_listsize_mattia/epraccur_data.csv",
    "gp_lists": "gp_practices_ods_listsize_mattia/gp_pop_data.csv",
    "gp_2023": "gp_practices_ods_2023_hsma/epraccur.csv",
    "gp_branches": "gp_branch_surgeries_ods_2017_nozzo1/ebranchs.csv",
    "jobcentres": "jobcentres_dwp_2017_openregister/jobcentres.xlsx",
    "codepoint": "codepoint_open_2025_makarim/Data/CSV",
    "gm_jobcentres": "trafford_datalab_gm/jobcentre_plus/gm_jobcentreplus.csv",
}
# ODS epraccur / ebranchs: headerless, 27 columns (0-based positions used here)
ODS_COLUMNS = {
    0: "code",
    1: "ods_name",
    2: "national_grouping",
    9: "postcode",
    10: "open_date",
    11: "close_date",
    12: "status",
    14: "parent",  # ebranchs: the parent practice; epraccur: the commissioner
    25: "setting",
}
EXTRA = [
    "place",
    "place_name",
    "postcode",
    "located_by",
    "source_year",
    "list_size",
    "ods_status_2023",
]


class Rejections:
    """Every source row left out, with its reason, and the input count of each source, so
    that accepted + rejected = input can be checked and printed."""

    COLUMNS = ("source", "source_row", "source_id", "name", "postcode", "reason")

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.inputs: dict[str, int] = {}
        self.accepted: dict[str, int] = {}

    def add(self, source: str, frame: pd.DataFrame, reason: str | pd.Series) -> None:
        """Record the rows of `frame` (columns source_row, source_id, name, postcode)."""
        reasons = reason if isinstance(reason, pd.Series) else pd.Series(reason, index=frame.index)
        for i, r in frame.iterrows():
            self.rows.append(
                {
                    "source": source,
                    "source_row": int(r["source_row"]),
                    "source_id": str(r.get("source_id", "") or ""),
                    "name": tidy(r.get("name", "")),
                    "postcode": str(r.get("postcode", "") or ""),
                    "reason": str(reasons[i]),
                }
            )

    def count(self, source: str, n_input: int, n_accepted: int) -> None:
        self.inputs[source] = n_input
        self.accepted[source] = n_accepted
        rejected = sum(1 for r in self.rows if r["source"] == source)
        if n_accepted + rejected != n_input:
            msg = f"{source}: accepted {n_accepted} + rejected {rejected} != input {n_input}"
            raise SystemExit(msg)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(self.COLUMNS))
        return df.sort_values(["source", "source_row"], kind="stable").reset_index(drop=True)

    def summary(self) -> list[str]:
        df = self.frame()
        lines = []
        for source, n in self.inputs.items():
            mine = df[df["source"] == source]
            reasons = mine["reason"].str.replace(r" \(.*\)$", "", regex=True).value_counts()
            lines.append(
                f"  {source}: input {n:,} = accepted {self.accepted[source]:,} + rejected {len(mine):,}"
                + ("".join(f"\n      {v:>5,}  {k}" for k, v in reasons.items()))
            )
        return lines


def ods_frame(path: Path) -> pd.DataFrame:
    """An ODS epraccur/ebranchs file (headerless) with named columns and its line number."""
    raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    out = raw[list(ODS_COLUMNS)].rename(columns=ODS_COLUMNS)
    out["source_row"] = np.arange(1, len(out) + 1)
    out["source_id"] = out["code"]
    out["name"] = out["ods_name"].map(tidy).str.title()
    out["postcode"] = out["postcode"].map(tidy).str.upper()
    return out


def postcode_key(postcodes: pd.Series) -> pd.Series:
    """Postcodes upper-cased without spaces (Code-Point's 7-character form in any release)."""
    return postcodes.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)


def sector_of(keys: pd.Series) -> pd.Series:
    """Postcode sector of a postcode key: outward code, space, first digit of the inward code."""
    return keys.str[:-3] + " " + keys.str[-3]


def load_codepoint(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Live postcodes with coordinates (Code-Point Open 2025), and each postcode sector's
    centroid (mean of its live postcodes)."""
    files = sorted((shared / FILES["codepoint"]).glob("*.csv"))
    frames = [
        pd.read_csv(f, header=None, usecols=[0, 1, 2, 3], names=["pc", "pq", "e", "n"], dtype={"pc": str})
        for f in files
    ]
    cp = pd.concat(frames, ignore_index=True)
    n_all = len(cp)
    cp = cp[(cp["pq"] != 90) & (cp["e"] > 0) & (cp["n"] > 0)].copy()
    cp["key"] = postcode_key(cp["pc"])
    cp = cp.drop_duplicates("key").set_index("key")[["e", "n"]].astype(float)
    sectors = cp.groupby(sector_of(cp.index.to_series()).to_numpy())[["e", "n"]].mean().round(1)
    say(
        f"  Code-Point Open 2025: {len(files)} postcode areas, {n_all:,} postcodes, "
        f"{len(cp):,} with coordinates, {len(sectors):,} sectors"
    )
    return cp, sectors


def geocode(
    frame: pd.DataFrame, codepoint: pd.DataFrame, sectors: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.Series]:
    """Coordinates of each row's postcode (and, if `sectors` is given, of its sector where the
    postcode is not live); returns (located rows with e, n, located_by; reasons of the rest)."""
    key = postcode_key(frame["postcode"])
    valid = key.str.match(POSTCODE_RE)
    live = key.isin(codepoint.index)
    out = frame.copy()
    out["e"] = key.map(codepoint["e"])
    out["n"] = key.map(codepoint["n"])
    out["located_by"] = np.where(live, LOCATED["postcode"], "")
    reasons = pd.Series("", index=frame.index, dtype=object)
    reasons[~valid] = [f"malformed postcode ({p!r})" for p in frame.loc[~valid, "postcode"]]
    retired = valid & ~live
    if sectors is not None and retired.any():
        sector = sector_of(key[retired])
        found = sector.isin(sectors.index)
        idx = sector.index[found]
        out.loc[idx, "e"] = sector[found].map(sectors["e"]).to_numpy()
        out.loc[idx, "n"] = sector[found].map(sectors["n"]).to_numpy()
        out.loc[idx, "located_by"] = LOCATED["sector"]
        lost = sector.index[~found]
        reasons[lost] = [
            f"postcode not in Code-Point Open 2025 and no live postcode in its sector ({s})"
            for s in sector[~found]
        ]
    elif retired.any():
        reasons[retired] = "postcode not in Code-Point Open 2025 (retired since)"
    placed = reasons == ""
    g = out[placed].copy()
    g = gpd.GeoDataFrame(g, geometry=gpd.points_from_xy(g["e"], g["n"]), crs=schema.CRS)
    return g, reasons[~placed]


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


def fire_sites(shared: Path, rejected: Rejections) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / FILES["fire"], dtype=str)
    raw["source_row"] = np.arange(2, len(raw) + 2)
    e = pd.to_numeric(raw["STATION_EASTING"], errors="coerce")
    n = pd.to_numeric(raw["STATION_NORTHING"], errors="coerce")
    ok = e.notna() & n.notna() & (e > 0) & (n > 0)
    lost = raw[~ok].assign(
        source_id=raw["E_CODE"], name=raw["STATION_NAME"], postcode=raw["STATION_POSTCODE"]
    )
    rejected.add("fire stations (Home Office register)", lost, "no coordinates in the register")
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
    g["located_by"] = LOCATED["source"]
    rejected.count("fire stations (Home Office register)", len(ok), len(g))
    say(f"  fire: {len(g):,} stations of {g['FRS_FULLNAME'].nunique()} fire and rescue services")
    return g


def library_sites(shared: Path, rejected: Rejections) -> gpd.GeoDataFrame:
    raw = pd.read_csv(shared / FILES["libraries"], dtype=str)
    raw["source_row"] = np.arange(2, len(raw) + 2)
    auth = pd.read_csv(shared / FILES["library_authorities"], dtype=str).set_index("authority_id")
    closed = raw["closed"].notna() & (raw["closed"].str.strip() != "")
    lost = raw[closed].assign(source_id=raw["id"])
    why = "closed" + lost["closed_year"].fillna("").map(lambda y: f" ({y})" if y.strip() else "")
    rejected.add("libraries (DCMS / Libraries Hacked)", lost, why)
    n_input = len(raw)
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
    g["council_run"] = g["type"].isin(["LAL", "CL"])
    g["kind"] = "library"
    g["owner"] = g["authority"] + " Council"
    g["owner_type"] = "council"
    g["data_source"] = "DCMS Libraries Taskforce dataset (Libraries Hacked, 2017)"
    g["display_name"] = g["name"] + " Library"
    g.loc[g["name"].str.contains("librar", case=False), "display_name"] = g["name"]
    g["located_by"] = LOCATED["source"]
    rejected.count("libraries (DCMS / Libraries Hacked)", n_input, len(g))
    say(
        "  libraries: tiers "
        + ", ".join(f"{k} {v}" for k, v in g["tier"].value_counts().sort_index().items())
    )
    return g


def _norm(text: object) -> str:
    t = re.sub(r"&", " and ", str(text).lower())
    t = re.sub(r"[^a-z0-9 ]", "", t)
    return re.sub(r"\s+", " ", t).strip()


def hospital_sites(shared: Path, eric: pd.DataFrame, rejected: Rejections) -> gpd.GeoDataFrame:
    source = "hospitals (NHS hospital list)"
    raw = pd.read_csv(shared / FILES["hospitals"], dtype=str)
    raw["source_row"] = np.arange(2, len(raw) + 2)
    n_input = len(raw)
    raw["name"] = raw["name"].map(tidy)
    indep = raw["name"].str.contains(HOSPITAL_INDEPENDENT, case=False, regex=True)
    rejected.add(source, raw[indep], "independent-sector provider (not public estate)")
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
        rejected.add(source, g.loc[drop], f"duplicate (same name within {HOSPITAL_DEDUP_M} m)")
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
            return modelling.ERIC_MH
        if re.search(HOSPITAL_ACUTE_WORDS, name, flags=re.IGNORECASE):
            return modelling.ERIC_ACUTE
        return modelling.ERIC_COMMUNITY

    g["guessed_type"] = [
        None if isinstance(c, str) else guess(n) for c, n in zip(g["eric_code"], g["name"], strict=True)
    ]
    seq = iter(range(1, len(g) + 1))
    g["building_id"] = [
        f"HOSP_{c}" if isinstance(c, str) else f"HOSP_N{next(seq):04d}" for c in g["eric_code"]
    ]
    g["kind"] = "hospital"
    g["owner"] = [
        modelling.trust_name(by_code.loc[c, "Organisation Name"])
        if isinstance(c, str)
        else modelling.HOSPITAL_UNMATCHED_OWNER
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
    g["located_by"] = LOCATED["source"]
    rejected.count(source, n_input, len(g))
    return g


def council_sites(shared: Path, rejected: Rejections) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / FILES["councils"]).to_crs(schema.CRS)
    raw = raw[raw["country"] == "England"].copy()
    raw["name"] = raw["name"].map(tidy)
    raw = raw.sort_values("name", kind="stable").reset_index(drop=True)
    raw["building_id"] = [f"COUNCIL_{i:04d}" for i in range(1, len(raw) + 1)]
    raw["display_name"] = raw["name"] + " - " + raw.apply(modelling.council_address, axis=1)
    raw["source_pop"] = pd.to_numeric(raw["population"], errors="coerce")
    raw["kind"] = "council_hq"
    raw["owner"] = raw["name"]
    raw["owner_type"] = "council"
    raw["data_source"] = "UK council HQ list (CalebP94/leaflet-oates-live, pre-2019)"
    raw["located_by"] = LOCATED["source"]
    rejected.count("council HQs (English rows of the UK council list)", len(raw), len(raw))
    say(
        f"  council HQs: {len(raw)} English councils ("
        + ", ".join(f"{k} {v}" for k, v in raw["authority-type"].value_counts().sort_index().items())
        + ")"
    )
    return raw


def gp_sites(
    shared: Path, codepoint: pd.DataFrame, sectors: pd.DataFrame, rejected: Rejections
) -> gpd.GeoDataFrame:
    """Every active English GP practice of the ODS register of June 2022 (main site), and the
    2017 ODS branch surgeries still plausible, each placed by its postcode."""
    main_src = "GP practices (NHS ODS epraccur, June 2022; active, England)"
    branch_src = "GP branch surgeries (NHS ODS ebranchs, 2017)"
    ods = ods_frame(shared / FILES["gp"])
    active = ods[
        (ods["status"] == GP_STATUS)
        & (ods["setting"] == GP_SETTING)
        & ods["national_grouping"].str.startswith("Y")
    ].copy()
    lists = pd.read_csv(shared / FILES["gp_lists"], dtype={"CODE": str})
    list_size = lists.set_index("CODE")["NUMBER_OF_PATIENTS"].astype(int)
    later = ods_frame(shared / FILES["gp_2023"]).set_index("code")["status"]
    status_2023 = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}

    no_list = ~active["code"].isin(list_size.index)
    rejected.add(
        main_src,
        active[no_list],
        "no registered patients in NHS Digital's list sizes of 1 May 2022 (an extended-access "
        "hub, walk-in or specialist service, or not registering patients yet)",
    )
    practices = active[~no_list].copy()
    practices["list_size"] = practices["code"].map(list_size)
    placed, why = geocode(practices, codepoint, sectors)
    rejected.add(main_src, practices.loc[why.index], why)
    placed["premises"] = "main"
    placed["parent"] = placed["code"]
    placed["source_year"] = 2022
    rejected.count(main_src, len(active), len(placed))

    # --- branch surgeries (2017) -------------------------------------------------------
    br = ods_frame(shared / FILES["gp_branches"])
    n_branches = len(br)
    main_at = placed.set_index("code")
    key = postcode_key(br["postcode"])
    steps = [  # each test sees only the rows that passed the earlier ones
        (lambda ok: br["close_date"] != "", "closed (close date in the 2017 branch file)"),
        (
            lambda ok: ~br["parent"].isin(main_at.index),
            "parent practice not an active English GP practice placed here (June 2022)",
        ),
        (
            lambda ok: key == postcode_key(br["parent"].map(main_at["postcode"]).fillna("")),
            "same postcode as its practice's main site (the same premises)",
        ),
        (
            lambda ok: br[ok].assign(k=key).duplicated(["parent", "k"]).reindex(br.index, fill_value=False),
            "same practice and postcode as an earlier branch row",
        ),
    ]
    left = pd.Series(True, index=br.index)
    for test, reason in steps:
        out = left & test(left)
        rejected.add(branch_src, br[out], reason)
        left &= ~out
    branches, why = geocode(br[left], codepoint, None)
    rejected.add(
        branch_src, br.loc[why.index], why.str.replace("retired since", "retired since 2017: closed or moved")
    )
    branches["premises"] = "branch"
    branches["list_size"] = branches["parent"].map(main_at["list_size"])
    branches["national_grouping"] = branches["parent"].map(main_at["national_grouping"])
    branches["source_year"] = 2017
    rejected.count(branch_src, n_branches, len(branches))

    g = pd.concat([placed, branches], ignore_index=True)
    g = gpd.GeoDataFrame(g, geometry="geometry", crs=schema.CRS)
    n_branch = g[g["premises"] == "branch"].groupby("parent").size()
    g["share"] = np.where(
        g["premises"] == "main",
        1.0 / (1.0 + GP_BRANCH_WEIGHT * g["parent"].map(n_branch).fillna(0)),
        GP_BRANCH_WEIGHT / (1.0 + GP_BRANCH_WEIGHT * g["parent"].map(n_branch).fillna(0)),
    )
    g["building_id"] = "GP_" + g["code"]
    g = g.sort_values("building_id", kind="stable").reset_index(drop=True)
    g["kind"] = "gp"
    g["owner"] = "NHS England " + g["national_grouping"].map(GP_REGION) + " (GP premises)"
    g["owner_type"] = "nhs"
    g["n_at_location"] = g.groupby(["e", "n"])["code"].transform("size")
    g["ods_status_2023"] = g["parent"].map(later).map(status_2023).fillna("not listed")
    g["data_source"] = np.where(
        g["premises"] == "main",
        "NHS ODS epraccur (June 2022); list size: NHS Digital, 1 May 2022; location: Code-Point Open 2025",
        "NHS ODS ebranchs (2017) branch surgery of " + g["parent"] + "; location: Code-Point Open 2025",
    )
    g["display_name"] = np.where(
        g["premises"] == "main",
        g["name"] + " (" + g["postcode"] + ")",
        g["name"] + " - branch surgery of " + g["parent"] + " (" + g["postcode"] + ")",
    )
    bad = ~g["code"].str.match(rf"^{schema.ID_PATTERN}$")
    if bad.any():
        msg = f"ODS codes that are not valid IDs: {g.loc[bad, 'code'].tolist()[:5]}"
        raise SystemExit(msg)
    say(
        f"  GP: {int((g['premises'] == 'main').sum()):,} practices (main sites; "
        f"{int((g['located_by'] == LOCATED['sector']).sum())} by sector centroid), "
        f"{int((g['premises'] == 'branch').sum()):,} branch surgeries (2017); "
        f"{int((g['n_at_location'] >= 2).sum()):,} premises share a postcode with another; "
        f"{int((g['ods_status_2023'] != 'active').sum())} belong to practices not active in Dec 2023"
    )
    return g


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def jobcentre_sites(
    shared: Path, codepoint: pd.DataFrame, sectors: pd.DataFrame, rejected: Rejections
) -> gpd.GeoDataFrame:
    """Every English Jobcentre Plus office in the DWP register (August 2017)."""
    source = "jobcentres (DWP register, Aug 2017; England)"
    raw = pd.read_excel(shared / FILES["jobcentres"], sheet_name="Sheet1", dtype=str)
    raw["source_row"] = np.arange(2, len(raw) + 2)
    raw = raw[~raw["Jobcentre Group"].isin(JOBCENTRE_NOT_ENGLAND)].copy()
    raw["name"] = raw["Jobcentre Office"].map(tidy)
    raw["source_id"] = raw["NOMIS Office Code"].fillna("")
    raw["postcode"] = raw["Postcode"].map(tidy).str.upper()
    placed, why = geocode(raw, codepoint, sectors)
    rejected.add(source, raw.loc[why.index], why)
    g = placed.sort_values("name", kind="stable").reset_index(drop=True)
    g["building_id"] = "JCP_" + g["name"].map(_slug)
    if not g["building_id"].is_unique:
        msg = (
            f"jobcentre names that give the same ID: {g.loc[g['building_id'].duplicated(), 'name'].tolist()}"
        )
        raise SystemExit(msg)
    g["kind"] = "jobcentre"
    g["owner"] = DWP_OWNER
    g["owner_type"] = "dwp"
    g["source_year"] = 2017
    g["data_source"] = "DWP Jobcentre Plus register (Aug 2017); location: Code-Point Open 2025"
    g["display_name"] = g["name"] + " Jobcentre"
    rejected.count(source, len(raw), len(g))
    say(
        f"  jobcentres: {len(g)} English offices placed "
        f"({int((g['located_by'] == LOCATED['sector']).sum())} by postcode sector centroid, postcode retired)"
    )
    return g


# ======================================================================================
# 4. MODEL: sizes (the rest is modelling.model_buildings, as for Greater Manchester)
# ======================================================================================


def national_size(
    sites: pd.DataFrame, eric: pd.DataFrame, place_pop: dict[str, int]
) -> modelling.SizeFunction:
    """GIA of a site without ERIC figures: GP premises by list size, jobcentres as in GM,
    fire stations and hospitals lognormal (no footprints nationally), libraries by the MLA
    standard over the place, council HQs by population."""
    gia_median = eric.groupby("Site Type")[modelling.ERIC_GIA].median()
    lib_gia = modelling.library_gia(sites, "place", place_pop)
    gp = KINDS["gp"]

    def size(s: pd.Series, rng: np.random.Generator) -> float:
        kind = s["kind"]
        if kind == "gp":
            gia = s["list_size"] * bm("gp_m2_per_patient") * s["share"]
            gia = float(np.clip(gia, gp["gia_min"], gp["gia_max"]))
        elif kind == "jobcentre":
            gia = modelling.kind_lognormal_gia(rng, "jobcentre")
        elif kind == "fire":
            gia = float(np.clip(lognormal(rng, FIRE_GIA_MEDIAN_M2, FIRE_GIA_SIGMA), *FIRE_GIA_CLIP))
        elif kind == "hospital":
            median = float(gia_median[modelling.site_type(s)])
            gia = float(np.clip(lognormal(rng, median, HOSPITAL_GIA_SIGMA), *HOSPITAL_GIA_CLIP))
        elif kind == "library":
            gia = float(lib_gia[s["building_id"]])
        else:  # council HQ
            pop = s["source_pop"] if s["source_pop"] >= COUNCIL_MIN_SOURCE_POP else place_pop[s["place"]]
            med = pop / 1000 * bm("council_hq_m2_per_1000_pop")
            gia = float(np.clip(lognormal(rng, med, KINDS["council_hq"]["gia_sigma"]), *COUNCIL_GIA_CLIP))
        return max(gia, GIA_FLOOR_M2)

    return size


# ======================================================================================
# 5. Greater Manchester: the national file against data/greater_manchester.gpkg
# ======================================================================================


def compare_gm(
    buildings: gpd.GeoDataFrame, shared: Path, gm_path: Path, rejected: pd.DataFrame
) -> pd.DataFrame:
    """GP premises and jobcentres inside Greater Manchester: the national file's against the
    GM example's. Pairs by postcode, then by distance (GM_MATCH_M), then by name within
    GM_NAME_MATCH_M; the rest are listed as in one file only, each with a reason category
    (``why``) and what the national sources say about it (``note``)."""
    gm_area = gpd.read_file(shared / GM_LSOA_POLYGONS).to_crs(schema.CRS)
    outline = shapely.union_all(gm_area.geometry.values)
    gm = pyogrio.read_dataframe(gm_path, layer="buildings")
    gm_jcp_src = pd.read_csv(shared / FILES["gm_jobcentres"], dtype=str)
    jcp_pc = dict(zip(gm_jcp_src["name"].map(tidy) + " Jobcentre", gm_jcp_src["postcode"], strict=True))
    ods = ods_frame(shared / FILES["gp"])
    ods["key"] = postcode_key(ods["postcode"])
    rows = []
    for kind, prefix in (("GP premises", "GP_"), ("jobcentre", "JCP_")):
        a = gm[gm["building_id"].str.startswith(prefix)].copy()
        if prefix == "GP_":
            a["postcode"] = a["name"].str.extract(r"\(([A-Z0-9 ]+)\)$", expand=False)
        else:
            a["postcode"] = a["name"].map(jcp_pc)
        b = buildings[buildings["building_id"].str.startswith(prefix)]
        b = b[shapely.within(b.geometry.values, outline)].copy()
        a["key"], b["key"] = postcode_key(a["postcode"]), postcode_key(b["postcode"])
        a["nkey"], b["nkey"] = a["name"].map(_name_key), b["name"].map(_name_key)
        used_a: set = set()
        used_b: set = set()

        # 1. same postcode (several premises at one postcode pair in ID order)
        for key, grp_a in a.groupby("key", sort=True):
            grp_b = b[b["key"] == key]
            for (ia, ra), (ib, rb) in zip(grp_a.iterrows(), grp_b.iterrows(), strict=False):
                used_a.add(ia)
                used_b.add(ib)
                rows.append(_pair(kind, ra, rb, "same postcode"))
        # 2. nearest within GM_MATCH_M, 3. the same name within GM_NAME_MATCH_M
        for match, radius, same_name in (
            (f"within {GM_MATCH_M} m", GM_MATCH_M, False),
            (f"same name within {GM_NAME_MATCH_M[kind] / 1000:g} km", GM_NAME_MATCH_M[kind], True),
        ):
            for ia, ra in a.drop(index=list(used_a)).iterrows():
                rest_b = b.drop(index=list(used_b))
                if same_name:
                    rest_b = rest_b[rest_b["nkey"] == ra["nkey"]]
                dist = shapely.distance(ra.geometry, rest_b.geometry.values)
                near = np.flatnonzero(dist <= radius)
                if len(near):
                    j = min(near, key=lambda k: (dist[k], k))
                    used_a.add(ia)
                    used_b.add(rest_b.index[j])
                    rows.append(_pair(kind, ra, rest_b.iloc[j], match))
        for _, ra in a.drop(index=list(used_a)).iterrows():
            why, note = _why_gm_only(ra, rejected, ods)
            rows.append(_pair(kind, ra, None, "only in greater_manchester.gpkg", note, why))
        for _, rb in b.drop(index=list(used_b)).iterrows():
            why, note = _why_national_only(rb, ods)
            rows.append(_pair(kind, None, rb, "only in england.gpkg", note, why))
    out = pd.DataFrame(rows)
    return out.sort_values(
        ["kind", "match", "gm_building_id", "national_building_id"], kind="stable"
    ).reset_index(drop=True)


def _name_key(name: object) -> str:
    """A premises name for matching: no postcode, branch suffix or "Jobcentre"; letters and digits."""
    text = re.sub(r"\s*\([A-Z0-9 ]+\)$", "", str(name))
    text = re.sub(r" - branch surgery of .*$| Jobcentre$", "", text)
    return _norm(text)


def _pair(
    kind: str, a: pd.Series | None, b: pd.Series | None, match: str, note: str = "", why: str = ""
) -> dict:
    dist = float(a.geometry.distance(b.geometry)) if a is not None and b is not None else np.nan
    return {
        "kind": kind,
        "match": match,
        "why": why,
        "gm_building_id": a["building_id"] if a is not None else "",
        "gm_name": a["name"] if a is not None else "",
        "gm_postcode": (a["postcode"] or "") if a is not None else "",
        "national_building_id": b["building_id"] if b is not None else "",
        "national_name": b["name"] if b is not None else "",
        "national_postcode": b["postcode"] if b is not None else "",
        "distance_m": round(dist, 1),
        "note": note,
    }


def _why_gm_only(a: pd.Series, rejected: pd.DataFrame, ods: pd.DataFrame) -> tuple[str, str]:
    """(category, detail) for a GM-file site with no national counterpart."""
    key = postcode_key(pd.Series([a["postcode"] or ""])).iloc[0]
    if a["building_id"].startswith("JCP_"):
        return (
            "not in the DWP register of 2017",
            "no jobcentre of the 2017 register at this postcode or nearby",
        )
    here = ods[ods["key"] == key].sort_values("code", kind="stable")
    closed = here[here["close_date"] != ""]
    other = here[(here["close_date"] == "") & (here["setting"] != GP_SETTING)]
    left_out = rejected[postcode_key(rejected["postcode"]) == key]
    if len(closed):
        r = closed.iloc[0]
        return (
            "practice closed by June 2022 (ODS)",
            f"ODS 2022: {r['code']} {r['name']} at this postcode closed {r['close_date']}",
        )
    if len(other):
        r = other.iloc[0]
        return (
            "not a GP practice in ODS (other prescribing setting)",
            f"ODS 2022: {r['code']} {r['name']} at this postcode, prescribing setting {r['setting']}",
        )
    if len(left_out):
        r = left_out.iloc[0]
        return "national source row left out", f"{r['source']}: {r['name']}: {r['reason']}"
    if re.search(GM_NOT_A_PRACTICE, a["name"], flags=re.IGNORECASE):
        return (
            "not a registering GP practice (out-of-hours, extended access, community or other service)",
            "no ODS 2022 practice or 2017 branch at this postcode",
        )
    return "no ODS 2022 practice or 2017 branch at this postcode", "GM file: NHS website list of 2018"


def _why_national_only(b: pd.Series, ods: pd.DataFrame) -> tuple[str, str]:
    """(category, detail) for a national site with no GM-file counterpart."""
    if b["building_id"].startswith("JCP_"):
        return (
            "in the DWP register of Aug 2017, not in the Sept 2018 GM list",
            "probably closed in DWP's 2017-18 estate consolidation (not verified)",
        )
    if b["source_year"] == 2017:
        return "2017 ODS branch surgery not in the 2018 GM list", ""
    opened = ods.loc[ods["code"] == b["building_id"].removeprefix("GP_"), "open_date"]
    if len(opened) and opened.iloc[0] > GM_LIST_DATE:
        return "practice opened after the 2018 GM list", f"ODS open date {opened.iloc[0]}"
    return (
        "ODS 2022 practice not in the 2018 GM list at this postcode",
        "moved, renamed or listed under a partner's name in the GM file",
    )


# ======================================================================================
# 6. write and check
# ======================================================================================


def finalise(modelled: pd.DataFrame) -> gpd.GeoDataFrame:
    g = modelling.finalise_buildings(modelled, EXTRA)
    for col in ("source_year", "list_size"):
        g[col] = pd.array([None if pd.isna(v) else int(v) for v in g[col]], dtype="Int64")
    for col in ("postcode", "ods_status_2023"):
        g[col] = g[col].astype(object).where(g[col].notna(), None)
    return g


def check(buildings: gpd.GeoDataFrame, occupiers: pd.DataFrame, zones: gpd.GeoDataFrame) -> None:
    modelling.check("England", buildings, occupiers, zones)
    assert buildings["place"].notna().all() and zones["place"].notna().all()
    assert set(buildings["place"]) <= set(zones["place"])
    assert zones["imd_decile"].between(1, 10).all()
    gp = buildings["building_id"].str.startswith("GP_")
    assert buildings.loc[gp, "list_size"].notna().all() and (buildings.loc[gp, "list_size"] > 0).all()
    assert buildings["located_by"].isin(LOCATED.values()).all()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    modelling.add_shared_argument(ap, REPO)
    ap.add_argument(
        "--gm",
        type=Path,
        default=REPO / "data" / "greater_manchester.gpkg",
        help="the GM example file to compare GP premises and jobcentres with",
    )
    ap.add_argument("--out", type=Path, default=REPO / "data" / "england.gpkg", help="output file")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    shared = modelling.start_build(args.shared)

    say("Zones and places")
    zones, places, place_pop = build_zones(shared)
    say(f"  places: {len(places)} upper-tier local authorities")
    eric = modelling.load_eric(shared)
    eric_bm = modelling.eric_benchmarks(eric)
    say("Postcodes")
    codepoint, sectors = load_codepoint(shared)

    say("Buildings")
    rejected = Rejections()
    parts = [
        gp_sites(shared, codepoint, sectors, rejected),
        jobcentre_sites(shared, codepoint, sectors, rejected),
        fire_sites(shared, rejected),
        library_sites(shared, rejected),
        hospital_sites(shared, eric, rejected),
        council_sites(shared, rejected),
    ]
    sites = pd.concat([locate(p, zones) for p in parts], ignore_index=True, sort=False)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=schema.CRS)
    sites = sites.sort_values("building_id", kind="stable").reset_index(drop=True)

    say("Modelling")
    size = national_size(sites, eric, place_pop)
    modelled = modelling.model_buildings(sites, eric, eric_bm, size, site_form=SITE_FORM, keep=EXTRA)
    occupiers = modelling.build_occupiers(modelled, sites, police_partner=FIRE_POLICE_PARTNER)
    buildings = finalise(modelled)
    counts = buildings.groupby("place").size()
    places["buildings"] = places["place"].map(counts).fillna(0).astype("int64")
    places_g = gpd.GeoDataFrame(
        places, geometry=gpd.points_from_xy(places["easting"], places["northing"]), crs=schema.CRS
    )
    check(buildings, occupiers, zones)

    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    layers = {
        "buildings": buildings,
        "occupiers": occupiers,
        "zones": zones,
        "access": modelling.build_access(),
        "compatibility": modelling.build_compatibility(),
        "places": places_g,
    }
    modelling.write_gpkg(out, layers)
    rejected_path = out.with_name(f"{out.stem}_rejected.csv")
    rejected_rows = rejected.frame()
    rejected_rows.to_csv(rejected_path, index=False, lineterminator="\n")
    gm_path = out.with_name(f"{out.stem}_vs_greater_manchester.csv")
    gm = compare_gm(buildings, shared, args.gm.resolve(), rejected_rows)
    gm.to_csv(gm_path, index=False, lineterminator="\n")

    say(f"\n=== England: {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    say(f"zones: {len(zones):,}  population: {int(zones['population'].sum()):,}  places: {len(places)}")
    kinds = buildings["building_id"].str.split("_").str[0].value_counts().sort_index()
    say(
        f"buildings: {len(buildings):,}  "
        + ", ".join(f"{k} {v:,}" for k, v in kinds.items())
        + f"; protected {int(buildings['protected'].sum())}"
    )
    say(
        f"occupiers: {len(occupiers):,}  "
        + ", ".join(f"{k} {v:,}" for k, v in occupiers["service"].value_counts().sort_index().items())
    )
    say(
        f"buildings per place: median {counts.median():.0f}, max {counts.max()} ({counts.idxmax()}); "
        f"places without a building: {int((places['buildings'] == 0).sum())}"
    )
    say(f"\nRejected source rows ({rejected_path.name}: {len(rejected_rows):,} rows):")
    for line in rejected.summary():
        say(line)
    say(f"\nGreater Manchester against {args.gm.name} ({gm_path.name}):")
    for (kind, match), n in gm.groupby(["kind", "match"]).size().items():
        say(f"  {kind}: {match}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
