"""The union of the stand-alone plans as the joint solve's start (`optimiser.partnership.UnionStart`)."""

from __future__ import annotations

import pytest

from estate.io import load_place
from optimiser.highs import HighsArrays
from optimiser.model import build_model
from optimiser.partnership import UnionStart, partnership_plan, standalone_results
from optimiser.scenario import Scenario
from optimiser.search import FEASIBILITY_TOL

HALL = "COUNCIL_E08000009"


@pytest.fixture(scope="module")
def trafford():
    return load_place("trafford")


@pytest.mark.solver
def test_the_union_of_trafford_stand_alone_plans_starts_the_joint_solve_at_their_sum(trafford):
    scenario = Scenario()
    standalone = standalone_results(trafford, scenario)
    union = UnionStart.of(standalone)
    model = build_model(trafford, scenario)
    start = union(model)
    assert start is not None and union.status == "used" and union.given_up_gbp == 0.0
    arrays = HighsArrays.from_problem(model.problem)
    assert arrays.violation(arrays.vector(start)) <= FEASIBILITY_TOL
    # the objective is separable by partner: the union is worth the sum of the stand-alone NPVs
    total = sum(r.npv_gbp for r in standalone.values())
    assert total > 0
    assert model.today_cost - union.objective_k == pytest.approx(total / 1000, abs=1e-3)
    plan = partnership_plan(trafford, scenario)
    f = plan.partnership
    assert f["joint_start"] == "used"
    assert f["partnership_value_low_gbp"] <= f["partnership_value_gbp"] <= f["partnership_value_high_gbp"]
    assert f["joint_npv_gbp"] >= total - 0.01


def test_a_union_that_breaks_access_rows_is_repaired_by_keeping_back_the_sites_they_name(trafford):
    model = build_model(trafford, Scenario(warm_start=False))
    libraries = sorted(b for b in model.keep if b.startswith("LIB_"))
    occ = trafford.occupiers
    teams = occ.index[occ["building_id"].isin(libraries)]
    moved = tuple((a, HALL, 1.0) for a in teams if (a, HALL) in model.move)
    assert len(libraries) > 3 and moved
    union = UnionStart(frozenset(libraries), moved)  # every library closed: access is broken
    arrays = HighsArrays.from_problem(model.problem)
    start = union(model)
    assert start is not None, union.status
    assert union.status.startswith("used after keeping back"), union.status
    assert arrays.violation(arrays.vector(start)) <= FEASIBILITY_TOL
    assert 0 < len(union.kept_back) < len(libraries)
    assert set(union.kept_back) <= set(libraries)
    assert union.given_up_gbp > 0  # keeping a library back costs its running cost
