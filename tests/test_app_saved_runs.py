"""The app's lists of saved runs survive one corrupt entry: the others are shown, it is named."""

from __future__ import annotations

import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from optimiser.store import ScenarioStore
from tests.conftest import REPO
from tests.test_optimiser_store import _record


@pytest.fixture
def store_with_a_corrupt_run(monkeypatch, tmp_path):
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "app-data"))
    store = ScenarioStore(tmp_path / "app-data")
    for name in ("option one", "option two"):
        store.save(_record(name))
    broken = store.save(_record("broken option"))
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET summary_json = '{truncated' WHERE run_id = ?", (broken.run_id,))
    return store


def _page(page: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["place"] = "trafford"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_the_scenario_page_lists_the_others_and_names_the_corrupt_run(store_with_a_corrupt_run):
    at = _page("pages/scenario.py")

    (listed,) = [d.value for d in at.dataframe if "saved (UTC)" in d.value.columns]
    assert sorted(listed["name"]) == ["option one", "option two"]
    assert any("Saved run “broken option”" in w and "cannot be read" in w for w in _warnings(at))
    choices = at.selectbox(key="delete_choice").options
    assert any("broken option" in c and "(cannot be read)" in c for c in choices)  # it can be deleted


def test_compare_shows_the_readable_runs_and_names_the_corrupt_one(store_with_a_corrupt_run):
    at = _page("pages/compare.py")

    assert sorted(at.table[0].value.columns) == ["option one (Trafford)", "option two (Trafford)"]
    assert any("Saved run “broken option”" in w for w in _warnings(at))
    assert not at.error
