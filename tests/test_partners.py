"""Partners: the ledger adds up, stand-alone restriction, no-partner-worse-off rows, Shapley.

The estate is `three_building_estate` with owner types, an undiscounted 10-year appraisal and
every disposal a market sale (no community asset transfer):
Council owns A (hub, 1,000 m2, £100k/yr, worth £1m) and B (library, 300 m2, £60k/yr, £500k);
DWP owns C (200 m2, £40k/yr, £400k) with its own team c1 (100 m2). Moving costs £400/m2.
The joint optimum keeps A only (NPV £1,780k): B and C go, b1 (200 m2) and c1 move to A.

- owner rule, charge = A's running cost per m2 = £100/m2/yr: DWP pays 100 m2 x £100 x 10 =
  £100k to Council. Council: 600 + 500 - 80 + 100 = £1,120k; DWP: 400 + 400 - 40 - 100 = £660k.
- Council alone (C and c1 stay): B goes, b1 to A: £1,020k. DWP alone: c1 has nowhere to go: 0.
  Partnership value 1,780 - 1,020 - 0 = £760k.
- A charge of £1,000/m2/yr: DWP would pay £1,000k (NPV -£240k). No partner below zero: C must
  stay (B still goes): £1,020k in all, so the price of fairness is £760k.
- Shapley over {council, dwp}: v(council) = 1,020, v(dwp) = 0, v(both) = 1,780; council
  1/2 x 1,020 + 1/2 x 1,780 = 1,400, dwp 1/2 x 0 + 1/2 x 760 = 380. The owner split
  (1,120, 660) is in the core; transfers +280 to council, -280 from dwp.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from optimiser.errors import InfeasibleScenarioError, ScenarioError
from optimiser.model import build_model
from optimiser.partners import ledger_mismatches, partner_groups, pooled_key
from optimiser.partnership import coalition_plan, partnership_plan, solve_coalitions
from optimiser.pipeline import optimise, solve
from optimiser.scenario import Scenario
from optimiser.shapley import blocking_coalitions, run_shapley, shapley_values

BASE = Scenario(discount_rate=0.0, include_backlog=False, cat_services=())


@pytest.fixture
def estate(three_building_estate):
    b = three_building_estate.buildings.copy()
    b["owner_type"] = ["council", "council", "dwp"]
    return dataclasses.replace(three_building_estate, buildings=b)


def ledger(plan):
    return plan.partners.set_index("partner")


def test_the_ledger_follows_the_owner_rule_by_hand_and_adds_up(estate):
    plan = optimise(estate, BASE)
    assert plan.kpis["npv_gbp"] == pytest.approx(1_780_000)
    p = ledger(plan)
    assert p.at["Council", "occupancy_charges_received_gbp"] == pytest.approx(100_000)
    assert p.at["DWP", "occupancy_charges_paid_gbp"] == pytest.approx(100_000)
    assert p.at["Council", "move_cost_gbp"] == pytest.approx(80_000)
    assert p.at["DWP", "move_cost_gbp"] == pytest.approx(40_000)
    assert p.at["Council", "npv_gbp"] == pytest.approx(1_120_000)
    assert p.at["DWP", "npv_gbp"] == pytest.approx(660_000)
    assert p.at["Council", "buildings_before"] == 2 and p.at["Council", "buildings_after"] == 1
    assert p.at["DWP", "buildings_after"] == 0
    assert ledger_mismatches(plan.partners, plan.kpis) == []
    assert plan.summary_dict()["partners"]["DWP"]["npv_gbp"] == pytest.approx(660_000)


def test_the_ledger_check_finds_a_wrong_total(estate):
    plan = optimise(estate, BASE)
    wrong = plan.partners.assign(npv_gbp=plan.partners["npv_gbp"] + [0.01, 0.0])
    assert any("npv_gbp" in m for m in ledger_mismatches(wrong, plan.kpis))


def test_pooled_by_floor_area_shares_the_place_npv(estate):
    plan = optimise(estate, BASE.with_changes(sharing_rule="pooled", pooled_key="floor_area"))
    p = ledger(plan)
    assert p.at["Council", "npv_gbp"] == pytest.approx(1_780_000 * 1300 / 1500)
    assert p.at["DWP", "npv_gbp"] == pytest.approx(1_780_000 * 200 / 1500)
    assert p["pooled_transfer_gbp"].sum() == pytest.approx(0, abs=1e-6)
    assert ledger_mismatches(plan.partners, plan.kpis) == []
    assert pooled_key(estate, BASE.with_changes(pooled_key="equal")).tolist() == [0.5, 0.5]


def test_a_set_occupancy_charge_replaces_the_running_cost_rate(estate):
    plan = optimise(estate, BASE.with_changes(occupancy_charge_gbp_per_m2=1000.0))
    assert ledger(plan).at["DWP", "npv_gbp"] == pytest.approx(-240_000)


def test_a_stand_alone_model_moves_only_the_partners_teams_into_its_buildings(estate):
    council = build_model(estate, BASE, coalition=frozenset(["Council"]))
    assert council.fixed_keep["C"] is True
    assert council.keep_reason["C"] == "kept as it is: owned by DWP, not in the plan of Council"
    moves = council.pairs[~council.pairs["is_today"]]
    assert set(moves["occupier_id"]) <= {"a1", "b1"} and set(moves["building_id"]) <= {"A", "B"}
    assert council.fixed_host["c1"] == "C"
    dwp = build_model(estate, BASE, coalition=frozenset(["DWP"]))
    assert dwp.pairs["is_today"].all() and not dwp.keep  # nothing DWP may do: C houses c1
    assert solve(council).kpis["npv_gbp"] == pytest.approx(1_020_000)
    assert solve(dwp).kpis["npv_gbp"] == pytest.approx(0)


def test_a_stand_alone_plan_drops_locks_on_others_buildings_and_the_receipts_target(estate):
    scenario = BASE.with_changes(dispose=("C",), receipts_target_gbp=2_000_000)
    plan = coalition_plan(estate, scenario, ["Council"])
    assert plan.scenario.dispose == () and plan.scenario.receipts_target_gbp is None
    assert plan.buildings.set_index("building_id").at["C", "decision"] == "keep"


def test_an_unknown_partner_is_refused_naming_the_partners(estate):
    with pytest.raises(ScenarioError, match="unknown partner.*'Police'.*Council, DWP"):
        build_model(estate, BASE, coalition=frozenset(["Police"]))


def test_partnership_value_is_joint_less_stand_alone(estate):
    plan = partnership_plan(estate, BASE)
    f = plan.partnership
    assert f["partnership_value_gbp"] == pytest.approx(760_000)
    assert f["standalone_npv_total_gbp"] == pytest.approx(1_020_000)
    assert ledger(plan)["standalone_npv_gbp"].to_dict() == pytest.approx({"Council": 1_020_000, "DWP": 0})
    assert "price_of_fairness_gbp" not in f


def test_no_partner_below_zero_gives_up_hosting_and_prices_it(estate):
    scenario = BASE.with_changes(occupancy_charge_gbp_per_m2=1000.0, no_partner_worse_off="zero")
    plan = partnership_plan(estate, scenario)
    assert plan.kpis["npv_gbp"] == pytest.approx(1_020_000)
    assert plan.partnership["price_of_fairness_gbp"] == pytest.approx(760_000)
    assert (ledger(plan)["npv_gbp"] >= -1).all()
    model = build_model(estate, scenario)
    assert [c.name for c in model.problem.constraints() if c.name.startswith("fair_")] == ["fair_0", "fair_1"]


def test_the_standalone_rule_holds_each_partner_to_its_stand_alone_npv(estate):
    plan = partnership_plan(estate, BASE.with_changes(no_partner_worse_off="standalone"))
    p = ledger(plan)
    assert (p["npv_gbp"] >= p["standalone_npv_gbp"] - 1).all()
    assert plan.partnership["price_of_fairness_gbp"] == pytest.approx(0, abs=1)


def test_the_standalone_rule_needs_the_stand_alone_npvs(estate):
    with pytest.raises(ScenarioError, match="stand-alone NPV"):
        build_model(estate, BASE.with_changes(no_partner_worse_off="standalone"))


def test_a_rule_no_plan_can_meet_names_the_partner_and_its_shortfall(estate):
    scenario = BASE.with_changes(
        occupancy_charge_gbp_per_m2=1000.0, no_partner_worse_off="zero", dispose=("C",)
    )
    with pytest.raises(InfeasibleScenarioError) as err:
        optimise(estate, scenario)
    assert "DWP would be short by £240,000 of zero" in str(err.value)


def test_shapley_values_by_hand():
    worth = {frozenset("a"): 100.0, frozenset("b"): 200.0, frozenset("ab"): 600.0}
    assert shapley_values(["a", "b"], worth) == {"a": 250.0, "b": 350.0}
    assert blocking_coalitions(["a", "b"], worth, {"a": 50.0, "b": 550.0}) == [(frozenset("a"), 50.0)]
    assert blocking_coalitions(["a", "b"], worth, {"a": 99.5, "b": 500.5}) == []  # within £1
    three = {frozenset(s): float(len(s) ** 2) for s in ("a", "b", "c", "ab", "ac", "bc", "abc")}
    values = shapley_values(["a", "b", "c"], three)
    assert values == pytest.approx({"a": 3.0, "b": 3.0, "c": 3.0})


def test_shapley_on_the_tiny_estate(estate):
    plan = partnership_plan(estate, BASE)
    result = run_shapley(estate, BASE, plan)
    s = result.shapley.set_index("group")
    assert s["shapley_gbp"].to_dict() == pytest.approx({"council": 1_400_000, "dwp": 380_000})
    assert s["rule_share_gbp"].to_dict() == pytest.approx({"council": 1_120_000, "dwp": 660_000})
    assert s["transfer_gbp"].to_dict() == pytest.approx({"council": 280_000, "dwp": -280_000})
    assert result.in_core and result.blocked_by == []
    c = result.coalitions.set_index("coalition")
    assert list(c.index) == ["council", "dwp", "council+dwp"]
    assert c.at["council+dwp", "npv_gbp"] == pytest.approx(s["shapley_gbp"].sum())
    assert partner_groups(estate).to_dict() == {"Council": "council", "DWP": "dwp"}


def test_coalition_results_are_cached_on_disk(estate, tmp_path):
    coalitions = [frozenset(["Council"]), frozenset(["DWP"])]
    first = solve_coalitions(estate, BASE, coalitions, cache_dir=tmp_path)
    assert not any(r.cached for r in first.values()) and len(list(tmp_path.glob("*.json"))) == 2
    again = solve_coalitions(estate, BASE, coalitions, cache_dir=tmp_path)
    assert all(r.cached for r in again.values())
    assert {m: r.npv_gbp for m, r in again.items()} == {m: r.npv_gbp for m, r in first.items()}
    other = solve_coalitions(
        estate, BASE.with_changes(move_cost_gbp_per_m2=500.0), coalitions, cache_dir=tmp_path
    )
    assert not any(r.cached for r in other.values())


def test_the_ledger_has_the_documented_columns(estate):
    plan = optimise(estate, BASE)
    for column in (
        "npv_gbp",
        "standalone_npv_gbp",
        "occupancy_charges_paid_gbp",
        "occupancy_charges_received_gbp",
        "owner_rule_npv_gbp",
        "pooled_transfer_gbp",
        "group",
    ):
        assert column in plan.partners
    assert math.isnan(plan.partners["standalone_npv_gbp"].iloc[0])
    assert isinstance(plan.partners, pd.DataFrame)


def test_coalitions_on_dask_give_what_the_serial_solves_give(estate):
    coalitions = [frozenset(["Council"]), frozenset(["DWP"]), frozenset(["Council", "DWP"])]
    serial = solve_coalitions(estate, BASE, coalitions)
    on_dask = solve_coalitions(estate, BASE, coalitions, workers=1)
    assert {m: r.npv_gbp for m, r in on_dask.items()} == pytest.approx(
        {m: r.npv_gbp for m, r in serial.items()}
    )
    assert on_dask[frozenset(["Council", "DWP"])].npv_gbp == pytest.approx(1_780_000)


def test_a_saved_plan_keeps_its_partnership_figures(estate):
    from optimiser.plan import plan_from_saved

    plan = partnership_plan(estate, BASE)
    tables = {
        "buildings": plan.buildings,
        "occupiers": plan.occupiers,
        "access": plan.access,
        "partners": plan.partners,
    }
    back = plan_from_saved(plan.scenario, plan.summary_dict(), tables)
    assert back.summary_dict()["partnership_value_gbp"] == pytest.approx(760_000)
    assert back.partnership["joint_npv_gbp"] == pytest.approx(1_780_000)
