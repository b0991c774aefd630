"""What working together is worth: stand-alone and coalition plans, the partnership value and
the price of fairness.

A coalition (a set of partners; one partner alone is its **stand-alone** plan) is solved as the
ordinary model restricted to its own buildings and teams (`optimiser.model_partners`). The
solves are independent jobs: serially in this process (``workers=0``), or in parallel on the
Dask machinery of the sweep (`optimiser.sweep.runner.make_client`). Each result is kept in a
memo for the run, and, given a ``cache_dir``, on disk under a key of the estate's data, the
scenario, the members and the code (`optimiser.provenance`), so a rerun solves nothing again.

- **Partnership value** = the joint plan's NPV - the sum of the stand-alone NPVs.
- **Price of fairness** (``no_partner_worse_off`` on) = the fair plan's objective - the best
  joint objective known without the rule (the free solve's, or the fair one's if that is
  lower: it is a plan of the free model too), in pounds; so it is at least zero.

Every figure keeps its solve's honesty: each coalition's status and gap are reported, and the
summary gives the sum of the gaps (``partnership_value_uncertainty_gbp``).
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from estate import Estate, EstateError
from optimiser.errors import (
    InfeasibleScenarioError,
    OptimiserError,
    ScenarioError,
    SolveError,
    UsageError,
)
from optimiser.model import EstateModel
from optimiser.model_partners import check_members
from optimiser.partners import partners_of, with_standalone
from optimiser.pipeline import optimise
from optimiser.plan import Plan
from optimiser.progress import ProgressCallback
from optimiser.provenance import code_version, estate_digest
from optimiser.report.partners import partnership_range_words
from optimiser.scenario import Scenario

FAIRNESS_TOLERANCE_GBP = 1.0  # a fair plan's partner NPVs hold their floors within a pound
Coalition = frozenset[str]


@dataclass(frozen=True)
class CoalitionResult:
    """One coalition's best plan, in figures (pounds; the objective and bound in £k)."""

    members: tuple[str, ...]
    status: str  # optimal, gap_limit, time_limit, feasible, infeasible, failed
    proven_optimal: bool
    npv_gbp: float
    objective_k: float
    bound_k: float
    gap_gbp: float
    time_s: float
    message: str = ""
    cached: bool = False
    disposed: tuple[str, ...] = ()  # the plan's decisions: buildings disposed of ...
    moved: tuple[tuple[str, str, float], ...] = ()  # ... and (occupier, to building, share) off today

    @property
    def usable(self) -> bool:
        """A plan was found (proven optimal or not)."""
        return self.status not in ("infeasible", "failed") and math.isfinite(self.npv_gbp)


def result_of_plan(members: Iterable[str], plan: Plan, time_s: float) -> CoalitionResult:
    """A coalition's figures from its plan."""
    info = plan.info
    gap = abs(info.objective - info.bound) * 1000 if math.isfinite(info.bound) else math.inf
    return CoalitionResult(
        members=tuple(sorted(members)),
        status="optimal" if info.proven_optimal else info.status,
        proven_optimal=bool(info.proven_optimal),
        npv_gbp=float(plan.kpis["npv_gbp"]),
        objective_k=float(info.objective),
        bound_k=float(info.bound),
        gap_gbp=float(gap),
        time_s=time_s,
        message=plan.status_words,
        disposed=_disposed(plan),
        moved=moved_parts(plan),
    )


def _disposed(plan: Plan) -> tuple[str, ...]:
    b = plan.buildings
    ids = b["building_id"] if "building_id" in b else b.index.to_series()
    return tuple(sorted(ids[b["decision"] != "keep"].astype(str)))


def moved_parts(plan: Plan) -> tuple[tuple[str, str, float], ...]:
    """(occupier, to building, share) of every occupier not wholly where it is today."""
    occ = plan.occupiers
    away = set(occ.loc[occ["from_building_id"] != occ["to_building_id"], "occupier_id"].astype(str))
    rows = occ[occ["occupier_id"].astype(str).isin(away)]
    return tuple(
        (str(a), str(h), float(x))
        for a, h, x in zip(rows["occupier_id"], rows["to_building_id"], rows["share"], strict=True)
    )


def refuse_phased(scenario: Scenario, what: str) -> None:
    """`ScenarioError` (exit 2) for stand-alone or coalition plans of a phased scenario, before
    any solve: the phased model takes no coalition yet."""
    if scenario.phased:
        msg = (
            f"Scenario {scenario.name!r}: {what} needs stand-alone plans, which the phased model does not "
            "solve yet ([phasing] phased = true). Fix: set [phasing] phased = false for the partnership "
            'value, stand-alone plans, the Shapley split or no_partner_worse_off = "standalone"; or run '
            "the phased plan without them: its partner ledger, per partner and per year, is in "
            "partners.csv and partners_by_year.csv."
        )
        raise ScenarioError(msg)


def coalition_plan(estate: Estate, scenario: Scenario, members: Iterable[str], **options: Any) -> Plan:
    """The best plan of a coalition (one partner: its stand-alone plan)."""
    refuse_phased(scenario, "a stand-alone plan (--standalone)")
    return optimise(estate, scenario, coalition=frozenset(members), **options)


def coalition_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Solve one coalition (runs on a Dask worker, or here); returns `CoalitionResult` as a dict.

    An infeasible coalition or bad data are results (status ``infeasible``/``failed``).
    """
    started = time.perf_counter()
    members = payload["members"]
    try:
        plan = coalition_plan(payload["estate"], payload["scenario"], members)
    except InfeasibleScenarioError as err:
        result = _failed(members, "infeasible", str(err), time.perf_counter() - started)
    except (OptimiserError, EstateError) as err:
        result = _failed(members, "failed", f"{type(err).__name__}: {err}", time.perf_counter() - started)
    else:
        result = result_of_plan(members, plan, time.perf_counter() - started)
    return asdict(result)


def _failed(members: Iterable[str], status: str, message: str, time_s: float) -> CoalitionResult:
    nan = math.nan
    return CoalitionResult(tuple(sorted(members)), status, False, nan, nan, nan, nan, time_s, message)


def coalition_key(estate_hash: str, scenario: Scenario, members: Iterable[str]) -> str:
    """sha256 of what a coalition's result depends on: data, scenario, members and code."""
    text = json.dumps(
        {
            "data": estate_hash,
            "scenario": scenario.to_dict(),
            "members": sorted(members),
            "code": code_version(),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def check_cache_folder(path: str | Path | None, *, what: str = "coalition cache") -> None:
    """`UsageError` (exit 2) unless `path` is None, a folder, or a folder that can be made.

    Checked before any solve, so that a run never fails after its stand-alone solves.
    """
    if path is None:
        return
    folder = Path(path)
    base = folder
    while not base.exists() and base != base.parent:
        base = base.parent
    if base.exists() and not base.is_dir():
        where = "is a file" if base == folder else f"cannot be made: {base} is a file"
        msg = (
            f"{what} {folder}: {where}, not a folder. Fix: give a folder for the coalition "
            f"results (it is made if missing), e.g. {what} {folder.parent / 'coalitions'}."
        )
        raise UsageError(msg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(prefix=".write-check-", dir=folder)).rmdir()
    except OSError as err:
        msg = (
            f"{what} {folder}: cannot be made ({err.strerror or err}). Fix: give a folder you can "
            "write to for the coalition results."
        )
        raise UsageError(msg) from err


def solve_coalitions(
    estate: Estate,
    scenario: Scenario,
    coalitions: Iterable[Coalition],
    *,
    workers: int = 0,
    scheduler: str | None = None,
    cache_dir: str | Path | None = None,
    memo: dict[Coalition, CoalitionResult] | None = None,
    on_result: Callable[[CoalitionResult], None] | None = None,
) -> dict[Coalition, CoalitionResult]:
    """Every coalition's result: from `memo`, from `cache_dir`, or solved (in parallel on
    `workers` Dask processes or a `scheduler`, else serially here). `memo` gains the new ones."""
    memo = {} if memo is None else memo
    refuse_phased(scenario, "a coalition solve")
    wanted = list(dict.fromkeys(frozenset(c) for c in coalitions))
    for members in wanted:
        check_members(estate, members)
    cache = Path(cache_dir) if cache_dir is not None else None
    keys: dict[Coalition, str] = {}
    if cache is not None:
        check_cache_folder(cache)
        digest = estate_digest(estate)
        keys = {m: coalition_key(digest, scenario, m) for m in wanted}
        for members in wanted:
            if members not in memo and (found := _read_cached(cache, keys[members])) is not None:
                memo[members] = found
    todo = [m for m in wanted if m not in memo]

    def keep(result: dict[str, Any]) -> None:
        found = CoalitionResult(**_tuples(result))
        members = frozenset(found.members)
        memo[members] = found
        if cache is not None and found.usable:
            path = cache / f"{keys[members]}.json"
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(json.dumps(asdict(found)), encoding="utf-8")
            tmp.replace(path)
        if on_result is not None:
            on_result(found)

    payloads = [{"estate": estate, "scenario": scenario, "members": sorted(m)} for m in todo]
    if payloads and (workers > 0 or scheduler):
        _run_on_dask(payloads, keep, workers=workers, scheduler=scheduler)
    else:
        for payload in payloads:
            keep(coalition_job(payload))
    return {m: memo[m] for m in wanted}


def _tuples(data: Mapping[str, Any]) -> dict[str, Any]:
    """A `CoalitionResult`'s fields from its dict (or JSON): lists back to tuples."""
    return {
        **data,
        "members": tuple(data["members"]),
        "disposed": tuple(data.get("disposed", ())),
        "moved": tuple((str(a), str(h), float(x)) for a, h, x in data.get("moved", ())),
    }


def _read_cached(cache: Path, key: str) -> CoalitionResult | None:
    try:
        data = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
        return CoalitionResult(**{**_tuples(data), "cached": True})
    except (FileNotFoundError, json.JSONDecodeError, TypeError, KeyError):
        return None


def _run_on_dask(
    payloads: list[dict[str, Any]],
    keep: Callable[[dict[str, Any]], None],
    *,
    workers: int,
    scheduler: str | None,
) -> None:
    """Submit every payload to Dask (`optimiser.sweep.runner.make_client`); keep each result as it comes."""
    from distributed import as_completed  # Dask's heavy import: only when jobs run

    from optimiser.sweep import make_client

    client, cluster = make_client(workers=max(workers, 1), scheduler=scheduler)
    # one solver thread a job, as the sweep's jobs (a worker is one process of one thread)
    payloads = [
        p if p["scenario"].threads is not None else p | {"scenario": p["scenario"].with_changes(threads=1)}
        for p in payloads
    ]
    try:
        futures = [client.submit(coalition_job, p, pure=False, retries=1) for p in payloads]
        for future in as_completed(futures):
            keep(future.result())
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def standalone_results(estate: Estate, scenario: Scenario, **options: Any) -> dict[str, CoalitionResult]:
    """Each partner's stand-alone result; a partner without a plan is an error naming it."""
    results = solve_coalitions(estate, scenario, [frozenset([p]) for p in partners_of(estate)], **options)
    bad = [r for r in results.values() if not r.usable]
    if bad:
        lines = "; ".join(f"{r.members[0]}: {r.message}" for r in bad)
        msg = f"No stand-alone plan for {len(bad)} partner(s): {lines}"
        raise SolveError(msg)
    return {r.members[0]: r for r in results.values()}


MAX_REPAIRS = 10  # rounds of keeping back buildings of the union that break a joint row


@dataclass
class UnionStart:
    """The union of the stand-alone plans as a start for the joint model (`optimise`'s
    ``start_from``): each partner's buildings and teams as its own stand-alone plan has them.

    Every stand-alone plan keeps the other partners' estate as it is, but the union changes all
    partners' at once, so a shared row may no longer hold: an access standard (two partners
    each closing a library that serves the same zones), the capital budget, the disposal limit
    or the carbon cap. Called with the built joint model, it checks the union against every row,
    bound and integrality of that model. Where a row is broken it **repairs** the union: each
    disposed building that the broken row names (directly, or as a site of its access group)
    is kept back, its teams where they are today, and the check is redone (at most
    `MAX_REPAIRS` rounds). It returns the (repaired) union as a starting solution when it
    passes and is no worse than the model's own start, else None.

    `status` says which (``used``, ``used after keeping back N building(s)``, ``infeasible:
    ...``, ``worse``); `objective_k` is the start's objective in the joint model (£k) and
    `given_up_gbp` what the repair costs against the plain union (pounds, 0 when none was needed).
    """

    disposed: frozenset[str]
    moved: tuple[tuple[str, str, float], ...]
    status: str = "not tried"
    objective_k: float = math.nan
    given_up_gbp: float = 0.0
    kept_back: tuple[str, ...] = ()

    @classmethod
    def of(cls, standalone: Mapping[str, CoalitionResult]) -> UnionStart:
        return cls(
            disposed=frozenset(b for r in standalone.values() for b in r.disposed),
            moved=tuple(m for r in standalone.values() for m in r.moved),
        )

    def __call__(self, model: EstateModel) -> dict[str, float] | None:
        from optimiser.highs import HighsArrays  # the solver stack: only for a joint solve
        from optimiser.model import start_from_decisions
        from optimiser.search import FEASIBILITY_TOL

        home = model.estate.occupiers["building_id"].astype(str).to_dict()
        disposed, moved = set(self.disposed), list(self.moved)
        offered = {(a, h) for a, h in model.move} | set(model.fixed_host.items())
        refused = {h for h, kept in model.fixed_keep.items() if not kept} - disposed
        if refused:
            self.status = (
                f"infeasible: the joint model disposes of {len(refused)} building(s) every stand-alone "
                f"plan keeps, e.g. {sorted(refused)[0]}"
            )
            return None
        # kept back at once: buildings the joint model keeps, and the homes of moves it lacks
        back = {h for h, kept in model.fixed_keep.items() if kept} & disposed
        lacking = {a for a, h, _ in moved if (a, h) not in offered}
        back |= {home[a] for a in lacking} & disposed
        arrays = HighsArrays.from_problem(model.problem)
        sites = _row_buildings(model)
        plain = math.nan
        for _ in range(MAX_REPAIRS + 1):
            disposed -= back
            moved = [m for m in moved if home[m[0]] not in back and m[0] not in lacking]
            self.kept_back = tuple(sorted(set(self.kept_back) | back))
            here = {a for a, _, _ in moved}
            moves = {(a, h): 1.0 for a, h in home.items() if a not in here}
            moves |= {(a, h): x for a, h, x in moved}
            start = start_from_decisions(model, {b: b not in disposed for b in model.keep}, moves)
            x = arrays.vector(start)
            self.objective_k = arrays.objective(x)
            if math.isnan(plain):
                plain = self.objective_k
            if arrays.violation(x) <= FEASIBILITY_TOL:
                break
            broken = _broken_rows(arrays, x)
            back = {b for r in broken for b in _buildings_in_row(arrays, r, sites)} & disposed
            if not back:
                names = list(model.problem.constraints)
                shown = ", ".join(names[r] for r in broken[:3]) or "a bound or integrality"
                self.status = f"infeasible: breaks {len(broken)} row(s) of the joint model ({shown})"
                return None
            lacking = set()
        else:
            self.status = f"infeasible: still breaks rows of the joint model after {MAX_REPAIRS} repairs"
            return None
        self.given_up_gbp = (self.objective_k - plain) * 1000 if self.kept_back else 0.0
        if model.start and self.objective_k > arrays.objective(arrays.vector(model.start)) + 1e-9:
            self.status = "worse"
            return None
        self.status = (
            f"used after keeping back {len(self.kept_back)} building(s) ({', '.join(self.kept_back[:5])})"
            if self.kept_back
            else "used"
        )
        return start


def _row_buildings(model: EstateModel) -> dict[str, tuple[str, ...]]:
    """The buildings each variable names: its keep, its serve (building, service), its reach
    (an access group's sites) and its moves (the receiving building)."""
    names: dict[str, tuple[str, ...]] = {v.name: (b,) for b, v in model.keep.items()}
    names |= {v.name: (h,) for (h, _), v in model.serve.items()}
    names |= {v.name: tuple(model.access[s].groups[g]) for (s, g), v in model.reached.items()}
    names |= {v.name: (h,) for (_, h), v in model.move.items()}
    return names


def _broken_rows(arrays: Any, x: Any) -> list[int]:
    rows = []
    for r in range(arrays.num_row):
        lo, hi = arrays.starts[r], arrays.starts[r + 1]
        activity = float((arrays.value[lo:hi] * x[arrays.index[lo:hi]]).sum())
        if activity < arrays.row_lower[r] - 1e-6 or activity > arrays.row_upper[r] + 1e-6:
            rows.append(r)
    return rows


def _buildings_in_row(arrays: Any, r: int, sites: Mapping[str, tuple[str, ...]]) -> set[str]:
    lo, hi = arrays.starts[r], arrays.starts[r + 1]
    return {b for i in arrays.index[lo:hi] for b in sites.get(arrays.names[i], ())}


def find_partner(estate: Estate, name: str) -> str:
    """The partner `name` names (exactly, or ignoring case and spaces)."""
    names = partners_of(estate)
    if name in names:
        return name

    def squash(text: str) -> str:
        return "".join(text.lower().split())

    found = [p for p in names if squash(p) == squash(name)]
    if len(found) == 1:
        return found[0]
    msg = f"--standalone {name!r} is not a partner of {estate.name}. The partners are: {'; '.join(names)}."
    raise ScenarioError(msg)


def partnership_plan(
    estate: Estate,
    scenario: Scenario,
    *,
    workers: int = 0,
    scheduler: str | None = None,
    cache_dir: str | Path | None = None,
    memo: dict[Coalition, CoalitionResult] | None = None,
    progress: ProgressCallback | None = None,
    msg: bool = False,
    on_result: Callable[[CoalitionResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> Plan:
    """The joint plan with its partnership figures: stand-alone NPVs first, then the joint plan
    (with ``no_partner_worse_off`` on: the free plan, then the fair one, and the price).

    Raises
    ------
    InfeasibleScenarioError
        The no-partner-worse-off rule cannot be met; the findings name each partner short and by
        how much.

    """
    refuse_phased(scenario, "the partnership value")
    started = time.perf_counter()
    standalone = standalone_results(
        estate,
        scenario,
        workers=workers,
        scheduler=scheduler,
        cache_dir=cache_dir,
        memo=memo,
        on_result=on_result,
    )
    standalone_s = time.perf_counter() - started
    floors = {p: r.npv_gbp for p, r in standalone.items()}
    rule = scenario.no_partner_worse_off
    union = UnionStart.of(standalone)
    solve_options: dict[str, Any] = {"progress": progress, "msg": msg, "cancel": cancel, "start_from": union}
    free = optimise(estate, scenario.with_changes(no_partner_worse_off="off"), **solve_options)
    union_status, union_given_up = union.status, union.given_up_gbp
    figures: dict[str, Any] = {}
    plan = free
    if rule != "off":
        plan = optimise(estate, scenario, partner_floors_gbp=floors, **solve_options)
        best_free_k = min(free.info.objective, plan.info.objective)
        figures["price_of_fairness_gbp"] = (plan.info.objective - best_free_k) * 1000
        figures["price_of_fairness_uncertainty_gbp"] = _gap_gbp(free) + _gap_gbp(plan)
        figures["free_objective"] = free.info.objective
        figures["free_npv_gbp"] = float(free.kpis["npv_gbp"])
        _check_fair(plan, floors if rule == "standalone" else dict.fromkeys(floors, 0.0))
    joint_npv = max(float(free.kpis["npv_gbp"]), float(plan.kpis["npv_gbp"]))
    total = sum(floors.values())
    value = joint_npv - total
    standalone_gaps = sum(r.gap_gbp for r in standalone.values())
    # the joint optimum is at most the free solve's bound; each stand-alone optimum at most its own
    figures |= {
        "partnership_value_gbp": value,
        "partnership_value_uncertainty_gbp": _gap_gbp(free) + standalone_gaps,
        "partnership_value_low_gbp": value - standalone_gaps,
        "partnership_value_high_gbp": float(free.kpis["npv_gbp"]) + _gap_gbp(free) - total,
        "partnership_value_proven": bool(free.info.proven_optimal)
        and all(r.proven_optimal for r in standalone.values()),
        "joint_proven_optimal": bool(free.info.proven_optimal),
        "joint_status": free.info.status,
        "joint_start": union_status,
        "joint_start_given_up_gbp": union_given_up,
        "joint_npv_gbp": joint_npv,
        "standalone_npv_total_gbp": total,
        "standalone_solves": len(standalone),
        "standalone_proven_optimal": all(r.proven_optimal for r in standalone.values()),
        "standalone_time_s": round(standalone_s, 3),
        "standalone_workers": workers if workers > 0 or scheduler else 0,
        "no_partner_worse_off": rule,
    }
    return replace(plan, partners=with_standalone(plan.partners, floors), partnership=figures)


def partnership_lines(plan: Plan) -> list[str]:
    """The partnership figures of a plan, as terminal lines (none for a plain plan)."""
    f = plan.partnership
    if "partnership_value_gbp" not in f:
        return []
    lines = [
        f"  partnership value £{f['partnership_value_gbp']:,.0f}: joint NPV £{f['joint_npv_gbp']:,.0f} less "
        f"£{f['standalone_npv_total_gbp']:,.0f} from {f['standalone_solves']} stand-alone plans "
        f"(uncertain by up to £{f['partnership_value_uncertainty_gbp']:,.0f} from solver gaps)"
    ]
    if words := partnership_range_words(f):
        lines.append("  " + words)
    if "price_of_fairness_gbp" in f:
        lines.append(
            f"  price of fairness (no partner worse off than {f['no_partner_worse_off']}): "
            f"£{f['price_of_fairness_gbp']:,.0f} of NPV given up"
        )
    if "owner_split_in_core" in f:
        where = "in" if f["owner_split_in_core"] else "not in"
        lines.append(
            f"  Shapley split over {f['coalition_solves']} coalition solves: the {plan.scenario.sharing_rule} "
            f"rule's split is {where} the core"
        )
    return lines


def _gap_gbp(plan: Plan) -> float:
    info = plan.info
    return abs(info.objective - info.bound) * 1000 if math.isfinite(info.bound) else math.inf


def _check_fair(plan: Plan, floors: Mapping[str, float]) -> None:
    """The fair plan's ledger holds every floor (within a pound): the rows' own promise, checked."""
    npv = plan.partners.set_index("partner")["npv_gbp"]
    short = {
        p: floors[p] - float(npv[p]) for p in floors if float(npv[p]) < floors[p] - FAIRNESS_TOLERANCE_GBP
    }
    if short:
        lines = ", ".join(f"{p} short by £{v:,.2f}" for p, v in short.items())
        msg = f"The fair plan's ledger misses the no-partner-worse-off floor: {lines}."
        raise SolveError(msg)


__all__ = [
    "CoalitionResult",
    "UnionStart",
    "check_cache_folder",
    "coalition_job",
    "coalition_key",
    "coalition_plan",
    "find_partner",
    "partnership_lines",
    "partnership_plan",
    "refuse_phased",
    "result_of_plan",
    "solve_coalitions",
    "standalone_results",
]
