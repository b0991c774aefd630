#!/usr/bin/env python
"""A reproducible fuzz campaign of bad inputs through the command line, as a user would give them.

    .venv/bin/python bench/fuzz_inputs.py --seed 1 --cases 400 --out /tmp/fuzz
    .venv/bin/python bench/fuzz_inputs.py --seed 2 --kinds scenario,mapping --cases 100

Every case writes one set of input files (a small valid register cut from data/trafford.gpkg,
then broken in one way), runs ``python -m optimiser validate --strict`` or ``run`` on it in a
subprocess with a time limit and a memory ceiling, and classifies the outcome:

- ``internal``: "internal error", a Python traceback, or an exit code other than 0, 2 and 3;
- ``hang``: still running after ``--timeout`` seconds (killed);
- ``memory``: peak memory over ``--memory-gb`` (the process is limited to that much);
- ``modified``: an input file's bytes changed;
- ``vague``: a refusal (exit 2) whose message does not name the file, or, for a broken cell or
  key, its row or key, its column and the value given;
- ``ok``: anything else (accepted, or refused with a message that names what it must).

It prints a table of outcomes by kind and writes every case that was not ``ok`` to
``OUT/findings.jsonl`` with its command and output, so each can be replayed. The campaign
changes nothing in the repository.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
KINDS = ("csv_cell", "csv_shape", "excel", "geo", "mapping", "scenario", "travel", "grid", "args")

JUNK = [
    "", " ", "abc", "-1", "-0", "0", "1e308", "-1e308", "inf", "-inf", "nan", "NaN", "1,5", "53,45",
    "=1+1", "NULL", "None", "NA", "\x00", "\u2212" + "5", "1_000", "0x10", "TRUE", "yes", "12.5.3",
    "😀", "x" * 5000, "1e-320", "  12 ", "9" * 400, "[1, 2]", "{}", "'", '"', "\\", "\t", "\r\n",
]
TOML_JUNK = [
    '"text"', '"false"', '"2026"', "true", "false", "inf", "-inf", "nan", "-1", "0", "1e308",
    "100000", "[]", "[1, 2]", '["a", 1]', "{}", "{ a = 1 }", "1979-05-27", "0.5", "-0.5", "3",
]


@dataclass
class Case:
    kind: str
    name: str
    argv: list[str]
    files: list[Path]
    expect: dict[str, str] = field(default_factory=dict)  # what a refusal must name


@dataclass
class Outcome:
    case: Case
    verdict: str
    code: int | None
    seconds: float
    peak_mb: float
    output: str
    why: str = ""


# ------------------------------------------------------------------------------------ base data
def base_tables(workdir: Path) -> dict[str, Any]:
    """Trafford's tables as plain pandas frames (buildings with easting/northing)."""
    import geopandas as gpd

    gpkg = REPO / "data" / "trafford.gpkg"
    b = gpd.read_file(gpkg, layer="buildings")
    b["easting"], b["northing"] = b.geometry.x.round(2), b.geometry.y.round(2)
    b = b.drop(columns="geometry").head(25)
    o = gpd.read_file(gpkg, layer="occupiers")
    o = o[o["building_id"].isin(b["building_id"])]
    z = gpd.read_file(gpkg, layer="zones")
    z["easting"], z["northing"] = z.geometry.x.round(2), z.geometry.y.round(2)
    z = z.drop(columns="geometry").head(60)
    return {"buildings": b, "occupiers": o.drop(columns="geometry", errors="ignore"), "zones": z}


def write_base(tables: dict[str, Any], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, frame in tables.items():
        out[name] = folder / f"{name}.csv"
        frame.to_csv(out[name], index=False)
    return out


def table_args(paths: dict[str, Path]) -> list[str]:
    return ["--buildings", str(paths["buildings"]), "--occupiers", str(paths["occupiers"]),
            "--zones", str(paths["zones"])]  # fmt: skip


# ------------------------------------------------------------------------------------ cases
def case_csv_cell(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    name = rng.choice(["buildings", "occupiers", "zones"])
    frame = tables[name].copy().astype(object)
    row = rng.randrange(len(frame))
    column = rng.choice([c for c in frame.columns if c != "modelled"])
    value = rng.choice(JUNK)
    frame.iat[row, frame.columns.get_loc(column)] = value
    paths = write_base({**tables, name: frame}, folder)
    expect = {"file": paths[name].name, "row": f"row {row + 1}", "column": column, "value": value}
    return Case("csv_cell", f"{name}[{row}].{column}={value[:20]!r}",
                ["validate", *table_args(paths), "--strict"], list(paths.values()), expect)  # fmt: skip


def case_csv_shape(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    paths = write_base(tables, folder)
    target = paths["buildings"]
    text = target.read_text(encoding="utf-8")
    lines = text.splitlines()
    choice = rng.choice([
        "empty", "header_only", "drop_column", "duplicate_header", "ragged", "latin1", "bom",
        "binary", "directory", "missing", "dup_ids", "semicolon", "crlf_quotes", "huge_field",
    ])  # fmt: skip
    if choice == "empty":
        target.write_bytes(b"")
    elif choice == "header_only":
        target.write_text(lines[0] + "\n", encoding="utf-8")
    elif choice == "drop_column":
        frame = tables["buildings"].drop(columns=rng.choice(["building_id", "owner", "easting"]))
        frame.to_csv(target, index=False)
    elif choice == "duplicate_header":
        target.write_text(lines[0] + "," + lines[0].split(",")[0] + "\n" + "\n".join(lines[1:]), encoding="utf-8")
    elif choice == "ragged":
        lines[3] = lines[3] + ",extra,cells"
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif choice == "latin1":
        target.write_bytes(text.replace("Town", "Tøwn £").encode("latin-1", errors="replace"))
    elif choice == "bom":
        target.write_bytes(b"\xef\xbb\xbf" + text.encode())
    elif choice == "binary":
        target.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    elif choice == "directory":
        target.unlink()
        target.mkdir()
    elif choice == "missing":
        target.unlink()
    elif choice == "dup_ids":
        row = lines[1]
        target.write_text(lines[0] + "\n" + "\n".join([row] * 20000) + "\n", encoding="utf-8")
    elif choice == "semicolon":
        target.write_text(text.replace(",", ";"), encoding="utf-8")
    elif choice == "crlf_quotes":
        target.write_bytes(text.replace("\n", "\r\n").replace(",", ',"', 3).encode())
    elif choice == "huge_field":
        lines[2] = lines[2] + "," + "y" * 2_000_000
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = [p for p in paths.values() if p.is_file()]
    return Case("csv_shape", choice, ["validate", *table_args(paths), "--strict"], files,
                {"file": target.name})  # fmt: skip


def case_excel(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    import openpyxl

    paths = write_base(tables, folder)
    target = folder / "buildings.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    frame = tables["buildings"]
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and math.isnan(v)) else v for v in row])
    choice = rng.choice(["formula", "far_cell", "date", "two_sheets", "empty_sheet", "bool", "error_cell"])
    expect = {"file": target.name}
    column = rng.randrange(2, len(frame.columns) - 2)
    if choice == "formula":
        ws.cell(row=4, column=column + 1, value="=1/0")
        expect.update(row="row 3", column=str(frame.columns[column]))
    elif choice == "far_cell":
        ws.cell(row=1_048_576, column=16_384, value=1)
    elif choice == "date":
        import datetime

        ws.cell(row=5, column=frame.columns.get_loc("gia_m2") + 1, value=datetime.date(2024, 1, 1))
        expect.update(row="row 4", column="gia_m2")
    elif choice == "two_sheets":
        wb.create_sheet("other").append(["nothing", "here"])
    elif choice == "empty_sheet":
        wb.remove(ws)
        wb.create_sheet("buildings")
    elif choice == "bool":
        ws.cell(row=3, column=frame.columns.get_loc("running_cost_gbp") + 1, value=True)
        expect.update(row="row 2", column="running_cost_gbp")
    elif choice == "error_cell":
        ws.cell(row=6, column=frame.columns.get_loc("market_value_gbp") + 1, value="#DIV/0!")
        expect.update(row="row 5", column="market_value_gbp")
    wb.save(target)
    paths["buildings"] = target
    return Case("excel", choice, ["validate", *table_args(paths), "--strict"], list(paths.values()), expect)


def case_geo(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    paths = write_base(tables, folder)
    frame = tables["buildings"].copy()
    gdf = gpd.GeoDataFrame(
        frame.drop(columns=["easting", "northing"]),
        geometry=[Point(x, y) for x, y in zip(frame["easting"], frame["northing"], strict=True)],
        crs=27700,
    )
    choice = rng.choice(["no_crs_gpkg", "geojson_bng_no_crs", "null_geometry", "bad_polygon",
                         "wrong_layer", "shp_zip_nested", "shp_no_prj", "far_away", "crs_4326_swapped"])  # fmt: skip
    extra: list[str] = []
    expect: dict[str, str] = {}
    if choice == "no_crs_gpkg":
        target = folder / "buildings.gpkg"
        gdf.set_crs(None, allow_override=True).to_file(target, layer="buildings")
    elif choice == "geojson_bng_no_crs":
        target = folder / "buildings.geojson"
        gdf.to_file(target, driver="GeoJSON")
        data = json.loads(target.read_text())
        data.pop("crs", None)
        target.write_text(json.dumps(data))
    elif choice == "null_geometry":
        target = folder / "buildings.gpkg"
        gdf.loc[3, "geometry"] = None
        gdf.to_file(target, layer="buildings")
        expect = {"row": "row 4"}
    elif choice == "bad_polygon":
        target = folder / "buildings.gpkg"
        x, y = frame["easting"].iloc[2], frame["northing"].iloc[2]
        gdf.loc[2, "geometry"] = Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
        gdf.to_file(target, layer="buildings")
    elif choice == "wrong_layer":
        target = folder / "buildings.gpkg"
        gdf.to_file(target, layer="assets")
        extra = ["--layer", "buildings=nonexistent"]
    elif choice in ("shp_zip_nested", "shp_no_prj"):
        shp_dir = folder / "shp"
        shp_dir.mkdir()
        gdf.to_file(shp_dir / "buildings.shp")
        target = folder / "buildings.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for part in shp_dir.iterdir():
                if choice == "shp_no_prj" and part.suffix == ".prj":
                    continue
                zf.write(part, f"inner/folder/{part.name}" if choice == "shp_zip_nested" else part.name)
        shutil.rmtree(shp_dir)
    elif choice == "far_away":
        target = folder / "buildings.gpkg"
        gdf.loc[1, "geometry"] = Point(9_000_000, 9_000_000)
        gdf.to_file(target, layer="buildings")
        expect = {"row": "row 2"}
    else:  # crs_4326_swapped: lat/lon swapped in degrees
        target = folder / "buildings.geojson"
        ll = gdf.to_crs(4326)
        ll["geometry"] = [Point(p.y, p.x) for p in ll.geometry]
        ll.to_file(target, driver="GeoJSON")
    paths["buildings"] = target
    expect = {"file": target.name, **expect}
    return Case("geo", choice, ["validate", *table_args(paths), *extra, "--strict"], list(paths.values()), expect)


def case_mapping(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    paths = write_base(tables, folder)
    target = folder / rng.choice(["map.toml", "map.yaml"])
    key = rng.choice(["columns", "values", "ids", "constants", "read", "buildings", "read.crs"])
    junk = rng.choice([*TOML_JUNK, '"EPSG:999999"', '"not a crs"'])
    if target.suffix == ".toml":
        if key == "read.crs":
            text = f"[buildings.read]\ncrs = {junk}\n"
        elif key == "buildings":
            text = f"buildings = {junk}\n"
        else:
            text = f"[buildings]\n{key} = {junk}\n"
    elif key == "read.crs":
        text = f"buildings:\n  read:\n    crs: {junk}\n"
    elif key == "buildings":
        text = f"buildings: {junk}\n"
    else:
        text = f"buildings:\n  {key}: {junk}\n"
    target.write_text(text, encoding="utf-8")
    return Case("mapping", f"{target.suffix} {key}={junk}",
                ["validate", *table_args(paths), "--mapping", str(target), "--strict"],
                [*paths.values(), target], {"file": target.name, "column": key.split(".")[-1]})  # fmt: skip


SCENARIO_KEYS: list[tuple[str, str]] = []


def scenario_keys() -> list[tuple[str, str]]:
    """(section, key) pairs of data/scenarios/default.toml."""
    import tomllib

    if not SCENARIO_KEYS:
        data = tomllib.loads((REPO / "data" / "scenarios" / "default.toml").read_text(encoding="utf-8"))
        for section, body in data.items():
            if isinstance(body, dict):
                SCENARIO_KEYS.extend((section, k) for k, v in body.items() if not isinstance(v, dict | list))
            else:
                SCENARIO_KEYS.append(("", section))
    return SCENARIO_KEYS


def case_scenario(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    section, key = rng.choice(scenario_keys())
    junk = rng.choice(TOML_JUNK)
    target = folder / "scenario.toml"
    head = f"[{section}]\n" if section else ""
    if rng.random() < 0.1:
        text, what = "this is = not [toml\n", "syntax"
    elif rng.random() < 0.1:
        text, what = head + f"{key}_typo = 1\n", "unknown key"
    else:
        text, what = head + f"{key} = {junk}\n[solver]\ntime_limit_s = 10\n", f"{key}={junk}"
        if section == "solver":
            text = head + f"{key} = {junk}\n" + ("time_limit_s = 10\n" if key != "time_limit_s" else "")
    target.write_text(text, encoding="utf-8")
    out = folder / "out"
    return Case("scenario", f"[{section}] {what}",
                ["run", "--place", "trafford", "--scenario", str(target), "--out", str(out), "--quiet"],
                [target], {"file": target.name, "column": key})  # fmt: skip


def case_travel(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    paths = write_base(tables, folder)
    target = folder / "minutes.csv"
    zones, buildings = list(tables["zones"]["zone_id"]), list(tables["buildings"]["building_id"])
    rows = [f"{z},{b},{rng.uniform(1, 30):.1f}" for z in zones[:10] for b in buildings[:5]]
    choice = rng.choice(["duplicate", "unknown_zone", "unknown_building", "negative", "inf", "nan",
                         "text", "missing_column", "empty", "extra_value"])  # fmt: skip
    header = "zone_id,building_id,minutes"
    row = rng.randrange(len(rows))
    expect = {"file": target.name}
    if choice == "duplicate":
        rows.append(rows[row])
    elif choice == "unknown_zone":
        rows[row] = "E01999999," + rows[row].split(",", 1)[1]
        expect.update(value="E01999999")
    elif choice == "unknown_building":
        z, _, m = rows[row].split(",")
        rows[row] = f"{z},NO_SUCH_BUILDING,{m}"
        expect.update(value="NO_SUCH_BUILDING")
    elif choice in ("negative", "inf", "nan", "text"):
        value = {"negative": "-3", "inf": "inf", "nan": "nan", "text": "soon"}[choice]
        z, b, _ = rows[row].split(",")
        rows[row] = f"{z},{b},{value}"
        expect.update(value=value, column="minutes")
    elif choice == "missing_column":
        header = "zone_id,building_id"
        rows = [r.rsplit(",", 1)[0] for r in rows]
    elif choice == "empty":
        header, rows = "", []
    elif choice == "extra_value":
        rows[row] += ",7"
    target.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return Case("travel", choice, ["validate", *table_args(paths), "--travel-matrix", str(target), "--strict"],
                [*paths.values(), target], expect)  # fmt: skip


def case_grid(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "grid.toml"
    choice = rng.choice(["huge", "bad_key", "bad_value", "not_a_list", "empty_list", "syntax"])
    if choice == "huge":
        text = "[grid]\n" + "\n".join(f'"limits.max_disposals" = [{", ".join(map(str, range(100)))}]'
                                      .replace("max_disposals", k) for k in
                                      ("max_disposals", "capital_budget_gbp", "receipts_target_gbp", "carbon_cap_tco2e"))  # fmt: skip
    elif choice == "bad_key":
        text = '[grid]\n"limits.no_such_key" = [1, 2]\n'
    elif choice == "bad_value":
        text = '[grid]\n"costs.cat_discount" = [0.5, "lots", inf]\n'
    elif choice == "not_a_list":
        text = '[grid]\n"costs.cat_discount" = 0.5\n'
    elif choice == "empty_list":
        text = '[grid]\n"costs.cat_discount" = []\n'
    else:
        text = "[grid\n"
    target.write_text(text, encoding="utf-8")
    return Case("grid", choice,
                ["sweep", "--estate", str(REPO / "data" / "trafford.gpkg"), "--places", "Trafford",
                 "--scenarios", str(target), "--workers", "1", "--time-limit", "10",
                 "--out", str(folder / "out"), "--no-progress"],
                [target], {"file": target.name})  # fmt: skip


def case_args(rng: random.Random, tables: dict[str, Any], folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    flag, value = rng.choice([
        ("--threads", "100000"), ("--threads", "-1"), ("--threads", "four"), ("--time-limit", "-1"),
        ("--time-limit", "nan"), ("--time-limit", "inf"), ("--gap", "2"), ("--gap", "nan"),
        ("--layer", "buildings"), ("--layer", "=x"), ("--solver", "gurobi"), ("--out", "/proc/nope"),
    ])  # fmt: skip
    argv = ["run", "--place", "trafford", "--out", str(folder / "out"), "--quiet", "--time-limit", "20"]
    argv += [flag, value]
    return Case("args", f"{flag} {value}", argv, [], {"column": flag.lstrip("-").split("-")[0]})


GENERATORS = {
    "csv_cell": case_csv_cell, "csv_shape": case_csv_shape, "excel": case_excel, "geo": case_geo,
    "mapping": case_mapping, "scenario": case_scenario, "travel": case_travel, "grid": case_grid,
    "args": case_args,
}  # fmt: skip


# ------------------------------------------------------------------------------------ running
def digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        if p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_case(case: Case, *, timeout_s: float, memory_gb: float) -> Outcome:
    before = digest(case.files)
    limit = int(memory_gb * 1024**3)

    def limits() -> None:  # runs in the child before exec; no other thread is alive here
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimiser", *case.argv],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        preexec_fn=limits, start_new_session=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},  # noqa: PLW1509
    )  # fmt: skip
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout_s)
    hung = reader.is_alive()
    if hung:
        os.killpg(proc.pid, signal.SIGKILL)
        reader.join()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory, not the campaign's
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    peak_mb = usage.ru_maxrss / 1024
    output_bytes = b"".join(chunks)
    output = output_bytes.decode("utf-8", errors="replace")
    code = proc.returncode
    outcome = Outcome(case, "ok", code, seconds, peak_mb, output)
    if hung:
        outcome.verdict, outcome.why = "hang", f"killed after {timeout_s:.0f} s"
    elif peak_mb > memory_gb * 1024 * 0.95 or "MemoryError" in output or "std::bad_alloc" in output or "Cannot allocate memory" in output:
        outcome.verdict, outcome.why = "memory", f"over {memory_gb} GB"
    elif "Traceback (most recent call last)" in output or "internal error" in output.lower():
        outcome.verdict, outcome.why = "internal", "internal error or traceback"
    elif code not in (0, 2, 3):
        outcome.verdict, outcome.why = "internal", f"exit code {code}"
    elif digest(case.files) != before:
        outcome.verdict, outcome.why = "modified", "an input file changed"
    elif code == 2:
        missing = [what for what, text in case.expect.items() if not _named(output, what, text)]
        if missing:
            outcome.verdict, outcome.why = "vague", "message does not name the " + ", ".join(missing)
    return outcome


def _named(output: str, what: str, text: str) -> bool:
    if what == "value":
        shown = text.strip()
        if not shown or len(shown) > 40 or any(ord(c) < 32 for c in shown):
            return True  # blank, very long or control characters: shown abbreviated or escaped
        return shown in output or repr(shown) in output
    if what == "column":
        return text.lower() in output.lower() or text.replace("_", " ").lower() in output.lower()
    return text in output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--out", type=Path, default=Path("/tmp/fuzz_inputs"))
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a case may take (default 180)")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="memory ceiling per case (default 4)")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kind(s) {unknown}; choose from {', '.join(KINDS)}")
    rng = random.Random(args.seed)
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    tables = base_tables(args.out)
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    findings = (args.out / "findings.jsonl").open("w", encoding="utf-8")
    for i in range(args.cases):
        kind = kinds[i % len(kinds)]
        case = GENERATORS[kind](rng, tables, args.out / f"case_{i:04d}")
        outcome = run_case(case, timeout_s=args.timeout, memory_gb=args.memory_gb)
        counts[kind][outcome.verdict] += 1
        if outcome.verdict != "ok":
            findings.write(json.dumps({
                "case": i, "kind": kind, "name": case.name, "verdict": outcome.verdict, "why": outcome.why,
                "code": outcome.code, "argv": case.argv, "expect": case.expect, "output": outcome.output[-4000:],
            }) + "\n")  # fmt: skip
            findings.flush()
            print(f"case {i:4d} {kind:10s} {outcome.verdict:8s} {case.name[:60]!s}: {outcome.why}", flush=True)
        else:
            shutil.rmtree(args.out / f"case_{i:04d}", ignore_errors=True)
    findings.close()
    verdicts = ["ok", "vague", "internal", "hang", "memory", "modified"]
    print(f"\n{args.cases} cases, seed {args.seed}; findings in {args.out / 'findings.jsonl'}")
    print(f"{'kind':10s} " + " ".join(f"{v:>8s}" for v in verdicts))
    for kind in kinds:
        print(f"{kind:10s} " + " ".join(f"{counts[kind][v]:8d}" for v in verdicts))
    total = collections.Counter[str]()
    for c in counts.values():
        total.update(c)
    print(f"{'total':10s} " + " ".join(f"{total[v]:8d}" for v in verdicts))
    return 0 if total["ok"] == args.cases else 1


if __name__ == "__main__":
    raise SystemExit(main())
