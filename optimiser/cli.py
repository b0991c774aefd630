"""Command line: ``python -m optimiser validate|run|bench|sweep|frontier|users|report``.

The one front door: every subcommand's parser is here, with the few lines that turn its
arguments into a call of `estate` or `optimiser` and print the outcome.

Exit codes: 0 success (rows may have been rejected), 2 bad input, 3 infeasible or no solution,
1 unexpected internal error. No traceback reaches the user unless ``--debug``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from estate import PLACES, Estate, EstateError, EstateValidationError, load_estate, load_place
from estate.limits import MAX_SWEEP_JOBS, MAX_SWEEP_RETRIES, cap_to_cores
from estate.postgis import is_database
from estate.settings import check_out_folder
from optimiser import auth, bench
from optimiser.alternatives import (
    DEFAULT_DIFFER,
    DEFAULT_WITHIN,
    EXACT_GAP,
    alternatives_table,
    exact,
    find_alternatives,
)
from optimiser.bench import METHODS as BENCH_METHODS
from optimiser.errors import BenchError, OptimiserError, ScenarioError, SweepError, UsageError
from optimiser.frontier import FRONTIER_FILES, frontier, write_frontier
from optimiser.frontier import PARAMETERS as FRONTIER_PARAMETERS
from optimiser.partnership import (
    check_cache_folder,
    coalition_plan,
    find_partner,
    partnership_lines,
    partnership_plan,
)
from optimiser.pipeline import optimise
from optimiser.plan import Plan
from optimiser.prices import PRICE_CHOICES, with_prices
from optimiser.progress import Printer
from optimiser.report.files import RUN_FILES, write_plan
from optimiser.report.rundir import check_run_target
from optimiser.robustness import CORE_SHARE, MAX_DRAWS, robustness
from optimiser.scenario import Scenario, check_option
from optimiser.shapley import run_shapley
from optimiser.sweep import (
    DEFAULT_TIME_LIMIT_S,
    NATIONAL_TIME_LIMIT_S,
    ScenarioRow,
    default_base,
    grid_parts,
    list_places,
    read_grid,
    resolve_places,
    run_sweep,
    scenario_row,
    summarise,
)

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_NO_SOLUTION = 0, 1, 2, 3
MAX_ALTERNATIVES = 20
DEFAULT_SWEEP_ESTATE = Path(__file__).resolve().parents[1] / "data" / "england.gpkg"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(prog="python -m optimiser", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_validate_parser(sub)
    _add_run_parser(sub)
    _add_bench_parser(sub)
    _add_sweep_parser(sub)
    _add_frontier_parser(sub)
    _add_users_parser(sub)
    _add_report_parser(sub)
    return parser


def _add_validate_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    validate = sub.add_parser("validate", help="load and check an estate; report rejected rows")
    _add_estate_args(validate)
    validate.add_argument("--json", action="store_true", help="print one JSON object")
    validate.set_defaults(func=_cmd_validate)


def _add_run_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    _add_options_args(run)
    _add_partner_args(run)
    run.set_defaults(func=_cmd_run)


def _add_partner_args(run: argparse.ArgumentParser) -> None:
    partners = run.add_argument_group("partners (docs/optimiser.md)")
    partners.add_argument(
        "--partnership",
        action="store_true",
        help="solve each partner's stand-alone plan too: partnership value, standalone_npv_gbp "
        "(scenario: partners.standalone_plans = true)",
    )
    partners.add_argument(
        "--standalone", metavar="PARTNER", help="write PARTNER's stand-alone plan instead of the joint one"
    )
    partners.add_argument(
        "--shapley", action="store_true", help="solve every coalition of partner groups: the Shapley split"
    )
    partners.add_argument(
        "--workers",
        type=int,
        default=0,
        help="Dask worker processes for stand-alone and coalition solves (0: here)",
    )
    partners.add_argument("--scheduler", help="address of a running Dask scheduler, instead of --workers")
    partners.add_argument(
        "--coalition-cache", type=Path, help="folder keeping coalition results between runs"
    )


def _add_estate_args(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--place", dest="bundled", choices=sorted(PLACES), help="a bundled example estate")
    source.add_argument(
        "--buildings",
        type=_register,
        help="buildings register (gpkg/geojson/shp/csv/xlsx, or postgresql://user@host/db#schema.table)",
    )
    parser.add_argument("--occupiers", type=_register, help="occupiers table (a file or a PostGIS URL)")
    parser.add_argument("--zones", type=_register, help="zones (LSOA population-weighted centroids)")
    parser.add_argument("--access", type=_register, help="access standards table")
    parser.add_argument("--compatibility", type=_register, help="service compatibility table")
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


def _register(text: str) -> str | Path:
    """A register argument: a PostGIS URL (kept as text) or a file path."""
    return text if is_database(text) else Path(text)


def load_from_args(args: argparse.Namespace) -> Estate:
    """Load the estate the arguments name."""
    if args.bundled:
        return load_place(args.bundled, strict=args.strict)
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
    _check_options_args(args)
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
    if args.alternatives and exact(scenario) is not scenario:
        print(
            f"note: --alternatives solves the optimum and each alternative to a gap of {EXACT_GAP:g}",
            file=sys.stderr,
        )
        scenario = exact(scenario)
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
    printer = None if args.quiet or args.verbose else Printer(sys.stderr)
    try:
        plan, extra = _plan_for_run(args, estate, scenario, printer)
    except ScenarioError as err:  # a check against the estate (e.g. a lock): name the scenario file
        if args.scenario is None:
            raise
        msg = f"{args.scenario.name}: {err}"
        raise ScenarioError(msg) from err
    finally:
        if printer is not None:
            printer.close()
    plan, extras = _board_options(args, estate, scenario, plan)
    extras["extra_tables"] |= {f"{name}.csv": frame for name, frame in extra.items()}
    written = write_plan(estate, plan, args.out, **extras)
    print(plan.summary())
    for line in partnership_lines(plan):
        print(line)
    print(
        f"  wrote {', '.join(dict.fromkeys(n.split('/')[0] for n in written))} and run.json to {args.out} ({time.perf_counter() - started:.2f} s in all)"
    )
    return EXIT_OK


# ---------------------------------------------------------------------- run: options for a board
def _add_options_args(run: argparse.ArgumentParser) -> None:
    """``run``'s flags for issue 13: alternatives (docs/optimiser.md, "Options for a board")."""
    run.add_argument(
        "--alternatives",
        type=int,
        default=0,
        metavar="K",
        help=f"also find up to K near-optimal alternatives (1-{MAX_ALTERNATIVES}), written as alt_1/ ... alt_K/",
    )
    run.add_argument(
        "--within",
        type=float,
        default=DEFAULT_WITHIN * 100,
        metavar="PCT",
        help=f"alternatives cost at most PCT%% of |NPV| more than the optimum (default {DEFAULT_WITHIN * 100:g})",
    )
    run.add_argument(
        "--differ",
        type=int,
        default=DEFAULT_DIFFER,
        metavar="N",
        help=f"each alternative differs from every other plan in N+ keep/dispose decisions (default {DEFAULT_DIFFER})",
    )
    run.add_argument(
        "--prices",
        choices=PRICE_CHOICES,
        default="none",
        help="price of each decision by re-solving with it reversed: disposed buildings, all free ones, or none (default)",
    )
    run.add_argument(
        "--uncertainty",
        type=int,
        default=0,
        metavar="N",
        help="solve N draws of the modelled money figures (spreads: the scenario's [uncertainty]); "
        "writes robustness.csv and P10/P50/P90 in summary.json",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the --uncertainty draws (default 0)")
    run.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "estate-optimiser-cache",
        help="folder where re-solves are kept by their inputs and read back by the next run (default: in the temp folder)",
    )
    run.add_argument(
        "--option-workers",
        type=int,
        default=1,
        metavar="W",
        help="Dask worker processes for the re-solves of --prices and --uncertainty (default 1: serial)",
    )


def _in_range(flag: str, value: object, ok: bool, allowed: str, example: str) -> None:
    """Refuse a flag's value that is out of range, with what is allowed and an example (exit 2)."""
    if not ok:
        msg = f"command line: {flag} {value} is out of range. Allowed: {allowed}. Fix: e.g. {flag} {example}."
        raise UsageError(msg)


def _check_options_args(args: argparse.Namespace) -> None:
    whole = "a whole number, 1 or more"
    _in_range(
        "--alternatives",
        args.alternatives,
        0 <= args.alternatives <= MAX_ALTERNATIVES,
        f"a whole number from 0 to {MAX_ALTERNATIVES}",
        "5",
    )
    _in_range("--within", f"{args.within:g}", 0 < args.within <= 100, "a percentage above 0, up to 100", "2")
    _in_range("--differ", args.differ, args.differ >= 1, whole, "3")
    _in_range(
        "--uncertainty",
        args.uncertainty,
        0 <= args.uncertainty <= MAX_DRAWS,
        f"a whole number from 0 to {MAX_DRAWS}",
        "50",
    )
    _in_range("--seed", args.seed, args.seed >= 0, "a whole number, 0 or more", "1")
    _in_range("--option-workers", args.option_workers, args.option_workers >= 1, whole, "2")
    args.option_workers, note = cap_to_cores(
        args.option_workers, what=f"--option-workers {args.option_workers}"
    )
    if note:
        print(f"warning: {note}", file=sys.stderr)


def _board_options(
    args: argparse.Namespace, estate: Estate, scenario: Scenario, plan: Plan
) -> tuple[Plan, dict[str, Any]]:
    """The plan (with any added columns) and write_plan's extras for the options asked for."""
    extras: dict[str, Any] = {"extra_tables": {}, "extra_runs": {}, "extra_summary": {}}
    if args.alternatives:
        found = find_alternatives(
            estate, scenario, plan, count=args.alternatives, within=args.within / 100, differ=args.differ
        )
        extras["extra_tables"]["alternatives.csv"] = alternatives_table(found)
        extras["extra_runs"] |= {f"alt_{k}": p for k, p in enumerate(found.plans, start=1)}
        extras["extra_summary"]["alternatives"] = found.summary()
        print(found.note, file=sys.stderr)
        print(alternatives_table(found).drop(columns=["folder"]).to_string(index=False), file=sys.stderr)
    if args.prices != "none":
        priced = with_prices(
            estate,
            scenario,
            plan,
            which=args.prices,
            workers=args.option_workers,
            cache_dir=args.cache / "prices",
        )
        plan = replace(plan, buildings=priced)
        shown = priced[priced["price_basis"].str.contains("would cost|not possible", regex=True)]
        for bid, basis in zip(shown["building_id"], shown["price_basis"], strict=True):
            print(f"  price {bid}: {basis}", file=sys.stderr)
    if args.uncertainty:
        drawn = robustness(
            estate,
            scenario,
            plan,
            draws=args.uncertainty,
            seed=args.seed,
            workers=args.option_workers,
            cache_dir=args.cache / "draws",
        )
        extras["extra_tables"] |= {"robustness.csv": drawn.buildings, "robustness_draws.csv": drawn.draws}
        extras["extra_summary"] |= drawn.summary()
        s = drawn.summary()
        print(
            f"uncertainty: {len(drawn.solved)} of {args.uncertainty} draws solved (seed {args.seed}); NPV P10 "
            f"£{s['npv_p10_gbp'] or 0:,.0f}, P50 £{s['npv_p50_gbp'] or 0:,.0f}, P90 £{s['npv_p90_gbp'] or 0:,.0f}; "
            f"robust core ({CORE_SHARE:.0%}+ of draws): {', '.join(drawn.core) or 'none'}",
            file=sys.stderr,
        )
    return plan, extras


# ---------------------------------------------------------------------- frontier
def _add_frontier_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``frontier``: the optimum over a grid of one parameter (optimiser.frontier)."""
    front = sub.add_parser("frontier", help="solve a grid of one parameter and plot NPV against it")
    _add_estate_args(front)
    front.add_argument("--scenario", type=Path, help="scenario TOML the grid starts from")
    front.add_argument("--param", required=True, help=f"the parameter: {', '.join(FRONTIER_PARAMETERS)}")
    front.add_argument("--values", required=True, help="comma-separated values, e.g. 1,1.5,2,2.5,3,4")
    front.add_argument("--time-limit", type=float, help="solver seconds per point")
    front.add_argument("--gap", type=float, help="relative optimality gap per point (default 1e-4)")
    front.add_argument("--workers", type=int, default=1, help="Dask worker processes (default 1: serial)")
    front.add_argument("--out", type=Path, required=True, help="folder for frontier.csv/.png/.html")
    front.set_defaults(func=_cmd_frontier)


def _cmd_frontier(args: argparse.Namespace) -> int:
    check_out_folder(args.out, what="--out", error=UsageError)
    try:
        values = [float(v) for v in args.values.split(",") if v.strip()]
    except ValueError:
        msg = f"command line: --values {args.values!r} is not a list of numbers. Fix: e.g. --values 1,1.5,2."
        raise UsageError(msg) from None
    _in_range("--workers", args.workers, args.workers >= 1, "a whole number, 1 or more", "2")
    args.workers, note = cap_to_cores(args.workers, what=f"--workers {args.workers}")
    if note:
        print(f"warning: {note}", file=sys.stderr)
    scenario = Scenario.from_toml(args.scenario) if args.scenario else Scenario()
    changes = {
        name: check_option(flag, name, value)
        for flag, name, value in (
            ("--time-limit", "time_limit_s", args.time_limit),
            ("--gap", "mip_gap", args.gap),
        )
        if value is not None
    }
    scenario = scenario.with_changes(**changes) if changes else scenario
    if args.workers > 1:
        scenario = scenario.with_changes(threads=1)  # one thread a worker, as the sweep runs
    estate = load_from_args(args)
    check_run_target(args.out, known_files=FRONTIER_FILES, cache_dirs=("jobs",))
    done = [0]

    def tick(_: int, result: dict[str, Any]) -> None:
        done[0] += 1
        print(f"  point {done[0]}/{len(values)}: {result['status']}", file=sys.stderr)

    table = frontier(
        estate,
        scenario,
        args.param,
        values,
        workers=args.workers,
        cache_dir=args.out / "jobs",
        on_result=tick,
    )
    identity = {
        "command": "frontier",
        "place": estate.name,
        "scenario": scenario.name,
        "parameter": args.param,
    }
    write_frontier(table, args.out, identity=identity)
    shown = table[
        ["value", "status", "proven_optimal", "npv_gbp", "gap_gbp", "buildings_disposed", "monotone"]
    ]
    print(shown.to_string(index=False))
    print(f"  wrote {', '.join(FRONTIER_FILES)} and run.json to {args.out}")
    return EXIT_OK if (table["monotone"] != "violated").all() else EXIT_NO_SOLUTION


def _plan_for_run(
    args: argparse.Namespace, estate: Estate, scenario: Scenario, printer: Printer | None
) -> tuple[Plan, dict[str, Any]]:
    """The plan `run` writes (joint, stand-alone or with the partnership figures) and its extra tables."""
    if args.workers < 0:
        msg = f"--workers must be 0 (solve here) or more; got {args.workers}."
        raise UsageError(msg)
    check_cache_folder(args.coalition_cache, what="--coalition-cache")
    if args.standalone is not None:
        if args.partnership or args.shapley:
            msg = "--standalone writes one partner's plan; leave out --partnership and --shapley with it."
            raise UsageError(msg)
        return coalition_plan(estate, scenario, [find_partner(estate, args.standalone)], msg=args.verbose), {}
    if args.partnership or args.shapley:
        scenario = scenario.with_changes(standalone_plans=True)
    if not (scenario.standalone_plans or scenario.no_partner_worse_off == "standalone"):
        return optimise(estate, scenario, msg=args.verbose, progress=printer), {}
    options: dict[str, Any] = {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "cache_dir": args.coalition_cache,
    }
    memo: dict[Any, Any] = {}
    plan = partnership_plan(estate, scenario, memo=memo, msg=args.verbose, progress=printer, **options)
    if not args.shapley:
        return plan, {}
    result = run_shapley(estate, scenario, plan, memo=memo, **options)
    figures = {
        "owner_split_in_core": result.in_core,
        "owner_split_blocked_by": result.blocked_by,
        "coalition_solves": result.solves,
        "grand_coalition_npv_gbp": float(result.shapley["shapley_gbp"].sum()),
    }
    plan = replace(plan, partnership=plan.partnership | figures)
    return plan, {"coalitions": result.coalitions, "shapley": result.shapley}


# ---------------------------------------------------------------------- bench
def _add_bench_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the bench command (instances: holmberg, orlib-cap)."""
    bench = sub.add_parser("bench", help="solve a published benchmark instance through the estate model")
    kinds = bench.add_subparsers(dest="family", required=True)
    holmberg = kinds.add_parser("holmberg", help="Holmberg single-source CFLP (p1 ... p71)")
    orlib = kinds.add_parser(
        "orlib-cap", help="OR-Library capacitated warehouse location (capXX.txt or .zip)"
    )
    for parser in (holmberg, orlib):
        parser.add_argument("file", type=Path, help="instance file")
        parser.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
        parser.add_argument(
            "--solver", choices=("highs", "cbc"), default="highs", help="MILP solver (default highs)"
        )
        parser.add_argument("--gap", type=float, default=0.0, help="relative gap to stop at (default 0)")
        parser.add_argument("--threads", type=int, help="solver threads")
        parser.add_argument(
            "--optima",
            type=Path,
            help="published optima to compare with (default: 'os' or 'bounds.txt' next to FILE)",
        )
        parser.add_argument("--verbose", action="store_true", help="show the solver log")
        parser.add_argument(
            "--method",
            choices=BENCH_METHODS,
            default="default",
            help="default: the MILP as built; benders: Benders decomposition (HiGHS)",
        )
    orlib.add_argument(
        "--capacity", type=float, help="capacity for files that say 'capacity' (capb: 5000-8000)"
    )
    holmberg.set_defaults(func=_cmd_bench, reader="holmberg")
    orlib.set_defaults(func=_cmd_bench, reader="orlib-cap")


def _published(args: argparse.Namespace, name: str) -> float | None:
    if args.reader == "holmberg":
        path = args.optima or args.file.parent / "os"
        reader = bench.holmberg_optima
    else:
        path = args.optima or args.file.parent / "bounds.txt"
        reader = bench.orlib_cap_optima
    if args.optima is None and not path.is_file():
        return None
    return reader(path).get(name)


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.time_limit <= 0:
        msg = f"--time-limit must be positive; got {args.time_limit:g}."
        raise BenchError(msg)
    if not 0 <= args.gap < 1:
        msg = f"--gap must be in [0, 1); got {args.gap:g}."
        raise BenchError(msg)
    if args.reader == "holmberg":
        instance = bench.read_holmberg(args.file)
    else:
        instance = bench.read_orlib_cap(args.file, capacity=args.capacity)
    published = _published(args, instance.name)
    plan = bench.solve_instance(
        instance,
        solver=args.solver,
        time_limit_s=args.time_limit,
        mip_gap=args.gap,
        threads=args.threads,
        msg=args.verbose,
        method=args.method,
    )
    print(_bench_line(instance.name, plan, published))
    return 0


def _bench_line(name: str, plan: Plan, published: float | None = None) -> str:
    """One line: objective, status, proof, gap, bound, times, solver (and the published optimum)."""
    info = plan.info
    line = (
        f"{name}: objective={info.objective:.6f} status={info.status} "
        f"proven_optimal={info.proven_optimal} gap={info.gap:.3g} bound={info.bound:.6f} "
        f"time_s={info.time_s:.2f} build_s={plan.build_s:.2f} solver={info.solver}"
    )
    if published is not None:
        rel = abs(info.objective - published) / max(abs(published), 1e-9)
        line += f" published={published:.6f} rel_error={rel:.2e}"
    return line


# ---------------------------------------------------------------------- sweep
def _add_sweep_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``sweep`` with the CLI's sub-parsers."""
    sweep = sub.add_parser(
        "sweep",
        help="optimise many (place x scenario) jobs in parallel on Dask",
        description="``python -m optimiser sweep``: many (place x scenario) jobs in parallel on Dask.",
    )
    which = sweep.add_mutually_exclusive_group()
    which.add_argument("--national", action="store_true", help="every place of --estate (England by default)")
    which.add_argument("--places", help="comma-separated place codes or names, e.g. Trafford,Kent,E06000001")
    which.add_argument("--list-places", action="store_true", help="print the places and exit")
    sweep.add_argument(
        "--estate",
        type=Path,
        default=DEFAULT_SWEEP_ESTATE,
        help="estate with a place (or borough) column (default data/england.gpkg)",
    )
    sweep.add_argument(
        "--scenarios", type=Path, help="scenario grid TOML (see docs/sweep.md); default: one scenario"
    )
    sweep.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="local worker processes, one thread each (default: one per core)",
    )
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument(
        "--time-limit",
        type=float,
        help=f"solver seconds per job (default {DEFAULT_TIME_LIMIT_S:g}; {NATIONAL_TIME_LIMIT_S:g} with "
        "--national and no --scenarios)",
    )
    sweep.add_argument("--retries", type=int, default=2, help="retries of a job that raises (default 2)")
    sweep.add_argument("--force", action="store_true", help="recompute jobs already done in --out")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument("--out", type=Path, help="folder for results.csv, results.gpkg and jobs/")
    sweep.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    _check_sweep_args(args)
    if args.scenarios:
        grid_parts(args.scenarios)  # a malformed or oversized grid stops before the estate loads
    loaded = time.perf_counter()
    estate = load_estate(args.estate, name=args.estate.stem)
    table = list_places(estate)
    if args.list_places:
        print(table.drop(columns=["easting", "northing"]).to_string(index=False))
        return 0
    places = list(table["place"]) if args.national else resolve_places(estate, args.places.split(","))
    rows = _sweep_rows(args, estate)
    if len(places) * len(rows) > MAX_SWEEP_JOBS:
        msg = (
            f"{len(places):,} place(s) x {len(rows):,} scenario(s) = {len(places) * len(rows):,} jobs; "
            f"the limit is {MAX_SWEEP_JOBS:,} jobs in one sweep. Fix: fewer places or scenario rows, "
            "or several sweeps (see docs/limits.md)."
        )
        raise SweepError(msg)
    bad = [r for r in rows if r.scenario is None]
    print(
        f"{estate.name}: {len(places)} place(s) x {len(rows)} scenario(s) "
        f"({len(bad)} malformed); loaded in {time.perf_counter() - loaded:.1f} s",
        file=sys.stderr,
    )
    for row in bad:
        print(f"malformed scenario row ({row.where}): {row.error}", file=sys.stderr)
    result = run_sweep(
        estate,
        places=places,
        rows=rows,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        retries=args.retries,
        progress=not args.no_progress,
    )
    print(summarise(result))
    if bad:
        return 2
    return 0 if not (result.results["status"].isin(["failed", "infeasible"])).any() else 3


def _check_sweep_args(args: argparse.Namespace) -> None:
    """Refuse arguments that cannot make a sweep (before anything is read); cap ``--workers``
    to the cores when they are local processes."""
    if not args.estate.exists():
        msg = (
            f"{args.estate} not found. Build the national estate with "
            "`.venv/bin/python scripts/build_national.py`, or give --estate."
        )
        raise SweepError(msg)
    if not args.list_places and args.out is None:
        msg = "Give --out DIR for the results."
        raise SweepError(msg)
    if not (args.national or args.places or args.list_places):
        msg = "Say which places: --national (all), or --places A,B,... (see --list-places)."
        raise SweepError(msg)
    if args.out is not None:
        check_out_folder(args.out, what="--out", error=SweepError)
    if args.time_limit is not None:
        check_option("--time-limit", "time_limit_s", args.time_limit)
    if not 0 <= args.retries <= MAX_SWEEP_RETRIES:
        msg = f"command line: --retries {args.retries} is out of range. Allowed: a whole number from 0 to {MAX_SWEEP_RETRIES}. Fix: e.g. --retries 2."
        raise SweepError(msg)
    if args.workers < 1:
        msg = f"command line: --workers {args.workers} is out of range. Allowed: a whole number, 1 or more. Fix: e.g. --workers 2."
        raise SweepError(msg)
    if not args.scheduler:  # local worker processes: no more than the cores
        args.workers, note = cap_to_cores(args.workers, what=f"--workers {args.workers}")
        if note:
            print(f"warning: {note}", file=sys.stderr)


def _sweep_rows(args: argparse.Namespace, estate: Estate) -> list[ScenarioRow]:
    """The scenario rows: the ``--scenarios`` grid, or the one default scenario."""
    if args.scenarios:
        return read_grid(args.scenarios, access=estate.access, time_limit_s=args.time_limit)
    limit = args.time_limit
    if limit is None and args.national:
        limit = NATIONAL_TIME_LIMIT_S  # every place of England within 15 minutes on 2 workers
    base = default_base(time_limit_s=limit)
    return [scenario_row(base, {}, name="default", where="defaults", access=estate.access)]


# ---------------------------------------------------------------------- users
def _add_users_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``users`` (add, list, remove, set-role, set-password) with the CLI's sub-parsers."""
    users = sub.add_parser(
        "users",
        help="manage the app's users and roles (for ESTATE_APP_AUTH=users or oidc)",
        description="Manage the users file of a shared deployment (docs/deployment.md).",
    )
    users.add_argument(
        "--file", type=Path, help=f"users file (default: {auth.USERS_FILE} in $ESTATE_APP_DATA)"
    )
    action = users.add_subparsers(dest="users_command", required=True)

    add = action.add_parser("add", help="add a user; the password is asked for, never an argument")
    add.add_argument("name")
    add.add_argument("--role", choices=auth.ROLES, required=True)
    add.add_argument("--email", default="", help="for OIDC logins")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--no-password", action="store_true", help="OIDC only: no password login")
    add.set_defaults(func=_cmd_add)

    listing = action.add_parser("list", help="list users and roles (never the hashes)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_cmd_list)

    remove = action.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    remove.set_defaults(func=_cmd_remove)

    role = action.add_parser("set-role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=auth.ROLES)
    role.set_defaults(func=_cmd_set_role)

    password = action.add_parser("set-password", help="give a user a new password")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password.set_defaults(func=_cmd_set_password)


def _users_path(args: argparse.Namespace) -> Path:
    return Path(args.file) if args.file else auth.users_path()


def _read_password(args: argparse.Namespace) -> str:
    """From stdin (one line) with --password-stdin, else typed twice at a prompt that never echoes."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            msg = "--password-stdin: stdin gave no password."
            raise auth.AuthError(msg)
        return password
    if not sys.stdin.isatty():
        msg = "No terminal to ask for the password without echoing it; pipe it in with --password-stdin."
        raise auth.AuthError(msg)
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        msg = "The two passwords differ; nothing was changed."
        raise auth.AuthError(msg)
    return first


def _cmd_add(args: argparse.Namespace) -> int:
    password = None if args.no_password else _read_password(args)
    user = auth.add_user(_users_path(args), args.name, role=args.role, password=password, email=args.email)
    print(f"added {user.name} ({user.role}) to {_users_path(args)}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    path = _users_path(args)
    users = auth.load_users(path)
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "email": u.email,
            "password": bool(u.password_hash),
            "created": u.created,
        }
        for u in users.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"No users in {path} yet: python -m optimiser users add NAME --role admin", file=sys.stderr)
        return 0
    print(f"{len(rows)} user(s) in {path}:")
    for r in rows:
        login = "password" if r["password"] else "OIDC only"
        print(f"  {r['name']:<24} {r['role']:<8} {r['email'] or '-':<32} {login}")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    user = auth.remove_user(_users_path(args), args.name)
    print(f"removed {user.name} ({user.role})")
    return 0


def _cmd_set_role(args: argparse.Namespace) -> int:
    user = auth.set_role(_users_path(args), args.name, args.role)
    print(f"{user.name} is now {user.role}")
    return 0


def _cmd_set_password(args: argparse.Namespace) -> int:
    auth.find_user(_users_path(args), args.name)  # before asking for a password
    user = auth.set_password(_users_path(args), args.name, _read_password(args))
    print(f"new password set for {user.name}")
    return 0


# ---------------------------------------------------------------------- report
def _add_report_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``report``: the board pack of 1-4 run folders, as PDF and/or HTML."""
    report = sub.add_parser(
        "report",
        help="the board pack (PDF/HTML) of one run folder, or of 2-4 side by side",
        description="Build the printable board pack from the folders `python -m optimiser run` wrote.",
    )
    report.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="a `run --out` folder")
    report.add_argument("--pdf", type=Path, help="write the pack as PDF (A4) here")
    report.add_argument("--html", type=Path, help="write the pack as one self-contained HTML page here")
    report.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from optimiser.report.runpack import write_pack  # matplotlib and WeasyPrint: only for this command

    started = time.perf_counter()
    written = write_pack(args.run_dirs, pdf=args.pdf, html=args.html)
    what = " and ".join(str(p) for p in written.values())
    count = len(args.run_dirs)
    print(
        f"wrote the board pack of {count} option{'s' if count > 1 else ''} to {what} ({time.perf_counter() - started:.1f} s)"
    )
    return EXIT_OK


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
