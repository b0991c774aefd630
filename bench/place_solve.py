#!/usr/bin/env python
"""Load, build and solve a bundled place the way the CLI and the app do; print medians.

    .venv/bin/python bench/place_solve.py                                  # Trafford and GM, 3 runs
    .venv/bin/python bench/place_solve.py --places greater_manchester --time-limit 60 120 \\
        --search first beside --repeat 1                                  # the pipelines side by side
    .venv/bin/python bench/place_solve.py --places greater_manchester --boroughs 1 2 5 10 \\
        --time-limit 60 --repeat 1                                        # growth with size

For each run it reports load time, model build time, solve time (including the search),
objective, bound, relative gap, the gap in pounds and as a share of the plan's NPV (what a
board reads), status and buildings disposed; then the medians per (place, search, limit).
``--search``: ``first`` (fix-and-optimise, then HiGHS: the pipeline before the search ran
beside), ``beside`` (the default on two cores), ``off`` (HiGHS alone). ``--boroughs N``: the
first N boroughs of the place, largest first (no boundary buffer). The machine's load average
is printed too: these 2-core machines are noisy, so compare medians.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from estate import Estate, load_place  # noqa: E402
from optimiser.pipeline import optimise  # noqa: E402
from optimiser.scenario import Scenario  # noqa: E402


def run(estate: Estate, time_limit: float, search: str, load_s: float) -> dict[str, float | str]:
    """One build + solve of the default scenario."""
    plan = optimise(estate, Scenario(time_limit_s=time_limit), search=search)
    info = plan.info
    npv = float(plan.kpis["npv_gbp"])
    gap_gbp = (info.objective - info.bound) * 1000 if math.isfinite(info.bound) else math.inf
    return {
        "load_s": load_s,
        "build_s": plan.build_s,
        "solve_s": info.time_s,
        "gap_pct": 100 * info.gap,
        "gap_gbp": gap_gbp,
        "gap_npv_pct": 100 * gap_gbp / npv if npv > 0 else math.inf,
        "npv_m": npv / 1e6,
        "objective_k": info.objective,
        "bound_k": info.bound,
        "status": info.status,
        "disposed": float(plan.kpis["buildings_before"] - plan.kpis["buildings_after"]),
        "load_avg": os.getloadavg()[0],
    }


def estates(place: str, boroughs: list[int] | None) -> list[tuple[str, Estate, float]]:
    """(label, estate, load seconds): the place, or its first N boroughs for each N."""
    t0 = time.perf_counter()
    estate = load_place(place)
    load_s = time.perf_counter() - t0
    if not boroughs:
        return [(place, estate, load_s)]
    order = estate.buildings["borough"].value_counts().index.tolist()
    return [(f"{place} ({n} of {len(order)} boroughs)", estate.subset(order[:n]), load_s) for n in boroughs]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print each run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", nargs="+", default=["trafford", "greater_manchester"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, nargs="+", default=[120.0])
    parser.add_argument("--search", nargs="+", default=["auto"], choices=("auto", "beside", "first", "off"))
    parser.add_argument("--boroughs", type=int, nargs="+", help="solve the first N boroughs, for each N")
    args = parser.parse_args(argv)
    numeric = ("solve_s", "gap_pct", "gap_gbp", "gap_npv_pct", "npv_m", "objective_k", "bound_k", "disposed")
    for place in args.places:
        for label, estate, load_s in estates(place, args.boroughs):
            for limit in args.time_limit:
                for search in args.search:
                    runs = []
                    for i in range(args.repeat):
                        r = run(estate, limit, search, load_s)
                        runs.append(r)
                        print(
                            f"{label} search={search} limit {limit:g} s run {i + 1}: build {r['build_s']:.2f} s, "
                            f"solve {r['solve_s']:.1f} s, objective £{r['objective_k']:,.0f}k, "
                            f"bound £{r['bound_k']:,.0f}k, gap {r['gap_pct']:.3f}% (£{r['gap_gbp']:,.0f}, "
                            f"{r['gap_npv_pct']:.2f}% of NPV £{r['npv_m']:.1f}m), {r['status']}, "
                            f"{r['disposed']:.0f} disposed, load average {r['load_avg']:.1f}",
                            flush=True,
                        )
                    med = {k: statistics.median(float(r[k]) for r in runs) for k in numeric}
                    statuses = ", ".join(sorted({str(r["status"]) for r in runs}))
                    print(
                        f"{label} search={search} median of {len(runs)} (limit {limit:g} s): "
                        f"solve {med['solve_s']:.1f} s, gap {med['gap_pct']:.3f}% (£{med['gap_gbp']:,.0f}, "
                        f"{med['gap_npv_pct']:.2f}% of NPV), {med['disposed']:.0f} disposed; status {statuses}",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
