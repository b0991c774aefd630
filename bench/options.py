#!/usr/bin/env python
"""Robustness draws on Trafford, serially and on Dask workers: wall time and identical figures.

    flock /tmp/heavy.lock .venv/bin/python bench/options.py --draws 50 --workers 2

Each run has a fresh cache (nothing read back), solves the same seeded draws with one solver
thread per solve, and prints the wall time, the P10/P50/P90 and whether the two runs' figures
and disposal shares are identical, for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from estate import load_place
from optimiser import optimise
from optimiser.robustness import robustness
from optimiser.scenario import Scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--place", default="trafford")
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers of the second run (default 2)")
    parser.add_argument("--gap", type=float, default=1e-4, help="relative gap of every solve (default 1e-4)")
    args = parser.parse_args(argv)
    estate = load_place(args.place)
    scenario = Scenario(threads=1, mip_gap=args.gap)
    plan = optimise(estate, scenario)
    out: dict[str, object] = {
        "place": estate.name,
        "draws": args.draws,
        "seed": args.seed,
        "cpus": os.cpu_count(),
    }
    found = {}
    for label, workers in (("serial", 1), (f"dask_{args.workers}", args.workers)):
        with tempfile.TemporaryDirectory() as cache:
            load = os.getloadavg()[0]
            started = time.perf_counter()
            found[label] = robustness(
                estate,
                scenario,
                plan,
                draws=args.draws,
                seed=args.seed,
                workers=workers,
                cache_dir=Path(cache),
            )
            wall = time.perf_counter() - started
        s = found[label].summary()
        out[label] = {
            "wall_s": round(wall, 1),
            "load_before": round(load, 2),
            "solved": s["uncertainty"]["solved"],
            "proven_optimal": s["uncertainty"]["proven_optimal"],
            "npv_p10_gbp": round(s["npv_p10_gbp"]),
            "npv_p50_gbp": round(s["npv_p50_gbp"]),
            "npv_p90_gbp": round(s["npv_p90_gbp"]),
            "robust_core": len(s["uncertainty"]["robust_core"]),
        }
    a, b = found.values()
    out["identical_shares"] = bool(a.buildings.equals(b.buildings))
    out["identical_npvs"] = bool((a.draws["npv_gbp"] - b.draws["npv_gbp"]).abs().max() < 1.0)
    out["largest_npv_difference_gbp"] = round(float((a.draws["npv_gbp"] - b.draws["npv_gbp"]).abs().max()))
    out["draws_with_other_disposals"] = int((a.draws["disposed"] != b.draws["disposed"]).sum())
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
