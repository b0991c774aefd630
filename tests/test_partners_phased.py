"""The partner ledger of a phased plan (issue 12 with issue 11): per partner and per year.

The ledger in partners.csv is the programme's: each partner's NPV is the discounted sum of its
rows in partners_by_year.csv, occupancy charges included, and the partners add up to the
place's totals to the penny.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from estate.io import load_place
from optimiser.model_phased import discount
from optimiser.partners import ledger_mismatches, occupancy_rate_gbp_per_m2
from optimiser.plan import make_plan, with_phased_ledger, with_programme
from optimiser.programme import make_programme
from optimiser.report.inert import original_text
from optimiser.scenario import Scenario
from tests.recompute import check_written_plan
from tests.test_phased import PHASED, _run

FIRE, COUNCIL = "Greater Manchester Fire and Rescue Service", "Trafford Council"
HALL = "COUNCIL_E08000009"  # the council's offices, which receive the teams below


@pytest.fixture(scope="module")
def trafford():
    return load_place("trafford")


def _phased_plan(estate, scenario):
    """A hand-made programme on Trafford: the library LIB_0102 goes in year 0 and its teams
    move to the council's offices; the fire station FIRE_0002 goes in year 2, its prevention
    team moves to the council's offices in year 1 (a charge from the council to the fire
    service), its response team to FIRE_0032 in year 1."""
    occ = estate.occupiers
    moves = {("FIRE_0002_FP", HALL): [(1, 1.0)], ("FIRE_0002_FR", "FIRE_0032"): [(1, 1.0)]}
    moves |= {(a, HALL): [(0, 1.0)] for a in occ.index[occ["building_id"] == "LIB_0102"]}
    leave = {"LIB_0102": 0, "FIRE_0002": 2}
    keep = pd.Series(True, index=estate.buildings.index)
    keep[list(leave)] = False
    to = occ["building_id"].to_dict() | dict(moves)
    parts = pd.DataFrame(
        {
            "occupier_id": list(occ.index),
            "from_building_id": occ["building_id"].to_numpy(),
            "to_building_id": [to[a] for a in occ.index],
            "share": 1.0,
        }
    )
    plan = make_plan(estate, scenario, keep, parts)
    return with_phased_ledger(with_programme(plan, make_programme(estate, scenario, leave, moves)), estate)


@pytest.mark.parametrize("rule", ["owner", "pooled"])
def test_a_phased_ledger_is_the_programme_per_partner_and_adds_up(trafford, rule):
    scenario = Scenario(phased=True, receipt_lag_years=1, sharing_rule=rule)
    plan = _phased_plan(trafford, scenario)
    ledger = plan.partners.set_index("partner")
    by_year = plan.programme.partners_by_year
    cash = plan.programme.cashflow.set_index("year")
    assert ledger_mismatches(plan.partners, plan.kpis) == []
    assert ledger["npv_gbp"].sum() == pytest.approx(plan.programme.npv_gbp, abs=0.005)
    own = by_year.groupby("partner")["discounted_net_gbp"].sum()
    assert np.allclose(own.reindex(ledger.index, fill_value=0.0), ledger["owner_rule_npv_gbp"], atol=0.005)
    if rule == "owner":
        assert np.allclose(ledger["npv_gbp"], ledger["owner_rule_npv_gbp"], atol=0.005)
    # the partners' rows still add up to the cash flow, year by year (the charges cancel)
    per_year = by_year.groupby("year")[["receipts_gbp", "one_off_cost_gbp", "saving_gbp", "net_gbp"]].sum()
    for column in per_year.columns:
        assert np.allclose(per_year[column].to_numpy(), cash[column].to_numpy(), atol=0.005), column
    # the fire service pays the council for its prevention team from 2028 (moved in 2027) to the end
    rate = float(occupancy_rate_gbp_per_m2(trafford, scenario)[HALL])
    annual = rate * float(trafford.occupiers.at["FIRE_0002_FP", "space_m2"])
    start, years = scenario.start_year, scenario.years
    expected = sum(annual * discount(t, scenario.discount_rate) for t in range(2, years + 1))
    assert expected > 0
    assert ledger.at[FIRE, "occupancy_charges_paid_gbp"] == pytest.approx(expected, abs=0.005)
    assert ledger.at[COUNCIL, "occupancy_charges_received_gbp"] == pytest.approx(expected, abs=0.005)
    fire = by_year[by_year["partner"] == FIRE].set_index("year")
    assert fire.loc[start + 1, "occupancy_charges_paid_gbp"] == 0.0
    assert fire.loc[start + 2, "occupancy_charges_paid_gbp"] == pytest.approx(annual)
    # the one-off costs are the programme's (disposals, exits, moves), not discounted
    assert ledger["one_off_cost_gbp"].sum() == pytest.approx(cash["one_off_cost_gbp"].sum(), abs=0.005)


@pytest.mark.solver
def test_a_phased_run_writes_a_ledger_that_agrees_with_partners_by_year(tmp_path):
    out = tmp_path / "run"
    done = _run(
        "run", "--place", "trafford", "--scenario", str(PHASED), "--time-limit", "30", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    check_written_plan(out)  # the ledger adds up to the place's totals to the penny
    partners = pd.read_csv(out / "partners.csv")
    partners["partner"] = partners["partner"].map(original_text)
    by_year = pd.read_csv(out / "partners_by_year.csv")
    by_year["partner"] = by_year["partner"].map(original_text)
    cash = pd.read_csv(out / "cashflow.csv").set_index("year")
    summary = json.loads((out / "summary.json").read_text())
    rate = summary["phasing"]["discount_rate"]
    factor = by_year["year"].map(lambda y: (1 + rate) ** -(y - summary["phasing"]["start_year"]))
    net = (
        by_year["receipts_gbp"]
        - by_year["one_off_cost_gbp"]
        + by_year["saving_gbp"]
        + by_year["occupancy_charges_received_gbp"]
        - by_year["occupancy_charges_paid_gbp"]
    )
    assert np.allclose(net, by_year["net_gbp"], atol=0.005)
    own = (net * factor).groupby(by_year["partner"]).sum()
    npv = partners.set_index("partner")["npv_gbp"]
    assert np.allclose(own.reindex(npv.index, fill_value=0.0), npv, atol=0.01), pd.concat([own, npv], axis=1)
    assert npv.sum() == pytest.approx(summary["kpis"]["npv_gbp"], abs=0.005)
    assert npv.sum() == pytest.approx(cash["discounted_net_gbp"].sum(), abs=0.01)


@pytest.mark.parametrize("flag", [["--partnership"], ["--standalone", COUNCIL], ["--shapley"]])
def test_stand_alone_plans_of_a_phased_scenario_are_refused_before_any_solve(tmp_path, flag):
    done = _run("run", "--place", "trafford", "--scenario", str(PHASED), *flag, "--out", str(tmp_path / "o"))
    assert done.returncode == 2, done.stderr
    assert (
        "the phased model does not solve yet" in done.stderr
        and "Fix: set [phasing] phased = false" in done.stderr
    )
    assert "Traceback" not in done.stderr and not (tmp_path / "o" / "summary.json").exists()


def test_no_partner_worse_off_with_phasing_is_refused_with_a_message(tmp_path):
    scenario = tmp_path / "fair_phased.toml"
    scenario.write_text(PHASED.read_text() + '\n[partners]\nno_partner_worse_off = "zero"\n')
    done = _run("run", "--place", "trafford", "--scenario", str(scenario), "--out", str(tmp_path / "o"))
    assert done.returncode == 2, done.stderr
    assert "does not yet take a coalition or the no-partner-worse-off rule" in done.stderr
    assert "Traceback" not in done.stderr
