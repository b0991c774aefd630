"""Calibrate the default travel model against real road travel times.

The product's travel model is

    road_km = straight_line_km * detour_factor
    minutes = minutes_intercept + minutes_per_km * straight_line_km

where straight-line km are measured in British National Grid (EPSG:27700).

This script fits `minutes` against straight-line km using road travel times by
car from every LSOA 2011 population-weighted centroid in England and Wales to
125 stroke-unit hospitals (OSRM times calibrated to Google by the SAMueL
project, file dated 2023-02-16). Road *distances* are not in the data, so the
detour factor cannot be estimated from it: it is taken from the literature and
only used to turn the fitted slope into an implied road speed and to relate
km reaches to minutes.

Outputs `docs/travel_calibration.json` and prints a report. See docs/travel.md.

Usage (from anywhere; no network; ~10 s):

    .venv/bin/python docs/calibrate_travel.py [--shared PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.optimize import minimize_scalar

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "docs" / "travel_calibration.json"

MATRIX = "travel_time_samuel/lsoa_travel_time_matrix_calibrated.zip"
HOSPITALS = "travel_time_samuel/stroke_hospitals_2022.csv"
PWC = ("ons_lsoa11_pwc_nimbusdata/"
       "Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv")
RUC = ("lookups_samuel/"
       "Rural_Urban_Classification_2011_of_Lower_Layer_Super_Output_Areas_in_England_and_Wales.csv")
LAD = ("lookups_samuel/LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)"
       "_Lookup_for_England_and_Wales_(Version_2).csv")
GM_LSOA11 = "boundaries_drkane/lsoa11/E47000001.geojson"

URBAN_RUC = ("A1", "B1", "C1", "C2")  # RUC11 urban classes; D*/E* are rural
BANDS = ((0, 5), (5, 10), (10, 20), (20, 30))
WIDE_BANDS = (*BANDS, (30, 60), (60, np.inf))

# Detour (circuity) factor: not identifiable from times alone, taken from literature.
DETOUR_FACTOR = 1.3
LITERATURE = [
    {"ref": "Boscoe FP, Henry KA, Zdeb MS (2012). A nationwide comparison of driving "
            "distance versus straight-line distance to hospitals. Prof Geogr 64(2):188-196. "
            "doi:10.1080/00330124.2011.583586",
     "value": "mean driving/straight-line ratio ~1.417 (USA, >66,000 locations to community "
              "hospitals; r2 > 0.9 between the measures)",
     "note": "abstract checked; the 1.417 figure is as commonly quoted, full text not re-read here"},
    {"ref": "Ballou RH, Rahardja H, Sakai N (2002). Selected country circuity factors for road "
            "travel distance estimation. Transp Res A 36(9):843-848",
     "value": "about 1.4 for England (37 sample points, long inter-city trips)",
     "note": "as summarised in Lovelace's thesis section (MassAtLeeds/RouteFactor)"},
    {"ref": "Cole JP (1968). Quantitative geography (detour index for 12 districts in GB)",
     "value": "1.17 (Somerset) to 2.19 (Aberdovey), mean 1.4",
     "note": "as summarised in Lovelace's thesis section (MassAtLeeds/RouteFactor)"},
    {"ref": "Levinson D, El-Geneidy A (2009). The minimum circuity frontier and the journey to "
            "work. Reg Sci Urban Econ 39(6):732-738",
     "value": "random pairs, Portland: 1.58 at <=5 km falling to 1.2 beyond 45 km; "
              "actual home-work trips 1.18",
     "note": "as summarised in Lovelace's thesis section (MassAtLeeds/RouteFactor)"},
    {"ref": "Wang S, Bette HM, Schreckenberg M, Guhr T (2024). How much longer do you have to "
            "drive than the crow has to fly? arXiv:2406.06490",
     "value": "typically ~1.3 (motorway networks)",
     "note": "abstract"},
]
DEFAULT_SUBSET = "eng_urban_exlondon_lt10"
REACHES_KM = (2, 3, 5, 8)


# --------------------------------------------------------------------------- data
def load(shared: Path) -> dict:
    """Return pairs as 2-D arrays (zones x hospitals) plus zone attributes."""
    m = pd.read_csv(shared / MATRIX)
    hosp = pd.read_csv(shared / HOSPITALS).set_index("Postcode")
    pwc = pd.read_csv(shared / PWC, encoding="utf-8-sig")
    ruc = pd.read_csv(shared / RUC, encoding="utf-8-sig")
    lad = pd.read_csv(shared / LAD, encoding="utf-8-sig")
    with open(shared / GM_LSOA11, encoding="utf-8") as fh:
        gm_codes = {f["properties"]["LSOA11CD"] for f in json.load(fh)["features"]}

    # The matrix is keyed by LSOA11 *name*; names are unique in the PWC file.
    name_to_code = pwc.set_index("lsoa11nm")["lsoa11cd"]
    names = m["LSOA"].to_numpy(dtype=str)
    missing = set(names) - set(name_to_code.index)
    if missing:
        msg = f"{len(missing)} matrix LSOA names not in PWC file, e.g. {sorted(missing)[:3]}"
        raise SystemExit(msg)
    codes = name_to_code.loc[names].to_numpy(dtype=str)

    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    e, n = to_bng.transform(pwc["X"].to_numpy(), pwc["Y"].to_numpy())
    xy = pd.DataFrame({"e": e, "n": n}, index=pwc["lsoa11cd"]).loc[codes]

    postcodes = np.array(m.columns[1:], dtype=str)
    hxy = hosp.loc[postcodes, ["Easting", "Northing"]].to_numpy(float)
    minutes = m.iloc[:, 1:].to_numpy(float)
    km = np.hypot(xy["e"].to_numpy()[:, None] - hxy[None, :, 0],
                  xy["n"].to_numpy()[:, None] - hxy[None, :, 1]) / 1000.0

    ruc_cd = ruc.set_index("LSOA11CD")["RUC11CD"].reindex(codes).to_numpy(dtype=str)
    lad_cd = (lad.drop_duplicates("LSOA11CD").set_index("LSOA11CD")["LAD22CD"]
              .reindex(codes).to_numpy(dtype=str))
    return {
        "codes": codes, "postcodes": postcodes, "minutes": minutes, "km": km,
        "england": np.char.startswith(codes, "E"),
        "urban": np.isin(ruc_cd, URBAN_RUC),
        "london": np.char.startswith(lad_cd, "E09"),
        "gm": np.isin(codes, list(gm_codes)),
        "n_gm_lsoa11": len(gm_codes),
        "hospital_country": hosp.loc[postcodes, "Country"].to_numpy(dtype=str),
    }


def subsets(d: dict) -> dict:
    """Named subsets: (description, zone mask, max straight-line km)."""
    eng, urb, lon, gm = d["england"], d["urban"], d["london"], d["gm"]
    ew = np.ones_like(eng)
    return {
        "gm_lt30": ("Greater Manchester zones, pairs < 30 km", gm, 30),
        "gm_lt10": ("Greater Manchester zones, pairs < 10 km", gm, 10),
        "eng_urban_lt30": ("England urban zones (RUC11 A1/B1/C1/C2), pairs < 30 km", eng & urb, 30),
        "eng_urban_lt10": ("England urban zones, pairs < 10 km", eng & urb, 10),
        "eng_urban_exlondon_lt10": ("England urban zones outside London, pairs < 10 km",
                                    eng & urb & ~lon, 10),
        "london_lt10": ("London zones, pairs < 10 km", lon, 10),
        "eng_rural_lt30": ("England rural zones (RUC11 D*/E*), pairs < 30 km", eng & ~urb, 30),
        "national_lt30": ("England & Wales, all zones, pairs < 30 km", ew, 30),
        "national_all": ("England & Wales, all zones, all pairs (any distance)", ew, np.inf),
    }


def pairs(d: dict, zone_mask: np.ndarray, max_km: float) -> tuple[np.ndarray, np.ndarray, dict]:
    km, mins = d["km"], d["minutes"]
    sel = zone_mask[:, None] & (km < max_km) & ~np.isnan(mins)
    zi, hi = np.nonzero(sel)
    info = {"n_pairs": int(sel.sum()), "n_zones": int(np.unique(zi).size),
            "n_hospitals": int(np.unique(hi).size)}
    return km[sel], mins[sel], info


# --------------------------------------------------------------------------- fits
def _wls(x, y, w):
    sw, sx, sy = w.sum(), (w * x).sum(), (w * y).sum()
    sxx, sxy = (w * x * x).sum(), (w * x * y).sum()
    slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
    return (sy - slope * sx) / sw, slope


def fit_ols(x, y):
    return _wls(x, y, np.ones_like(x))


def fit_huber(x, y, c=1.345, max_iter=200, tol=1e-8):
    """Huber M-estimate by IRLS, scale = normalised MAD of residuals (re-estimated each step)."""
    a, b = fit_ols(x, y)
    for _ in range(max_iter):
        r = y - a - b * x
        s = 1.4826 * np.median(np.abs(r - np.median(r)))
        u = np.abs(r) / (c * max(s, 1e-9))
        w = np.where(u <= 1, 1.0, 1.0 / np.maximum(u, 1e-12))
        na, nb = _wls(x, y, w)
        done = abs(na - a) < tol and abs(nb - b) < tol
        a, b = na, nb
        if done:
            break
    return a, b


def fit_lad(x, y):
    """Least absolute deviations (median regression), exact to ~1e-8.

    For a fixed slope the best intercept is median(y - slope*x), and the profiled
    objective is convex in the slope, so a 1-D Brent search suffices.
    """
    def objective(b):
        r = y - b * x
        return np.abs(r - np.median(r)).sum()

    b0 = fit_ols(x, y)[1]
    b = minimize_scalar(objective, bracket=(0.8 * b0, 1.2 * b0), tol=1e-10).x
    return float(np.median(y - b * x)), float(b)


FITTERS = {"ols": fit_ols, "huber": fit_huber, "lad": fit_lad}


def stats(x, y, a, b) -> dict:
    pred = a + b * x
    res = y - pred
    sst = float(((y - y.mean()) ** 2).sum())
    return {
        "n": int(x.size),
        "median_obs_min": float(np.median(y)),
        "median_pred_min": float(np.median(pred)),
        "r2": float(1 - (res ** 2).sum() / sst) if sst > 0 else float("nan"),
        "median_abs_error_min": float(np.median(np.abs(res))),
        "median_abs_pct_error": float(np.median(np.abs(res) / y) * 100),
        "median_error_min": float(np.median(res)),  # observed - predicted (+ = model too fast)
        "p90_abs_error_min": float(np.percentile(np.abs(res), 90)),
    }


def band_stats(x, y, a, b, bands) -> dict:
    out = {}
    for lo, hi in bands:
        s = (x >= lo) & (x < hi)
        key = f"{lo:g}-{hi:g}" if np.isfinite(hi) else f"{lo:g}+"
        out[key] = stats(x[s], y[s], a, b) if s.sum() >= 2 else {"n": int(s.sum())}
    return out


def rnd(obj, nd=4):
    if isinstance(obj, dict):
        return {k: rnd(v, nd) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rnd(v, nd) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else round(float(obj), nd) + 0.0  # no -0.0
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# --------------------------------------------------------------------------- analysis
def quantisation(minutes: np.ndarray) -> dict:
    """The calibrated times sit on a lattice a + step*k; report it (inferred, not documented)."""
    levels = np.unique(minutes[~np.isnan(minutes)])
    low = levels[:150]
    k = np.arange(low.size)
    step, a0 = np.polyfit(k, low, 1)
    return {"n_levels": int(levels.size), "min_minutes": float(levels[0]),
            "lattice_origin_min": float(a0), "lattice_step_min": float(step),
            "max_dev_first_150_levels": float(np.max(np.abs(a0 + step * k - low))),
            "n_missing_cells": int(np.isnan(minutes).sum())}


def reach_equivalence(d, zone_mask, detour, a, b, *, reaches=REACHES_KM) -> dict:
    """For road reach R km (= straight-line R/detour), the minutes threshold giving the same pairs."""
    km, mins = d["km"], d["minutes"]
    # Only pairs that can fall in either set matter: thresholds are searched up to
    # max_t minutes and reaches are far shorter than 40 km straight-line.
    max_t = 60.0
    ok = zone_mask[:, None] & ~np.isnan(mins) & ((km < 40) | (mins <= max_t))
    x, y = km[ok], mins[ok]
    hosp = np.broadcast_to(d["postcodes"][None, :], km.shape)[ok]
    levels = np.unique(y[y <= max_t])
    out = {}
    for R in reaches:
        cut = R / detour
        inside = x <= cut
        n_in = int(inside.sum())
        if n_in == 0:
            out[f"{R:g}km"] = {"straight_line_km": cut, "n_pairs_in_reach": 0}
            continue
        best = None
        for t in levels:
            m_t = y <= t
            inter = int((inside & m_t).sum())
            union = int((inside | m_t).sum())
            jac = inter / union
            if best is None or jac > best[1]:
                best = (t, jac, inter, int(m_t.sum()))
        # smallest threshold whose pair count reaches the km-reach count
        sorted_y = np.sort(y)
        t_count = float(sorted_y[n_in - 1])
        t, jac, inter, n_t = best
        nxt = levels[levels > t]
        out[f"{R:g}km"] = {
            "straight_line_km": cut,
            "n_pairs_in_reach": n_in,
            "n_hospitals_in_reach": int(np.unique(hosp[inside]).size),
            "observed_minutes_of_reach_pairs": {
                "median": float(np.median(y[inside])),
                "p90": float(np.percentile(y[inside], 90)),
                "max": float(y[inside].max())},
            "best_threshold_min": float(t),
            "best_threshold_upper_min": float(nxt[0]) if nxt.size else None,
            "best_jaccard": jac,
            "best_recall": inter / n_in,        # share of km-reach pairs inside the minutes reach
            "best_precision": inter / n_t,      # share of minutes-reach pairs inside the km reach
            "n_pairs_at_best_threshold": n_t,
            "count_matched_threshold_min": t_count,
            "model_minutes": a + b * cut,
        }
    return out


def implied_speeds(a, b, detours=(1.2, 1.3, 1.4, 1.5), road_km=(2, 3, 5, 8, 13)) -> dict:
    out = {}
    for dt in detours:
        door = {f"{r:g}km": 60 * r / (a + b * r / dt) for r in road_km}
        out[f"{dt:g}"] = {"marginal_speed_kmh": dt * 60 / b,
                          "door_to_door_speed_kmh_at_road_km": door}
    return out


def speed_only_model(x, y) -> float:
    """Least-squares minutes = x * k (no intercept); return k (min per straight-line km)."""
    return float((x * y).sum() / (x * x).sum())


# --------------------------------------------------------------------------- report
def fmt_fit_row(name, info, f):
    return (f"  {name:<26} n={info['n_pairs']:>9,} zones={info['n_zones']:>6,} "
            f"hosp={info['n_hospitals']:>3} | "
            + " | ".join(f"{k}: {v['intercept']:5.2f} + {v['slope']:.3f}x R2={v['r2']:.3f} "
                         f"MdAE={v['median_abs_error_min']:.2f} MdAPE={v['median_abs_pct_error']:.1f}%"
                         for k, v in f.items()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                    help=f"shared data folder (default {DEFAULT_SHARED})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    ap.add_argument("--detour", type=float, default=DETOUR_FACTOR,
                    help="detour factor to use (default %(default)s, from literature)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    d = load(args.shared)
    q = quantisation(d["minutes"])
    subs = subsets(d)

    fit = {}
    for key, (desc, zmask, max_km) in subs.items():
        x, y, info = pairs(d, zmask, max_km)
        methods = {}
        for mname, fn in FITTERS.items():
            a, b = fn(x, y)
            s = stats(x, y, a, b)
            methods[mname] = {"intercept": a, "slope": b, **{k: s[k] for k in (
                "r2", "median_abs_error_min", "median_abs_pct_error", "median_error_min",
                "p90_abs_error_min")}}
        hb = methods["huber"]
        bands = WIDE_BANDS if not np.isfinite(max_km) else BANDS
        fit[key] = {"description": desc, "max_straight_km": max_km if np.isfinite(max_km) else None,
                    **info, "methods": methods,
                    "bands_huber": band_stats(x, y, hb["intercept"], hb["slope"],
                                              [bd for bd in bands if bd[0] < max_km])}

    # Chosen default: robust (Huber) fit on urban short-range pairs outside London,
    # rounded to 2 dp. GM's own short-range fit is reported next to it as the check.
    dh = fit[DEFAULT_SUBSET]["methods"]["huber"]
    a0, b0 = round(dh["intercept"], 2), round(dh["slope"], 2)

    default_check = {}
    for key, (_desc, zmask, max_km) in subs.items():
        x, y, _ = pairs(d, zmask, max_km)
        bands = WIDE_BANDS if not np.isfinite(max_km) else BANDS
        default_check[key] = {"overall": stats(x, y, a0, b0),
                              "bands": band_stats(x, y, a0, b0,
                                                  [bd for bd in bands if bd[0] < max_km])}
    xs, ys, _ = pairs(d, subs[DEFAULT_SUBSET][1], subs[DEFAULT_SUBSET][2])
    k_speed = speed_only_model(xs, ys)
    speed_only = {"minutes_per_km": k_speed,
                  "implied_speed_kmh_at_detour": args.detour * 60 / k_speed,
                  "bands_on_default_subset": band_stats(xs, ys, 0.0, k_speed, BANDS[:2]),
                  "bands_on_gm_lt30": band_stats(*pairs(d, d["gm"], 30)[:2], 0.0, k_speed, BANDS)}

    reach = {"gm": reach_equivalence(d, d["gm"], args.detour, a0, b0),
             "eng_urban_exlondon": reach_equivalence(
                 d, d["england"] & d["urban"] & ~d["london"], args.detour, a0, b0)}
    speeds = implied_speeds(a0, b0)

    gm_hosp = sorted(set(d["postcodes"][np.any(d["gm"][:, None] & (d["km"] < 10), axis=0)]))
    result = {
        "detour_factor": args.detour,
        "minutes_intercept": a0,
        "minutes_per_km": b0,
        "model": "road_km = straight_km * detour_factor; "
                 "minutes = minutes_intercept + minutes_per_km * straight_km "
                 "(straight_km between points in EPSG:27700)",
        "source": ("minutes: Huber robust fit (IRLS, c=1.345, MAD scale) of car travel minutes "
                   "(SAMueL stroke_unit_demographics lsoa_travel_time_matrix_calibrated, OSRM "
                   "calibrated to Google, file dated 2023-02-16) against straight-line km from ONS "
                   "LSOA 2011 population-weighted centroids to 125 stroke-unit hospitals; subset "
                   f"'{DEFAULT_SUBSET}' ({subs[DEFAULT_SUBSET][0]}); rounded to 2 dp. "
                   "detour_factor: literature (not identifiable from times), see 'literature'."),
        "default_fit_subset": DEFAULT_SUBSET,
        "fit": fit,
        "default_check": default_check,
        "speed_only_model": speed_only,
        "implied_speed": speeds,
        "km_reach_equivalence": reach,
        "literature": LITERATURE,
        "data_notes": {
            **q,
            "n_zones_matrix": int(d["codes"].size),
            "n_hospitals_matrix": int(d["postcodes"].size),
            "hospitals_by_country": {c: int((d["hospital_country"] == c).sum())
                                     for c in np.unique(d["hospital_country"])},
            "n_gm_lsoa11": d["n_gm_lsoa11"],
            "n_gm_zones_in_matrix": int(d["gm"].sum()),
            "hospitals_within_10km_of_a_gm_zone": gm_hosp,
            "distances": "straight-line, ONS LSOA11 population-weighted centroid (WGS84 -> "
                         "EPSG:27700 with pyproj) to hospital Easting/Northing",
            "urban": "RUC11 of the origin LSOA11: A1, B1, C1, C2 urban; D1, D2, E1, E2 rural",
            "london": "LAD22 code E09* via ONS LSOA11->LSOA21->LAD22 lookup",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rnd(result), indent=1) + "\n", encoding="utf-8")

    # ---------------- readable report
    p = print
    p("Travel model calibration (car minutes vs straight-line km, LSOA11 PWC -> stroke units)")
    p(f"data: {d['codes'].size:,} zones x {d['postcodes'].size} hospitals; times on lattice "
      f"{q['lattice_origin_min']:.2f} + {q['lattice_step_min']:.4f}*k min (min {q['min_minutes']}), "
      f"{q['n_missing_cells']} missing cells")
    p("\nFits  minutes = a + b * straight_km   (MdAE = median |error| min, MdAPE = median |error| %)")
    for key, f in fit.items():
        p(fmt_fit_row(key, f, {k: f["methods"][k] for k in ("ols", "huber", "lad")}))
    p("\nBy band, each subset's own Huber fit  [n, median obs min, MdAE, MdAPE, median obs-pred, R2 in band]")
    for key, f in fit.items():
        p(f"  {key}")
        for band, s in f["bands_huber"].items():
            if s["n"] >= 2:
                p(f"    {band:>6} km  n={s['n']:>9,}  obs {s['median_obs_min']:6.1f}  "
                  f"MdAE {s['median_abs_error_min']:5.2f}  MdAPE {s['median_abs_pct_error']:5.1f}%  "
                  f"bias {s['median_error_min']:+5.2f}  R2 {s['r2']:6.3f}")
    p(f"\nCHOSEN DEFAULT: detour_factor = {args.detour}, minutes = {a0} + {b0} * straight_km "
      f"(Huber, {DEFAULT_SUBSET})")
    p("Default model checked on each subset  [MdAE min, MdAPE %, median obs-pred] by band")
    for key, c in default_check.items():
        o = c["overall"]
        p(f"  {key:<26} all: R2 {o['r2']:.3f} MdAE {o['median_abs_error_min']:.2f} "
          f"MdAPE {o['median_abs_pct_error']:.1f}% bias {o['median_error_min']:+.2f} | "
          + "  ".join(f"{bd}: {s['median_abs_error_min']:.2f}/{s['median_abs_pct_error']:.0f}%/"
                      f"{s['median_error_min']:+.2f}"
                      for bd, s in c["bands"].items() if s["n"] >= 2))
    p(f"\nSpeed-only model (no intercept) on {DEFAULT_SUBSET}: {k_speed:.3f} min/km "
      f"(= {args.detour * 60 / k_speed:.1f} km/h road at detour {args.detour}); bias (obs-pred) by band: "
      + ", ".join(f"{bd}: {s['median_error_min']:+.2f}"
                  for bd, s in speed_only["bands_on_default_subset"].items()))
    p("\nImplied speeds for the default minutes model")
    for dt, s in speeds.items():
        p(f"  detour {dt}: marginal {s['marginal_speed_kmh']:.1f} km/h; door-to-door at road km "
          + ", ".join(f"{k}: {v:.1f}" for k, v in s["door_to_door_speed_kmh_at_road_km"].items()))
    for region, rr in reach.items():
        p(f"\nkm reach -> minutes equivalence ({region}, detour {args.detour})")
        for R, r in rr.items():
            if r["n_pairs_in_reach"] == 0:
                p(f"  {R}: no pairs")
                continue
            obs = r["observed_minutes_of_reach_pairs"]
            p(f"  road {R:>4} (straight {r['straight_line_km']:.2f} km): {r['n_pairs_in_reach']:>5} pairs, "
              f"{r['n_hospitals_in_reach']} hosp; obs median {obs['median']:.1f} p90 {obs['p90']:.1f} "
              f"| best <= {r['best_threshold_min']:.1f} min (Jaccard {r['best_jaccard']:.2f}, "
              f"recall {r['best_recall']:.2f}, precision {r['best_precision']:.2f}) "
              f"| count-matched {r['count_matched_threshold_min']:.1f} | model {r['model_minutes']:.1f}")
    p(f"\nGM zones have {len(gm_hosp)} hospitals within 10 km: {', '.join(gm_hosp)}")
    p(f"wrote {args.out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
