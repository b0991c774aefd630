"""Saved scenarios: a local SQLite store of scenarios and their plans. No Streamlit.

A run (`SavedRun`) is a `Plan` with where, who and when. The store saves it from the plan: the
scenario as TOML, the plan's ``summary_dict()`` as JSON and the plan's tables (buildings,
occupiers, partners, access) with the per-zone reach table (zones) as JSON. `ScenarioStore.load`
reads it back into a Plan (`optimiser.plan.plan_from_saved`), so a saved run can be shown,
compared and exported again without solving; `plan_on_estate` rebuilds it on its estate. Nothing
is pickled: every value is text that is parsed as data.

The store lives in ``$ESTATE_APP_DATA`` if that is set, else in
``$XDG_DATA_HOME/public-estate-optimiser`` (``~/.local/share/public-estate-optimiser`` by
default), file ``scenarios.sqlite``. Each save is one SQLite transaction: it is written
whole or not at all. With each run the store keeps the SHA-256 of everything saved for it
(table ``run_digests``); `ScenarioStore.load` refuses a run whose contents no longer match it
(damaged, or edited outside the app), and `ScenarioStore.list_runs` lists a run it cannot read
with the reason instead of failing. Runs saved before digests were kept have none and load as
they are.

Audit (schema version 2): each saved run records who ran it and when (``ran_by``, ``ran_at``)
and who saved it (``saved_by``; ``saved_at`` was there before). Every save, replacement and
deletion also adds a row to the ``audit`` table (when, who, what, which run, its name and
place), which is never changed or emptied by the app: a deleted run's data is removed, and
its audit rows say who deleted it and when, who ran it and who saved it. A store written
before version 2 is upgraded in place when it is first opened (its runs show no names).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from estate import Estate
from optimiser.errors import OptimiserError, StoreError
from optimiser.jsonable import frame_from_json, frame_to_json
from optimiser.jsonable import jsonable as _jsonable
from optimiser.plan import Plan, make_plan, plan_from_saved, with_programme
from optimiser.report.files import PLAN_TABLES as TABLES
from optimiser.report.files import programme_tables, zones_table
from optimiser.report.programme import PROGRAMME_TABLES
from optimiser.scenario import Scenario

APP_NAME = "public-estate-optimiser"
STORE_FILE = "scenarios.sqlite"
SCHEMA_VERSION = 2


def default_data_dir() -> Path:
    """Where the app keeps its data: ``$ESTATE_APP_DATA``, else the XDG user data directory."""
    given = os.environ.get("ESTATE_APP_DATA")
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_NAME


@dataclass(frozen=True, eq=False)
class SavedRun:
    """One run as the app shows, saves and compares it: its `Plan` and where, who and when.

    The result is the Plan alone; the summary, tables and KPIs are read from it. A run the
    store reads back holds the Plan read from its saved form (`optimiser.plan.plan_from_saved`,
    ``read_back``); `plan_on_estate` checks it against an estate and rebuilds it in full.

    Attributes
    ----------
    plan
        The plan: solved in this process, or read back from the store.
    zones
        `optimiser.report.files.zones_table` (reach before and after, per zone); None for a
        run saved without one.
    place
        Key of the estate it was run on (a bundled place, or an upload's key).
    estate_key
        Fingerprint of the estate's data; a saved run can be rebuilt only on the same data.
    read_back
        True when `plan` was read back from the store (its tables as saved, not yet checked
        against an estate); False for a plan solved in this process.
    run_id
        Its id in the store, once saved.
    saved_at
        When it was saved (UTC, ISO 8601).
    ran_by, ran_at
        Who ran it, and when (UTC, ISO 8601); blank for runs saved before the audit.
    saved_by
        Who saved it.

    """

    plan: Plan = field(repr=False)
    zones: pd.DataFrame | None = field(repr=False)
    place: str
    estate_key: str
    read_back: bool = False
    run_id: int | None = None
    saved_at: str = ""
    ran_by: str = ""
    ran_at: str = ""
    saved_by: str = ""

    @property
    def scenario(self) -> Scenario:
        """The scenario that was run."""
        return self.plan.scenario

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.plan.scenario.name

    @property
    def place_name(self) -> str:
        """Readable name of the estate."""
        return self.plan.estate_name

    @cached_property
    def summary(self) -> dict[str, Any]:
        """`Plan.summary_dict()` as plain JSON (NaN as None): what the store saves."""
        return dict(_jsonable(self.plan.summary_dict()))

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan's tables (``buildings``, ``occupiers``, ``partners``, ``access``) and ``zones``
        (when there is one), by name; read them, do not change them."""
        plan = self.plan
        tables = {"buildings": plan.buildings, "occupiers": plan.occupiers, "partners": plan.partners}
        tables["access"] = plan.access
        if self.zones is not None:
            tables["zones"] = self.zones
        tables |= programme_tables(plan)  # a phased plan's programme, cash flow, partners by year
        return tables

    @property
    def kpis(self) -> dict[str, Any]:
        """The headline figures (pounds, ha, homes, jobs, tCO2e), as in `summary`."""
        return dict(self.summary.get("kpis", {}))

    @property
    def label(self) -> str:
        """A short label for lists: name, place and when it was saved."""
        when = f", saved {self.saved_at[:16].replace('T', ' ')}" if self.saved_at else ""
        return f"{self.name} ({self.place_name}{when})"


def utc_now() -> str:
    """The time now, as the store writes it (UTC, ISO 8601, to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_from_plan(estate: Estate, plan: Plan, *, place: str, estate_key: str, ran_by: str = "") -> SavedRun:
    """The run of a plan solved on `estate` (run by `ran_by`, now), with its per-zone access table."""
    return SavedRun(
        plan=plan,
        zones=zones_table(estate, plan),
        place=place,
        estate_key=estate_key,
        ran_by=ran_by,
        ran_at=utc_now(),
    )


def plan_on_estate(estate: Estate, run: SavedRun) -> Plan:
    """The full Plan of a run on `estate`: a plan read back is rebuilt from its decisions
    without solving; a plan solved in this process is returned as it is.

    Used to export a saved run (GeoPackage, Excel) on the estate it was run on. The figures
    are worked out again from the decisions and must match the saved ones.

    Raises
    ------
    StoreError
        If the estate is not the one the run was made on (its buildings or figures differ).

    """
    if not run.read_back:
        return run.plan
    saved = run.plan
    b, occ = saved.buildings, saved.occupiers
    ids = b["building_id"].astype(str)
    if set(ids) != set(map(str, estate.buildings.index)):
        msg = (
            f"Saved run {run.name!r} was made on other data ({run.place_name}); "
            "switch to that estate to export it."
        )
        raise StoreError(msg)
    keep = pd.Series((b["decision"].astype(str) != "dispose").to_numpy(), index=ids.to_numpy())
    parts = pd.DataFrame(
        {
            "occupier_id": occ["occupier_id"].astype(str).to_numpy(),
            "from_building_id": occ["from_building_id"].astype(str).to_numpy(),
            "to_building_id": occ["to_building_id"].astype(str).to_numpy(),
            "share": pd.to_numeric(occ["share"]).to_numpy(dtype=float),
        }
    )
    try:
        plan = make_plan(
            estate,
            saved.scenario,
            keep.reindex(estate.buildings.index),
            parts,
            info=saved.info,
            build_s=saved.build_s,
            stats=saved.model_stats,
            reasons=dict(zip(ids, b["reason"], strict=True)),  # as saved, not worked out again
        )
    except (KeyError, ValueError) as err:
        msg = f"Saved run {run.name!r} does not fit the estate now loaded ({err})."
        raise StoreError(msg) from err
    if saved.programme is not None:  # a phased plan: its NPV, one-off cost and payback are the programme's
        plan = with_programme(plan, saved.programme)
    for key, value in saved.kpis.items():
        now = plan.kpis.get(key)
        if value is None or now is None:
            continue
        if not math.isclose(float(now), float(value), rel_tol=1e-6, abs_tol=1.0):
            msg = (
                f"Saved run {run.name!r} gives {key} = {float(now):,.2f} on the estate now loaded, "
                f"not {float(value):,.2f}: the data has changed since it was saved."
            )
            raise StoreError(msg)
    return plan


@dataclass(frozen=True)
class RunInfo:
    """A saved run's listing: enough to choose it, without loading its tables."""

    run_id: int
    name: str
    place: str
    place_name: str
    estate_key: str
    saved_at: str
    status_words: str
    npv_gbp: float | None
    problem: str = ""  # why the run cannot be read ("" when it can)

    @property
    def label(self) -> str:
        """Name, place and when it was saved."""
        return f"{self.name} ({self.place_name}, saved {self.saved_at[:16].replace('T', ' ')})"


class ScenarioStore:
    """Saved runs in one SQLite file.

    Parameters
    ----------
    path
        The SQLite file, or a directory to put ``scenarios.sqlite`` in. Default: the
        user data directory (`default_data_dir`).

    Raises
    ------
    StoreError
        If the file cannot be created or is not a store.

    """

    def __init__(self, path: str | Path | None = None) -> None:
        target = Path(path) if path is not None else default_data_dir()
        if target.suffix not in (".sqlite", ".db", ".sqlite3"):
            target = target / STORE_FILE
        self.path = target
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                self._create(conn)
        except (OSError, sqlite3.Error) as err:
            msg = (
                f"Cannot open the scenario store {self.path} ({err}). Set ESTATE_APP_DATA to a folder "
                "you can write to."
            )
            raise StoreError(msg) from err

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _create(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            msg = f"store schema version {version} is newer than this app's ({SCHEMA_VERSION})"
            raise sqlite3.DatabaseError(msg)
        if version == SCHEMA_VERSION:
            return
        with conn:
            conn.execute("BEGIN IMMEDIATE")  # one process creates or upgrades; others wait, then see it
            conn.execute("""
                CREATE TABLE IF NOT EXISTS runs (
                    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    place TEXT NOT NULL,
                    place_name TEXT NOT NULL,
                    estate_key TEXT NOT NULL,
                    saved_at TEXT NOT NULL,
                    scenario_toml TEXT NOT NULL,
                    summary_json TEXT NOT NULL,
                    UNIQUE (place, name)
                )""")
            conn.execute("""
                CREATE TABLE IF NOT EXISTS run_tables (
                    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    data_json TEXT NOT NULL,
                    PRIMARY KEY (run_id, name)
                )""")
            conn.execute("""
                CREATE TABLE IF NOT EXISTS run_digests (
                    run_id INTEGER PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
                    sha256 TEXT NOT NULL
                )""")
            # version 2: who ran, saved and deleted runs, and when
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            for column in ("ran_by", "ran_at", "saved_by"):
                if column not in columns:
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
            conn.execute("""
                CREATE TABLE IF NOT EXISTS audit (
                    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    user TEXT NOT NULL,
                    action TEXT NOT NULL,
                    run_id INTEGER,
                    name TEXT NOT NULL,
                    place TEXT NOT NULL,
                    detail TEXT NOT NULL
                )""")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # ------------------------------------------------------------------ API
    def save(self, run: SavedRun, *, name: str | None = None, by: str = "") -> SavedRun:
        """Save `run` (under `name`, if given: its plan's scenario is renamed) as saved `by` a
        user; a run of the same name and place is replaced.

        Saved from the plan: its scenario as TOML, its summary and tables as JSON. Everything,
        with its audit row, is written in one transaction. Returns the run with its id, time
        and who saved it.
        """
        if name is not None and name != run.name:
            run = replace(run, plan=replace(run.plan, scenario=run.scenario.with_changes(name=name)))
        scenario = run.scenario
        saved_at = utc_now()
        summary = run.summary
        tables = run.tables
        payload = [
            (table, frame_to_json(tables[table])) for table in (*TABLES, *PROGRAMME_TABLES) if table in tables
        ]
        row = (
            scenario.name,
            run.place,
            run.place_name,
            run.estate_key,
            saved_at,
            scenario.to_toml(),
            json.dumps(summary, allow_nan=False),
            run.ran_by,
            run.ran_at,
            by,
        )
        try:
            with self._connect() as conn, conn:
                replaced = conn.execute(
                    "SELECT run_id, saved_by, saved_at FROM runs WHERE place = ? AND name = ?",
                    (run.place, scenario.name),
                ).fetchone()
                conn.execute("DELETE FROM runs WHERE place = ? AND name = ?", (run.place, scenario.name))
                cursor = conn.execute(
                    "INSERT INTO runs (name, place, place_name, estate_key, saved_at, scenario_toml, summary_json, "
                    "ran_by, ran_at, saved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                run_id = int(cursor.lastrowid or 0)
                conn.executemany(
                    "INSERT INTO run_tables (run_id, name, data_json) VALUES (?, ?, ?)",
                    [(run_id, table, text) for table, text in payload],
                )
                conn.execute(
                    "INSERT INTO run_digests (run_id, sha256) VALUES (?, ?)", (run_id, _digest(row, payload))
                )
                detail = f"ran by {run.ran_by or 'unknown'} at {run.ran_at or 'unknown'}"
                if replaced is not None:
                    old_id, old_by, old_at = replaced
                    detail += f"; replaced run {old_id} (saved by {old_by or 'unknown'} at {old_at})"
                _audit(conn, saved_at, by, "save", run_id, scenario.name, run.place, detail)
        except sqlite3.Error as err:
            msg = f"Could not save scenario {scenario.name!r} to {self.path} ({err})."
            raise StoreError(msg) from err
        return replace(run, run_id=run_id, saved_at=saved_at, saved_by=by)

    def list_runs(self, *, place: str | None = None) -> list[RunInfo]:
        """Saved runs, newest first (only `place`'s, if given)."""
        query = "SELECT run_id, name, place, place_name, estate_key, saved_at, summary_json FROM runs"
        # a run that cannot be read is listed with the reason, so one bad entry hides no other
        args: tuple[Any, ...] = ()
        if place is not None:
            query += " WHERE place = ?"
            args = (place,)
        query += " ORDER BY saved_at DESC, run_id DESC"
        try:
            with self._connect() as conn:
                rows = conn.execute(query, args).fetchall()
        except sqlite3.Error as err:
            msg = f"Could not read the scenario store {self.path} ({err})."
            raise StoreError(msg) from err
        return [_run_info(row) for row in rows]

    def load(self, run_id: int) -> SavedRun:
        """A saved run: its Plan read back (`optimiser.plan.plan_from_saved`) and who, where and when.

        Raises
        ------
        StoreError
            If there is no such run, or it cannot be read.

        """
        try:
            with self._connect() as conn:
                row = conn.execute(
                    "SELECT name, place, place_name, estate_key, saved_at, scenario_toml, summary_json, "
                    "ran_by, ran_at, saved_by FROM runs WHERE run_id = ?",
                    (int(run_id),),
                ).fetchone()
                tables = conn.execute(
                    "SELECT name, data_json FROM run_tables WHERE run_id = ? ORDER BY name", (int(run_id),)
                ).fetchall()
                digest = conn.execute(
                    "SELECT sha256 FROM run_digests WHERE run_id = ?", (int(run_id),)
                ).fetchone()
        except sqlite3.Error as err:
            msg = f"Could not read saved run {run_id} from {self.path} ({err})."
            raise StoreError(msg) from err
        if row is None:
            msg = f"No saved run with id {run_id} in {self.path}."
            raise StoreError(msg)
        # the estate's name is also the summary's "place", which the plan read back takes
        name, place, _place_name, estate_key, saved_at, scenario_toml, summary_json = row[:7]
        ran_by, ran_at, saved_by = row[7:]
        if digest is not None and digest[0] != _digest(row, tables):
            msg = (
                f"Saved run {name!r} (id {run_id}) has changed since it was saved: its contents no longer "
                "match the check stored with them (the store was damaged or edited outside the app). "
                "Delete it and run the scenario again."
            )
            raise StoreError(msg)
        try:
            scenario = Scenario.from_dict(tomllib.loads(scenario_toml), source=f"saved run {name!r}")
        except (tomllib.TOMLDecodeError, OptimiserError, TypeError, AttributeError) as err:
            msg = f"Saved run {name!r} has a scenario this version cannot read ({err})."
            raise StoreError(msg) from err
        try:
            summary = json.loads(summary_json)
            frames = {table: frame_from_json(text) for table, text in tables}
        except (TypeError, ValueError, KeyError) as err:
            msg = f"Saved run {name!r} (id {run_id}) cannot be read ({err}); delete it and run the scenario again."
            raise StoreError(msg) from err
        if not isinstance(summary, dict):
            msg = f"Saved run {name!r} (id {run_id}) has a summary that is not a JSON object; delete it."
            raise StoreError(msg)
        try:
            plan = plan_from_saved(scenario, summary, frames)
            run = SavedRun(
                plan=plan,
                zones=frames.get("zones"),
                place=place,
                estate_key=estate_key,
                read_back=True,
                run_id=int(run_id),
                saved_at=saved_at,
                ran_by=ran_by,
                ran_at=ran_at,
                saved_by=saved_by,
            )
            _ = run.summary  # worked out once here: a run that cannot be shown fails to load
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            msg = f"Saved run {name!r} (id {run_id}) cannot be read ({err}); delete it and run the scenario again."
            raise StoreError(msg) from err
        return run

    def delete(self, run_id: int, *, by: str = "") -> bool:
        """Delete a saved run (its data; the audit keeps who deleted it, and when); True if there was one."""
        try:
            with self._connect() as conn, conn:
                row = conn.execute(
                    "SELECT name, place, ran_by, ran_at, saved_by, saved_at FROM runs WHERE run_id = ?",
                    (int(run_id),),
                ).fetchone()
                if row is None:
                    return False
                conn.execute("DELETE FROM runs WHERE run_id = ?", (int(run_id),))
                name, place, ran_by, ran_at, saved_by, saved_at = row
                detail = (
                    f"ran by {ran_by or 'unknown'} at {ran_at or 'unknown'}; "
                    f"saved by {saved_by or 'unknown'} at {saved_at}"
                )
                _audit(conn, utc_now(), by, "delete", int(run_id), name, place, detail)
        except sqlite3.Error as err:
            msg = f"Could not delete saved run {run_id} from {self.path} ({err})."
            raise StoreError(msg) from err
        return True

    def audit_trail(self, *, limit: int = 1000) -> list[AuditEvent]:
        """The latest `limit` audit rows (saves and deletions), newest first."""
        try:
            with self._connect() as conn:
                rows = conn.execute(
                    "SELECT event_id, at, user, action, run_id, name, place, detail FROM audit "
                    "ORDER BY event_id DESC LIMIT ?",
                    (int(limit),),
                ).fetchall()
        except sqlite3.Error as err:
            msg = f"Could not read the audit trail of {self.path} ({err})."
            raise StoreError(msg) from err
        return [AuditEvent(*row) for row in rows]


@dataclass(frozen=True)
class AuditEvent:
    """One row of the audit trail: at (UTC), user, action (save or delete), the run, and details."""

    event_id: int
    at: str
    user: str
    action: str
    run_id: int | None
    name: str
    place: str
    detail: str


def _audit(
    conn: sqlite3.Connection, at: str, user: str, action: str, run_id: int, name: str, place: str, detail: str
) -> None:
    conn.execute(
        "INSERT INTO audit (at, user, action, run_id, name, place, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, user, action, run_id, name, place, detail),
    )


def _run_info(row: tuple[Any, ...]) -> RunInfo:
    """A listing row; a row that cannot be read gives a RunInfo whose `problem` says why."""
    run_id, name, place, place_name, estate_key, saved_at, summary_json = row
    head = (int(run_id), str(name), str(place), str(place_name), str(estate_key), str(saved_at))
    try:
        summary = json.loads(summary_json)
        npv = summary.get("kpis", {}).get("npv_gbp")
        return RunInfo(*head, str(summary.get("status_words", "")), None if npv is None else float(npv))
    except (TypeError, ValueError, AttributeError) as err:
        return RunInfo(*head, "", None, f"its summary cannot be read ({type(err).__name__}: {err})")


def _digest(row: tuple[Any, ...], tables: list[tuple[str, str]] | list[Any]) -> str:
    """sha256 of a saved run: its row in ``runs`` and its tables (in name order)."""
    text = json.dumps([list(row), sorted([str(name), str(data)] for name, data in tables)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()
