#!/usr/bin/env python
"""Load, build and solve a bundled place the way the CLI and the app do; print medians.

    .venv/bin/python bench/place_solve.py                                  # Trafford and GM, 3 runs
    .venv/bin/python bench/place_solve.py --places greater_manchester --time-limit 120 --repeat 1

For each run it reports load time, model build time, solve time (including the warm start),
objective, bound, relative gap, gap in pounds, status and buildings disposed; then the medians.
The machine's load average is printed too: these 2-core machines are noisy, so compare medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from estate import load_place  # noqa: E402
from optimiser.pipeline import optimise  # noqa: E402
from optimiser.scenario import Scenario  # noqa: E402


def run(place: str, time_limit: float) -> dict[str, float | str]:
    """One load + build + solve of the default scenario."""
    t0 = time.perf_counter()
    estate = load_place(place)
    load_s = time.perf_counter() - t0
    plan = optimise(estate, Scenario(time_limit_s=time_limit))
    info = plan.info
    return {
        "load_s": load_s,
        "build_s": plan.build_s,
        "solve_s": info.time_s,
        "gap_pct": 100 * info.gap,
        "gap_gbp": (info.objective - info.bound) * 1000,
        "objective_k": info.objective,
        "bound_k": info.bound,
        "status": info.status,
        "disposed": float(plan.kpis["buildings_before"] - plan.kpis["buildings_after"]),
        "load_avg": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print each run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", nargs="+", default=["trafford", "greater_manchester"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args(argv)
    numeric = ("load_s", "build_s", "solve_s", "gap_pct", "gap_gbp", "objective_k", "bound_k", "disposed")
    for place in args.places:
        runs = []
        for i in range(args.repeat):
            r = run(place, args.time_limit)
            runs.append(r)
            print(
                f"{place} run {i + 1}: load {r['load_s']:.2f} s, build {r['build_s']:.2f} s, "
                f"solve {r['solve_s']:.1f} s, gap {r['gap_pct']:.3f}% (£{r['gap_gbp']:,.0f}), "
                f"{r['status']}, {r['disposed']:.0f} disposed, load average {r['load_avg']:.1f}",
                flush=True,
            )
        med = {k: statistics.median(float(r[k]) for r in runs) for k in numeric}
        statuses = ", ".join(sorted({str(r["status"]) for r in runs}))
        print(
            f"{place} median of {len(runs)} (time limit {args.time_limit:g} s): load {med['load_s']:.2f} s, "
            f"build {med['build_s']:.2f} s, solve {med['solve_s']:.1f} s, gap {med['gap_pct']:.3f}% "
            f"(£{med['gap_gbp']:,.0f}), {med['disposed']:.0f} disposed; status {statuses}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
