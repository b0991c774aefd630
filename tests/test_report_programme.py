"""optimiser.report.programme: the estate as at a year, the timeline and cash-flow tables, the
board pack's programme section, and a phased run kept whole by the store, the exports and the
run folder. Hand-made schedules on the three-building estate (no solve), so every figure is known."""

from __future__ import annotations

import html
import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from estate.io import load_place
from optimiser.plan import make_plan, with_programme
from optimiser.programme import make_programme
from optimiser.report import pdf
from optimiser.report.boardpack import PackOption, board_pack_html, options_pack_html
from optimiser.report.files import csv_zip, plan_to_excel, write_plan
from optimiser.report.kpis import format_money
from optimiser.report.programme import (
    PROGRAMME_TABLES,
    cash_chart_table,
    cashflow_png,
    cashflow_table,
    estate_as_at,
    events_table,
    has_programme,
    partner_totals,
    payback_year,
    peak_investment,
    programme_section,
    programme_words,
    timeline_cells,
    timeline_table,
)
from optimiser.report.runpack import pack_html
from optimiser.report.words import money_words
from optimiser.scenario import Scenario
from optimiser.store import ScenarioStore, plan_on_estate, run_from_plan


def _phased_plan(estate, moves=None, leave=None):
    """Keep A only: C (the jobcentre) goes in 2026, B (the library) in 2027; their teams move to A."""
    scenario = Scenario(phased=True, receipt_lag_years=1, name="phased")
    leave = leave or {"B": 1, "C": 0}
    moves = moves or {("b1", "A"): [(1, 1.0)], ("c1", "A"): [(0, 1.0)]}
    keep = pd.Series([bid not in leave for bid in estate.buildings.index], index=estate.buildings.index)
    parts = pd.DataFrame(
        {
            "occupier_id": ["a1", "b1", "c1"],
            "from_building_id": ["A", "B", "C"],
            "to_building_id": ["A", "A", "A"],
            "share": [1.0, 1.0, 1.0],
        }
    )
    plan = make_plan(estate, scenario, keep, parts)
    return with_programme(plan, make_programme(estate, scenario, leave, moves))


def _tables(plan):
    p = plan.programme
    return {
        "buildings": plan.buildings,
        "occupiers": plan.occupiers,
        "partners": plan.partners,
        "access": plan.access,
        "programme": p.events,
        "cashflow": p.cashflow,
        "partners_by_year": p.partners_by_year,
    }


# ---------------------------------------------------------------------- the estate as at a year
def test_the_estate_year_by_year_follows_the_programme(three_building_estate):
    plan = _phased_plan(three_building_estate)
    t = _tables(plan)
    before = estate_as_at(t["buildings"], t["occupiers"], t["programme"], 2025)
    assert before.gone == () and set(before.to_go) == {"B", "C"} and before.moved == ()
    assert list(before.buildings["decision"]) == ["keep", "keep", "keep"]
    assert (before.occupiers["from_building_id"] == before.occupiers["to_building_id"]).all()

    first = estate_as_at(t["buildings"], t["occupiers"], t["programme"], 2026)
    decision = dict(zip(first.buildings["building_id"], first.buildings["decision"], strict=True))
    assert decision == {"A": "keep", "B": "keep", "C": "dispose"}
    assert first.gone == ("C",) and first.to_go == ("B",)
    assert first.moved == ("c1",) and first.to_move == ("b1",)
    where = dict(zip(first.occupiers["occupier_id"], first.occupiers["to_building_id"], strict=True))
    assert where == {"a1": "A", "b1": "B", "c1": "A"}
    assert dict(zip(first.buildings["building_id"], first.buildings["occupiers_in"], strict=True)) == {
        "A": 1,
        "B": 0,
        "C": 0,
    }
    reasons = dict(zip(first.buildings["building_id"], first.buildings["reason"], strict=True))
    assert reasons["C"].startswith("disposal in 2026; ")
    assert reasons["B"].startswith("still open at the end of 2026; disposal in 2027; ")
    assert set(first.events["building_id"]) == {"C", ""} and len(first.events) == 2
    assert first.words.startswith(
        "At the end of 2026: 2 buildings open, 1 gone (1 still to go); 1 occupiers moved"
    )

    last = estate_as_at(t["buildings"], t["occupiers"], t["programme"], 2036)  # the plan's end state
    assert list(last.buildings["decision"]) == list(plan.buildings["decision"])
    assert list(last.buildings["occupiers_in"]) == list(plan.buildings["occupiers_in"])
    pd.testing.assert_frame_equal(
        last.occupiers[["occupier_id", "to_building_id", "share"]],
        plan.occupiers[["occupier_id", "to_building_id", "share"]],
    )


def test_an_occupier_moving_in_steps_is_split_until_the_last_step(three_building_estate):
    plan = _phased_plan(
        three_building_estate, moves={("b1", "A"): [(0, 0.25), (1, 0.75)], ("c1", "A"): [(0, 1.0)]}
    )
    t = _tables(plan)
    at = estate_as_at(t["buildings"], t["occupiers"], t["programme"], 2026)
    b1 = at.occupiers[at.occupiers["occupier_id"] == "b1"].set_index("to_building_id")
    assert b1.loc["A", "share"] == pytest.approx(0.25) and b1.loc["B", "share"] == pytest.approx(0.75)
    full = float(plan.occupiers.loc[plan.occupiers["occupier_id"] == "b1", "space_m2"].iloc[0])
    assert b1.loc["A", "space_m2"] == pytest.approx(0.25 * full)
    assert b1.loc["B", "move_km"] == 0.0 and b1.loc["B", "move_cost_gbp"] == 0.0
    assert "b1" in at.moved and "b1" in at.to_move
    later = estate_as_at(t["buildings"], t["occupiers"], t["programme"], 2027)
    assert list(later.occupiers.loc[later.occupiers["occupier_id"] == "b1", "to_building_id"]) == ["A"]


def test_a_move_the_plan_does_not_hold_is_refused(three_building_estate):
    plan = _phased_plan(three_building_estate)
    t = _tables(plan)
    events = t["programme"].copy()
    events.loc[events["event"] == "move", "to_building_id"] = "B"
    with pytest.raises(ValueError, match="does not hold"):
        estate_as_at(t["buildings"], t["occupiers"], events, 2030)


# ---------------------------------------------------------------------- tables and words
def test_the_cash_flow_table_is_cashflow_csv_figure_for_figure(three_building_estate):
    plan = _phased_plan(three_building_estate)
    cash = plan.programme.cashflow
    shown = cashflow_table(cash)
    assert list(shown.columns[:3]) == ["Year", "Receipts (£)", "One-off cost (£)"]
    assert len(shown) == len(cash) == plan.scenario.years + 1
    for (_, row), (_, text) in zip(cash.iterrows(), shown.iterrows(), strict=True):
        assert text["Receipts (£)"] == format_money(row["receipts_gbp"])
        assert text["Cumulative net (£)"] == format_money(row["cumulative_net_gbp"])
        assert text["Discount factor"] == f"{row['discount_factor']:.4f}"
    assert not shown.apply(lambda c: c.str.contains("£-0")).any().any()  # -0.0 is £0
    assert payback_year(cash) == plan.programme.payback_year
    assert peak_investment(cash)[0] == pytest.approx(plan.programme.peak_investment_gbp)
    long = cash_chart_table(cash)
    assert set(long["series"]) == {"Receipts", "One-off costs", "Savings"}
    assert (long.loc[long["series"] == "One-off costs", "gbp"] <= 0).all()
    totals = long.groupby("series")["gbp"].sum()
    assert totals["Receipts"] == pytest.approx(cash["receipts_gbp"].sum())
    assert totals["One-off costs"] == pytest.approx(-cash["one_off_cost_gbp"].sum())


def test_the_timeline_names_every_event_with_its_partner(three_building_estate):
    plan = _phased_plan(three_building_estate)
    t = _tables(plan)
    timeline = timeline_table(t["programme"], t["buildings"], t["occupiers"])
    assert len(timeline) == len(t["programme"]) == 4
    by = timeline.set_index(["event", "year"])
    assert set(timeline["event_name"]) == {"Disposal", "Move"}
    assert set(timeline["partner"]) == {"Council", "DWP"}
    moves = timeline[timeline["event"] == "move"]
    assert all("→" in w for w in moves["what"])
    assert by.loc[("dispose", 2026), "partner"] == "DWP"
    cells = timeline_cells(timeline)
    assert cells["events"].sum() == len(timeline)
    readable = events_table(timeline)
    assert list(readable.columns) == [
        "Year",
        "Event",
        "Partner",
        "Building or occupier",
        "Route, or from → to",
        "Cash (£)",
    ]
    assert list(readable["Year"]) == sorted(readable["Year"])
    words = programme_words({}, t)
    assert (
        "2 disposals" in words
        and "2 moves" in words
        and f"pays back in {plan.programme.payback_year}" in words
    )
    partners = partner_totals(t["partners_by_year"])
    assert partners["net_gbp"].sum() == pytest.approx(t["cashflow"]["net_gbp"].sum())


# ---------------------------------------------------------------------- the board pack
def test_the_board_pack_shows_the_programme_and_the_cash_flow(three_building_estate):
    plan = _phased_plan(three_building_estate)
    tables = _tables(plan)
    summary = plan.summary_dict()
    section = programme_section(summary, tables)
    assert "The programme over time" in section and "Cash flow by year" in section
    assert section.count("<tr>") == len(tables["cashflow"]) + 1 + 2 + len(tables["programme"]) + 3
    for value in tables["cashflow"]["cumulative_net_gbp"]:
        assert money_words(value).replace("-", "\u2212") in section
    assert "A leasehold is left only" not in section  # early exits are allowed in this scenario
    assert "A sale's receipt arrives 1 year after the sale." in html.unescape(section)
    assert 'src="data:image/png;base64,' in section
    assert cashflow_png(tables["cashflow"]).startswith(b"\x89PNG")
    page = board_pack_html(summary=summary, tables=tables, scenario=plan.scenario, static_map=False)
    assert page.count("The programme over time") == 1
    assert page.index("The programme over time") < page.index("Disposal list")
    static = {k: v for k, v in tables.items() if k not in PROGRAMME_TABLES}
    assert programme_section(summary, static) == "" and not has_programme(static)
    assert "The programme over time" not in board_pack_html(summary=summary, tables=static, static_map=False)
    both = options_pack_html(
        [PackOption(summary, tables, label="phased"), PackOption(summary, static, label="static")]
    )
    assert both.count("The programme over time") == 1 and "Option “phased”: The programme over time" in both


def trafford_phased_plan(name: str = "phased", hub_rank: int = 0):
    """Trafford with a hand-made schedule (no solve): the two first buildings with occupiers
    (other than the hub, the `hub_rank`-th largest) go in 2027 and 2028 and their occupiers move
    to the hub. Returns (estate, plan, the buildings that go)."""
    estate = load_place("trafford")
    b, occ = estate.buildings, estate.occupiers
    hub = str(b["capacity_m2"].astype(float).sort_values(ascending=False).index[hub_rank])
    going = [str(x) for x in occ["building_id"].drop_duplicates() if str(x) != hub][:2]
    scenario = Scenario(phased=True, name=name)
    leave = {going[0]: 1, going[1]: 2}
    moving = occ[occ["building_id"].isin(going)]
    moves = {
        (str(a), hub): [(leave[str(h)], 1.0)]
        for a, h in zip(moving.index, moving["building_id"], strict=True)
    }
    keep = pd.Series([bid not in leave for bid in b.index], index=b.index)
    parts = pd.DataFrame(
        {
            "occupier_id": occ.index.astype(str),
            "from_building_id": occ["building_id"].astype(str).to_numpy(),
            "to_building_id": [hub if h in leave else h for h in occ["building_id"].astype(str)],
            "share": 1.0,
        }
    )
    plan = with_programme(
        make_plan(estate, scenario, keep, parts), make_programme(estate, scenario, leave, moves)
    )
    return estate, plan, going


def test_a_run_folder_makes_a_pack_with_the_programme(tmp_path):
    """Trafford (zones and all), hand-made schedule; `report` reads the run folder back."""
    estate, plan, going = trafford_phased_plan()
    written = write_plan(estate, plan, tmp_path / "run")
    assert {f"{t}.csv" for t in PROGRAMME_TABLES} <= set(written)
    page = pack_html([tmp_path / "run"])
    assert page.count("The programme over time") == 1
    for value in plan.programme.cashflow["net_gbp"]:
        assert money_words(value).replace("-", "\u2212") in page
    names = dict(zip(plan.buildings["building_id"], plan.buildings["name"], strict=True))
    assert all(html.escape(str(names[g])) in page for g in going)


@pytest.mark.slow
def test_the_programme_pages_print_on_a4_within_the_margins(tmp_path):
    estate, plan, _ = trafford_phased_plan()
    write_plan(estate, plan, tmp_path / "run")
    pages = pdf.layout(pack_html([tmp_path / "run"]))
    assert all(round(p.width_mm) == 210 and round(p.height_mm) == 297 for p in pages)
    assert [p.overflowing for p in pages if p.overflowing] == []
    programme = [p for p in pages if "The programme over time" in p.text]
    assert len(programme) == 1 and "Cash flow by year (£)" in programme[0].text
    assert any("The programme, event by event" in p.text for p in pages)


# ---------------------------------------------------------------------- saved runs and exports
def test_a_saved_phased_run_comes_back_with_its_programme(three_building_estate, tmp_path):
    plan = _phased_plan(three_building_estate)
    store = ScenarioStore(tmp_path)
    saved = store.save(run_from_plan(three_building_estate, plan, place="three", estate_key="k"))
    loaded = store.load(int(saved.run_id or 0))
    back = loaded.plan.programme
    assert back is not None
    pd.testing.assert_frame_equal(back.cashflow, plan.programme.cashflow, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(
        back.partners_by_year, plan.programme.partners_by_year, check_exact=False, rtol=1e-12
    )
    assert list(back.events["event"]) == list(plan.programme.events["event"])
    assert list(back.events["year"]) == list(plan.programme.events["year"])
    assert back.phasing == plan.programme.phasing
    assert back.payback_year == plan.programme.payback_year
    assert back.npv_gbp == pytest.approx(plan.programme.npv_gbp, rel=1e-12)
    assert {"programme", "cashflow", "partners_by_year"} <= set(loaded.tables)
    summary = loaded.plan.summary_dict()
    assert summary["payback_year"] == saved.summary["payback_year"]
    assert summary["npv_gbp"] == pytest.approx(saved.summary["npv_gbp"], rel=1e-12)
    assert cashflow_table(back.cashflow).equals(cashflow_table(plan.programme.cashflow))

    # rebuilt on its estate for GeoPackage and Excel: the programme's figures, not the static ones
    rebuilt = plan_on_estate(three_building_estate, loaded)
    assert rebuilt.programme is back and rebuilt.kpis["npv_gbp"] == pytest.approx(plan.kpis["npv_gbp"])
    book = openpyxl.load_workbook(io.BytesIO(plan_to_excel(three_building_estate, rebuilt)), read_only=True)
    assert set(PROGRAMME_TABLES) <= set(book.sheetnames)
    sheet = book["cashflow"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    receipts = [r[header.index("receipts_gbp")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert np.allclose(receipts, plan.programme.cashflow["receipts_gbp"])
    with zipfile.ZipFile(io.BytesIO(csv_zip(loaded.tables, loaded.summary, loaded.scenario))) as archive:
        cash = pd.read_csv(io.BytesIO(archive.read("cashflow.csv")))
        assert {f"{t}.csv" for t in PROGRAMME_TABLES} <= set(archive.namelist())
    assert np.allclose(cash["cumulative_net_gbp"], plan.programme.cashflow["cumulative_net_gbp"])


def test_a_static_run_saves_no_programme(three_building_estate, tmp_path):
    plan = _phased_plan(three_building_estate)
    static = make_plan(
        three_building_estate,
        Scenario(),
        plan.buildings.set_index("building_id")["decision"].eq("keep"),
        plan.occupiers,
    )
    store = ScenarioStore(tmp_path)
    saved = store.save(run_from_plan(three_building_estate, static, place="three", estate_key="k"))
    loaded = store.load(int(saved.run_id or 0))
    assert loaded.plan.programme is None and not has_programme(loaded.tables)
    with zipfile.ZipFile(io.BytesIO(csv_zip(loaded.tables, loaded.summary, loaded.scenario))) as archive:
        assert "cashflow.csv" not in archive.namelist()
