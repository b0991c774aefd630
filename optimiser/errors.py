"""Exceptions raised by the optimiser: scenario, model, solve, store, benchmarks and sweeps.

Every class derives from `OptimiserError`, whose ``exit_code`` the CLI exits with (2: bad
input, 3: anything else).
"""

from __future__ import annotations


class OptimiserError(Exception):
    """Base class for every error the optimiser raises on purpose."""

    exit_code = 3


class ScenarioError(OptimiserError, ValueError):
    """A scenario that is malformed (bad value, unknown key, unknown building)."""

    exit_code = 2


class UsageError(OptimiserError):
    """A command-line option that cannot be used (e.g. an --out folder that cannot be written)."""

    exit_code = 2


class InfeasibleScenarioError(OptimiserError):
    """No plan can meet the scenario; `.findings` says what cannot be met and by how much."""

    def __init__(self, message: str, findings: tuple[str, ...] = ()) -> None:
        self.findings = findings
        text = message if not findings else message + "\n" + "\n".join(f"  - {f}" for f in findings)
        super().__init__(text)


class SolveError(OptimiserError):
    """The solver returned no usable solution."""


class StoreError(OptimiserError):
    """The scenario store cannot be read or written (`optimiser.store`)."""

    exit_code = 2


class BenchError(OptimiserError):
    """A benchmark file that cannot be read (missing, malformed); the message names file and line."""

    exit_code = 2


class SweepError(OptimiserError):
    """A sweep that cannot start (no places, unreadable grid, no cluster)."""

    exit_code = 2


class PlaceError(OptimiserError, ValueError):
    """An unknown sweep place (local authority or borough), or an estate that cannot be split
    into places."""

    exit_code = 2
