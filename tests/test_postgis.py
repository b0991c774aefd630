"""Registers from PostGIS: the same estate, plan, messages and nothing-lost rule as files.

The tests that need a server use ``ESTATE_TEST_POSTGIS_URL`` (by default the role and database
that `.ci/run` creates: ``postgresql://estate:estate_pw@localhost/estate``). Each loads the
bundled Trafford GeoPackage into a schema of its own with `scripts/load_postgis.py` and drops it
afterwards. Without a reachable server they skip with the reason, except in CI (``CI`` set),
where a missing server is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from estate import EstateError, load_estate, load_place
from estate.postgis import is_database, masked_url, parse
from optimiser.provenance import estate_digest

REPO = Path(__file__).parents[1]
URL = os.environ.get("ESTATE_TEST_POSTGIS_URL", "postgresql://estate:estate_pw@localhost/estate")
PASSWORD = URL.partition("://")[2].partition("@")[0].partition(":")[2]
TABLES = ("buildings", "occupiers", "zones", "access", "compatibility")

sys.path.insert(0, str(REPO / "scripts"))
from load_postgis import load  # noqa: E402


def _engine():  # type: ignore[no-untyped-def]
    sa = pytest.importorskip("sqlalchemy")
    return sa, sa.create_engine(URL, connect_args={"connect_timeout": 5})


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    """A fresh schema holding the bundled Trafford estate, dropped after the module."""
    sa, engine = _engine()
    try:
        with engine.connect() as con:
            con.execute(sa.text("SELECT postgis_version()"))
    except Exception as err:
        engine.dispose()
        reason = f"no PostGIS server at {masked_url(URL)} ({type(err).__name__}); set ESTATE_TEST_POSTGIS_URL"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostGIS tests against a real server: {reason}")
        pytest.skip(reason)
    name = f"test_{uuid.uuid4().hex[:10]}"
    load(URL, REPO / "data" / "trafford.gpkg", name)
    yield name
    with engine.begin() as con:
        con.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def _write(frame: pd.DataFrame, table: str, schema: str) -> None:
    _, engine = _engine()
    try:
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_postgis(table, engine, schema=schema, if_exists="replace", index=False)
        else:
            frame.to_sql(table, engine, schema=schema, if_exists="replace", index=False)
    finally:
        engine.dispose()


# --- no server needed -------------------------------------------------------------------------


def test_masked_url_drops_the_password() -> None:
    assert masked_url("postgresql://ann:s3cret@db.example:5433/estate#x.y") == (
        "postgresql://ann@db.example:5433/estate"
    )
    assert masked_url("postgresql://db/estate") == "postgresql://db/estate"
    assert "s3cret" not in parse("postgresql://ann:s3cret@h/db#public.buildings").label


def test_is_database_tells_urls_from_paths() -> None:
    assert is_database("postgresql://h/db#t")
    assert is_database("postgres://h/db#t")
    assert not is_database("data/trafford.gpkg")
    assert not is_database(Path("postgresql:/x"))


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("postgresql://ann:s3cret@h/db", "no table named"),
        ("postgresql://ann:s3cret@h/db#public.bad-name", "is not a plain table or schema name"),
        ("postgresql://ann:s3cret@h/db#query=", "the query is empty"),
    ],
)
def test_bad_sources_are_explained_without_the_password(source: str, words: str) -> None:
    with pytest.raises(EstateError, match=words) as err:
        load_estate(source)
    assert "s3cret" not in str(err.value)


def test_an_unreachable_server_is_a_plain_message_and_cli_exit_2(tmp_path: Path) -> None:
    source = "postgresql://ann:s3cret@127.0.0.1:1/estate#public.buildings"
    with pytest.raises(EstateError, match="cannot connect to the database") as err:
        load_estate(source)
    assert "s3cret" not in str(err.value)
    assert "postgresql://ann@127.0.0.1:1/estate#public.buildings" in str(err.value)
    run = subprocess.run(
        [sys.executable, "-m", "optimiser", "validate", "--buildings", source],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "cannot connect" in run.stderr
    assert "s3cret" not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


# --- against a real server ----------------------------------------------------------------------


def test_trafford_from_postgis_is_the_bundled_estate(schema: str) -> None:
    db = load_estate(f"{URL}#{schema}.buildings", name="Trafford")
    bundled = load_place("trafford")
    for table in TABLES:
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(db, table)), pd.DataFrame(getattr(bundled, table)), obj=table
        )
    assert db.counts() == bundled.counts()
    assert estate_digest(db) == estate_digest(bundled)
    assert db.sources == {t: f"{masked_url(URL)}#{schema}.{t}" for t in TABLES}


def test_trafford_from_postgis_builds_the_very_same_model(schema: str, tmp_path: Path) -> None:
    """The same MILP, row for row and coefficient for coefficient: so the same set of best plans."""
    from optimiser.model import build_model
    from optimiser.scenario import Scenario

    texts = []
    for estate in (load_estate(f"{URL}#{schema}.buildings", name="Trafford"), load_place("trafford")):
        model = build_model(estate, Scenario())
        path = tmp_path / f"{len(texts)}.lp"
        model.problem.writeLP(str(path))
        texts.append(path.read_text())
        assert model.start
    assert texts[0] == texts[1]


@pytest.mark.solver
def test_trafford_run_from_postgis_gives_the_same_plan_and_kpis(schema: str, tmp_path: Path) -> None:
    """The CLI run from PostGIS against the run from the bundled file.

    Trafford has several equally good plans (an occupier may go to either of two buildings on one
    site at the same cost), and two runs of the same file can return different ones of them; so
    the decisions are compared where the objective tells them apart: the same buildings disposed
    by the same routes, the same net present cost, and the same headline KPIs.
    """
    outs = {}
    for key, args in {
        "db": ["--buildings", f"{URL}#{schema}.buildings"],
        "file": ["--buildings", str(REPO / "data" / "trafford.gpkg")],
    }.items():
        outs[key] = tmp_path / key
        run = subprocess.run(
            [sys.executable, "-m", "optimiser", "run", *args, "--out", str(outs[key]), "--quiet"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert not PASSWORD or PASSWORD not in run.stdout + run.stderr
    db, file = (json.loads((outs[k] / "summary.json").read_text()) for k in ("db", "file"))
    assert db["status"] == file["status"] == "optimal"
    tolerance = max(db["gap"], file["gap"]) + 1e-9  # both are proven within their gap of the optimum
    assert db["objective"] == pytest.approx(file["objective"], rel=tolerance)
    slack_gbp = tolerance * file["objective"] * 1000  # the objective is in £k
    assert db["kpis"]["npv_gbp"] == pytest.approx(file["kpis"]["npv_gbp"], abs=slack_gbp)
    for key in ("capital_receipts_gbp", "annual_revenue_saving_gbp", "buildings_after", "land_ha", "homes"):
        assert db["kpis"][key] == pytest.approx(file["kpis"][key], rel=1e-9), key
    decided = [
        pd.read_csv(outs[k] / "buildings.csv")[["building_id", "decision", "route"]].sort_values(
            "building_id"
        )
        for k in ("db", "file")
    ]
    pd.testing.assert_frame_equal(decided[0].reset_index(drop=True), decided[1].reset_index(drop=True))
    for path in outs["db"].iterdir():
        if PASSWORD and path.suffix in (".json", ".csv"):
            assert PASSWORD not in path.read_text(), f"{path.name} holds the password"
    manifest = (outs["db"] / "run.json").read_text()
    assert f"{masked_url(URL)}#{schema}.buildings" in manifest


def test_a_query_reads_like_a_table(schema: str) -> None:
    query = f"SELECT * FROM {schema}.buildings WHERE borough = 'Trafford' ORDER BY building_id"
    estate = load_estate(f"{URL}#query={query}", occupiers=f"{URL}#{schema}.occupiers")
    bundled = load_place("trafford")
    assert sorted(estate.buildings["building_id"]) == sorted(bundled.buildings["building_id"])
    assert estate.sources["buildings"].startswith(f"{masked_url(URL)}#query=SELECT")


def test_bad_rows_are_rejected_and_kept_exactly_as_from_a_file(schema: str, tmp_path: Path) -> None:
    """The nothing-lost rule: the same rows rejected for the same reasons as from a GeoPackage."""
    buildings = gpd.read_file(REPO / "data" / "trafford.gpkg", layer="buildings")
    buildings.loc[3, "gia_m2"] = -5.0
    buildings.loc[7, "building_id"] = "bad id!"
    _write(buildings, "bad_buildings", schema)
    gpkg = tmp_path / "bad.gpkg"
    buildings.to_file(gpkg, layer="bad_buildings")
    occupiers = f"{URL}#{schema}.occupiers"
    db = load_estate(f"{URL}#{schema}.bad_buildings", occupiers=occupiers)
    file = load_estate(gpkg, layers={"buildings": "bad_buildings"}, occupiers=occupiers)
    assert len(db.rejected["buildings"]) == 2
    kept = ["source_row", "building_id", "name", "gia_m2", "reasons"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(db.rejected["buildings"])[kept], pd.DataFrame(file.rejected["buildings"])[kept]
    )
    assert [(i.row, i.record_id, i.column, i.problem) for i in db.issues] == [
        (i.row, i.record_id, i.column, i.problem) for i in file.issues
    ]
    assert {i.source for i in db.issues if i.column == "gia_m2"} == {
        f"{masked_url(URL)}#{schema}.bad_buildings"
    }


def test_a_missing_table_names_what_the_schema_holds(schema: str) -> None:
    with pytest.raises(EstateError, match=r"no table or view .*\.nosuch.*buildings, compatibility") as err:
        load_estate(f"{URL}#{schema}.nosuch")
    assert not PASSWORD or PASSWORD not in str(err.value)


def test_a_wrong_password_is_masked(schema: str) -> None:
    wrong = URL.replace(f":{PASSWORD}@", ":Wr0ngPassw0rd@") if PASSWORD else URL
    if wrong == URL:
        pytest.skip("the test URL has no password to get wrong")
    with pytest.raises(EstateError, match="cannot connect") as err:
        load_estate(f"{wrong}#{schema}.buildings")
    assert "Wr0ngPassw0rd" not in str(err.value)


def test_a_geometry_with_no_srid_is_refused_as_having_no_crs(schema: str) -> None:
    zones = gpd.read_file(REPO / "data" / "trafford.gpkg", layer="zones").set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="without defined CRS"):
        _write(zones, "zones_no_srid", schema)
    with pytest.raises(EstateError, match="no coordinate reference system"):
        load_estate(f"{URL}#{schema}.buildings", zones=f"{URL}#{schema}.zones_no_srid")


def test_the_database_is_read_only_for_queries(schema: str) -> None:
    with pytest.raises(EstateError, match="refused"):
        load_estate(f"{URL}#query=DELETE FROM {schema}.buildings RETURNING *")
    assert len(load_estate(f"{URL}#{schema}.buildings").buildings) == 60


# --- the app's connection form -------------------------------------------------------------------


def test_the_password_box_is_joined_to_the_url_only_in_memory() -> None:
    from pages.postgis_view import with_password

    assert with_password("postgresql://ann@h/db#s.t", "p@ss/w") == "postgresql://ann:p%40ss%2Fw@h/db#s.t"
    assert with_password("postgresql://ann:given@h/db#s.t", "other") == "postgresql://ann:given@h/db#s.t"
    assert with_password("postgresql://ann@h/db#s.t", "") == "postgresql://ann@h/db#s.t"


def test_the_estate_page_reads_trafford_from_postgis_without_keeping_the_password(
    schema: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "app-data"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["place"] = "trafford"
    at.run()
    without_password = URL.replace(f":{PASSWORD}@", "@") if PASSWORD else URL
    at.text_input(key="pg_url").set_value(f"{without_password}#{schema}.buildings").run()
    at.text_input(key="pg_password").set_value(PASSWORD)
    at.button(key="pg_go").click().run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(f"{schema}: loaded" in s.value for s in at.success)
    result = at.session_state["upload_result"]
    assert result.estate.counts() == load_place("trafford").counts()
    assert not PASSWORD or all(PASSWORD not in s for s in result.estate.sources.values())
    at.button(key="upload_use").click().run()
    assert not at.exception and at.title[0].value == f"Estate: {schema}"
