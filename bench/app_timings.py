#!/usr/bin/env python
"""How quick the app is in a real browser: medians over runs of the end-to-end test.

    .venv/bin/python bench/app_timings.py --repeat 3
    .venv/bin/python bench/app_timings.py --repeat 3 --burn 2   # beside 2 CPU-burning processes

The end-to-end test (tests/test_e2e_browser.py) waits on conditions and asserts nothing about
time; it records how long each step took in tests/artifacts/e2e_timings.json. This script runs
it ``--repeat`` times, optionally beside ``--burn`` busy-looping processes, and prints the median,
minimum and maximum of each timing with the load average, for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMINGS = REPO / "tests" / "artifacts" / "e2e_timings.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the browser test (default 3)")
    parser.add_argument("--burn", type=int, default=0, help="CPU-burning processes beside it (default 0)")
    args = parser.parse_args(argv)
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(args.burn, 0))
    ]
    runs: list[dict[str, float]] = []
    try:
        for i in range(max(args.repeat, 1)):
            TIMINGS.unlink(missing_ok=True)
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_e2e_browser.py"],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not TIMINGS.exists():
                print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
                print(f"run {i + 1}: the browser test failed (exit {done.returncode})")
                return 1
            timing = json.loads(TIMINGS.read_text())
            runs.append({k: v for k, v in timing.items() if isinstance(v, int | float)})
            print(f"run {i + 1}: " + ", ".join(f"{k}={v}" for k, v in runs[-1].items()), flush=True)
    finally:
        for burner in burners:
            burner.kill()
    print(f"\n{len(runs)} run(s), {args.burn} burner(s), {os.cpu_count()} core(s)")
    print(f"{'timing':40s} {'median':>8s} {'min':>8s} {'max':>8s}")
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        print(f"{key:40s} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
