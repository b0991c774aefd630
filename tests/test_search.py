"""The primal search: HiGHS arrays, the feasibility check, the mailbox and fix-and-optimise."""

from __future__ import annotations

import time

import pytest

from estate import Estate, load_place
from optimiser.highs import HighsArrays
from optimiser.model import build_model
from optimiser.scenario import Scenario
from optimiser.search import Mailbox, fix_and_optimise, window_columns, windows

pytest.importorskip("highspy")

SCENARIO = Scenario(discount_rate=0.0, cat_services=())  # the fixture's worked figures
FAR = 3600.0  # a deadline the search never reaches: its passes end it, not the clock


def _search_parts(model):  # type: ignore[no-untyped-def]
    arrays = HighsArrays.from_problem(model.problem)
    home = model.estate.occupiers["building_id"].to_dict()
    cols, by_building = window_columns(arrays, model.keep, model.move, home)
    return arrays, cols, by_building


def test_arrays_give_the_models_objective_and_see_every_broken_row(three_building_estate: Estate) -> None:
    model = build_model(three_building_estate, SCENARIO)
    arrays = HighsArrays.from_problem(model.problem)
    today = arrays.vector(model.start)
    # keep all = 10 years x £200k (see the fixture's docstring)
    assert arrays.objective(today) == pytest.approx(2000.0)
    assert arrays.violation(today) == 0.0
    broken = today.copy()
    broken[arrays.names.index(model.keep["B"].name)] = 0.0  # B closed with its library still inside
    assert arrays.violation(broken) == pytest.approx(200.0)  # its capacity row: 200 m2 over 0 m2
    half = today.copy()
    half[arrays.names.index(model.keep["C"].name)] = 0.5
    assert arrays.violation(half) == pytest.approx(0.5)  # integrality (and the rows it breaks)
    assert arrays.violation(today[:-1]) == float("inf")


def test_mailbox_keeps_only_feasible_improvements(three_building_estate: Estate) -> None:
    model = build_model(three_building_estate, SCENARIO)
    arrays = HighsArrays.from_problem(model.problem)
    mailbox = Mailbox(arrays)
    today = arrays.vector(model.start)
    assert mailbox.offer(today, "today")
    assert mailbox.take_new() is not None
    assert mailbox.take_new() is None  # each improvement is handed out once
    broken = today.copy()
    broken[arrays.names.index(model.keep["B"].name)] = 0.0  # cheaper, but infeasible
    assert arrays.objective(broken) < arrays.objective(today)
    assert not mailbox.offer(broken, "bad")
    assert not mailbox.offer(today, "again")  # not better
    assert mailbox.best()[1] == pytest.approx(2000.0)
    assert mailbox.improvements == 1 and mailbox.offers == 3


def test_fix_and_optimise_finds_the_worked_optimum(three_building_estate: Estate) -> None:
    model = build_model(three_building_estate, SCENARIO)
    arrays, cols, by_building = _search_parts(model)
    mailbox = Mailbox(arrays)
    mailbox.offer(arrays.vector(model.start), "today")
    every = [[frozenset(model.keep) | frozenset(model.fixed_keep)]]  # one pass of one window
    stats = fix_and_optimise(arrays, mailbox, cols, by_building, every, deadline=time.perf_counter() + FAR)
    best, objective = mailbox.best()
    assert objective == pytest.approx(220.0)  # keep A only (the fixture's docstring)
    assert best is not None and arrays.violation(best) <= 1e-6
    assert stats.improvements == 1 and stats.passes == 2  # the second pass finds nothing more


def test_fix_and_optimise_on_trafford_improves_today_and_stays_feasible() -> None:
    estate = load_place("trafford")
    model = build_model(estate, Scenario(threads=1))
    arrays, cols, by_building = _search_parts(model)
    mailbox = Mailbox(arrays)
    mailbox.offer(arrays.vector(model.start), "today")
    first = mailbox.best()[1]
    plan = windows(estate.buildings.loc[list(model.keep)])
    stats = fix_and_optimise(
        arrays, mailbox, cols, by_building, plan, deadline=time.perf_counter() + FAR, max_passes=1
    )
    best, objective = mailbox.best()
    assert stats.passes == 1 and stats.windows_solved == len(plan[0])
    assert objective < first
    assert best is not None and arrays.violation(best) <= 1e-6
