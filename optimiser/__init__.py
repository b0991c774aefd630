"""Optimise a public estate: which buildings to keep, where services go, what to dispose of.

The public API, in the order data flows (``Estate -> EstateModel -> Plan``, nothing changed
downstream):

- `Scenario`: every assumption and constraint of a run (`optimiser.scenario`);
- `build_model` -> `EstateModel`: the MILP for an estate and a scenario (`optimiser.model`);
- `solve` (a built model), `optimise` (build and solve, with a search beside large solves) and `diagnose` (why a
  scenario cannot be met) (`optimiser.pipeline`);
- `Plan`: the result, from a solve or from saved decisions (`optimiser.plan`);
- the errors, all in `optimiser.errors`.

The errors are imported at once; the rest on first use (`from optimiser import optimise`
works as usual), because the model pulls in pandas, geopandas and PuLP, which importing a
light module such as `optimiser.errors` or `optimiser.auth` should not.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from optimiser.errors import (
    BenchError,
    InfeasibleScenarioError,
    OptimiserError,
    PlaceError,
    ScenarioError,
    SolveError,
    StoreError,
    SweepError,
    UsageError,
)

if TYPE_CHECKING:
    from optimiser.model import EstateModel, build_model
    from optimiser.pipeline import diagnose, optimise, solve
    from optimiser.plan import Plan
    from optimiser.scenario import Scenario

_HOME = {
    "Scenario": "optimiser.scenario",
    "EstateModel": "optimiser.model",
    "build_model": "optimiser.model",
    "solve": "optimiser.pipeline",
    "optimise": "optimiser.pipeline",
    "diagnose": "optimiser.pipeline",
    "Plan": "optimiser.plan",
}

__all__ = [
    "BenchError",
    "EstateModel",
    "InfeasibleScenarioError",
    "OptimiserError",
    "PlaceError",
    "Plan",
    "Scenario",
    "ScenarioError",
    "SolveError",
    "StoreError",
    "SweepError",
    "UsageError",
    "build_model",
    "diagnose",
    "optimise",
    "solve",
]


def __getattr__(name: str) -> Any:
    """A name of the modelling API, imported from its module on first use."""
    home = _HOME.get(name)
    if home is None:
        msg = f"module 'optimiser' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
