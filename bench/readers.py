"""Time and peak memory of reading nasty and large registers (see docs/limits.md).

Each case is written to a temporary folder and loaded with `estate.load_estate` in a fresh
process under ``/usr/bin/time -v``, so the peak resident memory is that one load's. Cases:

- ``dup10k`` / ``dup20k``: 10,000 / 20,000 building rows that all share one ID;
- ``far_cell``: an Excel sheet whose dimension claims A1:XFD1048576, with one cell there;
- ``xlsx_bomb``: an xlsx of ~3 MB whose sheet unpacks to 3 GB of padding;
- ``row_limit``: a synthetic CSV register with `estate.upload.MAX_ROWS` buildings;
- ``greater_manchester``: the bundled estate.

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

CASES = ("dup10k", "dup20k", "far_cell", "xlsx_bomb", "row_limit", "greater_manchester")
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


def _make(case: str, folder: Path) -> Path:
    if case == "dup10k":
        return _register_csv(folder / "dup10k.csv", 10_000, same_id=True)
    if case == "dup20k":
        return _register_csv(folder / "dup20k.csv", 20_000, same_id=True)
    if case == "far_cell":
        return _far_cell_xlsx(folder / "far_cell.xlsx")
    if case == "xlsx_bomb":
        return _xlsx_bomb(folder / "bomb.xlsx", 3 << 30)
    if case == "row_limit":
        from estate.upload import MAX_ROWS

        return _register_csv(folder / "row_limit.csv", MAX_ROWS, same_id=False)
    return REPO / "data" / "greater_manchester.gpkg"


LOADER = """
import sys, warnings
warnings.simplefilter("ignore")
from estate import EstateError, load_estate
try:
    estate = load_estate(sys.argv[1])
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
