"""Near-optimal alternatives (issue 13): `run --alternatives` on Trafford, checked from the files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from estate import load_place
from optimiser import optimise
from optimiser.alternatives import alternatives_table, exact, find_alternatives
from optimiser.scenario import Scenario
from tests.recompute import check_written_plan
from tests.test_cli_run import _run

pytestmark = pytest.mark.solver
ALTERNATIVES = ("--alternatives", "5", "--quiet")


@pytest.fixture(scope="module")
def trafford_alternatives(tmp_path_factory):
    out = tmp_path_factory.mktemp("alternatives") / "run"
    done = _run("run", "--place", "trafford", "--out", str(out), *ALTERNATIVES, timeout=900)
    assert done.returncode == 0, done.stderr
    return out, done


def _kept(folder) -> pd.Series:
    b = pd.read_csv(folder / "buildings.csv", dtype={"building_id": str}).set_index("building_id")
    return b["decision"].eq("keep")


def test_every_alternative_is_a_checked_plan_inside_the_band(trafford_alternatives):
    out, done = trafford_alternatives
    summary = json.loads((out / "summary.json").read_text())
    table = pd.read_csv(out / "alternatives.csv")
    found = summary["alternatives"]
    assert found["wanted"] == 5 and found["found"] == len(table) - 1 >= 1
    assert found["note"] in done.stderr
    if found["found"] < 5:
        assert found["stopped"], "fewer than asked for must say why"
    best = summary["objective"]
    band_k = 0.02 * abs(summary["kpis"]["npv_gbp"]) / 1000
    assert found["band_gbp"] == pytest.approx(band_k * 1000)
    check_written_plan(out)
    for k in range(1, found["found"] + 1):
        alt = out / f"alt_{k}"
        check_written_plan(alt)
        alt_summary = json.loads((alt / "summary.json").read_text())
        assert best - 1e-6 <= alt_summary["objective"] <= best + band_k + 1e-6
        assert alt_summary["status"] in ("optimal", "gap_limit", "time_limit", "feasible")
    # pairwise: every plan differs from every other in at least --differ (3) decisions
    folders = [out] + [out / f"alt_{k}" for k in range(1, found["found"] + 1)]
    kept = [_kept(f) for f in folders]
    for i in range(len(kept)):
        for j in range(i):
            assert int((kept[i] != kept[j].reindex(kept[i].index)).sum()) >= 3, (i, j)
    # the table says where each differs from the optimum, as the files do
    for k in range(1, found["found"] + 1):
        row = table[table["alternative"] == k].iloc[0]
        kept_instead = (
            set(str(row["kept_instead"]).split()) if isinstance(row["kept_instead"], str) else set()
        )
        assert kept_instead == set(kept[k].index[kept[k] & ~kept[0]])


def test_the_alternatives_are_the_same_on_a_second_run(trafford_alternatives):
    out, _ = trafford_alternatives
    first = pd.read_csv(out / "alternatives.csv", keep_default_na=False)
    estate = load_place("trafford")
    scenario = exact(Scenario())  # as `run --alternatives` solves it
    again = alternatives_table(find_alternatives(estate, scenario, optimise(estate, scenario), count=5))
    columns = ["alternative", "kept_instead", "disposed_instead", "buildings_disposed"]
    assert first[columns].astype(str).to_dict("records") == again[columns].astype(str).to_dict("records")
    assert list(first["net_present_cost_gbp"]) == pytest.approx(list(again["net_present_cost_gbp"]), abs=1.0)
