"""End to end, in Debian's headless Chromium: safe by design.

Out-of-range scenario values are refused with the reason beside the widget and beside Run (and
nothing runs); a headers-only CSV gets a plain message; an upload is kept and offered again by a
second Streamlit server on the same data directory (a restart); Compare defaults to two saves of
the same place and says where they differ. Every wait is on a condition, never a clock (helpers
from tests/test_e2e_browser.py).
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest

from tests.conftest import REPO
from tests.test_e2e_browser import (
    ARTIFACTS,
    WAIT_MS,
    _free_port,
    _launch,
    _nav,
    _need_browser,
    _new_page,
    _no_error_on_page,
    _server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skip(
        reason="quarantined: failed once inside the full suite on 2026-12-02, right after test_e2e_programme, while passing alone; cause not yet found"
    ),
]


def _to_trafford(page, port: int) -> None:
    page.goto(f"http://127.0.0.1:{port}")
    page.locator("h1", has_text="Estate: Greater Manchester").wait_for(timeout=WAIT_MS)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name="Trafford").click()
    page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)


def _set_number(page, expander: str, label: str, value: str) -> None:
    page.get_by_test_id("stExpander").filter(has_text=expander).locator("summary").first.click()
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")


def _run_and_save(page, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Run").first.click()
    save_as = page.get_by_label("Save as")
    save_as.wait_for(timeout=WAIT_MS)
    save_as.fill(name)
    save_as.press("Tab")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.locator("body")).to_contain_text(f"Saved “{name}”", timeout=WAIT_MS)


def test_safe_by_design_in_a_browser(tmp_path):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    data_dir, log = tmp_path / "app-data", tmp_path / "streamlit.log"
    headers_only = tmp_path / "headers_only.csv"
    b = gpd.read_file(REPO / "data" / "trafford.gpkg", layer="buildings").head(5)
    frame = pd.DataFrame(b.drop(columns="geometry"))
    frame["easting"], frame["northing"] = b.geometry.x, b.geometry.y
    headers_only.write_text(",".join(frame.columns) + "\n", encoding="utf-8")
    good = tmp_path / "five_buildings.csv"
    frame.to_csv(good, index=False)

    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            with _server(port := _free_port(), data_dir, log):
                page = _new_page(browser)
                _to_trafford(page, port)

                # 1. out-of-range values: the reason beside the widget and beside Run; nothing runs
                _nav(page, "Scenario", "Scenario: Trafford")
                _set_number(page, "Appraisal, costs and moves", "Appraisal years", "0")
                _set_number(page, "Solver", "Time limit, s", "0")
                page.get_by_role("button", name="Run").first.click()
                body = page.locator("body")
                expect(body).to_contain_text("Not run: 2 values must be fixed first", timeout=WAIT_MS)
                widget_error = page.get_by_test_id("stExpander").filter(has_text="Appraisal years")
                expect(widget_error.first).to_contain_text("appraisal.years = 0 is out of range")
                expect(body).to_contain_text("solver.time_limit_s = 0.0 is out of range")
                assert page.get_by_role("button", name="Stop, and keep the best plan so far").count() == 0
                assert page.get_by_label("Save as").count() == 0  # no result: Run refused
                page.screenshot(path=ARTIFACTS / "e2e_safety_refused.png", full_page=True)
                _no_error_on_page(page)

                # 2. a headers-only CSV: a plain message; then a good one, which is kept
                _nav(page, "Estate", "Estate: Trafford")
                page.get_by_role("tab", name="Load partner registers").click()
                uploader = page.locator("[data-testid='stFileUploader']").filter(
                    has_text="Buildings register"
                )
                uploader.locator("input[type='file']").set_input_files(str(headers_only))
                load = page.get_by_role("button", name="Check and load")
                expect(load).to_be_enabled(timeout=WAIT_MS)
                load.click()
                expect(body).to_contain_text("headers_only.csv: no rows below the header", timeout=WAIT_MS)
                assert "First problems" not in body.inner_text()
                _no_error_on_page(page)
                uploader.locator("input[type='file']").set_input_files(str(good))
                expect(load).to_be_enabled(timeout=WAIT_MS)
                load.click()
                expect(body).to_contain_text("five_buildings: loaded", timeout=WAIT_MS)

            # 3. a restart: a second server on the same data directory offers the upload again
            with _server(port := _free_port(), data_dir, log):
                page = _new_page(browser)
                body = page.locator("body")
                _to_trafford(page, port)
                page.get_by_role("tab", name="Load partner registers").click()
                expect(body).to_contain_text("Registers uploaded before", timeout=WAIT_MS)
                kept = page.get_by_role("combobox", name="Saved upload")  # its label, as chosen
                expect(kept).to_have_value(re.compile(r"^five_buildings \(five_buildings\.csv; saved "))
                page.get_by_role("button", name="Load again").click()
                page.locator("h1", has_text="Estate: five_buildings").wait_for(timeout=WAIT_MS)
                _no_error_on_page(page)

                # 4. Compare: two saves of Trafford by default, and where they differ
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
                page.get_by_role("option", name="Trafford").click()
                page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)
                _nav(page, "Scenario", "Scenario: Trafford")
                _run_and_save(page, "option one")
                _set_number(page, "Outcomes and limits", "Most disposals", "0")
                _run_and_save(page, "option two")
                _nav(page, "Compare", "Compare options")
                expect(body).to_contain_text("Where these options differ", timeout=WAIT_MS)
                expect(body).to_contain_text(
                    "Limits: max disposals: 0 in option two (Trafford); no limit in option one (Trafford)"
                )
                expect(body).to_contain_text(
                    "Kept in option two (Trafford), disposed of in option one (Trafford)"
                )
                page.screenshot(path=ARTIFACTS / "e2e_safety_compare.png", full_page=True)
                _no_error_on_page(page)
        finally:
            browser.close()
