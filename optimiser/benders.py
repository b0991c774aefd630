"""Benders decomposition of a built `EstateModel`: an exact method for models with split occupiers.

`solve_benders` reads the model's own rows (the same PuLP problem `optimiser.pipeline.solve`
passes to HiGHS) and splits its variables in two:

- the **master** holds every integer variable (``keep``, whole occupiers' ``move``) and every
  continuous variable that is not a split occupier's share, plus one variable ``theta`` for
  the cost of the shares; its rows are the model's rows without shares, one aggregated
  capacity row (below) and the Benders cuts;
- the **subproblem** holds the shares of splittable occupiers (continuous, in [0, 1]): given
  the master's values, it is the LP ``min c_s x_s`` over the rows that contain a share
  (housing, capacity, ...), with the master's terms moved to the right-hand side. A row
  ``share[a, h] <= keep[h]`` (the strong linking) becomes the column bound
  ``share[a, h] <= keep[h]`` instead of a row, so the subproblem of OR-Library capb has
  1,100 rows, not 101,100.

The method (a classical Benders loop, stabilised at the root as in Fischetti, Ljubić and
Sinnl 2016, *Benders decomposition without separability*):

1. **Root, LP**: Kelley's cutting planes on the master's LP relaxation, with in-out
   stabilisation (cuts are separated at a point between the master's LP optimum and a core
   point, which moves towards it). This converges to the bound of the strong LP relaxation
   of the whole model, far faster than solving that LP in one piece (capb: 27 s single-threaded
   for the compact strong LP).
2. **Rounds, MIP**: the master MIP is solved by HiGHS; at its optimum ``y*`` the subproblem
   is solved exactly, giving a complete plan (its cost is an upper bound) and a new cut.
   The loop stops when the best plan is within the gap of the master's bound, at the time
   limit, or after ``max_rounds`` rounds.

Why every reported bound is a true lower bound
-----------------------------------------------
A cut is built from *any* row multipliers ``pi`` with the right signs (``>= 0`` on a ``>=``
side, ``<= 0`` on a ``<=`` side, free on an equality); the signs are enforced here, not
trusted from the solver. By Lagrangian weak duality, for every master point ``m`` and every
share vector ``x`` in its bounds that satisfies the subproblem's rows::

    c_s x  >=  pi . (rhs(m))  +  sum_k min_{x_k in its bounds} (c_k - A_k^T pi) x_k

and the right-hand side is computed here from ``pi`` alone (the shares' bounds are finite,
so the minimum exists for any ``pi``; a linked share ``x_k <= keep[h]`` contributes
``min(0, r_k) keep[h]``, exact for ``keep[h]`` in [0, 1]). So every cut is satisfied by every
feasible plan, whatever the subproblem solver returned: the master, with all its cuts and the
aggregated capacity row (implied by the housing and capacity rows: every occupier is housed
once, within the capacity of kept buildings), is a relaxation of the model. HiGHS's dual
bound on the master is therefore a lower bound on the model's optimum (up to HiGHS's own
feasibility tolerances, as for every bound the default pipeline reports), and so is the
master LP's optimum at the root. The reported bound is the largest of these.

Why every plan is feasible
--------------------------
A plan is the master's integer solution plus the subproblem's shares; before it becomes the
incumbent, every row and bound of the *original* model is checked (relative tolerance
``1e-6``), and the elastic columns that keep the subproblem solvable at fractional points
must be zero. The returned `Plan` is that incumbent.

Status: ``optimal`` only when the plan is within the gap target of the bound (and then
`optimiser.solver.settle` decides between ``optimal`` and ``gap_limit``); a stop at the time
limit reads ``time_limit``, one at ``max_rounds`` ``feasible``; neither is ever optimal.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from optimiser.errors import InfeasibleScenarioError, SolveError
from optimiser.highs import HighsArrays, highspy_module, new_highs, use_threads
from optimiser.model import EstateModel, effective_capacity
from optimiser.plan import Plan, plan_from_solution
from optimiser.progress import Progress, ProgressCallback
from optimiser.solver import OPTIMAL_GAP, SolveInfo, relative_gap, settle

ROOT_LAMBDA = 0.3  # in-out: separate at 0.3 x the master's LP optimum + 0.7 x the core point
EXTRA_CUTS_PER_ROUND = 5  # at most this many of a master round's other improving solutions get a cut
ROOT_GAP = 1e-4  # the root's cut loop stops when the LP relaxation is this close
FEAS_TOL = 1e-6  # relative tolerance of the plan check against the model's rows


@dataclass(frozen=True)
class BendersOptions:
    """How long and how far `solve_benders` goes.

    Attributes
    ----------
    time_limit_s
        Wall-clock limit for the whole method (reading the model included).
    mip_gap
        Stop when the relative gap between the best plan and the bound is at most this.
    threads
        HiGHS threads for master and subproblem (None: HiGHS's default).
    max_rounds
        At most this many master MIP rounds (None: no limit); an iteration budget for tests.
    lp_rounds
        At most this many cut rounds on the master's LP relaxation at the root.
    msg
        Print one line per round.

    """

    time_limit_s: float = 60.0
    mip_gap: float = OPTIMAL_GAP
    threads: int | None = None
    max_rounds: int | None = None
    lp_rounds: int = 300
    msg: bool = False


@dataclass
class _Rows:
    """A row block in compressed sparse row form over the model's columns."""

    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def count(self) -> int:
        return len(self.lower)

    def row_of_entry(self) -> np.ndarray:
        return np.repeat(np.arange(self.count), np.diff(self.start))

    def times(self, x: np.ndarray) -> np.ndarray:
        """A @ x."""
        if self.count == 0:
            return np.zeros(0)
        return np.bincount(self.row_of_entry(), weights=self.value * x[self.index], minlength=self.count)


@dataclass
class _Split:
    """The model's columns and rows, split into master and subproblem parts."""

    variables: list[pulp.LpVariable]
    cost: np.ndarray
    constant: float
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray  # bool per column
    rows: _Rows  # every row of the model, for the plan check
    sub: np.ndarray  # bool per column: a share in the subproblem
    link: np.ndarray  # per column: the keep column bounding it (-1: none)
    master_rows: _Rows  # rows without shares
    sub_rows: _Rows  # rows with shares (both parts)
    agg: tuple[np.ndarray, np.ndarray, float] | None  # aggregated capacity row: cols, coefs, rhs
    group: np.ndarray  # per column: the occupier (a number) of a share, -1 otherwise
    stats: dict[str, Any] = field(default_factory=dict)


def _split(model: EstateModel) -> _Split:
    """Read the PuLP problem into arrays and split it (see the module docstring)."""
    lp = model.problem
    if model.slacks:
        msg = "The Benders method solves plain models, not the elastic diagnostic model."
        raise SolveError(msg)
    if lp.sense != pulp.LpMinimize:
        msg = "The Benders method expects a minimisation (the estate model's net present cost)."
        raise SolveError(msg)
    arrays = HighsArrays.from_problem(lp)  # the same arrays the default path passes to HiGHS
    variables = lp.variables()  # in the arrays' column order
    col = {id(v): i for i, v in enumerate(variables)}
    n = arrays.num_col
    cost, lower, upper, integer = arrays.cost, arrays.lower, arrays.upper, arrays.integer
    sub = np.zeros(n, dtype=bool)
    group = np.full(n, -1, dtype=np.int64)
    occupier_number: dict[str, int] = {}
    for (a, _h), var in model.move.items():
        i = col[id(var)]
        if not integer[i] and lower[i] == 0.0 and math.isfinite(upper[i]):
            sub[i] = True
            group[i] = occupier_number.setdefault(a, len(occupier_number))
    rows = _Rows(
        arrays.starts, arrays.index.astype(np.int64), arrays.value, arrays.row_lower, arrays.row_upper
    )
    keep_cols = np.zeros(n, dtype=bool)
    for var in model.keep.values():
        keep_cols[col[id(var)]] = True
    # classify rows
    link = np.full(n, -1, dtype=np.int64)
    nnz = np.diff(rows.start)
    entry_row = rows.row_of_entry()
    sub_per_row = np.bincount(entry_row, weights=sub[rows.index].astype(float), minlength=rows.count)
    is_master_row = sub_per_row == 0
    is_link = np.zeros(rows.count, dtype=bool)
    for r in np.flatnonzero((sub_per_row == 1) & (nnz == 2) & (rows.upper == 0.0) & np.isinf(rows.lower)):
        a, b = rows.start[r], rows.start[r] + 1
        (ia, va), (ib, vb) = (rows.index[a], rows.value[a]), (rows.index[b], rows.value[b])
        if sub[ib]:
            (ia, va), (ib, vb) = (ib, vb), (ia, va)
        if va == 1.0 and vb == -1.0 and keep_cols[ib] and link[ia] < 0 and upper[ia] <= 1.0:
            link[ia] = ib
            is_link[r] = True
    is_sub_row = ~is_master_row & ~is_link
    split = _Split(
        variables=variables,
        cost=cost,
        constant=arrays.offset,
        lower=lower,
        upper=upper,
        integer=integer,
        rows=rows,
        sub=sub,
        link=link,
        master_rows=_select_rows(rows, is_master_row),
        sub_rows=_select_rows(rows, is_sub_row),
        agg=_aggregated_capacity_row(model, col) if sub.any() else None,
        group=group,
    )
    split.stats = {
        "benders_master_cols": int((~sub).sum()),
        "benders_sub_cols": int(sub.sum()),
        "benders_master_rows": int(is_master_row.sum()),
        "benders_sub_rows": int(is_sub_row.sum()),
        "benders_link_bounds": int(is_link.sum()),
    }
    return split


def _select_rows(rows: _Rows, mask: np.ndarray) -> _Rows:
    picked = np.flatnonzero(mask)
    lengths = np.diff(rows.start)[picked]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    take = np.zeros(0, dtype=np.int64)
    if len(picked):
        take = np.concatenate([np.arange(rows.start[r], rows.start[r + 1]) for r in picked]).astype(np.int64)
    return _Rows(starts, rows.index[take], rows.value[take], rows.lower[picked], rows.upper[picked])


def _aggregated_capacity_row(model: EstateModel, col: dict[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """``sum_h capacity_h keep_h >= space of all occupiers - capacity of buildings kept for sure``.

    Implied by the model: every occupier is housed once (shares sum to 1), only in a
    building it has a pair with, and each such building's capacity row caps its load at
    ``capacity_h keep_h`` (a locked-out building holds nothing). Valid for integer and
    fractional plans alike, so it only tightens the master's relaxation.
    """
    cap = effective_capacity(model.estate, as_stated=model.cost_table)
    hosts = set(model.pairs["building_id"])
    need = float(model.estate.occupiers["space_m2"].astype(float).sum())
    sure = sum(float(cap[h]) for h in hosts if model.fixed_keep.get(h) is True)
    cols, coefs = [], []
    for h, var in model.keep.items():
        if h in hosts and float(cap[h]) > 0:
            cols.append(col[id(var)])
            coefs.append(float(cap[h]))
    return np.array(cols, dtype=np.int64), np.array(coefs), need - sure


class _Subproblem:
    """The shares' LP for given master values, by column generation in one HiGHS instance.

    HiGHS holds the elastic columns and the *active* shares only (at first each occupier's
    few cheapest); after each solve every inactive share is priced with the row multipliers
    and those with a negative reduced cost (and room above zero) join, until none is left:
    the LP is then solved over all shares. Cuts are computed over all shares in any case.
    """

    INITIAL_PER_OCCUPIER = 8
    MAX_NEW_COLUMNS = 5000

    def __init__(self, split: _Split, threads: int | None) -> None:
        highspy = highspy_module()

        self.split = split
        self.cols = np.flatnonzero(split.sub)
        self.pos = np.full(len(split.cost), -1, dtype=np.int64)
        self.pos[self.cols] = np.arange(len(self.cols))
        rows = split.sub_rows
        entry_row = rows.row_of_entry()
        in_sub = split.sub[rows.index]
        # the subproblem's own matrix (shares only) and the master part moved to the rhs
        self.a_row, self.a_col, self.a_val = (
            entry_row[in_sub],
            self.pos[rows.index[in_sub]],
            rows.value[in_sub],
        )
        self.b_row, self.b_col, self.b_val = entry_row[~in_sub], rows.index[~in_sub], rows.value[~in_sub]
        self.nrows = rows.count
        ncols = len(self.cols)
        self.cost = split.cost[self.cols]
        order = np.lexsort((self.a_row, self.a_col))
        self.csc_row, self.csc_val = self.a_row[order], self.a_val[order]
        self.csc_start = np.concatenate([[0], np.cumsum(np.bincount(self.a_col, minlength=ncols))])
        # elastic columns keep the LP solvable at any master point; their cost is large so they
        # are zero whenever the master point allows a plan; cuts never use them (see `cut`)
        self.penalty = 1e2 * max(1.0, float(np.abs(self.cost).max(initial=0.0)))
        el_rows, el_vals = [], []
        for r in range(self.nrows):
            if math.isfinite(rows.upper[r]):
                el_rows.append(r)
                el_vals.append(-1.0)
            if math.isfinite(rows.lower[r]):
                el_rows.append(r)
                el_vals.append(1.0)
        self.n_elastic = len(el_rows)
        h = new_highs(threads)
        inf = highspy.kHighsInf
        status = h.passModel(
            self.n_elastic,
            self.nrows,
            self.n_elastic,
            1,  # column-wise
            1,
            0.0,
            np.full(self.n_elastic, self.penalty),
            np.zeros(self.n_elastic),
            np.full(self.n_elastic, inf),
            np.where(np.isfinite(rows.lower), rows.lower, -inf),
            np.where(np.isfinite(rows.upper), rows.upper, inf),
            np.arange(self.n_elastic, dtype=np.int32),
            np.array(el_rows, dtype=np.int32),
            np.array(el_vals, dtype=float),
            np.zeros(self.n_elastic, dtype=np.int32),
        )
        if status != highspy.HighsStatus.kOk:
            msg = f"HiGHS refused the Benders subproblem ({status})."
            raise SolveError(msg)
        self.h = h
        self.link = split.link[self.cols]
        self.linked = np.flatnonzero(self.link >= 0)
        self.linked_keep = self.link[self.linked]
        self.base_upper = split.upper[self.cols]
        self.hcol = np.full(ncols, -1, dtype=np.int64)  # HiGHS column of each active share
        self.active: list[int] = []
        self.solves = 0
        self.runs = 0
        self.seconds = 0.0
        self._activate(self._initial(split), self.base_upper)

    def _initial(self, split: _Split) -> np.ndarray:
        """Each occupier's cheapest shares (by cost)."""
        group = split.group[self.cols]
        order = np.lexsort((self.cost, group))
        g = group[order]
        first = np.concatenate([[0], np.flatnonzero(np.diff(g)) + 1])
        rank = np.arange(len(g)) - np.repeat(first, np.diff(np.append(first, len(g))))
        return np.sort(order[rank < self.INITIAL_PER_OCCUPIER])

    def _activate(self, new: np.ndarray, upper: np.ndarray) -> None:
        if len(new) == 0:
            return
        lengths = self.csc_start[new + 1] - self.csc_start[new]
        take = np.concatenate([np.arange(self.csc_start[k], self.csc_start[k + 1]) for k in new])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
        first = self.n_elastic + len(self.active)
        self.h.addCols(
            len(new),
            self.cost[new],
            np.zeros(len(new)),
            upper[new],
            len(take),
            starts,
            self.csc_row[take].astype(np.int32),
            self.csc_val[take],
        )
        self.hcol[new] = first + np.arange(len(new))
        self.active.extend(int(k) for k in new)

    def _shift(self, point: np.ndarray) -> np.ndarray:
        """B @ m for the sub rows."""
        return np.bincount(self.b_row, weights=self.b_val * point[self.b_col], minlength=self.nrows)

    def reduced_costs(self, duals: np.ndarray) -> np.ndarray:
        return self.cost - np.bincount(
            self.a_col, weights=self.a_val * duals[self.a_row], minlength=len(self.cols)
        )

    def solve(self, point: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """(objective with penalties, shares, row multipliers, elastic total) at master `point`."""
        highspy = highspy_module()

        t0 = time.perf_counter()
        rows = self.split.sub_rows
        shift = self._shift(point)
        inf = highspy.kHighsInf
        lo = np.where(np.isfinite(rows.lower), rows.lower - shift, -inf)
        hi = np.where(np.isfinite(rows.upper), rows.upper - shift, inf)
        h = self.h
        h.changeRowsBounds(self.nrows, np.arange(self.nrows, dtype=np.int32), lo, hi)
        upper = self.base_upper.copy()
        upper[self.linked] = np.minimum(upper[self.linked], np.clip(point[self.linked_keep], 0.0, 1.0))
        act = np.array(self.active, dtype=np.int64)
        h.changeColsBounds(len(act), self.hcol[act].astype(np.int32), np.zeros(len(act)), upper[act])
        while True:
            h.run()
            self.runs += 1
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:  # seen after addCols: start afresh once
                h.clearSolver()
                h.run()
                status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                msg = f"HiGHS did not solve the Benders subproblem ({h.modelStatusToString(status)})."
                raise SolveError(msg)
            sol = h.getSolution()
            duals = np.asarray(sol.row_dual)
            reduced = self.reduced_costs(duals)
            scale = 1e-9 * max(1.0, float(np.abs(self.cost).max(initial=0.0)))
            price = np.flatnonzero((self.hcol < 0) & (reduced < -scale) & (upper > 1e-12))
            if len(price) == 0:
                break
            if len(price) > self.MAX_NEW_COLUMNS:
                price = price[np.argsort(reduced[price])[: self.MAX_NEW_COLUMNS]]
            self._activate(np.sort(price), upper)
        values = np.asarray(sol.col_value)
        shares = np.zeros(len(self.cols))
        act = np.array(self.active, dtype=np.int64)
        shares[act] = values[self.hcol[act]]
        elastic = float(values[: self.n_elastic].sum())
        self.solves += 1
        self.seconds += time.perf_counter() - t0
        return float(h.getInfo().objective_function_value), shares, duals, elastic

    def cut(self, duals: np.ndarray) -> tuple[float, np.ndarray]:
        """A valid cut ``theta >= constant + coef . m`` from any multipliers (signs enforced).

        ``coef`` is indexed by the model's columns (zero on shares).
        """
        split, rows = self.split, self.split.sub_rows
        pi = np.asarray(duals, dtype=float).copy()
        pi = np.where(np.isinf(rows.lower), np.minimum(pi, 0.0), pi)  # <= side only: pi <= 0
        pi = np.where(np.isinf(rows.upper), np.maximum(pi, 0.0), pi)  # >= side only: pi >= 0
        side = np.where(pi > 0, rows.lower, np.where(pi < 0, rows.upper, 0.0))
        constant = float(np.dot(pi, np.where(pi != 0, side, 0.0)))
        reduced = self.reduced_costs(pi)
        coef = np.zeros(len(split.cost))
        # the master's terms of each row, moved to the right-hand side: pi . (-B m)
        np.add.at(coef, self.b_col, -pi[self.b_row] * self.b_val)
        lo, hi = split.lower[self.cols], split.upper[self.cols]
        free = np.ones(len(self.cols), dtype=bool)
        free[self.linked] = False
        constant += float(np.minimum(reduced[free] * lo[free], reduced[free] * hi[free]).sum())
        np.add.at(coef, self.linked_keep, np.minimum(0.0, reduced[self.linked]))
        return constant, coef


class _Master:
    """The master problem in HiGHS: non-share columns, ``theta``, master rows and cuts."""

    def __init__(self, split: _Split, threads: int | None, with_theta: bool) -> None:
        highspy = highspy_module()

        self.split = split
        self.cols = np.flatnonzero(~split.sub)
        pos = np.full(len(split.cost), -1, dtype=np.int64)
        pos[self.cols] = np.arange(len(self.cols))
        self.pos = pos
        self.with_theta = with_theta
        n = len(self.cols) + (1 if with_theta else 0)
        self.theta = len(self.cols) if with_theta else -1
        inf = highspy.kHighsInf
        cost = split.cost[self.cols]
        lower = split.lower[self.cols]
        upper = split.upper[self.cols]
        if with_theta:
            cost, lower, upper = np.append(cost, 1.0), np.append(lower, -inf), np.append(upper, inf)
        rows = split.master_rows
        h = new_highs(threads)
        self.integrality = np.zeros(n, dtype=np.int32)
        self.integrality[: len(self.cols)] = split.integer[self.cols].astype(np.int32)
        status = h.passModel(
            n,
            rows.count,
            len(rows.index),
            2,
            1,
            split.constant,
            cost,
            np.where(np.isfinite(lower), lower, -inf),
            np.where(np.isfinite(upper), upper, inf),
            np.where(np.isfinite(rows.lower), rows.lower, -inf),
            np.where(np.isfinite(rows.upper), rows.upper, inf),
            rows.start[:-1].astype(np.int32),
            pos[rows.index].astype(np.int32),
            rows.value,
            self.integrality,
        )
        if status != highspy.HighsStatus.kOk:
            msg = f"HiGHS refused the Benders master ({status})."
            raise SolveError(msg)
        if split.agg is not None:
            cols, coefs, rhs = split.agg
            h.addRow(rhs, inf, len(cols), pos[cols].astype(np.int32), coefs)
        self.h = h
        self.cuts = 0

    def add_cut(self, constant: float, coef: np.ndarray) -> None:
        """``theta - coef . m >= constant``."""
        highspy = highspy_module()

        nz = np.flatnonzero(np.abs(coef) > 1e-12)
        idx = np.append(self.pos[nz], self.theta).astype(np.int32)
        val = np.append(-coef[nz], 1.0)
        self.h.addRow(constant, highspy.kHighsInf, len(idx), idx, val)
        self.cuts += 1

    def relax(self, relaxed: bool) -> None:
        n = len(self.integrality)
        kinds = np.zeros(n, dtype=np.uint8) if relaxed else self.integrality.astype(np.uint8)
        self.h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), kinds)

    def point(self, values: np.ndarray) -> np.ndarray:
        """Master values as a vector over the model's columns (shares 0)."""
        out = np.zeros(len(self.split.cost))
        out[self.cols] = values[: len(self.cols)]
        return out


@dataclass
class _State:
    started: float
    options: BendersOptions
    best: float = math.inf
    best_x: np.ndarray | None = None
    bound: float = -math.inf
    rounds: int = 0
    lp_rounds: int = 0
    lp_bound: float = math.nan
    exact_rounds: int = 0
    log: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        return self.options.time_limit_s - self.elapsed()

    def gap(self) -> float:
        return relative_gap(self.best, self.bound)


def check_solution(split: _Split, x: np.ndarray, tol: float = FEAS_TOL) -> str | None:
    """None if `x` meets every row, bound and integrality of the model; else what it breaks."""
    scale = np.maximum(1.0, np.abs(x))
    if np.any(x < split.lower - tol * scale) or np.any(x > split.upper + tol * scale):
        i = int(np.argmax((split.lower - x) + (x - split.upper)))
        return f"{split.variables[i].name} = {x[i]:g} is outside its bounds"
    frac = np.abs(x - np.round(x))
    if np.any(split.integer & (frac > tol)):
        i = int(np.argmax(np.where(split.integer, frac, 0.0)))
        return f"{split.variables[i].name} = {x[i]:g} is not whole"
    ax = split.rows.times(x)
    rows = split.rows
    lhs_scale = np.maximum(
        1.0,
        np.bincount(rows.row_of_entry(), weights=np.abs(rows.value * x[rows.index]), minlength=rows.count),
    )
    bad = (ax < rows.lower - tol * lhs_scale) | (ax > rows.upper + tol * lhs_scale)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        return f"row {r} has {ax[r]:g}, outside [{rows.lower[r]:g}, {rows.upper[r]:g}]"
    return None


def _offer(
    split: _Split,
    state: _State,
    master_point: np.ndarray,
    shares: np.ndarray,
    elastic: float,
    sub: _Subproblem | None,
) -> bool:
    """Make a complete plan from master values and shares; keep it if feasible and better."""
    x = master_point.copy()
    x[split.integer] = np.round(x[split.integer])
    if sub is not None:
        if elastic > FEAS_TOL:
            return False
        x[sub.cols] = np.clip(shares, split.lower[sub.cols], split.upper[sub.cols])
    if check_solution(split, x) is not None:
        return False
    value = float(np.dot(split.cost, x)) + split.constant
    if value < state.best:
        state.best, state.best_x = value, x
        return True
    return False


def _report(state: _State, progress: ProgressCallback | None, what: str) -> None:
    line = (
        f"{what}: {state.elapsed():6.1f} s best {state.best:.6f} bound {state.bound:.6f} "
        f"gap {state.gap():.3e}"
    )
    state.log.append(line)
    if state.options.msg:
        print(line, flush=True)
    if progress is not None:
        progress(Progress(state.elapsed(), state.best, state.bound, state.gap()))


def _root(
    split: _Split,
    master: _Master,
    sub: _Subproblem,
    state: _State,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    """Kelley's cutting planes on the master LP, with in-out stabilisation."""
    highspy = highspy_module()

    master.relax(True)
    h = master.h
    keep_cols = np.flatnonzero(split.link >= 0)
    keep_cols = np.unique(split.link[keep_cols])
    core: np.ndarray | None = None
    lam, stalls, last_lb = ROOT_LAMBDA, 0, -math.inf
    lp_upper = math.inf
    for _ in range(state.options.lp_rounds):
        if state.left() <= 0 or (cancel is not None and cancel.is_set()):
            break
        h.setOptionValue("time_limit", max(0.1, state.left()))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        values = np.asarray(h.getSolution().col_value)
        lb = float(h.getInfo().objective_function_value)
        state.lp_bound = lb
        state.bound = max(state.bound, lb)
        point = master.point(values)
        theta = values[master.theta]
        if core is None:
            core = point.copy()
            core[keep_cols] = 1.0  # everything kept: the most room for the shares
        sep = lam * point + (1 - lam) * core
        objective, _shares, duals, elastic = sub.solve(sep)
        constant, coef = sub.cut(duals)
        cut_at_point = constant + float(np.dot(coef, point))
        if elastic <= FEAS_TOL:
            lp_upper = min(
                lp_upper,
                float(np.dot(split.cost, sep))
                - float(np.dot(split.cost[sub.cols], sep[sub.cols]))
                + split.constant
                + objective,
            )
        master.add_cut(constant, coef)
        state.lp_rounds += 1
        if cut_at_point <= theta + 1e-9 * max(1.0, abs(theta)):
            # the cut at the separation point does not cut the LP optimum off: separate there
            _objective, _shares, duals, _elastic = sub.solve(point)
            constant, coef = sub.cut(duals)
            master.add_cut(constant, coef)
            cut_at_point = constant + float(np.dot(coef, point))
            if cut_at_point <= theta + 1e-9 * max(1.0, abs(theta)):
                break  # the master LP is the LP relaxation's optimum
        core = 0.5 * core + 0.5 * sep
        if lb > last_lb + 1e-6 * max(1.0, abs(lb)):
            stalls, last_lb = 0, lb
        else:
            stalls += 1
            if stalls >= 5:
                lam = min(1.0, lam + 0.2)
        if progress is not None and math.isfinite(state.bound):
            progress(Progress(state.elapsed(), math.nan, state.bound, math.inf))
        if state.options.msg and state.lp_rounds % 10 == 0:
            print(
                f"  root {state.lp_rounds}: {state.elapsed():.1f} s lb {lb:.1f} ub {lp_upper:.1f} lam {lam:.2f} "
                f"active {len(sub.active)} runs {sub.runs}",
                flush=True,
            )
        if math.isfinite(lp_upper) and relative_gap(lp_upper, lb) <= ROOT_GAP:
            break
    _report(state, progress, f"root LP after {state.lp_rounds} cut rounds")
    master.relax(False)


def _rounds(
    split: _Split,
    master: _Master,
    sub: _Subproblem | None,
    state: _State,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> str:
    """Master MIP rounds; returns why they stopped."""
    highspy = highspy_module()

    h = master.h
    target = state.options.mip_gap
    ms = highspy.HighsModelStatus

    last = [0.0]

    def interrupt(event: Any) -> None:
        if cancel is not None and cancel.is_set():
            event.interrupt()
        now = state.elapsed()
        if progress is not None and now - last[0] >= 1.0:
            # the master's dual bound is a bound on the model too (the master is a relaxation)
            last[0] = now
            bound = max(state.bound, float(event.data_out.mip_dual_bound))
            progress(Progress(now, state.best, bound, relative_gap(state.best, bound)))

    if cancel is not None or progress is not None:
        h.cbMipInterrupt.subscribe(interrupt)
    tight = False
    found: list[np.ndarray] = []  # the master's improving solutions in a round: each gets a cut

    def improving(event: Any) -> None:
        found.append(np.array(event.data_out.mip_solution, dtype=float))

    if sub is not None:
        h.cbMipImprovingSolution.subscribe(improving)
    while True:
        if state.best_x is not None and state.gap() <= target * (1 + 1e-9):
            return "optimal"
        if cancel is not None and cancel.is_set():
            return "interrupted"
        if state.left() <= 0:
            return "time_limit"
        if state.options.max_rounds is not None and state.rounds >= state.options.max_rounds:
            return "round_limit"
        h.setOptionValue("time_limit", max(0.1, state.left()))
        # early rounds need not prove the master optimal: a looser master gap saves time
        if sub is None:  # the master is the whole model: one solve, to the gap asked for
            h.setOptionValue("mip_rel_gap", target)
        else:
            loose = state.gap() / 4 if state.best_x is not None else 1e-3
            if tight:  # the last round's plan was exact: only the master's own gap is left to close
                loose = 0.0
            h.setOptionValue("mip_rel_gap", max(target / 2, min(1e-2, loose)))
        h.setOptionValue("mip_abs_gap", 1e-9)
        if state.best_x is not None:
            start = state.best_x[master.cols]
            if master.with_theta and sub is not None:
                start = np.append(start, float(np.dot(split.cost[sub.cols], state.best_x[sub.cols])))
            h.setSolution(len(start), np.arange(len(start), dtype=np.int32), start)
        found.clear()
        h.run()
        state.rounds += 1
        status = h.getModelStatus()
        info = h.getInfo()
        if status == ms.kInfeasible:
            return "infeasible"
        bound = float(info.mip_dual_bound)
        if math.isfinite(bound):
            state.bound = max(state.bound, bound)
        sol = h.getSolution()
        if not sol.value_valid:
            return "time_limit" if status == ms.kTimeLimit else "no_solution"
        values = np.asarray(sol.col_value)
        point = master.point(values)
        point[split.integer] = np.round(point[split.integer])
        if sub is None:
            _offer(split, state, point, np.zeros(0), 0.0, None)
            _report(state, progress, f"master round {state.rounds}")
            if status == ms.kOptimal:
                return "optimal"  # within `target`: HiGHS's own stop; `settle` checks the gap
            return {ms.kTimeLimit: "time_limit", ms.kInterrupt: "interrupted"}.get(status, "feasible")
        _objective, shares, duals, elastic = sub.solve(point)
        _offer(split, state, point, shares, elastic, sub)
        constant, coef = sub.cut(duals)
        theta = values[master.theta]
        violated = constant + float(np.dot(coef, point)) > theta + 1e-9 * max(1.0, abs(theta))
        master.add_cut(constant, coef)
        # the master's other improving solutions of this round: more cuts, and more plans
        for other in _distinct(found[-EXTRA_CUTS_PER_ROUND - 1 :], point, master):
            _objective, shares, duals, elastic = sub.solve(other)
            _offer(split, state, other, shares, elastic, sub)
            master.add_cut(*sub.cut(duals))
        _report(state, progress, f"master round {state.rounds} ({master.cuts} cuts)")
        if status == ms.kInterrupt:
            return "interrupted"
        # not violated: the master's plan is exact, so the gap left is the master's own gap;
        # the next round closes it to the target at once
        tight = not violated
        state.exact_rounds += int(tight)


def _distinct(solutions: list[np.ndarray], seen: np.ndarray, master: _Master) -> list[np.ndarray]:
    """Master solutions (as model-column points, integers rounded) unlike `seen` and each other."""
    out: list[np.ndarray] = []
    integer = master.split.integer
    for values in solutions:
        if len(values) != len(master.integrality):
            continue
        point = master.point(values)
        point[integer] = np.round(point[integer])
        if all(np.abs(point - p).max() > 1e-6 for p in [seen, *out]):
            out.append(point)
    return out


def solve_benders(
    model: EstateModel,
    options: BendersOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Plan:
    """Solve `model` by Benders decomposition and return an `optimiser.plan.Plan`.

    A model without split occupiers has no subproblem: its master is the whole model, passed
    straight to HiGHS (no PuLP solve). See the module docstring for what the bound proves.

    Raises
    ------
    SolveError
        No feasible plan found within the limits, or HiGHS failed.
    InfeasibleScenarioError
        The master is infeasible (the scenario cannot be met).

    """

    options = options or BendersOptions()
    state = _State(started=time.perf_counter(), options=options)
    use_threads(options.threads)
    split = _split(model)
    read_s = state.elapsed()
    has_sub = bool(split.sub.any())
    master = _Master(split, options.threads, with_theta=has_sub)
    sub = _Subproblem(split, options.threads) if has_sub else None
    if model.start:  # the model's warm start (today's estate), if it is a plan, is the first incumbent
        by_name = np.array([float(model.start.get(v.name, math.nan)) for v in split.variables])
        if not np.isnan(by_name).any():
            _offer(split, state, by_name, by_name[split.sub], 0.0, None)
    if sub is not None:
        master.add_cut(*sub.cut(np.zeros(sub.nrows)))  # no multipliers: theta >= the cheapest shares
        _root(split, master, sub, state, progress, cancel)
    why = _rounds(split, master, sub, state, progress, cancel)
    if why == "infeasible" and state.best_x is None:
        msg = f"Scenario {model.scenario.name!r} cannot be met:"
        raise InfeasibleScenarioError(msg, ("the Benders master problem is infeasible",))
    if state.best_x is None:
        msg = f"Benders found no feasible plan in {state.elapsed():.1f} s ({why}); try a longer --time-limit."
        raise SolveError(msg)
    for var, value in zip(split.variables, state.best_x, strict=True):
        var.varValue = float(value)
    status = {"optimal": "optimal", "time_limit": "time_limit", "interrupted": "interrupted"}.get(
        why, "feasible"
    )
    extra: dict[str, Any] = {
        "method": "benders",
        "rounds": state.rounds,
        "exact_rounds": state.exact_rounds,
        "root_cut_rounds": state.lp_rounds,
        "root_lp_bound": state.lp_bound,
        "cuts": master.cuts,
        "read_s": round(read_s, 3),
        "sub_solves": sub.solves if sub else 0,
        "sub_s": round(sub.seconds, 3) if sub else 0.0,
        "log": state.log,
        **split.stats,
    }
    info = settle(
        SolveInfo(
            solver="HiGHS+Benders" if has_sub else "HiGHS (direct)",
            status=status,
            objective=state.best,
            bound=state.bound,
            time_s=state.elapsed(),
            raw_status=why,
            extra=extra,
        )
    )
    return plan_from_solution(model, info)
