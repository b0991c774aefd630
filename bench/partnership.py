#!/usr/bin/env python
"""Time the partnership run on a place and check every plan it writes, from the files alone.

    flock /tmp/heavy.lock .venv/bin/python bench/partnership.py --place greater_manchester \\
        --time-limit 120 --workers 2 --out /tmp/gm_partnership

1. ``run --place P --partnership --time-limit T --workers W --out OUT/joint`` (the stand-alone
   solves on W Dask workers, then the joint solve, which starts from the union of the stand-alone
   plans when that union is a plan of the joint model): wall time, the joint solve's status and
   gap, the partnership value and its range from the bounds, and whether it is proven.
2. ``run --place P --standalone NAME --time-limit T --out OUT/standalone/<n>`` for each partner
   (``--partners`` picks some; default all): wall time, status, and its NPV beside the
   partnership run's ``standalone_npv_gbp``.

Every written plan passes `tests.recompute.check_written_plan` (housing, capacity, access,
money, and the partner ledger adding up to the place's totals to the penny); a failed check
stops the bench. Prints Markdown tables for docs/performance.md; the load average is printed
too (on a shared 2-core machine compare like with like).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from optimiser.report.inert import original_text  # noqa: E402
from tests.recompute import check_written_plan  # noqa: E402


def _run(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "optimiser", "run", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
        msg = f"run {' '.join(args)} exited {done.returncode}"
        raise SystemExit(msg)
    return wall, done


def _summary(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text()))


def _gbp(value: float | None) -> str:
    if value is None:
        return "–"
    return f"-£{-value:,.0f}" if value < 0 else f"£{value:,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--place", default="greater_manchester")
    parser.add_argument("--time-limit", type=float, default=120.0, help="every solve's limit, s")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers for the stand-alone solves")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--partners", nargs="*", help="stand-alone plans to write (default: every partner)")
    args = parser.parse_args()
    limit = f"{args.time_limit:g}"
    print(f"{args.place}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)

    joint_out = args.out / "joint"
    wall, done = _run(
        "--place", args.place, "--partnership", "--time-limit", limit,
        "--workers", str(args.workers), "--out", str(joint_out),
    )  # fmt: skip
    check_written_plan(joint_out)
    s = _summary(joint_out)
    partners = pd.read_csv(joint_out / "partners.csv")
    partners["partner"] = partners["partner"].map(original_text)
    ledger = max(
        abs(partners[c].sum() - s["kpis"][c])
        for c in ("npv_gbp", "capital_receipts_gbp", "annual_revenue_saving_gbp", "move_cost_gbp")
    )
    gap = s["gap_gbp"]
    print("\n| figure | value |\n|---|---|")
    rows = [
        ("wall time of the run (load, stand-alone solves, joint solve, writing)", f"{wall:.1f} s"),
        (
            "stand-alone solves",
            f"{s['standalone_solves']} on {s['standalone_workers']} workers, {s['standalone_time_s']:.1f} s; "
            f"all proven optimal: {s['standalone_proven_optimal']}",
        ),
        ("joint solve", f"{s['status']} after {s['time_s']:.1f} s, gap {_gbp(gap)}"),
        ("joint start", str(s.get("joint_start"))),
        ("joint NPV", _gbp(s["kpis"]["npv_gbp"])),
        ("sum of stand-alone NPVs", _gbp(s["standalone_npv_total_gbp"])),
        ("partnership value", _gbp(s["partnership_value_gbp"])),
        (
            "range from the bounds",
            f"{_gbp(s['partnership_value_low_gbp'])} to {_gbp(s['partnership_value_high_gbp'])}",
        ),
        ("proven", str(s["partnership_value_proven"])),
        ("ledger against the place's totals (largest difference)", f"£{ledger:.4f}"),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(flush=True)
    for line in done.stdout.splitlines():
        if "partnership value" in line or "proven" in line:
            print(line.strip())

    names = args.partners if args.partners else list(partners["partner"])
    floors = partners.set_index("partner")["standalone_npv_gbp"]
    print("\n| partner | wall s | status | NPV | in the partnership run | plan checks |")
    print("|---|---:|---|---:|---:|---|")
    walls = []
    for i, name in enumerate(names):
        out = args.out / "standalone" / f"p{i:02d}"
        wall, _ = _run("--place", args.place, "--standalone", name, "--time-limit", limit, "--out", str(out))
        check_written_plan(out)
        one = _summary(out)
        walls.append(wall)
        print(
            f"| {name} | {wall:.1f} | {one['status']} | {_gbp(one['kpis']['npv_gbp'])} | "
            f"{_gbp(float(floors[name]))} | pass |",
            flush=True,
        )
    if walls:
        ordered = sorted(walls)
        print(
            f"\n{len(walls)} stand-alone plans written and checked: median {ordered[len(walls) // 2]:.1f} s, "
            f"max {ordered[-1]:.1f} s, total {sum(walls):.1f} s"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
