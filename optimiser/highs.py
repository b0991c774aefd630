"""HiGHS plumbing shared by the exact solve and the search: the model as arrays, the module, threads.

`HighsArrays` reads a PuLP problem once into the arrays HiGHS takes (and checks a solution
against them); `highspy_module` imports highspy on first use (it is optional: CBC runs
without it); `use_threads` keeps HiGHS's one process-wide task scheduler on the thread count
the next solve asks for.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp


def highspy_module() -> Any:
    """The highspy module, imported on first use, here only (`available_solvers` says whether
    this machine has it)."""
    import highspy

    return highspy


def new_highs(threads: int | None) -> Any:
    """A silent `highspy.Highs` on `threads` (its creation banner is kept off stdout)."""
    use_threads(threads)
    with quiet_stdout():
        h = highspy_module().Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads or 0))
    return h


@dataclass(frozen=True, eq=False)
class HighsArrays:
    """A PuLP problem as the arrays HiGHS takes, columns in ``problem.variables()`` order."""

    names: tuple[str, ...]
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    starts: np.ndarray  # row-wise: row r's entries are index/value[starts[r]:starts[r + 1]]
    index: np.ndarray
    value: np.ndarray
    offset: float
    sense: int = 1  # 1 minimise, -1 maximise (HiGHS minimises ``sense * cost``)

    @classmethod
    def from_problem(cls, problem: pulp.LpProblem, *, mip: bool = True) -> HighsArrays:
        """Read the objective, bounds and rows of `problem` once."""
        variables = problem.variables()
        position = {id(v): i for i, v in enumerate(variables)}
        n = len(variables)
        sense = 1 if problem.sense == pulp.LpMinimize else -1
        cost = np.zeros(n)
        for var, coef in problem.objective.items():
            cost[position[id(var)]] = coef
        inf = math.inf
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        integer = np.array([mip and v.cat == pulp.LpInteger for v in variables], dtype=bool)
        starts, index, value, row_lower, row_upper = [0], [], [], [], []
        for constraint in problem._constraints.values():  # as PuLP's own adapter does
            for var, coef in constraint.items():
                if coef:
                    index.append(position[id(var)])
                    value.append(coef)
            starts.append(len(index))
            lb, ub = constraint.getLb(), constraint.getUb()
            row_lower.append(-inf if lb is None else lb)
            row_upper.append(inf if ub is None else ub)
        return cls(
            names=tuple(v.name for v in variables),
            cost=sense * cost,
            lower=lower,
            upper=upper,
            integer=integer,
            row_lower=np.array(row_lower, dtype=float),
            row_upper=np.array(row_upper, dtype=float),
            starts=np.array(starts, dtype=np.int64),
            index=np.array(index, dtype=np.int32),
            value=np.array(value, dtype=float),
            offset=sense * float(problem.objective.constant),
            sense=sense,
        )

    @property
    def num_col(self) -> int:
        return len(self.names)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)

    def pass_to(self, h: Any) -> None:
        """Pass the model to a `highspy.Highs`; ValueError when HiGHS refuses it."""
        highspy = highspy_module()
        inf = highspy.kHighsInf
        status = h.passModel(
            self.num_col,
            self.num_row,
            len(self.index),
            2,  # row-wise
            1,  # minimise
            self.offset,
            self.cost,
            np.where(np.isfinite(self.lower), self.lower, -inf),
            np.where(np.isfinite(self.upper), self.upper, inf),
            np.where(np.isfinite(self.row_lower), self.row_lower, -inf),
            np.where(np.isfinite(self.row_upper), self.row_upper, inf),
            self.starts[:-1].astype(np.int32) if self.num_row else np.array([], dtype=np.int32),
            self.index,
            self.value,
            self.integer.astype(np.int32),
        )
        if status != highspy.HighsStatus.kOk:
            msg = f"HiGHS refused the model ({status})."
            raise ValueError(msg)

    def objective(self, x: np.ndarray) -> float:
        """The objective of `x` in the problem's own sense (constant included)."""
        return self.sense * (float(self.cost @ x) + self.offset)

    def violation(self, x: np.ndarray) -> float:
        """The largest violation of a row, a bound or integrality by `x` (0.0 when feasible)."""
        if len(x) != self.num_col or not np.all(np.isfinite(x)):
            return math.inf
        rows = np.repeat(np.arange(self.num_row), np.diff(self.starts))
        activity = np.bincount(rows, weights=self.value * x[self.index], minlength=self.num_row)
        worst = 0.0
        for amount in (
            self.row_lower - activity,
            activity - self.row_upper,
            self.lower - x,
            x - self.upper,
        ):
            finite = amount[np.isfinite(amount)]
            if finite.size:
                worst = max(worst, float(finite.max()))
        if self.integer.any():
            worst = max(worst, float(np.abs(x[self.integer] - np.round(x[self.integer])).max()))
        return worst

    def is_feasible(self, x: np.ndarray, *, rel_tol: float = 1e-6, int_tol: float = 1e-5) -> bool:
        """Whether `x` meets every row, bound and integrality, each within a tolerance scaled to it.

        A row's tolerance is `rel_tol` times the largest of 1, its bound and the sum of its terms'
        sizes, as a solver's own tolerances are relative and its printed values are rounded.
        """
        if len(x) != self.num_col or not np.all(np.isfinite(x)):
            return False
        rows = np.repeat(np.arange(self.num_row), np.diff(self.starts))
        terms = self.value * x[self.index]
        activity = np.bincount(rows, weights=terms, minlength=self.num_row)
        size = np.bincount(rows, weights=np.abs(terms), minlength=self.num_row)
        with np.errstate(invalid="ignore"):
            for bound, excess in (
                (self.row_lower, self.row_lower - activity),
                (self.row_upper, activity - self.row_upper),
            ):
                finite = np.isfinite(bound)
                scale = np.maximum.reduce([np.ones(finite.sum()), np.abs(bound[finite]), size[finite]])
                if np.any(excess[finite] > rel_tol * scale):
                    return False
            for bound, excess in ((self.lower, self.lower - x), (self.upper, x - self.upper)):
                finite = np.isfinite(bound)
                if np.any(excess[finite] > rel_tol * np.maximum(1.0, np.abs(bound[finite]))):
                    return False
        if self.integer.any() and np.abs(x[self.integer] - np.round(x[self.integer])).max() > int_tol:
            return False
        return True

    def values(self, x: np.ndarray) -> dict[str, float]:
        """`x` by variable name."""
        return dict(zip(self.names, (float(v) for v in x), strict=True))

    def vector(self, values: dict[str, float]) -> np.ndarray:
        """A column vector from values by variable name (missing names are 0)."""
        return np.array([float(values.get(name, 0.0)) for name in self.names])


_scheduler_threads: list[int] = []  # thread count HiGHS's process-wide scheduler was started with


def use_threads(threads: int | None) -> None:
    """Restart HiGHS's process-wide task scheduler when a solve asks for another thread count.

    HiGHS starts one scheduler per process; a later solve with a different `threads` option
    stops at once with model status 'Not Set' (seen with 1 after the default of 2).
    """
    highspy = highspy_module()
    wanted = int(threads or 0)
    if _scheduler_threads and _scheduler_threads[-1] != wanted:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [wanted]


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (file descriptor 1) for a moment; Python's stdout is flushed first."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (some test runners): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
