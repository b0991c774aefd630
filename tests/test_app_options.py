"""The Results page's Options for the board (issue 13), headless with AppTest: each part runs on Trafford."""

from __future__ import annotations

import pytest

from tests.test_app import _app, _map_args, _no_errors, _run_scenario

pytestmark = pytest.mark.solver


def _button(at, key):
    return at.button(key=key)


def test_the_options_section_shows_alternatives_prices_a_curve_and_robustness_for_trafford():
    at = _app("trafford")
    at.switch_page("pages/scenario.py").run()
    _run_scenario(at)
    at.switch_page("pages/results.py").run()
    _no_errors(at)
    assert any(s.value == "Options for the board" for s in at.subheader)

    at.number_input(key="opt_alt_k").set_value(1)
    _button(at, "opt_alt_go").click().run()
    _no_errors(at)
    assert any("1 of 1 alternative(s) found" in i.value for i in at.info)

    _button(at, "opt_price_go").click().run()
    _no_errors(at)
    tables = [d.value for d in at.dataframe]
    priced = next(t for t in tables if "price_basis" in t.columns)
    disposed = priced[priced["decision"] == "dispose"]
    assert len(disposed) and disposed["price_basis"].str.startswith("keeping this building would cost").all()
    assert any("keeping this building would cost" in m.value for m in at.markdown)
    assert "Price of this decision" in _map_args(at)["script"]  # each price in its building's popup

    at.selectbox(key="opt_front_param").set_value("limits.max_disposals")
    at.text_input(key="opt_front_values").set_value("0,4")
    _button(at, "opt_front_go").click().run()
    _no_errors(at)
    curve = next(d.value for d in at.dataframe if "monotone" in d.value.columns)
    assert list(curve["value"]) == [0.0, 4.0] and list(curve["monotone"]) == ["n/a", "ok"]
    at.selectbox(key="opt_front_pick").set_value(4.0)
    _button(at, "opt_front_open").click().run()  # a point of the curve opens as a whole plan
    _no_errors(at)
    assert any("The plan at limits.max_disposals = 4" in m.value for m in at.markdown)
    opened = next(
        d.value for d in at.dataframe if list(d.value.columns) == ["building_id", "name", "owner", "reason"]
    )
    assert len(opened) == curve["buildings_disposed"].iloc[1] <= 4

    at.number_input(key="opt_rob_n").set_value(2)
    _button(at, "opt_rob_go").click().run()
    _no_errors(at)
    assert {m.label for m in at.metric} >= {"NPV P10", "NPV P50", "NPV P90"}
    shares = next(d.value for d in at.dataframe if "disposed_share" in d.value.columns)
    assert shares["disposed_share"].between(0, 1).all()


def test_a_saved_runs_options_are_kept_by_its_id_in_the_store_not_by_the_plan_rebuilt_each_rerun():
    from types import SimpleNamespace

    from pages.options_view import state_key

    first, again = (SimpleNamespace(place="trafford", run_id=7, plan=object()) for _ in range(2))
    assert state_key(first) == state_key(again)  # read back twice: two plans, one saved run
    other = SimpleNamespace(place="trafford", run_id=8, plan=first.plan)
    assert state_key(other) != state_key(first)
    solved = SimpleNamespace(place="trafford", run_id=None, plan=object())
    assert (
        state_key(solved)
        == state_key(solved)
        != state_key(SimpleNamespace(**{**vars(solved), "plan": object()}))
    )
