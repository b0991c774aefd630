"""optimiser.store: saved scenarios in SQLite, persistent and written atomically."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser import store as store_module
from optimiser.errors import StoreError
from optimiser.jsonable import frame_from_json, frame_to_json
from optimiser.plan import Plan
from optimiser.report.files import csv_zip
from optimiser.scenario import AccessStandard, Scenario
from optimiser.solver import SolveInfo
from optimiser.store import (
    SavedRun,
    ScenarioStore,
    default_data_dir,
    plan_on_estate,
    run_from_plan,
)


def _record(name: str = "option A", *, place: str = "trafford", npv: float = 1234.5) -> SavedRun:
    """A hand-made run: a Plan with small tables (not solved), as the store saves it."""
    buildings = pd.DataFrame(
        {
            "building_id": ["A", "B"],
            "name": ["Hub", "Library"],
            "decision": ["keep", "dispose"],
            "easting": [380000.0, 380500.0],
            "northing": [400000.0, 400000.0],
            "occupiers_in": [1, 0],
            "receipt_gbp": [0.0, 500_000.0],
            "protected": [True, False],
            "reason": ["keep", "dispose: saves £1"],
            "modelled": ["gia_m2;running_cost_gbp", ""],
        }
    )
    occupiers = pd.DataFrame(
        {
            "occupier_id": ["b1"],
            "from_building_id": ["B"],
            "to_building_id": ["A"],
            "share": [1.0],
            "move_km": [0.65],
        }
    )
    access = pd.DataFrame(
        {
            "service": ["library"],
            "rule": ["within 2.0 road km"],
            "reach_km": [2.0],
            "reach_min": [None],
            "min_share": [None],
            "before_population": [1000.0],
            "after_population": [0.0],
            "before_share": [1 / 3],
            "after_share": [0.0],
            "before_sites": [2],
            "after_sites": [1],
            "before_mean_km": [0.1234567890123456],
            "after_mean_km": [0.65],
            "before_p95_km": [0.2],
            "after_p95_km": [0.7],
            "deprived_deciles": [2],
            "before_deprived_population": [100.0],
            "after_deprived_population": [0.0],
        }
    )
    zones = pd.DataFrame(
        {
            "zone_id": ["Z1"],
            "easting": [380100.0],
            "northing": [400000.0],
            "population": [1000],
            "reach_library_before": [True],
            "reach_library_after": [False],
        }
    )
    money = {
        "capital_receipts_gbp": 500_000.0,
        "annual_revenue_saving_gbp": 12_000.0,
        "one_off_cost_gbp": 3_000.0,
        "move_cost_gbp": 2_000.0,
        "disposal_and_exit_cost_gbp": 1_000.0,
        "land_ha": 0.123456789,
        "buildings_before": 2,
        "buildings_after": 1,
    }
    partners = pd.DataFrame([{"partner": "Council", **money}])
    scenario = Scenario(name=name, keep=("A",), access=(AccessStandard("library", reach_km=2.0),))
    plan = Plan(
        estate_name="Trafford",
        scenario=scenario,
        buildings=buildings,
        occupiers=occupiers,
        access=access,
        partners=partners,
        kpis={"npv_gbp": npv, "capital_receipts_gbp": 500_000.0, "payback_years": None},
        info=SolveInfo(
            solver="highs", status="optimal", proven_optimal=True, objective=-1.2345, bound=-1.2345
        ),
        build_s=0.5,
        detour_factor=1.3,
    )
    return SavedRun(plan=plan, zones=zones, place=place, estate_key="v1")


@pytest.fixture
def store(tmp_path: Path) -> ScenarioStore:
    return ScenarioStore(tmp_path / "data")


def test_the_store_lives_where_estate_app_data_says(monkeypatch, tmp_path):
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "mine"))

    assert default_data_dir() == tmp_path / "mine"
    assert ScenarioStore().path == tmp_path / "mine" / "scenarios.sqlite"


def test_the_store_defaults_to_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("ESTATE_APP_DATA", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    assert default_data_dir() == tmp_path / ".local" / "share" / "public-estate-optimiser"


def test_a_saved_run_comes_back_whole(store):
    record = _record()
    saved = store.save(record)
    back = store.load(saved.run_id)

    assert back.scenario == record.scenario
    assert back.summary["kpis"] == record.summary["kpis"]
    assert back.summary["gap"] is None  # NaN is stored as null
    assert (back.place, back.place_name, back.estate_key) == ("trafford", "Trafford", "v1")
    for name, frame in record.tables.items():  # a missing value comes back as NaN, not None
        expected = frame.astype(object).where(frame.notna(), np.nan).infer_objects()
        pd.testing.assert_frame_equal(back.tables[name], expected, check_dtype=False)


def test_a_saved_run_is_still_there_after_a_restart(tmp_path):
    ScenarioStore(tmp_path).save(_record())

    reopened = ScenarioStore(tmp_path)

    assert [r.name for r in reopened.list_runs()] == ["option A"]
    assert reopened.list_runs()[0].npv_gbp == pytest.approx(1234.5)


def test_saving_under_a_new_name_renames_the_scenario(store):
    saved = store.save(_record(), name="board option")

    assert saved.scenario.name == "board option"
    assert store.load(saved.run_id).scenario.name == "board option"


def test_saving_the_same_name_again_replaces_it(store):
    store.save(_record(npv=1.0))
    store.save(_record(npv=2.0))

    runs = store.list_runs()
    assert [(r.name, r.npv_gbp) for r in runs] == [("option A", 2.0)]


def test_runs_are_listed_per_place_newest_first(store):
    store.save(_record("first"))
    store.save(_record("second"))
    store.save(_record("elsewhere", place="greater_manchester"))

    assert [r.name for r in store.list_runs(place="trafford")] == ["second", "first"]
    assert len(store.list_runs()) == 3


def test_a_run_can_be_deleted(store):
    saved = store.save(_record())

    assert store.delete(saved.run_id)
    assert store.list_runs() == []
    assert not store.delete(saved.run_id)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_tables").fetchone()[0] == 0


def test_a_failed_save_leaves_nothing_half_written(store):
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "CREATE TRIGGER fail_on_zones BEFORE INSERT ON run_tables WHEN NEW.name = 'zones' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )

    with pytest.raises(StoreError, match="Could not save scenario 'option A'.*disk full"):
        store.save(_record())

    assert store.list_runs() == []
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_tables").fetchone()[0] == 0


def test_loading_a_missing_run_says_so(store):
    with pytest.raises(StoreError, match="No saved run with id 42"):
        store.load(42)


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "scenarios.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")

    with pytest.raises(StoreError, match="schema version 99 is newer"):
        ScenarioStore(path)


def test_a_corrupt_scenario_in_the_store_is_reported(store):
    saved = store.save(_record())
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET scenario_toml = '[appraisal]\nyears = -1'")
        conn.execute("DELETE FROM run_digests")  # as a run saved before digests were kept

    with pytest.raises(StoreError, match="Saved run 'option A' has a scenario this version cannot read"):
        store.load(saved.run_id)


@pytest.mark.parametrize(
    "corrupt",
    ["'{not json'", "'[1, 2]'", """'{"kpis": {"npv_gbp": "lots"}}'"""],
)
def test_one_corrupt_run_is_listed_with_the_reason_and_the_others_still_load(store, corrupt):
    good = store.save(_record("option A"))
    bad = store.save(_record("option B"))
    with sqlite3.connect(store.path) as conn:
        conn.execute(f"UPDATE runs SET summary_json = {corrupt} WHERE run_id = ?", (bad.run_id,))

    listed = {info.name: info for info in store.list_runs()}

    assert set(listed) == {"option A", "option B"}
    assert listed["option A"].problem == "" and listed["option A"].npv_gbp == 1234.5
    assert listed["option B"].problem.startswith("its summary cannot be read")
    assert store.load(good.run_id).name == "option A"
    with pytest.raises(StoreError, match="Saved run 'option B' .* has changed since it was saved"):
        store.load(bad.run_id)


def test_a_saved_run_whose_tables_were_changed_is_refused(store):
    saved = store.save(_record())
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "UPDATE run_tables SET data_json = replace(data_json, 'Library', 'Lib') WHERE name = 'buildings'"
        )

    with pytest.raises(StoreError, match=r"Saved run 'option A' \(id 1\) has changed since it was saved"):
        store.load(saved.run_id)


def test_a_run_saved_before_digests_with_an_unreadable_table_gives_a_message(store):
    saved = store.save(_record())
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE run_tables SET data_json = '{oops' WHERE name = 'zones'")
        conn.execute("DELETE FROM run_digests")

    with pytest.raises(StoreError, match=r"Saved run 'option A' \(id 1\) cannot be read"):
        store.load(saved.run_id)


def test_deleting_a_run_deletes_its_digest(store):
    saved = store.save(_record())
    store.delete(saved.run_id)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*) FROM run_digests").fetchone() == (0,)


def test_everything_is_stored_as_text_never_pickled(store):
    store.save(_record())
    with sqlite3.connect(store.path) as conn:
        toml_text, summary = conn.execute("SELECT scenario_toml, summary_json FROM runs").fetchone()
        kinds = {row[0] for row in conn.execute("SELECT typeof(data_json) FROM run_tables")}

    assert 'name = "option A"' in toml_text
    assert json.loads(summary)["kpis"]["npv_gbp"] == 1234.5
    assert kinds == {"text"}
    assert "import pickle" not in Path(store_module.__file__).read_text()


def test_tables_round_trip_through_json_with_lists_and_missing_values():
    frame = pd.DataFrame({"a": ["x", None], "b": [1.5, np.nan], "c": [(1, 2), ()], "d": [True, False]})

    back = frame_from_json(frame_to_json(frame))

    assert back["a"].tolist()[0] == "x" and pd.isna(back["a"].tolist()[1])
    assert back["c"].tolist() == ["1;2", ""]
    assert back["d"].tolist() == [True, False]


def test_all_tables_zip_as_csv_with_the_disposal_list():
    record = _record()
    data = csv_zip(record.tables, record.summary, record.scenario)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        disposals = pd.read_csv(archive.open("disposals.csv"))
    assert {"buildings.csv", "occupiers.csv", "zones.csv", "summary.json", "scenario.toml"} <= names
    assert disposals["building_id"].tolist() == ["B"]


@pytest.mark.solver
def test_a_saved_plan_is_rebuilt_exactly_without_solving(three_building_estate, tmp_path):
    from optimiser.pipeline import optimise

    scenario = Scenario(years=10, discount_rate=0.0, access_enabled=False, time_limit_s=20)
    plan = optimise(three_building_estate, scenario)
    record = run_from_plan(three_building_estate, plan, place="three", estate_key="k")
    saved = ScenarioStore(tmp_path).save(record)
    loaded = ScenarioStore(tmp_path).load(saved.run_id)

    rebuilt = plan_on_estate(three_building_estate, loaded)

    assert rebuilt.kpis == pytest.approx(plan.kpis)
    assert rebuilt.buildings["decision"].tolist() == plan.buildings["decision"].tolist()
    assert rebuilt.buildings["reason"].tolist() == plan.buildings["reason"].tolist()
    assert rebuilt.status_words == plan.status_words
    assert set(record.tables) == {"buildings", "occupiers", "partners", "access", "zones"}


@pytest.mark.solver
def test_a_saved_plan_is_not_rebuilt_on_other_data(three_building_estate, two_library_estate, tmp_path):
    from optimiser.pipeline import optimise

    plan = optimise(three_building_estate, Scenario(access_enabled=False, time_limit_s=20))
    record = ScenarioStore(tmp_path).save(
        run_from_plan(three_building_estate, plan, place="three", estate_key="k")
    )
    loaded = ScenarioStore(tmp_path).load(record.run_id)

    with pytest.raises(StoreError, match="was made on other data"):
        plan_on_estate(two_library_estate, loaded)


def _stored_summary(store: ScenarioStore, run_id: int) -> dict:
    with sqlite3.connect(store.path) as conn:
        return json.loads(
            conn.execute("SELECT summary_json FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        )


def test_a_saved_run_is_read_back_as_a_plan_with_the_summary_it_was_saved_with(store):
    run = _record()
    saved = store.save(run, name="board option")

    back = store.load(saved.run_id)

    assert isinstance(back.plan, Plan) and back.read_back and not saved.read_back
    assert back.plan.summary_dict() == _stored_summary(store, saved.run_id) == saved.summary
    # figures below one are saved to 15 decimals in the tables, in full in the summary
    assert back.plan.access["before_share"].tolist() == [1 / 3]
    assert back.plan.partners["land_ha"].tolist() == [0.123456789]
    assert back.summary["access"]["library"]["before_mean_km"] == 0.1234567890123456
    assert back.plan.status_words == run.plan.status_words
    assert back.plan.status_words.startswith("proven optimal")
    assert (back.name, back.place_name, back.label) == ("board option", "Trafford", saved.label)
    assert set(back.tables) == {"buildings", "occupiers", "partners", "access", "zones"}


def test_a_saved_run_whose_summary_is_not_a_plans_cannot_be_read(store):
    saved = store.save(_record())
    with sqlite3.connect(store.path) as conn:
        conn.execute("""UPDATE runs SET summary_json = '{"kpis": {"npv_gbp": 1.0}, "gap": "wide"}'""")
        conn.execute("DELETE FROM run_digests")  # as a run saved before digests were kept

    with pytest.raises(StoreError, match=r"Saved run 'option A' \(id 1\) cannot be read"):
        store.load(saved.run_id)


@pytest.mark.solver
def test_a_trafford_run_read_back_is_the_plan_that_was_saved(tmp_path):
    from estate import load_place
    from optimiser.pipeline import optimise

    estate = load_place("trafford")
    plan = optimise(estate, Scenario(time_limit_s=60))
    store = ScenarioStore(tmp_path)
    saved = store.save(run_from_plan(estate, plan, place="trafford", estate_key="k"))

    back = store.load(saved.run_id)

    assert plan_on_estate(estate, saved) is plan  # a plan solved here is used as it is
    assert back.plan.summary_dict() == _stored_summary(store, saved.run_id) == saved.summary
    for table in ("buildings", "occupiers", "partners", "access"):  # None comes back as NaN
        frame = getattr(plan, table)
        expected = frame.astype(object).where(frame.notna(), np.nan).infer_objects()
        pd.testing.assert_frame_equal(
            back.tables[table], expected, check_dtype=False, check_exact=False, rtol=1e-12
        )
    rebuilt = plan_on_estate(estate, back)
    assert rebuilt.kpis == pytest.approx(plan.kpis)
    assert rebuilt.status_words == plan.status_words
