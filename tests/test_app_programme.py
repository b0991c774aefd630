"""The programme over time in the app (AppTest, no solve): saved phased runs of Trafford (hand-made
schedules) are read back from the store and shown on Results (the cash-flow table, the year
slider moving the estate) and on Compare (each run's programme and cash flow); a static run
shows none of it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from optimiser.plan import make_plan
from optimiser.report.programme import cashflow_table, estate_as_at
from optimiser.store import ScenarioStore, run_from_plan
from tests.conftest import REPO
from tests.test_report_programme import trafford_phased_plan

APP = str(REPO / "app.py")


@pytest.fixture
def saved(monkeypatch, tmp_path):
    """Two phased runs and a static one of Trafford, saved in this test's own store."""
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "app-data"))
    store = ScenarioStore(tmp_path / "app-data")
    runs = {}
    for name, rank in (("phased one", 0), ("phased two", 1)):
        estate, plan, _ = trafford_phased_plan(name, hub_rank=rank)
        runs[name] = store.save(run_from_plan(estate, plan, place="trafford", estate_key="k"))
    static = make_plan(
        estate,
        plan.scenario.with_changes(phased=False, name="static"),
        plan.buildings.set_index("building_id")["decision"].eq("keep"),
        plan.occupiers,
    )
    runs["static"] = store.save(run_from_plan(estate, static, place="trafford", estate_key="k"))
    return runs


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["place"] = "trafford"
    return at.run()


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _show(at: AppTest, run_id: int) -> AppTest:
    at.switch_page("pages/results.py").run()
    picker = next(s for s in at.selectbox if s.label == "Show")
    return picker.set_value(f"saved:{run_id}").run()


def test_results_shows_a_saved_runs_programme_and_the_estate_by_year(saved):
    run = saved["phased one"]
    at = _show(_app(), int(run.run_id or 0))
    _no_errors(at)
    assert any(h.value == "The programme over time" for h in at.subheader)
    cash = run.plan.programme.cashflow
    shown = next(t.value for t in at.table if "Cumulative net (£)" in t.value.columns)
    expected = cashflow_table(cash).set_index("Year")
    assert shown.astype(str).to_numpy().tolist() == expected.to_numpy().tolist()
    slider = next(s for s in at.slider if s.label.startswith("Show the estate"))
    assert (slider.min, slider.max) == (2026, 2036) and slider.value == 2026
    tables = run.tables
    for year in (2027, 2028):
        at = slider.set_value(year).run()
        _no_errors(at)
        want = estate_as_at(tables["buildings"], tables["occupiers"], tables["programme"], year).words
        assert any(m.value == want for m in at.markdown), want
        slider = next(s for s in at.slider if s.label.startswith("Show the estate"))


def test_a_static_run_has_no_programme_section(saved):
    at = _show(_app(), int(saved["static"].run_id or 0))
    _no_errors(at)
    assert not any(h.value == "The programme over time" for h in at.subheader)
    assert not any(s.label.startswith("Show the estate") for s in at.slider)


def test_compare_shows_each_phased_runs_programme(saved):
    at = _app()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="compare_runs").set_value(
        [saved[n].run_id for n in ("phased one", "phased two", "static")]
    ).run()
    _no_errors(at)
    assert any(h.value == "Programmes over time" for h in at.subheader)
    for name in ("phased one", "phased two"):
        cash = saved[name].plan.programme.cashflow
        expected = cashflow_table(cash).set_index("Year").to_numpy().tolist()
        assert any(
            "Cumulative net (£)" in t.value.columns and t.value.astype(str).to_numpy().tolist() == expected
            for t in at.table
        ), name
    assert any("Options without a programme" in c.value for c in at.caption)
