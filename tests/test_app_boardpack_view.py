"""The app's board pack: PDF and HTML download buttons on Results, Compare and Export, and what they hold."""

from __future__ import annotations

import pytest

from optimiser.report import pdf, words
from optimiser.store import ScenarioStore
from pages import boardpack_view
from tests.test_app import _app, _no_errors, _run_scenario, _save_as


@pytest.fixture(autouse=True)
def _own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "app-data"))


def _downloads(at) -> dict[str, bool]:
    return {b.label: not b.proto.disabled for b in at.get("download_button")}


@pytest.mark.solver
def test_results_and_compare_offer_the_board_pack_as_pdf(tmp_path):
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    _save_as(at, "option one")
    _save_as(at, "option two")

    at.switch_page("pages/results.py").run()
    _no_errors(at)
    downloads = _downloads(at)
    assert downloads["Board pack (PDF, A4)"] and downloads["Board pack (HTML)"]

    record = at.session_state["latest"]["trafford"]
    page = boardpack_view.pack_html([record])
    assert "What this option does" in page and words.status_of(record.summary).verdict in page
    assert "Borough outlines are approximate" in page  # no boundary layer bundled yet: said so
    first = pdf.layout(page)[0]
    assert round(first.width_mm) == 210 and "Headline outcomes" in first.text
    assert boardpack_view.pack_pdf([record]).startswith(b"%PDF")

    at.switch_page("pages/compare.py").run()
    _no_errors(at)
    assert _downloads(at)["Board pack (PDF, A4)"]
    store = ScenarioStore(str(tmp_path / "app-data"))
    saved = [store.load(info.run_id) for info in store.list_runs()]
    both = boardpack_view.pack_html(saved)
    assert "Trafford: 2 options compared" in both
    assert "<th>option one</th>" in both and "<th>option two</th>" in both
