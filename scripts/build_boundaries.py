"""Build data/boundaries.gpkg: LSOA 2021 and borough outlines for the maps' offline background.

    .venv/bin/python scripts/build_boundaries.py                  # reads ../shared/data
    .venv/bin/python scripts/build_boundaries.py --shared DIR --out data/boundaries.gpkg

Reads the generalised LSOA 2021 polygons of Greater Manchester (which hold Trafford's) from
``boundaries_drkane/lsoa/E47000001.geojson`` (ONS, OGL v3: "Contains OS data © Crown copyright
and database right") and writes two layers in EPSG:27700, simplified to `TOLERANCE_M`:

- ``lsoa``: ``zone_id`` (LSOA21CD, the bundled zones' ID), ``name``, ``borough``;
- ``boroughs``: ``borough`` and the union of its LSOAs.

The output is deterministic. Maps draw these under the buildings so that a map with no tiles
(offline) still shows where things are (`optimiser.report.maps.boundaries`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE_M = 15.0  # simplification: well under a street's width at the zooms the maps use


def build(shared: Path, out: Path) -> dict[str, int]:
    lad = pd.read_csv(shared / "boundaries_drkane" / "la_all_codes.csv", dtype=str)
    lad_name = dict(zip(lad["LADCD"], lad["LADNM"], strict=True))
    lsoa = gpd.read_file(shared / "boundaries_drkane" / "lsoa" / "E47000001.geojson").to_crs(27700)
    lsoa = gpd.GeoDataFrame(
        {
            "zone_id": lsoa["LSOA21CD"].astype(str),
            "name": lsoa["LSOA21NM"].astype(str),
            "borough": lsoa["LADCD_ACTIVE"].map(lad_name).astype(str),
        },
        geometry=lsoa.geometry.make_valid(),
        crs=27700,
    ).sort_values("zone_id", ignore_index=True)
    boroughs = lsoa.dissolve("borough", as_index=False)[["borough", "geometry"]]
    boroughs["geometry"] = boroughs.geometry.simplify(TOLERANCE_M)
    lsoa["geometry"] = lsoa.geometry.simplify(TOLERANCE_M, preserve_topology=True)
    out.unlink(missing_ok=True)
    lsoa.to_file(out, layer="lsoa", driver="GPKG")
    boroughs.sort_values("borough", ignore_index=True).to_file(out, layer="boroughs", driver="GPKG")
    return {"lsoa": len(lsoa), "boroughs": len(boroughs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "boundaries.gpkg")
    args = parser.parse_args(argv)
    counts = build(args.shared, args.out)
    print(
        f"{args.out}: {counts['lsoa']:,} LSOAs, {counts['boroughs']:,} boroughs, {args.out.stat().st_size / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
