"""Load a bundled estate (a GeoPackage's layers) into PostGIS, one table per layer.

    .venv/bin/python scripts/load_postgis.py postgresql://estate@localhost/estate
    .venv/bin/python scripts/load_postgis.py URL --gpkg data/trafford.gpkg --schema trafford

Every layer of the GeoPackage (buildings, occupiers, zones, access, compatibility) becomes the
table SCHEMA.LAYER, replaced if it exists; the schema is created if missing. Spatial layers keep
their CRS (the SRID of their geometry column). The password in URL (or PGPASSWORD) is never
printed. Used by `.ci/run` to give the PostGIS tests a real server with the Trafford estate in it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from estate.postgis import masked_url  # noqa: E402


def load(url: str, gpkg: Path, schema: str) -> dict[str, int]:
    """Write every layer of `gpkg` to `schema`; return {table: rows}."""
    engine = sa.create_engine(url)
    written: dict[str, int] = {}
    try:
        with engine.begin() as con:
            con.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        for layer, geometry_type in pyogrio.list_layers(gpkg):
            frame = (
                gpd.read_file(gpkg, layer=layer)
                if geometry_type
                else pd.DataFrame(pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False))
            )
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_postgis(str(layer), engine, schema=schema, if_exists="replace", index=False)
            else:
                frame.to_sql(str(layer), engine, schema=schema, if_exists="replace", index=False)
            written[str(layer)] = len(frame)
    finally:
        engine.dispose()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="postgresql://user[:password]@host[:port]/database")
    parser.add_argument("--gpkg", type=Path, default=ROOT / "data" / "trafford.gpkg")
    parser.add_argument("--schema", default="trafford")
    args = parser.parse_args(argv)
    written = load(args.url, args.gpkg, args.schema)
    for table, rows in written.items():
        print(f"{masked_url(args.url)}#{args.schema}.{table}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
