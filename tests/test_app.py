"""The Streamlit app, page by page, headless with AppTest (no browser)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time
import warnings
import zipfile
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from estate import load_place
from optimiser.errors import ScenarioError
from optimiser.report.kpis import kpi_cards
from optimiser.scenario import Scenario
from tests.conftest import DATA, REPO

APP = str(REPO / "app.py")


@pytest.fixture(autouse=True)
def _own_store(monkeypatch, tmp_path):
    """Every test gets its own scenario store."""
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "app-data"))


def _app(place: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    if place:
        at.session_state["place"] = place
    return at.run()


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label.removesuffix(" (modelled)"): m.value for m in at.metric}


def _map_args(at: AppTest) -> dict:
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)


def _run_scenario(at: AppTest, *, give_up_s: float = 900) -> AppTest:
    """Press Run and redraw until the background solve has finished (a condition, not a clock:
    ``give_up_s`` only stops a broken run from hanging the suite)."""
    at.button(key=next(b.key for b in at.button if b.label == "Run")).click().run()
    deadline = time.monotonic() + give_up_s
    while "job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.25)
        at.run()
    assert "job" not in at.session_state, "the run did not finish"
    return at


def _save_as(at: AppTest, name: str) -> AppTest:
    box = next(t for t in at.text_input if str(t.key).startswith("save_name_"))
    box.set_value(name)
    at.button(key="save_go").click().run()
    return at.run()  # draw the page again, as the browser would after saving


# ------------------------------------------------------------------------------ Estate
def test_the_app_starts_on_the_bundled_greater_manchester_estate():
    at = _app()
    estate = load_place("greater_manchester")

    _no_errors(at)
    assert at.title[0].value == "Estate: Greater Manchester"
    assert _metrics(at)["Buildings"] == f"{len(estate.buildings):,}"
    assert _metrics(at)["Zones"] == "1,702"


def test_the_estate_map_is_served_without_any_cdn():
    args = _map_args(_app())

    assert all(link.startswith("data:") for link in args["js_links"] + args["css_links"])
    assert args["js_links"] and args["css_links"]
    assert "cdn" not in args["script"] and "cdn" not in args["header"]
    assert args["returned_objects"] == []  # panning or clicking the map never reruns the script


def test_the_place_switcher_offers_greater_manchester_and_trafford():
    at = _app()
    switcher = at.selectbox(key="place_select")

    assert switcher.options == ["Greater Manchester", "Trafford"]
    switcher.set_value("trafford").run()
    assert at.title[0].value == "Estate: Trafford"
    assert _metrics(at)["Buildings"] == f"{len(load_place('trafford').buildings):,}"


def test_the_estate_map_can_be_coloured_by_partner():
    at = _app("trafford")
    at.radio(key="estate_colour").set_value("owner").run()

    _no_errors(at)
    assert "Buildings by partner" in _map_args(at)["script"]


# ------------------------------------------------------------------------------ uploads
def _upload(at: AppTest, name: str, content: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="upload_buildings").set_value((name, content, mime)).run()
    return at


def test_a_broken_register_shows_its_rejected_rows_and_reasons():
    at = _upload(_app("trafford"), "buildings_seven_bad.csv", (DATA / "buildings_seven_bad.csv").read_bytes())
    at.button(key="upload_go").click().run()

    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Rejected buildings: 6 row(s), with reasons" in text
    rejected = next(df.value for df in at.dataframe if "reasons" in df.value.columns)
    assert rejected["source_row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert rejected["reasons"].str.contains("appears more than once").sum() == 2
    assert "Traceback" not in str(at)


def test_a_loaded_register_becomes_a_place_to_work_on():
    at = _upload(_app(), "buildings_seven_bad.csv", (DATA / "buildings_seven_bad.csv").read_bytes())
    at.button(key="upload_go").click().run()
    at.button(key="upload_use").click().run()

    _no_errors(at)
    assert at.title[0].value == "Estate: buildings_seven_bad"
    assert at.session_state["place"].startswith("upload:")
    assert "buildings_seven_bad (uploaded)" in at.selectbox(key="place_select").options


def test_a_register_with_a_column_mapping_loads():
    at = _upload(
        _app("trafford"), "cheltenham.csv", (DATA / "cheltenham_land_and_assets_2023.csv").read_bytes()
    )
    at.selectbox(key="upload_mapping").set_value("transparency-code").run()
    at.button(key="upload_go").click().run()

    _no_errors(at)
    assert any("cheltenham: loaded" in s.value for s in at.success)


def test_a_register_that_cannot_be_read_gives_a_message_not_a_traceback():
    at = _upload(_app("trafford"), "broken.csv", b"just,two columns\n1,2\n")
    at.button(key="upload_go").click().run()

    assert not at.exception
    assert "no location" in at.error[0].value
    assert "/tmp/" not in at.error[0].value


def test_an_unsupported_file_type_is_refused():
    at = _upload(_app("trafford"), "register.exe", b"MZ\x90\x00", "application/octet-stream")

    assert not at.exception
    assert "register.exe: files of type .exe are not accepted" in at.error[0].value
    assert at.button(key="upload_go").disabled


@pytest.fixture
def one_mb_uploads():
    """Set server.maxUploadSize to 1 MB for one test."""
    before = st_config.get_option("server.maxUploadSize")
    st_config.set_option("server.maxUploadSize", 1)
    yield
    st_config.set_option("server.maxUploadSize", before)


@pytest.mark.usefixtures("one_mb_uploads")
def test_a_file_over_the_upload_limit_is_refused():
    at = _upload(_app("trafford"), "big.csv", b"building_id,lon,lat\n" + b"x" * (1024 * 1024 + 10))

    assert not at.exception
    assert "over the 1 MB limit" in at.error[0].value
    assert at.button(key="upload_go").disabled


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_may_hold_only_a_shapefile():
    from pages.common import load_uploads

    result = load_uploads({"buildings": ("register.zip", _zip({"run_me.py": b"print('hi')"}))}, "")

    assert result.estate is None
    assert result.refused == (
        "register.zip: a zip may only hold a shapefile (.shp, .shx, .dbf, .prj, .cpg, .qpj, "
        ".sbn, .sbx, .xml); found run_me.py.",
    )


def test_a_zipped_shapefile_register_loads(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    from pages.common import load_uploads

    frame = gpd.GeoDataFrame(
        {"building_id": ["A1", "B-2"], "owner": ["Council", "NHS"], "gia_m2": [100.0, 200.0]},
        geometry=[Point(380000, 400000), Point(380500, 400000)],
        crs=27700,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL shortens building_id to 10 characters, and says so
        frame.to_file(tmp_path / "register.shp")
    parts = {p.name: p.read_bytes() for p in tmp_path.glob("register.*")}

    result = load_uploads({"buildings": ("register.zip", _zip(parts))}, "")

    assert result.error is None and result.refused == ()
    assert result.estate is not None
    assert list(result.estate.buildings.index) == ["A1"]
    assert result.estate.rejected["buildings"]["reasons"].str.contains("building_id").all()


def test_the_upload_size_limit_is_configured():
    text = (REPO / ".streamlit" / "config.toml").read_text()

    assert re.search(r"^maxUploadSize = 50$", text, flags=re.MULTILINE)


def test_uploads_are_parsed_as_data_only():
    sources = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
    code = "\n".join(p.read_text() for p in sources)

    for forbidden in (
        "import pickle",
        "pickle.load",
        "eval(",
        "exec(",
        "import marshal",
        "read_pickle",
        "allow_pickle",
    ):
        assert forbidden not in code, forbidden


# ------------------------------------------------------------------------------ Scenario
def test_the_scenario_page_draws_the_form():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()

    _no_errors(at)
    assert at.title[0].value == "Scenario: Trafford"
    assert [b.label for b in at.button].count("Run") == 2
    standards = at.data_editor(key="sc_trafford_0_access").value  # the access standards, per service
    assert set(standards["service"]) == set(load_place("trafford").access.index)


def test_the_form_covers_every_field_of_the_scenario():
    def script():
        import streamlit as st

        from estate import load_place
        from optimiser.scenario import Scenario
        from pages import scenario_form

        estate = load_place("trafford")
        values, access, _ = scenario_form.draw(estate, Scenario(), key="t_", solvers=["highs", "cbc"])
        st.session_state["fields"] = sorted(values)
        st.session_state["scenario"] = scenario_form.to_scenario(values, access, estate)

    at = AppTest.from_function(script, default_timeout=600).run()
    fields = {f.name for f in dataclasses.fields(Scenario)} - {"extra", "access"}

    assert set(at.session_state["fields"]) == fields
    assert at.session_state["scenario"] == Scenario()  # the untouched form is the default scenario


def test_access_standards_are_set_per_service():
    from pages import scenario_form

    estate = load_place("trafford")
    rows = scenario_form.access_frame(estate, Scenario())
    rows.loc[rows["service"] == "library", ["rule", "min_share"]] = ["min_share", 0.9]
    rows.loc[rows["service"] == "jobcentre", "enabled"] = False

    scenario = scenario_form.to_scenario({"name": "x"}, rows, estate)

    assert [(s.service, s.rule, s.min_share, s.enabled) for s in scenario.access] == [
        ("library", "min_share", 0.9, True),
        ("jobcentre", "keep_current", None, False),
    ]


def test_an_invalid_scenario_gives_a_message():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    bid = load_place("trafford").buildings.index[0]
    prefix = "sc_trafford_0_"
    at.multiselect(key=prefix + "keep").set_value([bid])
    at.multiselect(key=prefix + "dispose").set_value([bid])
    at.button(key=prefix + "run_top").click().run()

    assert not at.exception
    assert at.error[0].value == (
        f"The scenario is not valid: Scenario 'default': locks.keep and locks.dispose both name {bid}; a "
        "building cannot be both kept and disposed of. Fix: remove it from one of the two lists."
    )
    assert "job" not in at.session_state


def test_a_form_value_goes_through_the_scenario_schema():
    from pages import scenario_form

    estate = load_place("trafford")
    rows = scenario_form.access_frame(estate, Scenario())
    rows.loc[rows["service"] == "library", "reach_km"] = 0.0
    with pytest.raises(ScenarioError) as caught:
        scenario_form.to_scenario({"name": "x"}, rows, estate)
    assert str(caught.value) == (
        "access.services.library.reach_km = 0.0 is out of range. Allowed: a number above 0 and up to "
        "1000, or leave the key out (use reach_min). Fix: e.g. reach_km = 3.0, or remove the line."
    )
    with pytest.raises(ScenarioError) as caught:
        scenario_form.to_scenario({"name": "x", "capital_budget_gbp": float("inf")}, rows.iloc[0:0], estate)
    assert str(caught.value).startswith(
        "Scenario 'x': limits.capital_budget_gbp = inf is not a finite number."
    )


@pytest.mark.solver
def test_threads_beyond_the_cores_are_capped_in_the_app_with_the_cli_message():
    from estate.limits import machine_cores

    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    at.number_input(key="sc_trafford_0_threads").set_value(100_000)
    at.button(key="sc_trafford_0_run_top").click().run()
    cores = machine_cores()
    assert [w.value for w in at.warning] == [
        f"threads = 100000 is more than this machine's {cores} CPU core(s); using {cores} (see docs/limits.md)."
    ]
    job = at.session_state["job"]
    assert job.scenario.threads == cores
    job.cancel.set()  # the run itself is not the point; stop it and wait for it to end
    deadline = time.monotonic() + 120
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.done


def test_a_bundled_scenario_file_loads_into_the_form():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    at.selectbox(key="sc_trafford_load_choice").set_value("file:budget_and_cat").run()
    at.button(key="sc_trafford_load_go").click().run()

    _no_errors(at)
    assert at.text_input(key="sc_trafford_1_name").value == "budget_and_cat"
    assert at.number_input(key="sc_trafford_1_maxdisp").value == 15


@pytest.mark.solver
def test_running_the_trafford_default_scenario_shows_its_kpis():
    from optimiser.pipeline import optimise

    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)

    _no_errors(at)
    expected = {
        c.label: c.value for c in kpi_cards(optimise(load_place("trafford"), Scenario()).summary_dict())
    }
    assert _metrics(at) == expected
    assert "proven optimal" in at.success[0].value


@pytest.mark.solver
def test_a_run_can_be_saved_and_the_same_scenario_is_not_solved_twice(tmp_path):
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    _save_as(at, "board option")

    _no_errors(at)
    assert at.subheader[0].value == "Result: board option"
    assert "board option" in at.dataframe[-1].value["name"].tolist()

    again = _app("trafford")
    again.switch_page("pages/scenario.py").run()
    again.button(key="sc_trafford_0_run_top").click().run()
    assert "job" not in again.session_state  # answered from the cache at once
    assert any("Taken from the cache" in c.value for c in again.caption)


@pytest.mark.solver
@pytest.mark.slow
def test_a_run_shows_progress_and_can_be_stopped_keeping_the_best_plan():
    at = _app()
    at.switch_page("pages/scenario.py").run()
    # a limit the run never reaches, so it ends because Stop was pressed, however busy the machine;
    # without the warm start (which takes 45% of the limit) HiGHS starts at once
    at.number_input(key="sc_greater_manchester_0_timelimit").set_value(1800.0)
    at.checkbox(key="sc_greater_manchester_0_warm").uncheck()
    at.button(key="sc_greater_manchester_0_run_top").click().run()
    deadline, lines = time.monotonic() + 1500, []
    best_plan = re.compile(r"Solving… [\d.]+ s of the [\d.]+ s time limit · plan NPV £[\d,.]+[mk]")
    while "job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        lines += [i.value for i in at.info]
        stop = [b for b in at.button if b.key == "stop_run" and not b.disabled]
        if stop and any(best_plan.search(line) for line in lines):  # a plan to keep exists
            stop[0].click().run()

    assert not at.exception, [e.value for e in at.exception]
    assert lines[0].startswith(("Building the model and a starting plan…", "Building the model: ", "Solving…"))
    assert any(best_plan.search(x) for x in lines)
    # a stopped run is red, and says in pounds how much better a plan could be
    assert [e.value for e in at.error] == [at.error[0].value]
    assert "stopped by the user; not proven optimal" in at.error[0].value
    assert "the best possible plan is at most £" in at.error[0].value
    assert _metrics(at)["Buildings"].startswith(f"{len(load_place('greater_manchester').buildings):,} → ")

    at.button(key="sc_greater_manchester_0_run_top").click().run()
    assert "job" in at.session_state  # a stopped run is not cached: Run solves again
    at.session_state["job"].cancel.set()


def test_progress_gives_elapsed_time_incumbent_and_gap():
    from optimiser.background import SolveJob, progress_text
    from optimiser.progress import Progress

    job = SolveJob(place="p", place_name="P", estate_key="k", scenario=Scenario())
    assert progress_text(job).startswith("Building the model and a starting plan… ")
    assert f"s of the {Scenario().time_limit_s:g} s time limit" in progress_text(job)  # from the first second
    job._report(Progress(3.0, incumbent=153_711.47, bound=153_697.0, gap=0.000094, today=164_894.0))
    pattern = r"Solving… [\d.]+ s of the [\d.]+ s time limit · plan NPV £11\.2m · bound £153\.7m · gap £14k \(0\.1% of NPV\)"
    assert re.fullmatch(pattern, progress_text(job))


@pytest.mark.solver
def test_a_scenario_that_cannot_be_met_says_which_requirement_and_by_how_much():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    at.selectbox(key="sc_trafford_load_choice").set_value("file:impossible").run()
    at.button(key="sc_trafford_load_go").click().run()
    _run_scenario(at)

    assert not at.exception
    assert "library access: " in at.error[0].value and "standard asks 99.9%" in at.error[0].value


# ------------------------------------------------------------------------------ Results
def test_results_before_any_run_say_what_to_do():
    at = _app("trafford")
    at.switch_page("pages/results.py").run()

    _no_errors(at)
    assert "No results yet" in at.info[0].value


@pytest.mark.solver
def test_results_show_kpis_status_map_and_tables():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    at.switch_page("pages/results.py").run()

    _no_errors(at)
    assert len(at.metric) == 10
    assert "proven optimal" in at.success[0].value
    assert [t.label for t in at.tabs] == [
        "Buildings: decisions and reasons",
        "Partners",
        "Access to services",
        "Moves",
        "Alternatives",  # the board's options (pages/options_view.py)
        "Price of each decision",
        "Trade-offs",
        "Robustness",
    ]
    access = next(df.value for df in at.dataframe if "people within reach before" in df.value.columns)
    assert set(access["service"]) >= {"Library", "GP practice"}  # names a person uses, not codes
    args = _map_args(at)
    assert "disposed" in args["script"] and "occupier moves" in args["script"]

    at.selectbox(key="results_service_trafford").set_value("library").run()
    _no_errors(at)
    assert "Zones: km to nearest library" in _map_args(at)["script"]  # LSOA areas, before/after/change


# ------------------------------------------------------------------------------ Compare
def test_compare_needs_two_saved_scenarios():
    at = _app()
    at.switch_page("pages/compare.py").run()

    _no_errors(at)
    assert "Save at least two scenarios" in at.info[0].value


@pytest.mark.solver
def test_compare_shows_saved_scenarios_side_by_side_without_solving():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    for name in ("option one", "option two"):
        _save_as(at, name)

    fresh = _app()
    fresh.switch_page("pages/compare.py").run()

    _no_errors(fresh)
    table = fresh.table[0].value
    assert list(table.columns) == ["option two (Trafford)", "option one (Trafford)"]
    assert table.loc["NPV (modelled)"].nunique() == 1
    assert len(fresh.get("component_instance")) == 2  # one map each
    assert "job" not in fresh.session_state


# ------------------------------------------------------------------------------ Export
def test_export_before_any_run_says_what_to_do():
    at = _app("trafford")
    at.switch_page("pages/export.py").run()

    _no_errors(at)
    assert "No results yet" in at.info[0].value


@pytest.mark.solver
def test_export_offers_every_format():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    at.switch_page("pages/export.py").run()

    _no_errors(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels == [
        "Disposal list (CSV)",
        "All tables (CSV, zipped)",
        "Scenario (TOML)",
        "Buildings with decisions (GeoJSON)",
        "Buildings, moves and zones (GeoPackage)",
        "Workbook, a sheet per table (Excel)",
        "Board pack (PDF, A4)",
        "Board pack (HTML, print to PDF)",
    ]


@pytest.mark.solver
def test_a_saved_run_exports_in_every_format_in_a_new_session():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    _save_as(at, "to export")

    fresh = _app("trafford")
    fresh.switch_page("pages/export.py").run()
    picker = fresh.selectbox(key="export_pick_trafford")
    assert picker.options[0].startswith("Saved: to export (Trafford, saved ")
    fresh.run()

    _no_errors(fresh)
    assert len(fresh.get("download_button")) == 8  # GeoJSON, GeoPackage and Excel from the rebuilt plan


def test_the_app_scripts_hold_no_classes():
    for path in [REPO / "app.py", *(REPO / "pages").glob("*.py")]:
        if path.name != "common.py":  # shared glue; the page scripts stay free of classes and logic
            assert not re.search(r"^class ", path.read_text(), flags=re.MULTILINE), path


def test_the_pages_exist_as_named():
    text = Path(APP).read_text()

    for title in ("Estate", "Scenario", "Results", "Compare", "Export"):
        assert f'title="{title}"' in text
    assert "st.navigation(" in text
