"""End to end, with login on: `streamlit run app.py` with ``ESTATE_APP_AUTH=users``, in Chromium.

Shows, in a real browser against a real server:

- before login nobody sees anything: not on the first request a fresh server gets (for a page's
  own address, which Streamlit would otherwise run by itself), not at the front page: no
  estate name, no map, no sidebar pages; only the login form;
- a wrong password is refused;
- an officer runs and saves a scenario; the store records who ran and saved it;
- a viewer sees it, but Run, Save and Delete are absent or disabled, the data exports are
  disabled (the board pack is not), and nothing happened in the store;
- an admin deletes it; the audit trail (Admin page) says who.

Every wait is on a condition (an element and its content), with generous timeouts; nothing is
timed. Uses /usr/bin/chromium; skips without it only outside CI.
"""

from __future__ import annotations

import re

import pytest

from optimiser.auth import add_user
from optimiser.store import ScenarioStore
from tests.conftest import REPO
from tests.test_e2e_browser import _free_port, _launch, _need_browser, _new_page, _no_error_on_page, _server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 90_000  # generous: the machine may be busy
RUN_WAIT_MS = 300_000  # a solve, on a machine that may be very busy
PASSWORDS = {"vic": "viewer password 1", "otto": "officer password 2", "ann": "admin password 3"}
ROLES = {"vic": "viewer", "otto": "officer", "ann": "admin"}
ARTIFACTS = REPO / "tests" / "artifacts"


def _login_form_only(page, expect) -> None:
    """The login form is drawn, and nothing of the app is (what an earlier page left is gone)."""
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_label("User name")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_label("Password", exact=True)).to_be_visible(timeout=WAIT_MS)
    for selector in (
        "iframe",  # a map
        "[data-testid='stSidebarNav']",
        "[data-testid='stSidebarUserContent'] [data-testid='stElementContainer']",  # an empty shell may stay
        "[data-testid='stMetric']",
        "[data-testid='stDataFrame']",
        "[data-stale='true']",
    ):
        expect(page.locator(selector)).to_have_count(0, timeout=WAIT_MS)
    for words in ("Greater Manchester", "Trafford", "Estate:", "Saved scenarios", "Logged in as"):
        expect(page.locator("body")).not_to_contain_text(words, timeout=WAIT_MS)
    expect(page.locator("h1")).to_have_text(["Public Estate Optimiser"], timeout=WAIT_MS)
    _no_error_on_page(page)


def _log_in(page, expect, name: str, password: str | None = None) -> None:
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORDS[name] if password is None else password)
    page.get_by_role("button", name="Log in").click()
    if password is None:
        expect(page.locator("h1", has_text="Estate: Greater Manchester")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text(f"Logged in as {name} ({ROLES[name]})")).to_be_visible(timeout=WAIT_MS)


def _log_out(page, expect) -> None:
    page.get_by_role("button", name="Log out").click()
    _login_form_only(page, expect)


def _to_trafford(page, expect) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name="Trafford").click()
    expect(page.locator("h1", has_text="Estate: Trafford")).to_be_visible(timeout=WAIT_MS)


def _nav(page, expect, name: str, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    expect(page.locator("h1", has_text=title)).to_be_visible(timeout=WAIT_MS)


def test_nobody_sees_anything_before_login_and_each_role_may_do_only_its_part(tmp_path, monkeypatch):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    data_dir, log = tmp_path / "app-data", tmp_path / "streamlit.log"
    for name, role in ROLES.items():
        add_user(data_dir / "users.toml", name, role=role, password=PASSWORDS[name])
    monkeypatch.setenv("ESTATE_APP_AUTH", "users")  # _server passes the environment on
    store = ScenarioStore(data_dir)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"

    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            with _server(port, data_dir, log):
                page = _new_page(browser)

                # 1. nobody: the server's very first request is for a page's own address
                page.goto(f"{url}/results")
                _login_form_only(page, expect)
                page.goto(f"{url}/admin")
                _login_form_only(page, expect)
                page.goto(url)
                _login_form_only(page, expect)
                page.screenshot(path=ARTIFACTS / "e2e_login_1_before_login.png")

                # 2. a wrong password is refused
                _log_in(page, expect, "otto", "not the password")
                expect(page.get_by_text("Wrong user name or password.")).to_be_visible(timeout=WAIT_MS)
                _login_form_only(page, expect)

                # 3. the officer runs and saves
                _log_in(page, expect, "otto")
                _to_trafford(page, expect)
                _nav(page, expect, "Scenario", "Scenario: Trafford")
                run = page.get_by_role("button", name="Run").first
                expect(run).to_be_enabled(timeout=WAIT_MS)
                page.locator("[data-testid='stExpander'] summary", has_text="Solver").click()
                page.get_by_label("Stop within this gap").fill("0.05")  # quick on a busy machine
                run.click()
                expect(page.locator("[data-testid='stMetric']")).to_have_count(10, timeout=RUN_WAIT_MS)
                box = page.get_by_label("Save as")
                box.fill("e2e officer option")
                box.press("Enter")
                page.get_by_role("button", name="Save scenario").click()
                expect(page.get_by_text("Saved “e2e officer option”")).to_be_visible(timeout=WAIT_MS)
                expect(page.get_by_role("button", name="Delete")).to_be_disabled(timeout=WAIT_MS)
                (saved,) = store.list_runs()
                record = store.load(saved.run_id)
                assert (record.name, record.ran_by, record.saved_by) == ("e2e officer option", "otto", "otto")
                _no_error_on_page(page)
                _log_out(page, expect)

                # 4. the viewer sees the saved run but cannot run, save, delete or export data
                _log_in(page, expect, "vic")
                _to_trafford(page, expect)
                expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin")).to_have_count(0)
                _nav(page, expect, "Scenario", "Scenario: Trafford")
                expect(page.get_by_role("combobox", name="Saved scenario")).to_have_value(
                    re.compile(r"^e2e officer option \(Trafford, saved "), timeout=WAIT_MS
                )
                for button in page.get_by_role("button", name="Run").all():
                    expect(button).to_be_disabled(timeout=WAIT_MS)
                delete = page.get_by_role("button", name="Delete")
                expect(delete).to_be_disabled(timeout=WAIT_MS)
                assert page.get_by_role("button", name="Save scenario").count() == 0
                delete.click(force=True)  # a disabled button: the browser sends nothing
                page.get_by_role("button", name="Run").first.click(force=True)
                page.screenshot(path=ARTIFACTS / "e2e_login_2_viewer_scenario.png")
                _nav(page, expect, "Results", "Results: Trafford")
                expect(page.get_by_role("heading", name="Option “e2e officer option”")).to_be_visible(
                    timeout=WAIT_MS
                )
                csv_buttons = page.locator("button[aria-label='Download as CSV']")
                expect(csv_buttons.first).to_be_attached(timeout=WAIT_MS)
                expect(csv_buttons.first).to_be_hidden(timeout=WAIT_MS)  # the tables' own CSV button
                _nav(page, expect, "Export", "Export: Trafford")
                expect(page.get_by_role("button", name="Board pack (HTML, print to PDF)")).to_be_enabled(
                    timeout=WAIT_MS
                )
                for label in ("Disposal list (CSV)", "All tables (CSV, zipped)", "Scenario (TOML)"):
                    expect(page.get_by_role("button", name=label)).to_be_disabled(timeout=WAIT_MS)
                with page.expect_download(timeout=WAIT_MS) as pack:
                    page.get_by_role("button", name="Board pack (HTML, print to PDF)").click()
                assert "e2e officer option" in pack.value.path().read_text(encoding="utf-8")
                assert [r.run_id for r in store.list_runs()] == [saved.run_id]  # nothing happened
                assert [(e.action, e.user) for e in store.audit_trail()] == [("save", "otto")]
                _no_error_on_page(page)
                _log_out(page, expect)

                # 5. the admin deletes it, and the audit trail says who
                _log_in(page, expect, "ann")
                _to_trafford(page, expect)
                _nav(page, expect, "Scenario", "Scenario: Trafford")
                delete = page.get_by_role("button", name="Delete")
                expect(delete).to_be_enabled(timeout=WAIT_MS)
                delete.click()
                confirm = page.get_by_role("button", name="Yes, delete it")  # Delete asks first
                expect(confirm).to_be_enabled(timeout=WAIT_MS)
                confirm.click()
                expect(page.get_by_text("Deleted the saved scenario")).to_be_visible(timeout=WAIT_MS)
                expect(page.get_by_text("None yet for this estate")).to_be_visible(timeout=WAIT_MS)
                assert store.list_runs() == []
                assert [(e.action, e.user) for e in store.audit_trail()] == [
                    ("delete", "ann"),
                    ("save", "otto"),
                ]
                _nav(page, expect, "Admin", "Admin")
                expect(page.locator("h3", has_text="Audit trail")).to_be_visible(timeout=WAIT_MS)
                expect(page.get_by_text("Every save and deletion")).to_be_visible(timeout=WAIT_MS)
                page.screenshot(path=ARTIFACTS / "e2e_login_3_admin.png")
                _no_error_on_page(page)
                _log_out(page, expect)
                page.close()
        finally:
            browser.close()
