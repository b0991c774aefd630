"""Scenarios: checked on creation, read from and written to TOML, documented in full."""

from __future__ import annotations

from dataclasses import fields

import pytest

from optimiser.errors import ScenarioError
from optimiser.scenario import SECTIONS, AccessStandard, Scenario
from tests.conftest import REPO


def test_default_scenario_round_trips_through_toml(tmp_path):
    scenario = Scenario(
        name="x",
        keep=("A",),
        capital_budget_gbp=1e6,
        access=(AccessStandard("library", reach_km=3, rule="min_share", min_share=0.9),),
    )
    path = tmp_path / "s.toml"
    path.write_text(scenario.to_toml())
    assert Scenario.from_toml(path) == scenario


def test_bundled_scenarios_load():
    for path in (REPO / "data" / "scenarios").glob("*.toml"):
        Scenario.from_toml(path)
    assert Scenario.from_toml(REPO / "data" / "scenarios" / "default.toml") == Scenario()


def test_unknown_key_is_an_error_naming_it(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[costs]\nmove_cost_per_m2 = 5\n")
    with pytest.raises(ScenarioError, match=r"\[costs\] has unknown key 'move_cost_per_m2'"):
        Scenario.from_toml(path)


def test_unknown_section_is_an_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[cost]\nx = 1\n")
    with pytest.raises(ScenarioError, match="unknown key.*cost"):
        Scenario.from_toml(path)


def test_not_toml_is_an_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("years = = 3\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.from_toml(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"discount_rate": 1.5}, "discount_rate"),
        ({"years": 0}, "years"),
        ({"cat_discount": 2}, "cat_discount"),
        ({"keep": ("A",), "dispose": ("A",)}, "locked both in and out: A"),
        ({"keep": ("B-1",)}, "lock IDs must match"),
        ({"solver": "gurobi"}, "solver"),
        ({"capital_budget_gbp": -1}, "capital_budget_gbp"),
    ],
)
def test_bad_values_are_refused(change, message):
    with pytest.raises(ScenarioError, match=message):
        Scenario(**change)


def test_access_standard_needs_exactly_one_reach():
    with pytest.raises(ScenarioError, match="exactly one of `reach_km` or `reach_min`"):
        AccessStandard("library")


def test_unsupported_rule_is_refused_plainly():
    with pytest.raises(ScenarioError, match="max_mean_increase.*not supported"):
        AccessStandard("library", reach_km=3, rule="max_mean_increase")


def test_annuity_factor_matches_the_green_book_formula():
    assert Scenario(years=10, discount_rate=0.035).annuity_factor == pytest.approx(8.316605, rel=1e-6)
    assert Scenario(years=10, discount_rate=0.0).annuity_factor == 10


def test_every_scenario_field_is_documented():
    doc = (REPO / "docs" / "scenario.md").read_text()
    documented = {f.name for f in fields(Scenario)} - {"extra", "access", "access_enabled"}
    missing = [name for name in documented if f"`{name}`" not in doc]
    assert not missing, missing
    assert all(f"[{section}]" in doc for section in SECTIONS)
