"""End to end: `streamlit run app.py`, driven in Debian's headless Chromium with Playwright.

Checks what the app must show:

- the first page (Greater Manchester) has a rendered Leaflet map, with no error on the page,
  and nothing fetched from outside but map tiles;
- the Trafford default scenario shows its KPIs after pressing Run, and they equal the CLI's
  ``summary.json`` for the same scenario;
- a building's popup gives the plan's reason; the board pack and the workbook download;
- a broken register shows its rejected rows and reasons; a file of the wrong type or over the
  size limit is refused with a message; no traceback anywhere;
- a saved scenario is still there after the server restarts (Compare shows it, with maps).

Every wait is on a condition (the element and its content present), with timeouts generous
enough for a busy machine: nothing here asserts how long anything took. The timings are only
recorded, with screenshots, in tests/artifacts/ (git-ignored); speed is measured by
``bench/app_timings.py`` and reported in docs/performance.md. The browser is never downloaded:
the test uses /usr/bin/chromium, and skips without it only outside CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from optimiser.report.kpis import kpi_cards
from optimiser.report.maps import TILE_HOSTS
from tests.conftest import DATA, REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
UPLOAD_LIMIT_MB = 1  # the server is started with this limit, so "too big" stays small and fast
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
WAIT_MS = 180_000  # a safety net for a stuck app, never a measurement: a busy machine is slow

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _need_browser() -> None:
    """Skip without Chromium or Playwright, except in CI, where that is a failure."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        msg = f"Browser test needs {' and '.join(missing)}."
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(port: int, data_dir: Path, log: Path) -> Iterator[float]:
    """`streamlit run app.py` on 127.0.0.1:port; yields the time it first answered."""
    env = {**os.environ, "ESTATE_APP_DATA": str(data_dir), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.maxUploadSize",
                str(UPLOAD_LIMIT_MB),
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WAIT_MS / 1000
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; log:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield time.perf_counter()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Watch:
    """Every request the page makes, and every failure or error it reports."""

    def __init__(self, page) -> None:
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _failed(self, request) -> None:
        host = urlparse(request.url).hostname or ""
        if host in LOCAL_HOSTS and "ERR_ABORTED" in (request.failure or ""):
            return  # the app's own request, cancelled by a rerun or a page change
        self.failed.append(f"{request.url} ({request.failure})")

    def _request(self, request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        host = urlparse(url).hostname or ""
        if host not in LOCAL_HOSTS:
            self.outside.append(url)

    def outside_hosts(self) -> set[str]:
        return {urlparse(u).hostname or "" for u in self.outside}


def _launch(pw):
    """Debian's Chromium, headless; never a downloaded browser."""
    return pw.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def _new_page(browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    page.set_default_timeout(WAIT_MS)
    page.set_default_navigation_timeout(WAIT_MS)
    return page


def _no_error_on_page(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert "This app has encountered an error" not in body


def _nav(page, name: str, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    page.locator("h1", has_text=title).wait_for(timeout=WAIT_MS)


def _metric_values(page) -> dict[str, str]:
    out = {}
    for metric in page.locator("[data-testid='stMetric']").all():
        label = metric.locator("[data-testid='stMetricLabel']").inner_text().strip()
        value = metric.locator("[data-testid='stMetricValue']").inner_text().strip()
        out[label.removesuffix("(modelled)").strip()] = value
    return out


def _number(text: str) -> float:
    """The first number in a shown value: '-£2,197,600' -> -2197600, '339 tCO2e/yr' -> 339."""
    found = re.search(r"(-?)£?([\d,]+(?:\.\d+)?)", text.replace("−", "-"))
    assert found, text
    return float(found.group(1) + found.group(2).replace(",", ""))


def _click_a_disposed_building(page) -> str:
    """Click a disposed building on the plan map; returns its popup's text."""
    frame = page.frame_locator(MAP_FRAME).first
    container = frame.locator(".leaflet-container")
    find = """() => {
        const out = [];
        window.map.eachLayer(l => {
            if (l.feature && l.feature.properties.k === 'dispose' && l.getLatLng) {
                const p = window.map.latLngToContainerPoint(l.getLatLng());
                out.push([p.x, p.y]);
            }
        });
        return out;
    }"""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not (points := container.evaluate(find)):  # wait until the plan's layer is drawn
        if time.monotonic() > deadline:
            pytest.fail("no disposed building on the map")
        time.sleep(0.1)
    box = container.bounding_box()
    popup = frame.locator(".leaflet-popup-content")
    for x, y in points[:8]:
        if not (10 < x < box["width"] * 0.6 and 60 < y < box["height"] - 20):
            continue  # keep clear of the zoom buttons, the legend and the attribution
        container.click(position={"x": x, "y": y})
        with contextlib.suppress(Exception):  # a marker drawn on top may take the click: try the next
            popup.wait_for(timeout=30_000)
            text = popup.inner_text()
            if "dispose" in text:
                return text
    pytest.fail("no popup opened on a disposed building")
    return ""


def test_the_app_end_to_end_in_a_real_browser(tmp_path):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    timings: dict[str, float] = {}

    # the CLI's answer for the same scenario, first, so that it does not share the CPU with the app
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "optimiser",
            "run",
            "--place",
            "trafford",
            "--out",
            str(tmp_path / "cli"),
            "--quiet",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=900,
    )
    timings["cli_trafford_run_s"] = time.perf_counter() - started
    cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    expected = {c.label: c for c in kpi_cards(cli)}

    data_dir, log = tmp_path / "app-data", tmp_path / "streamlit.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            with _server(port, data_dir, log) as answered:
                page = _new_page(browser)
                watch = Watch(page)

                # 1. the first page: Greater Manchester on a map, offline
                page.goto(url)
                frame = page.frame_locator(MAP_FRAME).first
                frame.locator(".leaflet-container").wait_for(timeout=WAIT_MS)
                timings["gm_map_after_server_answered_s"] = time.perf_counter() - answered
                frame.locator(".estate-legend").wait_for(timeout=WAIT_MS)
                timings["gm_estate_page_complete_s"] = time.perf_counter() - answered
                legend = frame.locator(".estate-legend").inner_text()
                assert "Buildings by partner type" in legend
                assert re.search(r"council \(\d+\)", legend)
                assert frame.locator(".leaflet-overlay-pane canvas").count() == 1  # buildings drawn
                page.locator("h1", has_text="Estate: Greater Manchester").wait_for()
                _no_error_on_page(page)
                page.screenshot(path=ARTIFACTS / "e2e_1_estate_greater_manchester.png")
                again = _new_page(browser)  # a second visitor: warm caches
                opened = time.perf_counter()
                again.goto(url)
                again.frame_locator(MAP_FRAME).first.locator(".estate-legend").wait_for(timeout=WAIT_MS)
                timings["gm_estate_page_load_warm_s"] = time.perf_counter() - opened
                again.close()

                # 2. Trafford, default scenario: press Run, see the KPIs
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
                page.get_by_role("option", name="Trafford").click()
                page.locator("h1", has_text="Estate: Trafford").wait_for(timeout=WAIT_MS)
                _nav(page, "Scenario", "Scenario: Trafford")
                page.locator("h3", has_text="Saved scenarios").wait_for(timeout=WAIT_MS)
                page.get_by_role("button", name="Run").first.click()
                pressed = time.perf_counter()
                page.locator("[data-testid='stMetric']").nth(9).wait_for(timeout=WAIT_MS)
                status = page.locator("[data-testid='stAlertContentSuccess']", has_text="proven optimal")
                status.wait_for(timeout=WAIT_MS)  # drawn after the cards: the page is complete
                timings["trafford_kpis_after_pressing_run_s"] = time.perf_counter() - pressed
                shown = _metric_values(page)
                page.screenshot(path=ARTIFACTS / "e2e_2_trafford_kpis.png")
                assert shown == {label: card.value for label, card in expected.items()}
                for label, card in expected.items():  # and the figures themselves, to display precision
                    if card.number is not None and label != "Buildings":
                        decimals = len(m.group(1)) if (m := re.search(r"\.(\d+)", shown[label])) else 0
                        assert _number(shown[label]) == pytest.approx(
                            card.number, abs=0.5 * 10**-decimals + 1e-9
                        )
                assert "proven optimal" in page.inner_text("[data-testid='stAlertContentSuccess']")
                _no_error_on_page(page)

                # 3. save it twice, under two names
                for name in ("e2e option A", "e2e option B"):
                    box = page.get_by_label("Save as")
                    box.fill(name)
                    box.press("Enter")
                    page.get_by_role("button", name="Save scenario").click()
                    page.get_by_text(f"Saved “{name}”").wait_for(timeout=WAIT_MS)

                # 4. Results: the plan map; a disposed building's popup gives the plan's reason
                _nav(page, "Results", "Results: Trafford")
                page.frame_locator(MAP_FRAME).first.locator(".leaflet-container").wait_for(timeout=WAIT_MS)
                popup = _click_a_disposed_building(page)
                assert "Why:" in popup and "dispose" in popup
                popup_box = page.frame_locator(MAP_FRAME).first.locator(".leaflet-popup")
                expect(popup_box).to_have_css("opacity", "1", timeout=WAIT_MS)  # faded in, for the picture
                page.screenshot(path=ARTIFACTS / "e2e_3_results_popup.png")
                _no_error_on_page(page)

                # 5. Export: the board pack is one self-contained page; the workbook has a sheet per table
                _nav(page, "Export", "Export: Trafford")
                with page.expect_download(timeout=WAIT_MS) as pack_download:
                    page.get_by_role("button", name="Board pack (HTML, print to PDF)").click()
                pack = ARTIFACTS / "e2e_board_pack.html"
                pack_download.value.save_as(pack)
                pack_html = pack.read_text(encoding="utf-8")
                assert expected["NPV"].value in pack_html and "L.map(" in pack_html
                assert not re.search(r"<(script|link)[^>]*\b(src|href)=", pack_html)
                with page.expect_download(timeout=WAIT_MS) as xlsx_download:
                    page.get_by_role("button", name="Workbook, a sheet per table (Excel)").click()
                xlsx = tmp_path / "plan.xlsx"
                xlsx_download.value.save_as(xlsx)
                import openpyxl

                sheets = openpyxl.load_workbook(xlsx, read_only=True).sheetnames
                assert {"summary", "buildings", "occupiers", "partners", "access", "zones"} <= set(sheets)
                _no_error_on_page(page)

                # 6. uploads: a broken register, a wrong type, a file over the limit
                _nav(page, "Estate", "Estate: Trafford")
                page.get_by_role("tab", name="Load partner registers").click()
                uploader = page.locator("[data-testid='stFileUploader']").filter(
                    has_text="Buildings register"
                )
                uploader.locator("input[type='file']").set_input_files(str(DATA / "buildings_seven_bad.csv"))
                load_button = page.get_by_role("button", name="Check and load")
                expect(load_button).to_be_enabled(timeout=WAIT_MS)  # the app has the file
                load_button.click()
                rejected_heading = page.get_by_text("Rejected buildings: 6 row(s), with reasons")
                rejected_heading.wait_for(timeout=WAIT_MS)
                for reason in ("appears more than once", "must be at least 0"):  # the table, rendered
                    expect(page.locator("body")).to_contain_text(reason, timeout=WAIT_MS)
                rejected_heading.scroll_into_view_if_needed()
                page.screenshot(path=ARTIFACTS / "e2e_4_upload_rejected_rows.png")
                _no_error_on_page(page)

                wrong = tmp_path / "register.exe"
                wrong.write_bytes(b"MZ\x90\x00 not a register")
                uploader.locator("input[type='file']").set_input_files(str(wrong))
                refusal = page.get_by_text(
                    re.compile(r"(not accepted|not allowed|not supported)", re.IGNORECASE)
                )
                refusal.first.wait_for(timeout=WAIT_MS)
                timings_text_type = refusal.first.inner_text()

                big = tmp_path / "big_register.csv"
                big.write_bytes(
                    b"building_id,lon,lat\n" + b"B1,-2.3,53.4\n" * (UPLOAD_LIMIT_MB * 1024 * 1024 // 12 + 100)
                )
                uploader.locator("input[type='file']").set_input_files(str(big))
                too_big = page.get_by_text(re.compile(r"(must be .*MB or smaller|over the \d+ MB limit)"))
                too_big.first.wait_for(timeout=WAIT_MS)
                timings_text_size = too_big.first.inner_text()
                page.screenshot(path=ARTIFACTS / "e2e_5_upload_refused.png")
                _no_error_on_page(page)

                outside = watch.outside_hosts()
                assert outside <= set(TILE_HOSTS), f"requests left the machine: {sorted(outside)}"
                assert not watch.errors, watch.errors
                assert {urlparse(u).hostname for u in watch.failed} <= set(TILE_HOSTS), (
                    watch.failed
                )  # tiles: offline
                page.close()

            # 7. restart the server: the saved scenarios are still there, and Compare shows them
            with _server(port, data_dir, log) as answered:
                page = _new_page(browser)
                watch = Watch(page)
                page.goto(url)
                page.locator("h1", has_text="Estate: Greater Manchester").wait_for(timeout=WAIT_MS)
                _nav(page, "Compare", "Compare options")
                page.locator("[data-testid='stTable']").wait_for(timeout=WAIT_MS)
                table = page.inner_text("[data-testid='stTable']")
                assert "e2e option A (Trafford)" in table and "e2e option B (Trafford)" in table
                assert expected["NPV"].value in table
                frames = page.locator(MAP_FRAME)
                frames.nth(1).wait_for(timeout=WAIT_MS)
                for i in range(2):
                    page.frame_locator(MAP_FRAME).nth(i).locator(".leaflet-container").wait_for(
                        timeout=WAIT_MS
                    )
                timings["compare_after_restart_s"] = time.perf_counter() - answered
                page.screenshot(path=ARTIFACTS / "e2e_6_compare_after_restart.png")
                _no_error_on_page(page)
                assert watch.outside_hosts() <= set(TILE_HOSTS)
                assert not watch.errors, watch.errors
        finally:
            browser.close()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report = {
        **{k: round(v, 2) for k, v in timings.items()},
        "load_average_1min": round(load, 2),
        "wrong_type_message": timings_text_type,
        "too_big_message": timings_text_size,
    }
    (ARTIFACTS / "e2e_timings.json").write_text(json.dumps(report, indent=2))
    print("\nE2E timings (recorded, not asserted):", json.dumps(report, indent=2))
