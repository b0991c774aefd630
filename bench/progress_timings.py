#!/usr/bin/env python
"""Progress and Stop on Greater Manchester: first update, gaps between updates, Stop latency, map load.

    flock /tmp/heavy.lock .venv/bin/python bench/progress_timings.py --trials 3

For each trial it runs `optimiser.pipeline.optimise` exactly as the app's background job does
(progress callback and cancel event) and measures, from the moment of the call (Run pressed):
the time to the first progress update, the gaps between updates (median and max), and the
Stop latency, from setting the cancel event to `optimise` returning (a plan, "interrupted") or
raising `StoppedByUser`, with Stop pressed at three stages: during model building (at the
access rows), during the phased warm start (while its plan without years is solved) and during
the solve (at the first plan). It then times building and rendering the Results page's maps
(the estate map and the plan map with zones, Leaflet inlined) from a solved plan's tables.
Figures go in docs/performance.md; no test asserts any of them.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from estate import Estate, load_place
from optimiser.pipeline import optimise
from optimiser.progress import Progress
from optimiser.report import maps
from optimiser.scenario import Scenario
from optimiser.stages import BUILDING, WARM_START, StoppedByUser
from optimiser.store import run_from_plan

REPO = Path(__file__).resolve().parents[1]
STAGES: dict[str, Callable[[Progress], bool]] = {
    "building": lambda p: p.stage.startswith(f"{BUILDING}: access rows"),
    "warm start": lambda p: p.stage.startswith(f"{WARM_START}: solving"),
    "solving": lambda p: p.stage == "solving" and math.isfinite(p.incumbent),
}


def trial(estate: Estate, scenario: Scenario, when: Callable[[Progress], bool]) -> dict[str, float]:
    """One run, stopped when `when` first holds; returns first update, gaps and Stop latency."""
    cancel = threading.Event()
    times: list[float] = []
    pressed: list[float] = []
    started = time.perf_counter()

    def progress(p: Progress) -> None:
        times.append(time.perf_counter() - started)
        if not cancel.is_set() and when(p):
            pressed.append(time.perf_counter())
            cancel.set()

    outcome = "plan"
    try:
        plan = optimise(estate, scenario, progress=progress, cancel=cancel)
        outcome = plan.info.status
    except StoppedByUser:
        outcome = "stopped, no plan"
    ended = time.perf_counter()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "first_update_s": times[0] if times else math.nan,
        "gap_median_s": statistics.median(gaps) if gaps else math.nan,
        "gap_max_s": max(gaps) if gaps else math.nan,
        "stop_latency_s": ended - pressed[0] if pressed else math.nan,
        "outcome": outcome,  # type: ignore[dict-item]
    }


def map_load(estate: Estate, trials: int) -> dict[str, list[float]]:
    """Seconds to build and render the Results page's estate map and plan map (library zones)."""
    plan = optimise(estate, Scenario(time_limit_s=30))
    tables = run_from_plan(estate, plan, place="greater_manchester", estate_key="bench").tables
    out: dict[str, list[float]] = {"estate map": [], "plan map (zones as areas)": []}
    for _ in range(trials):
        t = time.perf_counter()
        maps.estate_map(estate).get_root().render()
        out["estate map"].append(time.perf_counter() - t)
        t = time.perf_counter()
        maps.plan_map(
            tables["buildings"], tables["occupiers"], tables.get("zones"), service="library"
        ).get_root().render()
        out["plan map (zones as areas)"].append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="trials per stage (default 3)")
    parser.add_argument("--place", default="greater_manchester")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--stages", default=",".join(STAGES), help="Stop at these stages (default: all)")
    parser.add_argument("--no-maps", action="store_true", help="skip the map load timing")
    args = parser.parse_args(argv)
    estate = load_place(args.place)
    plain = Scenario(time_limit_s=args.time_limit)
    phased = Scenario.from_toml(REPO / "data" / "scenarios" / "phased.toml").with_changes(
        time_limit_s=args.time_limit
    )
    rows: dict[str, list[dict[str, float]]] = {}
    for stage, when in STAGES.items():
        if stage not in args.stages.split(","):
            continue
        scenario = phased if stage == "warm start" else plain
        for i in range(max(args.trials, 1)):
            r = trial(estate, scenario, when)
            rows.setdefault(stage, []).append(r)
            print(
                f"stop {stage:10s} trial {i + 1}: " + ", ".join(f"{k}={v}" for k, v in r.items()), flush=True
            )
    print(
        f"\n{args.place}, {max(args.trials, 1)} trial(s) per stage, {os.cpu_count()} core(s), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'Stop pressed during':22s} {'first update':>13s} {'gap median':>11s} {'gap max':>8s} "
        f"{'Stop median':>12s} {'Stop max':>9s}  outcome"
    )
    for stage, results in rows.items():

        def med(key: str, results: list[dict[str, float]] = results) -> float:
            return statistics.median(float(r[key]) for r in results)

        print(
            f"{stage:22s} {med('first_update_s'):12.2f}s {med('gap_median_s'):10.2f}s "
            f"{max(float(r['gap_max_s']) for r in results):7.2f}s {med('stop_latency_s'):11.2f}s "
            f"{max(float(r['stop_latency_s']) for r in results):8.2f}s  {results[0]['outcome']}"
        )
    for name, values in ({} if args.no_maps else map_load(estate, max(args.trials, 1))).items():
        print(f"map load, {name:28s} median {statistics.median(values):.2f} s, max {max(values):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
