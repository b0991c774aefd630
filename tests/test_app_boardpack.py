"""optimiser.report.kpis and .boardpack: KPI cards as shown in the app, the savings breakdown and the board pack."""

from __future__ import annotations

import re

import folium
import pandas as pd
import pytest

from optimiser.report import boardpack, kpis, maps

SUMMARY = {
    "place": "Trafford",
    "scenario": "default",
    "status": "time_limit",
    "status_words": "within 0.31% of optimal (time limit; not proven optimal)",
    "proven_optimal": False,
    "gap_gbp": 68_000.0,
    "gap": 0.0031,
    "objective": 21_900.0,
    "bound": 21_832.0,
    "solver": "HiGHS",
    "time_s": 12.5,
    "appraisal": {"years": 10, "discount_rate": 0.035},
    "kpis": {
        "capital_receipts_gbp": 1_380_000.0,
        "annual_revenue_saving_gbp": 422_672.4,
        "annual_revenue_saving_pct": 2.34,
        "one_off_cost_gbp": 1_504_000.0,
        "move_cost_gbp": 1_378_800.0,
        "backlog_avoided_gbp": 231_162.0,
        "npv_gbp": 3_622_358.2,
        "payback_years": 0.2934,
        "land_ha": 0.265,
        "homes": 7.95,
        "jobs": 6.625,
        "carbon_tco2e_saved": 134.4,
        "buildings_before": 57,
        "buildings_after": 51,
    },
}


def _buildings(modelled: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "building_id": ["A", "B"],
            "name": ["Hub", "Clinic"],
            "owner": ["Council", "NHS"],
            "decision": ["keep", "dispose"],
            "route": ["keep", "market_sale"],
            "receipt_gbp": [0.0, 1_380_000.0],
            "annual_saving_gbp": [0.0, 422_672.4],
            "reason": ["keep", "dispose by market sale"],
            "modelled": ["market_value_gbp", modelled],
        }
    )


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("gbp", 1_380_000.0, "£1,380,000"),
        ("gbp", -2_197_599.6, "-£2,197,600"),
        ("years", 0.2934, "0.3 years"),
        ("years", None, "never"),
        ("count", 7.95, "8"),
        ("ha", 0.265, "0.27 ha"),
        ("tco2e", 134.4, "134 tCO2e/yr"),
        ("gbp", None, "–"),
    ],
)
def test_kpi_values_are_formatted_for_the_board(kind, value, text):
    assert kpis.format_value(kind, value) == text


def test_the_kpi_cards_are_the_ten_headline_figures():
    cards = kpis.kpi_cards(SUMMARY)

    assert [(c.label, c.value) for c in cards] == [
        ("Capital receipts", "£1,380,000"),
        ("Annual revenue saving", "£422,672"),
        ("One-off cost", "£1,504,000"),
        ("Payback", "0.3 years"),
        ("NPV", "£3,622,358"),
        ("Homes", "8"),
        ("Jobs", "7"),
        ("Land released", "0.27 ha"),
        ("Carbon saved", "134 tCO2e/yr"),
        ("Buildings", "57 → 51"),
    ]


def test_figures_resting_on_modelled_columns_are_marked_modelled():
    cards = {c.key: c for c in kpis.kpi_cards(SUMMARY, _buildings("running_cost_gbp;carbon_tco2e"))}

    assert cards["annual_revenue_saving_gbp"].modelled
    assert "`running_cost_gbp`" in cards["annual_revenue_saving_gbp"].note
    assert cards["carbon_tco2e_saved"].modelled
    assert not cards["capital_receipts_gbp"].modelled  # the disposed building's value was measured
    assert cards["one_off_cost_gbp"].modelled  # the move cost per m2 is an assumption
    assert not cards["buildings"].modelled


def test_without_the_buildings_table_every_money_figure_counts_as_modelled():
    cards = {c.key: c for c in kpis.kpi_cards(SUMMARY)}

    assert all(cards[k].modelled for k in ("capital_receipts_gbp", "annual_revenue_saving_gbp", "npv_gbp"))


def test_the_savings_breakdown_adds_up_to_the_npv():
    breakdown = kpis.savings_breakdown(SUMMARY)

    assert breakdown["gbp"].sum() == pytest.approx(SUMMARY["kpis"]["npv_gbp"])
    assert breakdown["component"].tolist() == [
        "Savings, 10 yrs (PV)",
        "Receipts",
        "Backlog avoided",
        "Moves, fit-out",
        "Fees, lease exits",
    ]
    assert breakdown["gbp"].tolist()[1:] == pytest.approx([1_380_000.0, 231_162.0, -1_378_800.0, -125_200.0])


def test_the_disposal_list_holds_only_disposed_buildings():
    table = kpis.disposals_table(_buildings(""))

    assert table["building_id"].tolist() == ["B"]
    assert table.columns[-1] == "reason"


def test_access_before_and_after_reads_as_percentages():
    access = pd.DataFrame(
        {
            "service": ["library"],
            "rule": ["keep_current"],
            "reach_km": [3.0],
            "reach_min": [None],
            "before_sites": [13],
            "after_sites": [9],
            "before_share": [0.9805],
            "after_share": [0.9805],
            "before_deprived_share": [1.0],
            "after_deprived_share": [1.0],
        }
    )

    row = kpis.access_table(access).iloc[0].to_dict()

    assert row["reach"] == "3 km"
    assert row["sites before → after"] == "13 → 9"
    assert row["people within reach before"] == "98.0%"


def test_kpis_of_several_runs_sit_side_by_side():
    table = kpis.kpi_table([("A", SUMMARY, None), ("B", {**SUMMARY, "status_words": "proven optimal"}, None)])

    assert table.loc["NPV (modelled)", "A"] == "£3,622,358"
    assert table.loc["Solution", "B"] == "proven optimal"
    assert table.loc["Buildings", "B"] == "57 → 51"


def _tables() -> dict[str, pd.DataFrame]:
    buildings = _buildings("").assign(
        easting=[380000.0, 380500.0], northing=[400000.0, 400000.0], occupiers_in=[1, 0], occupiers_out=[0, 1]
    )
    occupiers = pd.DataFrame(
        {
            "occupier_id": ["b1"],
            "name": ["clinic"],
            "service": ["gp_practice"],
            "from_building_id": ["B"],
            "to_building_id": ["A"],
            "share": [1.0],
            "move_km": [0.65],
        }
    )
    partners = pd.DataFrame(
        {
            "partner": ["NHS"],
            "buildings_before": [1],
            "buildings_after": [0],
            "capital_receipts_gbp": [1_380_000.0],
            "annual_revenue_saving_gbp": [422_672.4],
            "one_off_cost_gbp": [0.0],
            "land_ha": [0.265],
            "carbon_tco2e_saved": [134.4],
        }
    )
    return {"buildings": buildings, "occupiers": occupiers, "partners": partners, "access": pd.DataFrame()}


def test_the_board_pack_is_one_self_contained_page():
    tables = _tables()
    plan_map = maps.plan_map(tables["buildings"], tables["occupiers"], assets="inline")

    html = boardpack.board_pack_html(
        summary=SUMMARY, tables=tables, plan_map=plan_map, scenario_toml='name = "default"\n'
    )

    assert re.findall(r"<script[^>]*\bsrc=", html) == []
    assert re.findall(r"<link[^>]*\bhref=", html) == []
    assert "1.9.3" in html  # Leaflet, inlined
    assert "£1,380,000" in html and "£3,622,358" in html
    # the status in a board's terms, amber for a time limit; the relative gap for analysts only
    assert "the best possible plan is at most £68k (1.9%) better than this one" in html
    assert 'class="status status-caution"' in html
    assert "Detail for analysts: gap £68k" in html and "0.31% of the net present cost" in html
    assert "Disposal list (1 buildings)" in html
    assert "@media print" in html and "size: A4" in html
    assert "Money over 10 years, discounted at 3.5% a year" in html  # the scenario in words
    assert "name = " not in html  # not a TOML dump
    assert 'class="screen-only"' in html  # the interactive map is for the screen only


def test_a_board_pack_refuses_a_map_that_needs_a_cdn():
    with pytest.raises(ValueError, match="must be self-contained, but the map links https://cdn"):
        boardpack.board_pack_html(summary=SUMMARY, tables=_tables(), plan_map=folium.Map(tiles=None))


def test_a_board_pack_without_a_map_still_has_the_figures():
    html = boardpack.board_pack_html(summary=SUMMARY, tables=_tables(), plan_map=None)

    assert "£422,672" in html
    assert "L.map(" not in html
