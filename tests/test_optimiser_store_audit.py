"""optimiser.store: who ran, saved and deleted each saved scenario, and when; schema upgrade."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from optimiser.errors import StoreError
from optimiser.store import SCHEMA_VERSION, ScenarioStore, utc_now
from tests.test_optimiser_store import _record

# The schema of version 1 exactly as it was written before the audit (tables and user_version).
VERSION_1 = """
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    place TEXT NOT NULL,
    place_name TEXT NOT NULL,
    estate_key TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    scenario_toml TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    UNIQUE (place, name)
);
CREATE TABLE run_tables (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data_json TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);
PRAGMA user_version = 1;
"""


def _ran_by(name: str):
    return dataclasses.replace(_record(), ran_by=name, ran_at="2026-03-01T09:00:00+00:00")


@pytest.fixture
def store(tmp_path):
    return ScenarioStore(tmp_path / "data")


def test_a_saved_run_records_who_ran_and_saved_it_and_when(store):
    saved = store.save(_ran_by("otto"), by="olga")
    loaded = store.load(saved.run_id)

    assert (saved.ran_by, saved.saved_by) == ("otto", "olga")
    assert (loaded.ran_by, loaded.ran_at, loaded.saved_by) == ("otto", "2026-03-01T09:00:00+00:00", "olga")
    assert loaded.saved_at == saved.saved_at and loaded.saved_at[:4].isdigit()


def test_every_save_and_deletion_is_in_the_audit_trail_newest_first(store):
    first = store.save(_ran_by("otto"), by="otto")
    store.save(_ran_by("otto"), by="olga")  # the same name and place: replaces the first
    second = store.list_runs()[0]
    assert store.delete(second.run_id, by="ann")

    trail = store.audit_trail()
    assert [(e.action, e.user, e.name, e.place) for e in trail] == [
        ("delete", "ann", "option A", "trafford"),
        ("save", "olga", "option A", "trafford"),
        ("save", "otto", "option A", "trafford"),
    ]
    assert trail[0].run_id == second.run_id
    assert "ran by otto at 2026-03-01T09:00:00+00:00; saved by olga at " in trail[0].detail
    assert f"replaced run {first.run_id} (saved by otto at {first.saved_at})" in trail[1].detail
    assert trail[0].at >= trail[1].at


def test_a_deleted_run_is_gone_but_its_audit_rows_stay(store):
    saved = store.save(_ran_by("otto"), by="otto")
    store.delete(saved.run_id, by="ann")

    assert store.list_runs() == []
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_tables").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM audit WHERE run_id = ?", (saved.run_id,)).fetchone()[0] == 2


def test_deleting_a_run_that_is_not_there_records_nothing(store):
    assert not store.delete(99, by="ann")
    assert store.audit_trail() == []


def test_a_failed_save_leaves_no_audit_row(store):
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "CREATE TRIGGER fail BEFORE INSERT ON run_tables BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )

    with pytest.raises(StoreError, match="disk full"):
        store.save(_ran_by("otto"), by="otto")
    assert store.audit_trail() == []


def test_a_store_from_before_the_audit_opens_and_is_upgraded_in_place(tmp_path):
    path = tmp_path / "scenarios.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(VERSION_1)
        conn.execute(
            "INSERT INTO runs (name, place, place_name, estate_key, saved_at, scenario_toml, summary_json) "
            "VALUES ('old option', 'trafford', 'Trafford', 'v1', '2025-12-01T10:00:00+00:00', "
            '\'name = "old option"\n\', \'{"kpis": {"npv_gbp": 5.0}}\')'
        )

    store = ScenarioStore(path)
    (old,) = store.list_runs()
    loaded = store.load(old.run_id)

    assert (loaded.name, loaded.ran_by, loaded.saved_by) == ("old option", "", "")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    saved = store.save(_ran_by("otto"), by="otto")
    assert store.load(saved.run_id).saved_by == "otto"
    assert store.delete(old.run_id, by="ann")
    assert "ran by unknown at unknown; saved by unknown at 2025-12-01" in store.audit_trail()[0].detail


def test_opening_an_upgraded_store_again_changes_nothing(tmp_path):
    first = ScenarioStore(tmp_path)
    first.save(_ran_by("otto"), by="otto")

    again = ScenarioStore(tmp_path)

    assert [e.action for e in again.audit_trail()] == ["save"]
    assert again.load(again.list_runs()[0].run_id).ran_by == "otto"


def test_utc_now_is_what_the_store_writes():
    now = utc_now()

    assert now.endswith("+00:00") and "T" in now and len(now) == 25
