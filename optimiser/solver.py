"""The only module that names solvers: HiGHS (highspy, the default) and CBC.

`make_solver` returns a PuLP solver whose ``.info`` after a solve holds what a plan must
report: proven optimality, objective, best bound, gap, time and the solver's own status.

The HiGHS adapter here differs from PuLP's own in three ways: it passes the model to HiGHS in
one batch (PuLP adds it a row at a time), it gives HiGHS a starting solution (PuLP ignores
``warmStart`` for HiGHS), and it reports progress and can be cancelled through callbacks.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pulp

from estate.limits import LimitWarning, cap_to_cores
from optimiser.errors import SolveError
from optimiser.highs import HighsArrays, highspy_module, quiet_stdout, use_threads
from optimiser.progress import Progress, ProgressCallback
from optimiser.search import Mailbox

SOLVER_NAMES = {"highs": "HiGHS", "cbc": "CBC"}
OPTIMAL_GAP = 1e-4  # a plan is called optimal only within this relative gap of a true bound


@dataclass(frozen=True)
class SolveInfo:
    """What the solver said about the last solve (made once per solve, by `settle`).

    ``status``: ``optimal`` (a plan within `OPTIMAL_GAP` of a true bound), ``gap_limit``
    (stopped at a looser ``mip_gap``), ``time_limit``, ``interrupted``, ``feasible`` (a plan,
    stopped for another reason), ``infeasible`` or ``no_solution``. ``bound`` is always a true
    lower bound on the net present cost (objective constant included), or nan when unknown.
    """

    solver: str = ""
    status: str = "not solved"
    proven_optimal: bool = False
    objective: float = math.nan
    bound: float = math.nan
    gap: float = math.nan  # relative: |objective - bound| / max(|objective|, tiny)
    time_s: float = 0.0
    nodes: int = 0
    raw_status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's definition: |objective - bound| / max(|objective|, 1e-9)."""
    if math.isnan(objective) or math.isnan(bound) or math.isinf(objective) or math.isinf(bound):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)


def settle(info: SolveInfo) -> SolveInfo:
    """The last step of every solve, on every solver: make the status and bound honest.

    Returns a new `SolveInfo`; `info` is left as it was.

    A bound above the plan's objective (beyond rounding) cannot be true; it is dropped
    (reported unknown) rather than trusted. A solve the solver calls optimal is reported
    ``optimal`` only when its gap to the bound is within `OPTIMAL_GAP`; one that stopped at a
    looser ``mip_gap`` is ``gap_limit``. Anything else is never proven optimal.
    """
    objective, bound = info.objective, info.bound
    extra = dict(info.extra)
    if math.isfinite(objective) and math.isfinite(bound) and bound > objective:
        if bound > objective + 1e-6 * max(1.0, abs(objective)):
            extra["bound_discarded"] = (
                f"{info.solver} reported a bound of {bound:.6f} above the plan's {objective:.6f}"
            )
            bound = math.nan
        else:
            bound = objective  # rounding: the objective is then the tighter true bound
    has_plan = math.isfinite(objective)
    gap = relative_gap(objective, bound) if has_plan else math.inf
    within = has_plan and gap <= OPTIMAL_GAP * (1 + 1e-9)
    status = info.status
    if status == "optimal" and not within:
        status = "gap_limit" if has_plan and math.isfinite(bound) else "feasible"
    return replace(
        info,
        bound=bound,
        gap=gap,
        status=status,
        proven_optimal=status == "optimal" and within,
        extra=extra,
    )


class _HiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS with a batched build, a warm start, progress, cancel and honest info."""

    name = "HiGHS"

    def __init__(
        self,
        *,
        start: dict[str, float] | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        mailbox: Mailbox | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start = start or {}
        self.mailbox = mailbox
        self.progress = progress
        self.cancel = cancel
        self.info = SolveInfo(solver="HiGHS")

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        use_threads(self.threads)
        with quiet_stdout():  # HiGHS prints a banner on creation, before output_flag is off
            super().createAndConfigureSolver(lp)

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        variables = lp.variables()
        for i, var in enumerate(variables):
            var.index = i
        for i, constraint in enumerate(lp._constraints.values()):  # as PuLP's own adapter does
            constraint.index = i
        if self.mailbox is not None and self.mip:  # the search read the very same problem already
            arrays = self.mailbox.arrays
        else:
            arrays = HighsArrays.from_problem(lp, mip=bool(self.mip))
        try:
            arrays.pass_to(lp.solverModel)
        except ValueError as err:
            raise SolveError(str(err)) from err
        if self.start:
            by_name = {v.name: v.index for v in variables}
            items = [(by_name[k], val) for k, val in self.start.items() if k in by_name]
            if items:
                idx, val = zip(*items, strict=True)
                lp.solverModel.setSolution(
                    len(idx), np.array(idx, dtype=np.int32), np.array(val, dtype=float)
                )

    def actualSolve(self, lp: pulp.LpProblem) -> int:
        started = time.perf_counter()
        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        h = lp.solverModel
        last = [0.0]

        def report(event: Any) -> None:
            out = event.data_out
            now = time.perf_counter() - started
            if self.cancel is not None and self.cancel.is_set():
                event.interrupt()
            if self.progress is not None and now - last[0] >= 0.5:
                last[0] = now
                self.progress(Progress(now, out.mip_primal_bound, out.mip_dual_bound, out.mip_gap))

        if self.progress is not None or self.cancel is not None:
            h.cbMipInterrupt.subscribe(report)
        self._stop_lp_on_cancel(h)
        if self.mailbox is not None:
            self._exchange_plans(h)
        self.callSolver(lp)
        warm = "used" if self.start else "none"
        fallback: SolveInfo | None = None
        if self.start and not _consistent(h):
            # HiGHS 1.16 can report an objective while returning the starting solution's columns
            # (seen after presolve). Its bound is still valid; the columns of the better plan are lost.
            elapsed = time.perf_counter() - started
            if self.timeLimit is None or elapsed < 0.5 * self.timeLimit:
                warm = "discarded (HiGHS returned inconsistent columns; solved again without it)"
                self.start = {}
                self.createAndConfigureSolver(lp)
                if self.timeLimit is not None:
                    lp.solverModel.setOptionValue("time_limit", max(1.0, float(self.timeLimit) - elapsed))
                self.buildSolverModel(lp)
                if self.progress is not None or self.cancel is not None:
                    lp.solverModel.cbMipInterrupt.subscribe(report)
                self.callSolver(lp)
                h = lp.solverModel
            else:
                fallback = self._report_start(lp, h, elapsed)
                warm = "kept (HiGHS returned inconsistent columns; the starting plan is reported with HiGHS's bound)"
        if fallback is None and not _consistent(h):
            msg = (
                "HiGHS returned a solution whose objective does not match the one it reported; "
                "the plan cannot be trusted. Try --solver cbc."
            )
            raise SolveError(msg)
        if fallback is not None:
            self.info = fallback
            status = pulp.LpStatusOptimal
            lp.assignStatus(status, pulp.LpSolutionIntegerFeasible)
        else:
            status, sol_status = self.findSolutionValues(lp)
            for var in lp.variables():
                var.modified = False
            lp.assignStatus(status, sol_status)
            self.info = _highs_info(
                h, h.getInfo(), h.getModelStatus(), sol_status, time.perf_counter() - started
            )
        self.info = replace(self.info, extra={**self.info.extra, "warm_start": warm})
        if self.mailbox is not None:
            status = self._adopt_better_plan(lp, status)
        if (
            self.cancel is not None
            and self.cancel.is_set()
            and self.info.status in {"time_limit", "feasible"}
        ):
            # stopped by the user: HiGHS may report a Stop inside an LP as a time limit, and a
            # better plan from the search beside is adopted with the limit's wording
            self.info = replace(self.info, status="interrupted")
        return int(status)

    def _stop_lp_on_cancel(self, h: Any) -> None:
        """Stop also acts inside an LP (presolve's and the root's), not only between MIP steps."""
        cancel = self.cancel
        if cancel is None:
            return

        def stop(event: Any) -> None:
            if cancel.is_set():
                event.interrupt()

        h.cbSimplexInterrupt.subscribe(stop)
        h.cbIpmInterrupt.subscribe(stop)

    def _exchange_plans(self, h: Any) -> None:
        """Swap plans with the search thread while HiGHS runs (`optimiser.search.Mailbox`).

        HiGHS asks for user solutions at its nodes and takes the mailbox's newest plan as a
        candidate incumbent (it checks it itself); each plan HiGHS improves to is offered back
        to the mailbox, which keeps it only when it passes the row check and is better.
        """
        mailbox = self.mailbox
        assert mailbox is not None

        def give(event: Any) -> None:
            x = mailbox.take_new()
            if x is not None:
                event.data_in.setSolution(x)

        def take(event: Any) -> None:
            mailbox.offer(np.asarray(event.data_out.mip_solution, dtype=float), "HiGHS")

        h.cbMipUserSolution.subscribe(give)
        h.cbMipImprovingSolution.subscribe(take)

    def _adopt_better_plan(self, lp: pulp.LpProblem, status: int) -> int:
        """Report the mailbox's plan, with HiGHS's bound, when it beats what HiGHS returned.

        A plan the search found after HiGHS last asked is otherwise lost. The mailbox only holds
        plans that passed the row check, so the plan is feasible; the bound is HiGHS's, a true
        bound on the whole model, and `settle` decides the status from the gap.
        """
        assert self.mailbox is not None
        x, objective = self.mailbox.best()
        if x is None or not objective < self.info.objective - 1e-9 * max(1.0, abs(objective)):
            return status
        for var, value in zip(lp.variables(), x, strict=True):
            var.varValue = float(value)
            var.modified = False
        within = relative_gap(objective, self.info.bound) <= float(self.gapRel or 0.0) + 1e-12
        self.info = settle(
            replace(
                self.info,
                status="optimal" if within else ("time_limit" if self.timeLimit else "feasible"),
                objective=objective,
                extra={**self.info.extra, "plan_from": self.mailbox.found_by},
            )
        )
        lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
        return int(pulp.LpStatusOptimal)

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        """PuLP's reading, with the solution status taken from HiGHS itself.

        PuLP calls an interrupted solve a feasible solution even when HiGHS has none, and
        fails on statuses it does not list (a node limit is ``kSolutionLimit``).
        """
        highspy = highspy_module()
        h = lp.solverModel
        try:
            status, sol_status = super().findSolutionValues(lp)
        except KeyError:  # the values are loaded before PuLP looks the status up
            status, sol_status = pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        feasible = int(h.getInfo().primal_solution_status) == int(
            highspy.SolutionStatus.kSolutionStatusFeasible
        )
        if feasible and sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            status, sol_status = pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible  # PuLP's pair
        elif not feasible and sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            status, sol_status = pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        return status, sol_status

    def _report_start(self, lp: pulp.LpProblem, h: Any, elapsed: float) -> SolveInfo:
        """Put the starting plan's values in the variables; its objective with HiGHS's bound."""
        for var in lp.variables():
            var.varValue = float(self.start.get(var.name, 0.0))
            var.modified = False
        objective = float(pulp.value(lp.objective))
        info = h.getInfo()
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else math.nan
        within = relative_gap(objective, bound) <= float(self.gapRel or 0.0) + 1e-12
        return settle(
            SolveInfo(
                solver="HiGHS",
                status="optimal" if within else "time_limit",
                objective=objective,
                bound=bound,
                time_s=elapsed,
                nodes=int(max(info.mip_node_count, 0)),
                raw_status=h.modelStatusToString(h.getModelStatus()),
            )
        )


def _consistent(h: Any) -> bool:
    """True when the returned columns give the objective HiGHS reported (or there is none)."""
    solution = h.getSolution()
    if not solution.value_valid:
        return True
    lp = h.getLp()
    recomputed = float(np.dot(lp.col_cost_, solution.col_value)) + float(lp.offset_)
    reported = float(h.getInfo().objective_function_value)
    return abs(recomputed - reported) <= 1e-6 * max(1.0, abs(reported))


def _highs_info(h: Any, info: Any, model_status: Any, sol_status: int, elapsed: float) -> SolveInfo:
    ms = highspy_module().HighsModelStatus
    has_solution = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = float(info.objective_function_value) if has_solution else math.nan
    mip = (
        info.mip_node_count >= 0 and not math.isinf(info.mip_dual_bound)
        if hasattr(info, "mip_dual_bound")
        else False
    )
    # an LP's optimum is its own bound; a MIP's bound is HiGHS's dual bound (offset included)
    bound = float(info.mip_dual_bound) if mip else (objective if model_status == ms.kOptimal else math.nan)
    status = {
        ms.kOptimal: "optimal",
        ms.kTimeLimit: "time_limit",
        ms.kInfeasible: "infeasible",
        ms.kInterrupt: "interrupted",
        ms.kUnboundedOrInfeasible: "infeasible",
    }.get(model_status, "feasible" if has_solution else "no_solution")
    if status == "optimal" and sol_status != pulp.LpSolutionOptimal:
        status = "feasible" if has_solution else "no_solution"
    return settle(
        SolveInfo(
            solver="HiGHS",
            status=status,
            objective=objective,
            bound=bound,
            time_s=elapsed,
            nodes=int(max(info.mip_node_count, 0)),
            raw_status=h.modelStatusToString(model_status),
        )
    )


def cbc_path() -> str | None:
    """A CBC executable: one on PATH, else the binary bundled with PuLP 3."""
    found = shutil.which("cbc")
    if found:
        return found
    bundled = pulp.apis.coin_api.PULP_CBC_CMD.pulp_cbc_path
    return bundled if bundled and os.path.exists(bundled) else None


class _CBC(pulp.COIN_CMD):  # type: ignore[misc]
    """CBC through COIN_CMD (PuLP's PULP_CBC_CMD is deprecated), with status and bound from its log.

    PuLP reads only the solution file, whose first word says ``Optimal`` both for a proven
    optimum and for a stop at the gap tolerance, and which carries no bound. CBC's log says
    which (``Result - Optimal solution found (within gap tolerance)``) and prints the bound
    (``Lower bound: %.3f``) for every stop short of a completed search. PuLP writes the model
    without its objective constant, so CBC's bound is shifted by it.
    """

    name = "CBC"

    def __init__(self, *, msg: bool = False, **kwargs: Any) -> None:
        super().__init__(path=cbc_path(), msg=False, **kwargs)  # the log goes to a file instead
        self.show_log = msg
        self.info = SolveInfo(solver="CBC")

    def actualSolve(self, lp: pulp.LpProblem, **kwargs: Any) -> int:
        started = time.perf_counter()
        handle, name = tempfile.mkstemp(prefix="cbc_", suffix=".log")
        os.close(handle)
        log_path = Path(name)
        self.optionsDict["logPath"] = str(log_path)
        start = {v.name: v.varValue for v in lp.variables()} if self.optionsDict.get("warmStart") else {}
        try:
            status = super().actualSolve(lp, **kwargs)
            log = log_path.read_text(errors="replace")
        finally:
            log_path.unlink(missing_ok=True)
        if self.show_log:
            print(log)
        replaced = _keep_only_a_feasible_plan(lp, start)
        self.info = cbc_info(lp, log, time.perf_counter() - started, values_replaced=replaced)
        return int(status)


def _keep_only_a_feasible_plan(lp: pulp.LpProblem, start: dict[str, float | None]) -> bool:
    """Check the values CBC handed back against the model's rows; never take infeasible ones.

    CBC stopped at a time limit can write values that break rows (seen on Trafford at a 1 s
    limit: an objective below the proven optimum). Then the warm start's values are put back
    when they are a feasible plan, or the solve reports no plan. True when CBC's values were
    replaced: the log's claims about them then prove nothing.
    """
    if lp.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return False
    arrays = HighsArrays.from_problem(lp)
    found = np.array([float(v.varValue) if v.varValue is not None else 0.0 for v in lp.variables()])
    if arrays.is_feasible(found):
        return False
    given = np.array([float(start.get(v.name) or 0.0) for v in lp.variables()])
    if start and arrays.is_feasible(given):
        for var, value in zip(lp.variables(), given, strict=True):
            var.varValue = float(value)
        lp.assignStatus(pulp.LpStatusNotSolved, pulp.LpSolutionIntegerFeasible)
        return True
    for var in lp.variables():
        var.varValue = None
    lp.assignStatus(pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound)
    return True


def cbc_info(lp: pulp.LpProblem, log: str, elapsed: float, *, values_replaced: bool = False) -> SolveInfo:
    """What a CBC run found, read from its log and the values PuLP loaded into `lp`.

    With `values_replaced` (CBC's values failed the check and the warm start's stand in), the
    log's "optimal" says nothing of the values held: only its printed bound is kept.
    """
    result = (re.findall(r"^Result - (.*?)\s*$", log, flags=re.MULTILINE) or [""])[-1]
    has_solution = lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    constant = float(lp.objective.constant) if lp.objective is not None else 0.0
    objective = math.nan
    if has_solution:  # a variable without a value (PuLP's dummy, for an empty model) counts as 0
        objective = constant + sum(c * (v.varValue or 0.0) for v, c in lp.objective.items())
    # a completed search, or a model with nothing to branch on that Clp solved as an LP
    # (no "Result" line then), proves the plan optimal: its objective is the bound
    completed = (
        has_solution
        and not values_replaced
        and (
            result == "Optimal solution found"
            or (
                not result
                and lp.sol_status == pulp.LpSolutionOptimal
                and re.search(r"^Optimal objective", log, flags=re.MULTILINE) is not None
            )
        )
    )
    printed = re.findall(r"^Lower bound:\s*(\S+)", log, flags=re.MULTILINE)
    bound = math.nan
    if lp.sense != pulp.LpMinimize:
        pass  # CBC's "Lower bound" is not a lower bound of a maximisation; report it unknown
    elif printed and _is_number(printed[-1]):
        bound = _printed_floor(printed[-1]) + constant
    elif completed:
        bound = objective
    lowered = result.lower()
    if values_replaced:
        state = "time_limit" if "time limit" in lowered else ("feasible" if has_solution else "no_solution")
    elif completed or result.startswith("Optimal solution found"):
        state = "optimal"  # `settle` decides between optimal and gap_limit from the true gap
    elif "time limit" in lowered:
        state = "time_limit"
    elif "infeasible" in lowered or lp.status == pulp.LpStatusInfeasible:
        state = "infeasible"
    elif "ctrl-c" in lowered or "user" in lowered:
        state = "interrupted"
    else:
        state = "feasible" if has_solution else "no_solution"
    if not has_solution and state == "optimal":
        state = "no_solution"
    nodes = re.findall(r"^Enumerated nodes:\s*(\d+)", log, flags=re.MULTILINE)
    return settle(
        SolveInfo(
            solver="CBC",
            status=state,
            objective=objective,
            bound=bound,
            time_s=elapsed,
            nodes=int(nodes[-1]) if nodes else 0,
            raw_status=result or pulp.LpStatus[lp.status],
        )
    )


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _printed_floor(text: str) -> float:
    """The smallest value that prints as `text`: a rounded bound, rounded down to stay true.

    ``"60071.051"`` (CBC's ``%.3f``) gives 60071.0505; ``"1.5e-05"`` gives 1.45e-05.
    """
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    half_unit = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return float(text) - half_unit


def available_solvers() -> list[str]:
    """Our names of the solvers that can run here, best first."""
    out = []
    if pulp.HiGHS().available():
        out.append("highs")
    path = cbc_path()
    if path and os.access(path, os.X_OK):
        out.append("cbc")
    return out


def make_solver(
    name: str = "highs",
    *,
    time_limit_s: float | None = 120.0,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    msg: bool = False,
    start: dict[str, float] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    options: dict[str, Any] | None = None,
    mailbox: Mailbox | None = None,
) -> pulp.LpSolver:
    """A configured solver: ``highs`` (default) or ``cbc``.

    Parameters
    ----------
    name
        ``highs`` or ``cbc``.
    time_limit_s
        Stop after this many seconds with the best plan found (never reported as optimal).
    mip_gap
        Stop when the relative gap between plan and bound is at most this.
    threads
        Solver threads (None: the solver's default).
    msg
        Show the solver's log.
    start
        Starting solution, by variable name (HiGHS: set directly; CBC: as a warm start).
    progress
        HiGHS only: called about twice a second with the incumbent, bound and gap.
    cancel
        HiGHS only: set this event to stop the solve with the best plan so far.
    options
        HiGHS only: extra HiGHS options by name (e.g. ``{"mip_heuristic_effort": 0.3}``).
    mailbox
        HiGHS only: swap plans with a primal search running beside the solve
        (`optimiser.search`); the better of the two is returned, with HiGHS's bound.

    Raises
    ------
    SolveError
        If the solver is unknown or not installed.

    """
    here = available_solvers()
    if name not in SOLVER_NAMES:
        msg_ = f"Unknown solver {name!r}; use one of {', '.join(SOLVER_NAMES)}."
        raise SolveError(msg_)
    if name not in here:
        msg_ = f"Solver {name!r} is not available here; found {here or 'none'}. Try: pip install highspy"
        raise SolveError(msg_)
    threads, note = cap_to_cores(threads, what=f"threads = {threads}")
    if note:  # the CLI and the app cap first and say so; this is the last line of defence
        warnings.warn(note, LimitWarning, stacklevel=2)
    if mailbox is not None and name != "highs":
        msg_ = "A plan mailbox is supported with HiGHS only."
        raise SolveError(msg_)
    if name == "highs":
        options = {"mip_abs_gap": 1e-9, **(options or {})}
        return _HiGHS(
            msg=msg,
            timeLimit=time_limit_s,
            gapRel=mip_gap,
            threads=threads,
            start=start,
            progress=progress,
            cancel=cancel,
            mailbox=mailbox,
            **options,
        )
    solver = _CBC(msg=msg, timeLimit=time_limit_s, gapRel=mip_gap, threads=threads, warmStart=bool(start))
    return solver
