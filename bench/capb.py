"""OR-Library capb (100 facilities x 1000 customers) at capacities 5000-8000 through the estate model.

Too big for the test suite: each capacity is solved with a time limit (default 60 s) and the
script reports, per capacity, the objective, bound and gap the solver reached, the published
optimum and the relative error, and the time to turn the instance into an estate, to build the
model and to solve it (medians when ``--repeat`` > 1).

    .venv/bin/python bench/capb.py [--time-limit 60] [--capacities 5000 6000 7000 8000]
                                   [--repeat 1] [--solver highs|cbc] [--threads N]
                                   [--method default benders]

``--method`` takes one or more of ``default`` (today's pipeline: the MILP through PuLP to
HiGHS or CBC) and ``benders`` (`optimiser.benders.solve_benders`, HiGHS); with both, each
capacity is solved by each method in turn, one after the other, and printed side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimiser.bench import METHODS, instance_to_estate, orlib_cap_optima, read_orlib_cap  # noqa: E402
from optimiser.benders import BendersOptions, solve_benders  # noqa: E402
from optimiser.errors import OptimiserError  # noqa: E402
from optimiser.model import build_model  # noqa: E402
from optimiser.pipeline import solve  # noqa: E402
from optimiser.solver import make_solver  # noqa: E402

DATA = REPO / "tests" / "data" / "benchmarks" / "orlib_cap"


def run_once(
    path: Path,
    capacity: float,
    *,
    solver: str,
    time_limit_s: float,
    threads: int | None,
    method: str = "default",
    mip_gap: float = 0.0,
) -> dict:
    """Read, build and solve capb at one capacity by `method`; times in seconds."""
    t0 = time.perf_counter()
    instance = read_orlib_cap(path, capacity=capacity)
    t1 = time.perf_counter()
    estate, table, scenario = instance_to_estate(instance, time_limit_s=time_limit_s)
    t2 = time.perf_counter()
    model = build_model(estate, scenario, cost_table=table)
    t3 = time.perf_counter()
    if method == "benders":
        plan = solve_benders(
            model, BendersOptions(time_limit_s=time_limit_s, mip_gap=max(mip_gap, 1e-7), threads=threads)
        )
    else:
        plan = solve(model, make_solver(solver, time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads))
    t4 = time.perf_counter()
    info = plan.info
    return {
        "name": instance.name,
        "method": method,
        "objective": info.objective,
        "bound": info.bound,
        "gap": info.gap,
        "status": info.status,
        "proven": info.proven_optimal,
        "solver": info.solver,
        "read_s": t1 - t0,
        "estate_s": t2 - t1,
        "build_s": t3 - t2,
        "solver_s": info.time_s,
        "solve_s": t4 - t3,
        "pairs": model.stats["pairs"],
        "rows": model.stats["constraints"],
    }


def main(argv: list[str] | None = None) -> int:
    """Solve capb at each capacity and print one line per capacity."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DATA / "capb.zip")
    parser.add_argument("--bounds", type=Path, default=DATA / "bounds.txt")
    parser.add_argument("--capacities", type=float, nargs="+", default=[5000, 6000, 7000, 8000])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--solver", choices=("highs", "cbc"), default="highs")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--gap", type=float, default=0.0, help="relative gap to stop at (default 0: prove)")
    parser.add_argument("--method", nargs="+", choices=METHODS, default=["default"])
    args = parser.parse_args(argv)
    try:
        optima = orlib_cap_optima(args.bounds)
        print(
            f"capb through the estate model: {args.solver}, time limit {args.time_limit:g} s, "
            f"gap {args.gap:g}, threads {args.threads or 'default'}, repeat {args.repeat} (times are medians)"
        )
        print(
            f"{'instance':<11} {'method':<8} {'objective':>16} {'bound':>16} {'gap':>9} {'published':>16} "
            f"{'rel_error':>9} {'status':<10} {'read_s':>6} {'estate_s':>8} {'build_s':>7} "
            f"{'solver_s':>8} {'solve_s':>7}"
        )
        for capacity, method in [(c, m) for c in args.capacities for m in args.method]:
            runs = [
                run_once(
                    args.file,
                    capacity,
                    solver=args.solver,
                    time_limit_s=args.time_limit,
                    threads=args.threads,
                    method=method,
                    mip_gap=args.gap,
                )
                for _ in range(args.repeat)
            ]
            last = runs[-1]
            med = {
                k: statistics.median(r[k] for r in runs)
                for k in ("read_s", "estate_s", "build_s", "solver_s", "solve_s")
            }
            published = optima.get(last["name"])
            rel = (abs(last["objective"] - published) / published) if published else float("nan")
            status = "optimal" if last["proven"] else last["status"]
            print(
                f"{last['name']:<11} {method:<8} {last['objective']:>16.3f} {last['bound']:>16.3f} {last['gap']:>9.2e} "
                f"{published or float('nan'):>16.3f} {rel:>9.2e} {status:<10} {med['read_s']:>6.2f} "
                f"{med['estate_s']:>8.2f} {med['build_s']:>7.2f} {med['solver_s']:>8.2f} "
                f"{med['solve_s']:>7.2f}",
                flush=True,
            )
    except OptimiserError as err:
        print(f"error: {err}", file=sys.stderr)
        return getattr(err, "exit_code", 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
