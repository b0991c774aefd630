"""Safe by design, headless (AppTest): every scenario value checked by the scenario file's rules,
the reason beside the widget and beside Run, and Run refusing; saved uploads across restarts."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from optimiser.scenario_checks import field_problem
from tests.conftest import REPO

APP = str(REPO / "app.py")
PREFIX = "sc_trafford_0_"


@pytest.fixture(autouse=True)
def _own_store(monkeypatch, tmp_path):
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "app-data"))


def _scenario_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["place"] = "trafford"
    at.run()
    at.switch_page("pages/scenario.py").run()
    return at


@pytest.mark.parametrize(
    ("widget", "name", "value"),
    [
        ("years", "years", 0),
        ("movecost", "move_cost_gbp_per_m2", -50.0),
        ("timelimit", "time_limit_s", 0.0),
        ("homes", "homes_per_ha", 1e9),
        ("start", "start_year", 1066),
        ("threads", "threads", 0),
    ],
)
def test_an_out_of_range_value_is_refused_beside_the_widget_and_beside_run(widget, name, value):
    at = _scenario_page()
    at.number_input(key=PREFIX + widget).set_value(value)
    at.button(key=PREFIX + "run_top").click().run()

    why = field_problem(name, value)
    assert why is not None and "is out of range" in why
    errors = [e.value for e in at.error]
    assert why in errors  # beside the widget, in the scenario file's words
    summaries = [e for e in errors if e.startswith("Not run: 1 value must be fixed first")]
    assert len(summaries) == 2 and all(why in s for s in summaries)  # beside both Run buttons
    assert "job" not in at.session_state  # Run refused: nothing started, nothing clamped
    assert at.number_input(key=PREFIX + widget).value == value


def test_the_scenario_file_gives_the_same_message():
    from optimiser.errors import ScenarioError
    from optimiser.scenario import Scenario

    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict({"appraisal": {"years": 0}}, source="s.toml")
    assert str(caught.value) == "s.toml: " + str(field_problem("years", 0))


def _edit_access(at: AppTest, edits: dict) -> None:
    # the data editor's state is its edits, as the browser sends them
    at.session_state[PREFIX + "access"] = edits


@pytest.mark.parametrize(
    ("edits", "expect"),
    [
        ({"edited_rows": {0: {"reach_km": -3.0}}}, "reach_km = -3.0 is out of range"),
        ({"edited_rows": {0: {"rule": "min_share", "min_share": 5.0}}}, "min_share = 5.0 is out of range"),
        (
            {
                "added_rows": [
                    {
                        "service": "librarie",
                        "enabled": True,
                        "reach_km": 2.0,
                        "reach_min": float("nan"),
                        "rule": "keep_current",
                        "min_share": float("nan"),
                        "protect_deprived_deciles": 0,
                    }
                ]
            },
            "this estate has no service called 'librarie'",
        ),
    ],
)
def test_a_bad_access_standard_is_refused_under_the_table_and_beside_run(edits, expect):
    at = _scenario_page()
    _edit_access(at, edits)
    at.button(key=PREFIX + "run_top").click().run()

    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Access standards, row") and expect in e for e in errors), errors
    assert sum(e.startswith("Not run:") and expect in e for e in errors) == 2
    assert "job" not in at.session_state


def test_a_kept_upload_is_offered_after_a_restart_and_loads_again(tmp_path):
    import geopandas as gpd
    import pandas as pd

    from estate.upload import load_uploads
    from optimiser import saved_uploads

    b = gpd.read_file(REPO / "data" / "trafford.gpkg", layer="buildings").head(5)
    frame = pd.DataFrame(b.drop(columns="geometry"))
    frame["easting"], frame["northing"] = b.geometry.x, b.geometry.y
    files = {"buildings": ("my_register.csv", frame.to_csv(index=False).encode())}
    result = load_uploads(files, "")
    assert result.estate is not None
    saved_uploads.save(result.key, result.name, files, "")  # what the first server did
    assert saved_uploads.read(result.key) == (files, "")  # the bytes as sent, unchanged

    at = AppTest.from_file(APP, default_timeout=600).run()  # a new server: nothing in the session
    assert not at.exception
    choice = at.selectbox(key="saved_upload_choice")
    assert choice.value == result.key and "my_register.csv" in choice.format_func(result.key)
    at.button(key="saved_upload_load").click().run()
    assert not at.exception
    assert at.session_state["place"] == result.key
    assert at.title[0].value == "Estate: my_register"

    at.button(key="saved_upload_delete").click().run()  # Delete asks first
    assert saved_uploads.saved() != []
    assert any("Delete the saved upload" in w.value for w in at.warning)
    at.button(key="saved_upload_confirm").click().run()
    assert saved_uploads.saved() == []
    assert any(s.value.startswith("Deleted the saved upload “my_register") for s in at.success)


@pytest.mark.solver
def test_compare_defaults_to_same_place_saves_and_says_where_they_differ():
    from tests.test_app import _run_scenario, _save_as

    at = _scenario_page()
    _run_scenario(at)
    _save_as(at, "option one")
    at.number_input(key=PREFIX + "maxdisp").set_value(0)  # no disposals: other decisions
    _run_scenario(at)
    _save_as(at, "option two")

    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    chosen = at.multiselect(key="compare_runs").value
    assert len(chosen) == 2
    assert list(at.table[0].value.columns) == ["option two (Trafford)", "option one (Trafford)"]
    text = "\n".join(m.value for m in at.markdown)
    assert "Limits: max disposals: no limit in option two (Trafford)" not in text  # the values, in order:
    assert "Limits: max disposals: 0 in option two (Trafford); no limit in option one (Trafford)" in text
    assert "Kept in option two (Trafford), disposed of in option one (Trafford)" in text
