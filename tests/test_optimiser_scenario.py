"""Scenarios: checked on creation, read from and written to TOML, documented in full."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.errors import ScenarioError
from optimiser.scenario import FIELD_KEYS, SCENARIO_KEYS, SECTIONS, AccessStandard, Scenario, check_option
from tests.conftest import REPO


def test_default_scenario_round_trips_through_toml(tmp_path):
    scenario = Scenario(
        name="x",
        keep=("A",),
        capital_budget_gbp=1e6,
        access=(AccessStandard("library", reach_km=3, rule="min_share", min_share=0.9),),
    )
    path = tmp_path / "s.toml"
    path.write_text(scenario.to_toml())
    assert Scenario.from_toml(path) == scenario


def test_bundled_scenarios_load():
    for path in (REPO / "data" / "scenarios").glob("*.toml"):
        Scenario.from_toml(path)
    assert Scenario.from_toml(REPO / "data" / "scenarios" / "default.toml") == Scenario()


def test_unknown_section_is_an_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[cost]\nx = 1\n")
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(path)
    assert str(caught.value) == (
        "s.toml: unknown key 'cost' (did you mean 'costs'?). Allowed keys: name, description, "
        "appraisal, costs, moves, outcomes, limits, locks, solver, phasing, uncertainty, partners, access."
    )


def test_not_toml_is_an_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("years = = 3\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.from_toml(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"discount_rate": 1.5},
            "Scenario 'default': appraisal.discount_rate = 1.5 is out of range. Allowed: a number at least 0 "
            "and below 1. Fix: e.g. discount_rate = 0.035.",
        ),
        (
            {"years": 0},
            "Scenario 'default': appraisal.years = 0 is out of range. Allowed: a whole number from 1 to 100. "
            "Fix: e.g. years = 10.",
        ),
        (
            {"cat_discount": 2},
            "Scenario 'default': costs.cat_discount = 2 is out of range. Allowed: a number from 0 to 1. "
            "Fix: e.g. cat_discount = 1.0.",
        ),
        (
            {"keep": ("A",), "dispose": ("A",)},
            "Scenario 'default': locks.keep and locks.dispose both name A; a building cannot be both kept "
            "and disposed of. Fix: remove it from one of the two lists.",
        ),
        (
            {"keep": ("B-1",)},
            'Scenario \'default\': locks.keep = ["B-1"] has item 1 = "B-1", which is not an ID of letters '
            "A-Z a-z, digits 0-9 and _ only. Allowed: a list of text (an ID of letters A-Z a-z, digits 0-9 "
            'and _ only). Fix: e.g. keep = ["B001"].',
        ),
        (
            {"solver": "gurobi"},
            "Scenario 'default': solver.solver = \"gurobi\" is not one of the choices. Allowed: one of "
            '"highs", "cbc". Fix: e.g. solver = "highs".',
        ),
        (
            {"capital_budget_gbp": -1},
            "Scenario 'default': limits.capital_budget_gbp = -1 is out of range. Allowed: a number from 0 "
            "to 1e12, or leave the key out (no budget). Fix: e.g. capital_budget_gbp = 5000000, or remove "
            "the line.",
        ),
        (
            {"years": True},
            "Scenario 'default': appraisal.years = true is true/false, not a whole number. Allowed: a whole "
            "number from 1 to 100. Fix: e.g. years = 10.",
        ),
        (
            {"threads": 1.5},
            "Scenario 'default': solver.threads = 1.5 is not a whole number. Allowed: a whole number, 1 or "
            "more, or leave the key out (the solver's own choice). Fix: e.g. threads = 2.",
        ),
        (
            {"cat_services": "library"},
            "Scenario 'default': costs.cat_services = \"library\" is text, not a list. Allowed: a list of "
            'text. Fix: put it in a list: cat_services = ["library"].',
        ),
        (
            {"include_backlog": "yes"},
            "Scenario 'default': costs.include_backlog = \"yes\" is text, not true or false. Allowed: true "
            "or false. Fix: e.g. include_backlog = true.",
        ),
    ],
)
def test_bad_values_are_refused_with_key_value_range_and_fix(change, message):
    with pytest.raises(ScenarioError) as caught:
        Scenario(**change)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[appraisal]\nstart_year = "2026"\n',
            's.toml: appraisal.start_year = "2026" is text, not a whole number. Allowed: a whole number '
            "from 1990 to 2100. Fix: write it without quotes: start_year = 2026.",
        ),
        (
            '[solver]\nthreads = "four"\n',
            's.toml: solver.threads = "four" is text, not a whole number. Allowed: a whole number, 1 or '
            "more, or leave the key out (the solver's own choice). Fix: e.g. threads = 2, or remove the line.",
        ),
        (
            '[moves]\nallow_moves = "false"\n',
            's.toml: moves.allow_moves = "false" is text, not true or false. Allowed: true or false. '
            "Fix: write it without quotes: allow_moves = false.",
        ),
        (
            '[access]\nprotect_deprived_deciles = "all"\n',
            's.toml: access.protect_deprived_deciles = "all" is text, not a whole number. Allowed: a whole '
            "number from 0 to 10, or leave the key out (each standard's own). Fix: e.g. "
            "protect_deprived_deciles = 2, or remove the line.",
        ),
        (
            "[limits]\ncapital_budget_gbp = inf\n",
            "s.toml: limits.capital_budget_gbp = inf is not a finite number. Allowed: a number from 0 to "
            "1e12, or leave the key out (no budget). Fix: e.g. capital_budget_gbp = 5000000, or remove the line.",
        ),
        (
            "[costs]\nlease_exit_share = inf\n",
            "s.toml: costs.lease_exit_share = inf is not a finite number. Allowed: a number from 0 to 10. "
            "Fix: e.g. lease_exit_share = 1.0.",
        ),
        (
            "[outcomes]\nhomes_per_ha = nan\n",
            "s.toml: outcomes.homes_per_ha = nan is not a finite number. Allowed: a number from 0 to 1000. "
            "Fix: e.g. homes_per_ha = 40.0.",
        ),
        (
            "[appraisal]\nyears = true\n",
            "s.toml: appraisal.years = true is true/false, not a whole number. Allowed: a whole number "
            "from 1 to 100. Fix: e.g. years = 10.",
        ),
        (
            '[access]\nenabled = "false"\n',
            's.toml: access.enabled = "false" is text, not true or false. Allowed: true or false. Fix: '
            "write it without quotes: enabled = false.",
        ),
        (
            '[access.services.library]\nreach_km = 3\nenabled = "false"\n',
            's.toml: access.services.library.enabled = "false" is text, not true or false. Allowed: true '
            "or false. Fix: write it without quotes: enabled = false.",
        ),
        (
            "[access.services.library]\nreach_km = 3\nreach_min = 10\n",
            "s.toml: access.services.library: give exactly one of reach_km or reach_min; found both "
            "(3 km, 10 min). Fix: e.g. reach_km = 3.0.",
        ),
        (
            '[access.services.library]\nreach_km = 3\nrule = "min_share"\n',
            's.toml: access.services.library.min_share is missing, and rule = "min_share" needs it. '
            'Allowed: a number from 0 to 1. Fix: e.g. min_share = 0.95, or rule = "keep_current".',
        ),
        (
            "[access.services.library]\nreach_km = -3\n",
            "s.toml: access.services.library.reach_km = -3 is out of range. Allowed: a number above 0 and "
            "up to 1000, or leave the key out (use reach_min). Fix: e.g. reach_km = 3.0, or remove the line.",
        ),
        (
            "[access.services]\nlibrary = 3\n",
            "s.toml: [access.services.library] is a whole number (3), not a table of keys. Fix: give it "
            "keys, or remove it.",
        ),
        (
            "[appraisal]\nstart_year = 2026-01-01\n",
            "s.toml: appraisal.start_year = 2026-01-01 is a date or time, not a whole number. Allowed: a "
            "whole number from 1990 to 2100. Fix: e.g. start_year = 2026.",
        ),
        (
            "[limits]\nmax_disposals = 2.5\n",
            "s.toml: limits.max_disposals = 2.5 is not a whole number. Allowed: a whole number from 0 to "
            "1,000,000, or leave the key out (no limit). Fix: e.g. max_disposals = 2.",
        ),
        (
            '[locks]\nkeep = "B1"\n',
            's.toml: locks.keep = "B1" is text, not a list. Allowed: a list of text (an ID of letters A-Z '
            'a-z, digits 0-9 and _ only). Fix: put it in a list: keep = ["B1"].',
        ),
        (
            'solver = "cbc"\n',
            's.toml: [solver] is text ("cbc"), not a table of keys. Fix: give it keys, or remove it.',
        ),
        (
            "name = 5\n",
            's.toml: name = 5 is a whole number, not text. Allowed: text. Fix: put it in quotes: name = "5".',
        ),
    ],
)
def test_a_file_value_of_the_wrong_type_or_not_finite_is_refused_naming_file_key_and_value(
    tmp_path, text, message
):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(path)
    assert str(caught.value) == message


def test_unknown_keys_name_the_nearest_and_every_allowed_key(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[costs]\nmove_cost_per_m2 = 5\n")
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(path)
    assert str(caught.value) == (
        "s.toml: [costs] has unknown key 'move_cost_per_m2' (did you mean 'move_cost_gbp_per_m2'?). "
        "Allowed keys: move_cost_gbp_per_m2, disposal_cost_share, cat_discount, cat_services, "
        "lease_exit_share, include_backlog."
    )
    path.write_text("[access.services.library]\nreach_km = 3\nrach = 1\n")
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(path)
    assert str(caught.value) == (
        "s.toml: [access.services.library] has unknown key 'rach' (did you mean 'reach_km'?). "
        "Allowed keys: reach_km, reach_min, rule, min_share, protect_deprived_deciles, enabled."
    )


def test_typed_values_are_kept_in_their_type():
    scenario = Scenario(years=10.0, move_cost_gbp_per_m2=400, keep=["A"], threads=2.0)
    assert type(scenario.years) is int and type(scenario.move_cost_gbp_per_m2) is float
    assert scenario.keep == ("A",) and type(scenario.threads) is int
    assert scenario == Scenario(years=10, keep=("A",), threads=2)


def test_a_scenario_path_that_is_a_folder_missing_unreadable_or_not_utf8_is_a_clean_error(
    tmp_path, monkeypatch
):
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(tmp_path)
    assert str(caught.value) == (
        f"Scenario file {tmp_path}: is a folder, not a file. Give the path of the file itself."
    )
    with pytest.raises(ScenarioError, match=r"nope\.toml: not found\. Check the path \(working directory: "):
        Scenario.from_toml(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "Caf\xe9"\n')
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(latin)
    assert str(caught.value) == (
        f"Scenario file {latin}: not UTF-8 text (byte 0xe9 at position 11). Save it as UTF-8 (plain text)."
    )
    locked = tmp_path / "locked.toml"
    locked.write_text("years = 3\n")
    real_open = Path.open

    def refuse(self, *args, **kwargs):  # the tests run as root, for whom chmod 000 does not stop reads
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(locked)
    assert str(caught.value) == (
        f"Scenario file {locked}: cannot be read (Permission denied). Check the file's permissions."
    )


def test_a_settings_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr("estate.limits.MAX_SETTINGS_FILE_BYTES", 100)
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * 200 + "\n")
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(path)
    assert str(caught.value) == (
        f"Scenario file {path}: 203 bytes, more than the limit of 100 for a settings file. "
        "Check that this is the right file (see docs/limits.md)."
    )


def test_threads_beyond_the_cores_are_capped_with_a_message(monkeypatch):
    monkeypatch.setattr("estate.limits.machine_cores", lambda: 4)
    capped, note = Scenario(threads=100_000).capped_to_machine()
    assert capped.threads == 4
    assert note == "threads = 100000 is more than this machine's 4 CPU core(s); using 4 (see docs/limits.md)."
    same, none = Scenario(threads=3).capped_to_machine()
    assert same.threads == 3 and none is None
    assert Scenario().capped_to_machine() == (Scenario(), None)


def test_make_solver_caps_threads_too(monkeypatch):
    from estate.limits import LimitWarning
    from optimiser.solver import make_solver

    monkeypatch.setattr("estate.limits.machine_cores", lambda: 2)
    with pytest.warns(LimitWarning, match=r"threads = 100000 is more than this machine's 2 CPU core\(s\)"):
        solver = make_solver("highs", threads=100_000)
    assert solver.threads == 2


def test_machine_cores_follows_the_affinity_mask(monkeypatch):
    from estate import limits

    monkeypatch.setattr(limits.os, "sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    assert limits.machine_cores() == 3
    monkeypatch.delattr(limits.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(limits.os, "cpu_count", lambda: None)
    assert limits.machine_cores() == 1


def test_a_command_line_option_is_checked_like_the_file_key():
    with pytest.raises(ScenarioError) as caught:
        check_option("--time-limit", "time_limit_s", float("nan"))
    assert str(caught.value) == (
        "command line: --time-limit nan is not a finite number. Allowed: a number above 0 and up to "
        "1,000,000. Fix: e.g. --time-limit 120.0."
    )
    with pytest.raises(ScenarioError) as caught:
        check_option("--threads", "threads", 0)
    assert str(caught.value) == (
        "command line: --threads 0 is out of range. Allowed: a whole number, 1 or more. Fix: e.g. --threads 2."
    )
    assert check_option("--gap", "mip_gap", 0.01) == 0.01


def test_access_standard_needs_exactly_one_reach():
    with pytest.raises(ScenarioError) as caught:
        AccessStandard("library")
    assert str(caught.value) == (
        "access.services.library: give exactly one of reach_km or reach_min; found neither. "
        "Fix: e.g. reach_km = 3.0."
    )


def test_unsupported_rule_is_refused_plainly():
    with pytest.raises(ScenarioError) as caught:
        AccessStandard("library", reach_km=3, rule="max_mean_increase")
    assert str(caught.value) == (
        'access.services.library.rule = "max_mean_increase" is not supported by the optimiser yet. '
        'Fix: use rule = "keep_current" or rule = "min_share".'
    )


# ------------------------------------------------------------------ junk in any key
JUNK = st.one_of(
    st.text(max_size=8),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.none(),
    st.lists(st.one_of(st.text(max_size=4), st.integers(), st.booleans()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.dates(),
)
PLACES = [(section, key) for section, keys in SCENARIO_KEYS.items() for key in keys] + [
    ("access", "enabled"),
    ("access", "protect_deprived_deciles"),
    ("access.services.library", "reach_km"),
    ("access.services.library", "reach_min"),
    ("access.services.library", "rule"),
    ("access.services.library", "min_share"),
    ("access.services.library", "protect_deprived_deciles"),
    ("access.services.library", "enabled"),
    ("", "name"),
    ("", "description"),
]


def _nested(section: str, key: str, value: object) -> dict:
    if not section:
        return {key: value}
    if section.startswith("access.services."):
        body = {"reach_km": 3.0, key: value} if key != "reach_km" else {key: value}
        return {"access": {"services": {"library": body}}}
    return {section: {key: value}}


@settings(derandomize=True, max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(PLACES), value=JUNK)
def test_junk_in_any_scenario_key_gives_only_a_clean_scenario_error(place, value):
    section, key = place
    try:
        scenario = Scenario.from_dict(_nested(section, key, value), source="junk.toml")
    except ScenarioError as err:
        assert str(err).startswith("junk.toml: "), str(err)
        assert "Traceback" not in str(err)
        return
    # accepted: then the value was of the right type, finite and in range, and is stored so
    for field_name in ("years", "start_year", "max_disposals", "threads", "protect_deprived_deciles"):
        stored = getattr(scenario, field_name)
        assert stored is None or type(stored) is int
    for field_name in ("discount_rate", "time_limit_s", "mip_gap", "cat_discount", "capital_budget_gbp"):
        stored = getattr(scenario, field_name)
        assert stored is None or (type(stored) is float and math.isfinite(stored))
    assert all(
        isinstance(getattr(scenario, f), bool) for f in ("allow_moves", "warm_start", "access_enabled")
    )


@settings(derandomize=True, max_examples=200, deadline=None)
@given(field_name=st.sampled_from(sorted(FIELD_KEYS)), value=JUNK)
def test_junk_in_any_scenario_field_gives_only_a_clean_scenario_error(field_name, value):
    try:
        Scenario(**{field_name: value})
    except ScenarioError:
        pass


def test_annuity_factor_matches_the_green_book_formula():
    assert Scenario(years=10, discount_rate=0.035).annuity_factor == pytest.approx(8.316605, rel=1e-6)
    assert Scenario(years=10, discount_rate=0.0).annuity_factor == 10


def test_every_scenario_field_is_documented():
    doc = (REPO / "docs" / "scenario.md").read_text()
    documented = {f.name for f in fields(Scenario)} - {"extra", "access", "access_enabled"}
    missing = [name for name in documented if f"`{name}`" not in doc]
    assert not missing, missing
    assert all(f"[{section}]" in doc for section in SECTIONS)


def test_every_key_s_allowed_values_are_documented():
    from optimiser.scenario import ACCESS_KEYS, STANDARD_KEYS, TOP_KEYS

    doc = (REPO / "docs" / "scenario.md").read_text()
    rows = [(name, key) for name, key in TOP_KEYS.items()]
    rows += [(f"{s}.{name}", key) for s, keys in SCENARIO_KEYS.items() for name, key in keys.items()]
    rows += [(f"access.{name}", key) for name, key in ACCESS_KEYS.items()]
    rows += [(f"access.services.<service>.{name}", key) for name, key in STANDARD_KEYS.items()]
    missing = [name for name, key in rows if f"| `{name}` | {key.allowed()} |" not in doc]
    assert not missing, missing


def test_uploaded_bytes_get_the_same_size_and_utf8_checks_as_a_file(monkeypatch):
    from estate.settings import decode_text

    with pytest.raises(ScenarioError) as caught:
        decode_text(b"name = 'Caf\xe9'", name="Scenario file up.toml", error=ScenarioError)
    assert str(caught.value) == (
        "Scenario file up.toml: not UTF-8 text (byte 0xe9 at position 11). Save it as UTF-8 (plain text)."
    )
    monkeypatch.setattr("estate.limits.MAX_SETTINGS_FILE_BYTES", 10)
    with pytest.raises(ScenarioError) as caught:
        decode_text(b"x" * 11, name="Scenario file up.toml", error=ScenarioError)
    assert str(caught.value) == (
        "Scenario file up.toml: 11 bytes, more than the limit of 10 for a settings file. "
        "Check that this is the right file (see docs/limits.md)."
    )
