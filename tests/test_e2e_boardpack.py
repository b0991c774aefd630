"""End to end, in Debian's headless Chromium: the board pack as a board gets it from the app.

Trafford's default plan is run in the app; the Results page shows the status in a board's terms
(green for proven optimal) and offers the pack as PDF and HTML; the PDF downloaded from the page
is A4 and its first page holds the summary and the headline figures; the HTML pack opened in the
browser shows the summary first, with the map as a picture. Screenshots of the
Results page, the pack and the PDF's first page are kept in tests/artifacts/. Every wait is on a
condition, never a clock (see tests/test_e2e_browser.py, whose helpers this reuses).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.test_e2e_browser import (
    ARTIFACTS,
    MAP_FRAME,
    WAIT_MS,
    Watch,
    _free_port,
    _launch,
    _nav,
    _need_browser,
    _new_page,
    _no_error_on_page,
    _server,
)
from tests.test_report_boardpack import save_first_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

A4_POINTS = (595.28, 841.89)


def _page_sizes(pdf_path) -> list[tuple[float, float]]:
    """Every page's size in points, as poppler's pdfinfo reads it (WeasyPrint compresses its objects)."""
    if not shutil.which("pdfinfo"):
        msg = "pdfinfo (apt-get install poppler-utils) is needed to read the PDF's page sizes"
        pytest.fail(msg) if os.environ.get("CI") else pytest.skip(msg)
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    return [(float(w), float(h)) for w, h in found]


def test_the_board_pack_from_the_results_page(tmp_path):
    _need_browser()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    data_dir, log = tmp_path / "app-data", tmp_path / "streamlit.log"
    port = _free_port()
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            with _server(port, data_dir, log):
                page = _new_page(browser)
                watch = Watch(page)
                page.goto(f"http://127.0.0.1:{port}")
                page.locator("h1", has_text="Estate: Greater Manchester").wait_for(timeout=WAIT_MS)
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
                page.get_by_role("option", name="Trafford").click()
                page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)
                _nav(page, "Scenario", "Scenario: Trafford")
                page.get_by_role("button", name="Run").first.click()
                page.locator("[data-testid='stMetric']").nth(9).wait_for(timeout=WAIT_MS)

                # Results: the status in a board's terms, green; the pack's buttons
                _nav(page, "Results", "Results: Trafford")
                status = page.locator("[data-testid='stAlertContentSuccess']", has_text="proven optimal")
                status.wait_for(timeout=WAIT_MS)
                words = status.inner_text()
                assert "no better plan is possible" in words or "the best possible plan is at most £" in words
                pdf_button = page.get_by_role("button", name="Board pack (PDF, A4)")
                pdf_button.wait_for(timeout=WAIT_MS)
                page.frame_locator(MAP_FRAME).first.locator(".leaflet-container").wait_for(timeout=WAIT_MS)
                page.screenshot(path=ARTIFACTS / "e2e_boardpack_results.png", full_page=True)
                _no_error_on_page(page)
                npv = next(
                    m.locator("[data-testid='stMetricValue']").inner_text().strip()
                    for m in page.locator("[data-testid='stMetric']").all()
                    if m.locator("[data-testid='stMetricLabel']").inner_text().strip().startswith("NPV")
                )

                with page.expect_download(timeout=WAIT_MS) as pdf_download:
                    pdf_button.click()
                pdf_path = ARTIFACTS / "e2e_board_pack.pdf"
                pdf_download.value.save_as(pdf_path)
                with page.expect_download(timeout=WAIT_MS) as html_download:
                    page.get_by_role("button", name="Board pack (HTML)").click()
                html_path = ARTIFACTS / "e2e_board_pack_results.html"
                html_download.value.save_as(html_path)
                _no_error_on_page(page)
                assert watch.errors == []

                # the PDF: A4 on every page; page one holds the summary and the headline figures
                pdf = pdf_path.read_bytes()
                assert pdf.startswith(b"%PDF")
                boxes = _page_sizes(pdf_path)
                assert boxes and all(
                    abs(w - A4_POINTS[0]) < 1 and abs(h - A4_POINTS[1]) < 1 for w, h in boxes
                ), boxes
                if shutil.which("pdftotext"):
                    first = subprocess.run(
                        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf_path), "-"],
                        capture_output=True,
                        text=True,
                        check=True,
                        timeout=120,
                    ).stdout
                    for heading in ("What this option does", "Headline outcomes", "How sure the answer is"):
                        assert heading in first
                    assert npv in first
                save_first_page(pdf_path, "e2e_board_pack_pdf_page1")

                # the HTML pack in the browser: the summary first, the map as a picture, print media
                pack = _new_page(browser)
                pack.goto(html_path.as_uri())
                pack.locator("h1", has_text="Trafford: option").wait_for(timeout=WAIT_MS)
                assert pack.locator(".status.status-good").count() == 1
                assert pack.locator("img.map").evaluate("i => i.complete && i.naturalWidth > 0")
                pack.emulate_media(media="print")
                pack.screenshot(path=ARTIFACTS / "e2e_board_pack.png", full_page=True)
                pack.close()
        finally:
            browser.close()
