"""``python -m optimiser bench``: published benchmark instances through the same model.

A capacitated facility location instance (CFLP) is loaded into the estate model unchanged:

- facility ``i``  -> building ``F<i>``: ``capacity_m2 = gia_m2 = capacity_i``,
  ``running_cost_gbp = 1000 x fixed_cost_i`` (so the model's £k running cost is the fixed
  cost), no market value, disposal cost or backlog; a freehold, so leaving costs nothing;
- customer ``j``  -> occupier ``C<j>``: ``space_m2 = demand_j``, one space type, splittable
  for OR-Library ``cap`` (splittable CFLP), not for Holmberg (single-source CFLP);
- the explicit cost table ``(C<j>, F<i>, cost_ij)`` replaces the move-cost formula; ``cost_ij``
  is the cost of serving all of customer ``j`` from facility ``i``;
- a one-year appraisal at 0% (annuity factor 1), no access standards, one partner.

The model's objective is then ``sum_i fixed_i keep_i + sum_ij cost_ij x_ij``, the CFLP
objective, and `solve_instance` must reproduce the published optimum.

File formats
------------
Holmberg (Oscar-Oliveira/OR-Datasets, SSCFLP ``Lib_2``): ``m n``; ``m`` lines ``capacity fixed_cost``;
``n`` demands; the ``m x n`` cost matrix facility by facility. Some files end in NUL padding.

OR-Library ``cap``: ``m n``; ``m`` lines ``capacity fixed_cost``; then for each customer its
demand followed by its ``m`` allocation costs (lines may wrap). In ``capa/capb/capc`` the
capacity is the literal word ``capacity``, to be replaced by a stated value.
"""

from __future__ import annotations

import math
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from estate import Estate
from estate.schema import CRS
from estate.validate import validate_table
from optimiser.benders import BendersOptions, solve_benders
from optimiser.errors import BenchError
from optimiser.model import EstateModel, build_model
from optimiser.pipeline import solve
from optimiser.plan import Plan
from optimiser.scenario import Scenario
from optimiser.solver import make_solver

# Where the benchmark facilities are put (British National Grid); any point would do.
_ORIGIN_E, _ORIGIN_N, _SPACING_M = 400_000.0, 300_000.0, 100.0
SPACE_TYPE = "office"
PARTNER = "bench"


@dataclass(frozen=True, eq=False)
class CFLPInstance:
    """A capacitated facility location instance.

    Attributes
    ----------
    name
        Instance name, e.g. ``p1``, ``cap41``, ``capb_5000``.
    capacities, fixed_costs
        Per facility (length ``m``).
    demands
        Per customer (length ``n``).
    costs
        ``m x n``: cost of serving all of customer ``j``'s demand from facility ``i``.
    single_source
        True: each customer is served by one facility (Holmberg); False: demand may be split
        (OR-Library ``cap``).

    """

    name: str
    capacities: np.ndarray
    fixed_costs: np.ndarray
    demands: np.ndarray
    costs: np.ndarray
    single_source: bool

    @property
    def m(self) -> int:
        """Number of facilities."""
        return len(self.capacities)

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.demands)

    def cost_of(self, open_: np.ndarray, shares: np.ndarray) -> float:
        """Objective of a solution: fixed costs of open facilities plus shares x assignment costs."""
        return float(np.dot(self.fixed_costs, open_) + np.sum(self.costs * shares))


# ------------------------------------------------------------------------------------------
# reading files
# ------------------------------------------------------------------------------------------
class _Tokens:
    """Whitespace-separated numbers of a text file, each with its line number."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.items: list[tuple[str, int]] = [
            (tok, lineno) for lineno, line in enumerate(text.splitlines(), 1) for tok in line.split()
        ]
        self.pos = 0
        self.last_line = text.count("\n") + 1

    def done(self) -> bool:
        return self.pos >= len(self.items)

    def word(self, what: str, *, context: str = "") -> tuple[str, int]:
        if self.done():
            msg = (f"{self.source} line {self.last_line}: the file ends before {what}"
                   f"{'; ' + context if context else ''}.")
            raise BenchError(msg)
        tok, line = self.items[self.pos]
        self.pos += 1
        return tok, line

    def number(self, what: str, *, context: str = "", minimum: float | None = None) -> float:
        tok, line = self.word(what, context=context)
        try:
            value = float(tok)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            msg = f"{self.source} line {line}: {what} should be a number, found {tok!r}."
            raise BenchError(msg)
        if minimum is not None and value < minimum:
            msg = f"{self.source} line {line}: {what} should be at least {minimum:g}, found {tok!r}."
            raise BenchError(msg)
        return value

    def count(self, what: str) -> int:
        tok, line = self.word(what)
        if not tok.isdigit() or int(tok) < 1:
            msg = f"{self.source} line {line}: {what} should be a whole number of at least 1, found {tok!r}."
            raise BenchError(msg)
        return int(tok)

    def expect_end(self, context: str) -> None:
        if not self.done():
            tok, line = self.items[self.pos]
            msg = (f"{self.source} line {line}: unexpected extra value {tok!r} after the last cost; "
                   f"{context}.")
            raise BenchError(msg)


def _read_text(path: Path) -> tuple[str, str]:
    """(text, source name) of a .txt file or of the single text file inside a .zip."""
    if not path.is_file():
        msg = f"Benchmark file {path} not found."
        raise BenchError(msg)
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [i for i in archive.infolist() if not i.is_dir()]
                if len(members) != 1:
                    msg = (f"{path.name}: expected one instance file in the zip, found {len(members)}"
                           f" ({', '.join(i.filename for i in members[:5])}).")
                    raise BenchError(msg)
                data = archive.read(members[0])
                source = f"{path.name}:{members[0].filename}"
        else:
            data = path.read_bytes()
            source = path.name
    except (zipfile.BadZipFile, OSError) as err:
        msg = f"{path.name}: cannot be read ({err})."
        raise BenchError(msg) from err
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as err:
        msg = f"{source}: not a plain-text instance file (byte {err.start} is not ASCII)."
        raise BenchError(msg) from err
    text = text.rstrip("\x00\r\n\t ")  # NUL padding at the end, as in the source repository
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        msg = f"{source} line {line}: unexpected NUL byte inside the data."
        raise BenchError(msg)
    return text, source


def _instance_name(path: Path) -> str:
    if path.suffix.lower() in (".zip", ".txt"):
        return path.name[: -len(path.suffix)]
    return path.name


def read_holmberg(path: str | Path) -> CFLPInstance:
    """Read a Holmberg single-source CFLP instance (``p1`` ... ``p71``).

    Raises
    ------
    BenchError
        The file is missing or malformed; the message names the file and line.

    """
    path = Path(path)
    text, source = _read_text(path)
    tokens = _Tokens(text, source)
    m = tokens.count("the number of facilities m")
    n = tokens.count("the number of customers n")
    size = f"the header says m={m} facilities and n={n} customers"
    capacities, fixed = np.empty(m), np.empty(m)
    for i in range(m):
        capacities[i] = tokens.number(f"the capacity of facility {i + 1}", context=size, minimum=0)
        fixed[i] = tokens.number(f"the fixed cost of facility {i + 1}", context=size, minimum=0)
    demands = np.array([tokens.number(f"the demand of customer {j + 1}", context=size, minimum=0)
                        for j in range(n)])
    costs = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            costs[i, j] = tokens.number(f"the cost of facility {i + 1} for customer {j + 1}", context=size)
    tokens.expect_end(size)
    return CFLPInstance(_instance_name(path), capacities, fixed, demands, costs, single_source=True)


def read_orlib_cap(path: str | Path, capacity: float | None = None) -> CFLPInstance:
    """Read an OR-Library ``cap`` instance (a ``capXX.txt`` or the ``.zip`` holding it).

    Parameters
    ----------
    path
        The instance file or zip.
    capacity
        Replaces the literal word ``capacity`` (``capa``/``capb``/``capc``); the name gets
        ``_<capacity>`` appended, as in ``bounds.txt`` (``capb_5000``).

    Raises
    ------
    BenchError
        The file is missing or malformed, or `capacity` is missing (or given for a file that
        states its capacities).

    """
    path = Path(path)
    text, source = _read_text(path)
    tokens = _Tokens(text, source)
    m = tokens.count("the number of facilities m")
    n = tokens.count("the number of customers n")
    size = f"the header says m={m} facilities and n={n} customers"
    capacities, fixed = np.empty(m), np.empty(m)
    literal = []
    for i in range(m):
        tok, line = tokens.items[tokens.pos] if not tokens.done() else ("", tokens.last_line)
        if tok.lower() == "capacity":
            tokens.pos += 1
            literal.append(line)
            if capacity is None:
                msg = (f"{source} line {line}: the capacity of facility {i + 1} is the word 'capacity'; "
                       "give it with --capacity (capb: 5000, 6000, 7000 or 8000).")
                raise BenchError(msg)
            capacities[i] = capacity
        else:
            capacities[i] = tokens.number(f"the capacity of facility {i + 1}", context=size, minimum=0)
        fixed[i] = tokens.number(f"the fixed cost of facility {i + 1}", context=size, minimum=0)
    if capacity is not None and not literal:
        msg = f"{source}: the file states its capacities; --capacity applies only where it says 'capacity'."
        raise BenchError(msg)
    if literal and len(literal) != m:
        msg = f"{source}: {len(literal)} of {m} capacities are the word 'capacity'; expected all or none."
        raise BenchError(msg)
    demands = np.empty(n)
    costs = np.empty((m, n))
    for j in range(n):
        demands[j] = tokens.number(f"the demand of customer {j + 1}", context=size, minimum=0)
        for i in range(m):
            costs[i, j] = tokens.number(f"the cost of facility {i + 1} for customer {j + 1}", context=size)
    tokens.expect_end(size)
    name = _instance_name(path)
    if capacity is not None:
        name = f"{name}_{capacity:g}"
    return CFLPInstance(name, capacities, fixed, demands, costs, single_source=False)


# ------------------------------------------------------------------------------------------
# published optima
# ------------------------------------------------------------------------------------------
def holmberg_optima(path: str | Path) -> dict[str, float]:
    """Optimal values from Holmberg's ``os`` file: one number per line, in order p1, p2, ..."""
    path = Path(path)
    if not path.is_file():
        msg = f"Optima file {path} not found."
        raise BenchError(msg)
    out: dict[str, float] = {}
    for lineno, line in enumerate(path.read_text(encoding="ascii", errors="replace").splitlines(), 1):
        text = line.strip().rstrip("\x00")
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            msg = f"{path.name} line {lineno}: expected an optimal value, found {text!r}."
            raise BenchError(msg)
        out[f"p{len(out) + 1}"] = value
    return out


def read_bounds(path: str | Path) -> dict[str, tuple[float, float]]:
    """``name lb ub`` per line (FacilityLocationProblems.jl ``bounds.txt``) -> {name: (lb, ub)}."""
    path = Path(path)
    if not path.is_file():
        msg = f"Bounds file {path} not found."
        raise BenchError(msg)
    out: dict[str, tuple[float, float]] = {}
    for lineno, line in enumerate(path.read_text(encoding="ascii", errors="replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) != 3:
                raise ValueError
            lb, ub = float(parts[1]), float(parts[2])
        except ValueError:
            msg = (f"{path.name} line {lineno}: expected 'name lower_bound upper_bound', "
                   f"found {line.strip()!r}.")
            raise BenchError(msg) from None
        if lb > ub + 1e-9 * max(1.0, abs(ub)):
            msg = f"{path.name} line {lineno}: lower bound {lb:g} is above upper bound {ub:g}."
            raise BenchError(msg)
        out[parts[0]] = (lb, ub)
    return out


def orlib_cap_optima(path: str | Path) -> dict[str, float]:
    """Published optima of the ``cap`` instances in ``bounds.txt`` (rows where lb = ub), e.g. capb_5000."""
    return {name: ub for name, (lb, ub) in read_bounds(path).items()
            if name.startswith("cap") and abs(ub - lb) <= 1e-9 * max(1.0, abs(ub))}


# ------------------------------------------------------------------------------------------
# instance -> estate -> model -> plan
# ------------------------------------------------------------------------------------------
def instance_to_estate(
    instance: CFLPInstance, *, time_limit_s: float = 120.0
) -> tuple[Estate, pd.DataFrame, Scenario]:
    """The estate, the explicit cost table and the scenario that make the model this CFLP."""
    m, n = instance.m, instance.n
    fids = [f"F{i + 1}" for i in range(m)]
    cids = [f"C{j + 1}" for j in range(n)]
    points = [shapely.Point(_ORIGIN_E + _SPACING_M * (i % 100), _ORIGIN_N + _SPACING_M * (i // 100))
              for i in range(m)]
    raw_b = gpd.GeoDataFrame({
        "building_id": fids,
        "name": [f"facility {i + 1}" for i in range(m)],
        "owner": PARTNER,
        "tenure": "freehold",
        "gia_m2": instance.capacities.astype(float),
        "capacity_m2": instance.capacities.astype(float),
        "space_types": SPACE_TYPE,
        "running_cost_gbp": instance.fixed_costs.astype(float) * 1000,
        "backlog_gbp": 0.0,
        "market_value_gbp": 0.0,
        "disposal_cost_gbp": 0.0,
        "source_row": np.arange(1, m + 1),
    }, geometry=points, crs=CRS)
    # with a cost table the building "today" means nothing; the cheapest facility keeps notes few
    today = np.asarray(instance.costs.argmin(axis=0))
    raw_o = pd.DataFrame({
        "occupier_id": cids,
        "name": [f"customer {j + 1}" for j in range(n)],
        "partner": PARTNER,
        "service": "customer",
        "building_id": [fids[i] for i in today],
        "space_m2": instance.demands.astype(float),
        "space_type": SPACE_TYPE,
        "splittable": not instance.single_source,
        "source_row": np.arange(1, n + 1),
    })
    tables = {}
    for table, raw in (("buildings", raw_b), ("occupiers", raw_o)):
        good, bad, issues = validate_table(raw, table, source=f"{instance.name} {table}")
        if len(bad):
            msg = f"{instance.name}: {len(bad)} {table} rejected by the estate schema, e.g. {issues[0]}"
            raise BenchError(msg)
        tables[table] = good
    estate = Estate.from_tables(buildings=tables["buildings"], occupiers=tables["occupiers"],
                                name=instance.name)
    table = pd.DataFrame({
        "occupier_id": np.tile(np.array(cids, dtype=object), m),
        "building_id": np.repeat(np.array(fids, dtype=object), n),
        "cost_gbp_k": instance.costs.reshape(-1).astype(float),
    })
    scenario = Scenario(
        name=instance.name, years=1, discount_rate=0.0, include_backlog=False, access_enabled=False,
        disposal_cost_share=0.0, move_cost_gbp_per_m2=0.0, mip_gap=0.0, time_limit_s=time_limit_s,
        warm_start=False,
    )
    return estate, table, scenario


def build_instance_model(instance: CFLPInstance, *, time_limit_s: float = 120.0) -> EstateModel:
    """The estate model of `instance` (an `optimiser.model.EstateModel`)."""
    estate, table, scenario = instance_to_estate(instance, time_limit_s=time_limit_s)
    return build_model(estate, scenario, cost_table=table)


def solve_instance(
    instance: CFLPInstance,
    *,
    solver: str = "highs",
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
    threads: int | None = None,
    msg: bool = False,
    method: str = "default",
) -> Plan:
    """Load `instance` into the estate model, solve it and return the `optimiser.plan.Plan`.

    ``plan.info.objective`` is the CFLP objective (fixed + assignment costs); ``plan.build_s``
    includes turning the instance into an estate. `method`: ``default`` (today's pipeline,
    `optimiser.pipeline.solve`) or ``benders`` (`optimiser.benders.solve_benders`, HiGHS only).

    Raises
    ------
    SolveError
        No solution within the time limit.
    InfeasibleScenarioError
        The instance has no feasible solution.

    """
    started = time.perf_counter()
    estate, table, scenario = instance_to_estate(instance, time_limit_s=time_limit_s)
    scenario = scenario.with_changes(solver=solver, mip_gap=mip_gap, threads=threads)
    built = build_model(estate, scenario, cost_table=table)
    model = replace(built, build_s=time.perf_counter() - started)  # a new model; `built` is unchanged
    if method == "benders":
        return _solve_benders(model, solver=solver, time_limit_s=time_limit_s, mip_gap=mip_gap,
                              threads=threads, msg=msg)
    if method != "default":
        msg_ = f"Unknown method {method!r}; use one of {', '.join(METHODS)}."
        raise BenchError(msg_)
    return solve(model, make_solver(solver, time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads,
                                    msg=msg))


METHODS = ("default", "benders")


def _solve_benders(model: EstateModel, *, solver: str, time_limit_s: float, mip_gap: float,
                   threads: int | None, msg: bool) -> Plan:

    if solver != "highs":
        msg_ = f"--method benders runs on HiGHS only; got --solver {solver}."
        raise BenchError(msg_)
    # a gap of 0 asks for a proof; Benders, whose loop ends on a relative gap, stops at 1e-7
    options = BendersOptions(time_limit_s=time_limit_s, mip_gap=max(mip_gap, 1e-7),
                             threads=threads, msg=msg)
    return solve_benders(model, options)


def check_plan(instance: CFLPInstance, plan: Plan, *, tol: float = 1e-6) -> float:
    """Check a plan against the instance itself (not the model) and return its CFLP cost.

    Every customer fully served, only by open facilities, single-source where required, and
    capacities respected (relative tolerance `tol`).

    Raises
    ------
    AssertionError
        The plan breaks one of these; the message says which.

    """
    fidx = {f"F{i + 1}": i for i in range(instance.m)}
    cidx = {f"C{j + 1}": j for j in range(instance.n)}
    kept = plan.buildings.set_index("building_id")["decision"].eq("keep")
    open_ = np.array([float(kept[f"F{i + 1}"]) for i in range(instance.m)])
    shares = np.zeros((instance.m, instance.n))
    occ = plan.occupiers
    for a, h, share in zip(occ["occupier_id"], occ["to_building_id"], occ["share"], strict=True):
        shares[fidx[h], cidx[a]] += share
    served = shares.sum(axis=0)
    if not np.allclose(served, 1.0, atol=tol):
        j = int(np.argmax(np.abs(served - 1.0)))
        msg = f"{instance.name}: customer C{j + 1} is served {served[j]:.6f} times, not once."
        raise AssertionError(msg)
    if instance.single_source and np.any((shares > tol) & (shares < 1 - tol)):
        msg = f"{instance.name}: a customer is split although the instance is single-source."
        raise AssertionError(msg)
    closed = (shares.sum(axis=1) > tol) & (open_ < 0.5)
    if closed.any():
        msg = f"{instance.name}: closed facility F{int(np.argmax(closed)) + 1} serves customers."
        raise AssertionError(msg)
    load = shares @ instance.demands
    over = load > instance.capacities * (1 + tol) + tol
    if over.any():
        i = int(np.argmax(over))
        msg = f"{instance.name}: facility F{i + 1} serves {load[i]:g} > capacity {instance.capacities[i]:g}."
        raise AssertionError(msg)
    return instance.cost_of(open_, shares)
