"""One test per constraint family of the model (optimiser.model) on tiny hand-made estates.

Each test reads the family's row from the built PuLP problem (its exact coefficients and
right-hand side, in £k, m2, people or tCO2e) and then solves to show the row at work: it forces
a keep, forbids a pairing, keeps a site or is met with no room to spare.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from estate import Estate
from optimiser import pipeline
from optimiser.errors import InfeasibleScenarioError
from optimiser.model import EstateModel, build_model
from optimiser.pipeline import solve
from optimiser.plan import Plan
from optimiser.scenario import AccessStandard, Scenario
from tests.conftest import _building, _occupier, make_estate

pytestmark = pytest.mark.solver

UNDISCOUNTED = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20, mip_gap=1e-9)


def row(model: EstateModel, name: str) -> tuple[dict[str, float], float | None, float | None]:
    """A row of the model: coefficients by variable name, lower and upper bound."""
    constraint = model.problem.get_constraint_by_name(name)
    return {v.name: float(c) for v, c in constraint.items()}, constraint.getLb(), constraint.getUb()


def slack(model: EstateModel, name: str) -> float:
    """How far the solved row is from its bound (0: binding)."""
    constraint = model.problem.get_constraint_by_name(name)
    lhs = sum(c * (v.varValue or 0.0) for v, c in constraint.items())
    bound = constraint.getUb() if constraint.getUb() is not None else constraint.getLb()
    return abs(lhs - float(bound))


def names(model: EstateModel, *prefixes: str) -> list[str]:
    """The model's rows whose names start with one of `prefixes`."""
    return [c.name for c in model.problem.constraints() if c.name.startswith(prefixes)]


def decisions(plan: Plan) -> dict[str, str]:
    return dict(plan.buildings.set_index("building_id")["decision"])


# ------------------------------------------------------------------ 1-2 housed and open
def test_housed_once_and_only_in_kept_buildings(three_building_estate):
    # a1 (300 m2 office) fits nowhere else, so A is kept before the solve and a1 has no variable
    model = build_model(three_building_estate, UNDISCOUNTED)
    assert model.fixed_keep == {"A": True} and model.fixed_host == {"a1": "A"}
    assert row(model, "housed_b1") == ({"move_b1_B": 1.0, "move_b1_A": 1.0}, 1.0, 1.0)
    assert row(model, "housed_c1") == ({"move_c1_C": 1.0, "move_c1_A": 1.0}, 1.0, 1.0)
    assert row(model, "open_b1_B") == ({"move_b1_B": 1.0, "keep_B": -1.0}, None, 0.0)
    assert not names(model, "open_b1_A")  # A is a constant (kept)
    plan = solve(model)
    # the conftest docstring's optimum: keep A only, 220 £k
    assert decisions(plan) == {"A": "keep", "B": "dispose", "C": "dispose"}
    assert plan.info.objective == pytest.approx(220.0)
    assert model.move[("b1", "B")].varValue == 0 and model.move[("b1", "A")].varValue == 1


# ------------------------------------------------------------------ 3 capacity
def _capacity_estate(p_capacity: float) -> Estate:
    """P (cheap) and Q (dear), 1 km apart; p1 (200 m2, splittable) in P, q1 (100 m2) in Q.

    Q holds 250 m2: p1 and q1 together (300 m2) do not fit, so P cannot go. With P holding
    280 m2 they do not fit there either, so Q cannot go: capacity forces both to be kept. With
    P holding 300 m2, Q (the dear one) goes.
    """
    buildings = [
        _building("P", 380000, 400000, p_capacity, 10_000, 0, "office"),
        _building("Q", 381000, 400000, 250, 100_000, 0, "office"),
    ]
    occupiers = [_occupier("p1", "P", 200, splittable=True), _occupier("q1", "Q", 100)]
    return make_estate(buildings, occupiers)


def test_capacity_row_and_it_forces_a_keep():
    model = build_model(_capacity_estate(280), UNDISCOUNTED)
    assert row(model, "capacity_P") == (
        {"share_p1_P": 200.0, "move_q1_P": 100.0, "keep_P": -280.0},
        None,
        0.0,
    )
    assert row(model, "capacity_Q") == (
        {"share_p1_Q": 200.0, "move_q1_Q": 100.0, "keep_Q": -250.0},
        None,
        0.0,
    )
    # the splittable p1 gets no conflict or clique rows: capacity alone decides
    assert not names(model, "conflict_", "big_")
    plan = solve(model)
    assert decisions(plan) == {"P": "keep", "Q": "keep"}
    roomy = solve(build_model(_capacity_estate(300), UNDISCOUNTED))
    assert decisions(roomy) == {"P": "keep", "Q": "dispose"}
    assert roomy.info.objective == pytest.approx(10 * 10 + 100 * 400 / 1000)  # P's running + q1's move


# ------------------------------------------------------------------ 4 mix
def _mix_estate(*, may_share: bool) -> Estate:
    """Hub H (cheap, 1,000 m2) with a council office; X (library) and Y (police) 2 km either side."""
    buildings = [
        _building("H", 382000, 400000, 1000, 10_000, 0, "office"),
        _building("X", 380000, 400000, 200, 100_000, 0, "office"),
        _building("Y", 384000, 400000, 200, 100_000, 0, "office"),
    ]
    occupiers = [
        _occupier("h1", "H", 100),
        _occupier("x1", "X", 100, "library"),
        _occupier("y1", "Y", 100, "police"),
    ]
    compatibility = [
        {"service": "library", "host_service": "council_office"},
        {"service": "police", "host_service": "council_office"},
    ]
    if may_share:
        compatibility.append({"service": "police", "host_service": "library"})
    return make_estate(buildings, occupiers, compatibility=compatibility)


def test_mix_row_forbids_a_pairing():
    model = build_model(_mix_estate(may_share=False), UNDISCOUNTED)
    assert row(model, "mix_H_x1_y1") == ({"move_x1_H": 1.0, "move_y1_H": 1.0}, None, 1.0)
    plan = solve(model)
    kept = decisions(plan)
    assert kept["H"] == "keep" and sorted([kept["X"], kept["Y"]]) == ["dispose", "keep"]
    assert slack(model, "mix_H_x1_y1") == pytest.approx(0.0)
    shared = build_model(_mix_estate(may_share=True), UNDISCOUNTED)
    assert not names(shared, "mix_")
    assert decisions(solve(shared)) == {"H": "keep", "X": "dispose", "Y": "dispose"}


# ------------------------------------------------------------------ 5 conflict
def test_conflict_row_a_mover_arrives_only_if_the_resident_leaves():
    """P (cheap, 300 m2) houses p1 (220 m2); Q (dear, 300 m2) houses q1 (100 m2). 220 + 100 >
    300, so neither building can take the other's occupier: both are kept."""
    estate = make_estate(
        [
            _building("P", 380000, 400000, 300, 10_000, 0, "office"),
            _building("Q", 381000, 400000, 300, 100_000, 0, "office"),
        ],
        [_occupier("p1", "P", 220), _occupier("q1", "Q", 100)],
    )
    model = build_model(estate, UNDISCOUNTED)
    expected = {"move_q1_P": 1.0, "move_p1_P": 1.0, "keep_P": -1.0}
    assert row(model, "conflict_P_q1_p1") == (expected, None, 0.0)
    assert row(model, "conflict_Q_p1_q1") == ({"move_p1_Q": 1.0, "move_q1_Q": 1.0, "keep_Q": -1.0}, None, 0.0)
    assert model.stats["conflict_rows"] == 2
    assert not names(model, "big_")  # only p1 is over half
    plan = solve(model)
    assert decisions(plan) == {"P": "keep", "Q": "keep"}
    assert slack(model, "conflict_P_q1_p1") == pytest.approx(0.0)  # p1 stays, keep_P = 1


# ------------------------------------------------------------------ 6 big occupiers
def test_big_occupier_row_at_most_one_over_half_the_room():
    """Hub H (300 m2, empty, cheap) 3 km from X and from Y (dear, 7.8 km road apart); x1 and y1
    (160 m2 each) are both over half of H, so at most one moves in."""
    buildings = [
        _building("X", 380000, 400000, 200, 100_000, 0, "office"),
        _building("H", 383000, 400000, 300, 10_000, 0, "office"),
        _building("Y", 386000, 400000, 200, 100_000, 0, "office"),
    ]
    model = build_model(
        make_estate(buildings, [_occupier("x1", "X", 160), _occupier("y1", "Y", 160)]), UNDISCOUNTED
    )
    assert row(model, "big_H") == ({"move_x1_H": 1.0, "move_y1_H": 1.0, "keep_H": -1.0}, None, 0.0)
    assert model.stats["clique_rows"] == 1
    plan = solve(model)
    kept = decisions(plan)
    assert kept["H"] == "keep" and sorted([kept["X"], kept["Y"]]) == ["dispose", "keep"]
    assert slack(model, "big_H") == pytest.approx(0.0)


# ------------------------------------------------------------------ 7-8 serve and access
def test_serve_and_access_rows_keep_a_site(two_library_estate):
    scenario = UNDISCOUNTED.with_changes(max_move_km=8)
    model = build_model(two_library_estate, scenario)
    assert row(model, "serve_L2_library") == (
        {"move_lib1_L2": -1.0, "move_lib2_L2": -1.0, "serve_L2_library": 1.0},
        None,
        0.0,
    )
    assert row(model, "serve_open_L2_library") == ({"serve_L2_library": 1.0, "keep_L2": -1.0}, None, 0.0)
    # Z1 reaches only L1 (group 0), Z2 only L2 (group 1)
    assert model.access["library"].groups == {0: ("L1",), 1: ("L2",)}
    assert row(model, "access_library_0") == ({"serve_L1_library": 1.0}, 1.0, None)
    assert row(model, "access_library_1") == ({"serve_L2_library": 1.0}, 1.0, None)
    plan = solve(model)
    assert decisions(plan) == {"L1": "keep", "L2": "keep"}  # without access, L2 goes
    assert slack(model, "access_library_1") == pytest.approx(0.0)
    free = solve(build_model(two_library_estate, scenario.with_changes(access_enabled=False)))
    assert decisions(free) == {"L1": "keep", "L2": "dispose"}


# ------------------------------------------------------------------ 9 reached and share
@pytest.mark.parametrize(("min_share", "l2"), [(0.5, "dispose"), (0.6, "keep")])
def test_share_rows_keep_enough_people_in_reach(two_library_estate, min_share, l2):
    standard = AccessStandard("library", reach_km=3, rule="min_share", min_share=min_share)
    model = build_model(two_library_estate, UNDISCOUNTED.with_changes(max_move_km=8, access=(standard,)))
    assert row(model, "reached_library_0") == (
        {"serve_L1_library": -1.0, "reached_library_0": 1.0},
        None,
        0.0,
    )
    assert row(model, "reached_library_1") == (
        {"serve_L2_library": -1.0, "reached_library_1": 1.0},
        None,
        0.0,
    )
    # Z1 has 1,500 people, Z2 1,200: at least min_share of 2,700
    terms, lower, upper = row(model, "share_library")
    assert terms == {"reached_library_0": 1500.0, "reached_library_1": 1200.0}
    assert (lower, upper) == (pytest.approx(min_share * 2700), None)
    assert not names(model, "access_")  # no zone is protected
    # 1,500 people (L1 alone) meet 50% (1,350) but not 60% (1,620)
    assert decisions(solve(model)) == {"L1": "keep", "L2": l2}


# ------------------------------------------------------------------ 10 limits
def test_max_disposals_row_and_it_binds(three_building_estate):
    model = build_model(three_building_estate, UNDISCOUNTED.with_changes(max_disposals=1))
    # -(keep_B + keep_C) <= 1 - 2 free buildings - 0 locked out
    assert row(model, "max_disposals") == ({"keep_B": -1.0, "keep_C": -1.0}, None, -1.0)
    plan = solve(model)
    assert decisions(plan) == {"A": "keep", "B": "dispose", "C": "keep"}  # A+C = 980 beats A+B = 1,240
    assert plan.info.objective == pytest.approx(980.0)
    assert slack(model, "max_disposals") == pytest.approx(0.0)


def test_capital_budget_and_receipts_target_rows(three_building_estate):
    # moves: b1 200 m2 x £400 = 80 £k, c1 100 m2 = 40 £k; no disposal costs or lease exits
    scenario = UNDISCOUNTED.with_changes(capital_budget_gbp=50_000, receipts_target_gbp=400_000)
    model = build_model(three_building_estate, scenario)
    assert row(model, "capital_budget") == (
        {"keep_B": 0.0, "keep_C": 0.0, "move_b1_A": 80.0, "move_c1_A": 40.0},
        None,
        50.0,
    )
    # receipts: B 500, C 400 £k when disposed: -500 keep_B - 400 keep_C >= 400 - 900
    assert row(model, "receipts_target") == ({"keep_B": -500.0, "keep_C": -400.0}, -500.0, None)
    plan = solve(model)
    # the budget lets only c1 move: C goes (receipt 400, exactly the target), B stays
    assert decisions(plan) == {"A": "keep", "B": "keep", "C": "dispose"}
    assert plan.info.objective == pytest.approx(1240.0)
    assert slack(model, "receipts_target") == pytest.approx(0.0)
    # 450 £k of receipts needs B sold (500), whose move (80) is 30 over the budget; C alone (400)
    # misses the target by 50: the diagnosis names the smaller miss
    with pytest.raises(InfeasibleScenarioError, match=r"capital budget: missed by 30\.0 £k"):
        solve(build_model(three_building_estate, scenario.with_changes(receipts_target_gbp=450_000)))


def test_carbon_cap_row_and_it_binds(three_building_estate):
    b = three_building_estate.buildings.copy()
    b["carbon_tco2e"] = [50.0, 10.0, 30.0]  # A, B, C
    estate = replace(three_building_estate, buildings=b)
    model = build_model(estate, UNDISCOUNTED.with_changes(max_disposals=1, carbon_cap_tco2e=60))
    # kept carbon: A's 50 is a constant, so 10 keep_B + 30 keep_C <= 60 - 50
    assert row(model, "carbon_cap") == ({"keep_B": 10.0, "keep_C": 30.0}, None, 10.0)
    plan = solve(model)
    # one disposal only, and the cap rules out keeping C: B stays, C goes (1,240, not 980)
    assert decisions(plan) == {"A": "keep", "B": "keep", "C": "dispose"}
    assert plan.info.objective == pytest.approx(1240.0)
    assert slack(model, "carbon_cap") == pytest.approx(0.0)


# ------------------------------------------------------------------ the search beside the solve
@pytest.mark.parametrize("cores", [1, 2])
def test_the_search_beside_the_solve_leaves_the_model_as_it_was(three_building_estate, monkeypatch, cores):
    b = three_building_estate.buildings.copy()
    b["borough"] = ["North", "North", "South"]  # two windows by borough, then grid cells
    estate = replace(three_building_estate, buildings=b)
    monkeypatch.setattr(pipeline, "LARGE_MODEL_MOVES", 0)  # search even on a tiny model
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: cores)  # beside it, or first on one core
    built: list[EstateModel] = []
    monkeypatch.setattr(
        pipeline, "build_model", lambda *a, **k: built.append(build_model(*a, **k)) or built[-1]
    )
    plan = pipeline.optimise(estate, UNDISCOUNTED.with_changes(time_limit_s=600))
    model = built[0]
    assert [(v.lowBound, v.upBound) for v in model.problem.variables()] == [
        (v.lowBound, v.upBound) for v in build_model(estate, UNDISCOUNTED).problem.variables()
    ]
    # today's estate (keep all: 2,000 £k) searched and solved to the optimum, keep A only (220 £k)
    assert plan.info.objective == pytest.approx(220.0) and plan.proven_optimal
    assert plan.info.extra["search_from"] == pytest.approx(2000.0)
    assert plan.info.extra["search_beside_solve"] == int(cores >= 2)
    assert plan.info.extra["search_best"] >= 220.0 - 1e-6
