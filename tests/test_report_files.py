"""optimiser.report: one list of KPI keys, one set of formats, one list of plan tables; optimiser.jsonable."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from estate import Estate
from optimiser.jsonable import frame_from_json, frame_to_json, jsonable
from optimiser.pipeline import optimise
from optimiser.plan import Plan
from optimiser.report import kpis
from optimiser.report.files import PLAN_TABLES, csv_zip, plan_tables, plan_to_excel, write_plan
from optimiser.report.kpis import KPI_KEYS, format_money, format_number, format_value, is_blank, modelled_set
from optimiser.scenario import Scenario
from optimiser.store import run_from_plan
from tests.conftest import REPO


@pytest.fixture
def three_plan(three_building_estate: Estate) -> tuple[Estate, Plan]:
    """The hub plan of `three_building_estate`: keep A only, 220 £k (see tests/test_optimiser_plan.py)."""
    scenario = Scenario(discount_rate=0.0, cat_services=(), time_limit_s=20)
    return three_building_estate, optimise(three_building_estate, scenario)


# ---------------------------------------------------------------------- formats
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_380_000.0, "£1,380,000"),
        (-27_600.4, "-£27,600"),
        (0.0, "£0"),
        (np.float64(2.5e6), "£2,500,000"),
        (None, "–"),
        (math.nan, "–"),
        (pd.NA, "–"),
        (math.inf, "–"),
    ],
)
def test_money_has_one_format(value, text):
    assert format_money(value) == text
    assert format_value("gbp", value) == text


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((1234.4,), "1,234"),
        ((1234.4, "m²"), "1,234 m²"),
        ((0.265, "ha", 2), "0.27 ha"),
        ((3.0, "km", 1), "3.0 km"),
        ((None, "m²"), "–"),
        ((math.nan, "ha", 2), "–"),
    ],
)
def test_numbers_have_one_format(args, text):
    assert format_number(*args) == text


def test_the_kpi_formats_are_the_number_format_with_their_units():
    assert format_value("years", 0.757) == "0.8 years"
    assert format_value("years", None) == "never"
    assert format_value("ha", 1.5) == "1.50 ha"
    assert format_value("tco2e", 134.4) == "134 tCO2e/yr"
    assert format_value("count", 1234.0) == "1,234"
    with pytest.raises(ValueError, match="Unknown KPI format 'furlongs'"):
        format_value("furlongs", 1.0)


def test_blank_and_modelled_cells():
    assert [is_blank(v) for v in (None, pd.NA, math.nan, pd.NaT, 0, "", "x")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert modelled_set("gia_m2;;running_cost_gbp") == {"gia_m2", "running_cost_gbp"}
    assert modelled_set(["gia_m2", "carbon_tco2e"]) == {"gia_m2", "carbon_tco2e"}
    assert modelled_set(math.nan) == set()


# ---------------------------------------------------------------------- one list of each
def test_every_card_is_a_kpi_and_every_kpi_is_in_a_plan(three_plan):
    _, plan = three_plan
    cards = {card.key for card in kpis.kpi_cards(plan.summary_dict())}
    assert cards - {"buildings"} <= set(KPI_KEYS)  # "buildings" is before -> after
    assert set(KPI_KEYS) <= set(plan.kpis)
    assert set(KPI_KEYS) <= set(plan.summary_dict()["kpis"])


def test_the_plan_tables_are_the_same_everywhere(three_plan, tmp_path):
    estate, plan = three_plan
    tables = plan_tables(estate, plan)
    assert tuple(tables) == PLAN_TABLES
    assert tables["zones"].columns[0] == "zone_id"

    record = run_from_plan(estate, plan, place="three", estate_key="k")
    assert tuple(record.tables) == PLAN_TABLES
    with zipfile.ZipFile(io.BytesIO(csv_zip(record.tables, record.summary, record.scenario))) as archive:
        names = archive.namelist()
    assert names == [f"{t}.csv" for t in PLAN_TABLES] + ["disposals.csv", "summary.json", "scenario.toml"]

    book = load_workbook(io.BytesIO(plan_to_excel(estate, plan)), read_only=True)
    assert book.sheetnames == ["summary", *PLAN_TABLES, "disposal list", "per partner"]
    header = next(book["per partner"].iter_rows(max_row=1, values_only=True))
    assert header[:2] == ("Partner", "Buildings before")  # display names, not column codes

    written = write_plan(estate, plan, tmp_path / "run")
    assert {f"{t}.csv" for t in PLAN_TABLES} <= set(written)


def test_the_written_summary_carries_the_file_note(three_plan, tmp_path):
    estate, plan = three_plan
    write_plan(estate, plan, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["note"] == kpis.MODELLED_FILE_NOTE
    assert summary["objective"] == pytest.approx(220.0, abs=1e-6)
    assert summary["kpis"]["buildings_after"] == 1


# ---------------------------------------------------------------------- JSON
def test_jsonable_gives_plain_json_and_no_nan():
    value = {
        1: np.int64(3),
        "f": np.float32(0.5),
        "nan": math.nan,
        "inf": -math.inf,
        "np_nan": np.float64("nan"),
        "flag": np.bool_(True),
        "list": (1, None, "x"),
        "other": pd.Timestamp("2026-01-01"),
    }
    out = jsonable(value)
    assert out == {
        "1": 3,
        "f": 0.5,
        "nan": None,
        "inf": None,
        "np_nan": None,
        "flag": True,
        "list": [1, None, "x"],
        "other": "2026-01-01 00:00:00",
    }
    assert [type(out[k]) for k in ("1", "f", "flag")] == [int, float, bool]
    json.dumps(out, allow_nan=False)  # raises if anything is left that JSON cannot hold


def test_a_table_reads_back_from_json_with_lists_as_text():
    frame = pd.DataFrame({"id": ["a", "b"], "x": [1.5, math.nan], "n": [1, 2], "modelled": [["gia_m2"], []]})
    back = frame_from_json(frame_to_json(frame))
    assert back["id"].tolist() == ["a", "b"]
    assert back["x"].iloc[0] == 1.5 and math.isnan(back["x"].iloc[1])
    assert back["n"].tolist() == [1, 2]
    assert back["modelled"].tolist() == ["gia_m2", ""]


# ---------------------------------------------------------------------- imports
def test_formatting_figures_loads_neither_the_solver_nor_folium():
    code = (
        "import sys; import optimiser.report, optimiser.report.kpis, optimiser.jsonable; "
        "print(sorted(m for m in ('pulp', 'folium', 'optimiser.model', 'optimiser.plan') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=600
    )
    assert out.stdout.strip() == "[]"
