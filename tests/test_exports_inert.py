"""Every text cell we write is inert: no formula, no text starting with = + - @ tab CR LF.

One plan whose building, partner, borough, occupier and zone names hold each of 16 formula
payloads is written in every format (CLI run folder, the app's CSV zip and disposal list, the
Excel workbook, the GeoPackage, the board pack); each file is read back with ``csv``,
``openpyxl``, ``sqlite3`` or ``html.parser``.
"""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser.pipeline import optimise
from optimiser.report.boardpack import board_pack_html
from optimiser.report.files import csv_zip, plan_to_excel, plan_to_geopackage_bytes, write_plan
from optimiser.report.inert import csv_text, excel_bytes, inert_frame, inert_text, original_text
from optimiser.report.kpis import disposals_table
from optimiser.report.maps import plan_map
from optimiser.report.rundir import verify_run_dir
from optimiser.scenario import Scenario
from optimiser.store import run_from_plan
from tests.exports_payloads import (
    ACTIVE,
    PAYLOADS,
    Cell,
    live,
    payload_estate,
    payloads_in,
    scan_csv,
    scan_gpkg,
    scan_html,
    scan_xlsx,
)

ACTIVE_PAYLOADS = [p for p in PAYLOADS if p.startswith(ACTIVE)]
NUMERIC_CSV_COLUMNS = {"buildings.csv": ("running_cost_gbp", "market_value_gbp", "easting", "capacity_m2")}


# ------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_rule_makes_each_payload_inert_and_is_reversible(payload):
    escaped = inert_text(payload)

    assert not escaped.startswith(ACTIVE)
    assert original_text(escaped) == payload
    assert (escaped == "'" + payload) == payload.startswith(ACTIVE)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Town Hall", "Town Hall"),
        ("", ""),
        ("'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("'=1", "''=1"),  # already quoted: one more, so that original_text gives it back
        ("a=1", "a=1"),
        ("＝1", "＝1"),  # full-width: not a formula in Excel or LibreOffice
    ],
)
def test_the_rule_leaves_other_text_alone(text, escaped):
    assert inert_text(text) == escaped
    assert original_text(escaped) == text


def test_only_text_columns_change_and_numbers_stay_numbers():
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "Hub", None],
            "cost": [-2.5, 3.0, np.nan],
            "count": pd.array([-1, 2, 3], dtype="Int64"),
            "mixed": ["-1", -1, "@x"],
            "kind": pd.Categorical(["-", "a", "a"]),
        }
    )

    out = inert_frame(frame)

    assert out["name"].tolist()[:2] == ["'=1+1", "Hub"] and out["name"].isna().iloc[2]
    pd.testing.assert_series_equal(out["cost"], frame["cost"])
    pd.testing.assert_series_equal(out["count"], frame["count"])
    assert out["mixed"].tolist() == ["'-1", -1, "'@x"]
    assert out["kind"].tolist() == ["'-", "a", "a"]
    assert frame["name"].iloc[0] == "=1+1"  # the input is not changed
    assert csv_text(frame).splitlines()[1] == "'=1+1,-2.5,-1,'-1,'-"


def test_a_carriage_return_is_quoted_so_the_row_stays_whole():
    text = csv_text(pd.DataFrame({"name": ["\r=1", "b"], "n": [1, 2]}))
    cells = scan_csv(text, "x")

    assert [c.text for c in cells if c.column == "name"] == ["'\r=1", "b"]


def test_excel_cells_are_strings_or_numbers_never_formulas():
    data = excel_bytes(
        {"s": pd.DataFrame({"=name": ["=1+1", "ok"], "v": [-1.5, np.inf], "b": [True, False]})}
    )
    cells, typed = scan_xlsx(data, "x")

    kinds = {(column, value): kind for _, column, value, kind in typed}
    assert kinds[("(header)", "'=name")] == "s"
    assert kinds[("'=name", "'=1+1")] == "s"
    assert kinds[("v", -1.5)] == "n"
    assert kinds[("v", None)] == "n"  # infinity is left blank, never the text "inf"
    assert kinds[("b", True)] == "b"
    assert not live(cells, {"v"})


# ------------------------------------------------------------------------------ every export
@pytest.fixture(scope="module")
def payload_plan():
    estate = payload_estate()
    plan = optimise(estate, Scenario(time_limit_s=60))
    assert (plan.buildings["decision"] == "dispose").any()  # the disposal list has rows
    record = run_from_plan(estate, plan, place="payloads", estate_key="k")
    return estate, plan, record


@pytest.fixture(scope="module")
def exports(payload_plan, tmp_path_factory):
    """Cells of every file we write, by file."""
    estate, plan, record = payload_plan
    files: dict[str, list[Cell]] = {}
    out = tmp_path_factory.mktemp("payloads") / "run"
    write_plan(estate, plan, out)
    verify_run_dir(out)
    for path in sorted(out.iterdir()):
        if path.suffix == ".csv":
            files[f"run/{path.name}"] = scan_csv(path.read_bytes().decode("utf-8"), path.name)
        elif path.suffix == ".gpkg":
            files[f"run/{path.name}"] = scan_gpkg(path, path.name)
    with zipfile.ZipFile(io.BytesIO(csv_zip(record.tables, record.summary, record.scenario))) as archive:
        for name in archive.namelist():
            if name.endswith(".csv"):
                files[f"zip/{name}"] = scan_csv(archive.read(name).decode("utf-8"), name)
    files["disposals.csv"] = scan_csv(csv_text(disposals_table(record.tables["buildings"])), "disposals")
    files["plan.xlsx"], _ = scan_xlsx(plan_to_excel(estate, plan), "plan.xlsx")
    gpkg = out.parent / "download.gpkg"
    gpkg.write_bytes(plan_to_geopackage_bytes(estate, plan))
    files["download.gpkg"] = scan_gpkg(gpkg, "download.gpkg")
    pack_map = plan_map(
        record.tables["buildings"],
        record.tables["occupiers"],
        record.tables["zones"],
        service="library",
        assets="inline",
        tiles=False,
    )
    files["board_pack.html"] = scan_html(
        board_pack_html(summary=record.summary, tables=record.tables, plan_map=pack_map), "board pack"
    )
    return files


def _numeric_columns(record) -> set[str]:
    names = {"(number)"}
    for frame in record.tables.values():
        names |= {str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    return names


@pytest.mark.solver
def test_no_cell_of_any_export_is_live(exports, payload_plan):
    numeric = _numeric_columns(payload_plan[2])
    found = {name: live(cells, numeric) for name, cells in exports.items()}

    assert {name: cells[:3] for name, cells in found.items() if cells} == {}
    assert len(exports) == 16  # 6 run files, 6 in the zip, the disposal list, xlsx, gpkg, board pack


@pytest.mark.solver
@pytest.mark.parametrize(
    "name",
    [
        "run/buildings.csv",
        "run/occupiers.csv",
        "run/partners.csv",
        "run/zones.csv",
        "run/plan.gpkg",
        "zip/buildings.csv",
        "zip/disposals.csv",
        "disposals.csv",
        "plan.xlsx",
        "download.gpkg",
        "board_pack.html",
    ],
)
def test_every_payload_reaches_the_file_escaped_never_raw(exports, name):
    cells = exports[name]
    texts = {c.text for c in cells}

    assert payloads_in(cells) <= {p for p in PAYLOADS if not p.startswith(ACTIVE)}
    reached = {
        p for p in ACTIVE_PAYLOADS if inert_text(p) in texts or inert_text(p).replace("\r", "\n") in texts
    }
    assert reached == set(ACTIVE_PAYLOADS)


@pytest.mark.solver
def test_the_workbook_has_no_formula_and_numbers_are_numbers(payload_plan):
    estate, plan, _ = payload_plan
    cells, typed = scan_xlsx(plan_to_excel(estate, plan), "plan.xlsx")

    assert not [c for c in cells if c.formula]
    kinds = {
        (column, kind) for sheet, column, value, kind in typed if sheet == "buildings" and value is not None
    }
    for column in ("running_cost_gbp", "market_value_gbp", "capacity_m2", "easting", "receipt_gbp"):
        assert kinds & {(column, "n")} and not {k for c, k in kinds if c == column} - {"n"}, column
    assert {k for c, k in kinds if c == "name"} == {"s"}


@pytest.mark.solver
def test_numeric_columns_of_the_csv_files_are_still_numbers(tmp_path, payload_plan):
    estate, plan, _ = payload_plan
    write_plan(estate, plan, tmp_path / "run")
    frame = pd.read_csv(tmp_path / "run" / "buildings.csv")

    for column in NUMERIC_CSV_COLUMNS["buildings.csv"]:
        assert pd.api.types.is_numeric_dtype(frame[column]), column
    assert frame["name"].map(original_text).tolist() == plan.buildings["name"].tolist()


@pytest.mark.solver
def test_geopackage_numbers_stay_numbers(payload_plan, tmp_path):
    estate, plan, _ = payload_plan
    path = tmp_path / "plan.gpkg"
    path.write_bytes(plan_to_geopackage_bytes(estate, plan))
    with sqlite3.connect(path) as conn:
        kinds = {
            row[0]
            for row in conn.execute('SELECT DISTINCT typeof(running_cost_gbp) FROM "buildings"').fetchall()
        }

    assert kinds == {"real"}


@pytest.mark.solver
def test_html_in_a_name_is_escaped_in_the_board_pack_and_its_map(payload_plan):
    _, _, record = payload_plan
    tables = {k: v.copy() for k, v in record.tables.items()}
    nasty = ['</script><script>alert("pwned")</script>', '<img src=x onerror="alert(1)">']
    tables["buildings"]["name"] = [nasty[i % 2] for i in range(len(tables["buildings"]))]
    tables["buildings"]["owner"] = nasty[0]
    pack_map = plan_map(
        tables["buildings"], tables["occupiers"], tables["zones"], assets="inline", tiles=False
    )

    page = board_pack_html(summary=record.summary, tables=tables, plan_map=pack_map)

    for text in nasty:
        assert text not in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert re.findall(r"<img [^>]*", page) == [  # the only image: the pack's own map, drawn on the server
        m for m in re.findall(r"<img [^>]*", page) if 'src="data:image/png;base64,' in m
    ]
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page  # tables: text
    assert r"\u003c/script\u003e\u003cscript\u003ealert" in page  # map popups: JSON, shown as text nodes


@pytest.mark.solver
def test_the_cli_run_folder_names_read_back_with_original_text(tmp_path, payload_plan):
    estate, plan, _ = payload_plan
    write_plan(estate, plan, tmp_path / "run")
    occupiers = pd.read_csv(tmp_path / "run" / "occupiers.csv", keep_default_na=False)

    assert set(occupiers["partner"].map(original_text)) == set(plan.occupiers["partner"])
    assert Path(tmp_path / "run" / "run.json").is_file()
