"""Primal search beside the exact solve: fix-and-optimise on a persistent HiGHS model.

The exact solve (HiGHS on the whole model) proves the bound; this module finds plans. It
re-optimises one window of buildings at a time with every other decision fixed at the best
plan so far, on its own HiGHS model built once from the same arrays (a window changes only
column bounds, so nothing is passed twice). Every plan it finds is checked against the
model's rows, bounds and integrality (`HighsArrays.violation`) before it is offered to the
`Mailbox`, from which the running exact solve takes it as a new incumbent (HiGHS's
user-solution callback) and the pipeline reads the best plan at the end.

Windows (`windows`): each borough, largest first, then the cells of a 3 x 3 grid whose edges
cross borough lines, so that moves across a borough boundary get a window too; then pairs of
neighbouring boroughs; then 2 x 2 and 4 x 4 grids; the passes repeat until the time is up or
none improves the plan. A window's decisions are its buildings' keep variables and the
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

from optimiser.highs import HighsArrays, new_highs

FEASIBILITY_TOL = 1e-6  # rows, bounds and integrality of an offered plan
WINDOW_CAP_S = 3.0  # no single window may take more than this: short windows, many passes


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


def windows(free: pd.DataFrame) -> list[list[frozenset[str]]]:
    """The passes of windows, each a list of windows, largest first.

    1. each borough, then each cell of a 3 x 3 grid (its edges cross borough lines);
    2. each borough with its nearest neighbour (by centre), so moves between them are free;
    3. each cell of a 2 x 2 grid, then of a 4 x 4 grid.

    The search repeats the first pass while it improves the plan and tries the next ones
    only when it stops (`fix_and_optimise`); a plan that no window of any pass improves is a
    local optimum of all of them.
    """
    by_borough = free.groupby("borough").groups
    centres = free.groupby("borough")[["easting", "northing"]].mean()
    pairs: list[frozenset[str]] = []
    for borough in centres.index:
        others = centres.drop(index=borough)
        if others.empty:
            continue
        distance = ((others - centres.loc[borough]) ** 2).sum(axis=1)
        pair = frozenset(by_borough[borough]) | frozenset(by_borough[distance.idxmin()])
        if pair not in pairs:
            pairs.append(pair)
    grid = {n: list(free.groupby(grid_cells(free, n)).groups.values()) for n in (2, 3, 4)}
    passes = [
        _largest_first(list(by_borough.values())) + _largest_first(grid[3]),
        _largest_first(pairs),
        _largest_first(grid[2]) + _largest_first(grid[4]),
    ]
    return [p for p in passes if p]


def _largest_first(groups: Sequence[Any]) -> list[frozenset[str]]:
    windows = [frozenset(g) for g in groups]
    return sorted(windows, key=lambda w: (-len(w), sorted(w)[0] if w else ""))


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
    passes: Sequence[Sequence[frozenset[str]]],
    *,
    deadline: float,
    should_stop: Callable[[], bool] | None = None,
    window_cap_s: float = WINDOW_CAP_S,
    max_passes: int | None = None,
    threads: int | None = None,
    on_window: Callable[[SearchStats], None] | None = None,
) -> SearchStats:
    """Re-optimise window after window from the mailbox's best plan until `deadline` (perf_counter).

    `threads` is HiGHS's thread option, which must equal that of any solve running at the same
    time (HiGHS has one task scheduler per process). Stops early when `should_stop()` says so (a window solve is
    interrupted then, not waited for), when `max_passes` passes are done, or when no pass of
    `passes` improves the plan (every window of every pass is then optimal given the rest).
    The first pass repeats while it improves the plan; when it stops improving, the next
    (larger windows) is tried, and any improvement goes back to the first (a variable
    neighbourhood search).
    """
    started = time.perf_counter()
    stats = SearchStats()
    x, objective = mailbox.best()
    if x is None:
        return stats
    stats.first_objective = stats.best_objective = objective
    h = new_highs(threads)  # the same count as any solve running beside: one scheduler per process
    h.setOptionValue("mip_rel_gap", 1e-4)
    arrays.pass_to(h)
    if should_stop is not None:

        def interrupt(event: Any) -> None:
            if should_stop():
                event.interrupt()

        h.cbMipInterrupt.subscribe(interrupt)
    n = arrays.num_col
    every = np.arange(n, dtype=np.int32)
    decision = np.zeros(n, dtype=bool)
    decision[decision_cols] = True
    current = 0  # which pass of `passes` runs next
    while current < len(passes) and (max_passes is None or stats.passes < max_passes):
        improved_in_pass = False
        for window in passes[current]:
            left = deadline - time.perf_counter()
            if left < 0.5 or (should_stop is not None and should_stop()):
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
        current = 0 if improved_in_pass else current + 1
    stats.time_s = time.perf_counter() - started
    return stats
