"""End to end, partners: in a real browser, Trafford with stand-alone plans shows the partnership
value and the per-partner chart, and every figure on screen equals partners.csv of the same run
(the Export page's zip of it). The CLI's own run is checked too where the figures are unique:
Trafford has equally good plans that split the partners differently, so two solves may pick two.

Reuses the helpers of `tests.test_e2e_browser` (the server, Debian's Chromium, the waits). Every
wait is on a condition; nothing here asserts how long anything took.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pandas as pd

from optimiser.report.inert import original_text
from optimiser.report.kpis import format_money
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


def test_partners_view_in_a_real_browser_equals_partners_csv(tmp_path):
    _need_browser()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    cli = tmp_path / "cli"
    subprocess.run(
        [sys.executable, "-m", "optimiser", "run", "--place", "trafford", "--partnership", "--out", str(cli)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=900,
    )
    cli_summary = json.loads((cli / "summary.json").read_text())

    data_dir, log = tmp_path / "app-data", tmp_path / "streamlit.log"
    port = _free_port()
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            with _server(port, data_dir, log):
                page = _new_page(browser)
                page.goto(f"http://127.0.0.1:{port}")
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
                page.get_by_role("option", name="Trafford").click()
                page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)
                _nav(page, "Scenario", "Scenario: Trafford")
                page.get_by_text("Partners: who pays, who benefits").click()
                page.get_by_text("Work out each partner's stand-alone plan").click()
                page.get_by_role("button", name="Run").first.click()
                page.locator("[data-testid='stMetric']").nth(9).wait_for(timeout=WAIT_MS)
                _nav(page, "Results", "Results: Trafford")
                metric = page.locator("[data-testid='stMetric']", has_text="Partnership value")
                metric.wait_for(timeout=WAIT_MS)
                shown = metric.locator("[data-testid='stMetricValue']").inner_text().strip()
                chart = page.locator("[data-testid='stVegaLiteChart'] svg").first
                chart.wait_for(timeout=WAIT_MS)
                labels = {
                    t.strip()
                    for t in chart.locator("text").evaluate_all("els => els.map(e => e.textContent)")
                }
                body = page.inner_text("body")
                page.screenshot(path=ARTIFACTS / "e2e_partners_results.png", full_page=True)
                _nav(page, "Export", "Export: Trafford")  # this run's own partners.csv and summary.json
                with page.expect_download(timeout=WAIT_MS) as download:
                    page.get_by_role("button", name="All tables (CSV, zipped)").click()
                with zipfile.ZipFile(download.value.path()) as archive:
                    summary = json.loads(archive.read("summary.json"))
                    partners = pd.read_csv(io.BytesIO(archive.read("partners.csv")))
                partners["partner"] = partners["partner"].map(original_text)
                assert shown == format_money(summary["partnership_value_gbp"])
                # the partnership value is the difference of optimal objectives: the CLI agrees to the gaps
                assert abs(summary["partnership_value_gbp"] - cli_summary["partnership_value_gbp"]) <= max(
                    1.0,
                    float(summary.get("partnership_value_uncertainty_gbp") or 0.0)
                    + float(cli_summary.get("partnership_value_uncertainty_gbp") or 0.0),
                )
                for _, row in partners.iterrows():
                    share, alone = format_money(row["npv_gbp"]), format_money(row["standalone_npv_gbp"])
                    if abs(row["npv_gbp"]) <= 0.5 and abs(row["standalone_npv_gbp"]) <= 0.5:
                        continue  # nothing either way: not charted
                    assert f"{row['partner']}: {share} · stand-alone {alone}" in body, row["partner"]
                    assert share in labels and alone in labels, (row["partner"], share, alone)
                _no_error_on_page(page)
        finally:
            browser.close()
