"""End to end in a real browser: the Results page's Options for the board on Trafford (issue 13).

Runs the default scenario, then each part of Options for the board (alternatives, the price of
each decision, a trade-off curve, robustness) and waits for what each must show. Every wait is
on a condition with the browser test's generous timeout; nothing asserts how long anything took.
"""

from __future__ import annotations

import re

import pytest

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

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _tab(page, name: str):
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


def _shown(page, locator, step: str) -> None:
    """Wait for `locator`; on a timeout, keep a screenshot and say what the page shows instead."""
    try:
        locator.wait_for(timeout=WAIT_MS)
    except Exception:
        page.screenshot(path=ARTIFACTS / f"e2e_options_{step}_failed.png", full_page=True)
        errors = page.locator("[data-testid='stAlertContentError']").all_inner_texts()
        pytest.fail(f"{step}: not shown; errors on the page: {errors}")


def test_options_for_the_board_in_a_real_browser(tmp_path):
    _need_browser()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            with _server(port, tmp_path / "app-data", tmp_path / "streamlit.log"):
                page = _new_page(browser)
                page.goto(f"http://127.0.0.1:{port}")
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
                page.get_by_role("option", name="Trafford").click()
                page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)
                _nav(page, "Scenario", "Scenario: Trafford")
                page.get_by_role("button", name="Run").first.click()
                page.locator("[data-testid='stMetric']").nth(9).wait_for(timeout=WAIT_MS)
                _nav(page, "Results", "Results: Trafford")
                page.locator("h3", has_text="Options for the board").wait_for(timeout=WAIT_MS)

                panel = _tab(page, "Alternatives")
                panel.get_by_role("button", name="Find alternatives").click()
                panel.get_by_text("alternative(s) found within").wait_for(timeout=WAIT_MS)

                panel = _tab(page, "Price of each decision")
                panel.get_by_role("button", name="Price the decisions").click()
                price = panel.locator(
                    "[data-testid='stMarkdownContainer']", has_text="keeping this building would cost"
                )
                price.wait_for(timeout=WAIT_MS)  # the dearest disposal's price, in words

                panel = _tab(page, "Trade-offs")
                values = panel.get_by_label("Values (comma-separated)")
                values.fill("1.5,2,3")
                values.press("Enter")
                panel.get_by_role("button", name="Draw the curve").click()
                _shown(page, panel.locator("[data-testid='stVegaLiteChart']").first, "trade-offs")

                panel = _tab(page, "Robustness")
                panel.get_by_role("button", name="Draw and solve").click()
                panel.locator("[data-testid='stMetric']", has_text="NPV P10").wait_for(timeout=WAIT_MS)
                panel.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=WAIT_MS)
                panel.locator("[data-testid='stDeckGlJsonChart']").wait_for(timeout=WAIT_MS)
                core = re.compile(r"Robust core \(\d+\)")
                panel.locator("[data-testid='stMarkdownContainer']", has_text=core).wait_for(timeout=WAIT_MS)
                _no_error_on_page(page)
                page.screenshot(path=ARTIFACTS / "e2e_options_robustness.png", full_page=True)
        finally:
            browser.close()
