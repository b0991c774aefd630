"""`run --partnership / --standalone / --shapley` on Trafford, checked from the written files alone.

Every plan written here passes `tests.recompute.check_written_plan` (housing, capacity, access,
money, and the partner ledger adding up to the place's totals to the penny).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from optimiser.report.inert import original_text
from tests.recompute import check_written_plan
from tests.test_cli_run import _run

pytestmark = pytest.mark.solver
COUNCIL = "Trafford Council"


def _partners(out: Path) -> pd.DataFrame:
    p = pd.read_csv(out / "partners.csv")
    p["partner"] = p["partner"].map(original_text)
    return p.set_index("partner")


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def partnership_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("partnership")
    done = _run("run", "--place", "trafford", "--partnership", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done


def test_the_partnership_plan_passes_the_plan_checks_and_its_ledger_adds_up(partnership_out):
    out, done = partnership_out
    check_written_plan(out)
    assert "partnership value £" in done.stdout


def test_the_partnership_value_is_joint_less_the_stand_alone_npvs_from_the_csvs(partnership_out):
    out, _ = partnership_out
    p, s = _partners(out), _summary(out)
    assert p["standalone_npv_gbp"].notna().all()
    value = s["kpis"]["npv_gbp"] - p["standalone_npv_gbp"].sum()
    assert s["partnership_value_gbp"] == pytest.approx(value, abs=0.01)
    assert s["partnership_value_gbp"] >= 0
    assert s["sharing_rule"] == "owner"
    assert "price_of_fairness_gbp" not in s


def test_a_stand_alone_plan_passes_the_same_checks_and_moves_only_its_own(partnership_out, tmp_path):
    out, _ = partnership_out
    done = _run("run", "--place", "trafford", "--standalone", COUNCIL, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    check_written_plan(tmp_path)
    b = pd.read_csv(tmp_path / "buildings.csv", dtype={"building_id": str})
    b["owner"] = b["owner"].map(original_text)
    assert (b.loc[b["owner"] != COUNCIL, "decision"] == "keep").all()
    assert (b.loc[b["owner"] == COUNCIL, "decision"] == "dispose").any()
    o = pd.read_csv(tmp_path / "occupiers.csv", dtype=str)
    o["partner"] = o["partner"].map(original_text)
    moved = o[o["from_building_id"] != o["to_building_id"]]
    assert (moved["partner"] == COUNCIL).all() and len(moved)
    council_buildings = set(b.loc[b["owner"] == COUNCIL, "building_id"])
    assert set(moved["to_building_id"]) <= council_buildings
    npv = _summary(tmp_path)["kpis"]["npv_gbp"]
    assert npv == pytest.approx(_partners(out).at[COUNCIL, "standalone_npv_gbp"], abs=1.0)


def test_no_partner_worse_off_than_stand_alone_checked_from_the_csvs(tmp_path):
    scenario = tmp_path / "fair.toml"
    scenario.write_text('[partners]\nno_partner_worse_off = "standalone"\n')
    out = tmp_path / "out"
    done = _run("run", "--place", "trafford", "--scenario", str(scenario), "--out", str(out))
    assert done.returncode == 0, done.stderr
    check_written_plan(out)
    p, s = _partners(out), _summary(out)
    assert (p["npv_gbp"] >= p["standalone_npv_gbp"] - 1.0).all(), p[["npv_gbp", "standalone_npv_gbp"]]
    price = (s["objective"] - min(s["free_objective"], s["objective"])) * 1000
    assert s["price_of_fairness_gbp"] == pytest.approx(price, abs=0.01)
    assert s["price_of_fairness_gbp"] >= 0
    assert "price of fairness" in done.stdout


def test_a_rule_no_plan_can_meet_exits_3_naming_the_partner_and_shortfall(tmp_path):
    # the community health team in GP_0089 must move, and its partner owns no building to gain from
    scenario = tmp_path / "unfair.toml"
    scenario.write_text('[locks]\ndispose = ["GP_0089"]\n[partners]\nno_partner_worse_off = "zero"\n')
    done = _run("run", "--place", "trafford", "--scenario", str(scenario), "--out", str(tmp_path / "out"))
    assert done.returncode == 3, done.stderr
    assert "no partner worse off: NHS community health services would be short by £" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_stand_alone_partner_exits_2_listing_the_partners(tmp_path):
    done = _run("run", "--place", "trafford", "--standalone", "Nobody", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "'Nobody' is not a partner of Trafford" in done.stderr and COUNCIL in done.stderr


def test_shapley_solves_every_coalition_and_the_shares_add_up(tmp_path):
    out = tmp_path / "shapley"
    done = _run("run", "--place", "trafford", "--shapley", "--out", str(out), timeout=900)
    assert done.returncode == 0, done.stderr
    check_written_plan(out)
    coalitions = pd.read_csv(out / "coalitions.csv")
    shapley = pd.read_csv(out / "shapley.csv")
    groups = sorted(shapley["group"])
    assert len(groups) <= 6 and len(coalitions) == 2 ** len(groups) - 1
    assert list(coalitions.columns[:3]) == ["coalition", "members", "npv_gbp"]
    grand = coalitions.set_index("coalition").at["+".join(groups), "npv_gbp"]
    assert shapley["shapley_gbp"].sum() == pytest.approx(grand, abs=0.01)
    rule = shapley["rule_share_gbp"].sum()
    assert rule == pytest.approx(_summary(out)["kpis"]["npv_gbp"], abs=0.01)
    assert (shapley["transfer_gbp"] - (shapley["shapley_gbp"] - shapley["rule_share_gbp"])).abs().max() < 0.01
    summary = _summary(out)
    assert isinstance(summary["owner_split_in_core"], bool)
    # the core test, redone from the CSVs: no coalition's worth above its members' rule shares
    share = shapley.set_index("group")["rule_share_gbp"]
    blocked = [
        c
        for c, v in coalitions.set_index("coalition")["npv_gbp"].items()
        if v > share[c.split("+")].sum() + 1.0
    ]
    assert summary["owner_split_in_core"] == (not blocked)
    assert sorted(x["coalition"] for x in summary["owner_split_blocked_by"]) == sorted(blocked)


def test_a_coalition_cache_that_is_a_file_exits_2_naming_it_and_the_fix(tmp_path):
    cache = tmp_path / "cache.json"
    cache.write_text("{}")
    out = tmp_path / "out"
    done = _run(
        "run", "--place", "trafford", "--partnership", "--coalition-cache", str(cache), "--out", str(out)
    )
    assert done.returncode == 2, done.stderr
    assert f"--coalition-cache {cache}: is a file, not a folder" in done.stderr
    assert "Fix: give a folder" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not (out / "summary.json").exists()
    # under a file: cannot be made
    done = _run(
        "run",
        "--place",
        "trafford",
        "--partnership",
        "--coalition-cache",
        str(cache / "x"),
        "--out",
        str(out),
    )
    assert done.returncode == 2 and f"{cache} is a file" in done.stderr, done.stderr


def _section_rows(html_text: str) -> dict[str, list[str]]:
    """The partnership section's table rows, by partner: the cells' text."""
    import html as html_module
    import re

    start = html_text.index("The partnership: each partner under the")
    table = html_text[start : html_text.index("</table>", start)]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = [html_module.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        if cells:
            rows[original_text(cells[0])] = cells[1:]
    return rows


def test_the_board_pack_shows_the_partnership_and_each_partners_figures_as_in_partners_csv(partnership_out):
    from optimiser.report.boardpack import board_pack_html
    from optimiser.report.kpis import format_money
    from optimiser.report.words import display_name

    out, _ = partnership_out
    summary = _summary(out)
    tables = {
        name: pd.read_csv(out / f"{name}.csv") for name in ("buildings", "occupiers", "partners", "access")
    }
    pack = board_pack_html(summary=summary, tables=tables, static_map=False)
    rows = _section_rows(pack)
    p = _partners(out)

    def money(v: float) -> str:
        text = format_money(v)
        return "\u2212" + text[1:] if text.startswith("-") else text

    assert set(rows) == set(p.index)
    for partner, cells in rows.items():
        r = p.loc[partner]
        assert cells[0] == display_name("partner_type", r["group"])
        assert cells[1] == money(r["npv_gbp"]), partner
        assert cells[2] == money(r["standalone_npv_gbp"]), partner
        assert cells[3] == money(r["npv_gbp"] - r["standalone_npv_gbp"]), partner
        assert cells[7] == money(r["occupancy_charges_paid_gbp"]) and cells[8] == money(
            r["occupancy_charges_received_gbp"]
        )
    assert f"Partnership value {money(summary['partnership_value_gbp'])}" in pack
    assert "Proven (every solve optimal within its gap)" in pack
    # the figures really are the partners': a partner that gains shows a positive NPV
    assert (p["npv_gbp"] > 0).any()


def test_the_compare_table_sets_each_options_partners_side_by_side(partnership_out, tmp_path):
    from optimiser.report.kpis import format_money
    from optimiser.report.partners import partner_compare_table

    out, _ = partnership_out
    summary, partners = _summary(out), pd.read_csv(out / "partners.csv")
    plain = partners.assign(standalone_npv_gbp=float("nan"), npv_gbp=partners["npv_gbp"] / 2)
    table = partner_compare_table([("A", summary, partners), ("B", {"sharing_rule": "owner"}, plain)])
    p = _partners(out)
    assert table.loc["Partnership value", "A: NPV (owner rule)"] == format_money(
        summary["partnership_value_gbp"]
    )
    assert table.loc["Partnership value", "B: NPV (owner rule)"] == "–"
    assert "B: stand-alone" not in table.columns
    for partner, r in p.iterrows():
        assert table.loc[partner, "A: NPV (owner rule)"] == format_money(r["npv_gbp"])
        assert table.loc[partner, "A: stand-alone"] == format_money(r["standalone_npv_gbp"])
        assert table.loc[partner, "B: NPV (owner rule)"] == format_money(r["npv_gbp"] / 2)
