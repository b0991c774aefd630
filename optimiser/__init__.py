"""Optimise a public estate: which buildings to keep, where services go, what to dispose of."""

from __future__ import annotations

from optimiser.errors import InfeasibleScenarioError, OptimiserError, ScenarioError, SolveError

__all__ = ["InfeasibleScenarioError", "OptimiserError", "ScenarioError", "SolveError"]
