#!/usr/bin/env python
"""Benchmark suite: prints medians and ratios and regenerates the table in docs/performance.md.

    .venv/bin/python bench/run_all.py                      # everything (about 12 minutes here)
    .venv/bin/python bench/run_all.py --skip capb --repeat 1 --no-write   # a quick look

Parts (``--skip`` any of them):

- ``size``:    model build and solve time against size: Trafford (data/trafford.gpkg), one
               borough (Manchester, cut from data/greater_manchester.gpkg with its boundary
               buffer), Greater Manchester (whole), and England's largest place (Kent);
               medians over ``--repeat`` runs, one solver thread;
- ``national``: ``sweep --national`` with 2 workers (the default scenario for every place,
               ``NATIONAL_TIME_LIMIT_S`` per place, as the CLI): wall time, statuses, per-place
               times and CPU seconds, gaps (of the objective and as a share of each place's
               NPV), the places with the largest gaps;
- ``workers``: the 6 slowest places of that sweep, run on 1 and on 2 workers (cluster start
               excluded, each run forced to recompute); medians and the speed-up;
- ``capb``:    OR-Library capb at ``--capb-time-limit`` seconds through ``bench/capb.py``
               (a colleague's script; skipped with the reason if it cannot be imported).

Results are also written to ``bench/last_run.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from estate import load_estate  # noqa: E402
from optimiser.model import build_model  # noqa: E402
from optimiser.pipeline import solve  # noqa: E402
from optimiser.scenario import Scenario  # noqa: E402
from optimiser.sweep import NATIONAL_TIME_LIMIT_S, default_base, run_sweep, scenario_row  # noqa: E402
from optimiser.sweep.places import boundary_buffer_km, place_estate, resolve_places  # noqa: E402

DOC = REPO / "docs" / "performance.md"
PARTS = ("size", "national", "workers", "capb")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
ENGLAND = REPO / "data" / "england.gpkg"


def say(text: str = "") -> None:
    print(text, flush=True)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def solve_once(estate: Any, scenario: Scenario) -> dict[str, Any]:
    """Build and solve; seconds and the solver's verdict."""
    t0 = time.perf_counter()
    model = build_model(estate, scenario)
    t1 = time.perf_counter()
    plan = solve(model)  # the scenario's solver, limit, gap and threads, from today's estate
    t2 = time.perf_counter()
    return {
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "status": "optimal" if plan.proven_optimal else plan.info.status,
        "gap": plan.info.gap,
        "variables": model.stats["variables"],
        "constraints": model.stats["constraints"],
    }


def bench_size(repeat: int, gm_time_limit: float) -> list[dict[str, Any]]:
    say("== build and solve time against size (1 solver thread)")
    cases: list[tuple[str, Any, float]] = []
    trafford = load_estate(REPO / "data" / "trafford.gpkg", name="Trafford")
    cases.append(("Trafford (bundled file)", trafford, 60.0))
    gm = load_estate(REPO / "data" / "greater_manchester.gpkg", name="Greater Manchester")
    scenario = Scenario(time_limit_s=60, threads=1)
    manchester = place_estate(gm, "Manchester", buffer_km=boundary_buffer_km(gm, scenario))
    cases.append(("Manchester borough (GM file, with buffer)", manchester.estate, 60.0))
    cases.append(("Greater Manchester (whole)", gm, gm_time_limit))
    if ENGLAND.exists():
        england = load_estate(ENGLAND, name="England")
        kent = place_estate(
            england, resolve_places(england, ["Kent"])[0], buffer_km=boundary_buffer_km(england, scenario)
        )
        cases.append(("Kent (England's largest place, with buffer)", kent.estate, 60.0))
    rows = []
    for label, estate, limit in cases:
        runs = [solve_once(estate, Scenario(time_limit_s=limit, threads=1))]
        if runs[0]["status"] != "time_limit":  # a run that hits the limit takes the limit again
            runs += [solve_once(estate, Scenario(time_limit_s=limit, threads=1)) for _ in range(repeat - 1)]
        row = {
            "case": label,
            "buildings": len(estate.buildings),
            "occupiers": len(estate.occupiers),
            "zones": len(estate.zones),
            "time_limit_s": limit,
            "repeat": len(runs),
            "build_s": median([r["build_s"] for r in runs]),
            "solve_s": median([r["solve_s"] for r in runs]),
            "status": runs[-1]["status"],
            "gap": runs[-1]["gap"],
            "variables": runs[-1]["variables"],
            "constraints": runs[-1]["constraints"],
        }
        rows.append(row)
        say(
            f"  {label:<46} {row['buildings']:>5} bld {row['zones']:>5} zones  build {row['build_s']:6.2f} s  "
            f"solve {row['solve_s']:6.2f} s  {row['status']} gap {row['gap']:.4%}"
        )
    return rows


def _sweep(estate: Any, places: list[str], *, workers: int, out: Path) -> Any:
    """The default scenario with the national per-place limit, as `sweep --national` runs it."""
    base = default_base(time_limit_s=NATIONAL_TIME_LIMIT_S)
    rows = [scenario_row(base, {}, name="default", where="defaults", access=estate.access)]
    return run_sweep(estate, places=places, rows=rows, out=out, workers=workers, force=True, progress=False)


def bench_national(tmp: Path) -> tuple[dict[str, Any], Any]:
    say("== England, every place, default scenario, 2 workers")
    t0 = time.perf_counter()
    england = load_estate(ENGLAND, name="England")
    load_s = time.perf_counter() - t0
    places = sorted(set(england.zones["place"]))
    result = _sweep(england, places, workers=2, out=tmp / "national")
    r = result.results
    solved = r[r["status"].isin(["optimal", "feasible", "time_limit"])]
    slow = solved.sort_values("time_s", ascending=False)
    worst = solved.loc[solved["gap"].idxmax()]
    share = solved["gap_npv_share"]
    worst_share = solved.loc[share.fillna(float("inf")).idxmax()]
    per_place = r.sort_values(["gap_npv_share", "time_s"], ascending=False, na_position="first")
    out = {
        "places": len(r),
        "time_limit_s": NATIONAL_TIME_LIMIT_S,
        "load1_end": round(load1(), 2),
        "statuses": result.counts,
        "p90_time_s": float(solved["time_s"].quantile(0.9)),
        "sum_cpu_s": float(solved["cpu_s"].sum()),
        "median_gap_npv": float(share.median()),
        "max_gap_npv": float(worst_share["gap_npv_share"]),
        "max_gap_npv_place": str(worst_share["place_name"]),
        "gap_npv_over_1pct": int((share.fillna(float("inf")) > 0.01).sum()),
        "per_place": [
            {
                "place_name": str(x["place_name"]),
                "status": str(x["status"]),
                "gap": float(x["gap"]),
                "gap_npv_share": float(x["gap_npv_share"]),
                "npv_gbp": float(x["npv_gbp"]),
                "time_s": float(x["time_s"]),
                "cpu_s": float(x["cpu_s"]),
                "buildings_own": int(x["buildings_own"]),
                "zones": int(x["zones"]),
            }
            for _, x in per_place.iterrows()
        ],
        "load_s": load_s,
        "wall_s": result.wall_s + load_s,
        "jobs_s": result.compute_s,
        "median_time_s": float(solved["time_s"].median()),
        "max_time_s": float(solved["time_s"].max()),
        "slowest_place": str(slow.iloc[0]["place_name"]),
        "median_build_s": float(solved["build_s"].median()),
        "median_solve_s": float(solved["solve_s"].median()),
        "max_gap": float(worst["gap"]),
        "max_gap_place": str(worst["place_name"]),
        "sum_time_s": float(solved["time_s"].sum()),
        "slowest": [
            {"place": p, "place_name": n, "time_s": float(t)}
            for p, n, t in zip(
                slow["place"].head(6), slow["place_name"].head(6), slow["time_s"].head(6), strict=True
            )
        ],
    }
    say(
        f"  {out['places']} places {out['statuses']}: wall {out['wall_s']:.1f} s (load {load_s:.1f} s, jobs "
        f"{out['jobs_s']:.1f} s); per place median {out['median_time_s']:.2f} s, max {out['max_time_s']:.2f} s "
        f"({out['slowest_place']}); max gap {out['max_gap']:.4%} ({out['max_gap_place']}); "
        f"gap as a share of NPV: median {out['median_gap_npv']:.2%}, max {out['max_gap_npv']:.2%} "
        f"({out['max_gap_npv_place']}), {out['gap_npv_over_1pct']} place(s) over 1%"
    )
    return out, england


def bench_workers(england: Any, slowest: list[dict[str, Any]], repeat: int, tmp: Path) -> dict[str, Any]:
    places = [s["place"] for s in slowest]
    names = ", ".join(s["place_name"] for s in slowest)
    say(f"== 1 vs 2 workers on the 6 slowest places ({names})")
    times: dict[int, list[float]] = {1: [], 2: []}
    limited: dict[int, list[int]] = {1: [], 2: []}
    walls: dict[int, list[float]] = {1: [], 2: []}
    per_place: dict[int, dict[str, float]] = {}
    for i in range(repeat):
        for workers in (1, 2):
            result = _sweep(england, places, workers=workers, out=tmp / f"w{workers}_{i}")
            bad = result.results[~result.results["status"].isin(["optimal", "feasible", "time_limit"])]
            if len(bad):
                say(f"  warning: {len(bad)} job(s) not solved on {workers} worker(s)")
            times[workers].append(result.compute_s)
            limited[workers].append(int((result.results["status"] == "time_limit").sum()))
            walls[workers].append(result.wall_s)
            per_place[workers] = dict(
                zip(result.results["place_name"], result.results["time_s"], strict=True)
            )
            say(
                f"  run {i + 1}: {workers} worker(s) {result.compute_s:6.2f} s (wall with cluster start "
                f"{result.wall_s:.1f} s)"
            )
    one, two = median(times[1]), median(times[2])
    out = {
        "places": places,
        "place_names": names,
        "repeat": repeat,
        "one_s": one,
        "two_s": two,
        "speedup": one / two if two else float("nan"),
        "one_wall_s": median(walls[1]),
        "two_wall_s": median(walls[2]),
        "sum_job_s": sum(per_place[1].values()),
        "per_place_1": per_place[1],
        "time_limit_s": NATIONAL_TIME_LIMIT_S,
        "limited_1": limited[1],
        "limited_2": limited[2],
        "load1_end": round(load1(), 2),
    }
    say(f"  median: 1 worker {one:.2f} s, 2 workers {two:.2f} s, speed-up {out['speedup']:.2f}x")
    return out


def bench_capb(time_limit: float, capacities: list[float]) -> list[dict[str, Any]] | str:
    say(f"== OR-Library capb at {time_limit:g} s (bench/capb.py)")
    path = REPO / "bench" / "capb.py"
    try:
        spec = importlib.util.spec_from_file_location("bench_capb", path)
        if spec is None or spec.loader is None:
            return f"skipped: {path} not found"
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        optima = module.orlib_cap_optima(module.DATA / "bounds.txt")
        rows = []
        for capacity, method in [(c, m) for c in capacities for m in ("default", "benders")]:
            r = module.run_once(
                module.DATA / "capb.zip",
                capacity,
                solver="highs",
                time_limit_s=time_limit,
                threads=None,
                method=method,
            )
            published = optima.get(r["name"])
            r["published"] = published
            r["rel_error"] = abs(r["objective"] - published) / published if published else float("nan")
            rows.append(r)
            say(
                f"  {r['name']:<11} {method:<8} objective {r['objective']:,.2f} published {published or float('nan'):,.2f} "
                f"gap {r['gap']:.4%} ({r['status']}) solve {r['solve_s']:.1f} s"
            )
    except Exception as err:
        return f"skipped: {type(err).__name__}: {err}"
    return rows


def provenance(results: dict[str, Any], part: str) -> str:
    """When a part was measured, and how busy the machine was when it started."""
    info = results.get("parts", {}).get(part, {})
    load = info.get("load1")
    end = results.get(part, {}).get("load1_end") if isinstance(results.get(part), dict) else None
    busy = f", 1-minute load average {load:.2f} at the start" if isinstance(load, (int, float)) else ""
    busy += f" and {end:.2f} at the end" if isinstance(end, (int, float)) else ""
    return f"Measured {info.get('when', results['when'])}{busy}."


def render(results: dict[str, Any]) -> str:
    """The generated section of docs/performance.md."""
    lines = [
        BEGIN,
        "",
        f"Generated by `.venv/bin/python bench/run_all.py` on {results['when']} ({results['machine']}).",
        "",
    ]
    if "size" in results:
        lines += [
            "### Build and solve time against size",
            "",
            provenance(results, "size"),
            "",
            "One solver thread; medians over the repeats (one run when the time limit is hit). "
            "Times in seconds.",
            "",
            "| instance | buildings | occupiers | zones | variables | rows | build s | solve s | status | gap |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for r in results["size"]:
            lines.append(
                f"| {r['case']} | {r['buildings']:,} | {r['occupiers']:,} | {r['zones']:,} | "
                f"{r['variables']:,} | {r['constraints']:,} | {r['build_s']:.2f} | {r['solve_s']:.2f} | "
                f"{r['status']} (limit {r['time_limit_s']:g} s) | {r['gap']:.3%} |"
            )
        lines.append("")
    if "national" in results:
        n = results["national"]
        limit = n.get("time_limit_s")
        lines += [
            "### England by place (`sweep --national --workers 2`)",
            "",
            provenance(results, "national"),
            "",
            f"Default scenario, {limit:g} s per place ({n['places']} places)." if limit else "",
            "",
            "| places | statuses | wall s (incl. load) | jobs s | CPU s, all jobs | per place median s "
            "| p90 s | max s | max gap | gap share of NPV: median | max | places over 1% |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {n['places']} | {', '.join(f'{k} {v}' for k, v in n['statuses'].items())} | "
            f"{n['wall_s']:.1f} | {n['jobs_s']:.1f} | {_num(n.get('sum_cpu_s'), '.0f')} | "
            f"{n['median_time_s']:.2f} | {_num(n.get('p90_time_s'), '.2f')} | {n['max_time_s']:.2f} "
            f"({n['slowest_place']}) | {_num(n['max_gap'], '.4%')} ({n['max_gap_place']}) | "
            f"{_num(n.get('median_gap_npv'), '.2%')} | {_num(n.get('max_gap_npv'), '.2%')} "
            f"({n.get('max_gap_npv_place', 'n/a')}) | {n.get('gap_npv_over_1pct', 'n/a')} |",
            "",
        ]
        if n.get("per_place"):
            top = n["per_place"][:12]
            lines += [
                f"The {len(top)} places with the largest gap as a share of their plan's NPV (the gap "
                "is |objective - bound|, the bound HiGHS proved; every place's row is in "
                "`results.csv` and `bench/last_run.json`):",
                "",
                "| place | status | gap | gap share of NPV | NPV £m | time s | CPU s | own buildings | zones |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for x in top:
                lines.append(
                    f"| {x['place_name']} | {x['status']} | {_num(x['gap'], '.4%')} | "
                    f"{_num(x['gap_npv_share'], '.2%')} | {x['npv_gbp'] / 1e6:,.2f} | {x['time_s']:.1f} | "
                    f"{x['cpu_s']:.1f} | "
                    f"{x['buildings_own']:,} | {x['zones']:,} |"
                )
            lines.append("")
    if "workers" in results:
        w = results["workers"]
        lines += [
            "### Speed-up from 1 to 2 workers",
            "",
            provenance(results, "workers"),
            "",
            f"The 6 slowest places of the national sweep ({w['place_names']}), default scenario, "
            f"median of {w['repeat']} runs; time from the first job submitted to the last result "
            "(cluster start excluded).",
            "",
            "| 1 worker s | 2 workers s | speed-up | 1 worker wall s | 2 workers wall s "
            "| stopped at the limit (1 / 2 workers) |",
            "|---:|---:|---:|---:|---:|---|",
            f"| {w['one_s']:.2f} | {w['two_s']:.2f} | {w['speedup']:.2f}x | {w['one_wall_s']:.1f} | "
            f"{w['two_wall_s']:.1f} | {_limited(w)} |",
            "",
        ]
    if "capb" in results:
        c = results["capb"]
        lines += [
            "### OR-Library capb (100 x 1000) through the estate model",
            "",
            provenance(results, "capb"),
            "",
        ]
        if isinstance(c, str):
            lines += [f"capb {c}.", ""]
        else:
            lines += [
                f"HiGHS, {results['capb_time_limit']:g} s limit (bench/capb.py).",
                "",
                "| instance | method | objective | published optimum | relative error | bound gap | status | solve s |",
                "|---|---|---:|---:|---:|---:|---|---:|",
            ]
            for r in c:
                lines.append(
                    f"| {r['name']} | {r.get('method', 'default')} | {r['objective']:,.2f} | {r['published'] or float('nan'):,.2f} | "
                    f"{r['rel_error']:.4%} | {r['gap']:.4%} | {r['status']} | {r['solve_s']:.1f} |"
                )
            lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _num(value: Any, spec: str) -> str:
    """A number for the tables: "no bound" for nan (the solver proved none), "∞" for inf."""
    if not isinstance(value, (int, float)):
        return "n/a"
    if math.isnan(value):
        return "no bound"
    return "∞" if math.isinf(value) else format(value, spec)


def _limited(w: dict[str, Any]) -> str:
    if "limited_1" not in w:
        return "n/a"
    return f"{', '.join(map(str, w['limited_1']))} / {', '.join(map(str, w['limited_2']))} of 6 per run"


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def load1() -> float:
    """The 1-minute load average (nan where unknown)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def wait_quiet(max_wait_s: float, threshold: float = 0.8) -> float:
    """Wait (up to `max_wait_s`) until the 1-minute load average is below `threshold`, so that
    other work on a shared machine does not count as ours. Returns the load when starting."""
    deadline = time.monotonic() + max_wait_s
    while load1() >= threshold and time.monotonic() < deadline:
        say(f"  (waiting for a quiet machine: load average {load1():.2f})")
        time.sleep(30)
    return load1()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (medians)")
    parser.add_argument("--skip", nargs="*", default=[], choices=PARTS)
    parser.add_argument("--gm-time-limit", type=float, default=60.0, help="seconds for the whole-GM solve")
    parser.add_argument("--capb-time-limit", type=float, default=60.0)
    parser.add_argument("--capb-capacities", type=float, nargs="+", default=[5000, 6000, 7000, 8000])
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=600.0,
        help="seconds to wait, before each part, for a load average under 0.8 (0: never)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/performance.md")
    args = parser.parse_args(argv)
    last = REPO / "bench" / "last_run.json"
    previous = json.loads(last.read_text(encoding="utf-8")) if last.exists() else {}
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}",
        "parts": {},
    }

    def record(part: str, value: Any, load: float) -> None:
        results[part] = value
        results["parts"][part] = {"when": time.strftime("%Y-%m-%d %H:%M"), "load1": round(load, 2)}

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_") as tmp_name:
        tmp = Path(tmp_name)
        if "size" not in args.skip:
            load = wait_quiet(args.wait_quiet)
            record("size", bench_size(args.repeat, args.gm_time_limit), load)
        england = None
        if "national" not in args.skip or "workers" not in args.skip:
            load = wait_quiet(args.wait_quiet)
            national, england = bench_national(tmp)
            if "national" not in args.skip:
                record("national", national, load)
        if "workers" not in args.skip and england is not None:
            load = wait_quiet(args.wait_quiet)
            record("workers", bench_workers(england, national["slowest"], args.repeat, tmp), load)
        if "capb" not in args.skip:
            load = wait_quiet(args.wait_quiet)
            record("capb", bench_capb(args.capb_time_limit, args.capb_capacities), load)
            results["capb_time_limit"] = args.capb_time_limit
    for part in PARTS:  # a skipped part keeps its last measurement in the table
        if part not in results and part in previous:
            results[part] = previous[part]
            results["parts"][part] = previous.get("parts", {}).get(part, {"when": previous.get("when", "?")})
            if part == "capb":
                results["capb_time_limit"] = previous.get("capb_time_limit", args.capb_time_limit)
    section = render(results)
    say()
    say(section)
    if not args.no_write:
        last.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        write_doc(section)
        say(
            f"\nwrote {DOC.relative_to(REPO)} and bench/last_run.json ({time.perf_counter() - started:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
