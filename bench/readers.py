"""Time and peak memory of reading nasty and large registers (see docs/limits.md).

Each case is written to a temporary folder and loaded with `estate.load_estate` in a fresh
process under ``/usr/bin/time -v``, so the peak resident memory is that one load's. Cases:

- ``dup10k`` / ``dup20k``: 10,000 / 20,000 building rows that all share one ID;
- ``far_cell``: an Excel sheet whose dimension claims A1:XFD1048576, with one cell there;
- ``xlsx_bomb``: an xlsx of ~3 MB whose sheet unpacks to 3 GB of padding;
- ``row_limit`` / ``row_limit_xlsx``: a synthetic register with `estate.upload.MAX_ROWS`
  buildings, as CSV and as Excel;
- ``widest_csv``: the most cells a table within the limits can hold (`MAX_ROWS` rows of
  `MAX_CELLS` / `MAX_ROWS` = 50 columns of one-character cells);
- ``three_tables``: buildings, occupiers and zones, each `MAX_ROWS` rows (CSV);
- ``greater_manchester`` / ``england``: the bundled estates (``data/*.gpkg``).

    .venv/bin/python bench/readers.py [--cases dup10k dup20k ...] [--timeout 600]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CASES = (
    "dup10k",
    "dup20k",
    "far_cell",
    "xlsx_bomb",
    "row_limit",
    "row_limit_xlsx",
    "widest_csv",
    "three_tables",
    "greater_manchester",
    "england",
)
HEADER = "building_id,name,owner,owner_type,gia_m2,capacity_m2,running_cost_gbp,market_value_gbp,lon,lat\n"


def _register_csv(path: Path, rows: int, *, same_id: bool) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            bid = "B1" if same_id else f"B{i}"
            lon, lat = -2.5 + (i % 997) / 2000, 53.3 + (i // 997) / 500
            out.write(f"{bid},Site {i},Council {i % 10},council,1000,800,50000,250000,{lon:.6f},{lat:.6f}\n")
    return path


def _far_cell_xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["building_id", "owner", "lon", "lat"])
    for i in range(5):
        sheet.append([f"B{i}", "Council", -2.3, 53.4 + i / 100])
    sheet["XFD1048576"] = "stray"
    book.save(path)
    return path


def _xlsx_bomb(path: Path, padding_bytes: int) -> Path:
    """A valid workbook whose sheet XML holds `padding_bytes` of spaces before its data."""
    import openpyxl

    plain = path.with_name("plain.xlsx")
    book = openpyxl.Workbook()
    book.active.append(["building_id", "owner", "lon", "lat"])
    book.active.append(["B1", "Council", -2.3, 53.4])
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with dst.open(info.filename, "w", force_zip64=True) as member:
                member.write(head + b"<sheetData>")
                chunk = b" " * (1 << 20)
                for _ in range(padding_bytes // len(chunk)):
                    member.write(chunk)
                member.write(tail)
    plain.unlink()
    return path


def _csv_to_xlsx(csv: Path, path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    with csv.open(encoding="utf-8") as rows:
        for i, line in enumerate(rows):
            cells = line.rstrip("\n").split(",")
            sheet.append(cells if i == 0 else [*cells[:4], *map(float, cells[4:])])
    book.save(path)
    return path


def _widest_csv(path: Path, rows: int, columns: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("building_id,owner,lon,lat," + ",".join(f"c{i}" for i in range(columns - 4)) + "\n")
        filler = ",".join("x" * (columns - 4))
        for i in range(rows):
            out.write(f"B{i},x,-2.3,53.4,{filler}\n")
    return path


def _make(case: str, folder: Path) -> Path:
    if case == "dup10k":
        return _register_csv(folder / "dup10k.csv", 10_000, same_id=True)
    if case == "dup20k":
        return _register_csv(folder / "dup20k.csv", 20_000, same_id=True)
    if case == "far_cell":
        return _far_cell_xlsx(folder / "far_cell.xlsx")
    if case == "xlsx_bomb":
        return _xlsx_bomb(folder / "bomb.xlsx", 3 << 30)
    if case in ("row_limit", "row_limit_xlsx", "widest_csv"):
        from estate.upload import MAX_CELLS, MAX_ROWS

        csv = _register_csv(folder / "row_limit.csv", MAX_ROWS, same_id=False)
        if case == "row_limit":
            return csv
        if case == "row_limit_xlsx":
            return _csv_to_xlsx(csv, folder / "row_limit.xlsx")
        return _widest_csv(folder / "widest.csv", MAX_ROWS, MAX_CELLS // MAX_ROWS)
    if case == "three_tables":
        from estate.upload import MAX_ROWS

        _register_csv(folder / "buildings.csv", MAX_ROWS, same_id=False)
        _table_csv(folder / "occupiers.csv", MAX_ROWS, occupiers=True)
        _table_csv(folder / "zones.csv", MAX_ROWS, occupiers=False)
        return folder / "buildings.csv"
    return REPO / "data" / f"{case}.gpkg"


def _table_csv(path: Path, rows: int, *, occupiers: bool) -> Path:
    with path.open("w", encoding="utf-8") as out:
        if occupiers:
            out.write("occupier_id,name,partner,service,building_id,space_m2,space_type,public_facing\n")
            for i in range(rows):
                out.write(f"O{i},Team {i},Council {i % 10},library,B{i},400,library,true\n")
        else:
            out.write("zone_id,name,population,imd_decile,lon,lat\n")
            for i in range(rows):
                lon, lat = -2.5 + (i % 997) / 2000, 53.3 + (i // 997) / 500
                out.write(f"Z{i},Zone {i},1500,{i % 10 + 1},{lon:.6f},{lat:.6f}\n")
    return path


LOADER = """
import sys, warnings
warnings.simplefilter("ignore")
from pathlib import Path
from estate import EstateError, load_estate
folder = Path(sys.argv[1]).parent
more = {t: folder / f"{t}.csv" for t in ("occupiers", "zones") if (folder / f"{t}.csv").exists()}
try:
    estate = load_estate(sys.argv[1], **more)
    print("accepted", len(estate.buildings), "rejected", len(estate.rejected["buildings"]))
except EstateError as err:
    print("refused:", str(err).splitlines()[0][:300])
"""


def measure(path: Path, timeout: float) -> dict[str, object]:
    """Wall time (s), peak RSS (MB) and the outcome of loading `path` in a fresh process."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-c", LOADER, str(path)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"time_s": None, "peak_mb": None, "outcome": f"killed after {timeout:g} s"}
    elapsed = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    outcome = done.stdout.strip() or done.stderr.strip().splitlines()[0]
    return {
        "time_s": round(elapsed, 2),
        "peak_mb": round(int(peak.group(1)) / 1024) if peak else None,
        "outcome": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        for case in args.cases:
            path = _make(case, Path(tmp))
            size_mb = path.stat().st_size / 1e6
            result = {"case": case, "file_mb": round(size_mb, 2), **measure(path, args.timeout)}
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
