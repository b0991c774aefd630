"""Hand-worked estates: the optimum in the fixture's docstring is what the solver finds."""

from __future__ import annotations

import pytest

from optimiser.errors import InfeasibleScenarioError, ScenarioError
from optimiser.model import build_model, effective_capacity
from optimiser.pipeline import optimise, solve
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import make_solver
from tests.conftest import _building, _occupier, make_estate

UNDISCOUNTED = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20)

pytestmark = pytest.mark.solver


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_small_teams_move_into_the_big_hub(three_building_estate, solver):
    model = build_model(three_building_estate, UNDISCOUNTED)
    plan = solve(model, make_solver(solver, time_limit_s=20))
    decisions = plan.buildings.set_index("building_id")["decision"].to_dict()
    assert decisions == {"A": "keep", "B": "dispose", "C": "dispose"}
    hosts = plan.occupiers.set_index("occupier_id")["to_building_id"].to_dict()
    assert hosts == {"a1": "A", "b1": "A", "c1": "A"}
    assert plan.info.objective == pytest.approx(220.0)
    assert plan.proven_optimal


def test_kpis_of_the_hub_plan(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED)
    k = plan.kpis
    assert k["capital_receipts_gbp"] == pytest.approx(900_000)
    assert k["annual_revenue_saving_gbp"] == pytest.approx(100_000)
    assert k["one_off_cost_gbp"] == pytest.approx(120_000)  # 300 m2 x £400
    assert k["npv_gbp"] == pytest.approx(2_000_000 - 220_000)  # baseline - plan, in pounds
    assert k["payback_years"] == 0.0  # receipts cover the moves at once
    assert (k["buildings_before"], k["buildings_after"]) == (3, 1)


def test_saving_equals_baseline_minus_net_cost(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED)
    baseline_k = 10 * (100 + 60 + 40)
    assert plan.kpis["npv_gbp"] / 1000 == pytest.approx(baseline_k - plan.info.objective)


def test_every_disposed_building_has_a_reason_naming_its_route(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED)
    b = plan.buildings.set_index("building_id")
    assert b.at["B", "reason"].startswith("dispose by market sale: saves £60,000 a year")
    assert "b1 -> A" in b.at["B", "reason"]
    assert "receive" in b.at["A", "reason"]


def test_a_keep_lock_is_honoured(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED.with_changes(keep=("B",)))
    assert plan.buildings.set_index("building_id").at["B", "decision"] == "keep"
    assert plan.info.objective == pytest.approx(1000 + 600 - 400 + 40)


def test_a_dispose_lock_is_honoured(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED.with_changes(dispose=("C",), max_disposals=1))
    decisions = plan.buildings.set_index("building_id")["decision"].to_dict()
    assert decisions == {"A": "keep", "B": "keep", "C": "dispose"}


def test_protected_building_is_kept_even_when_it_would_go(three_building_estate):
    estate = three_building_estate
    b = estate.buildings.copy()
    b.loc["B", "protected"], b.loc["B", "protected_reason"] = True, "listed"
    from dataclasses import replace

    plan = optimise(replace(estate, buildings=b), UNDISCOUNTED)
    row = plan.buildings.set_index("building_id").loc["B"]
    assert row["decision"] == "keep"
    assert row["reason"] == "protected: listed"


def test_unknown_lock_is_a_scenario_error(three_building_estate):
    with pytest.raises(ScenarioError, match="not in the estate: NOPE"):
        build_model(three_building_estate, UNDISCOUNTED.with_changes(keep=("NOPE",)))


def test_max_disposals_limits_the_plan(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED.with_changes(max_disposals=1))
    assert (plan.buildings["decision"] == "dispose").sum() == 1
    assert plan.info.objective == pytest.approx(980.0)  # keep A + C beats keep A + B


def test_capital_budget_limits_one_off_costs(three_building_estate):
    plan = optimise(three_building_estate, UNDISCOUNTED.with_changes(capital_budget_gbp=50_000))
    assert plan.kpis["one_off_cost_gbp"] <= 50_000 + 1e-6
    assert plan.info.objective == pytest.approx(1240.0)  # only the £40k customer-service move fits


def test_splittable_occupier_can_be_split(three_building_estate):
    from dataclasses import replace

    estate = three_building_estate
    occ = estate.occupiers.copy()
    occ.loc["a1", "space_m2"] = 1100.0  # too big for A alone once others arrive
    occ.loc["a1", "splittable"] = True
    b = estate.buildings.copy()
    b.loc["A", ["capacity_m2", "gia_m2"]] = 1100.0
    plan = optimise(replace(estate, buildings=b, occupiers=occ), UNDISCOUNTED)
    shares = plan.occupiers.groupby("occupier_id")["share"].sum()
    assert shares.to_dict() == pytest.approx({"a1": 1.0, "b1": 1.0, "c1": 1.0})


def test_without_access_rules_one_library_closes(two_library_estate):
    scenario = UNDISCOUNTED.with_changes(access_enabled=False, max_move_km=8)
    plan = optimise(two_library_estate, scenario)
    assert plan.buildings.set_index("building_id")["decision"].to_dict() == {"L1": "keep", "L2": "dispose"}


def test_keep_current_access_keeps_both_libraries(two_library_estate):
    plan = optimise(two_library_estate, UNDISCOUNTED.with_changes(max_move_km=8))
    assert set(plan.buildings["decision"]) == {"keep"}
    access = plan.access.set_index("service").loc["library"]
    assert access["before_population"] == access["after_population"] == 2700


def test_min_share_lets_the_smaller_zone_lose_reach(two_library_estate):
    standard = AccessStandard("library", reach_km=3, rule="min_share", min_share=0.5)
    plan = optimise(two_library_estate, UNDISCOUNTED.with_changes(max_move_km=8, access=(standard,)))
    assert plan.buildings.set_index("building_id").at["L2", "decision"] == "dispose"
    assert plan.access.set_index("service").at["library", "after_population"] == 1500


def test_deprived_protection_holds_under_min_share(two_library_estate):
    # Z1 (decile 1) is protected; making L1 dearer would otherwise close it
    from dataclasses import replace

    b = two_library_estate.buildings.copy()
    b.loc["L1", "running_cost_gbp"] = 90_000.0
    estate = replace(two_library_estate, buildings=b)
    standard = AccessStandard(
        "library", reach_km=3, rule="min_share", min_share=0.4, protect_deprived_deciles=2
    )
    plan = optimise(estate, UNDISCOUNTED.with_changes(max_move_km=8, access=(standard,)))
    assert plan.buildings.set_index("building_id")["decision"].to_dict() == {"L1": "keep", "L2": "dispose"}


def test_impossible_share_is_diagnosed_with_numbers(two_library_estate):
    standard = AccessStandard("library", reach_km=3, rule="min_share", min_share=0.9)
    scenario = UNDISCOUNTED.with_changes(max_move_km=8, access=(standard,), dispose=("L2",))
    with pytest.raises(
        InfeasibleScenarioError, match=r"library access: 55\.6% of population reachable.*asks 90%"
    ):
        optimise(two_library_estate, scenario)


def test_impossible_keep_current_is_diagnosed_naming_the_zone(two_library_estate):
    scenario = UNDISCOUNTED.with_changes(max_move_km=8, dispose=("L2",))
    with pytest.raises(
        InfeasibleScenarioError, match=r"library access \(keep_current\): 1 zone\(s\) with 1,200 people.*Z2"
    ):
        optimise(two_library_estate, scenario)


def test_locking_out_an_occupier_with_nowhere_to_go_fails_before_solving(two_library_estate):
    scenario = UNDISCOUNTED.with_changes(max_move_km=1, dispose=("L2",))
    with pytest.raises(InfeasibleScenarioError, match="occupier lib2 .* locked out"):
        build_model(two_library_estate, scenario)


def test_time_limited_solve_is_never_reported_optimal(two_library_estate):
    plan = optimise(two_library_estate, UNDISCOUNTED.with_changes(max_move_km=8))
    if plan.info.status == "optimal":
        assert plan.proven_optimal
    assert plan.status_words.startswith("proven optimal")


# ------------------------------------------------------------------------------------------
# pre-solve checks use the model's own rules (false "infeasible" before)
# ------------------------------------------------------------------------------------------
def _office(bid: str, x: float, cap: float | None, **kw):
    return _building(bid, x, 400000, cap, 50_000, 200_000, "office", **kw)


def test_an_estate_over_full_today_is_not_refused():
    # stated capacity 300 + 100 = 400 m2 < 550 m2 used; the model lets B stay as full as it is
    estate = make_estate(
        [_office("A", 380000, 300), _office("B", 380500, 100)],
        [_occupier("a", "A", 300), _occupier("b", "B", 250)],
    )
    assert effective_capacity(estate).to_dict() == {"A": 300.0, "B": 250.0}
    plan = optimise(estate, UNDISCOUNTED)
    assert plan.proven_optimal
    assert plan.buildings.set_index("building_id")["decision"].to_dict() == {"A": "keep", "B": "keep"}


def test_a_building_with_no_capacity_or_area_is_not_counted_as_empty():
    # F has neither capacity nor gia, so it is fixed and keeps its 200 m2 team: not 0 m2 of room
    estate = make_estate(
        [_office("A", 380000, 100), _office("F", 380500, None, gia_m2=None)],
        [_occupier("a", "A", 100), _occupier("f", "F", 200)],
    )
    assert bool(estate.buildings.at["F", "fixed"])
    plan = optimise(estate, UNDISCOUNTED)
    assert plan.proven_optimal
    assert plan.buildings.set_index("building_id").at["F", "decision"] == "keep"


def test_the_capacity_check_counts_what_the_model_counts():
    # B is over-full today (250 m2 in 100 m2); locking A out leaves B's 250 m2 for 550 m2
    estate = make_estate(
        [_office("A", 380000, 300), _office("B", 380500, 100)],
        [_occupier("a", "A", 300), _occupier("b", "B", 250)],
    )
    with pytest.raises(InfeasibleScenarioError, match=r"need 550 m2 but the buildings allowed offer 250 m2"):
        build_model(estate, UNDISCOUNTED.with_changes(dispose=("A",)))


def test_forced_moves_that_overfill_a_building_are_refused_before_solving():
    # X is locked out; its two teams can only go to Y (Z is too far), 150 m2 into 120 m2 of room
    estate = make_estate(
        [_office("X", 380000, 500), _office("Y", 380500, 130), _office("Z", 400000, 900)],
        [_occupier("x1", "X", 75), _occupier("x2", "X", 75), _occupier("y", "Y", 10, movable=False)],
    )
    with pytest.raises(InfeasibleScenarioError, match=r"capacity of Y: .* need 160 m2 but it holds 130 m2"):
        build_model(estate, UNDISCOUNTED.with_changes(dispose=("X",)))


def test_forced_moves_count_against_the_capital_budget():
    # X is locked out and its 100 m2 team must move to Y: £40k of moving against a £10k budget
    estate = make_estate([_office("X", 380000, 500), _office("Y", 380500, 500)], [_occupier("a", "X", 100)])
    with pytest.raises(InfeasibleScenarioError, match=r"capital budget: missed by 30\.0 £k"):
        optimise(estate, UNDISCOUNTED.with_changes(dispose=("X",), capital_budget_gbp=10_000))
    plan = optimise(estate, UNDISCOUNTED.with_changes(dispose=("X",), capital_budget_gbp=40_000))
    assert plan.kpis["one_off_cost_gbp"] == pytest.approx(40_000)


def test_a_forced_arrival_keeps_out_a_service_it_may_not_share_with():
    # the library must leave X for Y; police (no compatibility) may then not arrive at Y too
    estate = make_estate(
        [
            _office("X", 380000, 500),
            _office("Y", 380500, 500),
            _office("Z", 381000, 500, running_cost_gbp=90_000),
        ],
        [_occupier("lib", "X", 100, service="library"), _occupier("pol", "Z", 100, service="police")],
    )
    plan = optimise(estate, UNDISCOUNTED.with_changes(dispose=("X",)))
    hosts = plan.occupiers.set_index("occupier_id")["to_building_id"].to_dict()
    assert hosts == {"lib": "Y", "pol": "Z"}


def test_two_forced_arrivals_that_may_not_share_are_refused_before_solving():
    estate = make_estate(
        [_office("X", 380000, 500), _office("Y", 380500, 500), _office("Z", 400000, 500)],
        [_occupier("lib", "X", 100, service="library"), _occupier("pol", "X", 100, service="police")],
    )
    with pytest.raises(
        InfeasibleScenarioError, match=r"lib \(library\) and pol \(police\) can only move to Y"
    ):
        build_model(estate, UNDISCOUNTED.with_changes(dispose=("X",)))


@pytest.mark.parametrize(
    ("service", "why"),
    [
        ("swimming", "no occupier provides it"),
        ("council_office", r"its 1 occupier\(s\) are not public-facing"),
    ],
)
def test_a_min_share_for_a_service_nobody_offers_is_impossible(service, why):
    # it used to be dropped without a word, and the plan reported as meeting every standard
    estate = make_estate(
        [_office("A", 380000, 500)],
        [_occupier("hq", "A", 100), _occupier("lib", "A", 100, service="library", public_facing=True)],
        zones=[{"zone_id": "Z1", "x": 380300, "y": 400000, "population": 1500}],
    )
    standard = AccessStandard(service, reach_km=3, rule="min_share", min_share=0.5)
    with pytest.raises(InfeasibleScenarioError, match=rf"{service} access: standard asks 50% .*: {why}"):
        build_model(estate, UNDISCOUNTED.with_changes(access=(standard,)))


def test_a_zero_min_share_for_a_service_nobody_offers_is_met(two_library_estate):
    standard = AccessStandard("swimming", reach_km=3, rule="min_share", min_share=0.0)
    plan = optimise(two_library_estate, UNDISCOUNTED.with_changes(access=(standard,)))
    assert plan.proven_optimal
