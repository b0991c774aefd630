"""The board pack as a board prints it: words, status in £, the pack's content, its A4 PDF and
``python -m optimiser report``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from optimiser.cli import main
from optimiser.report import boardpack, pdf, words
from optimiser.report.kpis import format_money
from tests.conftest import REPO
from tests.test_app_boardpack import SUMMARY as CARD_SUMMARY
from tests.test_cli_run import _run

ARTIFACTS = REPO / "tests" / "artifacts"

SUMMARY = {
    **CARD_SUMMARY,  # the KPIs of tests/test_app_boardpack.py, on a two-building estate
    "status": "time_limit",
    "gap_gbp": 2_100_000.0,
    "gap": 0.000677,
    "objective": 3_100_000.0,
    "bound": 3_097_900.0,
    "time_s": 120.0,
    "kpis": {**CARD_SUMMARY["kpis"], "npv_gbp": 110_500_000.0, "buildings_before": 2, "buildings_after": 1},
    "access": {
        "gp_practice": {
            "rule": "keep_current",
            "reach_km": 2.0,
            "reach_min": None,
            "deprived_deciles": 2,
            "before_share": 0.98,
            "after_share": 0.98,
        }
    },
}


def _tables() -> dict[str, pd.DataFrame]:
    buildings = pd.DataFrame(
        {
            "building_id": ["HUB_1", "GP_0100"],
            "name": ["Sale Waterside Hub", "Conway Road Medical Practice"],
            "owner": ["Trafford Council", "NHS Greater Manchester ICB"],
            "owner_type": ["council", "nhs"],
            "borough": ["Trafford", "Trafford"],
            "easting": [378000.0, 379000.0],
            "northing": [392000.0, 393000.0],
            "decision": ["keep", "dispose"],
            "route": ["keep", "market_sale"],
            "occupiers_in": [1, 0],
            "occupiers_out": [0, 1],
            "receipt_gbp": [0.0, 1_380_000.0],
            "annual_saving_gbp": [0.0, 422_672.4],
            "disposal_cost_gbp": [0.0, 27_600.0],
            "lease_exit_gbp": [0.0, 0.0],
            "land_ha": [0.0, 0.265],
            "reason": [
                "keep: receives GP_0100_GP (gp_practice)",
                "dispose by market sale; moves GP_0100_GP -> HUB_1 (0.7 km)",
            ],
            "modelled": ["", "market_value_gbp;running_cost_gbp"],
        }
    )
    occupiers = pd.DataFrame(
        {
            "occupier_id": ["GP_0100_GP"],
            "name": ["Conway Road surgery"],
            "service": ["gp_practice"],
            "from_building_id": ["GP_0100"],
            "to_building_id": ["HUB_1"],
            "share": [1.0],
            "move_km": [0.7],
        }
    )
    partners = pd.DataFrame(
        {
            "partner": ["NHS Greater Manchester ICB", "Trafford Council"],
            "buildings_before": [1, 1],
            "buildings_after": [0, 1],
            "capital_receipts_gbp": [1_380_000.0, 0.0],
            "annual_revenue_saving_gbp": [422_672.4, 0.0],
            "one_off_cost_gbp": [1_504_000.0, 0.0],
            "land_ha": [0.265, 0.0],
            "carbon_tco2e_saved": [134.4, 0.0],
        }
    )
    return {"buildings": buildings, "occupiers": occupiers, "partners": partners, "access": pd.DataFrame()}


# ---------------------------------------------------------------------- words
@pytest.mark.parametrize(
    ("pounds", "text"),
    [
        (2_100_000, "£2.1m"),
        (3_100_000_000, "£3.1bn"),
        (640_000, "£640k"),
        (1_234, "£1,234"),
        (-27_600, "-£28k"),
        (-0.2, "£0"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_money_reads_as_a_board_reads_it(pounds, text):
    assert words.money_words(pounds) == text


def test_every_code_has_a_name_a_person_uses():
    assert words.display_name("service", "gp_practice") == "GP practice"
    assert words.display_name("partner_type", "nhs") == "NHS"
    assert words.display_name("route", "community_asset_transfer") == "Community asset transfer"
    assert words.column_name("running_cost_gbp") == "Running cost a year (£)"
    assert words.display_name("service", "police_dogs") == "Police dogs"  # not in the table: still words
    with pytest.raises(ValueError, match="Unknown kind"):
        words.display_name("colour", "red")


def test_the_gap_is_in_pounds_and_as_a_share_of_the_plans_npv():
    status = words.status_of(SUMMARY)

    assert status.sentence == "the best possible plan is at most £2.1m (1.9%) better than this one"
    assert status.tone == "caution"
    assert "not proven optimal" in status.headline
    assert "0.07% of the net present cost of £3.1bn" in status.detail  # analysts only


@pytest.mark.parametrize(
    ("status", "proven", "tone"),
    [
        ("optimal", True, "good"),
        ("gap_limit", False, "caution"),
        ("interrupted", False, "bad"),
        ("no_solution", False, "bad"),
    ],
)
def test_the_status_is_coloured_by_what_it_means(status, proven, tone):
    summary = {**SUMMARY, "status": status, "proven_optimal": proven}
    assert words.status_of(summary).tone == tone


def test_no_gap_never_reads_as_minus_zero_and_a_negative_npv_is_said():
    assert words.status_of(
        {**SUMMARY, "status": "optimal", "proven_optimal": True, "gap_gbp": -0.4}
    ).sentence == ("no better plan is possible")
    loss = {**SUMMARY, "kpis": {**SUMMARY["kpis"], "npv_gbp": -2_000_000.0}, "gap_gbp": 500_000.0}
    assert words.status_of(loss).sentence.endswith("better than this one (this plan's NPV is -£2.0m)")


def test_reasons_name_occupiers_buildings_and_services():
    text = words.reason_in_words(
        "dispose by market sale; moves GP_0100_GP -> HUB_1 (0.7 km); receives X (gp_practice)",
        buildings={"HUB_1": "Sale Waterside Hub"},
        occupiers={"GP_0100_GP": "Conway Road surgery"},
    )
    assert (
        text
        == "dispose by market sale; moves Conway Road surgery to Sale Waterside Hub (0.7 km); receives X (GP practice)"
    )


def test_readable_tables_have_display_names_and_names_for_codes():
    table = words.readable_table(
        _tables()["buildings"][["building_id", "owner_type", "route"]], keep_ids=False
    )
    assert table.columns.tolist() == ["Partner type", "Route"]
    assert table["Route"].tolist() == ["Kept", "Market sale"]


# ---------------------------------------------------------------------- the pack's content
def _pack(summary=SUMMARY, **kwargs) -> str:
    return boardpack.board_pack_html(summary=summary, tables=_tables(), **kwargs)


def test_the_first_page_says_in_words_what_the_option_does_and_how_sure_it_is():
    html = _pack()
    first = html.split('<section class="page">')[0]

    assert (
        "Disposes of 1 of 2 buildings (market sale 1) and moves 1 occupier into 1 building that stay."
        in first
    )
    assert "It brings £1.4m† in capital receipts" in first
    assert "the best possible plan is at most £2.1m (1.9%) better than this one" in first
    assert 'class="status status-caution"' in first
    assert "Money over 10 years, discounted at 3.5% a year" in first  # what it assumes
    assert (
        "GP practice: no one within 2 km by road today loses it; the 2 most deprived deciles never lose reach."
        in first
    )
    assert "£1,380,000" in first and '<span class="mark"' in first  # the KPI cards, modelled ones marked


def test_the_npv_card_carries_its_p10_p90_range_when_the_run_drew_the_modelled_figures():
    drawn = SUMMARY | {
        "npv_p10_gbp": 10_784_996.0,
        "npv_p50_gbp": 11_369_026.0,
        "npv_p90_gbp": 11_942_615.0,
        "uncertainty": {"draws": 50, "solved": 50},
    }
    first = _pack(drawn).split('<section class="page">')[0]

    assert "P10–P90 £10.8m to £11.9m over 50 draws of the modelled figures" in first
    assert "P10–P90" not in _pack()  # no draws, no range


def test_the_pack_states_the_scenario_in_words_not_as_toml():
    scenario = boardpack.Scenario(
        name="tight", capital_budget_gbp=2_000_000, max_disposals=15, keep=("HUB_1",)
    )
    html = _pack(scenario=scenario)

    assert "One-off costs at most £2.0m." in html
    assert "At most 15 buildings disposed of." in html
    assert "Kept whatever the cost: Sale Waterside Hub." in html  # a name, not the ID
    assert "capital_budget_gbp" not in html and "[limits]" not in html


def test_the_tables_use_names_formatted_money_and_reasons_in_words():
    html = _pack()

    assert "moves Conway Road surgery to Sale Waterside Hub (0.7 km)" in html
    assert "GP_0100_GP -&gt;" not in html and "gp_practice" not in html
    assert "Market sale" in html and "market_sale" not in html
    assert '>£1.4m<span class="mark"' in html  # a receipt resting on a modelled market value
    assert "table-layout: fixed" in html and "size: A4" in html
    assert "data:image/png;base64," in html  # the printable map, drawn on the server


def test_a_stopped_run_is_red_in_the_pack():
    html = _pack({**SUMMARY, "status": "interrupted"})
    assert 'class="status status-bad"' in html
    assert "stopped by the user" in html.lower()


def test_options_sit_side_by_side_with_their_differences():
    one = boardpack.PackOption({**SUMMARY, "scenario": "a"}, _tables(), boardpack.Scenario(name="a"))
    two = boardpack.PackOption(
        {**SUMMARY, "scenario": "b", "status": "optimal", "proven_optimal": True},
        _tables(),
        boardpack.Scenario(name="b", max_disposals=3),
    )
    html = boardpack.options_pack_html([one, two])

    assert "Trafford: 2 options compared" in html
    assert html.count("<th>a</th>") == 1 and html.count("<th>b</th>") == 1
    differ = html.split("Where their assumptions and constraints differ")[1].split("</section>")[0]
    assert "At most 3 buildings disposed of." in differ
    assert "Money over 10 years" not in differ  # shared by both: not a difference
    with pytest.raises(ValueError, match="2 to 4 options"):
        boardpack.options_pack_html([one] * 5)


# ---------------------------------------------------------------------- the PDF
def test_the_layout_check_finds_a_box_past_the_margin():
    html = '<html><body><div style="width: 300mm">too wide</div><p>fits</p></body></html>'
    pages = pdf.layout(html)
    assert pages[0].overflowing and "div" in pages[0].overflowing[0]


def test_the_pdf_never_loads_anything_from_outside():
    with pytest.raises(pdf.PdfError, match="may only hold what it shows"):
        pdf.pdf_bytes('<html><body><img src="http://198.51.100.1/x.png"></body></html>')


def save_first_page(pdf_path: Path, stem: str) -> Path | None:
    """The PDF's first page as ARTIFACTS/<stem>.png (with poppler's pdftoppm; None without it)."""
    if not shutil.which("pdftoppm"):
        return None
    ARTIFACTS.mkdir(exist_ok=True)
    command = ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*command, str(pdf_path), str(ARTIFACTS / stem)], check=True, timeout=120)
    return ARTIFACTS / f"{stem}.png"


@pytest.fixture(scope="module")
def trafford_runs(tmp_path_factory):
    """Trafford's default plan and the budget_and_cat option, as `run` writes them."""
    base = tmp_path_factory.mktemp("runs")
    default, budget = base / "default", base / "budget"
    assert main(["run", "--place", "trafford", "--out", str(default), "--quiet"]) == 0
    scenario = str(REPO / "data" / "scenarios" / "budget_and_cat.toml")
    assert main(["run", "--place", "trafford", "--scenario", scenario, "--out", str(budget), "--quiet"]) == 0
    return default, budget


@pytest.mark.solver
def test_the_trafford_pack_prints_on_a4_with_the_summary_on_page_one(trafford_runs, tmp_path):
    default, _ = trafford_runs
    out = tmp_path / "pack.pdf"
    assert main(["report", str(default), "--pdf", str(out), "--html", str(tmp_path / "pack.html")]) == 0
    summary = json.loads((default / "summary.json").read_text())
    html = (tmp_path / "pack.html").read_text(encoding="utf-8")

    assert out.read_bytes().startswith(b"%PDF")
    pages = pdf.layout(html)
    assert len(pages) >= 3
    assert {(round(p.width_mm), round(p.height_mm)) for p in pages} == {(210, 297)}  # A4, every page
    assert {
        i: p.overflowing for i, p in enumerate(pages, 1) if p.overflowing
    } == {}  # nothing past the margin
    first = pages[0].text
    for heading in (
        "What this option does",
        "Headline outcomes",
        "What it assumes",
        "What it constrains",
        "How sure the answer is",
    ):
        assert heading in first
    for key in ("npv_gbp", "capital_receipts_gbp", "annual_revenue_saving_gbp", "one_off_cost_gbp"):
        assert format_money(summary["kpis"][key]) in first, key
    assert words.status_of(summary).verdict in first
    assert "Disposal list" not in first  # the tables follow the summary and the map
    picture = save_first_page(out, "board_pack_page1")  # kept as a test artefact
    assert picture is None or picture.stat().st_size > 10_000


@pytest.mark.solver
def test_summary_json_says_the_status_in_a_boards_terms(trafford_runs):
    summary = json.loads((trafford_runs[0] / "summary.json").read_text())

    assert summary["status_words"] == words.status_of(summary).words
    assert summary["status_tone"] == ("good" if summary["proven_optimal"] else "caution")
    assert summary["status_words"].startswith("proven optimal" if summary["proven_optimal"] else "stopped")
    assert "net present cost" in summary["status_detail"]  # the analysts' figure, kept apart


@pytest.mark.solver
def test_report_puts_two_options_side_by_side(trafford_runs, tmp_path):
    done = _run("report", *map(str, trafford_runs), "--html", str(tmp_path / "two.html"))

    assert done.returncode == 0, done.stderr
    assert "board pack of 2 options" in done.stdout
    html = (tmp_path / "two.html").read_text(encoding="utf-8")
    assert "Trafford: 2 options compared" in html and "<th>budget_and_cat</th>" in html
    assert "At most 15 buildings disposed of." in html  # read from the run folder's scenario.toml


@pytest.mark.solver
def test_report_refuses_a_folder_that_is_not_a_whole_run(trafford_runs, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trafford_runs[0], broken)
    with (broken / "buildings.csv").open("a", encoding="utf-8") as handle:
        handle.write("X,added by hand\r\n")

    done = _run("report", str(broken), "--pdf", str(tmp_path / "p.pdf"))

    assert done.returncode == 2
    assert f"{broken} cannot make a board pack" in done.stderr and "buildings.csv has changed" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "p.pdf").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOWHERE", "--pdf", "p.pdf"], "There is no run folder at"),
        (["data", "--pdf", "p.pdf"], "has no run.json"),
        (["a", "b", "c", "d", "e", "--pdf", "p.pdf"], "Give 1 to 4 run folders"),
        (["data"], "Say where the pack goes: --pdf PACK.pdf and/or --html PACK.html."),
    ],
)
def test_report_gives_a_clear_message_and_exit_2_for_bad_input(args, message, tmp_path, capsys):
    args = [
        str(tmp_path / a) if a in ("NOWHERE", "p.pdf") else str(REPO / a) if a == "data" else a for a in args
    ]

    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "p.pdf").exists()


def test_report_refuses_a_folder_as_the_pdf(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--pdf", str(tmp_path)]) == 2
    assert re.search(r"--pdf .*: is a folder; give a file name", capsys.readouterr().err)
