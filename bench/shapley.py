#!/usr/bin/env python
"""Time the Shapley split's coalition solves on a bundled place: serially, then on Dask workers.

    flock /tmp/heavy.lock .venv/bin/python bench/shapley.py                 # Trafford, serial and 2 workers
    .venv/bin/python bench/shapley.py --place greater_manchester --workers 2 --time-limit 30

Solves every coalition of partner groups (`optimiser.shapley`: at most 63) with no cache, once
in this process (``--workers 0``) and once on a new LocalCluster of each ``--workers`` count
(the wall time includes starting the cluster; the compute time is from the first submission).
Prints wall time, the sum of the solves' own times, how many were proven optimal, and checks
that both runs give the same worth for every coalition (within the solves' gaps). The machine's
load average is printed too: on a shared 2-core machine, compare like with like.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from estate import load_place  # noqa: E402
from optimiser.partners import members_of_groups, partner_groups  # noqa: E402
from optimiser.partnership import solve_coalitions  # noqa: E402
from optimiser.scenario import Scenario  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--place", default="trafford")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="0 = serially here")
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    estate = load_place(args.place)
    scenario = Scenario(time_limit_s=args.time_limit)
    groups = sorted(set(partner_groups(estate)))
    coalitions = [
        members_of_groups(estate, s)
        for k in range(1, len(groups) + 1)
        for s in itertools.combinations(groups, k)
    ]
    print(
        f"{estate.name}: {len(estate.buildings)} buildings, {len(estate.occupiers)} occupiers, "
        f"{len(groups)} groups ({', '.join(groups)}), {len(coalitions)} coalitions; "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )
    print("| workers | wall s | sum of solve times s | proven optimal | max worth difference £ |")
    print("|---|---|---|---|---|")
    first = None
    for workers in args.workers:
        started = time.perf_counter()
        results = solve_coalitions(estate, scenario, coalitions, workers=workers)
        wall = time.perf_counter() - started
        solve_s = sum(r.time_s for r in results.values())
        proven = sum(r.proven_optimal for r in results.values())
        worth = {m: r.npv_gbp for m, r in results.items()}
        diff = 0.0 if first is None else max(abs(worth[m] - first[m]) for m in worth)
        first = first or worth
        print(
            f"| {workers or 'serial'} | {wall:.1f} | {solve_s:.1f} | {proven}/{len(results)} | {diff:,.0f} |",
            flush=True,
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
