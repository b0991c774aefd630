"""End to end, in Debian's headless Chromium: the maps' GIS behaviour and progress beside Run (issue 14).

On the Greater Manchester estate page: borough boundaries drawn as vector polygons with no tile
needed, and a legend that fits the map and collapses. On Greater Manchester's Scenario page:
the progress line is in view next to Run from the first update, shows the stage and the time
limit and then the best plan's NPV; Stop ends the run as "stopped by the user". The Trafford
Results-page checks (zones as polygons, the toggle, arrows, search, filter, PNG, pack screenshots)
are not here yet: the toggle appears only once a service shading is chosen. Screenshots are kept
in tests/artifacts/ (git-ignored). Every wait is on a condition, never on the clock.
"""

from __future__ import annotations

import re

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

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUN_WAIT_MS = 600_000  # a safety net for Greater Manchester's solve with every core busy, never a measurement

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
                # a limit long enough that the run is still going when Stop is pressed, however busy
                page.get_by_test_id("stExpander").filter(has_text="Solver").locator("summary").first.click()
                limit = page.get_by_label("Time limit, s", exact=True)
                limit.fill("3600")
                limit.press("Tab")
                run = page.get_by_role("button", name="Run").first
                run.click()
                line = page.locator("[data-testid='stAlertContentInfo']", has_text="s time limit").first
                line.wait_for(timeout=WAIT_MS)
                expect(line).to_contain_text(" s time limit")
                expect(line).to_be_in_viewport()
                expect(run).to_be_in_viewport()
                expect(line).to_contain_text("plan NPV £", timeout=RUN_WAIT_MS)
                page.get_by_role("button", name="Stop, and keep the best plan so far").click()
                # the best plan so far is kept and reads "stopped by the user; not proven optimal"
                try:
                    page.locator("[data-testid^='stAlertContent']").filter(
                        has_text=re.compile("stopped by the user", re.IGNORECASE)
                    ).first.wait_for(timeout=RUN_WAIT_MS)
                except Exception:
                    page.screenshot(path=ARTIFACTS / "e2e_gis_stop_failed.png", full_page=True)
                    raise
                _no_error_on_page(page)
                assert watch.errors == []
        finally:
            browser.close()
