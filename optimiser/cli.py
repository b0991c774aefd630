"""Command line: ``python -m optimiser validate|run|bench|sweep|users``.

Exit codes: 0 success (rows may have been rejected), 2 bad input, 3 infeasible or no
solution, 1 unexpected internal error. No traceback reaches the user unless ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from estate import PLACES, Estate, EstateError, EstateValidationError, load_estate, load_place
from estate.settings import check_out_folder
from optimiser.errors import OptimiserError, ScenarioError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_NO_SOLUTION = 0, 1, 2, 3


def _add_estate_args(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--place", choices=sorted(PLACES), help="a bundled place")
    source.add_argument("--buildings", type=Path, help="buildings register (gpkg/geojson/shp/csv/xlsx)")
    parser.add_argument("--occupiers", type=Path, help="occupiers table")
    parser.add_argument("--zones", type=Path, help="zones (LSOA population-weighted centroids)")
    parser.add_argument("--access", type=Path, help="access standards table")
    parser.add_argument("--compatibility", type=Path, help="service compatibility table")
    parser.add_argument("--mapping", help="column mapping: a TOML/YAML file or a built-in name")
    parser.add_argument("--travel-matrix", type=Path, help="CSV zone_id,building_id,minutes")
    parser.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="TABLE=NAME",
        help="GeoPackage layer or Excel sheet for a table, e.g. buildings=assets (repeatable)",
    )
    parser.add_argument("--strict", action="store_true", help="fail on any data issue (exit 2)")


def load_from_args(args: argparse.Namespace) -> Estate:
    """Load the estate the arguments name."""
    if args.place:
        return load_place(args.place, strict=args.strict)
    layers = {}
    for item in args.layer:
        table, sep, name = item.partition("=")
        if not sep or not name or table not in ("buildings", "occupiers", "zones", "access", "compatibility"):
            msg = (
                f"--layer {item!r}: use TABLE=NAME with TABLE one of buildings, occupiers, zones, "
                "access, compatibility (e.g. --layer buildings=assets)."
            )
            raise EstateError(msg)
        layers[table] = name
    return load_estate(
        args.buildings,
        layers=layers,
        occupiers=args.occupiers,
        zones=args.zones,
        access=args.access,
        compatibility=args.compatibility,
        mapping=args.mapping,
        strict=args.strict,
        travel_matrix=args.travel_matrix,
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    estate = load_from_args(args)
    elapsed = time.perf_counter() - start
    counts = estate.counts()
    rejected = [
        {
            "table": table,
            "row": int(r["source_row"]),
            "id": _text(r.get(_id_of(table))),
            "reasons": str(r["reasons"]),
        }
        for table, frame in estate.rejected.items()
        for _, r in frame.iterrows()
    ]
    if args.json:
        out = {
            **counts,
            "place": estate.name,
            "load_s": round(elapsed, 3),
            "sources": estate.sources,
            "rejected_rows": rejected,
            "notes": len(estate.notes),
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    print(f"{estate.name}: loaded in {elapsed:.2f} s")
    for table in ("buildings", "occupiers", "zones", "access", "compatibility"):
        c = counts[table]
        extra = f", {c['fixed']} fixed (kept as they are: figures missing)" if table == "buildings" else ""
        print(f"  {table:<14} {c['accepted']:>6,} accepted, {c['rejected']:>4,} rejected{extra}")
    print(f"  population     {counts['population']:>10,}")
    if rejected:
        print(f"\nRejected rows ({len(rejected)}):", file=sys.stderr)
        for r in rejected[:200]:
            print(
                f"  {estate.sources.get(str(r['table']), str(r['table']))} row {r['row']}"
                f" ({r['id'] or 'no id'}): {r['reasons']}",
                file=sys.stderr,
            )
        if len(rejected) > 200:
            print(f"  ... and {len(rejected) - 200} more (use --json for all)", file=sys.stderr)
    return EXIT_OK


def _id_of(table: str) -> str:
    return {"buildings": "building_id", "occupiers": "occupier_id", "zones": "zone_id"}.get(table, "service")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _cmd_run(args: argparse.Namespace) -> int:
    from optimiser.pipeline import optimise
    from optimiser.report.files import RUN_FILES, write_plan
    from optimiser.report.rundir import check_run_target
    from optimiser.scenario import Scenario, check_option

    started = time.perf_counter()
    options = {
        "--solver": ("solver", args.solver),
        "--time-limit": ("time_limit_s", args.time_limit),
        "--gap": ("mip_gap", args.gap),
        "--threads": ("threads", args.threads),
    }
    changes = {
        name: check_option(flag, name, value) for flag, (name, value) in options.items() if value is not None
    }
    check_out_folder(args.out, what="--out", error=UsageError)
    scenario = Scenario.from_toml(args.scenario) if args.scenario else Scenario()
    scenario = scenario.with_changes(**changes) if changes else scenario
    flag = (
        f"--threads {args.threads}"
        if args.threads is not None
        else f"{args.scenario.name if args.scenario else 'scenario'}: threads = {scenario.threads}"
    )
    scenario, note = scenario.capped_to_machine(what=flag)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    estate = load_from_args(args)
    check_run_target(args.out, known_files=RUN_FILES)  # before the solve, not after it
    if not args.quiet:
        counts = estate.counts()
        print(
            f"{estate.name}: {counts['buildings']['accepted']} buildings "
            f"({counts['buildings']['rejected']} rejected), {counts['occupiers']['accepted']} occupiers, "
            f"{counts['zones']['accepted']} zones",
            file=sys.stderr,
        )
    try:
        plan = optimise(estate, scenario, msg=args.verbose)
    except ScenarioError as err:  # a check against the estate (e.g. a lock): name the scenario file
        if args.scenario is None:
            raise
        msg = f"{args.scenario.name}: {err}"
        raise ScenarioError(msg) from err
    written = write_plan(estate, plan, args.out)
    print(plan.summary())
    print(
        f"  wrote {', '.join(written)} and run.json to {args.out} ({time.perf_counter() - started:.2f} s in all)"
    )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(prog="python -m optimiser", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="load and check an estate; report rejected rows")
    _add_estate_args(validate)
    validate.add_argument("--json", action="store_true", help="print one JSON object")
    validate.set_defaults(func=_cmd_validate)

    run = sub.add_parser("run", help="optimise an estate and write the plan to --out")
    _add_estate_args(run)
    run.add_argument("--scenario", type=Path, help="scenario TOML (see docs/scenario.md)")
    run.add_argument("--solver", choices=("highs", "cbc"), help="MILP solver (default highs)")
    run.add_argument("--time-limit", type=float, help="seconds; the best plan so far is kept")
    run.add_argument("--gap", type=float, help="relative optimality gap to stop at (default 1e-4)")
    run.add_argument("--threads", type=int, help="solver threads")
    run.add_argument(
        "--out", type=Path, required=True, help="folder for the plan files (replaced whole by each run)"
    )
    run.add_argument("--quiet", action="store_true", help="less output")
    run.add_argument("--verbose", action="store_true", help="show the solver log")
    run.set_defaults(func=_cmd_run)

    from optimiser.auth import add_users_parser
    from optimiser.bench import add_bench_parser
    from optimiser.sweep import add_sweep_parser

    add_bench_parser(sub)
    add_sweep_parser(sub)
    add_users_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = int(args.func(args))
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr)
        return code
    except EstateValidationError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except EstateError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except OptimiserError as err:
        print(f"error: {err}", file=sys.stderr)
        return getattr(err, "exit_code", EXIT_NO_SOLUTION)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the last line of defence: no traceback for users
        if args.debug:
            traceback.print_exc()
        print(
            f"internal error: {type(err).__name__}: {err} (rerun with --debug for details)", file=sys.stderr
        )
        return EXIT_INTERNAL
