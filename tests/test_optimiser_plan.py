"""Hand-worked estates: the optimum in the fixture's docstring is what the solver finds."""

from __future__ import annotations

import pytest

from optimiser.errors import InfeasibleScenarioError, ScenarioError
from optimiser.model import build_model
from optimiser.plan import optimise, solve
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import make_solver

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
