"""Many re-solves of one estate, serially or on the sweep's Dask workers, with a result cache.

The prices of decisions (`optimiser.prices`), the frontier (`optimiser.frontier`) and the
robustness draws (`optimiser.robustness`) each solve the same estate many times with one thing
changed. Each solve is a `Variant` (a scenario, optionally a warm start from given decisions
and factors on modelled money figures); `solve_variant` solves one and returns a small,
JSON-able result; `solve_variants` runs many, in order, serially (``workers=1``) or on a Dask
`LocalCluster` made by `optimiser.sweep.runner.make_client` (or an existing scheduler), and
keeps each result in ``cache_dir`` under a key of the inputs so that a rerun reads it back.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from estate import Estate, EstateError
from optimiser.errors import InfeasibleScenarioError, OptimiserError
from optimiser.model import build_model, start_from_decisions
from optimiser.pipeline import solve
from optimiser.plan import Plan
from optimiser.provenance import code_version, estate_digest
from optimiser.scenario import Scenario
from optimiser.sweep.results import read_job, write_job
from optimiser.sweep.runner import make_client

MONEY_COLUMNS = ("running_cost_gbp", "market_value_gbp", "backlog_gbp", "disposal_cost_gbp", "rent_gbp")


@dataclass(frozen=True, eq=False)
class Variant:
    """One re-solve: the scenario, a warm start (kept building IDs and occupier shares), and
    factors on buildings' money figures (column -> building ID -> factor)."""

    scenario: Scenario
    keep: Mapping[str, bool] | None = None
    moves: Mapping[tuple[str, str], float] | None = None
    factors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def key(self, digest: str) -> str:
        """sha256 of the estate's digest, the scenario, the factors, the start and the code."""
        text = json.dumps(
            {
                "estate": digest,
                "scenario": self.scenario.to_dict(),
                "factors": {c: dict(sorted(f.items())) for c, f in sorted(self.factors.items())},
                "keep": sorted(self.keep.items()) if self.keep else None,
                "moves": sorted(f"{a}|{h}|{v:.9g}" for (a, h), v in self.moves.items())
                if self.moves
                else None,
                "code": code_version(),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def plan_start(
    plan: Plan, *, flip: str | None = None
) -> tuple[dict[str, bool], dict[tuple[str, str], float]]:
    """A plan's decisions as a warm start: kept buildings (with `flip` reversed) and shares."""
    keep = plan.buildings.set_index("building_id")["decision"].eq("keep").to_dict()
    if flip is not None:
        keep[flip] = not keep[flip]
    occ = plan.occupiers
    moves = {
        (str(a), str(h)): float(s)
        for a, h, s in zip(occ["occupier_id"], occ["to_building_id"], occ["share"], strict=True)
    }
    return keep, moves


def with_factors(estate: Estate, factors: Mapping[str, Mapping[str, float]]) -> Estate:
    """A copy of `estate` whose money figures are multiplied by `factors` (the input is not changed)."""
    if not factors:
        return estate
    b = estate.buildings.copy()
    for column, by_building in factors.items():
        scale = pd.Series(by_building, dtype=float).reindex(b.index).fillna(1.0)
        b[column] = b[column].astype(float) * scale
    return replace(estate, buildings=b)


def solve_variant(payload: dict[str, Any]) -> dict[str, Any]:
    """Build and solve one variant (runs on a Dask worker or here); returns a JSON-able result.

    ``status`` is the solve's (``optimal``, ``time_limit``, ...), or ``infeasible`` with the
    ``findings`` that say which standard, capacity or lock forbids it, or ``failed``.
    """
    estate: Estate = with_factors(payload["estate"], payload["variant"].factors)
    variant: Variant = payload["variant"]
    out: dict[str, Any] = {"status": "failed", "proven_optimal": False, "findings": [], "message": ""}
    try:
        model = build_model(estate, variant.scenario)
        if variant.keep is not None:
            model = replace(
                model, start=start_from_decisions(model, dict(variant.keep), dict(variant.moves or {}))
            )
        plan = solve(model)
    except InfeasibleScenarioError as err:
        return out | {"status": "infeasible", "findings": list(err.findings), "message": str(err)}
    except (OptimiserError, EstateError) as err:
        return out | {"message": f"{type(err).__name__}: {err}"}
    info = plan.info
    disposed = plan.buildings.loc[plan.buildings["decision"] == "dispose", "building_id"]
    return out | {
        "status": info.status,
        "proven_optimal": bool(info.proven_optimal),
        "objective_k": float(info.objective),
        "bound_k": float(info.bound) if math.isfinite(info.bound) else None,
        "gap": float(info.gap) if math.isfinite(info.gap) else None,
        "npv_gbp": float(plan.kpis["npv_gbp"]),
        "time_s": float(info.time_s),
        "disposed": sorted(str(b) for b in disposed),
        "message": plan.status_words,
    }


def solve_variants(
    estate: Estate,
    variants: Sequence[Variant],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    on_result: Callable[[int, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Every variant's result, in order: serially with ``workers=1`` and no scheduler, else on Dask.

    Results already in `cache_dir` (same estate, scenario, factors, start and code) are read
    back, not solved again; new ones are written there as they arrive.
    """
    digest = estate_digest(estate)
    keys = [v.key(digest) for v in variants]
    results: dict[int, dict[str, Any]] = {}
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for i, key in enumerate(keys):
            kept = read_job(cache_dir, key)
            if kept is not None:
                results[i] = kept["row"] | {"cached": True}
    todo = [i for i in range(len(variants)) if i not in results]

    def keep(i: int, result: dict[str, Any]) -> None:
        results[i] = result
        if cache_dir is not None and result["status"] != "failed":
            write_job(cache_dir, keys[i], {"row": result})
        if on_result is not None:
            on_result(i, result)

    if todo and workers <= 1 and not scheduler:
        for i in todo:
            keep(i, solve_variant({"estate": estate, "variant": variants[i]}))
    elif todo:
        _on_dask(estate, variants, todo, keys, keep, workers=workers, scheduler=scheduler)
    return [results[i] for i in range(len(variants))]


def _on_dask(
    estate: Estate,
    variants: Sequence[Variant],
    todo: Sequence[int],
    keys: Sequence[str],
    keep: Callable[[int, dict[str, Any]], None],
    *,
    workers: int,
    scheduler: str | None,
) -> None:
    from distributed import as_completed  # Dask's heavy import: only when jobs run

    client, cluster = make_client(workers=workers, scheduler=scheduler)
    try:
        shared = client.scatter(estate, broadcast=True)
        futures = {
            client.submit(
                _solve_on_worker, shared, variants[i], key=f"variant-{keys[i]}", pure=False, retries=1
            ): i
            for i in todo
        }
        for future in as_completed(list(futures)):
            i = futures[future]
            try:
                result = future.result()
            except Exception as err:  # a worker died or the solve raised: a failed result, not a crash
                result = {"status": "failed", "proven_optimal": False, "findings": [], "message": repr(err)}
            keep(i, result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _solve_on_worker(estate: Estate, variant: Variant) -> dict[str, Any]:
    return solve_variant({"estate": estate, "variant": variant})
