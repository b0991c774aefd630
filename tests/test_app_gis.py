"""Safe by design in the app (issue 14, part B): deleting, nothing to optimise, lock pickers."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from optimiser.store import ScenarioStore
from tests.conftest import DATA, REPO
from tests.test_app import _run_scenario, _save_as, _upload
from tests.test_optimiser_store import _record

APP = str(REPO / "app.py")


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    path = tmp_path / "app-data"
    monkeypatch.setenv("ESTATE_APP_DATA", str(path))
    return path


def _app(place: str = "trafford") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["place"] = place
    return at.run()


def _scenario_page(place: str = "trafford") -> AppTest:
    at = _app(place)
    at.switch_page("pages/scenario.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.solver
def test_delete_asks_first_names_what_it_deleted_and_deletes_the_scenario_just_saved(data_dir):
    store = ScenarioStore(data_dir)
    older = store.save(_record("older option"))
    at = _scenario_page()
    _run_scenario(at)
    _save_as(at, "new option")
    assert "new option" in at.selectbox(key="delete_choice").format_func(
        at.selectbox(key="delete_choice").value
    )

    at.button(key="delete_go").click().run()
    (ask,) = [w.value for w in at.warning if "Delete the saved scenario" in w.value]
    assert "“new option" in ask and "cannot be undone" in ask
    assert len(store.list_runs()) == 2  # nothing is deleted before the confirmation

    at.button(key="delete_cancel").click().run()
    assert len(store.list_runs()) == 2
    assert not any("Delete the saved scenario" in w.value for w in at.warning)

    at.button(key="delete_go").click().run()
    at.button(key="delete_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Deleted the saved scenario “new option" in s.value for s in at.success)
    assert [r.run_id for r in store.list_runs()] == [older.run_id]


def test_a_register_whose_every_building_is_fixed_says_there_is_nothing_to_optimise(data_dir):
    at = _upload(_app(), "cheltenham.csv", (DATA / "cheltenham_land_and_assets_2023.csv").read_bytes())
    at.selectbox(key="upload_mapping").set_value("transparency-code").run()
    at.button(key="upload_go").click().run()
    at.button(key="upload_use").click().run()
    at.switch_page("pages/scenario.py").run()

    assert not at.exception
    (nothing,) = [w.value for w in at.warning if w.value.startswith("Nothing to optimise")]
    assert "every one of the" in nothing and "buildings is fixed" in nothing and "missing" in nothing


def test_a_bundled_estate_has_something_to_optimise(data_dir):
    at = _scenario_page()
    assert not at.error, [e.value for e in at.error]
    assert not any(w.value.startswith("Nothing to optimise") for w in at.warning)
    assert any(str(m.key).endswith("keep") for m in at.multiselect)  # 60 buildings: one list of all


# ------------------------------------------------------------------------------ lock pickers
def test_the_lock_search_finds_among_250k_buildings_and_shows_at_most_50():
    from types import SimpleNamespace

    import pandas as pd

    from pages import locks_view

    n = 250_000
    ids = [f"B{i:06d}" for i in range(n)]
    buildings = pd.DataFrame(
        {
            "name": [f"{'Library' if i % 1000 == 0 else 'Office'} {i}" for i in range(n)],
            "owner": ["Stockport Council" if i % 2 else "NHS" for i in range(n)],
            "borough": ["Stockport"] * n,
        },
        index=pd.Index(ids, name="building_id"),
    )
    estate = SimpleNamespace(buildings=buildings)
    shown, found = locks_view.search(estate, "big", "library council")
    assert found == 0  # every i % 1000 == 0 is even, so NHS: no Stockport Council library
    shown, found = locks_view.search(estate, "big", "library nhs")
    assert found == 250 and len(shown) == locks_view.SHOWN
    assert shown["name"].str.startswith("Library").all()
    shown, found = locks_view.search(estate, "big", "B123456")
    assert found == 1 and shown["building_id"].tolist() == ["B123456"]


@pytest.mark.solver
def test_a_large_estate_locks_by_id_with_a_server_side_search(data_dir, monkeypatch):
    from pages import locks_view

    monkeypatch.setenv(locks_view.LIST_MAX_ENV, "10")  # Trafford's 60 buildings count as large
    at = _scenario_page()
    assert not [m for m in at.multiselect if str(m.key).endswith("keep")]  # no list of every building
    search = next(t for t in at.text_input if str(t.key).endswith("lock_search"))
    search.set_value("library").run()
    matches = next(
        d.value for d in at.dataframe if "building_id" in d.value.columns and "partner" in d.value.columns
    )
    assert len(matches) >= 1 and matches["name"].str.contains("ibrary").all()

    keep = next(t for t in at.text_area if str(t.key).endswith("keep_ids"))
    keep.set_value(f"{matches['building_id'].iloc[0]}, NOT_A_BUILDING")  # sent with Run, as in a form
    _run_scenario(at)
    errors = [e.value for e in at.error]
    assert any("NOT_A_BUILDING" in e and "not in the estate" in e for e in errors), errors
