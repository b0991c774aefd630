"""Primal search beside the exact solve: fix-and-optimise on a persistent HiGHS model.

The exact solve (HiGHS on the whole model) proves the bound; this module finds plans. It
re-optimises one window of buildings at a time with every other decision fixed at the best
plan so far, on its own HiGHS model built once from the same arrays (a window changes only
column bounds, so nothing is passed twice). Every plan it finds is checked against the
model's rows, bounds and integrality (`HighsArrays.violation`) before it is offered to the
`Mailbox`, from which the running exact solve takes it as a new incumbent (HiGHS's
user-solution callback) and the pipeline reads the best plan at the end.

Windows (`windows`): each borough, largest first, then the cells of a 3 x 3 grid whose edges
cross borough lines, so that moves across a borough boundary get a window too; the passes
repeat until the time is up. A window's decisions are its buildings' keep variables and the
moves of the occupiers housed there today.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

FEASIBILITY_TOL = 1e-6  # rows, bounds and integrality of an offered plan
WINDOW_CAP_S = 8.0  # no single window may take more than this (others wait their turn)


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
        """Pass the model to a `highspy.Highs` (rows as a row-wise matrix)."""
        import highspy  # optional at import time: CBC-only installs never reach this

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
            raise RuntimeError(msg)

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

    def values(self, x: np.ndarray) -> dict[str, float]:
        """`x` by variable name."""
        return dict(zip(self.names, (float(v) for v in x), strict=True))

    def vector(self, values: dict[str, float]) -> np.ndarray:
        """A column vector from values by variable name (missing names are 0)."""
        return np.array([float(values.get(name, 0.0)) for name in self.names])


@dataclass
class Mailbox:
    """The best plan found so far, shared between the search thread and the exact solve.

    `offer` keeps a plan only when it is feasible and better; `take_new` hands the exact solve
    each improvement once. Thread-safe.
    """

    arrays: HighsArrays
    best_x: np.ndarray | None = None
    best_objective: float = math.inf
    found_by: str = ""
    offers: int = 0
    improvements: int = 0
    _new: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, x: np.ndarray, source: str) -> bool:
        """Keep `x` if it is feasible and better than the best so far; True when kept."""
        x = np.where(self.arrays.integer, np.round(x), x)
        objective = self.arrays.objective(x)
        with self._lock:
            self.offers += 1
            if objective >= self.best_objective - 1e-6 * max(1.0, abs(objective)):
                return False
        if self.arrays.violation(x) > FEASIBILITY_TOL:
            return False
        with self._lock:
            if objective >= self.best_objective - 1e-6 * max(1.0, abs(objective)):
                return False
            self.best_x, self.best_objective, self.found_by = x, objective, source
            self.improvements += 1
            self._new = True
        return True

    def take_new(self) -> np.ndarray | None:
        """The best plan if it is new since the last call, else None."""
        with self._lock:
            if not self._new or self.best_x is None:
                return None
            self._new = False
            return self.best_x.copy()

    def best(self) -> tuple[np.ndarray | None, float]:
        with self._lock:
            return (None if self.best_x is None else self.best_x.copy()), self.best_objective


def window_columns(
    arrays: HighsArrays,
    keep: dict[str, pulp.LpVariable],
    move: dict[tuple[str, str], pulp.LpVariable],
    home: dict[str, str],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(decision columns, their building) for the windows: keep[b] -> b, move[a, h] -> a's home."""
    position = {name: i for i, name in enumerate(arrays.names)}
    columns: list[int] = []
    buildings: list[str] = []
    for b, var in keep.items():
        columns.append(position[var.name])
        buildings.append(b)
    for (a, _h), var in move.items():
        columns.append(position[var.name])
        buildings.append(home[a])
    cols = np.array(columns, dtype=np.int64)
    by_building: dict[str, list[int]] = {}
    for c, b in zip(cols, buildings, strict=True):
        by_building.setdefault(b, []).append(int(c))
    return cols, {b: np.array(c, dtype=np.int64) for b, c in by_building.items()}


def windows(free: pd.DataFrame) -> list[frozenset[str]]:
    """One pass of windows: boroughs largest first, then 3 x 3 grid cells largest first."""
    out: list[frozenset[str]] = []
    for groups in (free.groupby("borough").groups, free.groupby(grid_cells(free, 3)).groups):
        sizes = {k: len(v) for k, v in groups.items()}
        out.extend(frozenset(groups[k]) for k in sorted(sizes, key=lambda k: (-sizes[k], str(k))))
    return out


def grid_cells(buildings: pd.DataFrame, n: int) -> pd.Series:
    """Cell of an n x n grid on easting and northing quantiles (equal counts per band)."""
    n = max(1, min(n, len(buildings)))  # fewer buildings than bands: one band each
    east = pd.qcut(buildings["easting"].rank(method="first"), n, labels=False)
    north = pd.qcut(buildings["northing"].rank(method="first"), n, labels=False)
    return (east * n + north).astype(int)


@dataclass
class SearchStats:
    """What the search did (for `Plan.info.extra` and the benchmark)."""

    windows_solved: int = 0
    passes: int = 0
    improvements: int = 0
    first_objective: float = math.nan
    best_objective: float = math.nan
    time_s: float = 0.0


def fix_and_optimise(
    arrays: HighsArrays,
    mailbox: Mailbox,
    decision_cols: np.ndarray,
    cols_of_building: dict[str, np.ndarray],
    window_list: Sequence[frozenset[str]],
    *,
    deadline: float,
    stop: threading.Event | None = None,
    window_cap_s: float = WINDOW_CAP_S,
    max_passes: int | None = None,
    on_window: Callable[[SearchStats], None] | None = None,
) -> SearchStats:
    """Re-optimise window after window from the mailbox's best plan until `deadline` (perf_counter).

    Runs on one HiGHS thread. Stops early when `stop` is set, when `max_passes` passes are done,
    or when a whole pass improves nothing (every window is then optimal given the others).
    """
    import highspy

    started = time.perf_counter()
    stats = SearchStats()
    x, objective = mailbox.best()
    if x is None:
        return stats
    stats.first_objective = stats.best_objective = objective
    h: Any = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy ships no annotations for it
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 1e-4)
    arrays.pass_to(h)
    n = arrays.num_col
    every = np.arange(n, dtype=np.int32)
    decision = np.zeros(n, dtype=bool)
    decision[decision_cols] = True
    while max_passes is None or stats.passes < max_passes:
        improved_in_pass = False
        for window in window_list:
            left = deadline - time.perf_counter()
            if left < 0.5 or (stop is not None and stop.is_set()):
                stats.time_s = time.perf_counter() - started
                return stats
            x, objective = mailbox.best()  # the exact solve may not improve it, but another source could
            assert x is not None
            free = np.zeros(n, dtype=bool)
            for b in window:
                cols = cols_of_building.get(b)
                if cols is not None:
                    free[cols] = True
            fixed = decision & ~free
            lower, upper = arrays.lower.copy(), arrays.upper.copy()
            lower[fixed] = upper[fixed] = x[fixed]
            h.clearSolver()
            h.changeColsBounds(n, every, lower, upper)
            h.setSolution(n, every, x)
            h.setOptionValue("time_limit", max(0.5, min(left, window_cap_s)))
            h.run()
            stats.windows_solved += 1
            if int(h.getInfo().primal_solution_status) == 2:  # a feasible solution
                if mailbox.offer(np.array(h.getSolution().col_value), "fix-and-optimise"):
                    improved_in_pass = True
                    stats.improvements += 1
            stats.best_objective = mailbox.best()[1]
            if on_window is not None:
                on_window(stats)
        stats.passes += 1
        if not improved_in_pass:
            break
    stats.time_s = time.perf_counter() - started
    return stats
