"""Trade-off curves (issue 13): `frontier` over the GP practice reach on Trafford."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from optimiser.frontier import check_monotone
from optimiser.report.rundir import verify_run_dir
from tests.test_cli_run import _run

pytestmark = pytest.mark.solver

# min_share with no deprived-decile protection: a longer reach only widens the plans allowed
GP_SHARE = """name = "gp_share"
[access.services.gp_practice]
rule = "min_share"
min_share = 0.95
reach_km = 2.0
protect_deprived_deciles = 0
"""
VALUES = "1.5,2,2.5,3,3.5,4,5"


def test_the_gp_reach_frontier_on_trafford_is_monotone_with_each_point_s_status(tmp_path):
    scenario = tmp_path / "gp.toml"
    scenario.write_text(GP_SHARE)
    out = tmp_path / "frontier"
    flags = ("--scenario", str(scenario), "--param", "access.gp_practice.reach_km", "--values", VALUES)
    done = _run("frontier", "--place", "trafford", *flags, "--out", str(out), timeout=900)
    assert done.returncode == 0, done.stderr
    verify_run_dir(out)
    table = pd.read_csv(out / "frontier.csv")
    assert list(table["value"]) == [float(v) for v in VALUES.split(",")]
    solved = table[table["status"] != "infeasible"]
    assert len(solved) >= 6
    for _, row in table.iterrows():
        if row["status"] == "infeasible":
            assert "gp_practice" in row["message"]  # says which standard cannot be met
        else:
            assert row["proven_optimal"] or row["gap_gbp"] >= 0
            assert row["bound_gbp"] <= row["net_present_cost_gbp"] + 1e-6
    # looser never costs more, between proven-optimal points (allowing their proven gaps)
    proven = solved[solved["proven_optimal"]].sort_values("value")
    for (_, tight), (_, loose) in zip(proven.iloc[:-1].iterrows(), proven.iloc[1:].iterrows(), strict=True):
        assert loose["net_present_cost_gbp"] <= tight["net_present_cost_gbp"] + tight["gap_gbp"] + 1.0
    assert set(table.loc[table.index[table["status"] != "infeasible"][1:], "monotone"]) == {"ok"}
    summary = json.loads((out / "frontier.json").read_text())
    assert summary["points"] == len(table) and summary["monotone_violations"] == 0
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<img" in (out / "frontier.html").read_text()


def test_the_monotone_check_flags_a_looser_point_that_costs_more_and_trusts_only_bounds_otherwise():
    table = pd.DataFrame(
        {
            "value": [1.0, 2.0, 3.0],
            "net_present_cost_gbp": [100_000.0, 120_000.0, 110_000.0],
            "bound_gbp": [100_000.0, 120_000.0, 105_000.0],
            "proven_optimal": [True, True, False],
        }
    )
    assert check_monotone(table, True) == ["n/a", "violated", "ok"]
    assert check_monotone(table, None) == ["n/a"] * 3
    # tighter when larger: 3 -> 2 -> 1 gets looser; 2 (120k) is then looser than 3 but its bound 120k > 110k
    assert check_monotone(table, False) == ["ok", "violated", "n/a"]
