"""Where compared options differ: decisions and constraints in plain words, and same-place defaults."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimiser.report.differences import (
    Option,
    constraint_differences,
    decision_differences,
    same_place_defaults,
)
from optimiser.scenario import AccessStandard, Scenario


def _buildings(decisions: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "building_id": list(decisions),
            "name": [f"{b.title()} House" for b in decisions],
            "decision": list(decisions.values()),
        }
    )


def _occupiers(to: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "occupier_id": list(to),
            "service": ["gp_practice"] * len(to),
            "from_building_id": [f for f, _ in to.values()],
            "to_building_id": [t for _, t in to.values()],
        }
    )


def test_buildings_kept_in_one_and_disposed_of_in_another_are_named():
    a = Option("A", Scenario(), _buildings({"b1": "keep", "b2": "keep", "b3": "dispose"}))
    b = Option("B", Scenario(), _buildings({"b1": "keep", "b2": "dispose", "b3": "keep"}))
    assert decision_differences([a, b]) == [
        "Kept in A, disposed of in B (1 building): B2 House (b2)",
        "Kept in B, disposed of in A (1 building): B3 House (b3)",
    ]


def test_the_same_plans_have_no_decision_differences():
    a = Option("A", Scenario(), _buildings({"b1": "keep"}), _occupiers({"o1": ("b1", "b1")}))
    assert decision_differences([a, a]) == []


def test_moves_that_differ_say_where_each_option_sends_the_occupier():
    blds = _buildings({"b1": "keep", "b2": "keep"})
    a = Option("A", Scenario(), blds, _occupiers({"o1": ("b1", "b2")}))
    b = Option("B", Scenario(), blds, _occupiers({"o1": ("b1", "b1")}))
    assert decision_differences([a, b]) == [
        "GP practice (o1) in B1 House (b1): moves to B2 House (b2) in A; stays in B"
    ]


def test_constraints_that_differ_are_listed_with_each_value():
    a = Option("A", Scenario(), _buildings({"b1": "keep"}))
    b = Option(
        "B",
        Scenario(
            years=25,
            capital_budget_gbp=2_000_000,
            access=(AccessStandard("library", reach_km=3.0),),
        ),
        _buildings({"b1": "keep"}),
    )
    lines = constraint_differences([a, b])
    assert "Appraisal: years: 10 in A; 25 in B" in lines
    assert "Limits: capital budget (£): no budget in A; £2.0m in B" in lines
    assert "Access standard for Library: the estate’s own in A; keep_current within 3 km road in B" in lines
    assert constraint_differences([a, a]) == []


@dataclass
class _Run:
    run_id: int
    place: str
    saved_at: str


def test_compare_defaults_to_the_two_newest_saves_of_one_place():
    runs = [
        _Run(1, "trafford", "2026-01-01T10:00"),
        _Run(2, "greater_manchester", "2026-01-01T11:00"),
        _Run(3, "trafford", "2026-01-01T12:00"),
        _Run(4, "trafford", "2026-01-01T09:00"),
        _Run(5, "greater_manchester", "2026-01-01T08:00"),
    ]
    assert same_place_defaults(runs) == [3, 1]  # the newest save is Trafford's
    assert same_place_defaults(runs, "greater_manchester") == [2, 5]  # the newest run's place
    assert same_place_defaults(runs, "nowhere") == [3, 1]
    assert same_place_defaults([]) == []
