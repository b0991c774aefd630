"""The phased model against the static one: Trafford and Greater Manchester with phased.toml.

For each place: the static run (default scenario) and the phased run (``phased.toml``), both
through ``python -m optimiser run`` with ``--time-limit`` (default 120 s), each phased run
checked by ``tests/phased_check.py``. Prints one line per run: status, net present cost,
bound, gap and the gap as a share of the NPV. Heavy: run it alone, under ``flock
/tmp/heavy.lock``. Usage: ``python bench/phased_solve.py [--time-limit 120] [--place ...]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.phased_check import check_phased_run  # noqa: E402


def _run(place: str, scenario: Path | None, limit: float, out: Path) -> dict:
    args = [
        sys.executable,
        "-m",
        "optimiser",
        "run",
        "--place",
        place,
        "--time-limit",
        str(limit),
        "--out",
        str(out),
        "--quiet",
    ]
    if scenario is not None:
        args += ["--scenario", str(scenario)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        msg = f"{place}: exit {done.returncode}: {done.stderr.strip()}"
        raise SystemExit(msg)
    return json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--place", action="append", default=None)
    args = parser.parse_args()
    places = args.place or ["trafford", "greater_manchester"]
    print("| place | model | status | NPC £k | bound £k | gap | gap £ | gap / NPV | time s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for place in places:
            for label, scenario in (
                ("static", None),
                ("phased", REPO / "data" / "scenarios" / "phased.toml"),
            ):
                out = Path(tmp) / f"{place}_{label}"
                s = _run(place, scenario, args.time_limit, out)
                if label == "phased":
                    check_phased_run(REPO / "data" / f"{place}.gpkg", out)
                share = s.get("gap_share_of_npv")
                print(
                    f"| {place} | {label} | {s['status']} | {s['objective']:,.0f} | "
                    f"{s['bound']:,.0f} | {s['gap']:.4%} | {s['gap_gbp']:,.0f} | "
                    f"{'n/a' if share is None else f'{share:.2%}'} | {s['time_s']:.0f} |"
                )


if __name__ == "__main__":
    main()
