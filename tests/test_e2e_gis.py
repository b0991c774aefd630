"""End to end, in Debian's headless Chromium: the maps' GIS behaviour and progress beside Run (issue 14).

On the Greater Manchester estate page: borough boundaries drawn as vector polygons with no tile
needed, and a legend that fits the map and collapses. On Greater Manchester's Scenario page:
the progress line is in view next to Run from the first update, shows the stage and the time
limit and then the best plan's NPV; Stop ends the run as "stopped by the user". On Trafford's
Results page: zones shaded as polygons, the Before/After/Change toggle, moves drawn with arrow
heads, building search zooms to the building, the partner/type filter hides others, and the
PNG download. Screenshots of the Results page, the board pack and its PDF's first page are kept
in tests/artifacts/ (git-ignored). Every wait is on a condition, never on the clock.
"""

from __future__ import annotations

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

POLYGONS = """() => {
    let n = 0;
    window.map.eachLayer(l => {
        const g = l.feature && l.feature.geometry;
        if (g && (g.type === 'Polygon' || g.type === 'MultiPolygon')) n += 1;
    });
    return n;
}"""
BOROUGHS = """() => {
    let n = 0;
    window.map.eachLayer(l => { if (l.feature && l.feature.properties.k === 'borough') n += 1; });
    return n;
}"""
ARROWS = """() => {
    let n = 0;
    window.map.eachLayer(l => {
        const g = l.feature && l.feature.geometry;
        const k = l.feature && l.feature.properties.k;
        if (g && k !== 'borough' && k !== 'lsoa' && g.type === 'MultiLineString' && g.coordinates.length === 2) n += 1;
    });
    return n;
}"""
VISIBLE_BUILDINGS = """() => {
    let n = 0;
    window.map.eachLayer(l => {
        const g = l.feature && l.feature.properties && l.feature.properties.g;
        if (g && l.options && l.options.opacity !== 0) n += 1;
    });
    return n;
}"""


def _map(page):
    frame = page.frame_locator(MAP_FRAME).first
    frame.locator(".leaflet-container").wait_for(timeout=WAIT_MS)
    return frame


def test_gis_maps_and_progress_next_to_run_in_a_real_browser(tmp_path):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

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

                # GM estate page: boundaries as vector polygons (no tile needed) and a legend that fits
                frame = _map(page)
                container = frame.locator(".leaflet-container")
                expect(frame.locator(".leaflet-container")).to_be_visible()
                assert container.evaluate(BOROUGHS) >= 10  # the ten borough outlines, vector lines
                legend = frame.locator("details", has=frame.locator("summary", has_text="Legend"))
                legend.wait_for(timeout=WAIT_MS)
                box, inner = container.bounding_box(), legend.bounding_box()
                assert inner["height"] <= box["height"] and inner["width"] <= box["width"]
                legend.locator("summary").click()
                expect(legend).not_to_have_attribute("open", "")
                _no_error_on_page(page)

                # GM Scenario: progress beside Run from the first update; Stop ends the run
                _nav(page, "Scenario", "Scenario: Greater Manchester")
                run = page.get_by_role("button", name="Run").first
                run.click()
                line = page.locator("[data-testid='stAlertContentInfo']", has_text="s time limit").first
                line.wait_for(timeout=WAIT_MS)
                expect(line).to_contain_text(" s time limit")
                expect(line).to_be_in_viewport()
                expect(run).to_be_in_viewport()
                expect(line).to_contain_text("plan NPV £", timeout=WAIT_MS)
                page.get_by_role("button", name="Stop, and keep the best plan so far").click()
                page.locator(
                    "[data-testid='stAlertContentError']", has_text="stopped by the user"
                ).first.wait_for(timeout=WAIT_MS)
                _no_error_on_page(page)

                # Trafford Results: zones as areas, toggle, arrows, search, filter, PNG
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
                page.get_by_role("option", name="Trafford").click()
                page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)
                _nav(page, "Scenario", "Scenario: Trafford")
                page.get_by_role("button", name="Run").first.click()
                page.locator("[data-testid='stMetric']").nth(9).wait_for(timeout=WAIT_MS)
                _nav(page, "Results", "Results: Trafford")
                frame = _map(page)
                container = frame.locator(".leaflet-container")
                toggle = frame.locator(".estate-toggle")
                toggle.wait_for(timeout=WAIT_MS)
                assert container.evaluate(POLYGONS) > 10  # the zones, as LSOA areas
                for label in ("Before", "Change", "After"):
                    toggle.get_by_role("button", name=label).click()
                    expect(toggle.get_by_role("button", name=label)).to_have_css("font-weight", "700")
                assert container.evaluate(ARROWS) > 0  # each move is a line and its arrow head
                tools = frame.locator(".estate-tools")
                search = tools.locator("input[type='search']")
                name = tools.locator("datalist option").first.get_attribute("value")
                zoom_before = container.evaluate("() => window.map.getZoom()")
                search.fill(name)
                search.press("Enter")
                frame.locator(".leaflet-popup-content").wait_for(timeout=WAIT_MS)
                assert container.evaluate("() => window.map.getZoom()") >= max(zoom_before, 15)
                shown = container.evaluate(VISIBLE_BUILDINGS)
                picker = tools.locator("select")
                choice = picker.locator("option").nth(1).get_attribute("value")
                picker.select_option(choice)
                assert 0 < container.evaluate(VISIBLE_BUILDINGS) < shown
                picker.select_option("All partners")
                with page.expect_download(timeout=WAIT_MS) as png:
                    tools.get_by_role("button", name="PNG").click()
                png_path = ARTIFACTS / "e2e_gis_map.png"
                png.value.save_as(png_path)
                assert png_path.read_bytes().startswith(b"\x89PNG")
                page.screenshot(path=ARTIFACTS / "e2e_gis_results.png", full_page=True)

                # the board pack, as PDF (first page kept) and HTML (screenshot kept)
                with page.expect_download(timeout=WAIT_MS) as pdf_download:
                    page.get_by_role("button", name="Board pack (PDF, A4)").click()
                pdf_path = ARTIFACTS / "e2e_gis_board_pack.pdf"
                pdf_download.value.save_as(pdf_path)
                assert pdf_path.read_bytes().startswith(b"%PDF")
                first_page = save_first_page(pdf_path, "e2e_gis_board_pack_pdf_page1")
                with page.expect_download(timeout=WAIT_MS) as html_download:
                    page.get_by_role("button", name="Board pack (HTML)").click()
                html_path = ARTIFACTS / "e2e_gis_board_pack.html"
                html_download.value.save_as(html_path)
                pack = _new_page(browser)
                pack.goto(html_path.as_uri())
                pack.locator("h1", has_text="Trafford: option").wait_for(timeout=WAIT_MS)
                pack.emulate_media(media="print")
                pack.screenshot(path=ARTIFACTS / "e2e_gis_board_pack.png", full_page=True)
                pack.close()
                _no_error_on_page(page)
                assert watch.errors == []
                for shot in ("e2e_gis_results.png", "e2e_gis_board_pack.png"):
                    assert (ARTIFACTS / shot).stat().st_size > 0
                assert first_page is not None and first_page.stat().st_size > 0, "pdftoppm is needed"
        finally:
            browser.close()
