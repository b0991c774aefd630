"""Optimise a public estate: which buildings to keep, where services go, what to dispose of.

The public API, in the order data flows (``Estate -> EstateModel -> Plan``, nothing changed
downstream):

- `Scenario`: every assumption and constraint of a run (`optimiser.scenario`);
- `build_model` -> `EstateModel`: the MILP for an estate and a scenario (`optimiser.model`);
- `solve` (a built model), `optimise` (build, warm start, solve) and `diagnose` (why a
  scenario cannot be met) (`optimiser.pipeline`);
- `Plan`: the result, from a solve or read back from saved decisions (`optimiser.plan`);
- the errors, all in `optimiser.errors`.
"""

from __future__ import annotations

from optimiser.errors import (
    BenchError,
    InfeasibleScenarioError,
    OptimiserError,
    ScenarioError,
    SolveError,
    StoreError,
    UsageError,
)
from optimiser.model import EstateModel, build_model
from optimiser.pipeline import diagnose, optimise, solve
from optimiser.plan import Plan
from optimiser.scenario import Scenario

__all__ = [
    "BenchError",
    "EstateModel",
    "InfeasibleScenarioError",
    "OptimiserError",
    "Plan",
    "Scenario",
    "ScenarioError",
    "SolveError",
    "StoreError",
    "UsageError",
    "build_model",
    "diagnose",
    "optimise",
    "solve",
]
